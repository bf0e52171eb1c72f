"""nn/temporal.py: gated temporal convolution (causal), graph convolution over time, ST-Conv block."""
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import ChebConv, GCNConv
from gnnkit.nn.temporal import NodeLayerNorm, STConvBlock, TemporalConv, graph_conv_over_time, repeat_adj
from tests.strategies import relabel, small_graphs

PATH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])   # 0 - 1 - 2, both directions


def test_temporal_conv_hand_computed_linear_and_glu():
    # One sensor, one channel, K_t = 2: out_j = w0 x_j + w1 x_{j+1} + b.
    conv = TemporalConv(1, 1, kernel_size=2, activation="linear").double()
    with torch.no_grad():
        conv.conv.weight.copy_(torch.tensor([[2.0, 3.0]], dtype=torch.float64))   # [w0, w1]
        conv.conv.bias.fill_(1.0)
    x = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64).view(1, 3, 1, 1)
    # j = 0: 2*1 + 3*2 + 1 = 9; j = 1: 2*2 + 3*4 + 1 = 17
    assert conv(x).view(-1).tolist() == [9.0, 17.0]

    glu = TemporalConv(1, 1, kernel_size=2, activation="glu").double()
    with torch.no_grad():
        glu.conv.weight.copy_(torch.tensor([[2.0, 3.0], [0.0, 0.0]], dtype=torch.float64))   # P row, Q row
        glu.conv.bias.copy_(torch.tensor([1.0, 0.0], dtype=torch.float64))
    # (P + x_{j+1}) * sigmoid(Q) with Q = 0: (9 + 2) / 2 = 5.5 and (17 + 4) / 2 = 10.5
    assert glu(x).view(-1).tolist() == [5.5, 10.5]


@pytest.mark.parametrize("activation", ["glu", "relu", "sigmoid", "linear"])
@pytest.mark.parametrize("c_in, c_out", [(1, 4), (4, 4), (6, 3)])
def test_temporal_conv_matches_conv2d_reference(activation, c_in, c_out):
    torch.manual_seed(0)
    conv = TemporalConv(c_in, c_out, kernel_size=3, activation=activation).double()
    x = torch.randn(2, 7, 5, c_in, dtype=torch.float64)                         # [B, T, N, C]
    width = conv.conv.out_features
    # Conv2d weight [out, in, K_t, 1] from the linear map over [K_t, C_in]-stacked steps
    w = conv.conv.weight.view(width, 3, c_in).permute(0, 2, 1).unsqueeze(-1)
    h = F.conv2d(x.permute(0, 3, 1, 2), w, conv.conv.bias)                     # [B, width, T', N]
    res = x[:, 2:].permute(0, 3, 1, 2)
    if c_in > c_out:
        res = F.conv2d(res, conv.align.weight.view(c_out, c_in, 1, 1))
    elif c_in < c_out:
        res = F.pad(res, (0, 0, 0, 0, 0, c_out - c_in))
    if activation == "glu":
        expected = (h[:, :c_out] + res) * torch.sigmoid(h[:, c_out:])
    elif activation == "relu":
        expected = torch.relu(h + res)
    elif activation == "sigmoid":
        expected = torch.sigmoid(h)
    else:
        expected = h
    torch.testing.assert_close(conv(x), expected.permute(0, 2, 3, 1))


@given(T=st.integers(3, 10), k=st.integers(1, 3), cut=st.integers(0, 9), seed=st.integers(0, 2**16))
def test_temporal_conv_is_causal(T, k, cut, seed):
    # Output step j stands for time j + K_t - 1; changing inputs after time `cut` leaves every
    # output at a time <= cut unchanged.
    cut = min(cut, T - 1)
    torch.manual_seed(seed)
    conv = TemporalConv(2, 3, kernel_size=k).double()
    x = torch.randn(2, T, 4, 2, dtype=torch.float64)
    x2 = x.clone()
    x2[:, cut + 1:] = torch.randn_like(x2[:, cut + 1:]) * 100
    out, out2 = conv(x), conv(x2)
    keep = cut - (k - 1) + 1                 # outputs j with j + k - 1 <= cut
    if keep > 0:
        torch.testing.assert_close(out[:, :keep], out2[:, :keep])
    if cut + 1 < T:                          # and the last output does see the change
        assert not torch.allclose(out[:, -1], out2[:, -1])


def test_st_conv_block_is_causal():
    torch.manual_seed(0)
    block = STConvBlock(1, 4, 8, kernel_size=3, K=2).double().eval()
    x = torch.randn(3, 9, 3, 1, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 7:] += 10.0                      # change times 7, 8
    out, out2 = block(x, PATH), block(x2, PATH)    # [3, 5, 3, 8]: output j stands for time j + 4
    torch.testing.assert_close(out[:, :3], out2[:, :3])   # times 4, 5, 6
    assert not torch.allclose(out[:, 3], out2[:, 3])


def test_repeat_adj_hand_computed_and_cached():
    adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2, torch.tensor([0.5]))
    rep = repeat_adj(adj, 3)
    assert rep.num_nodes == 6
    assert sorted(rep.edge_index.t().tolist()) == [[0, 1], [2, 3], [4, 5]]
    assert rep.weight.tolist() == [0.5, 0.5, 0.5]
    assert repeat_adj(adj, 3) is rep


@pytest.mark.parametrize("conv", [ChebConv(3, 2, K=3), GCNConv(3, 2)], ids=["cheb", "gcn"])
def test_graph_conv_over_time_equals_a_loop_over_windows_and_steps(conv):
    conv = conv.double()
    x = torch.randn(2, 4, 3, 3, dtype=torch.float64)
    weight = torch.tensor([1.0, 1.0, 2.0, 2.0], dtype=torch.float64)
    adj = ops.SparseAdj(PATH, 3, weight)
    out = graph_conv_over_time(conv, x, adj)
    expected = torch.stack([torch.stack([conv(x[b, t], PATH, weight) for t in range(4)]) for b in range(2)])
    torch.testing.assert_close(out, expected)


def test_node_layer_norm_matches_formula():
    torch.manual_seed(0)
    norm = NodeLayerNorm(4).double()
    with torch.no_grad():
        norm.weight.uniform_()
        norm.bias.uniform_()
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    mu = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    torch.testing.assert_close(norm(x), (x - mu) / torch.sqrt(var + 1e-6) * norm.weight + norm.bias)


@settings(max_examples=15)
@given(g=small_graphs(min_nodes=2, max_nodes=8, undirected=True, self_loops=False), seed=st.integers(0, 2**16),
       spatial=st.sampled_from(["cheb", "first"]))
def test_st_conv_block_is_permutation_equivariant(g, seed, spatial):
    torch.manual_seed(seed)
    block = STConvBlock(2, 3, 4, kernel_size=2, K=3, spatial=spatial).double().eval()
    x = torch.randn(2, 5, g.num_nodes, 2, dtype=torch.float64)
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    out = block(x, g.edge_index)
    out_p = block(x[:, :, perm], relabel(g.edge_index, perm))
    torch.testing.assert_close(out_p, out[:, :, perm])


def test_temporal_errors():
    with pytest.raises(ValueError, match="activation must be one of"):
        TemporalConv(1, 2, activation="tanh")
    with pytest.raises(ValueError, match="kernel_size must be >= 1"):
        TemporalConv(1, 2, kernel_size=0)
    with pytest.raises(ValueError, match=r"expects x of shape \[B, T, N, 3\]"):
        TemporalConv(3, 2)(torch.randn(2, 5, 4, 2))
    with pytest.raises(ValueError, match="the window has 2 steps but kernel_size is 3"):
        TemporalConv(1, 2, kernel_size=3)(torch.randn(1, 2, 4, 1))
    with pytest.raises(ValueError, match="spatial must be 'cheb'"):
        STConvBlock(1, 2, 4, spatial="gat")
    with pytest.raises(ValueError, match="copies must be >= 1"):
        repeat_adj(ops.SparseAdj(PATH, 3), 0)
