import threading

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.ops import adj as adj_module
from tests.strategies import small_graphs


# ------------------------------------------------------------------ SparseAdj
def test_sparse_adj_sorts_by_target_and_keeps_permutation():
    ei = torch.tensor([[2, 0, 1], [0, 2, 1]])
    adj = ops.SparseAdj(ei, 3, torch.tensor([5.0, 6.0, 7.0]))
    assert adj.dst.tolist() == [0, 1, 2] and adj.src.tolist() == [2, 1, 0]
    assert adj.weight.tolist() == [5.0, 7.0, 6.0]
    assert torch.equal(ei[:, adj.perm], adj.edge_index)
    assert adj.rowptr.tolist() == [0, 1, 2, 3]
    assert adj.in_degree().tolist() == [1.0, 1.0, 1.0]


@given(g=small_graphs(), order=st.sampled_from(["dst", "src", "random"]))
def test_sparse_adj_is_the_same_whatever_the_input_order(g, order):
    # Inputs already sorted by target or by source take sort-free paths; all give the same adjacency.
    n, ei = g.num_nodes, g.edge_index
    w = torch.arange(ei.size(1), dtype=torch.float64) + 1
    key = {"dst": ei[1] * n + ei[0], "src": ei[0] * n + ei[1], "random": torch.randperm(ei.size(1))}[order]
    p = torch.argsort(key, stable=True)
    adj = ops.SparseAdj(ei[:, p], n, w[p])
    ref = ops.SparseAdj(ei, n, w)
    assert torch.equal(adj.src, ref.src) and torch.equal(adj.dst, ref.dst) and torch.equal(adj.rowptr, ref.rowptr)
    torch.testing.assert_close(w[p][adj.perm], adj.weight)              # perm indexes the input edges
    for a in (adj, ref):                                                 # A^T's index, from either path
        t = a.csr_index(transpose=True)
        t_src, t_dst = a.src[t.order], a.dst[t.order]                    # A^T's entries: sorted by (src, dst)
        assert torch.equal(t.col.long(), t_dst)
        key_t = t_src * n + t_dst
        assert bool((key_t[1:] >= key_t[:-1]).all())
        assert t.rowptr.tolist() == [0] + torch.cumsum(torch.bincount(ei[0], minlength=n), 0).tolist()


def test_csr_index_of_a_hand_made_graph():
    # edges (input order) 0->2, 1->2, 2->0: sorted by target: 2->0, 0->2, 1->2
    adj = ops.SparseAdj(torch.tensor([[0, 1, 2], [2, 2, 0]]), 3)
    index = adj.csr_index()
    assert index.rowptr.tolist() == [0, 1, 1, 3] and index.col.tolist() == [2, 0, 1] and index.order is None
    t = adj.csr_index(transpose=True)
    # A^T rows are sources: 0 -> [2], 1 -> [2], 2 -> [0]; they are edges 1, 2, 0 of the sorted order
    assert t.rowptr.tolist() == [0, 1, 2, 3] and t.col.tolist() == [2, 2, 0] and t.order.tolist() == [1, 2, 0]


def test_int32_sort_key_gives_the_same_order_as_int64():
    # 40,000 nodes: n * n no longer fits int32, so this takes the int64 key; 3,000 nodes takes int32.
    for n in (3_000, 40_000):
        gen = torch.Generator().manual_seed(n)
        ei = torch.randint(0, n, (2, 5_000), generator=gen)
        adj = ops.SparseAdj(ei, n)
        assert torch.equal(adj.perm, torch.argsort(ei[1] * n + ei[0], stable=True))


def test_sparse_adj_caches_derived_objects():
    adj = ops.SparseAdj(torch.tensor([[0, 1], [1, 0]]), 2)
    assert ops.gcn_adj(adj) is ops.gcn_adj(adj)
    calls = []
    adj.cached("thing", lambda a: calls.append(1) or 42)
    assert adj.cached("thing", lambda a: calls.append(1) or 43) == 42 and len(calls) == 1


@given(g=small_graphs(), weighted=st.booleans(), fill=st.sampled_from([1.0, 2.5]))
def test_with_self_loops_equals_add_self_loops_and_stays_sorted(g, weighted, fill):
    w = torch.rand(g.num_edges, dtype=torch.float64) if weighted else None
    looped = ops.SparseAdj(g.edge_index, g.num_nodes, w).with_self_loops(fill)
    ei, lw = ops.add_self_loops(g.edge_index, g.num_nodes,
                                w if w is not None else torch.ones(g.num_edges, dtype=torch.float64), fill)
    reference = ops.SparseAdj(ei, g.num_nodes, lw)
    assert torch.equal(looped.src, reference.src) and torch.equal(looped.dst, reference.dst)
    assert torch.equal(looped.rowptr, reference.rowptr)
    assert torch.equal(looped.perm, torch.arange(looped.num_edges))     # edge tensors in its own order
    got_w = looped.weight if looped.weight is not None else torch.ones(looped.num_edges, dtype=torch.float64)
    torch.testing.assert_close(got_w.double(), reference.weight)


@given(g=small_graphs(), weighted=st.booleans())
def test_gcn_adj_equals_gcn_norm(g, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    adj = ops.gcn_adj(ops.SparseAdj(g.edge_index, g.num_nodes, w))
    ei, norm = ops.gcn_norm(g.edge_index, g.num_nodes, w)
    torch.testing.assert_close(ops.dense_adjacency(adj.edge_index, g.num_nodes, adj.weight, dtype=torch.float64),
                               ops.dense_adjacency(ei, g.num_nodes, norm, dtype=torch.float64))


@st.composite
def by_source_graphs(draw):
    """``(n, edge_index)`` stored sorted by (source, target), as PyG and the Planetoid files store
    graphs: random edges (loops and repeats allowed), half the time every edge also reversed."""
    n = draw(st.integers(1, 10))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=25))
    if draw(st.booleans()):
        pairs = pairs + [(b, a) for a, b in pairs]
    return n, torch.tensor(sorted(pairs), dtype=torch.long).reshape(-1, 2).t()


@given(g=by_source_graphs())
def test_an_edge_index_sorted_by_source_is_symmetric_exactly_when_it_equals_its_transpose(g):
    n, ei = g
    adj = ops.SparseAdj(ei, n)
    dense = torch.zeros(n, n).index_put_((ei[1], ei[0]), torch.ones(ei.size(1)), accumulate=True)
    assert adj.symmetric == torch.equal(dense, dense.t())
    t = adj.csr_index(transpose=True)                 # A^T's index, shared with A's when symmetric
    dense_t = torch.zeros(n, n)
    for v in range(n):
        for k in range(int(t.rowptr[v]), int(t.rowptr[v + 1])):
            dense_t[v, int(t.col[k])] += 1
    assert torch.equal(dense_t, dense.t())
    assert torch.equal(adj.edge_index[:, t.order], ei)     # order maps A^T's entries to ours


@given(g=by_source_graphs())
def test_gcn_adj_unweighted_is_the_weighted_path_with_unit_weights_bit_for_bit(g):
    n, ei = g
    adj = ops.SparseAdj(ei, n)
    norm, ref = ops.gcn_adj(adj), ops.gcn_adj(adj.with_weight(torch.ones(adj.num_edges, dtype=torch.float64)))
    assert norm._structure._dst is None and norm._structure._perm is None      # built only if asked
    assert torch.equal(norm.src, ref.src) and torch.equal(norm.dst, ref.dst) and torch.equal(norm.rowptr, ref.rowptr)
    assert torch.equal(norm.perm, torch.arange(norm.num_edges))
    assert torch.equal(norm.weight, ref.weight)
    assert norm.symmetric == adj.symmetric and not ref.symmetric


@given(g=by_source_graphs())
def test_spmm_backward_through_the_gcn_adj_of_an_undirected_edge_index_needs_no_transpose(g):
    n, ei = g
    norm = ops.gcn_adj(ops.SparseAdj(ei, n))
    ref = ops.SparseAdj(torch.stack([norm.src, norm.dst]), n, norm.weight)      # a weighted copy: no flag
    x = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    g_out = torch.randn(n, 3, dtype=torch.float64)
    (grad,) = torch.autograd.grad(ops.spmm(norm, x), x, g_out)
    (grad_ref,) = torch.autograd.grad(ops.spmm(ref, x), x, g_out)      # over ref's transposed index
    assert torch.equal(grad, grad_ref)                                 # the same sums in the same order
    assert (True in norm._structure.index) == (not norm.symmetric)
    assert True in ref._structure.index


def test_with_weight_shares_the_structure_and_none_drops_the_old_weights():
    adj = ops.SparseAdj(torch.tensor([[0, 1], [1, 2]]), 3, torch.tensor([2.0, 3.0]))
    x = torch.ones(3, 1)
    assert ops.spmm(adj, x).flatten().tolist() == [0.0, 2.0, 3.0]
    plain = adj.with_weight(None)
    assert plain.src is adj.src and plain.csr_index() is adj.csr_index()   # one structure, not copied
    assert ops.spmm(plain, x).flatten().tolist() == [0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match=r"weights must have shape \[E\] = \[2\] in the adjacency's order"):
        adj.with_weight(torch.ones(3))


@pytest.mark.parametrize("edge_index", [torch.tensor([[1, 0], [0, 1]]),       # sorted by target
                                        torch.tensor([[0, 1], [1, 0]])],      # sorted by source
                         ids=["by_target", "by_source"])
def test_sparse_adj_keeps_no_view_of_the_callers_edge_index(edge_index):
    adj = ops.SparseAdj(edge_index, 3)
    before = (adj.src.clone(), adj.dst.clone())
    edge_index.fill_(2)
    assert torch.equal(adj.src, before[0]) and torch.equal(adj.dst, before[1])
    assert ops.spmm(adj, torch.tensor([[1.0], [10.0], [100.0]])).flatten().tolist() == [10.0, 1.0, 0.0]


# ------------------------------------------------------------------ other libraries' private APIs
def test_scipy_private_csr_tocsc_still_equals_the_public_tocsc():
    # Fails if scipy changes (or removes) the private kernel gnnkit calls in _scipy_csr_tocsc.
    gen = np.random.default_rng(0)
    for n_rows, n_cols in ((7, 5), (1, 1), (6, 9)):
        dense = (gen.random((n_rows, n_cols)) < 0.4) * gen.random((n_rows, n_cols))
        dense[0] = 0                                                     # an empty row
        m = sp.csr_matrix(dense)
        for index_dtype in (np.int32, np.int64):
            ptr, col, data = m.indptr.astype(index_dtype), m.indices.astype(index_dtype), m.data
            colptr, row, out = adj_module._scipy_csr_tocsc(n_rows, n_cols, ptr, col, data)
            expected = m.tocsc()
            expected.sort_indices()
            assert colptr.tolist() == expected.indptr.tolist() and row.tolist() == expected.indices.tolist()
            assert out.tolist() == expected.data.tolist() and row.dtype == index_dtype


def test_torch_private_version_counter_counts_in_place_changes():
    # Fails if torch's Tensor._version (read in _version_counter) stops counting in-place edits.
    t = torch.zeros(2, 3, dtype=torch.long)
    v0 = adj_module._version_counter(t)
    t.add_(1)
    v1 = adj_module._version_counter(t)
    t[1].fill_(5)                                                        # through a view
    v2 = adj_module._version_counter(t)
    _ = t + 1                                                            # not in place
    assert v0 < v1 < v2 == adj_module._version_counter(t)


# ------------------------------------------------------------------ as_adj and its cache (one test per rule)
def test_as_adj_reorders_edge_weights_given_in_input_order():
    ei = torch.tensor([[2, 0], [0, 1]])
    adj = ops.SparseAdj(ei, 3)
    weighted = ops.as_adj(adj, 3, torch.tensor([5.0, 6.0]))
    # sorted order is (2->0 w=5), (0->1 w=6): target 0 first
    assert weighted.dst.tolist() == [0, 1] and weighted.weight.tolist() == [5.0, 6.0]


def test_as_adj_errors():
    with pytest.raises(ValueError, match=r"if it is \[E, 2\], pass edge_index.t\(\)"):
        ops.as_adj(torch.tensor([[0, 1], [1, 2], [2, 0]]), 3)
    with pytest.raises(ValueError, match=r"refers to node 7 but num_nodes is 3"):
        ops.as_adj(torch.tensor([[0], [7]]), 3)
    with pytest.raises(ValueError, match=r"negative node id -1; node ids must be in \[0, 3\)"):
        ops.as_adj(torch.tensor([[0, -1], [1, 2]]), 3)
    with pytest.raises(ValueError, match=r"adjacency has 2 nodes but x has 3 rows"):
        ops.as_adj(ops.SparseAdj(torch.tensor([[0], [1]]), 2), 3)


def test_cache_key_is_the_tensor_object_and_num_nodes():
    ops.clear_adj_cache()
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    adj = ops.as_adj(ei, 3)
    assert ops.as_adj(ei, 3) is adj
    assert ops.gcn_adj(ops.as_adj(ei, 3)) is ops.gcn_adj(adj)          # what callers cache on it is shared
    assert ops.as_adj(ei.clone(), 3) is not adj                          # equal values, another tensor
    assert ops.as_adj(ei, 4) is not adj and ops.as_adj(ei, 4).num_nodes == 4


def test_cache_invalidation_after_an_in_place_change():
    ops.clear_adj_cache()
    ei = torch.tensor([[0, 1], [1, 2]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    assert ops.spmm(ops.as_adj(ei, 3), x).flatten().tolist() == [0.0, 1.0, 10.0]
    ei[0, 1] = 0                                                         # edges 0 -> 1, 0 -> 2
    assert ops.spmm(ops.as_adj(ei, 3), x).flatten().tolist() == [0.0, 1.0, 1.0]
    ei[1].copy_(torch.tensor([2, 1]))                                    # through a view: 0 -> 2, 0 -> 1
    assert ops.spmm(ops.as_adj(ei, 3), x).flatten().tolist() == [0.0, 1.0, 1.0]
    ei[1].copy_(torch.tensor([2, 0]))                                    # 0 -> 2, 0 -> 0
    assert ops.spmm(ops.as_adj(ei, 3), x).flatten().tolist() == [1.0, 0.0, 1.0]


def test_cache_never_keeps_inference_tensors():
    ops.clear_adj_cache()
    with torch.inference_mode():                                         # no version counter there
        ei = torch.tensor([[0], [1]])
        assert ops.as_adj(ei, 2) is not ops.as_adj(ei, 2)
    assert len(adj_module._ADJ_CACHE) == 0


def test_cache_eviction_when_freed_and_least_recently_used():
    ops.clear_adj_cache()
    cache = adj_module._ADJ_CACHE
    ei = torch.tensor([[0], [1]])
    ops.as_adj(ei, 2)
    assert len(cache) == 1
    del ei                                                               # the tensor's entry goes with it
    assert len(cache) == 0
    kept = [torch.tensor([[0], [i + 1]]) for i in range(adj_module.ADJ_CACHE_SIZE + 1)]
    first, second = ops.as_adj(kept[0], 20), ops.as_adj(kept[1], 20)
    assert ops.as_adj(kept[0], 20) is first                              # kept[0] is now the most recent
    for ei in kept[2:]:
        ops.as_adj(ei, 20)
    assert len(cache) == adj_module.ADJ_CACHE_SIZE
    assert ops.as_adj(kept[0], 20) is first                              # used recently: kept
    assert ops.as_adj(kept[1], 20) is not second                         # least recently used: dropped
    ops.clear_adj_cache()
    assert len(cache) == 0


def test_cache_shares_the_structure_and_applies_weights_per_call():
    ops.clear_adj_cache()
    ei = torch.tensor([[0, 2], [1, 1]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    for w in ([2.0, 3.0], [5.0, 0.5]):
        weight = torch.tensor(w, requires_grad=True)
        out = ops.spmm(ops.as_adj(ei, 3, weight), x)
        assert out[1].item() == w[0] * 1.0 + w[1] * 100.0
        out.sum().backward()
        assert weight.grad.tolist() == [1.0, 100.0]                      # d out_1 / d w = x of each source
    assert ops.as_adj(ei, 3).weight is None                              # the cached structure stays unweighted
    with pytest.raises(ValueError, match=r"edge_weight must have shape \[E\] = \[2\] \(got \[3\]\)"):
        ops.as_adj(ei, 3, torch.ones(3))


def test_cache_is_safe_across_threads():
    errors = []

    def work(seed):
        gen = torch.Generator().manual_seed(seed)
        try:
            for _ in range(100):
                ei = torch.randint(0, 30, (2, 50), generator=gen)
                for adj in (ops.as_adj(ei, 30), ops.as_adj(ei, 30)):       # built, then (usually) looked up
                    assert torch.equal(adj.src, ei[0][adj.perm]) and torch.equal(adj.dst, ei[1][adj.perm])
        except Exception as exc:                                         # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(adj_module._ADJ_CACHE) <= adj_module.ADJ_CACHE_SIZE
