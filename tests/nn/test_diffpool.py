import math

import pytest
import torch
from hypothesis import given, strategies as st
from torch import nn

from gnnkit import Batch, Graph, ops
from gnnkit.nn import DenseSAGEConv, DiffPool, diff_pool, metis_assignment
from gnnkit.nn.diffpool import entropy_loss, link_prediction_loss
from tests.strategies import small_graphs


def _padded(sizes, f=3, k=2, seed=0):
    """A padded batch of random undirected graphs of the given sizes, with a random S (rows sum to 1)."""
    gen = torch.Generator().manual_seed(seed)
    B, N = len(sizes), max(sizes)
    x = torch.zeros(B, N, f, dtype=torch.float64)
    adj = torch.zeros(B, N, N, dtype=torch.float64)
    mask = torch.zeros(B, N, dtype=torch.bool)
    for b, n in enumerate(sizes):
        x[b, :n] = torch.randn(n, f, generator=gen, dtype=torch.float64)
        a = (torch.rand(n, n, generator=gen) < 0.5).double().triu(1)
        adj[b, :n, :n] = a + a.t()
        mask[b, :n] = True
    s = torch.softmax(torch.randn(B, N, k, generator=gen, dtype=torch.float64), -1) * mask.unsqueeze(-1)
    return x, adj, mask, s


def test_diff_pool_equals_per_graph_dense_computation_for_different_sizes():
    z, adj, mask, s = _padded([2, 5, 3], k=3)
    x_out, adj_out, _ = diff_pool(z, adj, s, mask, link_loss=None, entropy=False)
    for b, n in enumerate([2, 5, 3]):
        sb, zb, ab = s[b, :n], z[b, :n], adj[b, :n, :n]
        torch.testing.assert_close(x_out[b], sb.t() @ zb)                   # X' = S^T Z
        torch.testing.assert_close(adj_out[b], sb.t() @ ab @ sb)            # A' = S^T A S


def test_padded_nodes_change_nothing():
    z, adj, mask, s = _padded([2, 4], k=2)
    ref = diff_pool(z, adj, s, mask, "frobenius", True)
    # garbage in the padded rows/columns of every input: same outputs, same loss
    z2, adj2, s2 = z.clone(), adj.clone(), s.clone()
    z2[0, 2:] = 7.0
    adj2[0, 2:, :] = 3.0
    adj2[0, :, 2:] = 3.0
    s2[0, 2:] = torch.tensor([0.9, 0.1], dtype=torch.float64)
    out = diff_pool(z2, adj2 * mask.unsqueeze(-1) * mask.unsqueeze(-2), s2, mask, "frobenius", True)
    for a, b in zip(ref, out):
        torch.testing.assert_close(a, b)
    # and the layer gives padded nodes zero assignment
    layer = DiffPool(DenseSAGEConv(3, 4).double(), DenseSAGEConv(3, 2).double())
    _, _, s_layer, _ = layer(z2, adj, mask)
    assert float(s_layer[0, 2:].detach().abs().sum()) == 0.0
    torch.testing.assert_close(s_layer[1].sum(-1), torch.ones(4, dtype=torch.float64))


def test_link_loss_is_frobenius_norm_over_real_entries():
    z, adj, mask, s = _padded([3, 4], k=2)
    got = link_prediction_loss(adj, s, mask, "frobenius")
    # ||A - S S^T||_F over both graphs as one matrix, divided by the code's num_entries = 3^2 + 4^2
    sq = sum(float(((adj[b, :n, :n] - s[b, :n] @ s[b, :n].t()) ** 2).sum()) for b, n in enumerate([3, 4]))
    assert math.isclose(float(got), math.sqrt(sq) / 25, rel_tol=1e-12)


def test_link_loss_bce_matches_the_released_code_formula():
    # RexYing/diffpool encoders.py: pred = min(S S^T, 1); -A log(pred + eps) - (1 - A) log(1 - pred + eps),
    # padded pairs set to 0, summed, divided by sum(n_b^2).  One graph, hand-computed:
    # S = [[1, 0], [0.5, 0.5]] -> S S^T = [[1, .5], [.5, .5]], A = [[0, 1], [1, 0]]
    s = torch.tensor([[[1.0, 0.0], [0.5, 0.5], [0.0, 0.0]]], dtype=torch.float64)
    adj = torch.tensor([[[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False]])
    eps = 1e-7
    terms = [-math.log(1 - 1 + eps), -math.log(0.5 + eps), -math.log(0.5 + eps), -math.log(1 - 0.5 + eps)]
    expected = sum(terms) / 4
    assert math.isclose(float(link_prediction_loss(adj, s, mask, "bce")), expected, rel_tol=1e-12)


def test_entropy_is_zero_for_one_hot_and_log_k_for_uniform():
    s = torch.eye(3, dtype=torch.float64).unsqueeze(0)                     # [1, 3, 3] one-hot
    assert float(entropy_loss(s)) == pytest.approx(0.0, abs=1e-12)
    u = torch.full((2, 4, 5), 0.2, dtype=torch.float64)
    mask = torch.tensor([[True] * 4, [True, True, False, False]])
    assert float(entropy_loss(u * mask.unsqueeze(-1), mask)) == pytest.approx(math.log(5), rel=1e-12)


def test_dense_sage_matches_the_formula_by_hand():
    # path 0 - 1 - 2, x = [1, 2, 4], weights 1: h_v = x_v + 10 * mean(neighbours)
    conv = DenseSAGEConv(1, 1, bias=False).double()
    with torch.no_grad():
        conv.lin_self.weight.fill_(1.0)
        conv.lin_neigh.weight.fill_(10.0)
    x = torch.tensor([[[1.0], [2.0], [4.0]]], dtype=torch.float64)
    adj = torch.tensor([[[0, 1, 0], [1, 0, 1], [0, 1, 0]]], dtype=torch.float64)
    out = conv(x, adj)
    torch.testing.assert_close(out.view(-1), torch.tensor([1 + 20, 2 + 25, 4 + 20], dtype=torch.float64))


@given(g=small_graphs(min_nodes=2, max_nodes=9, undirected=True, num_features=3), seed=st.integers(0, 2**16))
def test_diffpool_is_permutation_invariant_at_graph_level(g, seed):
    torch.manual_seed(0)
    layer = DiffPool(DenseSAGEConv(3, 4, normalize=True), DenseSAGEConv(3, 3), link_loss="bce").double()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel())
    gp = Graph(x=g.x[perm], edge_index=inv[g.edge_index], num_nodes=g.num_nodes)
    outs = []
    for one in (g, gp):
        b = Batch.from_graphs([one])
        x, mask = ops.to_dense_batch(b.x, b.batch, 1)
        adj = ops.to_dense_adj(b.edge_index, b.batch, 1, dtype=torch.float64)
        outs.append(layer(x, adj, mask))
    (x1, a1, s1, l1), (x2, a2, s2, l2) = outs
    torch.testing.assert_close(x1, x2)
    torch.testing.assert_close(a1, a2)
    torch.testing.assert_close(l1, l2)
    torch.testing.assert_close(s2[0], s1[0, perm])                         # S is permuted with the nodes


def test_diffpool_gradients_reach_both_gnns():
    z, adj, mask, _ = _padded([3, 5])
    layer = DiffPool(DenseSAGEConv(3, 4), DenseSAGEConv(3, 2)).double()
    x_out, adj_out, _, aux = layer(z, adj, mask)
    (x_out.sum() + adj_out.sum() + aux).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in layer.parameters())


def test_metis_assignment_is_one_hot_deterministic_and_zero_on_padding():
    _, adj, mask, _ = _padded([6, 9, 1], seed=3)
    s = metis_assignment(adj, mask, 3)
    assert s.shape == (3, 9, 3)
    torch.testing.assert_close(s.sum(-1), mask.double())                   # one cluster per real node
    torch.testing.assert_close(metis_assignment(adj, mask, 3), s)


def test_diffpool_errors_say_what_to_do():
    with pytest.raises(ValueError, match="link_loss must be one of"):
        DiffPool(nn.Identity(), nn.Identity(), link_loss="l2")
    with pytest.raises(ValueError, match="padded dense"):
        DiffPool(nn.Identity(), nn.Identity())(torch.ones(4, 3), torch.ones(4, 4))
    with pytest.raises(ValueError, match=r"adj must have shape \[B, N_max, N_max\]"):
        diff_pool(torch.ones(1, 3, 2), torch.ones(1, 2, 2), torch.ones(1, 3, 1))
    with pytest.raises(ValueError, match="expects 5 input features"):
        DenseSAGEConv(5, 2)(torch.ones(1, 2, 3), torch.ones(1, 2, 2))
