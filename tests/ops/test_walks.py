"""Random walks (ops/walks.py): walks follow edges, uniform and node2vec transition laws, pairs, negatives."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit.ops.walks import WalkConfig, WalkGraph, degree_negatives, random_walk, walk_pairs
from tests.strategies import small_graphs

# a triangle 0-1-2 with a tail 2-3, both directions, and an isolated node 4
EI = torch.tensor([[0, 1, 1, 2, 0, 2, 2, 3], [1, 0, 2, 1, 2, 0, 3, 2]])


def test_walk_graph_csr_by_source():
    wg = WalkGraph(EI, 5)
    assert wg.degree.tolist() == [2, 2, 3, 1, 0]
    assert wg.col[wg.rowptr[2]:wg.rowptr[3]].tolist() == [0, 1, 3]
    assert wg.has_edge(torch.tensor([0, 0, 3]), torch.tensor([1, 3, 2])).tolist() == [True, False, True]


@given(g=small_graphs(max_nodes=10, max_edges=25), length=st.integers(0, 6), p=st.sampled_from([1.0, 0.5, 4.0]),
       q=st.sampled_from([1.0, 0.25, 2.0]), seed=st.integers(0, 1000))
def test_every_step_follows_an_edge_or_stays_at_a_dead_end(g, length, p, q, seed):
    wg = WalkGraph(g.edge_index, g.num_nodes)
    start = torch.arange(g.num_nodes).repeat(3)
    walks = random_walk(wg, start, length, p, q, generator=torch.Generator().manual_seed(seed))
    assert walks.shape == (start.numel(), length + 1)
    assert torch.equal(walks[:, 0], start)
    a, b = walks[:, :-1].reshape(-1), walks[:, 1:].reshape(-1)
    moved = wg.has_edge(a, b)
    stayed = (a == b) & (wg.degree[a] == 0)
    assert bool((moved | stayed).all())


def test_uniform_walk_steps_to_each_neighbour_with_probability_one_over_degree():
    wg = WalkGraph(EI, 5)
    gen = torch.Generator().manual_seed(0)
    walks = random_walk(wg, torch.full((30000,), 2), 1, generator=gen)
    freq = torch.bincount(walks[:, 1], minlength=5).double() / 30000
    torch.testing.assert_close(freq, torch.tensor([1 / 3, 1 / 3, 0, 1 / 3, 0], dtype=torch.float64), atol=0.015,
                               rtol=0)


def test_node2vec_second_step_follows_alpha_pq():
    # walks 3 -> 2 -> x: x = 3 is a return (1/p), x = 0 and x = 1 are at distance 2 from 3 (1/q);
    # with p = 0.5, q = 2: weights 2, 0.5, 0.5 -> probabilities 2/3, 1/6, 1/6
    wg = WalkGraph(EI, 5)
    gen = torch.Generator().manual_seed(1)
    walks = random_walk(wg, torch.full((30000,), 3), 2, p=0.5, q=2.0, generator=gen)
    assert bool((walks[:, 1] == 2).all())
    freq = torch.bincount(walks[:, 2], minlength=5).double() / 30000
    torch.testing.assert_close(freq, torch.tensor([1 / 6, 1 / 6, 0, 2 / 3, 0], dtype=torch.float64), atol=0.015,
                               rtol=0)
    # from 0 -> 1 -> x: x = 0 returns (1/p = 2), x = 2 is a neighbour of 0 (weight 1): 2/3, 1/3
    walks = random_walk(wg, torch.zeros(30000, dtype=torch.long), 2, p=0.5, q=2.0, generator=gen)
    keep = walks[:, 1] == 1
    freq = torch.bincount(walks[keep, 2], minlength=5).double() / int(keep.sum())
    torch.testing.assert_close(freq, torch.tensor([2 / 3, 0, 1 / 3, 0, 0], dtype=torch.float64), atol=0.02, rtol=0)


def test_walks_use_the_global_generator_by_default():
    wg = WalkGraph(EI, 5)
    torch.manual_seed(3)
    a = random_walk(wg, torch.arange(5), 8, p=0.5, q=2.0)
    torch.manual_seed(3)
    b = random_walk(wg, torch.arange(5), 8, p=0.5, q=2.0)
    assert torch.equal(a, b)


def test_walk_pairs_hand_computed():
    pairs = walk_pairs(torch.tensor([[0, 1, 2]]), window=1)
    assert sorted(map(tuple, pairs.t().tolist())) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    pairs = walk_pairs(torch.tensor([[0, 1, 2]]), window=1, both_directions=False)
    assert sorted(map(tuple, pairs.t().tolist())) == [(0, 1), (1, 2)]
    pairs = walk_pairs(torch.tensor([[0, 1, 2]]), window=5)           # window longer than the walk
    assert sorted(map(tuple, pairs.t().tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]


def test_degree_negatives_follow_degree_to_the_three_quarters():
    deg = torch.tensor([1, 16, 0, 81])
    draws = degree_negatives(deg, 40000, generator=torch.Generator().manual_seed(0))
    freq = torch.bincount(draws, minlength=4).double() / 40000
    expected = deg.double().pow(0.75) / deg.double().pow(0.75).sum()     # 1, 8, 0, 27 over 36
    torch.testing.assert_close(freq, expected, atol=0.01, rtol=0)


def test_errors_say_what_was_wrong():
    wg = WalkGraph(EI, 5)
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        WalkGraph(EI.t(), 5)
    with pytest.raises(ValueError, match="refers to node 3 but num_nodes is 3"):
        WalkGraph(EI, 3)
    with pytest.raises(ValueError, match="p and q must be positive"):
        random_walk(wg, torch.arange(2), 3, p=0.0)
    with pytest.raises(ValueError, match="outside"):
        random_walk(wg, torch.tensor([7]), 3)
    with pytest.raises(ValueError, match="window must be >= 1"):
        walk_pairs(torch.zeros(1, 3, dtype=torch.long), 0)
    with pytest.raises(ValueError, match="walk_length must be >= 1"):
        WalkConfig(walk_length=0)
