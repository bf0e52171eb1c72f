"""A tiny PPI folder in the real on-disk format (DGL's ppi.zip): 2 train, 1 valid, 1 test graphs.

Train nodes of the two graphs are interleaved (graph ids ``[2, 1, 2, 1, 1, 2, 2]``), so
graph 1 holds global nodes 1, 3, 4 and graph 2 holds 0, 2, 5, 6. Train links (global ids):
``1-3, 3-4, 4-4`` (a self loop), ``0-2, 2-0`` (the same edge twice), ``5-6, 2-5``.
Row ``i`` of ``feats`` starts with ``i``, so alignment can be read off column 0.
"""
import json
from pathlib import Path

import numpy as np

F, C = 50, 121
TRAIN_GRAPH_ID = [2, 1, 2, 1, 1, 2, 2]
TRAIN_LINKS = [(1, 3), (3, 4), (4, 4), (0, 2), (2, 0), (5, 6), (2, 5)]
SPLITS = {
    "train": (TRAIN_GRAPH_ID, TRAIN_LINKS),
    "valid": ([21, 21, 21], [(0, 1), (1, 2)]),
    "test": ([23, 23], [(0, 1)]),
}


def arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features (row ``i`` starts with ``i``) and 0/1 labels of ``n`` nodes."""
    rng = np.random.default_rng(seed)
    feats = rng.standard_normal((n, F)).astype(np.float32)
    feats[:, 0] = np.arange(n)
    labels = (rng.random((n, C)) < 0.3).astype(np.int64)
    return feats, labels


def node_link(n: int, links) -> dict:
    """networkx node-link JSON of an undirected graph; nodes listed in reverse id order."""
    return {"directed": False, "multigraph": False, "graph": {},
            "nodes": [{"id": i, "test": False, "val": False} for i in reversed(range(n))],
            "links": [{"source": int(s), "target": int(t)} for s, t in links]}


def write_ppi(root: Path) -> Path:
    """Write the toy files under ``root/ppi/``; returns ``root``."""
    folder = Path(root) / "ppi"
    folder.mkdir(parents=True, exist_ok=True)
    for seed, (split, (graph_id, links)) in enumerate(SPLITS.items()):
        n = len(graph_id)
        feats, labels = arrays(n, seed)
        np.save(folder / f"{split}_feats.npy", feats)
        np.save(folder / f"{split}_labels.npy", labels)
        np.save(folder / f"{split}_graph_id.npy", np.array(graph_id, dtype=np.int64))
        (folder / f"{split}_graph.json").write_text(json.dumps(node_link(n, links)))
    return Path(root)
