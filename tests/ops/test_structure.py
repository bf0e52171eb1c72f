import networkx as nx
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from tests.strategies import small_graphs


def dense_gcn(edge_index, n, weight=None):
    """D~^-1/2 (A + I) D~^-1/2 densely, with existing self loops replaced by I."""
    keep = edge_index[0] != edge_index[1]
    w = None if weight is None else weight[keep]
    a = ops.dense_adjacency(edge_index[:, keep], n, w, dtype=torch.float64) + torch.eye(n, dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    return d.unsqueeze(1) * a * d.unsqueeze(0)


@given(g=small_graphs(), weighted=st.booleans())
def test_gcn_norm_equals_dense_formula(g, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    ei, norm = ops.gcn_norm(g.edge_index, g.num_nodes, w)
    got = ops.dense_adjacency(ei, g.num_nodes, norm, dtype=torch.float64)
    torch.testing.assert_close(got, dense_gcn(g.edge_index, g.num_nodes, w))


def test_gcn_norm_hand_computed_path():
    # path 0 - 1 (both directions); with loops degrees are 2, 2: every entry is 1/2
    ei, w = ops.gcn_norm(torch.tensor([[0, 1], [1, 0]]), 2)
    torch.testing.assert_close(ops.dense_adjacency(ei, 2, w), torch.full((2, 2), 0.5))


@given(g=small_graphs(undirected=True), normalization=st.sampled_from(["sym", "rw"]))
def test_normalized_laplacian_eigenvalues_lie_in_0_2(g, normalization):
    ones = torch.ones(g.num_edges, dtype=torch.float64)
    ei, w = ops.laplacian(g.edge_index, g.num_nodes, ones, normalization)
    lap = ops.dense_adjacency(ei, g.num_nodes, w, dtype=torch.float64)
    eig = torch.linalg.eigvals(lap).real
    assert eig.min() >= -1e-9 and eig.max() <= 2 + 1e-9


def test_laplacian_matches_networkx():
    nxg = nx.petersen_graph()
    ei = torch.tensor(list(nxg.edges)).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    for norm, expected in ((None, nx.laplacian_matrix(nxg)), ("sym", nx.normalized_laplacian_matrix(nxg))):
        e, w = ops.laplacian(ei, 10, None, norm)
        torch.testing.assert_close(ops.dense_adjacency(e, 10, w, dtype=torch.float64),
                                   torch.tensor(expected.toarray(), dtype=torch.float64))


def test_scaled_laplacian_has_spectrum_in_minus_one_one():
    nxg = nx.karate_club_graph()
    ei = torch.tensor(list(nxg.edges)).t()
    ei = torch.cat([ei, ei.flip(0)], 1)
    e, w = ops.scaled_laplacian(ei, 34)
    eig = torch.linalg.eigvalsh(ops.dense_adjacency(e, 34, w, dtype=torch.float64))
    assert eig.min() >= -1 - 1e-6 and abs(eig.max() - 1) < 1e-5


def test_add_self_loops_replaces_existing_loops():
    ei, w = ops.add_self_loops(torch.tensor([[0, 1], [0, 0]]), 2, torch.tensor([5.0, 2.0]), fill_value=1.0)
    pairs = sorted(zip(ei[0].tolist(), ei[1].tolist(), w.tolist()))
    assert pairs == [(0, 0, 1.0), (1, 0, 2.0), (1, 1, 1.0)]


def test_coalesce_merges_duplicates():
    ei, w = ops.coalesce(torch.tensor([[1, 0, 1], [2, 1, 2]]), torch.tensor([1.0, 2.0, 3.0]), 3)
    assert ei.tolist() == [[0, 1], [1, 2]] and w.tolist() == [2.0, 4.0]


@given(g=small_graphs())
def test_to_undirected_is_symmetric_and_idempotent(g):
    ei, _ = ops.to_undirected(g.edge_index, None, g.num_nodes)
    assert ops.is_undirected(ei, g.num_nodes)
    again, _ = ops.to_undirected(ei, None, g.num_nodes)
    assert torch.equal(ei, again)


def test_subgraph_relabels():
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]])
    sub, mask = ops.subgraph(torch.tensor([1, 2, 3]), ei, 4)
    assert sub.tolist() == [[0, 1], [1, 2]] and mask.tolist() == [False, True, True, False]


def test_k_hop_subgraph_follows_incoming_edges():
    # chain 0 -> 1 -> 2 -> 3; two hops into node 3 reach 1, 2, 3
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    subset, sub_ei, mapping, _ = ops.k_hop_subgraph(3, 2, ei, 4)
    assert subset.tolist() == [1, 2, 3] and sub_ei.tolist() == [[0, 1], [1, 2]] and mapping.tolist() == [2]


@given(g=small_graphs(min_nodes=2), seed=st.integers(0, 1000))
def test_negative_sampling_never_returns_an_existing_edge(g, seed):
    n = g.num_nodes
    existing = set(zip(*g.edge_index.tolist()))
    available = n * (n - 1) - len({p for p in existing if p[0] != p[1]})
    k = min(available, 10)
    neg = ops.negative_sampling(g.edge_index, n, k, torch.Generator().manual_seed(seed))
    pairs = list(zip(*neg.tolist()))
    assert len(pairs) == k == len(set(pairs))
    assert not (set(pairs) & existing)
    assert all(a != b for a, b in pairs)


def test_negative_sampling_refuses_impossible_request():
    complete = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"asked for 1 negative edges but the graph has only 0 non-edges"):
        ops.negative_sampling(complete, 2, 1)


def test_dropout_edge_keeps_all_in_eval_and_rejects_bad_p():
    ei = torch.tensor([[0, 1], [1, 0]])
    out, mask = ops.dropout_edge(ei, 0.5, training=False)
    assert torch.equal(out, ei) and mask.all()
    kept, mask = ops.dropout_edge(torch.zeros(2, 10000, dtype=torch.long), 0.3, generator=torch.Generator().manual_seed(0))
    assert abs(mask.float().mean().item() - 0.7) < 0.02
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        ops.dropout_edge(ei, 1.5)


def test_degree_counts_and_weights():
    assert ops.degree(torch.tensor([0, 0, 2]), 3).tolist() == [2.0, 0.0, 1.0]
    assert ops.degree(torch.tensor([0, 0, 2]), 3, torch.tensor([0.5, 0.5, 3.0])).tolist() == [1.0, 0.0, 3.0]


def test_scaled_laplacian_of_an_edgeless_graph():
    none = torch.empty(2, 0, dtype=torch.long)
    ei, w = ops.scaled_laplacian(none, 3, normalization=None)    # L = 0: the limit -I
    assert ops.dense_adjacency(ei, 3, w).tolist() == (-torch.eye(3)).tolist()
    ei, w = ops.scaled_laplacian(none, 3)                        # L_sym = I (isolated nodes): 2I/1 - I
    assert ops.dense_adjacency(ei, 3, w).tolist() == torch.eye(3).tolist()
    with pytest.raises(ValueError, match=r"lambda_max must be > 0 \(got -1\.0\)"):
        ops.scaled_laplacian(torch.tensor([[0], [1]]), 2, lambda_max=-1.0)


def test_largest_eigenvalue_of_a_directed_matrix_is_not_read_from_one_triangle():
    # A[dst, src]: 0 -> 1 with weight 4, 1 -> 0 with weight 1; eigenvalues of [[0,1],[4,0]] are +-2
    got = ops.largest_eigenvalue(torch.tensor([[0, 1], [1, 0]]), torch.tensor([4.0, 1.0]), 2)
    assert abs(got - 2.0) < 1e-9


def test_gcn_norm_is_float64_precise_without_weights():
    _, w = ops.gcn_norm(torch.tensor([[0, 1, 1], [1, 0, 2]]), 3)
    assert w.dtype == torch.float64


# ------------------------------------------------------------------ negative weights (issue 18)
def test_gcn_norm_refuses_negative_weights_saying_why():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"GCN normalisation .* needs non-negative edge weights, got 1 negative or NaN "
                                         r"\(first: edge 1, weight -1.0\).*D\^-1/2"):
        ops.gcn_norm(ei, 2, torch.tensor([1.0, -1.0]))


def test_gcn_adj_and_gcnconv_refuse_negative_weights():
    from gnnkit.nn import GCNConv

    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="needs non-negative edge weights"):
        ops.gcn_adj(ops.SparseAdj(ei, 2, torch.tensor([-1.0, 1.0])))
    with pytest.raises(ValueError, match="needs non-negative edge weights"):
        GCNConv(2, 2)(torch.randn(2, 2), ei, torch.tensor([-1.0, 1.0]))


@pytest.mark.parametrize("normalization", ["sym", "rw"])
def test_normalised_laplacians_refuse_negative_weights_and_the_plain_one_accepts_them(normalization):
    ei = torch.tensor([[0, 1], [1, 0]])
    w = torch.tensor([-2.0, -2.0])
    with pytest.raises(ValueError, match=f"the '{normalization}'-normalised Laplacian needs non-negative"):
        ops.laplacian(ei, 2, w, normalization)
    _, lw = ops.laplacian(ei, 2, w, None)                     # D - A is defined for any weights
    assert sorted(lw.tolist()) == [-2.0, -2.0, 2.0, 2.0]


def test_zero_weights_are_still_accepted():
    ei, w = ops.gcn_norm(torch.tensor([[0], [1]]), 2, torch.tensor([0.0]))
    assert torch.isfinite(w).all()


def test_dense_adjacency_of_a_huge_graph_says_its_size(monkeypatch):
    monkeypatch.setenv("GNNKIT_MEMORY_LIMIT", str(10**9))
    with pytest.raises(MemoryError, match=r"dense 100,000 x 100,000 adjacency would need 40.0 GB"):
        ops.dense_adjacency(torch.tensor([[0], [1]]), 100_000)
    with pytest.raises(MemoryError, match=r"degree vector of num_nodes=1,000,000,000 would need 8.0 GB"):
        ops.degree(torch.tensor([0]), 10**9)
