"""Planetoid citation graphs (Cora, CiteSeer, PubMed) from the original ``ind.<name>.*`` files.

Yang, Cohen & Salakhutdinov (2016), "Revisiting Semi-Supervised Learning with Graph
Embeddings", https://arxiv.org/abs/1603.08861; splits as in Kipf & Welling (2017),
https://arxiv.org/abs/1609.02907.

Files (pickles, read with ``safe_pickle.load``; never plain ``pickle``):
``x``/``y`` the labelled training nodes, ``tx``/``ty`` the test nodes, ``allx``/``ally``
every non-test node, ``graph`` a dict of adjacency lists, ``test.index`` the test ids.
Node order: ``allx`` rows (ids ``0..len(allx)-1``), then the test ids.

CiteSeer has 15 test-range ids with no features and no label (isolated nodes); they
get zero feature rows, label ``-1`` and stay out of every mask (the standard way).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from gnnkit.datasets import safe_pickle
from gnnkit.datasets.base import Dataset, require_files, resolve_root
from gnnkit.datasets.download import Remote, fetch
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.graph import Graph
from gnnkit.ops import remove_self_loops, to_undirected

NAMES = {"cora": "cora", "citeseer": "citeseer", "pubmed": "pubmed"}
PARTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
SPLITS = ("public", "full", "random")

_URL = "https://raw.githubusercontent.com/kimiyoung/planetoid/af6abf468a772cc055bec88c52e4d6f51b7c37e3/data/"
_SHA256 = {
    "cora": {
        "allx": "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
        "ally": "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
        "graph": "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
        "test.index": "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
        "tx": "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
        "ty": "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
        "x": "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
        "y": "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    },
    "citeseer": {
        "allx": "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
        "ally": "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
        "graph": "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
        "test.index": "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
        "tx": "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
        "ty": "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
        "x": "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
        "y": "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    },
    "pubmed": {
        "ally": "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
        "graph": "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
        "test.index": "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
        "tx": "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
        "ty": "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
        "x": "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
        "y": "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
    },
}
# ind.pubmed.allx: only its git blob id in kimiyoung/planetoid is known (see shared/data/MANIFEST.md).
_GIT_BLOB = {"pubmed": {"allx": "3b86bccf08111c37c632a9dd8ab63db25ea76361"}}


def remote(name: str, part: str) -> Remote:
    """Pinned source of ``ind.<name>.<part>``."""
    return Remote(_URL + f"ind.{name}.{part}", sha256=_SHA256[name].get(part),
                  git_blob=_GIT_BLOB.get(name, {}).get(part))


def _dense(m, path: Path) -> np.ndarray:
    if sp.issparse(m):
        return np.asarray(m.todense())
    if isinstance(m, np.ndarray):
        return m
    raise DatasetFileError(path, f"expected a matrix (scipy sparse or numpy array), found {type(m).__name__}")


def _read_index(path: Path) -> np.ndarray:
    try:
        text = path.read_text()
        return np.array([int(line) for line in text.split()], dtype=np.int64)
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except ValueError as err:
        raise DatasetFileError(path, f"expected one integer node id per line ({err})") from None


def read_planetoid(folder: str | Path, name: str) -> tuple[Graph, int]:
    """Parse ``folder/ind.<name>.*`` into a graph with ``x``, ``y`` (``-1`` = no label) and
    the undirected, duplicate- and self-loop-free ``edge_index``. Returns the graph and the
    number of labelled training rows in ``x`` (the public split's train size)."""
    folder = Path(folder)
    paths = {p: folder / f"ind.{name}.{p}" for p in PARTS}
    require_files(list(paths.values()), name,
                  hint="; fetch with download=True (PubMed's ind.pubmed.allx may be absent from the shared "
                       "data folder, see its MANIFEST.md)")
    obj = {p: safe_pickle.load(paths[p]) for p in PARTS if p != "test.index"}
    x, tx, allx = (_dense(obj[p], paths[p]) for p in ("x", "tx", "allx"))
    y, ty, ally = (_dense(obj[p], paths[p]) for p in ("y", "ty", "ally"))
    graph = obj["graph"]
    if not isinstance(graph, dict):
        raise DatasetFileError(paths["graph"], f"expected a dict of adjacency lists, found {type(graph).__name__}")
    test_idx = _read_index(paths["test.index"])
    if len(test_idx) != tx.shape[0] or len(tx) != len(ty):
        raise DatasetFileError(paths["test.index"], f"has {len(test_idx)} ids but tx/ty have {tx.shape[0]}/"
                                                    f"{ty.shape[0]} rows")
    if allx.shape[0] != ally.shape[0]:
        raise DatasetFileError(paths["allx"], f"has {allx.shape[0]} rows but ally has {ally.shape[0]}")

    # Every size is checked against the files' own sizes before it is used, so a corrupted file is
    # named instead of silently resizing the graph (a test id of 999999 would make a million nodes).
    for part, arr in (("x", x), ("tx", tx)):
        if arr.shape[1] != allx.shape[1]:
            raise DatasetFileError(paths[part], f"has {arr.shape[1]} feature columns but allx has {allx.shape[1]}")
    for part, arr in (("y", y), ("ty", ty)):
        if arr.shape[1] != ally.shape[1]:
            raise DatasetFileError(paths[part], f"has {arr.shape[1]} label columns but ally has {ally.shape[1]}")
    if y.shape[0] != x.shape[0] or x.shape[0] > allx.shape[0]:
        raise DatasetFileError(paths["y"], f"has {y.shape[0]} rows but x has {x.shape[0]} (and allx "
                                           f"{allx.shape[0]}); x/y are the first labelled rows of allx/ally")
    # The graph file names every node: ids run 0..max(graph). Test ids lie after allx's rows; ids in
    # that range absent from test.index (CiteSeer) are isolated nodes with no features and no label.
    if not all(isinstance(k, (int, np.integer)) and k >= 0 for k in graph):
        raise DatasetFileError(paths["graph"], "keys must be node ids >= 0")
    # The graph's ids and the test ids bound each other, so one corrupted number cannot size the graph
    # (a key of 10**6 in the graph file would ask for a 10**6-row feature matrix).
    num_nodes = max(max(graph) + 1 if graph else 0, allx.shape[0] + len(test_idx))
    covered = max(allx.shape[0], int(test_idx.max()) + 1 if test_idx.size else 0)
    if graph and max(graph) >= max(covered, allx.shape[0] + len(test_idx)):
        raise DatasetFileError(paths["graph"], f"names node {max(graph)}, beyond the {covered} nodes that allx "
                                               "and test.index give features to")
    bad = test_idx[(test_idx < allx.shape[0]) | (test_idx >= num_nodes)]
    if bad.size:
        raise DatasetFileError(paths["test.index"], f"holds node id {int(bad[0])}, outside the test range "
                                                    f"{allx.shape[0]}..{num_nodes - 1} (after allx's rows, within "
                                                    "the graph's nodes)")
    if np.unique(test_idx).size != test_idx.size:
        raise DatasetFileError(paths["test.index"], "lists a node id twice")
    features = np.zeros((num_nodes, allx.shape[1]), dtype=np.float32)
    labels = np.full(num_nodes, -1, dtype=np.int64)
    features[: allx.shape[0]] = allx
    labels[: ally.shape[0]] = np.where(ally.sum(1) > 0, ally.argmax(1), -1)
    features[test_idx] = tx
    labels[test_idx] = np.where(ty.sum(1) > 0, ty.argmax(1), -1)

    rows, cols = [], []
    for src, nbrs in graph.items():
        rows.extend([src] * len(nbrs))
        cols.extend(nbrs)
    edge_index = torch.tensor([rows, cols], dtype=torch.long)
    if edge_index.numel() and int(edge_index.max()) >= num_nodes:
        raise DatasetFileError(paths["graph"], f"refers to node {int(edge_index.max())} but there are {num_nodes}")
    edge_index, _ = remove_self_loops(edge_index)
    edge_index, _ = to_undirected(edge_index, None, num_nodes)
    g = Graph(x=torch.from_numpy(features), edge_index=edge_index, y=torch.from_numpy(labels), y_level="node")
    return g, x.shape[0]


def planetoid_split(y: torch.Tensor, split: str = "public", num_public_train: int | None = None,
                    num_train_per_class: int = 20, num_val: int = 500, num_test: int = 1000,
                    test_index: torch.Tensor | None = None, seed: int = 0):
    """``(train_mask, val_mask, test_mask)`` for one of the standard protocols.

    - ``'public'``: the first ``num_public_train`` nodes train (20 per class), the next 500
      validate, ``test_index`` (the file's 1,000 test ids) test (Kipf & Welling, 2017).
    - ``'full'``: validation and test as in ``'public'``; every other labelled node trains.
    - ``'random'``: ``num_train_per_class`` labelled nodes per class drawn with ``seed``,
      then ``num_val`` and ``num_test`` from the rest.
    Unlabelled nodes (``y == -1``) are in no mask.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
    n = y.size(0)
    labelled = y >= 0
    masks = [torch.zeros(n, dtype=torch.bool) for _ in range(3)]
    train, val, test = masks
    if split in ("public", "full"):
        if num_public_train is None or test_index is None:
            raise ValueError(f"split={split!r} needs num_public_train and test_index (the files' split)")
        val[num_public_train: num_public_train + 500] = True
        test[test_index] = True
        if split == "public":
            train[:num_public_train] = True
        else:
            train[:] = ~(val | test)
    else:
        gen = torch.Generator().manual_seed(seed)
        for c in range(int(y.max()) + 1):
            idx = (y == c).nonzero().view(-1)
            if idx.numel() < num_train_per_class:
                raise ValueError(f"class {c} has {idx.numel()} nodes, fewer than num_train_per_class="
                                 f"{num_train_per_class}")
            train[idx[torch.randperm(idx.numel(), generator=gen)[:num_train_per_class]]] = True
        rest = (labelled & ~train).nonzero().view(-1)
        rest = rest[torch.randperm(rest.numel(), generator=gen)]
        if num_val + num_test > rest.numel():
            raise ValueError(f"num_val + num_test = {num_val + num_test} exceeds the {rest.numel()} labelled nodes "
                             "left after training nodes")
        val[rest[:num_val]] = True
        test[rest[num_val: num_val + num_test]] = True
    return train & labelled, val & labelled, test & labelled


class Planetoid(Dataset):
    """Cora, CiteSeer or PubMed as one graph with split masks.

    Args:
        root: data root (default ``$GNNKIT_DATA`` or the user cache); files are read
            from ``root/planetoid/ind.<name>.*``.
        name: ``'cora'``, ``'citeseer'`` or ``'pubmed'`` (any case).
        split: ``'public'`` (default), ``'full'`` or ``'random'`` (see ``planetoid_split``).
        num_train_per_class, num_val, num_test, seed: for ``split='random'``.
        transform: e.g. ``NormalizeFeatures()``, applied on access.
        download: fetch missing files from the original repository (sha256-pinned).

    Shapes: ``x`` [N, F] float32, ``y`` [N] int64 (-1 = unlabelled), ``edge_index`` [2, E]
    with both directions of each undirected edge, masks [N] bool.

    Example::

        g = Planetoid(root, "cora")[0]
        g.num_nodes, g.num_edges, int(g.train_mask.sum())   # (2708, 10556, 140)
    """

    def __init__(self, root=None, name: str = "cora", split: str = "public", num_train_per_class: int = 20,
                 num_val: int = 500, num_test: int = 1000, seed: int = 0, transform=None, download: bool = False):
        key = name.lower()
        if key not in NAMES:
            raise ValueError(f"name must be one of 'cora', 'citeseer', 'pubmed' (got {name!r})")
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
        folder = resolve_root(root) / "planetoid"
        if download:
            for part in PARTS:
                fetch(remote(key, part), folder / f"ind.{key}.{part}")
        g, num_public_train = read_planetoid(folder, key)
        test_index = torch.from_numpy(_read_index(folder / f"ind.{key}.test.index"))
        train, val, test = planetoid_split(g.y, split, num_public_train, num_train_per_class, num_val, num_test,
                                           test_index, seed)
        g = g.replace(train_mask=train, val_mask=val, test_mask=test)
        super().__init__([g], transform=transform, name={"cora": "Cora", "citeseer": "CiteSeer",
                                                           "pubmed": "PubMed"}[key])
