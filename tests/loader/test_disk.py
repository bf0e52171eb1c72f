"""DiskClusterData (loader/disk.py): the same batches as ClusterData on the same graph, read from
disk; the streamed checksum equals graph_checksum's; METIS input of a sorted symmetric CSR equals
scipy's symmetrisation; the regrouped store is cached, and a corrupt one is detected and rebuilt."""
import json
import warnings

import numpy as np
import pytest
import torch

from gnnkit.datasets.large import SynthSpec, load_synthetic, write_synthetic
from gnnkit.loader import ClusterData, ClusterLoader, DiskClusterData
from gnnkit.loader.cluster import _metis_input_sorted, graph_checksum
from gnnkit.loader.disk import _npy_ranges, csr_checksum

TINY = SynthSpec(600, 4000, 5, 4, (300, 100, 200), signal=1.0)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    write_synthetic(TINY, out, seed=1)
    return out


def test_streamed_checksum_equals_the_graph_checksum(folder):
    adj = load_synthetic(folder).adj()
    assert csr_checksum(folder) == graph_checksum(adj.rowptr, adj.src)


def test_metis_input_of_a_sorted_symmetric_csr_equals_scipys():
    import scipy.sparse as sp

    # rows: 0 -> {1, 1, 2}, 1 -> {0, 0, 1}, 2 -> {0}: a repeated pair and a self loop (1, 1)
    rowptr, col = np.array([0, 3, 6, 7]), np.array([1, 1, 2, 0, 0, 1, 0], dtype=np.int32)
    xadj, adjncy = _metis_input_sorted(rowptr, col)
    assert xadj.tolist() == [0, 2, 3, 4] and adjncy.tolist() == [1, 2, 0, 0]
    rng = np.random.default_rng(0)
    a = sp.random(50, 50, density=0.1, random_state=rng, format="csr")
    a = ((a + a.T) > 0).astype(np.int8).tocsr()
    a.sort_indices()
    xadj, adjncy = _metis_input_sorted(a.indptr.astype(np.int64), a.indices.astype(np.int32))
    b = a.tolil()
    b.setdiag(0)
    b = b.tocsr()
    b.eliminate_zeros()
    b.sort_indices()
    assert xadj.tolist() == b.indptr.tolist() and adjncy.tolist() == b.indices.tolist()


def test_metis_input_refuses_unsorted_rows():
    with pytest.raises(ValueError, match="columns sorted"):
        _metis_input_sorted(np.array([0, 2, 3]), np.array([1, 0, 0], dtype=np.int32))


def test_npy_ranges_reads_the_slices(tmp_path):
    a = np.arange(100, dtype=np.int32) * 3
    np.save(tmp_path / "a.npy", a)
    got = _npy_ranges(tmp_path / "a.npy", np.array([5, 0, 90]), np.array([9, 2, 100]))
    assert got.tolist() == np.concatenate([a[5:9], a[0:2], a[90:100]]).tolist()


@pytest.mark.parametrize("clusters", [[0], [4, 1], [7, 2, 5], list(range(8))])
def test_batches_equal_cluster_datas_on_the_same_partition(folder, tmp_path, clusters):
    g = load_synthetic(folder)
    ref = ClusterData(g, 8, cache_dir=tmp_path)                     # writes the partition cache
    disk = DiskClusterData(folder, 8, cache_dir=tmp_path)           # reads the same partition
    assert disk.cache_status == "hit" and disk.store_status == "built"
    assert torch.equal(disk.perm, ref.perm) and torch.equal(disk.partptr, ref.partptr)
    a, b = ref.batch(torch.tensor(clusters)), disk.batch(torch.tensor(clusters))
    assert a.num_nodes == b.num_nodes and a.batch_size == b.batch_size
    for key in ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask", "n_id"):
        assert torch.equal(a.get(key), b.get(key)), key


def test_partitions_itself_and_trains_through_cluster_loader(folder, tmp_path):
    disk = DiskClusterData(folder, 6, cache_dir=tmp_path)
    assert (disk.cache_status, disk.store_status) == ("built", "built") and disk.seconds is not None
    assert disk.edge_cut > 0 and disk.cluster_sizes().sum() == TINY.num_nodes
    again = DiskClusterData(folder, 6, cache_dir=tmp_path)
    assert (again.cache_status, again.store_status) == ("hit", "hit") and again.seconds is None
    torch.manual_seed(0)
    loader = ClusterLoader(again, batch_size=2, shuffle=True)
    ids = torch.cat([b.n_id for b in loader])
    assert len(loader) == 3 and sorted(ids.tolist()) == list(range(TINY.num_nodes))


def test_corrupt_store_is_detected_and_rebuilt(folder, tmp_path):
    first = DiskClusterData(folder, 4, cache_dir=tmp_path)
    col = first.store / "col.npy"
    data = bytearray(col.read_bytes())
    data[-1] ^= 0xFF                                                  # one flipped byte in the last column
    col.write_bytes(bytes(data))
    with pytest.warns(UserWarning, match="col.npy's checksum does not match"):
        rebuilt = DiskClusterData(folder, 4, cache_dir=tmp_path)
    assert rebuilt.store_status == "rebuilt"
    b0, b1 = first.batch(torch.arange(4)), rebuilt.batch(torch.arange(4))
    assert torch.equal(b0.edge_index, b1.edge_index)
    meta = json.loads((first.store / "meta.json").read_text())
    meta["num_parts"] = 5
    (first.store / "meta.json").write_text(json.dumps(meta))
    with pytest.warns(UserWarning, match="key does not match"):
        DiskClusterData(folder, 4, cache_dir=tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DiskClusterData(folder, 4, cache_dir=tmp_path).store_status == "hit"


def test_errors_say_what_to_do(folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="lacks rowptr.npy, col.npy, x.npy"):
        DiskClusterData(tmp_path, 4, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="exceeds the graph's 600 nodes"):
        DiskClusterData(folder, 601, cache_dir=tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    for f in folder.iterdir():
        (other / f.name).write_bytes(f.read_bytes())
    meta = json.loads((other / "meta.json").read_text()) | {"format": "edge list"}
    (other / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="use ClusterData"):
        DiskClusterData(other, 4, cache_dir=tmp_path)


def test_ranks_share_its_clusters_through_shard_loader(folder, tmp_path):
    from gnnkit.distributed import shard_loader

    loader = ClusterLoader(DiskClusterData(folder, 6, cache_dir=tmp_path), batch_size=1)
    ids = [torch.cat([b.n_id for b in shard_loader(loader, rank, 2)]) for rank in (0, 1)]
    assert not set(ids[0].tolist()) & set(ids[1].tolist())
    assert sorted(torch.cat(ids).tolist()) == list(range(TINY.num_nodes))
