"""The link split (datasets/link_split.py): sizes, no overlap, no leakage, negatives are non-edges."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit.datasets.link_split import link_split, sample_non_edges, undirected_pairs
from gnnkit.datasets.synthetic import planted_partition
from tests.strategies import small_graphs


def keys(pairs, n):
    """Undirected keys min * n + max of ``[2, P]`` pairs, as a Python set."""
    lo, hi = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
    return set((lo * n + hi).tolist())


def check_split(split, edge_index, n):
    edges = keys(undirected_pairs(edge_index, n), n)
    parts = {name: getattr(split, name) for name in ("train_pos", "val_pos", "test_pos", "val_neg", "test_neg")}
    sets = {name: keys(p, n) for name, p in parts.items()}
    for name, p in parts.items():
        assert len(sets[name]) == p.size(1), f"{name} has repeated pairs"
        assert bool((p[0] < p[1]).all()), f"{name} is not u < v"
    names = list(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not sets[a] & sets[b], f"{a} and {b} overlap"
    assert sets["train_pos"] | sets["val_pos"] | sets["test_pos"] == edges
    assert not (sets["val_neg"] | sets["test_neg"]) & edges                 # negatives are non-edges
    assert split.val_neg.size(1) == split.val_pos.size(1)
    assert split.test_neg.size(1) == split.test_pos.size(1)
    # the message-passing graph: exactly the training edges, both directions, no val/test edge either way
    mp = split.train_edge_index
    directed = set((mp[0] * n + mp[1]).tolist())
    assert directed == {a * n + b for k in sets["train_pos"] for a, b in [(k // n, k % n), (k % n, k // n)]}
    for name in ("val_pos", "test_pos"):
        p = parts[name]
        forward, backward = set((p[0] * n + p[1]).tolist()), set((p[1] * n + p[0]).tolist())
        assert not directed & forward and not directed & backward, f"a {name} edge is in the training graph"


def test_split_sizes_follow_85_5_10_rounded_down():
    g = planted_partition(4, 25, 0.3, 0.02, seed=0, num_train_per_class=5)
    split = link_split(g.edge_index, g.num_nodes, seed=3)
    m = undirected_pairs(g.edge_index, g.num_nodes).size(1)
    assert split.test_pos.size(1) == int(0.10 * m)
    assert split.val_pos.size(1) == int(0.05 * m)
    assert split.train_pos.size(1) == m - int(0.10 * m) - int(0.05 * m)
    check_split(split, g.edge_index, g.num_nodes)


def test_hand_computed_triangle_and_tail():
    # edges {0,1},{1,2},{0,2},{2,3} in both directions plus a self loop at 3 (dropped): 4 pairs;
    # val=0.25, test=0.25 -> 1 validation edge, 1 test edge, 2 training edges (4 directed)
    ei = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3, 3], [1, 0, 2, 1, 2, 0, 3, 2, 3]])
    split = link_split(ei, 4, val=0.25, test=0.25, seed=0)
    assert (split.val_pos.size(1), split.test_pos.size(1), split.train_pos.size(1)) == (1, 1, 2)
    assert split.train_edge_index.size(1) == 4
    # the only non-edges of 4 nodes with these edges are {0,3} and {1,3}
    assert keys(torch.cat([split.val_neg, split.test_neg], 1), 4) == {0 * 4 + 3, 1 * 4 + 3}
    check_split(split, ei, 4)


@given(g=small_graphs(min_nodes=6, max_nodes=14, max_edges=30, undirected=True), seed=st.integers(0, 1000))
def test_split_properties_on_random_graphs(g, seed):
    n = g.num_nodes
    m = undirected_pairs(g.edge_index, n).size(1)
    if m < 2 or n * (n - 1) // 2 - m < int(0.15 * m):
        return
    split = link_split(g.edge_index, n, seed=seed)
    check_split(split, g.edge_index, n)


def test_same_seed_same_split_other_seed_other_split():
    g = planted_partition(3, 30, 0.3, 0.02, seed=1, num_train_per_class=5)
    a, b = link_split(g.edge_index, g.num_nodes, seed=5), link_split(g.edge_index, g.num_nodes, seed=5)
    c = link_split(g.edge_index, g.num_nodes, seed=6)
    for name in ("train_pos", "val_pos", "test_pos", "val_neg", "test_neg", "train_edge_index"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.test_pos, c.test_pos)


def test_split_leaves_the_global_generator_alone():
    g = planted_partition(3, 20, 0.3, 0.02, seed=1, num_train_per_class=5)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    link_split(g.edge_index, g.num_nodes, seed=9)
    torch.testing.assert_close(torch.rand(3), expected)


def test_sample_non_edges_avoids_forbidden_keys_and_repeats():
    forbidden = torch.tensor([0 * 5 + 1, 1 * 5 + 2, 2 * 5 + 3, 3 * 5 + 4])
    out = sample_non_edges(5, forbidden, 6, torch.Generator().manual_seed(0))   # 10 - 4 = 6: all of them
    assert keys(out, 5) == {0 * 5 + 2, 0 * 5 + 3, 0 * 5 + 4, 1 * 5 + 3, 1 * 5 + 4, 2 * 5 + 4}


def test_errors_say_what_was_wrong():
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match=r"shape \[2, E\].*edge_index.t\(\)"):
        link_split(ei.t().repeat(1, 2)[:, :3].t(), 2)
    with pytest.raises(ValueError, match="val \\+ test < 1"):
        link_split(ei, 2, val=0.5, test=0.5)
    with pytest.raises(ValueError, match="only 0"):
        sample_non_edges(2, torch.tensor([1]), 1)
    with pytest.raises(ValueError, match="split must be"):
        link_split(torch.tensor([[0, 1, 2], [1, 2, 3]]), 4, val=0.0, test=0.0).pairs("dev")


def test_cora_split_counts(data_root):
    from gnnkit.datasets import load

    g = load("cora", data_root)[0]
    split = link_split(g.edge_index, g.num_nodes, seed=0)
    # 5,278 unique undirected edges (MANIFEST): 527 test, 263 validation, 4,488 training
    assert (split.test_pos.size(1), split.val_pos.size(1), split.train_pos.size(1)) == (527, 263, 4488)
    check_split(split, g.edge_index, g.num_nodes)
