"""NeighborLoader (loader/neighbor.py): sampled edges exist, no repeats without replacement,
low-degree nodes keep every neighbour, seeds first, a fixed seed gives the same batches."""
import itertools
from collections import Counter

import pytest
import torch
from hypothesis import given, strategies as st

from gnnkit import Graph
from gnnkit.loader import NeighborLoader
from gnnkit.loader.neighbor import _ranges, sample_neighbors
from tests.strategies import small_graphs


def _edges(g: Graph) -> Counter:
    return Counter(zip(*g.edge_index.tolist()))


def _graph_with_fields(g: Graph) -> Graph:
    n = g.num_nodes
    return g.replace(y=torch.arange(n) % 3, train_mask=torch.arange(n) % 2 == 0,
                     edge_weight=torch.arange(g.num_edges, dtype=torch.float64))


def test_ranges_concatenates_aranges():
    out = _ranges(torch.tensor([5, 0, 9]), torch.tensor([2, 0, 3]))
    assert out.tolist() == [5, 6, 9, 10, 11]


def test_sample_neighbors_hand_case():
    # row 0 has positions 0..2, row 1 none, row 2 positions 3..4
    rowptr = torch.tensor([0, 3, 3, 5])
    pos, owner = sample_neighbors(rowptr, torch.tensor([2, 1]), 2)        # degree 2 <= 2: both
    assert sorted(pos.tolist()) == [3, 4] and owner.tolist() == [0, 0]
    pos, owner = sample_neighbors(rowptr, torch.tensor([0]), 2, generator=torch.Generator().manual_seed(0))
    assert len(set(pos.tolist())) == 2 and set(pos.tolist()) <= {0, 1, 2}
    pos, owner = sample_neighbors(rowptr, torch.tensor([0, 1, 2]), 4, replace=True)
    assert owner.tolist() == [0] * 4 + [2] * 4                          # k draws for every non-empty row
    pos, owner = sample_neighbors(rowptr, torch.tensor([0, 1, 2]), -1)
    assert pos.tolist() == [0, 1, 2, 3, 4] and owner.tolist() == [0, 0, 0, 2, 2]


def test_without_replacement_subsets_are_uniform():
    # Floyd's algorithm: every 2-subset of a row of 4 equally likely (6 subsets, 6,000 draws).
    rowptr = torch.tensor([0, 4])
    nodes = torch.zeros(6000, dtype=torch.long)
    pos, owner = sample_neighbors(rowptr, nodes, 2, generator=torch.Generator().manual_seed(1))
    pairs = pos.view(-1, 2).sort(1).values
    counts = Counter(map(tuple, pairs.tolist()))
    assert set(counts) == set(itertools.combinations(range(4), 2))
    assert all(abs(c - 1000) < 150 for c in counts.values())              # ~5 standard deviations


@given(g=small_graphs(max_nodes=15, max_edges=50), replace=st.booleans(), k1=st.integers(1, 4),
       k2=st.integers(-1, 3), batch=st.integers(1, 6), seed=st.integers(0, 1000))
def test_every_sampled_edge_exists_and_seeds_come_first(g, replace, k1, k2, batch, seed):
    g = _graph_with_fields(g)
    loader = NeighborLoader(g, [k1, k2], batch_size=batch, shuffle=True, replace=replace,
                            generator=torch.Generator().manual_seed(seed))
    edges = _edges(g)
    seen = []
    for b in loader:
        seeds = b.n_id[:b.batch_size]
        seen += seeds.tolist()
        assert 1 <= b.batch_size <= min(batch, b.num_nodes)
        assert torch.unique(b.n_id).numel() == b.num_nodes                  # each node once
        src, dst = b.n_id[b.edge_index]
        assert all((s, d) in edges for s, d in zip(src.tolist(), dst.tolist()))
        assert torch.equal(g.edge_index[:, b.e_id], b.n_id[b.edge_index])  # e_id points at those edges
        assert torch.equal(b.x, g.x[b.n_id]) and torch.equal(b.y, g.y[b.n_id])
        assert torch.equal(b.train_mask, g.train_mask[b.n_id]) and torch.equal(b.edge_weight, g.edge_weight[b.e_id])
    assert sorted(seen) == list(range(g.num_nodes))                          # every node a seed once per epoch


@given(g=small_graphs(max_nodes=15, max_edges=60), k=st.integers(1, 5), seed=st.integers(0, 1000))
def test_without_replacement_no_edge_repeats_and_low_degree_keeps_all(g, k, seed):
    loader = NeighborLoader(g, [k], batch_size=g.num_nodes, generator=torch.Generator().manual_seed(seed))
    b = next(iter(loader))
    assert torch.unique(b.e_id).numel() == b.e_id.numel()                  # no edge drawn twice
    in_deg = torch.bincount(g.edge_index[1], minlength=g.num_nodes)
    dst = b.n_id[b.edge_index[1]]
    got = torch.bincount(dst, minlength=g.num_nodes)
    assert torch.equal(got, torch.clamp(in_deg, max=k))                     # min(k, degree) per seed
    for v in range(g.num_nodes):
        if 0 < in_deg[v] <= k:                                               # degree below the fan-out: all of them
            assert sorted(b.e_id[dst == v].tolist()) == (g.edge_index[1] == v).nonzero().view(-1).tolist()


@given(g=small_graphs(max_nodes=12, max_edges=30), k=st.integers(1, 6))
def test_with_replacement_draws_exactly_k_per_node_with_neighbours(g, k):
    b = next(iter(NeighborLoader(g, [k], batch_size=g.num_nodes, replace=True)))
    in_deg = torch.bincount(g.edge_index[1], minlength=g.num_nodes)
    got = torch.bincount(b.n_id[b.edge_index[1]], minlength=g.num_nodes)
    assert torch.equal(got, torch.where(in_deg > 0, k, 0))


def test_second_hop_expands_only_first_hop_nodes():
    # a path 0 <- 1 <- 2 <- 3 (edges point towards 0): seeds [0], two hops reach 1 then 2, never 3.
    g = Graph(x=torch.eye(4), edge_index=torch.tensor([[1, 2, 3], [0, 1, 2]]))
    b = NeighborLoader(g, [5, 5], batch_size=1).sample(torch.tensor([0]))
    assert b.n_id.tolist() == [0, 1, 2]
    assert b.edge_index.tolist() == [[1, 2], [0, 1]]


def test_fixed_seed_gives_the_same_batches():
    g = Graph(x=torch.randn(200, 3), edge_index=torch.randint(0, 200, (2, 2000)))

    def run(seed, replace):
        loader = NeighborLoader(g, [4, 3], batch_size=32, shuffle=True, replace=replace,
                                generator=torch.Generator().manual_seed(seed))
        return [(b.n_id, b.edge_index) for b in loader]

    for replace in (False, True):
        a, b, c = run(7, replace), run(7, replace), run(8, replace)
        assert all(torch.equal(x[0], y[0]) and torch.equal(x[1], y[1]) for x, y in zip(a, b))
        assert not all(torch.equal(x[0], y[0]) for x, y in zip(a, c))
    torch.manual_seed(3)                                                      # the global generator too
    first = [b.n_id for b in NeighborLoader(g, [4], batch_size=50, shuffle=True)]
    torch.manual_seed(3)
    again = [b.n_id for b in NeighborLoader(g, [4], batch_size=50, shuffle=True)]
    assert all(torch.equal(x, y) for x, y in zip(first, again))


def test_input_nodes_mask_and_drop_last():
    g = Graph(x=torch.randn(10, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    mask = torch.zeros(10, dtype=torch.bool)
    mask[[2, 5, 7]] = True
    loader = NeighborLoader(g, [2], batch_size=2, input_nodes=mask, drop_last=True)
    assert len(loader) == 1
    assert next(iter(loader)).n_id[:2].tolist() == [2, 5]
    assert len(NeighborLoader(g, [2], batch_size=2, input_nodes=mask)) == 2


def test_graph_without_edges_gives_seed_only_batches():
    g = Graph(x=torch.randn(5, 2), num_nodes=5)
    b = next(iter(NeighborLoader(g, [3, 3], batch_size=5)))
    assert b.num_nodes == 5 and b.num_edges == 0 and b.n_id.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_neighbors=10), "one fan-out per hop"),
    (dict(num_neighbors=[5, -2]), "non-negative int or -1"),
    (dict(num_neighbors=[5], batch_size=0), "batch_size must be >= 1"),
    (dict(num_neighbors=[5], input_nodes=torch.tensor([0, 9])), r"node ids in \[0, 4\)"),
    (dict(num_neighbors=[5], input_nodes=torch.tensor([1, 1])), "repeated node ids"),
    (dict(num_neighbors=[5], input_nodes=torch.ones(3, dtype=torch.bool)), "num_nodes=4 entries"),
])
def test_neighbor_loader_errors(kwargs, message):
    g = Graph(x=torch.randn(4, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=message):
        NeighborLoader(g, **kwargs)


@pytest.mark.parametrize("replace", [False, True])
def test_int32_csr_path_gives_the_same_batches_as_the_graph_path(tmp_path, replace):
    from gnnkit.datasets.large import SynthSpec, load_synthetic, load_synthetic_nodes, write_synthetic

    write_synthetic(SynthSpec(400, 3000, 4, 3, (200, 100, 100)), tmp_path, seed=2)
    g = load_synthetic(tmp_path)
    nodes, rowptr, col = load_synthetic_nodes(tmp_path)
    assert nodes.num_edges == 0 and col.dtype == torch.int32 and torch.equal(nodes.x, g.x)
    batches = []
    for graph, csr in ((g, None), (nodes, (rowptr, col))):
        gen = torch.Generator().manual_seed(5)
        loader = NeighborLoader(graph, [5, 3], batch_size=64, shuffle=True, input_nodes=graph.train_mask,
                                replace=replace, generator=gen, csr=csr)
        batches.append(list(loader))
    assert len(batches[0]) == len(batches[1]) == 4
    for a, b in zip(*batches):
        for key in ("n_id", "edge_index", "e_id", "x", "y", "train_mask"):
            assert torch.equal(a.get(key), b.get(key)), key
        assert a.batch_size == b.batch_size


def test_csr_must_match_the_graph():
    g = Graph(x=torch.randn(3, 2))
    with pytest.raises(ValueError, match=r"csr must be \(rowptr \[N \+ 1\], col"):
        NeighborLoader(g, [2], csr=(torch.tensor([0, 1, 2]), torch.tensor([1, 0], dtype=torch.int32)))
