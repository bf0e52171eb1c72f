import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from tests.strategies import small_graphs


def dense_reduce(src, index, n, reduce):
    """Loop reference: reduce rows of src per group; empty groups give 0."""
    out = torch.zeros((n,) + tuple(src.shape[1:]), dtype=src.dtype)
    for i in range(n):
        rows = src[index == i]
        if rows.numel() == 0:
            continue
        out[i] = {"sum": rows.sum(0), "mean": rows.mean(0), "max": rows.max(0).values,
                  "min": rows.min(0).values}[reduce]
    return out


def test_scatter_hand_computed():
    src = torch.tensor([1.0, 2.0, 4.0, -3.0])
    index = torch.tensor([0, 0, 2, 2])
    assert ops.scatter(src, index, 4, "sum").tolist() == [3.0, 0.0, 1.0, 0.0]
    assert ops.scatter(src, index, 4, "mean").tolist() == [1.5, 0.0, 0.5, 0.0]
    assert ops.scatter(src, index, 4, "max").tolist() == [2.0, 0.0, 4.0, 0.0]
    assert ops.scatter(src, index, 4, "min").tolist() == [1.0, 0.0, -3.0, 0.0]


@given(g=small_graphs(), reduce=st.sampled_from(ops.REDUCTIONS))
def test_scatter_equals_dense_reference(g, reduce):
    src, dst = g.edge_index
    messages = g.x[src]
    out = ops.scatter(messages, dst, g.num_nodes, reduce)
    torch.testing.assert_close(out, dense_reduce(messages, dst, g.num_nodes, reduce))
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("reduce", ops.REDUCTIONS)
def test_scatter_empty_neighbourhood_is_zero_not_nan(reduce):
    out = ops.scatter(torch.empty(0, 3), torch.empty(0, dtype=torch.long), 2, reduce)
    assert out.tolist() == [[0.0] * 3] * 2


@pytest.mark.parametrize("reduce", ops.REDUCTIONS)
def test_scatter_is_differentiable(reduce):
    src = torch.randn(6, 2, dtype=torch.float64, requires_grad=True)
    index = torch.tensor([0, 1, 1, 2, 2, 2])
    torch.autograd.gradcheck(lambda s: ops.scatter(s, index, 4, reduce), (src,))


def test_scatter_rejects_unknown_reduce():
    with pytest.raises(ValueError, match=r"reduce must be one of .* \(got 'avg'\)"):
        ops.scatter(torch.randn(2), torch.tensor([0, 1]), 2, "avg")


def test_scatter_rejects_index_of_wrong_length():
    with pytest.raises(ValueError, match=r"src has 3 rows, index shape \[2\]"):
        ops.scatter(torch.randn(3), torch.tensor([0, 1]), 2)


def test_segment_reduces_contiguous_blocks_and_empty_segments():
    src = torch.tensor([[1.0], [2.0], [3.0]])
    ptr = torch.tensor([0, 2, 2, 3])
    assert ops.segment(src, ptr, "sum").view(-1).tolist() == [3.0, 0.0, 3.0]
    assert ops.segment(src, ptr, "max").view(-1).tolist() == [2.0, 0.0, 3.0]
    assert ops.segment(src, ptr, "mean").view(-1).tolist() == [1.5, 0.0, 3.0]
    assert ops.segment(-src, ptr, "min").view(-1).tolist() == [-2.0, 0.0, -3.0]


@given(g=small_graphs(), reduce=st.sampled_from(["sum", "mean", "max", "min"]), width=st.integers(1, 3))
def test_segment_over_a_sorted_adjacency_equals_scatter(g, reduce, width):
    adj = ops.SparseAdj(g.edge_index, g.num_nodes)                   # messages in adj order: sorted by dst
    msg = torch.randn(adj.num_edges, width, dtype=torch.float64).round().requires_grad_()   # ties likely
    upstream = torch.randn(g.num_nodes, width, dtype=torch.float64)
    got = ops.segment(msg, adj.rowptr, reduce)
    want = ops.scatter(msg, adj.dst, g.num_nodes, reduce)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(torch.autograd.grad(got, msg, upstream)[0],
                               torch.autograd.grad(want, msg, upstream)[0])


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_and_min_give_the_whole_gradient_to_an_extreme_of_zero(reduce):
    # group 0 holds [0, -1] (max 0) or [0, 1] (min 0): d out_0 / d src = [1, 0]; group 1 is empty.
    src = torch.tensor([[0.0], [-1.0 if reduce == "max" else 1.0]], dtype=torch.float64, requires_grad=True)
    for out in (ops.scatter(src, torch.tensor([0, 0]), 2, reduce), ops.segment(src, torch.tensor([0, 2, 2]), reduce)):
        assert out.flatten().tolist() == [0.0, 0.0]
        assert torch.autograd.grad(out.sum(), src)[0].flatten().tolist() == [1.0, 0.0]
    assert ops.scatter(torch.tensor([3, -2]), torch.tensor([1, 1]), 3, reduce).tolist() == (
        [0, 3, 0] if reduce == "max" else [0, -2, 0])                # integer values, empty groups 0


def test_segment_max_shares_a_negative_gradient_among_ties():
    # [-1, 0, 0] has max 0 twice: upstream -1 gives each tied row -1/2 (torch.segment_reduce's own
    # backward gave each -1).
    src = torch.tensor([[-1.0], [0.0], [0.0]], dtype=torch.float64, requires_grad=True)
    out = ops.segment(src, torch.tensor([0, 0, 3]), "max")
    grad, = torch.autograd.grad(out, src, torch.tensor([[5.0], [-1.0]], dtype=torch.float64))
    assert grad.flatten().tolist() == [0.0, -0.5, -0.5]


def test_segment_rejects_a_ptr_that_does_not_cover_src():
    with pytest.raises(ValueError, match=r"ptr must run from 0 to src.size\(0\) = 3 \(got 0 to 2\)"):
        ops.segment(torch.ones(3, 1), torch.tensor([0, 2]), "sum")


@given(g=small_graphs(), heads=st.integers(1, 3))
def test_edge_softmax_sums_to_one_per_target(g, heads):
    src, dst = g.edge_index
    scores = torch.randn(g.num_edges, heads, dtype=torch.float64) * 10
    alpha = ops.edge_softmax(scores, dst, g.num_nodes)
    totals = ops.scatter(alpha, dst, g.num_nodes, "sum")
    has_in = torch.bincount(dst, minlength=g.num_nodes) > 0
    torch.testing.assert_close(totals[has_in], torch.ones_like(totals[has_in]))
    assert (alpha >= 0).all()


def test_edge_softmax_hand_computed():
    # node 2 receives scores 0 and ln 3 -> weights 1/4, 3/4
    alpha = ops.edge_softmax(torch.tensor([0.0, torch.log(torch.tensor(3.0))]), torch.tensor([2, 2]), 3)
    torch.testing.assert_close(alpha, torch.tensor([0.25, 0.75]))


@given(g=small_graphs(), heads=st.integers(1, 3), flat=st.booleans())
def test_edge_softmax_on_sorted_edges_equals_the_scatter_form(g, heads, flat):
    adj = ops.SparseAdj(g.edge_index, g.num_nodes)                   # edges sorted by target, with rowptr
    shape = (adj.num_edges,) if flat else (adj.num_edges, heads)
    scores = (torch.randn(shape, dtype=torch.float64) * 10).requires_grad_()
    upstream = torch.randn(shape, dtype=torch.float64)
    fast = ops.edge_softmax(scores, adj.dst, g.num_nodes, adj.rowptr)
    reference = ops.edge_softmax(scores, adj.dst, g.num_nodes)
    torch.testing.assert_close(fast, reference)
    grad_fast, = torch.autograd.grad(fast, scores, upstream)
    grad_ref, = torch.autograd.grad(reference, scores, upstream)
    torch.testing.assert_close(grad_fast, grad_ref)


def test_edge_softmax_on_sorted_edges_gradcheck_and_hand_computed():
    # targets 0 (scores 0, ln 3), 1 (none), 2 (score 5): weights 1/4, 3/4 and 1
    rowptr, dst = torch.tensor([0, 2, 2, 3]), torch.tensor([0, 0, 2])
    scores = torch.tensor([0.0, torch.log(torch.tensor(3.0)), 5.0], dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(ops.edge_softmax(scores, dst, 3, rowptr),
                               torch.tensor([0.25, 0.75, 1.0], dtype=torch.float64))
    assert torch.autograd.gradcheck(lambda s: ops.edge_softmax(s, dst, 3, rowptr), (scores,))
    with pytest.raises(ValueError, match=r"rowptr must have N \+ 1 = 4 entries ending at E = 3"):
        ops.edge_softmax(scores, dst, 3, torch.tensor([0, 2, 3]))


# ------------------------------------------------------------ torch_scatter / PyG keyword form (issue 19)
def test_scatter_takes_torch_scatters_keywords():
    src, index = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), torch.tensor([0, 0, 2])
    kw = ops.scatter(src, index, dim=0, dim_size=4, reduce="sum")
    assert torch.equal(kw, ops.scatter(src, index, 4, "sum"))   # the positional form is the same call
    assert kw.tolist() == [[4.0, 6.0], [0.0, 0.0], [5.0, 6.0], [0.0, 0.0]]
    assert ops.scatter(src, index, reduce="add").shape == (3, 2)   # dim_size from index.max() + 1; 'add' = 'sum'


def test_scatter_along_another_dim_matches_the_transposed_call():
    src = torch.arange(12.0).view(2, 3, 2)
    index = torch.tensor([1, 0, 1])
    out = ops.scatter(src, index, dim=1, dim_size=2, reduce="max")
    ref = ops.scatter(src.transpose(0, 1), index, 2, "max").transpose(0, 1)
    assert out.shape == (2, 2, 2) and torch.equal(out, ref)
    assert torch.equal(ops.scatter(src, index, dim=-2, dim_size=2, reduce="max"), out)


def test_scatter_index_out_of_range_is_a_clear_error_not_a_torch_one():
    with pytest.raises(ValueError, match=r"index holds group id 5 but dim_size is 3"):
        ops.scatter(torch.ones(2), torch.tensor([0, 5]), 3)
    with pytest.raises(ValueError, match=r"positional third argument is dim_size: pass torch_scatter's dim as dim="):
        ops.scatter(torch.ones(2), torch.tensor([0, 1]), 0)   # torch_scatter's scatter(src, index, 0)
    with pytest.raises(ValueError, match="index must be an integer tensor"):
        ops.scatter(torch.ones(2), torch.tensor([0.0, 1.0]), 2)
