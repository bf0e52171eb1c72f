"""Every layer of ``gnnkit.nn`` runs in float64: float64 in, float64 out (gradients too), and the
result matches the same layer in float32 closely. A layer whose cached structure or internal
tensors were fixed to float32 fails here (its output comes back float32, or a matmul refuses the
mix). A new layer exported from ``gnnkit.nn`` needs a case in ``CASES``."""
import copy
import inspect

import pytest
import torch
from torch import nn

import gnnkit.nn as gnn

N, F_IN, EDGE_DIM = 6, 4, 3
EDGE_INDEX = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 2],       # undirected: SpectralConv needs a
                           [1, 0, 2, 1, 3, 2, 4, 3, 2, 0]])      # symmetric Laplacian; node 5 isolated
BATCH = torch.tensor([0, 0, 0, 0, 0, 1])                         # two graphs: nodes 0-4 and node 5


def _inputs(dtype):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(N, F_IN, generator=gen, dtype=torch.float64).to(dtype)
    edge_attr = torch.randn(EDGE_INDEX.size(1), EDGE_DIM, generator=gen, dtype=torch.float64).to(dtype)
    weight = torch.rand(EDGE_INDEX.size(1) // 2, generator=gen, dtype=torch.float64).add(0.5)
    weight = weight.repeat_interleave(2).to(dtype)                 # the same weight both ways
    return x, edge_attr, weight


PATH3 = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


def _seq(x):
    """x [6, F] as 2 sequences (or graphs) of 3 items: [2, 3, F]."""
    return x.view(2, 3, F_IN)


def _dense_adj(x):
    """A dense [2, 3, 3] adjacency (path 0 - 1 - 2 in both graphs) in x's dtype."""
    adj = x.new_zeros(2, 3, 3)
    adj[:, PATH3[1], PATH3[0]] = 1.0
    return adj


def _frames(x):
    """[B=1, T=6, N=3, F] frames on the 3-node path: x's rows over time, scaled per node."""
    return x.view(1, 6, 1, F_IN) * x.new_tensor([1.0, -0.5, 2.0]).view(1, 1, 3, 1)


class _TwoHeads(nn.Module):
    """A variational encoder: (mu, log sigma) from two GCN layers."""

    def __init__(self):
        super().__init__()
        self.mu, self.logstd = gnn.GCNConv(F_IN, 5), gnn.GCNConv(F_IN, 5)

    def forward(self, x, edge_index):
        return self.mu(x, edge_index), self.logstd(x, edge_index)


def _mlp(a, b):
    return nn.Sequential(nn.Linear(a, 8), nn.ReLU(), nn.Linear(8, b))


# class name -> list of (id, build(), call(layer, x, edge_attr, edge_weight))
CASES = {
    "GCNConv": [("gcn", lambda: gnn.GCNConv(F_IN, 5), lambda m, x, ea, w: m(x, EDGE_INDEX, w))],
    "ChebConv": [("cheb", lambda: gnn.ChebConv(F_IN, 5, K=3), lambda m, x, ea, w: m(x, EDGE_INDEX, w)),
                 ("cheb_narrow_batched", lambda: gnn.ChebConv(F_IN, 2, K=3),
                  lambda m, x, ea, w: m(x, EDGE_INDEX, batch=BATCH))],
    "SpectralConv": [("spectral", lambda: gnn.SpectralConv(F_IN, 5, num_nodes=N, k=4),
                      lambda m, x, ea, w: m(x, EDGE_INDEX, w))],
    "RecurrentGNN": [("recurrent", lambda: gnn.RecurrentGNN(F_IN, 5, edge_channels=EDGE_DIM, tol=1e-9),
                      lambda m, x, ea, w: m(x, EDGE_INDEX, ea))],
    "GatedGraphConv": [("ggnn", lambda: gnn.GatedGraphConv(6, num_steps=2, num_edge_types=2),
                        lambda m, x, ea, w: m(x, EDGE_INDEX, edge_type=torch.arange(10) % 2, edge_weight=w))],
    "NN4GConv": [("nn4g", lambda: gnn.NN4GConv(F_IN, 5, prev_channels=[3]),
                  lambda m, x, ea, w: m(x, EDGE_INDEX, [torch.tanh(x[:, :3])]))],
    "DiffusionConv": [("dcnn", lambda: gnn.DiffusionConv(F_IN, K=2), lambda m, x, ea, w: m(x, EDGE_INDEX, w)),
                      ("diffusion_sum", lambda: gnn.DiffusionConv(F_IN, K=2, out_channels=5, mode="sum"),
                       lambda m, x, ea, w: m(x, EDGE_INDEX))],
    "PGCConv": [("pgc", lambda: gnn.PGCConv(F_IN, 5, r=2), lambda m, x, ea, w: m(x, EDGE_INDEX))],
    "MPNNConv": [("mpnn", lambda: gnn.MPNNConv(F_IN, EDGE_DIM, edge_hidden=8, steps=2),
                  lambda m, x, ea, w: m(x, EDGE_INDEX, ea))],
    "Set2Set": [("set2set", lambda: gnn.Set2Set(F_IN, processing_steps=2), lambda m, x, ea, w: m(x, BATCH))],
    "SAGEConv": [(f"sage_{a}", (lambda a=a: gnn.SAGEConv(F_IN, 5, aggr=a)), lambda m, x, ea, w: m(x, EDGE_INDEX))
                 for a in ("mean", "gcn", "pool", "lstm")],
    "GATConv": [("gat", lambda: gnn.GATConv(F_IN, 3, heads=2), lambda m, x, ea, w: m(x, EDGE_INDEX))],
    "GINConv": [("gin", lambda: gnn.GINConv(_mlp(F_IN, 5), train_eps=True), lambda m, x, ea, w: m(x, EDGE_INDEX)),
                ("gin_max", lambda: gnn.GINConv(nn.Linear(F_IN, 5), aggr="max"),
                 lambda m, x, ea, w: m(x, EDGE_INDEX))],
    "GINEConv": [("gine", lambda: gnn.GINEConv(nn.Linear(F_IN, 5), F_IN, edge_dim=EDGE_DIM),
                  lambda m, x, ea, w: m(x, EDGE_INDEX, ea))],
    # dense, sequence and autoencoder layers: inputs shaped from the same x [6, 4]
    "DenseSAGEConv": [("dense_sage", lambda: gnn.DenseSAGEConv(F_IN, 5, normalize=True),
                       lambda m, x, ea, w: m(_seq(x), _dense_adj(x)))],
    "DiffPool": [("diffpool", lambda: gnn.DiffPool(gnn.DenseSAGEConv(F_IN, 5), gnn.DenseSAGEConv(F_IN, 2)),
                  lambda m, x, ea, w: m(_seq(x), _dense_adj(x)))],
    "GAE": [("gae", lambda: gnn.GAE(gnn.GCNConv(F_IN, 5)),
             lambda m, x, ea, w: m.decode(m.encode(x, EDGE_INDEX), EDGE_INDEX))],
    "VGAE": [("vgae", lambda: gnn.VGAE(_TwoHeads()), lambda m, x, ea, w: m.encode(x, EDGE_INDEX))],
    "InnerProductDecoder": [("inner_product", lambda: gnn.InnerProductDecoder(), lambda m, x, ea, w: m(x, EDGE_INDEX))],
    "GraphTransformerConv": [("graph_transformer", lambda: gnn.GraphTransformerConv(F_IN, 3, heads=2, beta=True,
                                                                                   edge_dim=EDGE_DIM),
                              lambda m, x, ea, w: m(x, EDGE_INDEX, ea))],
    "MultiHeadAttention": [("attention", lambda: gnn.MultiHeadAttention(F_IN, 2),
                            lambda m, x, ea, w: m(_seq(x), _seq(x), _seq(x), torch.tensor([3, 2])))],
    "AddNorm": [("add_norm", lambda: gnn.AddNorm(F_IN), lambda m, x, ea, w: m(_seq(x), torch.tanh(_seq(x))))],
    "PositionWiseFFN": [("ffn", lambda: gnn.PositionWiseFFN(F_IN, 8, 5), lambda m, x, ea, w: m(_seq(x)))],
    "PositionalEncoding": [("positional", lambda: gnn.PositionalEncoding(F_IN), lambda m, x, ea, w: m(_seq(x)))],
    "TransformerEncoderBlock": [("encoder_block", lambda: gnn.TransformerEncoderBlock(F_IN, 8, 2),
                                 lambda m, x, ea, w: m(_seq(x), torch.tensor([3, 2])))],
    "TransformerDecoderBlock": [("decoder_block", lambda: gnn.TransformerDecoderBlock(F_IN, 8, 2, i=0),
                                 lambda m, x, ea, w: m(_seq(x), torch.tanh(_seq(x)), torch.tensor([3, 2])))],
    "NodeLayerNorm": [("node_layer_norm", lambda: gnn.NodeLayerNorm(F_IN), lambda m, x, ea, w: m(_frames(x)))],
    "TemporalConv": [("temporal", lambda: gnn.TemporalConv(F_IN, 5, kernel_size=2), lambda m, x, ea, w: m(_frames(x)))],
    "STConvBlock": [("st_conv", lambda: gnn.STConvBlock(F_IN, 3, 5, kernel_size=2, K=2),
                     lambda m, x, ea, w: m(_frames(x), PATH3))],
}
NOT_LAYERS = {"MessagePassing": "the base class; the layers built on it have their cases"}
PARAMS = [pytest.param(build, call, id=case_id) for cases in CASES.values() for case_id, build, call in cases]


def _outputs(out):
    out = out[0] if isinstance(out, tuple) else out
    return out


@pytest.mark.parametrize("build, call", PARAMS)
def test_layer_runs_in_float64_and_matches_float32(build, call):
    torch.manual_seed(0)
    layer32 = build().eval()
    layer64 = copy.deepcopy(layer32).double()
    x32, ea32, w32 = _inputs(torch.float32)
    x64, ea64, w64 = (t.double().requires_grad_(t.is_floating_point()) for t in (x32, ea32, w32))
    out64 = _outputs(call(layer64, x64, ea64, w64))
    assert out64.dtype == torch.float64
    out32 = _outputs(call(layer32, x32, ea32, w32))
    assert out32.dtype == torch.float32
    torch.testing.assert_close(out64.float(), out32, rtol=1e-4, atol=1e-5)
    out64.square().sum().backward()
    assert x64.grad is not None and x64.grad.dtype == torch.float64
    assert all(p.grad.dtype == torch.float64 for p in layer64.parameters() if p.grad is not None)


def test_every_layer_of_gnnkit_nn_has_a_float64_case():
    layers = {name for name in dir(gnn)
              if not name.startswith("_") and inspect.isclass(getattr(gnn, name))
              and issubclass(getattr(gnn, name), nn.Module)}
    missing = sorted(layers - set(CASES) - set(NOT_LAYERS))
    assert not missing, f"add a float64 case for {missing} to CASES in tests/nn/test_float64.py"
