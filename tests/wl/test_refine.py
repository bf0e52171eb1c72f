"""1-WL colour refinement and the WL test (gnnkit/wl/refine.py, gnnkit/wl/compare.py)."""
import importlib

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit.wl import (NOT_ISOMORPHIC, POSSIBLY_ISOMORPHIC, WLDictionary, refine, refine_reference, wl_test)
from tests.strategies import relabel, small_graphs


def undirected(pairs, n):
    e = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    return torch.cat([e, e.flip(0)], 1), n


def from_nx(g: nx.Graph):
    return undirected(list(g.edges()), g.number_of_nodes())


def same_partition(a, b) -> bool:
    """Two colourings split the nodes the same way."""
    a, b = np.asarray(a), np.asarray(b)
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


SIX_CYCLE = undirected([(i, (i + 1) % 6) for i in range(6)], 6)
TWO_TRIANGLES = undirected([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)], 6)
# Decalin: two fused 6-rings sharing the bond 0-5; bicyclopentyl: two 5-rings joined by the bond 0-5.
DECALIN = undirected([(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (5, 6), (6, 7), (7, 8), (8, 9), (9, 0)], 10)
BICYCLOPENTYL = undirected([(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (5, 6), (6, 7), (7, 8), (8, 9), (9, 5), (0, 5)], 10)


def test_classic_failures_are_possibly_isomorphic():
    v = wl_test(SIX_CYCLE, TWO_TRIANGLES)
    assert v.verdict == POSSIBLY_ISOMORPHIC and v.iteration is None
    assert not nx.is_isomorphic(nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)))
    v = wl_test(DECALIN, BICYCLOPENTYL)
    assert v.verdict == POSSIBLY_ISOMORPHIC
    g1, g2 = (nx.Graph(e.t().tolist()) for e, _ in (DECALIN, BICYCLOPENTYL))
    assert not nx.is_isomorphic(g1, g2)
    # decalin has two degree-3 atoms and 8 of degree 2; so does bicyclopentyl: the histograms stay equal
    assert v.refinement.histogram(0, 1) == v.refinement.histogram(1, 1)


def test_different_degree_sequences_are_told_apart_at_iteration_1():
    star, path = undirected([(0, 1), (0, 2), (0, 3)], 4), undirected([(0, 1), (1, 2), (2, 3)], 4)
    v = wl_test(star, path)
    assert v.verdict == NOT_ISOMORPHIC and v.iteration == 1
    # iteration 1 colours are exactly the degrees (one shared dictionary): star {3, 1, 1, 1}, path {1, 2, 2, 1}
    r = v.refinement
    assert sorted(r.histogram(0, 1).values()) == [1, 3] and sorted(r.histogram(1, 1).values()) == [2, 2]
    assert len(set(r.of_graph(0, 1).tolist()) | set(r.of_graph(1, 1).tolist())) == 3   # degrees 1, 2, 3


def test_initial_labels_decide_at_iteration_0():
    g = undirected([(0, 1)], 2)
    v = wl_test(g, g, labels1=[0, 1], labels2=[1, 1])
    assert v.verdict == NOT_ISOMORPHIC and v.iteration == 0
    assert wl_test(g, g, labels1=[0, 1], labels2=[1, 0]).verdict == POSSIBLY_ISOMORPHIC


def test_refinement_hand_computed_path():
    # path 0-1-2-3: it0 all alike; it1 degrees {1, 2}: ends vs middle; it2 the same partition -> stable
    r = refine([undirected([(0, 1), (1, 2), (2, 3)], 4)])
    assert r.stable and r.iterations == 2
    c1 = r.colours[1].tolist()
    assert c1[0] == c1[3] != c1[1] == c1[2]
    assert same_partition(r.colours[1], r.colours[2])


@pytest.mark.filterwarnings("ignore:The hashes produced")
def test_random_pairs_agree_with_networkx_hash():
    rng = np.random.default_rng(0)
    outcomes = []
    for i in range(200):
        n = int(rng.integers(4, 10))
        kind = i % 4
        if kind == 0:       # a random graph and a relabelled copy: always possibly isomorphic
            g1 = nx.gnm_random_graph(n, int(rng.integers(0, n * (n - 1) // 2 + 1)), seed=int(rng.integers(1e9)))
            g2 = nx.relabel_nodes(g1, dict(zip(g1.nodes, rng.permutation(n).tolist())))
        elif kind == 1:     # two random 3-regular graphs (1-WL cannot split regular graphs)
            n = 2 * (n // 2) + 4
            g1 = nx.random_regular_graph(3, n, seed=int(rng.integers(1e9)))
            g2 = nx.random_regular_graph(3, n, seed=int(rng.integers(1e9)))
        else:               # same size and edge count, often different structure
            m = int(rng.integers(n - 1, n + 3))
            g1 = nx.gnm_random_graph(n, m, seed=int(rng.integers(1e9)))
            g2 = nx.gnm_random_graph(n, m, seed=int(rng.integers(1e9)))
        depth = int(rng.integers(2, 5))
        nx_differ = nx.weisfeiler_lehman_graph_hash(g1, iterations=depth) != \
            nx.weisfeiler_lehman_graph_hash(g2, iterations=depth)
        # networkx (>= 3.5) starts from the degree and counts it as its first round: its depth d is our
        # iteration d (its depth 1 hashes nothing, hence depth >= 2)
        ours = wl_test(from_nx(g1), from_nx(g2), iterations=depth)
        assert (ours.verdict == NOT_ISOMORPHIC) == nx_differ, (i, depth)
        outcomes.append(nx_differ)
    assert 20 < sum(outcomes) < 180       # both answers occur


@settings(max_examples=40, deadline=None)
@given(gs=st.lists(small_graphs(max_nodes=9, max_edges=20), min_size=1, max_size=3), labelled=st.booleans())
def test_vectorised_refinement_equals_the_reference(gs, labelled):
    labels = [torch.arange(g.num_nodes) % 2 for g in gs] if labelled else None
    fast = refine(gs, labels)
    slow = refine_reference(gs, labels)
    assert len(fast.colours) == len(slow)
    for a, b in zip(fast.colours, slow):
        assert same_partition(a, b)


@settings(max_examples=25, deadline=None)
@given(g=small_graphs(max_nodes=10, max_edges=25), seed=st.integers(0, 2**16))
def test_colour_histograms_are_invariant_to_node_order(g, seed):
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    v = wl_test((g.edge_index, g.num_nodes), (relabel(g.edge_index, perm), g.num_nodes))
    assert v.verdict == POSSIBLY_ISOMORPHIC


def test_dictionary_is_shared_across_calls():
    d = WLDictionary()
    a = refine([SIX_CYCLE], iterations=2, dictionary=d)
    b = refine([TWO_TRIANGLES], iterations=2, dictionary=d)
    # the same signature gets the same colour id in the second call
    assert a.colours[2].tolist() == b.colours[2].tolist()
    path = refine([undirected([(0, 1), (0, 2)], 3)], iterations=1, dictionary=d)
    # the middle node (degree 2) gets the cycle's degree-2 colour; the ends a new one
    assert path.colours[1][0] == a.colours[1][0] and path.colours[1][1] == path.colours[1][2] != a.colours[1][0]
    assert d.size(1) == 2


def test_a_hash_collision_is_detected_not_merged(monkeypatch):
    # With every colour hashed to 0, neighbour multisets collide whenever the degree and own colour
    # agree; the exact check must catch it.
    monkeypatch.setattr(importlib.import_module("gnnkit.wl.refine"), "_mix", lambda x, salt: np.zeros(len(x), dtype=np.uint64))
    labels = [np.array([0, 0, 1, 2])]
    g = undirected([(0, 2), (1, 3)], 4)     # nodes 0 and 1: colour 0, degree 1, neighbours {1} vs {2}
    with pytest.raises(RuntimeError, match="same 128-bit WL hash"):
        refine([g], labels, iterations=1)


def test_graph_without_edges_and_empty_graph():
    r = refine([(torch.empty(2, 0, dtype=torch.long), 3), (torch.empty(2, 0, dtype=torch.long), 0)])
    assert r.stable and r.colours[-1].tolist() == [0, 0, 0]


def test_refine_errors_name_the_problem():
    with pytest.raises(ValueError, match="refers to node 5 but the graph has 3 nodes"):
        refine([(torch.tensor([[0], [5]]), 3)])
    with pytest.raises(ValueError, match="labels has 1 entries for 2 graphs"):
        refine([SIX_CYCLE, SIX_CYCLE], labels=[[0] * 6])
    with pytest.raises(ValueError, match="labels for both graphs or for neither"):
        wl_test(SIX_CYCLE, SIX_CYCLE, labels1=[0] * 6)
    with pytest.raises(ValueError, match="iterations must be >= 0"):
        refine([SIX_CYCLE], iterations=-1)


def test_unique_rows_groups_exactly_even_when_the_row_mix_collides(monkeypatch):
    from gnnkit.wl.refine import unique_rows

    keys = np.array([[1, 2, 0, 0], [3, 4, 0, 0], [1, 2, 0, 0], [0, 0, 0, 9]], dtype=np.uint64)
    for mix in (None, lambda x, salt: np.zeros(len(x), dtype=np.uint64)):     # every row mixed to 0
        if mix is not None:
            monkeypatch.setattr(importlib.import_module("gnnkit.wl.refine"), "_mix", mix)
        first, inverse = unique_rows(keys)
        assert len(first) == 3 and np.array_equal(keys[first][inverse], keys)
        assert inverse[0] == inverse[2] and len(set(inverse.tolist())) == 3
