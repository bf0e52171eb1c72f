"""ppi.py: DGL's PPI files to one Graph per tissue; bad files named; missing data in one line."""
import hashlib
import json
import zipfile

import numpy as np
import pytest
import torch

from gnnkit.datasets import PPI, ppi, registry
from gnnkit.datasets.download import Remote
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.ops import is_undirected
from tests.datasets.ppi_files import C, F, arrays, node_link, write_ppi


def edges(g):
    return sorted(map(tuple, g.edge_index.t().tolist()))


def test_graph_count_per_split_and_graph_ids(tmp_path):
    root = write_ppi(tmp_path)
    train, val, test = (PPI(root, s) for s in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (2, 1, 1)
    assert (train.graph_ids, val.graph_ids, test.graph_ids) == ([1, 2], [21], [23])
    assert train.num_labels == train.num_classes == C and train.num_features == F
    assert [g.num_nodes for g in train] == [3, 4]


def test_nodes_relabelled_within_each_graph_with_features_and_labels_aligned(tmp_path):
    root = write_ppi(tmp_path)
    feats, labels = arrays(7, seed=0)
    g1, g2 = PPI(root, "train")
    # graph 1 = global nodes 1, 3, 4 -> 0, 1, 2; graph 2 = global 0, 2, 5, 6 -> 0, 1, 2, 3
    for g, nodes in ((g1, [1, 3, 4]), (g2, [0, 2, 5, 6])):
        assert g.x.dtype == torch.float32 and g.y.dtype == torch.float32
        torch.testing.assert_close(g.x, torch.from_numpy(feats[nodes]))
        torch.testing.assert_close(g.y, torch.from_numpy(labels[nodes]).float())
        assert g.x[:, 0].tolist() == nodes
    # links 1-3, 3-4 and the self loop 4-4 -> (0,1), (1,2) both ways, loop removed
    assert edges(g1) == [(0, 1), (1, 0), (1, 2), (2, 1)]
    # links 0-2 twice (merged), 5-6, 2-5 -> (0,1), (2,3), (1,2) both ways
    assert edges(g2) == [(0, 1), (1, 0), (1, 2), (2, 1), (2, 3), (3, 2)]
    assert all(is_undirected(g.edge_index, g.num_nodes) for g in (g1, g2))


def test_val_reads_the_files_valid_split(tmp_path):
    root = write_ppi(tmp_path)
    (g,) = PPI(root, "val")
    feats, _ = arrays(3, seed=1)
    torch.testing.assert_close(g.x, torch.from_numpy(feats))
    assert edges(g) == [(0, 1), (1, 0), (1, 2), (2, 1)] and PPI(root, "val").name == "PPI val"


def test_unknown_split_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"split must be one of 'train', 'val', 'test' \(got 'valid'\)"):
        PPI(write_ppi(tmp_path), "valid")


def test_link_between_two_graphs_is_dropped_and_counted(tmp_path):
    root = write_ppi(tmp_path)
    (root / "ppi" / "train_graph.json").write_text(json.dumps(node_link(7, [(1, 3), (1, 0)])))
    ds = PPI(root, "train")
    assert ds.cross_graph_links == 1 and edges(ds[0]) == [(0, 1), (1, 0)] and ds[1].num_edges == 0


@pytest.mark.parametrize("part", ["feats", "labels", "graph_id"])
def test_truncated_npy_names_the_file(tmp_path, part):
    root = write_ppi(tmp_path)
    path = root / "ppi" / f"train_{part}.npy"
    path.write_bytes(path.read_bytes()[:-9])
    with pytest.raises(DatasetFileError, match=rf"train_{part}\.npy: not a readable \.npy array: truncated"):
        PPI(root, "train")


def test_pickled_object_array_is_refused(tmp_path):
    root = write_ppi(tmp_path)
    path = root / "ppi" / "train_feats.npy"
    np.save(path, np.array([{"payload": 1}] * 7, dtype=object), allow_pickle=True)
    with pytest.raises(DatasetFileError, match=r"train_feats\.npy: holds pickled Python objects"):
        PPI(root, "train")


@pytest.mark.parametrize("text, match", [
    ('{"nodes": [{"id": 0}], "links": [', r"train_graph\.json: not valid JSON, truncated or corrupted"),
    ('[1, 2]', r"train_graph\.json: expected networkx node-link JSON"),
    ('{"nodes": [{"id": "a"}], "links": []}', r"train_graph\.json: every node needs an integer 'id'"),
    ('{"nodes": [{"id": 0}], "links": []}', r"train_graph\.json: node ids must be 0\.\.6"),
])
def test_malformed_json_names_the_file(tmp_path, text, match):
    root = write_ppi(tmp_path)
    (root / "ppi" / "train_graph.json").write_text(text)
    with pytest.raises(DatasetFileError, match=match):
        PPI(root, "train")


def test_link_outside_the_nodes_names_the_file(tmp_path):
    root = write_ppi(tmp_path)
    (root / "ppi" / "train_graph.json").write_text(json.dumps(node_link(7, [(1, 3), (2, 9)])))
    with pytest.raises(DatasetFileError, match=r"train_graph\.json: link 1 \(2 -> 9\) refers to a node outside"):
        PPI(root, "train")


def test_arrays_that_disagree_name_the_file(tmp_path):
    root = write_ppi(tmp_path)
    np.save(root / "ppi" / "train_labels.npy", np.ones((6, C), dtype=np.int64))
    with pytest.raises(DatasetFileError, match=r"train_labels\.npy: expected \[7, C\] labels"):
        PPI(root, "train")
    np.save(root / "ppi" / "train_labels.npy", np.full((7, C), 2, dtype=np.int64))
    with pytest.raises(DatasetFileError, match=r"train_labels\.npy: labels must be 0/1"):
        PPI(root, "train")


def test_missing_folder_is_one_line_naming_the_files_and_the_zip(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        PPI(tmp_path, "train")
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "ppi") in msg and ppi.URL in msg
    assert "{train,valid,test}_{graph.json,feats.npy,labels.npy,graph_id.npy}" in msg
    with pytest.raises(FileNotFoundError, match="no published checksum"):
        PPI(tmp_path, "train", download=True)        # nothing pinned: no download


def test_download_fetches_the_pinned_zip_and_unpacks_it(tmp_path, monkeypatch):
    src = write_ppi(tmp_path / "src") / "ppi"
    archive = tmp_path / "ppi.zip"
    with zipfile.ZipFile(archive, "w") as z:          # members at the top of the zip, as in DGL's
        for f in sorted(src.iterdir()):
            z.write(f, f.name)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    root = tmp_path / "root"
    monkeypatch.setattr(ppi, "REMOTE", Remote(archive.as_uri(), sha256="0" * 64))
    with pytest.raises(DatasetFileError, match="sha256 mismatch"):
        PPI(root, "test", download=True)
    assert not (root / "ppi").exists() and not (root / "ppi.zip").exists()
    monkeypatch.setattr(ppi, "REMOTE", Remote(archive.as_uri(), sha256=digest))
    assert PPI(root, "test", download=True).graph_ids == [23]
    assert sorted(p.name for p in (root / "ppi").iterdir()) == sorted(ppi.expected_files())


def test_registry_lists_ppi_and_loads_it(tmp_path):
    entry = registry.find("ppi", tmp_path)
    assert len(entry.missing(tmp_path)) == 12 and "ppi/valid_graph_id.npy" in entry.missing(tmp_path)
    root = write_ppi(tmp_path)
    assert entry.present(root) and entry.loader(root).stats()["graphs"] == 2


def test_real_ppi_sizes(need):
    root = need(*(f"ppi/{f}" for f in ppi.expected_files()))
    sizes = {s: PPI(root, s) for s in ("train", "val", "test")}
    assert {s: len(d) for s, d in sizes.items()} == {"train": 20, "val": 2, "test": 2}
    assert {s: sum(g.num_nodes for g in d) for s, d in sizes.items()} == {"train": 44906, "val": 6514, "test": 5524}
    train = sizes["train"]
    assert train.num_features == 50 and train.num_labels == 121 and train.cross_graph_links == 0
    # torch_geometric's docs: ~61,318.4 directed edges per training graph, self loops removed
    assert sum(g.num_edges for g in train) == 1226368
