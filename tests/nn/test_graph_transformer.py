"""nn/graph_transformer.py: GraphTransformerConv against a dense formula, hand-computed cases,
permutation equivariance, edge order, edge features, errors."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit.nn.graph_transformer import GraphTransformerConv
from tests.strategies import relabel, small_graphs


def dense_reference(conv, x, edge_index, edge_attr=None):
    """Dense [N, N] attention per head: S[i, j] = q_i . (k_j + e_ij) / sqrt(d) where j -> i is an edge,
    softmax over each row's edges, h_i = sum_j alpha_ij (v_j + e_ij); no edge duplicates."""
    N, H, d = x.size(0), conv.heads, conv.out_channels
    q, k, v = (lin(x).view(N, H, d) for lin in (conv.lin_query, conv.lin_key, conv.lin_value))
    E = torch.zeros(N, N, H, d, dtype=x.dtype)
    A = torch.zeros(N, N, dtype=torch.bool)
    src, dst = edge_index
    A[dst, src] = True
    if edge_attr is not None:
        E[dst, src] = conv.lin_edge(edge_attr).view(-1, H, d)
    S = torch.einsum("ihd,ijhd->ijh", q, k[None] + E) / math.sqrt(d)        # [N, N, H]
    S = S.masked_fill(~A[..., None], -math.inf)
    alpha = torch.softmax(S, dim=1).nan_to_num(0.0)                         # rows without edges: 0
    h = torch.einsum("ijh,ijhd->ihd", alpha, v[None] + E)                   # [N, H, d]
    h = h.reshape(N, H * d) if conv.concat else h.mean(1)
    r = conv.lin_skip(x)
    if conv.lin_beta is None:
        return h + r
    beta = torch.sigmoid(conv.lin_beta(torch.cat([h, r, h - r], -1)))
    return (1 - beta) * h + beta * r


@pytest.mark.parametrize("concat,beta,edge_dim", [(True, False, None), (False, True, 3), (True, True, 2)])
def test_graph_transformer_conv_matches_dense_formula(concat, beta, edge_dim):
    torch.manual_seed(0)
    conv = GraphTransformerConv(5, 4, heads=3, concat=concat, beta=beta, edge_dim=edge_dim).double()
    edge_index = torch.tensor([[0, 1, 2, 3, 1, 0, 2], [1, 0, 1, 1, 2, 2, 2]])   # node 3 and 4 receive nothing
    x = torch.randn(5, 5, dtype=torch.float64)
    ea = torch.randn(7, edge_dim, dtype=torch.float64) if edge_dim else None
    out = conv(x, edge_index, ea)
    torch.testing.assert_close(out, dense_reference(conv, x, edge_index, ea))
    assert out.shape == (5, 12 if concat else 4)


def test_hand_computed_single_neighbour_and_isolated_node():
    """One incoming edge: alpha = 1, so h_i = v_j (+ skip); no incoming edge: h_i = 0 (+ skip)."""
    conv = GraphTransformerConv(2, 2, heads=1, root_weight=False).double()
    with torch.no_grad():
        conv.lin_value.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
        conv.lin_value.bias.zero_()
    x = torch.tensor([[1.0, 1.0], [4.0, 5.0]], dtype=torch.float64)
    out = conv(x, torch.tensor([[1], [0]]))            # edge 1 -> 0
    torch.testing.assert_close(out, torch.tensor([[8.0, 15.0], [0.0, 0.0]], dtype=torch.float64))
    assert conv.attention_weights.tolist() == [[1.0]]


@given(g=small_graphs(num_features=4), seed=st.integers(0, 2**16))
def test_graph_transformer_conv_is_permutation_equivariant(g, seed):
    torch.manual_seed(seed)
    conv = GraphTransformerConv(4, 3, heads=2, beta=True).double()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    out = conv(g.x, g.edge_index)
    out_p = conv(g.x[perm], relabel(g.edge_index, perm))
    torch.testing.assert_close(out_p, out[perm])


@given(g=small_graphs(num_features=4), seed=st.integers(0, 2**16))
def test_graph_transformer_conv_ignores_edge_order(g, seed):
    torch.manual_seed(seed)
    conv = GraphTransformerConv(4, 3, heads=2, edge_dim=2).double()
    ea = torch.randn(g.num_edges, 2, dtype=torch.float64)
    order = torch.randperm(g.num_edges, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(conv(g.x, g.edge_index[:, order], ea[order]), conv(g.x, g.edge_index, ea))


def test_zero_edges_and_gradients():
    conv = GraphTransformerConv(3, 2, heads=2)
    x = torch.randn(4, 3, requires_grad=True)
    out = conv(x, torch.empty(2, 0, dtype=torch.long))
    torch.testing.assert_close(out, conv.lin_skip(x))
    conv(x, torch.tensor([[0, 1], [1, 2]])).sum().backward()
    assert x.grad is not None and conv.lin_query.weight.grad is not None


def test_errors_say_what_to_fix():
    with pytest.raises(ValueError, match="pass root_weight=True, or beta=False"):
        GraphTransformerConv(3, 2, beta=True, root_weight=False)
    conv = GraphTransformerConv(3, 2, edge_dim=2)
    x = torch.randn(3, 3)
    with pytest.raises(ValueError, match="edge_attr must be given exactly when"):
        conv(x, torch.tensor([[0], [1]]))
    with pytest.raises(ValueError):
        conv(x, torch.tensor([[0, 5], [1, 1]]), torch.randn(2, 2))
