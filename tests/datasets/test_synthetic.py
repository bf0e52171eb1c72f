"""synthetic.py: block models, random graphs and WL-hard pairs."""
from collections import Counter

import networkx as nx
import pytest
import torch
from hypothesis import given, strategies as st

from gnnkit.datasets.synthetic import (CSL_SKIPS, bicyclopentyl, circular_skip_link, csl_graphs, cycle, decalin,
                                       erdos_renyi, planted_partition, random_regular, stochastic_block_model,
                                       two_triangles, wl_hard_pairs)
from gnnkit.ops import is_undirected


def _simple_undirected(g):
    ei = g.edge_index
    keys = ei[0] * g.num_nodes + ei[1]
    return is_undirected(ei, g.num_nodes) and bool((ei[0] != ei[1]).all()) and keys.unique().numel() == keys.numel()


def _wl_colors(g, rounds=None):
    """1-WL colour histogram after refinement (plain Python reference)."""
    n = g.num_nodes
    nbrs = [[] for _ in range(n)]
    for s, d in g.edge_index.t().tolist():
        nbrs[d].append(s)
    colors = [0] * n
    for _ in range(rounds or n):
        sig = [(colors[v], tuple(sorted(colors[u] for u in nbrs[v]))) for v in range(n)]
        palette = {s: i for i, s in enumerate(sorted(set(sig)))}
        colors = [palette[s] for s in sig]
    return sorted(Counter(sig).values()), sorted(set(sig))


@given(seed=st.integers(0, 10_000), n=st.integers(2, 40), p=st.floats(0, 1))
def test_erdos_renyi_is_simple_undirected_and_seeded(seed, n, p):
    g = erdos_renyi(n, p, seed=seed)
    assert g.num_nodes == n and _simple_undirected(g)
    assert torch.equal(g.edge_index, erdos_renyi(n, p, seed=seed).edge_index)


def test_erdos_renyi_density():
    g = erdos_renyi(400, 0.05, seed=0)
    expected = 0.05 * 400 * 399 / 2  # 3990 undirected edges, std about 62
    assert abs(g.num_edges / 2 - expected) < 5 * 62


def test_sbm_blocks_densities_and_features():
    g = stochastic_block_model([150, 150, 100], p_in=0.1, p_out=0.005, num_features=8, feature_signal=2.0, seed=3)
    assert g.num_nodes == 400 and _simple_undirected(g)
    src, dst = g.edge_index
    same = g.y[src] == g.y[dst]
    pairs_in = sum(k * (k - 1) for k in (150, 150, 100))  # ordered pairs within blocks
    assert abs(int(same.sum()) / pairs_in - 0.1) < 0.01
    assert abs(int((~same).sum()) / (400 * 399 - pairs_in) - 0.005) < 0.002
    # features carry the blocks: nearest class mean (fitted on train) beats chance by far
    means = torch.stack([g.x[g.train_mask & (g.y == c)].mean(0) for c in range(3)])
    pred = torch.cdist(g.x[g.test_mask], means).argmin(1)
    assert (pred == g.y[g.test_mask]).float().mean() > 0.8
    assert [int(m.sum()) for m in (g.train_mask, g.val_mask)] == [60, 68]
    assert not (g.train_mask & g.val_mask).any() and not (g.val_mask & g.test_mask).any()


def test_sbm_is_deterministic_from_seed():
    a = planted_partition(3, 30, 0.2, 0.02, seed=7)
    b = planted_partition(3, 30, 0.2, 0.02, seed=7)
    c = planted_partition(3, 30, 0.2, 0.02, seed=8)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x)
    assert not torch.equal(a.x, c.x)


def test_sbm_scales_to_many_nodes():
    g = planted_partition(4, 25_000, p_in=2e-4, p_out=1e-5, seed=0)
    assert g.num_nodes == 100_000 and g.num_edges > 0


def test_sbm_errors():
    with pytest.raises(ValueError, match="p_in must be a probability"):
        stochastic_block_model([10], 1.5, 0.1)
    with pytest.raises(ValueError, match="leaves none to validate or test"):
        stochastic_block_model([10, 10], 0.5, 0.1, num_train_per_class=10)


def test_random_regular_degrees():
    g = random_regular(20, 3, seed=1)
    assert _simple_undirected(g) and torch.bincount(g.edge_index[1]).tolist() == [3] * 20
    with pytest.raises(ValueError, match="no 3-regular graph on 7 nodes"):
        random_regular(7, 3)


def test_wl_hard_pairs_are_1wl_equivalent_but_not_isomorphic():
    for name, g1, g2 in wl_hard_pairs():
        assert _simple_undirected(g1) and _simple_undirected(g2), name
        assert g1.num_nodes == g2.num_nodes and g1.num_edges == g2.num_edges, name
        assert _wl_colors(g1) == _wl_colors(g2), name
        assert not nx.is_isomorphic(g1.to_networkx().to_undirected(), g2.to_networkx().to_undirected()), name


def test_classic_pairs_shapes():
    assert (two_triangles().num_edges, cycle(6).num_edges) == (12, 12)
    assert (decalin().num_edges, bicyclopentyl().num_edges) == (22, 22)
    assert torch.bincount(circular_skip_link(41, 5).edge_index[1]).tolist() == [4] * 41


def test_csl_graphs_are_pairwise_non_isomorphic_with_labels():
    graphs = csl_graphs()
    assert [int(g.y) for g in graphs] == list(range(len(CSL_SKIPS)))
    nxs = [g.to_networkx().to_undirected() for g in graphs[:4]]
    assert not any(nx.is_isomorphic(a, b) for i, a in enumerate(nxs) for b in nxs[i + 1:])
    with pytest.raises(ValueError, match="skip must satisfy"):
        circular_skip_link(10, 5)
