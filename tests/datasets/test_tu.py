"""tu.py: GIN-format and TU raw parsing, real dataset statistics, folds, GIN features."""
import gzip

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

from gnnkit.datasets import TUDataset, stratified_kfold
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.datasets.tu import canonical, parse_gin
from tests.strategies import small_graphs

# Two graphs: a labelled triangle (label 5) and a 2-node path with a self loop (label 3).
TOY = """2
3 5
1 2 1 2
1 2 0 2
4 2 0 1
2 3
0 2 1 1
0 1 0
"""


def _toy_root(tmp_path, text=TOY, name="TOY", gz=False):
    folder = tmp_path / "tu" / name
    folder.mkdir(parents=True)
    if gz:
        (folder / f"{name}.txt.gz").write_bytes(gzip.compress(text.encode()))
    else:
        (folder / f"{name}.txt").write_text(text)
    return tmp_path


@pytest.mark.parametrize("gz", [False, True])
def test_gin_format_hand_written(tmp_path, gz):
    ds = TUDataset(_toy_root(tmp_path, gz=gz), "toy")
    assert len(ds) == 2 and ds.label_values == [3, 5] and ds.y.tolist() == [1, 0]
    g0, g1 = ds[0], ds[1]
    assert g0.num_nodes == 3 and sorted(map(tuple, g0.edge_index.t().tolist())) == \
        [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert g0.node_label.tolist() == [1, 1, 4]
    # node 0 lists neighbour 1 twice (a duplicate) and node 1 lists itself: merged, loop kept
    assert sorted(map(tuple, g1.edge_index.t().tolist())) == [(0, 1), (1, 0)]
    assert ds.node_label_values == [0, 1, 4]


def test_gin_format_line_parser_handles_node_attributes(tmp_path):
    text = "1\n2 0\n7 1 1 0.5 1.5\n7 1 0 2.5 3.5\n"
    ds = TUDataset(_toy_root(tmp_path, text), "TOY")
    torch.testing.assert_close(ds[0].node_attr, torch.tensor([[0.5, 1.5], [2.5, 3.5]]))


@pytest.mark.parametrize("text, match", [
    ("2\n3 5\n1 2 1 2\n1 2 0 2\n", r"TOY\.txt: graph 0 needs 3 node lines .* truncated"),
    ("2\n1 0\n0 0\n", r"TOY\.txt: file ends at line 4 after 1 of 2 graphs; it is truncated"),
    ("1\n2 0\n0 1 5\n0 1 0\n", r"TOY\.txt: line 3: neighbour id 5 is outside its graph of 2 nodes"),
    ("1\n2 0\n0 3 1\n0 1 0\n", r"TOY\.txt: line 3: announces 3 neighbours but lists 1"),
    ("x\n", r"TOY\.txt: line 1 must be the number of graphs"),
])
def test_gin_format_errors_name_file_and_line(tmp_path, text, match):
    with pytest.raises(DatasetFileError, match=match):
        TUDataset(_toy_root(tmp_path, text), "TOY")


def test_truncated_gzip_names_the_file(tmp_path):
    folder = tmp_path / "tu" / "TOY"
    folder.mkdir(parents=True)
    (folder / "TOY.txt.gz").write_bytes(gzip.compress(TOY.encode() * 50)[:40])
    with pytest.raises(DatasetFileError, match=r"TOY\.txt\.gz: cannot be read: truncated or corrupted"):
        TUDataset(tmp_path, "TOY")


def _raw_root(tmp_path, **parts):
    """``tu/TOY/raw/TOY_<part>.txt`` for each keyword (``A``, ``graph_indicator``, ...)."""
    raw = tmp_path / "tu" / "TOY" / "raw"
    raw.mkdir(parents=True)
    for part, text in parts.items():
        (raw / f"TOY_{part}.txt").write_text(text)
    return tmp_path


def test_tu_raw_format_hand_written(tmp_path):
    root = _raw_root(tmp_path, A="1, 2\n2, 1\n2, 3\n3, 2\n4, 5\n5, 4\n", graph_indicator="1\n1\n1\n2\n2\n",
                     graph_labels="-1\n1\n", node_labels="0\n2\n0\n1\n1\n", edge_labels="0\n0\n1\n1\n2\n2\n")
    ds = TUDataset(root, "TOY")
    assert ds.format == "tu" and ds.y.tolist() == [0, 1] and ds.label_values == [-1, 1]
    assert ds[0].edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]] and ds[0].edge_label.tolist() == [0, 0, 1, 1]
    assert ds[1].edge_index.tolist() == [[0, 1], [1, 0]] and ds[1].node_label.tolist() == [1, 1]


def test_tu_raw_edge_across_graphs_is_rejected(tmp_path):
    root = _raw_root(tmp_path, A="1, 3\n", graph_indicator="1\n1\n2\n", graph_labels="0\n1\n")
    with pytest.raises(DatasetFileError, match=r"TOY_A\.txt: an edge joins nodes of two different graphs"):
        TUDataset(root, "TOY")


def test_missing_dataset_lists_what_is_present(tmp_path):
    _toy_root(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"TU dataset 'NCI109' not found .*present: TOY"):
        TUDataset(tmp_path, "NCI109")


def test_canonical_names():
    assert canonical("IMDB-BINARY") == canonical("imdbbinary") == "IMDBBINARY"
    assert canonical("PTC_MR") == "PTC_MR" != canonical("PTC")
    assert canonical("reddit-binary") == "REDDITBINARY"


def test_stratified_kfold_partitions_and_balances():
    y = torch.tensor([0] * 30 + [1] * 20)
    folds = stratified_kfold(y, k=5, seed=3)
    tests = torch.cat([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(50))
    for tr, te in folds:
        assert sorted(torch.cat([tr, te]).tolist()) == list(range(50))
        assert torch.bincount(y[te]).tolist() == [6, 4]
    again = stratified_kfold(y, k=5, seed=3)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(folds, again))
    with pytest.raises(ValueError, match="at least k graphs per class"):
        stratified_kfold(torch.tensor([0, 0, 1]), k=2)


def test_folds_generated_when_no_split_files(tmp_path):
    text = "10\n" + "".join(f"1 {i % 2}\n0 0\n" for i in range(10))
    ds = TUDataset(_toy_root(tmp_path, text), "TOY")
    folds = ds.folds(k=5, seed=0)
    assert len(folds) == 5 and sorted(torch.cat([te for _, te in folds]).tolist()) == list(range(10))


# ------------------------------------------------------------------ real files
REAL = {  # name: (graphs, classes, mean nodes)
    "MUTAG": (188, 2, 17.93), "PTC": (344, 2, 25.56), "PTC_MR": (344, 2, 14.29), "NCI1": (4110, 2, 29.87),
    "PROTEINS": (1113, 2, 39.06), "ENZYMES": (600, 6, 32.63), "DD": (1178, 2, 284.32),
    "IMDB-BINARY": (1000, 2, 19.77), "IMDB-MULTI": (1500, 3, 13.00), "COLLAB": (5000, 3, 74.49),
    "REDDIT-BINARY": (2000, 2, 429.63),
}
_CACHE = {}


def _load(data_root, name):
    if name not in _CACHE:
        try:
            _CACHE[name] = TUDataset(data_root, name)
        except FileNotFoundError as err:
            pytest.skip(f"{name} absent from the data folder: {err}")
    return _CACHE[name]


@pytest.mark.parametrize("name", list(REAL))
def test_real_tu_statistics_and_shipped_folds(data_root, name):
    graphs, classes, mean_nodes = REAL[name]
    ds = _load(data_root, name)
    s = ds.stats()
    assert (s["graphs"], s["classes"]) == (graphs, classes)
    assert round(s["avg_nodes"], 2) == mean_nodes
    folds = ds.folds()
    assert len(folds) == 10
    tests = torch.cat([te for _, te in folds])
    assert tests.unique().numel() == tests.numel() == 10 * (graphs // 10)  # disjoint test folds
    for tr, te in folds:
        assert torch.equal(torch.sort(torch.cat([tr, te])).values, torch.arange(graphs))  # partitions 0..B-1


@pytest.mark.parametrize("name, edges", [("MUTAG", 7442), ("PROTEINS", 162088), ("ENZYMES", 74564)])
def test_raw_tu_files_match_gin_format(data_root, name, edges):
    if not (data_root / "tu" / name / "raw").is_dir():
        pytest.skip(f"{name}/raw absent")
    raw = TUDataset(data_root, name, format="tu")
    gin = _load(data_root, name)
    assert raw.format == "tu" and len(raw) == len(gin)
    assert sum(g.num_edges for g in raw.graphs) == edges

    def signatures(ds):  # the DGCNN copies list graphs in another order: compare as multisets
        return sorted((g.num_nodes, int(g.y), tuple(g.edge_index.flatten().tolist())) for g in ds.graphs)

    assert signatures(raw) == signatures(gin)


def test_the_reader_gives_no_node_features_and_no_protocol_choice(data_root):
    # x is left to the experiment's transform (GIN's choice lives in experiments.data.gin_features)
    ds = _load(data_root, "MUTAG")
    assert ds[0].x is None
    s = ds.stats()
    assert s["node_labels"] == 7 and "gin_features" not in s
    assert s["max_degree"] == max(int(torch.bincount(g.edge_index[1]).max()) for g in ds.graphs) == 4


def test_dataset_slicing_by_fold(data_root):
    ds = _load(data_root, "MUTAG")
    train, test = ds.folds()[0]
    assert len(ds[train]) == 170 and len(ds[test]) == 18
    assert ds[test][0] is ds.graphs[int(test[0])]


def test_fast_and_line_parsers_agree_on_real_file(data_root, monkeypatch):
    from gnnkit.datasets import tu

    path = data_root / "tu" / "PTC" / "PTC.txt"
    if not path.exists():
        pytest.skip("PTC absent")
    fast = parse_gin(path)
    monkeypatch.setattr(tu, "_parse_gin_fast", lambda text: None)
    slow = parse_gin(path)
    for field in ("sizes", "labels", "src", "dst", "node_label"):
        assert np.array_equal(getattr(fast, field), getattr(slow, field)), field


def test_download_verifies_the_pinned_file(data_root, tmp_path, monkeypatch):
    from gnnkit.datasets import tu

    source = data_root / "tu" / "MUTAG" / "MUTAG.txt"
    if not source.exists():
        pytest.skip("MUTAG absent")
    pinned = tu.REMOTES["MUTAG"]
    monkeypatch.setitem(tu.REMOTES, "MUTAG", tu.Remote(source.as_uri(), sha256=pinned.sha256))
    ds = TUDataset(tmp_path, "MUTAG", download=True)
    assert len(ds) == 188 and (tmp_path / "tu" / "MUTAG" / "MUTAG.txt").is_file()
    monkeypatch.setitem(tu.REMOTES, "PTC", tu.Remote(source.as_uri(), sha256=tu.REMOTES["PTC"].sha256))
    with pytest.raises(DatasetFileError, match=r"PTC\.txt: download from .* refused \(sha256 mismatch"):
        TUDataset(tmp_path, "PTC", download=True)
    assert list((tmp_path / "tu" / "PTC").iterdir()) == []
    monkeypatch.setitem(tu.REMOTES, "PTC", tu.Remote((data_root / "tu" / "PTC" / "PTC.txt").as_uri(),
                                                    sha256=tu.REMOTES["PTC"].sha256))
    assert len(TUDataset(tmp_path, "PTC", download=True)) == 344  # a later try fetches into the empty folder


@given(graphs=st.lists(small_graphs(max_nodes=8, max_edges=20, self_loops=False, undirected=True),
                       min_size=1, max_size=5),
       labels=st.lists(st.integers(-3, 3), min_size=5, max_size=5))
def test_gin_format_round_trip(tmp_path_factory, graphs, labels):
    """Write random undirected graphs in the GIN format, read them back unchanged."""
    lines = [str(len(graphs))]
    for g, label in zip(graphs, labels):
        lines.append(f"{g.num_nodes} {label}")
        for v in range(g.num_nodes):
            nbrs = g.edge_index[1][g.edge_index[0] == v].tolist()
            lines.append(" ".join(map(str, [v % 3, len(nbrs), *nbrs])))
    root = _toy_root(tmp_path_factory.mktemp("gin"), "\n".join(lines) + "\n")
    ds = TUDataset(root, "TOY")
    values = sorted(set(labels[: len(graphs)]))
    for g, h, label in zip(graphs, ds.graphs, labels):
        assert h.num_nodes == g.num_nodes and torch.equal(h.edge_index, g.edge_index)
        assert h.node_label.tolist() == [v % 3 for v in range(g.num_nodes)]
        assert ds.label_values[int(h.y)] == label and ds.label_values == values


@pytest.mark.parametrize("parts, match", [
    ({"A": "1, 2\n2\n"}, r"TOY_A\.txt: expected 'src, dst' pairs but found an odd number"),
    ({"node_labels": "0\n1\n"}, r"TOY_node_labels\.txt: has 2 values, expected 3 rows"),
    ({"edge_labels": "0\n"}, r"TOY_edge_labels\.txt: has 1 values, expected 2 rows"),
    ({"node_attributes": "1.0, 2.0\n3.0, 4.0\n5.0\n"}, r"TOY_node_attributes\.txt: has 5 values, expected 3 rows"),
])
def test_tu_raw_truncated_parts_name_the_file(tmp_path, parts, match):
    files = {"A": "1, 2\n2, 1\n", "graph_indicator": "1\n1\n2\n", "graph_labels": "0\n1\n"} | parts
    with pytest.raises(DatasetFileError, match=match):
        TUDataset(_raw_root(tmp_path, **files), "TOY")


def test_tu_raw_node_attributes_are_read(tmp_path):
    root = _raw_root(tmp_path, A="1, 2\n2, 1\n", graph_indicator="1\n1\n2\n", graph_labels="0\n1\n",
                     node_attributes="1.0, 2.0\n3.0, 4.0\n5.0, 6.0\n")
    ds = TUDataset(root, "TOY")
    assert ds[0].node_attr.tolist() == [[1, 2], [3, 4]] and ds[1].node_attr.tolist() == [[5, 6]]


# ------------------------------------------------------------------ default node features (issue 19)
def _gin_file(tmp_path, graphs, name="TOY"):
    """A GIN-format file: graphs are (label, [(tag, [nbrs])...])."""
    lines = [str(len(graphs))]
    for label, nodes in graphs:
        lines.append(f"{len(nodes)} {label}")
        lines += [" ".join(map(str, [tag, len(nbrs), *nbrs])) for tag, nbrs in nodes]
    folder = tmp_path / "tu" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_label_less_files_get_one_hot_degree_features(tmp_path):
    from gnnkit.datasets.tu import TUDataset

    root = _gin_file(tmp_path, [(0, [(0, [1]), (0, [0, 2]), (0, [1])]), (1, [(0, [1]), (0, [0])])])
    ds = TUDataset(root, "TOY")
    assert ds.default_features == "one-hot degree (0..2)"
    assert ds[0].x.tolist() == [[0, 1, 0], [0, 0, 1], [0, 1, 0]]        # degrees 1, 2, 1
    assert ds.stats()["default_features"] == "one-hot degree (0..2)"
    assert TUDataset(root, "TOY", features="none")[0].get("x") is None


def test_label_less_files_above_the_degree_cap_get_a_constant(tmp_path, monkeypatch):
    from gnnkit.datasets import tu

    monkeypatch.setattr(tu, "DEGREE_CAP", 1)
    root = _gin_file(tmp_path, [(0, [(0, [1]), (0, [0, 2]), (0, [1])])])
    ds = tu.TUDataset(root, "TOY")
    assert ds.default_features == "constant 1 (max degree 2 > 1)" and ds[0].x.tolist() == [[1.0]] * 3


def test_labelled_files_get_no_default_features(tmp_path):
    from gnnkit.datasets.tu import TUDataset

    root = _gin_file(tmp_path, [(0, [(0, [1]), (1, [0])])])
    ds = TUDataset(root, "TOY")
    assert ds.default_features is None and ds[0].get("x") is None
    assert "OneHotNodeLabels" in ds.stats()["default_features"]


def test_default_features_of_the_real_social_sets(need):
    from gnnkit.datasets.tu import TUDataset

    root = need("tu/IMDBBINARY/IMDBBINARY.txt")
    ds = TUDataset(root, "IMDB-BINARY")
    assert ds.default_features == "one-hot degree (0..135)" and ds[0].x.shape[1] == 136
