"""SparseAdj.from_csr: the lean adjacency of a CSR (int32 index, int64 edge arrays only on request),
held equal to the edge_index path it replaces for graphs too large for int64 edge arrays."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.ops.kernels import spmm_reference
from gnnkit.models import GCN


@st.composite
def csr_graphs(draw, symmetric=False, max_nodes=12, max_edges=30):
    """``(n, edge_index, rowptr, col)``: random edges (self loops, repeats and isolated nodes
    allowed; with ``symmetric`` every edge also stored reversed, repeats included), and the
    int32 CSR by target of the same edges."""
    n = draw(st.integers(1, max_nodes))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_edges))
    if symmetric:
        pairs = pairs + [(b, a) for a, b in pairs]
    ei = torch.tensor(pairs, dtype=torch.long).t() if pairs else torch.empty(2, 0, dtype=torch.long)
    order = torch.argsort(ei[1] * n + ei[0], stable=True)              # by (dst, src)
    src, dst = ei[:, order]
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)
    return n, ei, rowptr, src.int()


@given(g=csr_graphs())
def test_from_csr_is_the_edge_index_adjacency(g):
    n, ei, rowptr, col = g
    lean, ref = ops.SparseAdj.from_csr(rowptr, col, n), ops.SparseAdj(ei, n)
    assert lean.lean and not ref.lean
    assert lean.num_edges == ref.num_edges and torch.equal(lean.rowptr, ref.rowptr)
    assert lean._structure._src is None and lean._structure._dst is None        # nothing int64 until asked
    index, index_ref = lean.csr_index(), ref.csr_index()
    assert index.col.dtype == torch.int32 and torch.equal(index.col, index_ref.col)
    assert torch.equal(lean.src, ref.src) and torch.equal(lean.dst, ref.dst)   # built on request, equal
    t, t_ref = lean.csr_index(transpose=True), ref.csr_index(transpose=True)
    assert torch.equal(t.rowptr, t_ref.rowptr) and torch.equal(t.col, t_ref.col)
    x = torch.randn(n, 3, dtype=torch.float64)
    torch.testing.assert_close(ops.spmm(lean, x), spmm_reference(ref, x))


@given(g=csr_graphs(), weighted=st.booleans(), fill=st.sampled_from([1.0, 2.5]))
def test_with_self_loops_in_the_csr_equals_the_edge_index_form(g, weighted, fill):
    n, ei, rowptr, col = g
    lean, ref = ops.SparseAdj.from_csr(rowptr, col, n), ops.SparseAdj(ei, n)
    if weighted:
        w = torch.arange(ref.num_edges, dtype=torch.float64) + 1
        lean, ref = lean.with_weight(w), ref.with_weight(w)
    a, b = lean.with_self_loops(fill), ref.with_self_loops(fill)
    assert a.lean and a.csr_index().col.dtype == torch.int32
    assert torch.equal(a.rowptr, b.rowptr) and torch.equal(a.src, b.src) and torch.equal(a.dst, b.dst)
    if b.weight is None:
        assert a.weight is None
    else:
        torch.testing.assert_close(a.weight.double(), b.weight.double())


@given(g=csr_graphs(symmetric=True))
def test_gcn_adj_of_a_symmetric_csr(g):
    n, ei, rowptr, col = g
    lean = ops.SparseAdj.from_csr(rowptr, col, n, symmetric=True)
    ref = ops.gcn_adj(ops.SparseAdj(ei, n))
    norm = ops.gcn_adj(lean)
    assert norm.symmetric and norm.lean and norm.weight.dtype == torch.float32
    assert torch.equal(norm.src, ref.src) and torch.equal(norm.dst, ref.dst)
    torch.testing.assert_close(norm.weight, ref.weight.float(), rtol=2e-7, atol=0)    # one float32 rounding
    dense = torch.zeros(n, n).index_put_((norm.dst, norm.src), norm.weight, accumulate=True)
    assert torch.equal(dense, dense.t())                                   # symmetric, entries included


@given(g=csr_graphs(symmetric=True))
def test_spmm_backward_through_a_symmetric_adjacency_is_the_transposed_product(g):
    # Symmetric: the backward multiplies by A's own index; the gradient equals the reference's.
    n, ei, rowptr, col = g
    norm = ops.gcn_adj(ops.SparseAdj.from_csr(rowptr, col, n, symmetric=True))
    ref = ops.SparseAdj(torch.stack([norm.src, norm.dst]), n, norm.weight.double())
    x = torch.randn(n, 4, dtype=torch.float64, requires_grad=True)
    g_out = torch.randn(n, 4, dtype=torch.float64)
    (grad,) = torch.autograd.grad(ops.spmm(norm, x), x, g_out)
    (grad_ref,) = torch.autograd.grad(spmm_reference(ref, x), x, g_out)
    torch.testing.assert_close(grad, grad_ref)
    assert True not in norm._structure.index                             # the transposed index was never built


def test_gcn_trains_on_a_lean_adjacency_as_on_edge_index_without_int64_edge_arrays():
    torch.manual_seed(0)
    n = 60
    pairs = torch.randint(0, n, (2, 200))
    ei = torch.cat([pairs, pairs.flip(0)], 1)
    order = torch.argsort(ei[1] * n + ei[0])
    src, dst = ei[:, order]
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)
    lean = ops.SparseAdj.from_csr(rowptr, src.int(), symmetric=True)
    x, y = torch.randn(n, 8), torch.randint(0, 3, (n,))
    grads = []
    for adj in (lean, ei):
        torch.manual_seed(1)
        model = GCN(8, 16, 3, dropout=0.0, bias=True)
        torch.nn.functional.cross_entropy(model(x, adj), y).backward()
        grads.append([p.grad for p in model.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    norm = ops.gcn_adj(lean)
    for s in (lean._structure, norm._structure):                          # the memory claim: none built
        assert s._src is None and s._dst is None and s._perm is None and True not in s.index


@pytest.mark.parametrize("rowptr, col, n, message", [
    (torch.tensor([0, 1, 2]), torch.tensor([0.0, 1.0]), None, "col must be a 1-D integer tensor"),
    (torch.tensor([0, 1]), torch.tensor([0, 1]), 2, "rowptr must have N \\+ 1 = 3 entries"),
    (torch.tensor([1, 1, 2]), torch.tensor([0, 1]), None, "rowptr must start at 0 and end at len\\(col\\) = 2"),
    (torch.tensor([0, 2, 1, 2]), torch.tensor([0, 1]), None, "must be non-decreasing"),
    (torch.tensor([0, 1, 2]), torch.tensor([0, 5]), None, "col refers to node 5 but the graph has 2 nodes"),
    (torch.tensor([0, 2, 2]), torch.tensor([1, 0]), None, "ascending order \\(entry 1: 0 after 1\\)"),
], ids=["float col", "short rowptr", "rowptr ends", "decreasing", "out of range", "unsorted row"])
def test_from_csr_refuses_a_malformed_csr(rowptr, col, n, message):
    with pytest.raises(ValueError, match=message):
        ops.SparseAdj.from_csr(rowptr, col, n)


def test_from_csr_accepts_an_unsorted_looking_row_boundary_and_empty_rows():
    adj = ops.SparseAdj.from_csr(torch.tensor([0, 2, 2, 3]), torch.tensor([1, 2, 0]))   # row 1 empty
    assert adj.dst.tolist() == [0, 0, 2] and adj.src.tolist() == [1, 2, 0]


def test_from_csr_refuses_an_asymmetric_csr_declared_symmetric():
    # 0 -> 1 only (row 1 lists source 0): node 0 has no in-edge but one out-edge.
    with pytest.raises(ValueError, match="symmetric=True but the CSR is not symmetric \\(node 0 has 0 in-edges"):
        ops.SparseAdj.from_csr(torch.tensor([0, 0, 1]), torch.tensor([0], dtype=torch.int32), symmetric=True)
    # the same degrees, different neighbours: a directed 3-cycle
    with pytest.raises(ValueError, match="same degrees, different neighbours"):
        ops.SparseAdj.from_csr(torch.tensor([0, 1, 2, 3]), torch.tensor([2, 0, 1]), symmetric=True)


def test_reweighting_a_symmetric_adjacency_drops_the_flag():
    adj = ops.SparseAdj.from_csr(torch.tensor([0, 1, 2]), torch.tensor([1, 0]), symmetric=True)
    assert adj.symmetric and ops.gcn_adj(adj).symmetric
    assert not adj.with_weight(torch.tensor([1.0, 2.0])).symmetric            # weights not known symmetric
