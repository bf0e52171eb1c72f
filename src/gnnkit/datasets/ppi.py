"""Protein-protein interaction graphs (PPI): 24 tissue graphs, 50 features, 121 labels per node.

Hamilton, Ying & Leskovec (2017), "Inductive Representation Learning on Large Graphs"
(GraphSAGE), https://arxiv.org/abs/1706.02216; split into 20 training, 2 validation and
2 test graphs as in Veličković et al. (2018), "Graph Attention Networks",
https://arxiv.org/abs/1710.10903. The files are DGL's ``ppi.zip``
(https://data.dgl.ai/dataset/ppi.zip), the ones torch_geometric's ``PPI`` reads, unpacked
into ``root/ppi/``. For each file split ``train``, ``valid``, ``test``:

- ``{split}_graph.json``: networkx node-link JSON, ``"nodes"`` (each with an integer
  ``"id"``, the row of the node in the ``.npy`` files) and ``"links"`` (``"source"`` /
  ``"target"`` node ids), node ids numbered across all graphs of the split;
- ``{split}_feats.npy``: float ``[N_split, 50]``;
- ``{split}_labels.npy``: 0/1 ``[N_split, 121]`` (multi-label);
- ``{split}_graph_id.npy``: int ``[N_split]``, the graph of each node (1..20 train,
  21..22 valid, 23..24 test).

Each graph is the subgraph induced by one graph id (as DGL and torch_geometric build
them), its nodes relabelled ``0..N-1`` in the order of their global ids. Edges are
undirected and stored in both directions, duplicates merged. **Self loops are
removed**, as torch_geometric does (DGL keeps them): the GAT layer puts one loop on
every node itself, and GraphSAGE's root weight already sees the node. Links between
two graphs (none are expected) belong to no induced subgraph and are dropped, as in
both references; ``cross_graph_links`` counts them.

Expected sizes: 20 / 2 / 2 graphs with 44,906 / 6,514 / 5,524 nodes, 50 features, 121
labels; train has 1,226,368 directed edges without self loops. (torch_geometric's
documentation gives ~2,245.3 nodes and ~61,318.4 edges per training graph, times 20;
the validation and test node counts are those reported by users of DGL's loader.)

Download: DGL publishes no checksum for ``ppi.zip`` (``dgl/data/ppi.py`` passes none;
``DGLBuiltinDataset``'s ``hash_key`` only names the cache folder), and gnnkit fetches
nothing it cannot verify, so ``REMOTE`` is ``None`` and ``download=True`` says how to
fetch and unpack the zip by hand. Set ``REMOTE = Remote(URL, sha256=...)`` once a digest
is verified: the fetch and the guarded extraction below then run.

Arrays are read with ``np.load(..., allow_pickle=False)`` and JSON with ``json``;
nothing is cached (the files parse in seconds).
"""
from __future__ import annotations

import json
import tokenize
from itertools import product
from pathlib import Path

import numpy as np
import torch

from gnnkit.datasets.base import Dataset, resolve_root
from gnnkit.datasets.download import Remote, fetch, safe_extract
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.graph import Graph

URL = "https://data.dgl.ai/dataset/ppi.zip"
# No published digest to pin (see the module docstring); None disables download=True.
REMOTE: Remote | None = None

SPLITS = {"train": "train", "val": "valid", "test": "test"}     # API name -> file prefix
PARTS = ("graph.json", "feats.npy", "labels.npy", "graph_id.npy")
PATTERN = "{train,valid,test}_{graph.json,feats.npy,labels.npy,graph_id.npy}"


def expected_files(split: str | None = None) -> list[str]:
    """File names under ``root/ppi/`` for ``split`` ('train', 'val', 'test'), or all 12."""
    prefixes = SPLITS.values() if split is None else [SPLITS[split]]
    return [f"{p}_{part}" for p, part in product(prefixes, PARTS)]


def missing(root=None, split: str | None = None) -> list[str]:
    """The expected files that are not in ``root/ppi/``."""
    folder = resolve_root(root) / "ppi"
    return [name for name in expected_files(split) if not (folder / name).is_file()]


def describe(names: list[str]) -> str:
    """``names`` of missing files, shortened to ``PATTERN`` when all 12 are missing."""
    return PATTERN if len(names) == len(expected_files()) else ", ".join(names)


def _absent(folder: Path, names: list[str]) -> str:
    return (f"PPI: missing {describe(names)} in {folder}; download {URL} and unpack it there (its files sit at the top "
            "of the zip); there is no download=True, since no published checksum of ppi.zip exists to pin")


# ---------------------------------------------------------------- parsing
def load_array(path: Path) -> np.ndarray:
    """An ``.npy`` array read without pickle; bad files raise ``DatasetFileError`` naming the file."""
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise DatasetFileError(path, "holds pickled Python objects, which gnnkit never loads; "
                                         "a genuine PPI file is a plain numeric array") from None
        raise DatasetFileError(path, f"not a readable .npy array: truncated or corrupted ({err})") from None
    except (OSError, EOFError) as err:
        raise DatasetFileError(path, f"not a readable .npy array: truncated or corrupted ({err})") from None
    except (SyntaxError, MemoryError, tokenize.TokenError) as err:   # a corrupted header (numpy parses it as a literal)
        raise DatasetFileError(path, f"not a readable .npy array: its header is corrupted ({type(err).__name__})") \
            from None
    if not isinstance(arr, np.ndarray):      # an .npz archive
        raise DatasetFileError(path, "is an .npz archive, expected a single .npy array")
    if arr.dtype.kind not in "biuf":
        raise DatasetFileError(path, f"expected a numeric array, found dtype {arr.dtype}")
    return arr


def load_links(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(node_ids, src, dst)`` from a networkx node-link JSON file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise DatasetFileError(path, "file not found") from None
    except json.JSONDecodeError as err:
        raise DatasetFileError(path, f"not valid JSON, truncated or corrupted ({err})") from None
    except UnicodeDecodeError as err:
        raise DatasetFileError(path, f"is not UTF-8 text ({err})") from None
    links = data.get("links", data.get("edges")) if isinstance(data, dict) else None
    if not isinstance(links, list) or not isinstance(data.get("nodes"), list):
        raise DatasetFileError(path, "expected networkx node-link JSON: an object with 'nodes' and 'links' lists")
    try:
        ids = np.array([node["id"] for node in data["nodes"]], dtype=np.int64)
        src = np.array([link["source"] for link in links], dtype=np.int64)
        dst = np.array([link["target"] for link in links], dtype=np.int64)
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise DatasetFileError(path, f"every node needs an integer 'id' and every link integer 'source' and "
                                     f"'target' ({type(err).__name__}: {err})") from None
    return ids, src, dst


def read_split(folder: str | Path, prefix: str) -> tuple[list[Graph], list[int], int]:
    """Graphs of one file split (``prefix`` 'train', 'valid' or 'test'): returns the graphs,
    their graph ids (ascending) and the number of links dropped for joining two graphs."""
    folder = Path(folder)
    paths = {part: folder / f"{prefix}_{part}" for part in PARTS}
    feats, labels, graph_id = (load_array(paths[p]) for p in ("feats.npy", "labels.npy", "graph_id.npy"))
    if feats.ndim != 2:
        raise DatasetFileError(paths["feats.npy"], f"expected a [N, F] feature table, found shape {feats.shape}")
    N = feats.shape[0]
    if labels.ndim != 2 or labels.shape[0] != N:
        raise DatasetFileError(paths["labels.npy"], f"expected [{N}, C] labels (one row per feature row), "
                                                    f"found shape {labels.shape}")
    if labels.size and not np.isin(labels, (0, 1)).all():
        raise DatasetFileError(paths["labels.npy"], "labels must be 0/1 (multi-label indicators)")
    if graph_id.shape != (N,) or graph_id.dtype.kind not in "iu":
        raise DatasetFileError(paths["graph_id.npy"], f"expected {N} integer graph ids (one per feature row), "
                                                      f"found {graph_id.dtype} of shape {graph_id.shape}")
    json_path = paths["graph.json"]
    ids, src, dst = load_links(json_path)
    if ids.size != N or not np.array_equal(np.sort(ids), np.arange(N)):
        raise DatasetFileError(json_path, f"node ids must be 0..{N - 1}, the rows of {prefix}_feats.npy "
                                          f"(found {ids.size} nodes)")
    bad = (src < 0) | (src >= N) | (dst < 0) | (dst >= N)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DatasetFileError(json_path, f"link {i} ({src[i]} -> {dst[i]}) refers to a node outside 0..{N - 1}")

    # Local ids: rank of a node among the nodes of its graph, in global id order.
    graphs_ids, graph_of = np.unique(graph_id, return_inverse=True)                      # [B], [N]
    order = np.argsort(graph_of, kind="stable")
    ptr = np.concatenate([[0], np.cumsum(np.bincount(graph_of, minlength=len(graphs_ids)))])
    local = np.empty(N, dtype=np.int64)
    local[order] = np.arange(N) - ptr[graph_of[order]]

    same = graph_of[src] == graph_of[dst]
    cross = int((~same).sum())
    keep = same & (src != dst)                                                           # drop self loops
    s, d = src[keep], dst[keep]
    s, d = np.concatenate([s, d]), np.concatenate([d, s])                                # both directions
    g_edge = graph_of[s]
    n_max = max(int(np.diff(ptr).max()) if len(graphs_ids) else 1, 1)                    # largest graph
    key = np.unique((g_edge * n_max + local[s]) * n_max + local[d])                     # sorted, deduplicated
    g_edge, rest = key // (n_max * n_max), key % (n_max * n_max)
    ls, ld = rest // n_max, rest % n_max
    eptr = np.searchsorted(g_edge, np.arange(len(graphs_ids) + 1))

    x = torch.from_numpy(np.ascontiguousarray(feats, dtype=np.float32))
    y = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.float32))
    graphs = []
    for b in range(len(graphs_ids)):
        nodes = torch.from_numpy(order[ptr[b]:ptr[b + 1]])
        e0, e1 = eptr[b], eptr[b + 1]
        edge_index = torch.from_numpy(np.stack([ls[e0:e1], ld[e0:e1]]))                 # [2, E_b]
        graphs.append(Graph(x=x[nodes], edge_index=edge_index, y=y[nodes], num_nodes=len(nodes), y_level="node"))
    return graphs, graphs_ids.tolist(), cross


class PPI(Dataset):
    """The PPI graphs of one split: a list of ``Graph``, one per tissue.

    Args:
        root: data root (default ``$GNNKIT_DATA`` or the user cache); files are read from
            ``root/ppi/`` (see the module docstring).
        split: ``'train'`` (20 graphs), ``'val'`` (2; the files' ``valid_*``), ``'test'`` (2).
        transform: callable ``Graph -> Graph`` applied on access.
        download: fetch and unpack ``ppi.zip`` when files are missing; needs a pinned
            ``REMOTE``, which there is none of yet (the error says how to fetch by hand).

    Shapes: ``x`` [N, 50] float32, ``y`` [N, 121] float32 0/1 (multi-label),
    ``edge_index`` [2, E] int64 with both directions of each edge and no self loops.

    Example::

        train = PPI(root, "train")
        len(train), sum(g.num_nodes for g in train), train.num_labels   # (20, 44906, 121)
    """

    def __init__(self, root=None, split: str = "train", transform=None, download: bool = False):
        if split not in SPLITS:
            raise ValueError(f"split must be one of 'train', 'val', 'test' (got {split!r})")
        root = resolve_root(root)
        self.folder, self.split = root / "ppi", split
        if download and missing(root):
            self._download(root)
        absent = missing(root, split)
        if absent:
            raise FileNotFoundError(_absent(self.folder, missing(root)))
        graphs, self.graph_ids, self.cross_graph_links = read_split(self.folder, SPLITS[split])
        super().__init__(graphs, transform=transform, name=f"PPI {split}")

    def _download(self, root: Path) -> None:
        if REMOTE is None:
            raise FileNotFoundError(_absent(self.folder, missing(root)))
        archive = fetch(REMOTE, root / "ppi.zip")
        safe_extract(archive, self.folder)

    @property
    def num_labels(self) -> int:
        """Labels per node (121): ``y`` is multi-label."""
        return self.graphs[0].y.size(1) if self.graphs else 0

    @property
    def num_classes(self) -> int:
        return self.num_labels

    def stats(self) -> dict:
        out = super().stats()
        out["split"] = self.split
        return out
