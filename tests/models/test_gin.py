"""models/gin.py: the paper's GIN (per-layer readouts, GIN-0/eps, ablations) and the GraphMLP baseline."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit import Batch, Graph
from gnnkit.models import GIN, GraphMLP, build_model
from gnnkit.nn.pool import layer_readout
from tests.strategies import relabel, small_graphs


def _batch(seed=0):
    gen = torch.Generator().manual_seed(seed)
    graphs = []
    for n in (3, 5, 1):
        e = torch.randint(0, n, (2, 2 * n), generator=gen)
        graphs.append(Graph(x=torch.randn(n, 4, generator=gen), edge_index=e, num_nodes=n))
    return Batch.from_graphs(graphs)


def test_paper_shape_five_layers_counting_the_input():
    model = GIN(4, 16, 3)
    assert len(model.convs) == 4 and len(model.heads) == 5
    assert model.heads[0].in_features == 4 and all(h.in_features == 16 for h in model.heads[1:])
    b = _batch()
    assert model(b).shape == (3, 3) and model.embed(b).shape == (3, 4 + 4 * 16)


def test_scores_are_the_sum_of_each_layers_linear_classifier():
    torch.manual_seed(0)
    model = GIN(4, 8, 2, num_layers=3, dropout=0.0).eval()
    b = _batch()
    hs = model.layers(b)
    # by hand: layer k's graph vector is the sum of its node vectors, through head k; scores summed
    expected = sum(head(torch.stack([h[b.batch == g].sum(0) for g in range(3)]))
                   for head, h in zip(model.heads, hs))
    torch.testing.assert_close(model(b), expected)
    # the input layer is read out too: h^(0) = x
    torch.testing.assert_close(hs[0], b.x)


def test_gin_eps_learns_eps_and_gin0_does_not():
    assert all(c.eps.requires_grad for c in GIN(4, 8, 2, train_eps=True).convs)
    assert not any(isinstance(c.eps, torch.nn.Parameter) for c in GIN(4, 8, 2).convs)


def test_ablation_variants():
    one = GIN(4, 8, 2, mlp_layers=1, aggr="mean")
    assert all(isinstance(c.nn, torch.nn.Linear) for c in one.convs) and one.readout == "mean"
    assert all(c.aggr == "max" for c in GIN(4, 8, 2, aggr="max").convs)
    assert GIN(4, 8, 2, aggr="max", readout="sum").readout == "sum"
    for model in (one, GIN(4, 8, 2, aggr="max", mlp_layers=1)):
        model(_batch()).sum().backward()


@settings(max_examples=20, deadline=None)
@given(g=small_graphs(num_features=4, dtype=torch.float32), seed=st.integers(0, 2**16),
       aggr=st.sampled_from(["sum", "mean", "max"]))
def test_gin_is_invariant_to_node_order(g, seed, aggr):
    torch.manual_seed(0)
    model = GIN(4, 8, 2, num_layers=3, aggr=aggr).eval()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    g2 = Graph(x=g.x[perm], edge_index=relabel(g.edge_index, perm), num_nodes=g.num_nodes)
    torch.testing.assert_close(model(Batch.from_graphs([g2])), model(Batch.from_graphs([g])), atol=1e-5, rtol=1e-5)


def test_batch_equals_graphs_one_by_one_in_eval_mode():
    torch.manual_seed(0)
    model = GIN(4, 8, 2).eval()
    b = _batch()
    one_by_one = torch.cat([model(Batch.from_graphs([g])) for g in b.to_graphs()])
    torch.testing.assert_close(model(b), one_by_one, atol=1e-5, rtol=1e-5)


def test_graph_mlp_ignores_the_edges():
    torch.manual_seed(0)
    model = GraphMLP(4, 8, 2).eval()
    b = _batch()
    no_edges = b.replace(edge_index=torch.empty(2, 0, dtype=torch.long))
    torch.testing.assert_close(model(b), model(no_edges))
    assert build_model("graph-mlp", in_channels=4, out_channels=2, hidden_channels=8)(b).shape == (3, 2)


def test_layer_readout_hand_computed():
    h0 = torch.tensor([[1.0], [2.0], [4.0]])
    h1 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 3.0]])
    batch = torch.tensor([0, 0, 1])
    p0, p1 = layer_readout([h0, h1], batch, 2)
    torch.testing.assert_close(p0, torch.tensor([[3.0], [4.0]]))
    torch.testing.assert_close(p1, torch.tensor([[1.0, 1.0], [3.0, 3.0]]))
    m0, m1 = layer_readout([h0, h1], batch, 2, "max")
    torch.testing.assert_close(m1, torch.tensor([[1.0, 1.0], [3.0, 3.0]]))


def test_errors():
    with pytest.raises(ValueError, match="num_layers counts the input layer and must be >= 1"):
        GIN(4, 8, 2, num_layers=0)
    with pytest.raises(ValueError, match="readout must be one of"):
        GIN(4, 8, 2, readout="attention")
    with pytest.raises(ValueError, match="mlp num_layers must be 1 or 2"):
        GIN(4, 8, 2, mlp_layers=3)
    with pytest.raises(ValueError, match="needs at least one layer"):
        layer_readout([], torch.zeros(0, dtype=torch.long))
