"""GATConv: a hand-computed case, a dense float64 reference of the attention
equation (heads, concat/mean, self loops, repeated edges), returned attention,
attention dropout, the custom SpMM backward, and errors."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import GATConv
from tests.strategies import small_graphs


def test_gat_hand_computed():
    # F_in = F_out = 1, one head, W = 1, a_src = 1, a_dst = 0, so e_uv = LeakyReLU(h_u).
    # x = [-1, 2, 3]; edges 0 -> 1, 2 -> 1, plus self loops.
    # node 1 attends over u = 0, 1, 2 with scores -0.2 (0.2 * -1), 2, 3:
    #   h_1' = (e^-0.2 * -1 + e^2 * 2 + e^3 * 3) / (e^-0.2 + e^2 + e^3)
    # nodes 0 and 2 see only themselves: h_0' = -1, h_2' = 3.
    conv = GATConv(1, 1, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
        conv.att_src.fill_(1.0)
        conv.att_dst.fill_(0.0)
    x = torch.tensor([[-1.0], [2.0], [3.0]], dtype=torch.float64)
    out = conv(x, torch.tensor([[0, 2], [1, 1]]))
    z = math.exp(-0.2) + math.exp(2) + math.exp(3)
    h1 = (-math.exp(-0.2) + 2 * math.exp(2) + 3 * math.exp(3)) / z
    torch.testing.assert_close(out, torch.tensor([[-1.0], [h1], [3.0]], dtype=torch.float64))


# ------------------------------------------------------------------ dense reference
def dense_gat(conv, x, edge_index):
    """Per head k: S[v, u] = LeakyReLU(a_dst . W_k h_v + a_src . W_k h_u); alpha[v, u] = softmax over the
    multiset of in-neighbours (M[v, u] copies of u); out = concat_k / mean_k (M * alpha) W_k h + b."""
    n, H, C = x.size(0), conv.heads, conv.out_channels
    if conv.add_self_loops:
        keep = edge_index[0] != edge_index[1]
        edge_index = torch.cat([edge_index[:, keep], torch.arange(n).repeat(2, 1)], 1)
    M = ops.dense_adjacency(edge_index, n, dtype=torch.float64)                # M[v, u] = #edges u -> v
    wh = (x @ conv.weight).view(n, H, C)
    outs, alphas = [], []
    for k in range(H):
        s_dst = wh[:, k] @ conv.att_dst[k]
        s_src = wh[:, k] @ conv.att_src[k]
        S = torch.nn.functional.leaky_relu(s_dst.unsqueeze(1) + s_src.unsqueeze(0), conv.negative_slope)
        w = torch.exp(S - S.max())
        alpha = w / (M * w).sum(1, keepdim=True).clamp_min(1e-300)              # the share of one edge u -> v
        alphas.append(alpha)
        outs.append((M * alpha) @ wh[:, k])                                     # rows without edges: 0
    h = torch.stack(outs, 1)
    h = h.reshape(n, H * C) if conv.concat else h.mean(1)
    return h + conv.bias, alphas


@pytest.mark.parametrize("concat", [True, False])
@pytest.mark.parametrize("add_self_loops", [True, False])
@given(g=small_graphs(), heads=st.integers(1, 3))
def test_gat_matches_dense_formula(concat, add_self_loops, g, heads):
    torch.manual_seed(heads)
    conv = GATConv(4, 3, heads=heads, concat=concat, add_self_loops=add_self_loops).double()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    ref, ref_alpha = dense_gat(conv, g.x, g.edge_index)
    for graph in (g.edge_index, g.adj()):          # structure built from the edge list, and given
        out, (edges, alpha) = conv(g.x, graph, return_attention_weights=True)
        torch.testing.assert_close(out, ref)
        # every returned coefficient is the dense alpha[v, u] of one edge u -> v
        for k in range(heads):
            torch.testing.assert_close(alpha[:, k], ref_alpha[k][edges[1], edges[0]])


@given(g=small_graphs(min_nodes=2))
def test_gat_attention_sums_to_one_over_each_neighbourhood(g):
    conv = GATConv(4, 2, heads=2).double()
    _, (edges, alpha) = conv(g.x, g.edge_index, return_attention_weights=True)
    assert edges.size(1) == (g.edge_index[0] != g.edge_index[1]).sum() + g.num_nodes   # loops: one per node
    total = ops.scatter(alpha, edges[1], g.num_nodes, "sum")
    torch.testing.assert_close(total, torch.ones(g.num_nodes, 2, dtype=torch.float64))


def test_gat_attention_dropout_only_in_training():
    torch.manual_seed(0)
    conv = GATConv(4, 4, heads=2, dropout=0.5).double()
    x = torch.randn(6, 4, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 0, 2], [1, 2, 3, 4, 5, 0, 3, 5]])
    conv.eval()
    torch.testing.assert_close(conv(x, edge_index), conv(x, edge_index))
    conv.train()
    torch.manual_seed(1)
    a = conv(x, edge_index)
    torch.manual_seed(2)
    b = conv(x, edge_index)
    assert not torch.allclose(a, b)
    assert not torch.allclose(a, conv.eval()(x, edge_index))


@pytest.mark.parametrize("cached", [True, False])
def test_gat_backward_matches_autograd_of_the_dense_formula(cached):
    torch.manual_seed(0)
    conv = GATConv(3, 2, heads=2).double()
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 0, 0], [1, 2, 3, 4, 0, 2, 2]])
    graph = ops.SparseAdj(edge_index, 5) if cached else edge_index      # both take the custom SpMM backward
    assert torch.autograd.gradcheck(lambda x_: conv(x_, graph), (x,))
    inputs = [x] + list(conv.parameters())
    g = torch.randn(5, 4, dtype=torch.float64)
    grads = torch.autograd.grad(conv(x, graph), inputs, g)
    ref_grads = torch.autograd.grad(dense_gat(conv, x, edge_index)[0], inputs, g)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want)


# ------------------------------------------------------------------ errors
@given(g=small_graphs(), heads=st.integers(1, 3), add_self_loops=st.booleans())
def test_gat_spmm_heads_step_equals_its_message_passing_reference(g, heads, add_self_loops):
    # forward's ops.spmm_heads against self.propagate with GATConv.message (gather, scale, scatter),
    # on the same attention coefficients; gradients for the coefficients and for W h included.
    conv = GATConv(4, 3, heads=heads, add_self_loops=add_self_loops).double()
    _, (edges, alpha) = conv(g.x, g.edge_index, return_attention_weights=True)
    adj = ops.as_adj(g.edge_index, g.num_nodes)
    adj = adj.cached("gat_self_loops", lambda a: a.with_weight(None).with_self_loops()) if add_self_loops else adj
    assert torch.equal(edges, adj.edge_index)                           # alpha is in the adjacency's order
    alpha = alpha.detach().requires_grad_()
    wh = torch.randn(g.num_nodes, heads, 3, dtype=torch.float64, requires_grad=True)
    fast = ops.spmm_heads(adj, alpha, wh)
    reference = conv.propagate(adj, wh, alpha=alpha, edge_order="adjacency")
    torch.testing.assert_close(fast, reference)
    upstream = torch.randn_like(fast)
    for a, b in zip(torch.autograd.grad(fast, (alpha, wh), upstream), torch.autograd.grad(reference, (alpha, wh), upstream)):
        torch.testing.assert_close(a, b)


def test_gat_rejects_zero_heads():
    with pytest.raises(ValueError, match="heads must be >= 1"):
        GATConv(2, 2, heads=0)


def test_gat_rejects_dropout_of_one():
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        GATConv(2, 2, dropout=1.0)


def test_gat_rejects_wrong_feature_width():
    with pytest.raises(ValueError, match=r"GATConv expects x of shape \[N, 2\] \(got \[3, 5\]\)"):
        GATConv(2, 2)(torch.randn(3, 5), torch.tensor([[0], [1]]))


def test_gat_rejects_sparse_adj_of_another_graph():
    g_adj = ops.SparseAdj(torch.tensor([[0], [1]]), 4)
    with pytest.raises(ValueError, match="adjacency has 4 nodes but x has 3 rows"):
        GATConv(2, 2)(torch.randn(3, 2), g_adj)
