"""DiffusionConv: hand-computed diffusion hops, dense float64 references of both
the DCNN and the summed form, and errors."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import DiffusionConv
from tests.strategies import small_graphs

X3 = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
E3 = torch.tensor([[0, 2, 1], [1, 1, 2]])          # 0 -> 1, 2 -> 1, 1 -> 2; node 0 has no in-edge


def test_dcnn_hand_computed():
    # P = D^-1 A: node 0 has no in-edges (row 0), node 1 averages nodes 0 and 2, node 2 copies node 1.
    # P^0 x = [1, 2, 3];  P^1 x = [0, (1 + 3)/2, 2] = [0, 2, 2];  P^2 x = [0, (0 + 2)/2, 2] = [0, 1, 2]
    # W[k] = k + 1, no bias, identity activation: Z[v] = [1 * P^0 x, 2 * P^1 x, 3 * P^2 x]
    conv = DiffusionConv(1, K=2, act=None, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0], [2.0], [3.0]]))
    expected = torch.tensor([[1, 0, 0], [2, 4, 3], [3, 4, 6]], dtype=torch.float64)
    torch.testing.assert_close(conv(X3, E3), expected)
    # out.view(N, K + 1, F_in) is the paper's Z: hop 1 of every node
    torch.testing.assert_close(conv(X3, E3).view(3, 3, 1)[:, 1, 0], torch.tensor([0.0, 4, 4], dtype=torch.float64))


def test_dcnn_hand_computed_weighted_and_tanh():
    # weights 3 (0->1), 1 (2->1), 2 (1->2): P row 1 = [3/4, 0, 1/4], row 2 = [0, 1, 0]
    # P x = [0, 3/4 + 3/4, 2] = [0, 1.5, 2];  P^2 x = [0, 1/4 * 2, 1.5] = [0, 0.5, 1.5]; f = tanh, W = 1
    conv = DiffusionConv(1, K=2, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
    w = torch.tensor([3.0, 1.0, 2.0], dtype=torch.float64)
    expected = torch.tanh(torch.tensor([[1, 0, 0], [2, 1.5, 0.5], [3, 2, 1.5]], dtype=torch.float64))
    torch.testing.assert_close(conv(X3, E3, w), expected)


def test_summed_diffusion_hand_computed():
    # mode 'sum', K = 1, W_0 = 1, W_1 = 10, identity f: h = x + 10 P x = [1, 2 + 20, 3 + 20]
    conv = DiffusionConv(1, K=1, out_channels=1, mode="sum", act=None, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[[1.0]], [[10.0]]]))
    torch.testing.assert_close(conv(X3, E3), torch.tensor([[1.0], [22.0], [23.0]], dtype=torch.float64))


def dense_powers(x, edge_index, weight, K):
    """[P^k X for k = 0..K] with P = D^-1 A dense (rows of nodes without in-edges 0)."""
    a = ops.dense_adjacency(edge_index, x.size(0), weight, dtype=torch.float64)
    d = a.sum(1, keepdim=True)
    P = torch.where(d != 0, a / d, torch.zeros_like(a))
    out = [x]
    for _ in range(K):
        out.append(P @ out[-1])
    return out


@pytest.mark.parametrize("mode", ["dcnn", "sum"])
@given(g=small_graphs(), K=st.integers(0, 3), weighted=st.booleans())
def test_diffusion_matches_dense_formula(mode, g, K, weighted):
    torch.manual_seed(K)
    conv = DiffusionConv(4, K=K, out_channels=3 if mode == "sum" else None, mode=mode).double()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    px = dense_powers(g.x, g.edge_index, w, K)
    if mode == "dcnn":   # Z[v, k, f] = tanh(W[k, f] (P^k X)[v, f] + b[k, f])
        expected = torch.cat([torch.tanh(conv.weight[k] * px[k] + conv.bias[k]) for k in range(K + 1)], 1)
    else:                # h = sum_k tanh(P^k X W_k + b_k)
        expected = sum(torch.tanh(px[k] @ conv.weight[k] + conv.bias[k]) for k in range(K + 1))
    torch.testing.assert_close(conv(g.x, g.edge_index, w), expected)


def test_diffusion_rejects_bad_options():
    with pytest.raises(ValueError, match="mode must be one of .*'dcnn', 'sum'.*got 'mean'"):
        DiffusionConv(2, K=1, mode="mean")
    with pytest.raises(ValueError, match="K must be >= 0"):
        DiffusionConv(2, K=-1)
    with pytest.raises(ValueError, match=r"mode='sum'\) needs out_channels"):
        DiffusionConv(2, K=1, mode="sum")
    with pytest.raises(ValueError, match=r"outputs \(K\+1\) \* in_channels = 4 features \(got out_channels=3\)"):
        DiffusionConv(2, K=1, out_channels=3)


def test_diffusion_rejects_wrong_feature_width_and_edge_weight_shape():
    with pytest.raises(ValueError, match=r"DiffusionConv expects x of shape \[N, 2\] \(got \[3, 1\]\)"):
        DiffusionConv(2, K=1)(X3, E3)
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E\] = \[3\]"):
        DiffusionConv(1, K=1).double()(X3, E3, torch.ones(2, dtype=torch.float64))
