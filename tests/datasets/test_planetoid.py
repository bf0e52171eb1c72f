"""planetoid.py: the original ind.* files, the standard splits, and unsafe or broken files."""
import collections
import os
import pickle
import shutil

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gnnkit.datasets import Planetoid, planetoid_split
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.datasets.planetoid import PARTS, read_planetoid
from gnnkit.ops import is_undirected
from gnnkit.transforms import NormalizeFeatures

CORA_FILES = [f"planetoid/ind.cora.{p}" for p in PARTS]


def _write_toy(folder, name="toy"):
    """7 nodes, 2 classes. allx = nodes 0..3 (x = nodes 0, 1 labelled), test ids listed
    out of order as [6, 4]; id 5 lies in the test range but has no row (isolated, like CiteSeer)."""
    folder.mkdir(parents=True, exist_ok=True)
    f = np.float32
    objs = {
        "x": sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0]], f)),
        "y": np.array([[1, 0], [0, 1]], np.int32),
        "allx": sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], f)),
        "ally": np.array([[1, 0], [0, 1], [0, 1], [1, 0]], np.int32),
        "tx": sp.csr_matrix(np.array([[2, 0, 0], [0, 3, 0]], f)),   # rows of test ids 6, 4
        "ty": np.array([[0, 1], [1, 0]], np.int32),
        # duplicate 0->1, self loop 2->2, one-directional 3->6
        "graph": collections.defaultdict(list, {0: [1, 1], 1: [0], 2: [2, 3], 3: [2, 6], 4: [], 6: []}),
    }
    for part, obj in objs.items():
        (folder / f"ind.{name}.{part}").write_bytes(pickle.dumps(obj, protocol=2))
    (folder / f"ind.{name}.test.index").write_text("6\n4\n")
    return folder


def test_read_planetoid_hand_built_files(tmp_path):
    g, num_train = read_planetoid(_write_toy(tmp_path), "toy")
    assert num_train == 2 and g.num_nodes == 7
    # test rows are placed at their ids: node 6 <- tx[0], node 4 <- tx[1]; node 5 stays zero
    assert g.x[6].tolist() == [2, 0, 0] and g.x[4].tolist() == [0, 3, 0] and g.x[5].tolist() == [0, 0, 0]
    assert g.y.tolist() == [0, 1, 1, 0, 0, -1, 1]
    # undirected, duplicates merged, self loop dropped: {0-1, 2-3, 3-6} both ways
    pairs = sorted(map(tuple, g.edge_index.t().tolist()))
    assert pairs == [(0, 1), (1, 0), (2, 3), (3, 2), (3, 6), (6, 3)]


def test_public_split_is_first_rows_then_500_then_test_ids_minus_unlabelled():
    y = torch.arange(1200) % 4
    y[1100] = -1  # an isolated test-range id without a label
    train, val, test = planetoid_split(y, "public", num_public_train=20, test_index=torch.arange(1000, 1200))
    assert train.nonzero().view(-1).tolist() == list(range(20))
    assert val.nonzero().view(-1).tolist() == list(range(20, 520))
    assert test.nonzero().view(-1).tolist() == [i for i in range(1000, 1200) if i != 1100]


def test_random_split_is_seeded_and_per_class():
    y = torch.arange(60) % 3
    a = planetoid_split(y, "random", num_train_per_class=5, num_val=10, num_test=20, seed=1)
    b = planetoid_split(y, "random", num_train_per_class=5, num_val=10, num_test=20, seed=1)
    c = planetoid_split(y, "random", num_train_per_class=5, num_val=10, num_test=20, seed=2)
    assert all(torch.equal(u, v) for u, v in zip(a, b)) and not torch.equal(a[0], c[0])
    assert torch.bincount(y[a[0]]).tolist() == [5, 5, 5]
    assert (a[0] & a[1]).sum() == 0 and (a[1] & a[2]).sum() == 0 and int(a[2].sum()) == 20


def test_split_errors():
    with pytest.raises(ValueError, match="split must be one of"):
        planetoid_split(torch.zeros(3, dtype=torch.long), "half")
    with pytest.raises(ValueError, match="class 1 has 1 nodes, fewer than num_train_per_class=2"):
        planetoid_split(torch.tensor([0, 0, 0, 1]), "random", num_train_per_class=2)
    with pytest.raises(ValueError, match="name must be one of 'cora'"):
        Planetoid("/nonexistent", "coraa")


@pytest.mark.parametrize("name, nodes, edges, features, classes, train", [
    ("cora", 2708, 10556, 1433, 7, 140),
    ("citeseer", 3327, 9104, 3703, 6, 120),
])
def test_real_planetoid_statistics(need, name, nodes, edges, features, classes, train):
    data_root = need(*(f"planetoid/ind.{name}.{p}" for p in PARTS))
    ds = Planetoid(data_root, name)
    g = ds[0]
    assert (g.num_nodes, g.num_edges, g.num_features, ds.num_classes) == (nodes, edges, features, classes)
    assert [int(m.sum()) for m in (g.train_mask, g.val_mask, g.test_mask)] == [train, 500, 1000]
    assert ((g.train_mask.long() + g.val_mask.long() + g.test_mask.long()) <= 1).all()
    assert torch.bincount(g.y[g.train_mask]).tolist() == [20] * classes
    assert is_undirected(g.edge_index, nodes)
    assert (g.edge_index[0] != g.edge_index[1]).all()
    key = g.edge_index[0] * nodes + g.edge_index[1]
    assert key.unique().numel() == edges  # no duplicates
    s = ds.stats()
    assert (s["nodes"], s["edges"], s["features"], s["classes"], s["train"], s["val"], s["test"]) == \
        (nodes, edges, features, classes, train, 500, 1000)


def test_citeseer_isolated_test_ids_have_zero_rows_and_no_mask(need):
    data_root = need(*(f"planetoid/ind.citeseer.{p}" for p in PARTS))
    g = Planetoid(data_root, "citeseer")[0]
    missing = (g.y == -1).nonzero().view(-1)
    assert missing.numel() == 15
    assert (g.x[missing] == 0).all()
    assert not (g.train_mask | g.val_mask | g.test_mask)[missing].any()
    assert int((g.y >= 0).sum()) == 3312


def test_full_split_trains_on_everything_else(need):
    data_root = need(*CORA_FILES)
    g = Planetoid(data_root, "cora", split="full")[0]
    assert [int(m.sum()) for m in (g.train_mask, g.val_mask, g.test_mask)] == [2708 - 1500, 500, 1000]


def test_normalize_features_on_cora(need):
    data_root = need(*CORA_FILES)
    g = Planetoid(data_root, "cora", transform=NormalizeFeatures())[0]
    torch.testing.assert_close(g.x.sum(1), torch.ones(2708))


def _copy_planetoid(data_root, tmp_path, name, skip=()):
    folder = tmp_path / "planetoid"
    folder.mkdir()
    for part in PARTS:
        src = data_root / "planetoid" / f"ind.{name}.{part}"
        if part not in skip and src.exists():
            os.symlink(src, folder / src.name)
    return folder


def test_pubmed_without_allx_names_the_missing_file(data_root, tmp_path):
    if not (data_root / "planetoid" / "ind.pubmed.y").exists():
        pytest.skip("PubMed files absent")
    _copy_planetoid(data_root, tmp_path, "pubmed", skip=("allx",))
    with pytest.raises(FileNotFoundError, match=r"pubmed: missing file\(s\) .*ind\.pubmed\.allx"):
        Planetoid(tmp_path, "pubmed")


def test_planetoid_loader_refuses_code_running_pickle(need, tmp_path):
    data_root = need(*CORA_FILES)
    folder = _copy_planetoid(data_root, tmp_path, "cora", skip=("x",))
    marker = tmp_path / "created-by-pickle"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (folder / "ind.cora.x").write_bytes(pickle.dumps(Evil(), protocol=2))
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.x: pickle refers to .*open, which is not allowed"):
        Planetoid(tmp_path, "cora")
    assert not marker.exists()


def test_planetoid_truncated_file_names_it(need, tmp_path):
    data_root = need(*CORA_FILES)
    folder = _copy_planetoid(data_root, tmp_path, "cora", skip=("graph",))
    data = (data_root / "planetoid" / "ind.cora.graph").read_bytes()
    (folder / "ind.cora.graph").write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetFileError, match=r"ind\.cora\.graph: file is (truncated|corrupted)"):
        Planetoid(tmp_path, "cora")


def test_planetoid_download_uses_pinned_checksums(need, tmp_path, monkeypatch):
    """download=True fetches each part from its (here: local) URL and verifies the sha256."""
    data_root = need(*CORA_FILES, *(f"planetoid/ind.citeseer.{p}" for p in PARTS))
    from gnnkit.datasets import planetoid

    monkeypatch.setattr(planetoid, "_URL", (data_root / "planetoid").as_uri() + "/")
    ds = Planetoid(tmp_path, "cora", download=True)
    assert ds[0].num_nodes == 2708
    assert sorted(p.name for p in (tmp_path / "planetoid").iterdir()) == sorted(f"ind.cora.{p}" for p in PARTS)
    shutil.rmtree(tmp_path / "planetoid")

    def wrong(name, part):  # serve CiteSeer's bytes under Cora's names: every checksum mismatches
        return planetoid.Remote((data_root / "planetoid" / f"ind.citeseer.{part}").as_uri(),
                                sha256=planetoid._SHA256["cora"][part])

    monkeypatch.setattr(planetoid, "remote", wrong)
    with pytest.raises(DatasetFileError, match="sha256 mismatch"):
        Planetoid(tmp_path, "cora", download=True)
    assert list((tmp_path / "planetoid").iterdir()) == []


@pytest.mark.parametrize("index, message", [
    ("6\n999999\n", "holds node id 999999, outside the test range 4..6"),
    ("6\n-3\n", "holds node id -3, outside the test range 4..6"),
    ("6\n2\n", "holds node id 2, outside the test range 4..6"),
    ("6\n6\n", "lists a node id twice"),
])
def test_test_index_out_of_the_files_bounds_is_named(tmp_path, index, message):
    folder = _write_toy(tmp_path)
    (folder / "ind.toy.test.index").write_text(index)
    with pytest.raises(DatasetFileError, match=rf"ind\.toy\.test\.index: {message}"):
        read_planetoid(folder, "toy")


@pytest.mark.parametrize("part, obj, message", [
    ("y", np.array([[1, 0]], np.int32), "has 1 rows but x has 2"),
    ("y", np.array([[1, 0, 0], [0, 1, 0]], np.int32), "has 3 label columns but ally has 2"),
    ("tx", sp.csr_matrix(np.ones((2, 5), np.float32)), "has 5 feature columns but allx has 3"),
])
def test_wrong_shaped_parts_are_named(tmp_path, part, obj, message):
    folder = _write_toy(tmp_path)
    (folder / f"ind.toy.{part}").write_bytes(pickle.dumps(obj, protocol=2))
    with pytest.raises(DatasetFileError, match=rf"ind\.toy\.{part}: {message}"):
        read_planetoid(folder, "toy")


def test_a_graph_key_beyond_the_featured_nodes_is_named_not_allocated(tmp_path):
    folder = _write_toy(tmp_path)
    graph = collections.defaultdict(list, {0: [1], 1: [0], 10**6: []})    # one corrupted key
    (folder / "ind.toy.graph").write_bytes(pickle.dumps(graph, protocol=2))
    with pytest.raises(DatasetFileError, match=r"ind\.toy\.graph: names node 1000000, beyond the 7 nodes"):
        read_planetoid(folder, "toy")
