"""models/graph_transformer.py: full attention with Laplacian / random-walk encodings; sign flips in
training; permutation equivariance (node task) and invariance (graph task); a batch equals its graphs."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit.graph import Batch, Graph
from gnnkit.models.graph_transformer import GraphTransformer
from gnnkit.transforms import LaplacianPE, laplacian_pe
from tests.strategies import relabel, small_graphs


def _graph(n=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    src = torch.arange(n)
    e = torch.stack([src, (src + 1) % n])
    e = torch.cat([e, e.flip(0), torch.tensor([[0], [n // 2]])], 1)
    return Graph(x=torch.randn(n, 3, generator=gen), edge_index=e, num_nodes=n, y=torch.tensor(1), y_level="graph")


@pytest.mark.parametrize("attention", ["full", "sparse"])
@given(g=small_graphs(num_features=3, min_nodes=2), seed=st.integers(0, 2**16))
def test_layers_are_permutation_equivariant_given_the_encodings(attention, g, seed):
    """With the positional encodings given as a node field (permuted along with the nodes), node
    outputs permute with the nodes and graph outputs do not change."""
    torch.manual_seed(seed)
    model = GraphTransformer(3, 2, hidden_channels=8, heads=2, pe="lap+rw", pe_dim=3, attention=attention).double().eval()
    gen = torch.Generator().manual_seed(seed)
    lap = torch.randn(g.num_nodes, 3, generator=gen, dtype=torch.float64)
    rw = torch.rand(g.num_nodes, 3, generator=gen, dtype=torch.float64)
    g = g.replace(lap_pe=lap, rw_pe=rw, levels={"lap_pe": "node", "rw_pe": "node"})
    perm = torch.randperm(g.num_nodes, generator=gen)
    gp = Graph(x=g.x[perm], edge_index=relabel(g.edge_index, perm), num_nodes=g.num_nodes,
               extra={"lap_pe": lap[perm], "rw_pe": rw[perm]}, levels={"lap_pe": "node", "rw_pe": "node"})
    b, bp = Batch.from_graphs([g]), Batch.from_graphs([gp])
    torch.testing.assert_close(model.embed(bp), model.embed(b)[perm])
    torch.testing.assert_close(model(bp), model(b))


def test_laplacian_signs_are_flipped_in_training_only():
    torch.manual_seed(0)
    g = _graph()
    model = GraphTransformer(3, 2, hidden_channels=8, heads=2, pe="lap", pe_dim=3, dropout=0.0)
    x, adj = g.x, g.adj()
    outs = {tuple(model(x, adj)[0].tolist()) for _ in range(12)}
    assert len(outs) > 1                                  # different signs, different outputs
    pe = laplacian_pe(g.edge_index, g.num_nodes, 3)
    b = torch.zeros(6, dtype=torch.long)
    flipped = model.flip_signs(pe, b, 1)
    torch.testing.assert_close(flipped.abs(), pe.abs())
    ratio = flipped / pe.where(pe != 0, torch.ones_like(pe))
    assert torch.all((ratio[pe != 0].abs() - 1).abs() < 1e-6)
    signs = torch.sign(ratio)                             # one sign per column for the whole graph
    for c in range(3):
        col = signs[:, c][pe[:, c] != 0]
        assert torch.all(col == col[0])
    model.eval()
    torch.testing.assert_close(model(x, adj), model(x, adj))
    model.train()
    model.sign_flip = False
    torch.testing.assert_close(model(x, adj), model(x, adj))


def test_flip_signs_are_per_graph_in_a_batch():
    torch.manual_seed(1)
    model = GraphTransformer(3, 2, pe="lap", pe_dim=2)
    pe = torch.ones(4, 2)
    batch = torch.tensor([0, 0, 1, 1])
    seen = set()
    for _ in range(30):
        f = model.flip_signs(pe, batch, 2)
        assert torch.equal(f[0], f[1]) and torch.equal(f[2], f[3])
        seen.add(tuple(f[[0, 2]].flatten().tolist()))
    assert len(seen) > 4


@pytest.mark.parametrize("pe", ["lap", "rw", None])
def test_batch_equals_its_graphs_one_by_one_and_field_equals_computed(pe):
    torch.manual_seed(2)
    model = GraphTransformer(3, 2, hidden_channels=8, heads=2, pe=pe, pe_dim=3).eval()
    graphs = [_graph(5, 0), _graph(7, 1), _graph(4, 2)]
    out = model(Batch.from_graphs(graphs))
    one = torch.cat([model(Batch.from_graphs([g])) for g in graphs])
    torch.testing.assert_close(out, one, atol=1e-5, rtol=1e-5)
    assert out.shape == (3, 2)
    if pe == "lap":      # the transform's field gives the same result as computing it inside
        with_field = Batch.from_graphs([LaplacianPE(3)(g) for g in graphs])
        torch.testing.assert_close(model(with_field), out)


def test_node_task_call_and_cached_encodings():
    g = _graph(8)
    model = GraphTransformer(3, 4, hidden_channels=8, heads=2, pe="lap+rw", pe_dim=3).eval()
    adj = g.adj()
    assert model(g.x, adj).shape == (8, 4)
    assert model(g.x, g.edge_index).shape == (8, 4)


def test_errors():
    with pytest.raises(ValueError, match="pe must be one of"):
        GraphTransformer(3, 2, pe="spectral")
    with pytest.raises(ValueError, match="attention must be one of"):
        GraphTransformer(3, 2, attention="linear")


@given(g=small_graphs(num_features=3, min_nodes=2), seed=st.integers(0, 2**16))
def test_transformer_conv_net_is_permutation_equivariant(g, seed):
    from gnnkit.models.graph_transformer import TransformerConvNet

    torch.manual_seed(seed)
    model = TransformerConvNet(3, 4, 2, heads=2).double().eval()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    x = g.x.double()
    out = model(x, g.edge_index)                                             # [N, 2]
    assert out.shape == (g.num_nodes, 2)
    torch.testing.assert_close(model(x[perm], relabel(g.edge_index, perm)), out[perm])


def test_transformer_conv_net_is_gat_shaped_and_says_what_to_fix():
    from gnnkit.models import build_model
    from gnnkit.models.graph_transformer import TransformerConvNet

    model = build_model("transformer-conv-net", in_channels=5, out_channels=3, hidden_channels=4, heads=2,
                        num_layers=3)
    assert [c.heads for c in model.convs] == [2, 2] and model.out.heads == 1
    assert model.convs[1].in_channels == 8 and model.out.in_channels == 8
    with pytest.raises(ValueError, match="num_layers must be >= 2"):
        TransformerConvNet(5, 4, 3, num_layers=1)
