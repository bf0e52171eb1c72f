"""Traffic forecasting data: sensor speeds over time on a road graph.

What the data folder holds (see its MANIFEST): **Los-loop** (Zhao et al. 2019, T-GCN,
https://arxiv.org/abs/1811.05320), one week of 5-minute speeds of the 207 METR-LA
loop detectors with a weighted adjacency, and the **METR-LA sensor graph** of DCRNN
(Li et al. 2018, https://arxiv.org/abs/1707.01926), a directed Gaussian-kernel
adjacency over the same 207 sensors (no speeds).

The forecasting protocol (STGCN / DCRNN):

1. split the time axis chronologically into train / val / test spans;
2. fit a z-score on the training span only, :math:`\\tilde s_t = (s_t - m) / \\sigma`;
3. cut each span into sliding windows: ``input_len`` past steps in, the steps
   ``t + h`` for each horizon ``h`` out (windows never cross spans).

Example::

    data = los_loop(root).windows(input_len=12, horizons=[3, 6, 12])
    x, y = data.train.x, data.train.y     # [S, 12, 207], [S, 3, 207]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from gnnkit.datasets import safe_pickle
from gnnkit.datasets.base import read_text, require_files, resolve_root
from gnnkit.datasets.download import Remote, fetch
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.graph import Graph

_TGCN = ("https://raw.githubusercontent.com/lehaifeng/T-GCN/219a2346f5bf68d54d91a948e7a41a08f9edc46b/"
         "T-GCN/T-GCN-PyTorch/data/")
_DCRNN = ("https://raw.githubusercontent.com/chnsh/DCRNN_PyTorch/d92490b808ba5c5be2f23d427d96e9a56b066d7f/"
          "data/sensor_graph/")
REMOTES = {
    "los-loop/los_speed.csv": Remote(_TGCN + "los_speed.csv",
                                     sha256="7b732d86ae32b2930595becba28aff39dacbfb2197e250fc0332e1744ce2cbf4"),
    "los-loop/los_adj.csv": Remote(_TGCN + "los_adj.csv",
                                   sha256="7a6eb41e10677992b5af50f5ab187c6c05c5c3a92cb973950cfddbf857361e76"),
    "METR-LA-sensor-graph/adj_mx.pkl": Remote(
        _DCRNN + "adj_mx.pkl", sha256="a35687c6e15aa228dc45027b0ed2a0ea0f4ec78f573deb992c595092d12f61b3"),
    "METR-LA-sensor-graph/graph_sensor_ids.txt": Remote(
        _DCRNN + "graph_sensor_ids.txt", sha256="3ba026caa2e6263ab0ea54b0fa1b125dbfa7216544cd05313b555e826292b990"),
    "METR-LA-sensor-graph/graph_sensor_locations.csv": Remote(
        _DCRNN + "graph_sensor_locations.csv",
        sha256="eb8ea96e07358b45d0e4ba3b89c2673fa20c54af50150249e627389e749ade6f"),
}


def _fetch_missing(folder: Path, names: Sequence[str], download: bool) -> None:
    if download:
        for name in names:
            fetch(REMOTES[name], folder / name)


def read_csv_matrix(path: Path, header: bool = False) -> tuple[list[str] | None, np.ndarray]:
    """A comma-separated numeric table (optionally with one header row) as float32."""
    lines = [ln for ln in read_text(path).splitlines() if ln.strip()]
    if len(lines) < (2 if header else 1):
        raise DatasetFileError(path, f"holds no {'data rows' if lines else 'lines'}; the file is empty or truncated")
    names = lines[0].split(",") if header else None
    rows = lines[1:] if header else lines
    try:
        table = np.array([ln.split(",") for ln in rows], dtype=np.float32)
    except ValueError as err:
        raise DatasetFileError(path, f"not a rectangular numeric CSV table; truncated or corrupted ({err})") from None
    if table.ndim != 2 or (names is not None and table.shape[1] != len(names)):
        raise DatasetFileError(path, f"rows have {table.shape[1:] or 'ragged'} columns but the header names "
                                     f"{len(names) if names else '?'}; truncated or corrupted")
    bad = ~np.isfinite(table)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise DatasetFileError(path, f"holds {int(bad.sum())} non-finite value(s) (NaN/inf; the first in data row "
                                     f"{r + 1}, column {c + 1}); fill or drop them before loading")
    return names, table


def _dense_graph(adj: np.ndarray, **fields) -> Graph:
    """Edges ``src -> dst`` for each non-zero ``adj[src, dst]``, weights in ``edge_weight``;
    the diagonal is dropped (layers add their own self loops)."""
    adj = adj.copy()
    np.fill_diagonal(adj, 0.0)
    src, dst = np.nonzero(adj)
    return Graph(edge_index=torch.from_numpy(np.stack([src, dst])).long(),
                 edge_weight=torch.from_numpy(adj[src, dst]).float(), num_nodes=adj.shape[0], **fields)


def metr_la_graph(root=None, download: bool = False) -> Graph:
    """DCRNN's METR-LA sensor graph (207 nodes): ``edge_weight`` from ``adj_mx.pkl``
    (read with the restricted unpickler), directed, diagonal dropped; ``pos`` = the
    sensors' (latitude, longitude)."""
    folder = resolve_root(root) / "traffic"
    names = ["METR-LA-sensor-graph/adj_mx.pkl", "METR-LA-sensor-graph/graph_sensor_locations.csv"]
    _fetch_missing(folder, names, download)
    require_files([folder / n for n in names], "METR-LA sensor graph", hint="; or pass download=True")
    obj = safe_pickle.load(folder / names[0])
    if not (isinstance(obj, (list, tuple)) and len(obj) == 3 and isinstance(obj[2], np.ndarray)):
        raise DatasetFileError(folder / names[0], "expected (sensor_ids, sensor_id_to_ind, adj_mx)")
    ids, _, adj = obj
    if adj.shape != (len(ids), len(ids)):
        raise DatasetFileError(folder / names[0], f"adjacency has shape {adj.shape} for {len(ids)} sensors")
    _, loc = read_csv_matrix(folder / names[1], header=True)
    if loc.shape[0] != len(ids) or not np.array_equal(loc[:, 1].astype(np.int64), np.array(ids, dtype=np.int64)):
        raise DatasetFileError(folder / names[1], "sensor order differs from adj_mx.pkl")
    return _dense_graph(adj, extra={"pos": torch.from_numpy(loc[:, 2:4])}, levels={"pos": "node"})


@dataclass
class ZScore:
    """Per-dataset z-score :math:`(s - m) / \\sigma` with ``mean`` m and ``std`` sigma fitted
    on the training span; ``inverse`` maps predictions back to speeds."""

    mean: float
    std: float

    @classmethod
    def fit(cls, signal: torch.Tensor) -> "ZScore":
        std = float(signal.std())
        return cls(float(signal.mean()), std if std > 0 else 1.0)

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        return (s - self.mean) / self.std

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.std + self.mean


@dataclass
class Windows:
    """Sliding windows of one span: ``x`` [S, input_len, N] (normalised), ``y`` [S, H, N]
    (normalised; ``scaler.inverse`` gives speeds), ``t`` [S] the index of each window's
    last input step in the full series."""

    x: torch.Tensor
    y: torch.Tensor
    t: torch.Tensor

    def __len__(self) -> int:
        return self.x.size(0)


@dataclass
class WindowedSeries:
    train: Windows
    val: Windows
    test: Windows
    scaler: ZScore
    graph: Graph
    spans: dict


def sliding_windows(signal: torch.Tensor, input_len: int, horizons: Sequence[int], offset: int = 0) -> Windows:
    """All windows inside ``signal`` [T, N]: inputs ``s[t-input_len+1 .. t]``, targets
    ``s[t + h]`` for each ``h`` in ``horizons``."""
    T = signal.size(0)
    last = max(horizons)
    if T - last <= input_len - 1:
        raise ValueError(f"a span of {T} steps is too short for input_len={input_len} and horizon {last}; "
                         "use a longer span or shorter windows")
    ends = torch.arange(input_len - 1, T - last)                                   # [S]
    steps = torch.arange(-input_len + 1, 1)
    x = signal[ends[:, None] + steps[None, :]]                                      # [S, input_len, N]
    y = signal[ends[:, None] + torch.tensor(list(horizons))[None, :]]              # [S, H, N]
    return Windows(x, y, ends + offset)


class TrafficSeries:
    """A node signal over time with its graph.

    Args:
        signal: [T, N] float (e.g. speeds).
        graph: the sensor graph (N nodes).
        name: for ``repr``.
    """

    def __init__(self, signal: torch.Tensor, graph: Graph, name: str = "traffic"):
        if signal.dim() != 2 or signal.size(1) != graph.num_nodes:
            raise ValueError(f"signal must be [T, N] with N = {graph.num_nodes} graph nodes "
                             f"(got {list(signal.shape)})")
        self.signal, self.graph, self.name = signal, graph, name

    def windows(self, input_len: int = 12, horizons: int | Sequence[int] = 12,
                split: Sequence[float] = (0.7, 0.1, 0.2)) -> WindowedSeries:
        """Chronological split, z-score fitted on train, sliding windows per span.

        ``horizons`` is a number H (predict steps 1..H) or a list of step offsets
        (e.g. ``[3, 6, 12]`` = 15, 30, 60 minutes ahead at 5-minute steps).
        """
        hs = list(range(1, horizons + 1)) if isinstance(horizons, int) else [int(h) for h in horizons]
        if not hs or min(hs) < 1:
            raise ValueError(f"horizons must be >= 1 (got {horizons})")
        if input_len < 1:
            raise ValueError(f"input_len must be >= 1 (got {input_len})")
        if len(split) != 3 or min(split) < 0 or abs(sum(split) - 1.0) > 1e-6:
            raise ValueError(f"split must be three fractions (train, val, test) summing to 1 (got {tuple(split)})")
        T = self.signal.size(0)
        n_train = int(round(split[0] * T))
        n_val = int(round(split[1] * T))
        bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, T)}
        scaler = ZScore.fit(self.signal[:n_train])
        z = scaler(self.signal)
        parts = {k: sliding_windows(z[a:b], input_len, hs, offset=a) for k, (a, b) in bounds.items()}
        return WindowedSeries(parts["train"], parts["val"], parts["test"], scaler, self.graph, bounds)

    def stats(self) -> dict:
        return {"name": self.name, "graphs": 1, "nodes": self.graph.num_nodes, "edges": self.graph.num_edges,
                "steps": self.signal.size(0), "features": 1,
                "signal_mean": float(self.signal.mean()), "signal_min": float(self.signal.min()),
                "signal_max": float(self.signal.max())}

    def __repr__(self) -> str:
        return f"TrafficSeries({self.name}, T={self.signal.size(0)}, N={self.graph.num_nodes})"


def los_loop(root=None, download: bool = False) -> TrafficSeries:
    """Los-loop (T-GCN): speeds [2016, 207] (7 days x 288 five-minute steps) and the
    symmetric weighted adjacency ``los_adj.csv`` (diagonal dropped); ``sensor_id`` per node."""
    folder = resolve_root(root) / "traffic"
    names = ["los-loop/los_speed.csv", "los-loop/los_adj.csv"]
    _fetch_missing(folder, names, download)
    require_files([folder / n for n in names], "Los-loop", hint="; or pass download=True")
    ids, speed = read_csv_matrix(folder / names[0], header=True)
    _, adj = read_csv_matrix(folder / names[1])
    if adj.shape != (speed.shape[1], speed.shape[1]):
        raise DatasetFileError(folder / names[1], f"adjacency is {adj.shape} but the speeds have "
                                                  f"{speed.shape[1]} sensors")
    try:
        sensor_id = torch.tensor([int(float(s)) for s in ids])
    except ValueError as err:
        raise DatasetFileError(folder / names[0], f"header must hold numeric sensor ids ({err})") from None
    graph = _dense_graph(adj, extra={"sensor_id": sensor_id}, levels={"sensor_id": "node"})
    return TrafficSeries(torch.from_numpy(speed), graph, name="Los-loop")
