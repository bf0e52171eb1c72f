import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from tests.strategies import small_graphs


def test_spmm_hand_computed():
    # edges 0->2 (w=2), 1->2 (w=3), 2->0 (w=1); x = [[1], [10], [100]]
    adj = ops.SparseAdj(torch.tensor([[0, 1, 2], [2, 2, 0]]), 3, torch.tensor([2.0, 3.0, 1.0]))
    x = torch.tensor([[1.0], [10.0], [100.0]])
    assert ops.spmm(adj, x).view(-1).tolist() == [100.0, 0.0, 32.0]          # 2*1 + 3*10 = 32
    assert ops.spmm(adj, x, "mean").view(-1).tolist() == [100.0, 0.0, 16.0]


@given(g=small_graphs(), reduce=st.sampled_from(["sum", "mean"]), weighted=st.booleans())
def test_spmm_equals_dense_product(g, reduce, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) if weighted else None
    adj = ops.SparseAdj(g.edge_index, g.num_nodes, w)
    dense = ops.dense_adjacency(g.edge_index, g.num_nodes, w, dtype=torch.float64)
    expected = dense @ g.x
    if reduce == "mean":
        count = torch.bincount(g.edge_index[1], minlength=g.num_nodes).clamp(min=1)
        expected = expected / count.unsqueeze(-1)
    torch.testing.assert_close(ops.spmm(adj, g.x, reduce), expected)


def test_spmm_gradients_for_features_and_weights():
    ei = torch.tensor([[0, 1, 2, 2, 3], [1, 2, 0, 1, 1]])
    w = torch.rand(5, dtype=torch.float64, requires_grad=True)
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)

    def f(w, x):
        adj = ops.SparseAdj(ei, 4, w)
        return ops.spmm(adj, x)

    torch.testing.assert_close(torch.autograd.gradcheck(f, (w, x)), True)


def test_spmm_rejects_max():
    adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match=r"spmm reduce must be 'sum' or 'mean' \(got 'max'\)"):
        ops.spmm(adj, torch.randn(2, 2), "max")


def test_spmm_rejects_wrong_number_of_rows():
    adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2)
    with pytest.raises(ValueError, match=r"x has 3 rows but the adjacency has 2 nodes"):
        ops.spmm(adj, torch.randn(3, 2))


def test_sparse_adj_sorts_by_target_and_keeps_permutation():
    ei = torch.tensor([[2, 0, 1], [0, 2, 1]])
    adj = ops.SparseAdj(ei, 3, torch.tensor([5.0, 6.0, 7.0]))
    assert adj.dst.tolist() == [0, 1, 2] and adj.src.tolist() == [2, 1, 0]
    assert adj.weight.tolist() == [5.0, 7.0, 6.0]
    assert torch.equal(ei[:, adj.perm], adj.edge_index)
    assert adj.rowptr.tolist() == [0, 1, 2, 3]
    assert adj.in_degree().tolist() == [1.0, 1.0, 1.0]


def test_sparse_adj_caches_derived_objects():
    adj = ops.SparseAdj(torch.tensor([[0, 1], [1, 0]]), 2)
    assert ops.gcn_adj(adj) is ops.gcn_adj(adj)
    calls = []
    adj.cached("thing", lambda a: calls.append(1) or 42)
    assert adj.cached("thing", lambda a: calls.append(1) or 43) == 42 and len(calls) == 1


def test_as_adj_reorders_edge_weights_given_in_input_order():
    ei = torch.tensor([[2, 0], [0, 1]])
    adj = ops.SparseAdj(ei, 3)
    weighted = ops.as_adj(adj, 3, torch.tensor([5.0, 6.0]))
    # sorted order is (0->1 w=6), (2->0 w=5) by target: target 0 first
    assert weighted.dst.tolist() == [0, 1] and weighted.weight.tolist() == [5.0, 6.0]


def test_as_adj_errors():
    with pytest.raises(ValueError, match=r"if it is \[E, 2\], pass edge_index.t\(\)"):
        ops.as_adj(torch.tensor([[0, 1], [1, 2], [2, 0]]), 3)
    with pytest.raises(ValueError, match=r"refers to node 7 but x has 3 rows"):
        ops.as_adj(torch.tensor([[0], [7]]), 3)
    with pytest.raises(ValueError, match=r"adjacency has 2 nodes but x has 3 rows"):
        ops.as_adj(ops.SparseAdj(torch.tensor([[0], [1]]), 2), 3)


@given(g=small_graphs(), weighted=st.booleans(), fill=st.sampled_from([1.0, 2.5]))
def test_with_self_loops_equals_add_self_loops_and_stays_sorted(g, weighted, fill):
    w = torch.rand(g.num_edges, dtype=torch.float64) if weighted else None
    looped = ops.SparseAdj(g.edge_index, g.num_nodes, w).with_self_loops(fill)
    ei, lw = ops.add_self_loops(g.edge_index, g.num_nodes,
                                w if w is not None else torch.ones(g.num_edges, dtype=torch.float64), fill)
    reference = ops.SparseAdj(ei, g.num_nodes, lw)
    assert torch.equal(looped.src, reference.src) and torch.equal(looped.dst, reference.dst)
    assert torch.equal(looped.rowptr, reference.rowptr)
    got_w = looped.weight if looped.weight is not None else torch.ones(looped.num_edges, dtype=torch.float64)
    torch.testing.assert_close(got_w.double(), reference.weight)


@given(g=small_graphs(), weighted=st.booleans())
def test_gcn_adj_equals_gcn_norm(g, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    adj = ops.gcn_adj(ops.SparseAdj(g.edge_index, g.num_nodes, w))
    ei, norm = ops.gcn_norm(g.edge_index, g.num_nodes, w)
    torch.testing.assert_close(ops.dense_adjacency(adj.edge_index, g.num_nodes, adj.weight, dtype=torch.float64),
                               ops.dense_adjacency(ei, g.num_nodes, norm, dtype=torch.float64))


def test_as_adj_names_a_negative_node_id():
    with pytest.raises(ValueError, match=r"negative node id -1; node ids must be in \[0, 3\)"):
        ops.as_adj(torch.tensor([[0, -1], [1, 2]]), 3)


def test_int32_sort_key_gives_the_same_order_as_int64():
    # 40,000 nodes: n * n no longer fits int32, so this takes the int64 key; 3,000 nodes takes int32.
    for n in (3_000, 40_000):
        gen = torch.Generator().manual_seed(n)
        ei = torch.randint(0, n, (2, 5_000), generator=gen)
        adj = ops.SparseAdj(ei, n)
        expected = torch.argsort(ei[1] * n + ei[0], stable=True)
        assert torch.equal(adj.perm, expected)
        t_src, t_dst = adj.src[adj._csr_index(True)[2]], adj.dst[adj._csr_index(True)[2]]
        key = t_src * n + t_dst
        assert bool((key[1:] >= key[:-1]).all())


@pytest.mark.parametrize("layout", ["csr", "coo"])
def test_matmul_of_sparse_features_equals_dense_with_the_same_weight_gradient(layout):
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(30, 20, generator=gen) < 0.1).double() * torch.rand(30, 20, generator=gen, dtype=torch.float64)
    x[3] = 0                                                          # an empty row
    xs = x.to_sparse_csr() if layout == "csr" else x.to_sparse()
    w = torch.randn(20, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(30, 5, generator=gen, dtype=torch.float64)
    (x @ w).backward(grad)
    expected = w.grad.clone()
    w.grad = None
    out = ops.matmul(xs, w)
    out.backward(grad)
    torch.testing.assert_close(out, x @ w.detach())
    torch.testing.assert_close(w.grad, expected)
    torch.autograd.gradcheck(lambda weight: ops.matmul(xs, weight), (w,))


def test_matmul_refuses_sparse_features_that_require_grad():
    x = torch.eye(3).to_sparse_csr().requires_grad_()
    with pytest.raises(ValueError, match="sparse x with requires_grad=True is not supported"):
        ops.matmul(x, torch.randn(3, 2))


def test_with_weight_none_drops_the_old_weights():
    adj = ops.SparseAdj(torch.tensor([[0, 1], [1, 2]]), 3, torch.tensor([2.0, 3.0]))
    x = torch.ones(3, 1)
    assert ops.spmm(adj, x).flatten().tolist() == [0.0, 2.0, 3.0]       # fills the weighted CSR cache
    assert ops.spmm(adj.with_weight(None), x).flatten().tolist() == [0.0, 1.0, 1.0]


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
    dense = torch.zeros(n, n, dtype=torch.float64).index_put_((ei[1], ei[0]), w, accumulate=True)
    x = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    grad = torch.randn(n, 3, dtype=torch.float64)
    out = ops.spmm(adj, x)
    out.backward(grad)                                                   # backward uses A^T's index
    torch.testing.assert_close(out, dense @ x.detach())
    torch.testing.assert_close(x.grad, dense.t() @ grad)


def test_matmul_of_dense_features_has_the_gradients_of_the_plain_product():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(7, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(ops.matmul, (x, w))
    torch.autograd.gradcheck(lambda a, b: ops.matmul(a, b.t()), (x, torch.randn(3, 5, dtype=torch.float64,
                                                                                 requires_grad=True)))


# ------------------------------------------------------------------ as_adj's per-tensor cache
def test_as_adj_reuses_the_structure_of_the_same_edge_index_tensor():
    ops.clear_adj_cache()
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    adj = ops.as_adj(ei, 3)
    assert ops.as_adj(ei, 3) is adj
    assert ops.gcn_adj(ops.as_adj(ei, 3)) is ops.gcn_adj(adj)          # derived objects come along
    assert ops.as_adj(ei.clone(), 3) is not adj                          # equal values, another tensor
    assert ops.as_adj(ei, 4) is not adj and ops.as_adj(ei, 4).num_nodes == 4


def test_as_adj_rebuilds_after_an_in_place_change():
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


def test_as_adj_applies_edge_weights_on_every_call():
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


def test_as_adj_cache_forgets_freed_and_old_tensors():
    ops.clear_adj_cache()
    cache = ops.sparse._ADJ_CACHE
    ei = torch.tensor([[0], [1]])
    ops.as_adj(ei, 2)
    assert len(cache._entries) == 1
    del ei                                                               # the tensor's entry goes with it
    assert len(cache._entries) == 0
    kept = [torch.tensor([[0], [i + 1]]) for i in range(cache.size + 1)]
    first = ops.as_adj(kept[0], 20)
    for ei in kept[1:]:
        ops.as_adj(ei, 20)
    assert len(cache._entries) == cache.size
    assert ops.as_adj(kept[0], 20) is not first                         # the oldest was dropped
    with torch.inference_mode():                                         # no version counter there: no cache
        ei = torch.tensor([[0], [1]])
        assert ops.as_adj(ei, 2) is not ops.as_adj(ei, 2)


@pytest.mark.parametrize("edge_index", [torch.tensor([[1, 0], [0, 1]]),       # sorted by target
                                        torch.tensor([[0, 1], [1, 0]])],      # sorted by source
                         ids=["by_target", "by_source"])
def test_sparse_adj_keeps_no_view_of_the_callers_edge_index(edge_index):
    adj = ops.SparseAdj(edge_index, 3)
    before = (adj.src.clone(), adj.dst.clone())
    edge_index.fill_(2)
    assert torch.equal(adj.src, before[0]) and torch.equal(adj.dst, before[1])
    assert ops.spmm(adj, torch.tensor([[1.0], [10.0], [100.0]])).flatten().tolist() == [10.0, 1.0, 0.0]


def test_as_adj_cache_is_safe_across_threads():
    import threading

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
