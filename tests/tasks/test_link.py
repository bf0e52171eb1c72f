"""The link-prediction task (tasks/link.py): the protocol, losses, metrics, walks, probe."""
import pytest
import torch

from gnnkit.datasets.link_split import link_split
from gnnkit.datasets.synthetic import planted_partition
from gnnkit.metrics import average_precision, roc_auc
from gnnkit.models.embedding import NodeEmbedding, UnsupervisedSAGE
from gnnkit.models.gae import gcn_gae, gcn_vgae
from gnnkit.nn.autoencoder import dense_recon_loss
from gnnkit.tasks import LinkPrediction, Task
from gnnkit.train import TrainConfig, fit, seed_everything


@pytest.fixture(scope="module")
def graph():
    return planted_partition(3, 20, 0.4, 0.02, num_features=6, seed=0, num_train_per_class=5)


def make(graph, **kw):
    return LinkPrediction(graph, link_split(graph.edge_index, graph.num_nodes, seed=0), **kw)


def test_is_a_task_with_auc_metric(graph):
    task = make(graph)
    assert isinstance(task, Task)
    assert task.metric == "auc" and task.higher_is_better
    assert task.model_args() == {"in_channels": 6}
    assert make(graph, inputs="nodes").model_args() == {"num_nodes": 60}


def test_message_passing_graph_holds_training_edges_only(graph):
    task = make(graph)
    assert torch.equal(task.adj.edge_index[:, torch.argsort(task.adj.src * 60 + task.adj.dst)],
                       task.split.train_edge_index)


def test_reconstruction_loss_is_the_papers_dense_loss_over_train_edges_and_loops(graph):
    task = make(graph)
    torch.manual_seed(0)
    model = gcn_gae(6)
    step = task.loss(model, task.train_batches()[0])
    z = model.encode(graph.x, task.adj)
    loops = torch.arange(60).repeat(2, 1)
    expected = dense_recon_loss(z @ z.t(), torch.cat([task.split.train_edge_index, loops], 1))
    torch.testing.assert_close(step.loss, expected)
    assert step.size == task.split.train_pos.size(1)


def test_vgae_loss_adds_kl_over_n(graph):
    task = make(graph)
    model = gcn_vgae(6)
    model.eval()                                 # z = mu: the same z in the task's call and here
    step = task.loss(model, None)
    z = model.encode(graph.x, task.adj)
    loops = torch.arange(60).repeat(2, 1)
    recon = dense_recon_loss(z @ z.t(), torch.cat([task.split.train_edge_index, loops], 1))
    torch.testing.assert_close(step.loss, recon + model.kl_loss() / 60)


def test_sampled_negatives_option_draws_non_edges_from_the_global_generator(graph):
    task = make(graph, negatives="sampled")
    model = gcn_gae(6)
    torch.manual_seed(1)
    a = task.loss(model, None).loss
    torch.manual_seed(1)
    b = task.loss(model, None).loss
    torch.manual_seed(2)
    c = task.loss(model, None).loss
    assert a.item() == b.item() != c.item()


def test_evaluate_reports_loss_auc_ap_and_the_probe_on_test(graph):
    task = make(graph)
    torch.manual_seed(0)
    model = gcn_gae(6)
    val = task.evaluate(model, "val")
    assert set(val) == {"loss", "auc", "ap"}
    score, y = task.scores(model, "val")
    assert val["auc"] == roc_auc(score, y) and val["ap"] == average_precision(score, y)
    assert y.sum() == y.numel() - y.sum() == task.split.val_pos.size(1)
    test = task.evaluate(model, "test")
    assert set(test) == {"loss", "auc", "ap", "probe_micro_f1"}
    assert 0 <= test["probe_micro_f1"] <= 1
    train = task.evaluate(model, "train")
    assert train["auc"] is not None and task.train_neg.size(1) == task.split.train_pos.size(1)


def test_walk_batches_cover_every_connected_node_walks_per_node_times(graph):
    model = NodeEmbedding(60, 8, walk_length=4, window=2, walks_per_node=3, batch_size=50)
    task = make(graph, inputs="nodes", walks=model.walk_config)
    batches = task.train_batches()
    start = torch.cat(batches)
    connected = (task.walk_graph.degree > 0).nonzero().view(-1)
    assert torch.equal(torch.bincount(start, minlength=60)[connected], torch.full((connected.numel(),), 3))
    assert max(b.numel() for b in batches) == 50 * 3
    step = task.loss(model, batches[0])
    assert step.loss.requires_grad and step.size > 0


def test_walk_loss_at_zero_embeddings_is_one_plus_k_times_log_two(graph):
    # every logit 0: each pair costs softplus(0) = log 2 and each of its K negatives log 2 too
    import math

    model = NodeEmbedding(60, 4, walk_length=6, window=2, walks_per_node=2, num_negatives=3)
    torch.nn.init.zeros_(model.embedding.weight)
    task = make(graph, inputs="nodes", walks=model.walk_config)
    step = task.loss(model, task.train_batches()[0])
    torch.testing.assert_close(step.loss, torch.tensor(4 * math.log(2)))
    # pairs counted once per occurrence, self pairs dropped: 2 walks x (6 + 5) per start, minus returns
    assert 0 < step.size <= 2 * 11 * int((task.walk_graph.degree > 0).sum())


def test_walk_models_learn_the_partition(graph):
    for model in (NodeEmbedding(60, 16, walk_length=10, window=3, walks_per_node=5, batch_size=None),
                  UnsupervisedSAGE(6, 16, walks_per_node=5)):
        seed_everything(0)
        task = make(graph, inputs="nodes" if isinstance(model, NodeEmbedding) else "features",
                    walks=model.walk_config)
        result = fit(model, task, TrainConfig(epochs=15, lr=0.05, quiet=True))
        assert result.test["auc"] > 0.8, type(model).__name__


def test_errors_say_what_was_wrong(graph):
    with pytest.raises(ValueError, match="negatives must be one of"):
        make(graph, negatives="all")
    with pytest.raises(ValueError, match="inputs must be one of"):
        make(graph, inputs="edges")
    other = link_split(torch.tensor([[0, 1], [1, 0]]), 2, val=0.0, test=0.0)
    with pytest.raises(ValueError, match="split has 2 nodes but the graph 60"):
        LinkPrediction(graph, other)
    model = NodeEmbedding(60, 4, walk_length=3)
    with pytest.raises(ValueError, match="walks=model.walk_config"):
        make(graph, inputs="nodes").loss(model, None)
    with pytest.raises(ValueError, match="differs from the task's"):
        task = make(graph, inputs="nodes", walks=NodeEmbedding(60, 4).walk_config)
        task.loss(model, task.train_batches()[0])


def test_cora_gae_learns_in_a_few_epochs(data_root):
    from gnnkit.experiments import get
    from gnnkit.experiments.data import load_data, make_task

    exp = get("gae-cora").override(epochs=20)
    task = make_task(exp, load_data(exp, data_root))
    assert task.split.test_pos.size(1) == 527 and task.graph.x.layout == torch.sparse_csr
    seed_everything(0)
    result = fit(gcn_gae(**task.model_args()), task, TrainConfig(epochs=20, lr=0.01, quiet=True))
    assert result.test["auc"] > 0.75 and result.test["ap"] > 0.75


def test_sampled_training_negatives_are_non_edges_of_the_training_graph(graph):
    task = make(graph, negatives="sampled")
    torch.manual_seed(0)
    neg = task.sample_negatives(5000)
    assert neg.shape == (2, 5000)
    n = graph.num_nodes
    keys = set((task.split.train_edge_index[0] * n + task.split.train_edge_index[1]).tolist())
    assert not any(k in keys for k in (neg[0] * n + neg[1]).tolist())
    assert bool((neg[0] != neg[1]).all())
    # uniform over the allowed pairs: with 5,000 draws every node appears as a source
    assert torch.unique(neg[0]).numel() == n

