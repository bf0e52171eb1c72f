"""Sampled / clustered node classification (tasks/sampled.py) and layer-wise inference."""
import pytest
import torch

from gnnkit import Graph
from gnnkit.datasets.large import SynthSpec, synthetic_graph
from gnnkit.loader import ClusterData, ClusterLoader, NeighborLoader
from gnnkit.models import GAT, GCN, GraphSAGE
from gnnkit.tasks import Task
from gnnkit.tasks.sampled import SampledNodeClassification, layerwise_inference
from gnnkit.train import TrainConfig, fit, seed_everything

SPEC = SynthSpec(1200, 8000, 16, 4, (600, 200, 400), signal=0.3)


def _graph_with_isolated_nodes() -> Graph:
    torch.manual_seed(0)
    n = 60
    ei = torch.randint(0, 50, (2, 300))                                   # nodes 50..59 isolated
    ei = torch.cat([ei, torch.tensor([[3, 7], [3, 7]])], 1)                # self loops too
    return Graph(x=torch.randn(n, 5, dtype=torch.float64), edge_index=ei)


@pytest.mark.parametrize("make", [
    lambda: GCN(5, 8, 3, bias=True), lambda: GCN(5, 8, 3, num_layers=3),
    lambda: GraphSAGE(5, 8, 3), lambda: GraphSAGE(5, 8, 3, aggr="gcn"),
    lambda: GraphSAGE(5, 8, 3, aggr="pool", project=4), lambda: GraphSAGE(5, 8, 3, aggr="lstm"),
])
@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_layerwise_inference_equals_full_forward(make, chunk):
    g = _graph_with_isolated_nodes()
    model = make().double().eval()
    with torch.no_grad():
        ref = model(g.x, g.adj())
    torch.testing.assert_close(layerwise_inference(model, g, chunk_size=chunk), ref)


def test_layerwise_inference_errors():
    g = _graph_with_isolated_nodes()
    with pytest.raises(ValueError, match="call model.eval"):
        layerwise_inference(GCN(5, 8, 3).double(), g)
    with pytest.raises(TypeError, match="knows GCN and GraphSAGE"):
        layerwise_inference(GAT(5, 8, 3).eval(), g)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        layerwise_inference(GCN(5, 8, 3).eval(), g, chunk_size=0)


def test_task_protocol_and_loss_counts_seeds_only():
    g = synthetic_graph(SPEC, 0)
    loader = NeighborLoader(g, [5, 5], batch_size=64, input_nodes=g.train_mask)
    task = SampledNodeClassification(g, loader)
    assert isinstance(task, Task) and task.model_args() == {"in_channels": 16, "out_channels": 4}
    model = GraphSAGE(16, 8, 4)
    batch = next(iter(task.train_batches()))
    step = task.loss(model, batch)
    assert step.size == 64 and step.output.shape == (64, 4)
    assert torch.equal(step.target, g.y[batch.n_id[:64]])


def test_cluster_batch_without_training_nodes_gives_zero_loss(tmp_path):
    g = synthetic_graph(SPEC, 0)
    g = g.replace(train_mask=torch.zeros(g.num_nodes, dtype=torch.bool))
    task = SampledNodeClassification(g, ClusterLoader(ClusterData(g, 4, cache_dir=tmp_path), batch_size=1))
    model = GCN(16, 8, 4)
    step = task.loss(model, next(iter(task.train_batches())))
    assert step.size == 0 and step.loss.item() == 0.0
    step.loss.backward()                                                   # reaches every weight (DDP needs it)
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("kind", ["neighbor", "cluster"])
def test_training_learns_the_synthetic_communities(tmp_path, kind):
    g = synthetic_graph(SPEC, 0)
    seed_everything(0)
    if kind == "neighbor":
        loader = NeighborLoader(g, [10, 5], batch_size=128, shuffle=True, input_nodes=g.train_mask)
        model = GraphSAGE(16, 32, 4)
    else:
        loader = ClusterLoader(ClusterData(g, 8, cache_dir=tmp_path), batch_size=2, shuffle=True)
        model = GCN(16, 32, 4, bias=True, dropout=0.0)
    task = SampledNodeClassification(g, loader)
    result = fit(model, task, TrainConfig(epochs=15, lr=0.02, quiet=True))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.test["acc"] > 0.8                                        # chance: 0.25


def test_evaluate_reuses_logits_until_the_weights_change():
    g = synthetic_graph(SPEC, 0)
    task = SampledNodeClassification(g, NeighborLoader(g, [3], batch_size=64, input_nodes=g.train_mask))
    model = GCN(16, 8, 4)
    first = task.logits(model)
    assert task.logits(model) is first
    with torch.no_grad():
        model.convs[0].weight.add_(1.0)
    assert task.logits(model) is not first


def test_evaluate_sees_a_fused_adam_step():
    # torch's fused Adam changes the parameters without bumping their version counters: a cache
    # keyed on versions returned the first evaluation's logits for the whole run.
    g = synthetic_graph(SPEC, 0)
    task = SampledNodeClassification(g, NeighborLoader(g, [3], batch_size=64, input_nodes=g.train_mask))
    model = GCN(16, 8, 4)
    opt = torch.optim.Adam(model.parameters(), lr=0.1, fused=True)
    first = task.logits(model).clone()
    task.loss(model, next(iter(task.train_batches()))).loss.backward()
    opt.step()
    with torch.no_grad():
        expected = model.eval()(g.x, g.adj())
    torch.testing.assert_close(task.logits(model), expected)
    assert not torch.allclose(task.logits(model), first)


def test_task_errors():
    g = Graph(x=torch.randn(4, 2), edge_index=torch.tensor([[0], [1]]), y=torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="has no train_mask"):
        SampledNodeClassification(g, [])
    with pytest.raises(ValueError, match="metric must be 'acc' or 'micro_f1'"):
        SampledNodeClassification(g, [], metric="mae")
