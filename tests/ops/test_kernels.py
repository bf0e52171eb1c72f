"""Each kernel against its plain reference (output and gradients) on random graphs with isolated
nodes, self loops and duplicate edges (tests.strategies.small_graphs), plus hand-computed cases."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.ops import kernels
from tests.strategies import small_graphs


def _grads(out, inputs, upstream):
    return torch.autograd.grad(out, inputs, upstream, allow_unused=True, retain_graph=True)


# ------------------------------------------------------------------ spmm
def test_spmm_hand_computed():
    # edges 0->2 (w=2), 1->2 (w=3), 2->0 (w=1); x = [[1], [10], [100]]
    adj = ops.SparseAdj(torch.tensor([[0, 1, 2], [2, 2, 0]]), 3, torch.tensor([2.0, 3.0, 1.0]))
    x = torch.tensor([[1.0], [10.0], [100.0]])
    assert ops.spmm(adj, x).view(-1).tolist() == [100.0, 0.0, 32.0]          # 2*1 + 3*10 = 32
    assert ops.spmm(adj, x, "mean").view(-1).tolist() == [100.0, 0.0, 16.0]


@given(g=small_graphs(), reduce=st.sampled_from(["sum", "mean"]), weighted=st.booleans(),
       order=st.sampled_from(["input", "by_source"]))
def test_spmm_equals_its_reference_with_gradients(g, reduce, weighted, order):
    ei = g.edge_index
    if order == "by_source":                                            # the by-source construction path
        ei = ei[:, torch.argsort(ei[0] * g.num_nodes + ei[1], stable=True)]
    w = (torch.rand(g.num_edges, dtype=torch.float64) + 0.5).requires_grad_() if weighted else None
    x = g.x.clone().requires_grad_()
    adj = ops.SparseAdj(ei, g.num_nodes, w)
    upstream = torch.randn(g.num_nodes, x.size(1), dtype=torch.float64)
    out, ref = ops.spmm(adj, x, reduce), kernels.spmm_reference(adj, x, reduce)
    torch.testing.assert_close(out, ref)
    inputs = (x, w) if weighted else (x,)
    for got, expected in zip(_grads(out, inputs, upstream), _grads(ref, inputs, upstream)):
        torch.testing.assert_close(got, expected)


@given(g=small_graphs(), reduce=st.sampled_from(["sum", "mean"]), weighted=st.booleans())
def test_spmm_equals_dense_product(g, reduce, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) if weighted else None
    adj = ops.SparseAdj(g.edge_index, g.num_nodes, w)
    expected = ops.dense_adjacency(g.edge_index, g.num_nodes, w, dtype=torch.float64) @ g.x
    if reduce == "mean":
        expected = expected / torch.bincount(g.edge_index[1], minlength=g.num_nodes).clamp(min=1).unsqueeze(-1)
    torch.testing.assert_close(ops.spmm(adj, g.x, reduce), expected)


def test_spmm_gradcheck_for_features_and_weights():
    ei = torch.tensor([[0, 1, 2, 2, 3, 3], [1, 2, 0, 1, 1, 3]])               # a self loop, node 4 isolated
    w = torch.rand(6, dtype=torch.float64, requires_grad=True)
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda w, x: ops.spmm(ops.SparseAdj(ei, 5, w), x), (w, x))


def test_spmm_keeps_extra_feature_dimensions_and_1d_inputs():
    adj = ops.SparseAdj(torch.tensor([[0, 1], [1, 1]]), 2)
    x = torch.arange(12, dtype=torch.float64).view(2, 3, 2)
    torch.testing.assert_close(ops.spmm(adj, x), kernels.spmm_reference(adj, x))
    assert ops.spmm(adj, torch.tensor([1.0, 10.0])).tolist() == [0.0, 11.0]


def test_spmm_errors():
    adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match=r"spmm reduce must be 'sum' or 'mean' \(got 'max'\)"):
        ops.spmm(adj, torch.randn(2, 2), "max")
    with pytest.raises(ValueError, match=r"x has 3 rows but the adjacency has 2 nodes"):
        ops.spmm(adj, torch.randn(3, 2))
    with pytest.raises(TypeError, match=r"spmm takes a SparseAdj \(got Tensor\); build it with ops.as_adj"):
        ops.spmm(torch.tensor([[0], [1]]), torch.randn(2, 2))


# ------------------------------------------------------------------ spmm_heads
def test_spmm_heads_hand_computed():
    # edges 0->2, 1->2; head 0 weights (0.25, 0.75), head 1 weights (1, 2); x[u, k] = [u + 1 + 10k]
    adj = ops.SparseAdj(torch.tensor([[0, 1], [2, 2]]), 3)
    alpha = torch.tensor([[0.25, 1.0], [0.75, 2.0]])
    x = torch.tensor([[[1.0], [11.0]], [[2.0], [12.0]], [[3.0], [13.0]]])  # [N=3, H=2, C=1]
    out = ops.spmm_heads(adj, alpha, x)
    assert out[2].view(-1).tolist() == [0.25 * 1 + 0.75 * 2, 1 * 11 + 2 * 12]   # 1.75, 35
    assert out[:2].abs().sum().item() == 0.0                            # no in-edges: 0


@given(g=small_graphs(), heads=st.integers(1, 3), channels=st.integers(1, 3), looped=st.booleans())
def test_spmm_heads_equals_its_reference_with_gradients(g, heads, channels, looped):
    adj = ops.SparseAdj(g.edge_index, g.num_nodes)
    adj = adj.with_self_loops() if looped else adj
    gen = torch.Generator().manual_seed(g.num_edges)
    alpha = torch.rand(adj.num_edges, heads, generator=gen, dtype=torch.float64).requires_grad_()
    x = torch.randn(g.num_nodes, heads, channels, generator=gen, dtype=torch.float64).requires_grad_()
    upstream = torch.randn(g.num_nodes, heads, channels, generator=gen, dtype=torch.float64)
    out, ref = ops.spmm_heads(adj, alpha, x), kernels.spmm_heads_reference(adj, alpha, x)
    torch.testing.assert_close(out, ref)
    for got, expected in zip(_grads(out, (alpha, x), upstream), _grads(ref, (alpha, x), upstream)):
        torch.testing.assert_close(got, expected)


@given(g=small_graphs(), heads=st.integers(1, 3), looped=st.booleans())
def test_spmm_heads_on_a_symmetric_pattern_shares_its_block_indices_and_equals_its_reference(g, heads, looped):
    # an undirected graph stored both ways, sorted by source (as PyG and the Planetoid files store it):
    # the transposed blocks reuse the forward blocks' rows and columns, and only their order differs
    ei = torch.cat([g.edge_index, g.edge_index.flip(0)], 1).unique(dim=1)   # sorted by (src, dst)
    adj = ops.SparseAdj(ei, g.num_nodes)
    adj = adj.with_self_loops() if looped else adj
    assert adj.symmetric
    (rowptr, col, _), (rowptr_t, col_t, _), duplicates = kernels._head_blocks(adj, heads)
    assert rowptr_t is rowptr and col_t is col and not duplicates
    gen = torch.Generator().manual_seed(adj.num_edges)
    alpha = torch.rand(adj.num_edges, heads, generator=gen, dtype=torch.float64).requires_grad_()
    x = torch.randn(g.num_nodes, heads, 2, generator=gen, dtype=torch.float64).requires_grad_()
    upstream = torch.randn(g.num_nodes, heads, 2, generator=gen, dtype=torch.float64)
    out, ref = ops.spmm_heads(adj, alpha, x), kernels.spmm_heads_reference(adj, alpha, x)
    torch.testing.assert_close(out, ref)
    for got, expected in zip(_grads(out, (alpha, x), upstream), _grads(ref, (alpha, x), upstream)):
        torch.testing.assert_close(got, expected)


def test_spmm_heads_gradcheck():
    adj = ops.SparseAdj(torch.tensor([[0, 1, 2, 2], [1, 2, 2, 0]]), 4)       # a self loop, node 3 isolated
    alpha = torch.rand(4, 2, dtype=torch.float64, requires_grad=True)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, h: ops.spmm_heads(adj, a, h), (alpha, x))


def test_spmm_heads_errors():
    adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match=r"alpha of shape \[E, H\] = \[1, 2\] in the adjacency's edge order"):
        ops.spmm_heads(adj, torch.rand(2, 2), torch.randn(2, 2, 4))
    with pytest.raises(ValueError, match=r"x of shape \[N, H, C\] with N = 2 \(got \[2, 8\]\)"):
        ops.spmm_heads(adj, torch.rand(1, 2), torch.randn(2, 8))


# ------------------------------------------------------------------ matmul (sparse features)
@pytest.mark.parametrize("layout", ["csr", "coo"])
def test_matmul_of_sparse_features_equals_its_dense_reference_with_the_weight_gradient(layout):
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(30, 20, generator=gen) < 0.1).double() * torch.rand(30, 20, generator=gen, dtype=torch.float64)
    x[3] = 0                                                          # an empty row
    xs = x.to_sparse_csr() if layout == "csr" else x.to_sparse()
    w = torch.randn(20, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(30, 5, generator=gen, dtype=torch.float64)
    out, ref = ops.matmul(xs, w), kernels.matmul_reference(xs, w)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(_grads(out, (w,), grad)[0], _grads(ref, (w,), grad)[0])
    assert torch.autograd.gradcheck(lambda weight: ops.matmul(xs, weight), (w,))


def test_matmul_of_dense_features_is_the_plain_product():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ops.matmul, (x, w))
    torch.testing.assert_close(ops.matmul(x, w), x @ w)


def test_matmul_refuses_sparse_features_that_require_grad():
    x = torch.eye(3).to_sparse_csr().requires_grad_()
    with pytest.raises(ValueError, match="sparse x with requires_grad=True is not supported"):
        ops.matmul(x, torch.randn(3, 2))
