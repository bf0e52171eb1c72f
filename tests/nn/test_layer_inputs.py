"""Every layer that takes an edge list: a bool or float ``edge_index`` gets Graph's message (the
one rule of ops.check_edge_index), half-precision ``x`` gets a message naming the dtypes, and
float64 works (issue 18)."""
import pytest
import torch
from torch import nn

from gnnkit import Graph
from gnnkit.nn import (ChebConv, DiffusionConv, GATConv, GatedGraphConv, GCNConv, GINConv, GINEConv,
                       GraphTransformerConv, MPNNConv, NN4GConv, PGCConv, RecurrentGNN, SAGEConv, SpectralConv)

F = 4
EDGES = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
EDGE_ATTR = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))

# name -> (factory, call(layer, x, edge_index))
LAYERS = {
    "GCNConv": (lambda: GCNConv(F, 5), lambda l, x, e: l(x, e)),
    "ChebConv": (lambda: ChebConv(F, 5, K=2), lambda l, x, e: l(x, e)),
    "SpectralConv": (lambda: SpectralConv(F, 5, num_nodes=3), lambda l, x, e: l(x, e)),
    "NN4GConv": (lambda: NN4GConv(F, 5), lambda l, x, e: l(x, e)),
    "PGCConv": (lambda: PGCConv(F, 5, r=2), lambda l, x, e: l(x, e)),
    "DiffusionConv": (lambda: DiffusionConv(F, K=2), lambda l, x, e: l(x, e)),
    "RecurrentGNN": (lambda: RecurrentGNN(F, 5), lambda l, x, e: l(x, e)),
    "GatedGraphConv": (lambda: GatedGraphConv(5, num_steps=2), lambda l, x, e: l(x, e)),
    "GraphTransformerConv": (lambda: GraphTransformerConv(F, 3, heads=2), lambda l, x, e: l(x, e)),
    "SAGEConv": (lambda: SAGEConv(F, 5), lambda l, x, e: l(x, e)),
    "SAGEConv-pool": (lambda: SAGEConv(F, 5, aggr="pool"), lambda l, x, e: l(x, e)),
    "GATConv": (lambda: GATConv(F, 3, heads=2), lambda l, x, e: l(x, e)),
    "GINConv": (lambda: GINConv(nn.Linear(F, 5)), lambda l, x, e: l(x, e)),
    "GINConv-max": (lambda: GINConv(nn.Linear(F, 5), aggr="max"), lambda l, x, e: l(x, e)),
    "GINEConv": (lambda: GINEConv(nn.Linear(F, 5), F, edge_dim=3), lambda l, x, e: l(x, e, EDGE_ATTR.to(x.dtype))),
    "MPNNConv": (lambda: MPNNConv(F, 3, edge_hidden=8, steps=2), lambda l, x, e: l(x, e, EDGE_ATTR.to(x.dtype))),
}
# Layers in files owned elsewhere (nn/sage, gat, gin, mpnn) do not yet check x's dtype: half precision
# reaches torch and fails there (or, for GIN max, is cast silently). Reported to the lead as gaps.


def _graph_message(bad):
    with pytest.raises(ValueError) as err:
        Graph(x=torch.randn(3, F), edge_index=bad)
    return str(err.value)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("cast", [torch.bool, torch.float32, torch.float64])
def test_layers_refuse_a_bool_or_float_edge_index_with_graphs_message(name, cast):
    make, call = LAYERS[name]
    bad = EDGES.to(cast)
    with pytest.raises(ValueError) as err:
        call(make(), torch.randn(3, F), bad)
    assert str(err.value) == _graph_message(bad)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_layers_name_the_dtypes_for_half_precision_x(name, dtype):
    make, call = LAYERS[name]
    with pytest.raises(ValueError, match=rf"computes in float32 or float64 \(got x of dtype {dtype}\)"):
        call(make(), torch.randn(3, F).to(dtype), EDGES)


@pytest.mark.parametrize("name", LAYERS)
def test_layers_work_in_float64(name):
    make, call = LAYERS[name]
    out = call(make().double(), torch.randn(3, F, dtype=torch.float64), EDGES)
    out = out[0] if isinstance(out, tuple) else out
    assert out.dtype == torch.float64 and torch.isfinite(out).all()


# A symmetric graph whose edge list is already in CSR-by-target order, so edge_attr lines up with
# the lean adjacency's entries: rows 0: [1], 1: [0, 2], 2: [1].
SORTED_EDGES = torch.tensor([[1, 0, 2, 1], [0, 1, 1, 2]])


@pytest.mark.parametrize("name", LAYERS)
def test_layers_give_the_same_output_and_gradients_on_a_lean_adjacency(name):
    # SparseAdj.from_csr (int32 index, int64 edge arrays built only on request, A^T = A in SpMM's
    # backward) must be the same adjacency to every layer as the edge list it replaces.
    from gnnkit.ops import SparseAdj

    make, call = LAYERS[name]
    lean = SparseAdj.from_csr(torch.tensor([0, 1, 3, 4]), torch.tensor([1, 0, 2, 1], dtype=torch.int32),
                              symmetric=True)
    torch.manual_seed(0)
    layer = make().double().eval()
    x = torch.randn(3, F, dtype=torch.float64)
    outs, grads = [], []
    for adj in (SORTED_EDGES, lean):
        xi = x.clone().requires_grad_()
        out = call(layer, xi, adj)
        out = out[0] if isinstance(out, tuple) else out
        (g,) = torch.autograd.grad(out.pow(2).sum(), xi)
        outs.append(out.detach())
        grads.append(g)
    torch.testing.assert_close(outs[1], outs[0])
    torch.testing.assert_close(grads[1], grads[0])
