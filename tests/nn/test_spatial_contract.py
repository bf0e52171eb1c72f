"""The contract every spatial layer keeps, parametrized over all of them: shapes,
permutation equivariance, edge order, SparseAdj = edge_index, a Batch equals its
graphs one by one, degenerate graphs, and gradients reaching every parameter.
Family-specific tests (hand-computed, dense references, errors) live in test_<family>.py."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from gnnkit import Batch, Graph
from gnnkit.nn import (DiffusionConv, GATConv, GINConv, GINEConv, MPNNConv, NN4GConv, PGCConv, SAGEConv)
from tests.strategies import relabel, small_graphs

F_IN = 4
EDGE_DIM = 3


def edge_features(g: Graph) -> torch.Tensor:
    """Deterministic [E, EDGE_DIM] edge features from the edge endpoints' features."""
    src, dst = g.edge_index
    return torch.cat([g.x[src, :2] - g.x[dst, :1], g.x[dst, 1:2]], dim=-1)


def prev_states(x: torch.Tensor) -> list[torch.Tensor]:
    """Two earlier NN4G states, node-level functions of x (so they permute with it)."""
    return [torch.tanh(x[:, :3]), torch.sin(x)]


# name -> (factory, call(layer, x, edge_index_or_adj, edge_attr)); every layer in float64
LAYERS = {
    "nn4g": (lambda: NN4GConv(F_IN, 5, prev_channels=[3, 4]),
             lambda layer, x, ei, ea: layer(x, ei, prev_states(x))),
    "diffusion_dcnn": (lambda: DiffusionConv(F_IN, K=3), lambda layer, x, ei, ea: layer(x, ei)),
    "diffusion_sum": (lambda: DiffusionConv(F_IN, K=2, out_channels=5, mode="sum"),
                      lambda layer, x, ei, ea: layer(x, ei)),
    "pgc": (lambda: PGCConv(F_IN, 5, r=3), lambda layer, x, ei, ea: layer(x, ei)),
    "pgc_sum_narrow": (lambda: PGCConv(F_IN, 2, r=2, normalize=False), lambda layer, x, ei, ea: layer(x, ei)),
    "mpnn": (lambda: MPNNConv(F_IN, EDGE_DIM, edge_hidden=8, steps=2), lambda layer, x, ei, ea: layer(x, ei, ea)),
    "sage_mean": (lambda: SAGEConv(F_IN, 5), lambda layer, x, ei, ea: layer(x, ei)),
    "sage_mean_narrow": (lambda: SAGEConv(F_IN, 2, normalize=True), lambda layer, x, ei, ea: layer(x, ei)),
    "sage_gcn": (lambda: SAGEConv(F_IN, 5, aggr="gcn"), lambda layer, x, ei, ea: layer(x, ei)),
    "sage_pool": (lambda: SAGEConv(F_IN, 5, aggr="pool", act=torch.relu), lambda layer, x, ei, ea: layer(x, ei)),
    "sage_lstm": (lambda: SAGEConv(F_IN, 5, aggr="lstm"), lambda layer, x, ei, ea: layer(x, ei)),
    "gat_concat": (lambda: GATConv(F_IN, 3, heads=2), lambda layer, x, ei, ea: layer(x, ei)),
    "gat_mean_noloops": (lambda: GATConv(F_IN, 3, heads=3, concat=False, add_self_loops=False),
                         lambda layer, x, ei, ea: layer(x, ei)),
    "gin_sum": (lambda: GINConv(nn.Sequential(nn.Linear(F_IN, 8), nn.ReLU(), nn.Linear(8, 5)), train_eps=True),
                lambda layer, x, ei, ea: layer(x, ei)),
    "gin_sum_narrow": (lambda: GINConv(nn.Sequential(nn.Linear(F_IN, 2), nn.ReLU()), eps=0.5, train_eps=True),
                       lambda layer, x, ei, ea: layer(x, ei)),
    "gin_mean": (lambda: GINConv(nn.Linear(F_IN, 5), aggr="mean"), lambda layer, x, ei, ea: layer(x, ei)),
    "gin_max": (lambda: GINConv(nn.Linear(F_IN, 5), aggr="max"), lambda layer, x, ei, ea: layer(x, ei)),
    "gine": (lambda: GINEConv(nn.Linear(F_IN, 5), F_IN, edge_dim=EDGE_DIM, train_eps=True),
             lambda layer, x, ei, ea: layer(x, ei, ea)),
}
# The LSTM aggregator reads neighbours in an order (random in training, stored in eval): not equivariant.
EQUIVARIANT = [name for name in LAYERS if name != "sage_lstm"]


def make(name: str, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return LAYERS[name][0]().double().eval()


def run(name: str, layer, g: Graph, edge_index=None) -> torch.Tensor:
    ea = edge_features(g) if g.num_edges else torch.empty(0, EDGE_DIM, dtype=torch.float64)
    return LAYERS[name][1](layer, g.x, g.edge_index if edge_index is None else edge_index, ea)


@pytest.mark.parametrize("name", EQUIVARIANT)
@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_layer_is_permutation_equivariant(name, g, seed):
    layer = make(name)
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    g_perm = Graph(x=g.x[perm], edge_index=relabel(g.edge_index, perm), num_nodes=g.num_nodes)
    torch.testing.assert_close(run(name, layer, g_perm), run(name, layer, g)[perm])


@pytest.mark.parametrize("name", EQUIVARIANT)
@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_layer_ignores_edge_order(name, g, seed):
    layer = make(name)
    order = torch.randperm(g.num_edges, generator=torch.Generator().manual_seed(seed))
    g_shuffled = Graph(x=g.x, edge_index=g.edge_index[:, order], num_nodes=g.num_nodes)
    torch.testing.assert_close(run(name, layer, g_shuffled), run(name, layer, g))


@pytest.mark.parametrize("name", list(LAYERS))
@given(graphs=st.lists(small_graphs(max_nodes=7, max_edges=15), min_size=1, max_size=4))
def test_batch_equals_graphs_one_by_one(name, graphs):
    layer = make(name)
    batch = Batch.from_graphs(graphs)
    expected = torch.cat([run(name, layer, g) for g in graphs], 0)
    torch.testing.assert_close(run(name, layer, batch), expected)


@pytest.mark.parametrize("name", list(LAYERS))
@given(g=small_graphs())
def test_sparse_adj_gives_the_same_as_edge_index(name, g):
    layer = make(name)
    adj = g.adj()
    first = run(name, layer, g, adj)
    torch.testing.assert_close(first, run(name, layer, g))
    torch.testing.assert_close(run(name, layer, g, adj), first)   # second call: cached structures reused


@pytest.mark.parametrize("name", EQUIVARIANT)
def test_layer_follows_an_in_place_change_of_edge_index(name):
    # as_adj reuses the structure built for an edge_index tensor; changing that tensor in place
    # must give the new graph's output, the same as a fresh tensor with those edges.
    layer = make(name)
    x = torch.randn(5, F_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    edge_index = GRAD_EDGES.clone()
    run(name, layer, Graph(x=x, edge_index=edge_index))
    edge_index[0] = edge_index[0].flip(0)                           # another graph with as many edges
    g_new = Graph(x=x, edge_index=edge_index.clone())
    torch.testing.assert_close(run(name, layer, g_new, edge_index), run(name, layer, g_new))


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("edge_index", [
    torch.empty(2, 0, dtype=torch.long),                       # zero edges
    torch.tensor([[0, 1, 1], [0, 1, 0]]),                      # self loops, node 2 isolated
    torch.tensor([[0, 0, 0], [1, 1, 1]]),                      # the same edge three times
], ids=["no_edges", "self_loops_isolated", "multi_edges"])
def test_degenerate_graphs_give_finite_outputs(name, edge_index):
    layer = make(name)
    g = Graph(x=torch.randn(3, F_IN, dtype=torch.float64), edge_index=edge_index, num_nodes=3)
    out = run(name, layer, g)
    assert out.size(0) == 3 and torch.isfinite(out).all()


@pytest.mark.parametrize("name", list(LAYERS))
def test_one_node_graph(name):
    layer = make(name)
    g = Graph(x=torch.randn(1, F_IN, dtype=torch.float64), edge_index=torch.tensor([[0], [0]]))
    assert torch.isfinite(run(name, layer, g)).all()


# A fixed graph where every node has in-edges, 2-hop and 3-hop paths, and a self loop.
GRAD_EDGES = torch.tensor([[0, 1, 2, 3, 4, 0, 2, 4, 1], [1, 2, 3, 4, 0, 2, 0, 1, 1]])


@pytest.mark.parametrize("name", list(LAYERS))
def test_gradients_reach_every_parameter(name):
    layer = make(name).train()
    g = Graph(x=torch.randn(5, F_IN, dtype=torch.float64, generator=torch.Generator().manual_seed(1)),
              edge_index=GRAD_EDGES)
    out = run(name, layer, g)
    (out * torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(2))).sum().backward()
    for pname, p in layer.named_parameters():
        assert p.grad is not None, f"{name}: no gradient reached {pname}"
        assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, f"{name}: zero gradient for {pname}"


@pytest.mark.parametrize("name", list(LAYERS))
def test_reset_parameters_and_repr(name):
    layer = make(name)
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    torch.manual_seed(123)
    layer.reset_parameters()
    after = layer.state_dict()
    assert before.keys() == after.keys()
    assert any(not torch.equal(before[k], after[k]) for k in before if before[k].numel() > 1)
    assert type(layer).__name__ in repr(layer) and layer.extra_repr()
