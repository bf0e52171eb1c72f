"""ClusterData / ClusterLoader (loader/cluster.py): METIS clusters, batches restore the edges
between their clusters, the on-disk cache (hit, corrupt -> rebuilt, keyed by graph and parameters)."""
import warnings
from collections import Counter

import numpy as np
import pytest
import torch

from gnnkit import Graph
from gnnkit.distributed import shard_loader
from gnnkit.loader import ClusterData, ClusterLoader, NeighborLoader
from gnnkit.loader.cluster import graph_checksum


def _graph(n=120, m=600, seed=0) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, m), generator=gen)
    return Graph(x=torch.randn(n, 3, generator=gen), edge_index=ei, y=torch.randint(0, 3, (n,), generator=gen),
                 train_mask=torch.rand(n, generator=gen) < 0.5)


def _induced(g: Graph, n_id: torch.Tensor) -> Counter:
    """Dense reference: every edge of g with both ends in n_id, in n_id's local numbering."""
    local = {int(v): i for i, v in enumerate(n_id)}
    return Counter((local[s], local[d]) for s, d in zip(*g.edge_index.tolist()) if s in local and d in local)


def test_two_cluster_hand_case(tmp_path):
    # two triangles joined by one edge (2 - 3): METIS cuts that edge; a batch of both restores it.
    pairs = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]
    ei = torch.tensor(pairs + [(b, a) for a, b in pairs]).t()
    g = Graph(x=torch.eye(6), edge_index=ei)
    data = ClusterData(g, 2, cache_dir=tmp_path)
    assert data.edge_cut == 1
    assert sorted(sorted(data.perm[data.partptr[p]:data.partptr[p + 1]].tolist()) for p in range(2)) == [
        [0, 1, 2], [3, 4, 5]]
    single = data.batch(torch.tensor([0]))
    assert single.num_edges == 6                                  # one triangle, both directions
    both = data.batch(torch.tensor([0, 1]))
    assert both.num_edges == 14 and _induced(g, both.n_id) == Counter(map(tuple, both.edge_index.t().tolist()))


@pytest.mark.parametrize("clusters", [[0], [3, 1], [0, 1, 2, 3, 4, 5, 6, 7], [7, 2, 5]])
def test_batch_is_the_induced_subgraph_with_fields(tmp_path, clusters):
    g = _graph()
    data = ClusterData(g, 8, cache_dir=tmp_path)
    b = data.batch(torch.tensor(clusters))
    assert _induced(g, b.n_id) == Counter(map(tuple, b.edge_index.t().tolist()))   # multi-edges kept
    assert torch.equal(b.x, g.x[b.n_id]) and torch.equal(b.y, g.y[b.n_id])
    assert torch.equal(b.train_mask, g.train_mask[b.n_id]) and b.batch_size == b.num_nodes
    assert set(data.parts[b.n_id].tolist()) == set(clusters)


def test_an_epoch_covers_every_node_once(tmp_path):
    g = _graph()
    torch.manual_seed(0)
    loader = ClusterLoader(ClusterData(g, 10, cache_dir=tmp_path), batch_size=3, shuffle=True)
    assert len(loader) == 4
    ids = torch.cat([b.n_id for b in loader])
    assert sorted(ids.tolist()) == list(range(g.num_nodes))


def test_cache_hit_and_key(tmp_path):
    g = _graph()
    first = ClusterData(g, 4, cache_dir=tmp_path)
    again = ClusterData(g, 4, cache_dir=tmp_path)
    assert (first.cache_status, again.cache_status) == ("built", "hit")
    assert torch.equal(first.parts, again.parts) and again.edge_cut == first.edge_cut
    other = ClusterData(g, 5, cache_dir=tmp_path)                            # other parameters: another file
    assert other.cache_status == "built" and other.cache_path != first.cache_path
    shuffled = g.replace(edge_index=g.edge_index[:, torch.randperm(g.num_edges)])
    assert ClusterData(shuffled, 4, cache_dir=tmp_path).cache_status == "hit"   # same graph, other edge order
    assert not list(tmp_path.glob("*.tmp"))                                  # written atomically
    with np.load(first.cache_path, allow_pickle=False) as f:                 # plain arrays, no pickle
        assert set(f.files) == {"parts", "edge_cut", "meta"}


def test_checksum_depends_on_the_edges():
    a = _graph(seed=0).adj()
    b = _graph(seed=1).adj()
    assert graph_checksum(a.rowptr, a.src) != graph_checksum(b.rowptr, b.src)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "tamper"])
def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, damage):
    g = _graph()
    built = ClusterData(g, 4, cache_dir=tmp_path)
    path = built.cache_path
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "garbage":
        path.write_bytes(b"not an npz file at all")
    else:                                                                    # valid file, parts changed
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        arrays["parts"] = (arrays["parts"] + 1) % 4
        np.savez(path, **arrays)
    with pytest.warns(UserWarning, match="partition cache .* is corrupt"):
        rebuilt = ClusterData(g, 4, cache_dir=tmp_path)
    assert rebuilt.cache_status == "rebuilt" and torch.equal(rebuilt.parts, built.parts)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ClusterData(g, 4, cache_dir=tmp_path).cache_status == "hit"


def test_cache_off_touches_no_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path))
    data = ClusterData(_graph(), 3, cache=False)
    assert data.cache_status == "off" and not list(tmp_path.rglob("*"))


def test_shard_loader_gives_equal_disjoint_shares(tmp_path):
    g = _graph()
    loader = ClusterLoader(ClusterData(g, 8, cache_dir=tmp_path), batch_size=3, shuffle=True)
    shares = [shard_loader(loader, r, 2) for r in range(2)]
    assert len(shares[0]) == len(shares[1]) == 2
    assert set(shares[0].clusters.tolist()).isdisjoint(shares[1].clusters.tolist())
    with pytest.raises(ValueError, match="do not split evenly over 3 processes"):
        shard_loader(loader, 0, 3)
    seeds = NeighborLoader(g, [2], batch_size=10, input_nodes=torch.arange(25))
    parts = [shard_loader(seeds, r, 2) for r in range(2)]
    assert [p.input_nodes.numel() for p in parts] == [12, 12] and len(parts[0]) == len(parts[1])


def test_cluster_errors(tmp_path):
    g = _graph(n=5, m=6)
    with pytest.raises(ValueError, match="exceeds the graph's 5 nodes"):
        ClusterData(g, 6, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="num_parts must be a positive int"):
        ClusterData(g, 0, cache_dir=tmp_path)
    with pytest.raises(TypeError, match="takes a ClusterData"):
        ClusterLoader(g, batch_size=2)
