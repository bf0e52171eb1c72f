"""Synthetic large graphs with community structure, to measure scale where no large dataset is on disk.

A stochastic block model with heterogeneous degrees, generated in chunks straight into an int32
CSR (both directions of every undirected edge), deterministic from a seed:

- node ``v`` belongs to community ``y_v``, uniform over ``C`` classes;
- each of the ``M`` undirected edges picks its first end ``u`` with probability proportional to
  an activity :math:`a_u \\sim \\mathrm{LogNormal}(0, \\sigma)` (skewed degrees), and its second end
  uniformly among ``u``'s community with probability ``p_in``, else uniformly among all nodes
  (a self loop moves to the next node id); repeated pairs are kept (their share is in ``meta``);
- features :math:`x_v = s\\,\\mu_{y_v} + \\varepsilon_v`, :math:`\\mu_c, \\varepsilon_v \\sim N(0, I_F)`:
  weak alone, strong once averaged over a neighbourhood, so the task is learnable by a GNN;
- a random train / val / test split with the real dataset's sizes.

Presets: ``'reddit'`` (232,965 nodes, 11,606,919 undirected edges, 602 features, 41 classes, the
GraphSAGE paper's Reddit counts), ``'products'`` (2,449,029 nodes, 61,859,140 undirected edges, 100
features, 47 classes, ogbn-products' counts) and ``'small'`` (10,000 nodes, for tests).

Streaming: pass 1 counts degrees chunk by chunk, pass 2 regenerates the same chunks (same seeds)
and writes each edge at its row's fill pointer; only the int32 ``col`` array (2M entries) and one
chunk are ever held, never a Python list or an int64 edge list. ``write_synthetic`` fills ``.npy``
files through memory maps; ``load_synthetic`` reads them back (``allow_pickle=False``).

Example::

    g = synthetic_graph("small", seed=0)          # Graph with x, y, masks, edge_index
    write_synthetic("reddit", "/tmp/synth-reddit", seed=0)
    g = load_synthetic("/tmp/synth-reddit")
    nodes, rowptr, col = load_synthetic_nodes("/tmp/synth-products")   # int32 CSR, no int64 edge list
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from gnnkit.graph import Graph


@dataclass(frozen=True)
class SynthSpec:
    num_nodes: int
    num_edges: int            # undirected edges drawn
    num_features: int
    num_classes: int
    split: tuple[int, int, int]
    p_in: float = 0.8
    activity_sigma: float = 1.0
    signal: float = 0.05


PRESETS = {
    "reddit": SynthSpec(232_965, 11_606_919, 602, 41, (153_431, 23_831, 55_703)),
    "products": SynthSpec(2_449_029, 61_859_140, 100, 47, (196_615, 39_323, 2_213_091)),
    "small": SynthSpec(10_000, 100_000, 32, 8, (6_000, 1_000, 3_000), signal=0.2),
}
EDGE_CHUNK = 1 << 21          # undirected edges per chunk (2M: ~50 MB of temporaries)
NODE_CHUNK = 1 << 14


def spec_of(size: str | SynthSpec) -> SynthSpec:
    if isinstance(size, SynthSpec):
        return size
    if size not in PRESETS:
        raise ValueError(f"size must be one of {sorted(PRESETS)} (got {size!r})")
    return PRESETS[size]


def _gen(seed: int, stream: int, chunk: int) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + stream * 10_007 + chunk) % (2**63))


class _Model:
    """Communities and activities of one graph (N-sized arrays), and its edge chunks."""

    def __init__(self, spec: SynthSpec, seed: int):
        self.spec, self.seed = spec, seed
        g = _gen(seed, 0, 0)
        n = spec.num_nodes
        self.y = torch.randint(spec.num_classes, (n,), generator=g)
        self.members = torch.argsort(self.y, stable=True)                        # nodes community by community
        sizes = torch.bincount(self.y, minlength=spec.num_classes)
        self.comm_ptr = torch.cumsum(sizes, 0) - sizes
        self.comm_size = sizes
        activity = torch.exp(torch.randn(n, generator=g, dtype=torch.float64) * spec.activity_sigma)
        self.cum = torch.cumsum(activity, 0)
        self.cum /= self.cum[-1].clone()

    def num_chunks(self) -> int:
        return -(-self.spec.num_edges // EDGE_CHUNK)

    def edges(self, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
        """``(u, v)`` int64 of chunk ``chunk``: the same chunk gives the same edges every time."""
        spec, g = self.spec, _gen(self.seed, 1, chunk)
        m = min(EDGE_CHUNK, spec.num_edges - chunk * EDGE_CHUNK)
        n = spec.num_nodes
        u = torch.searchsorted(self.cum, torch.rand(m, generator=g, dtype=torch.float64)).clamp_(max=n - 1)
        inside = torch.rand(m, generator=g) < spec.p_in
        c = self.y[u]
        k = (torch.rand(m, generator=g, dtype=torch.float64) * self.comm_size[c]).long()
        v_in = self.members[self.comm_ptr[c] + torch.minimum(k, self.comm_size[c] - 1)]
        v_out = torch.randint(n, (m,), generator=g)
        v = torch.where(inside, v_in, v_out)
        v = torch.where(v == u, (v + 1) % n, v)                                # no self loops
        return u, v

    def features(self, start: int, stop: int, mu: torch.Tensor) -> torch.Tensor:
        g = _gen(self.seed, 2, start // NODE_CHUNK)
        noise = torch.randn(stop - start, self.spec.num_features, generator=g)
        return noise.add_(mu[self.y[start:stop]], alpha=self.spec.signal)

    def class_means(self) -> torch.Tensor:
        return torch.randn(self.spec.num_classes, self.spec.num_features, generator=_gen(self.seed, 3, 0))

    def split(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n, (tr, va, te) = self.spec.num_nodes, self.spec.split
        order = torch.randperm(n, generator=_gen(self.seed, 4, 0))
        masks = []
        for lo, hi in ((0, tr), (tr, tr + va), (tr + va, tr + va + te)):
            m = torch.zeros(n, dtype=torch.bool)
            m[order[lo:hi]] = True
            masks.append(m)
        return tuple(masks)


def _fill_csr(model: _Model, col: np.ndarray) -> tuple[np.ndarray, int]:
    """Two passes over the chunks: degrees, then each edge (both directions) at its row's next free
    slot; columns sorted inside each row. Returns ``(rowptr int32 [N + 1], repeated entries)``."""
    from scipy.sparse import _sparsetools

    n = model.spec.num_nodes
    deg = torch.zeros(n, dtype=torch.long)
    for c in range(model.num_chunks()):
        u, v = model.edges(c)
        deg += torch.bincount(u, minlength=n) + torch.bincount(v, minlength=n)
    rowptr = torch.zeros(n + 1, dtype=torch.long)
    rowptr[1:] = torch.cumsum(deg, 0)
    if int(rowptr[-1]) >= 2**31:
        raise ValueError(f"{int(rowptr[-1])} directed edges do not fit an int32 CSR")
    fill = rowptr[:-1].clone()
    col_t = torch.from_numpy(col)
    for c in range(model.num_chunks()):
        u, v = model.edges(c)
        rows, cols = torch.cat([u, v]), torch.cat([v, u])
        del u, v
        order = torch.argsort(rows, stable=True)
        rows, cols = rows[order], cols[order]
        del order
        counts = torch.bincount(rows, minlength=n)
        first = torch.cumsum(counts, 0) - counts                              # each row's first slot in the chunk
        pos = fill[rows] + torch.arange(rows.numel()) - first[rows]
        col_t[pos] = cols.int()
        fill += counts
        del rows, cols, pos
    rowptr32 = rowptr.int().numpy()
    data = np.zeros(col.size, dtype=np.int8)                                   # scipy's kernel wants values
    _sparsetools.csr_sort_indices(n, rowptr32, col, data)
    del data
    same = col[1:] == col[:-1]
    ends = rowptr32[1:-1][rowptr32[1:-1] > 0] - 1                              # a row's last slot vs the next row's first
    same[ends[ends < same.size]] = False
    return rowptr32, int(same.sum())


def _meta(spec: SynthSpec, seed: int, repeated: int, name: str) -> dict:
    return {"name": name, "seed": seed, "spec": asdict(spec), "directed_edges": 2 * spec.num_edges,
            "repeated_directed_entries": repeated, "format": "int32 CSR by target, symmetric"}


def synthetic_csr(size: str | SynthSpec = "reddit", seed: int = 0):
    """``(rowptr int32 [N + 1], col int32 [2M], x [N, F] float32, y [N], (train, val, test), meta)``."""
    spec = spec_of(size)
    model = _Model(spec, seed)
    col = np.empty(2 * spec.num_edges, dtype=np.int32)
    rowptr, repeated = _fill_csr(model, col)
    mu = model.class_means()
    x = torch.empty(spec.num_nodes, spec.num_features)
    for start in range(0, spec.num_nodes, NODE_CHUNK):
        stop = min(start + NODE_CHUNK, spec.num_nodes)
        x[start:stop] = model.features(start, stop, mu)
    return (torch.from_numpy(rowptr), torch.from_numpy(col), x, model.y, model.split(),
            _meta(spec, seed, repeated, size if isinstance(size, str) else "custom"))


def csr_graph(rowptr: torch.Tensor, col: torch.Tensor, x, y, masks) -> Graph:
    """A ``Graph`` from a symmetric CSR (``edge_index`` int64, sorted by target then source)."""
    n = rowptr.numel() - 1
    dst = torch.repeat_interleave(torch.arange(n), rowptr.long().diff())
    edge_index = torch.stack([col.long(), dst])
    train, val, test = masks
    return Graph(x=x, edge_index=edge_index, y=y, train_mask=train, val_mask=val, test_mask=test, num_nodes=n)


def synthetic_graph(size: str | SynthSpec = "reddit", seed: int = 0) -> Graph:
    """The synthetic graph as a :class:`Graph` (x, y, masks; edges in both directions)."""
    rowptr, col, x, y, masks, meta = synthetic_csr(size, seed)
    g = csr_graph(rowptr, col, x, y, masks)
    g.meta = meta
    return g


def write_synthetic(size: str | SynthSpec, out: str | Path, seed: int = 0) -> dict:
    """Generate into ``out/`` (``rowptr.npy``, ``col.npy``, ``x.npy``, ``y.npy``, ``*_mask.npy``,
    ``meta.json``), filling memory-mapped files chunk by chunk; files appear under their names only
    when complete (written as ``.tmp`` then renamed). Returns the meta dict."""
    import os

    spec = spec_of(size)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    def mm(name, dtype, shape):
        return np.lib.format.open_memmap(out / f"{name}.npy.tmp", mode="w+", dtype=dtype, shape=shape)

    model = _Model(spec, seed)
    col = mm("col", np.int32, (2 * spec.num_edges,))
    rowptr, repeated = _fill_csr(model, col)
    col.flush()
    del col
    np.save(out / "rowptr.npy.tmp.npy", rowptr)
    os.replace(out / "rowptr.npy.tmp.npy", out / "rowptr.npy.tmp")
    mu = model.class_means()
    x = mm("x", np.float32, (spec.num_nodes, spec.num_features))
    for start in range(0, spec.num_nodes, NODE_CHUNK):
        stop = min(start + NODE_CHUNK, spec.num_nodes)
        x[start:stop] = model.features(start, stop, mu).numpy()
    x.flush()
    del x
    for name, arr in zip(("y", "train_mask", "val_mask", "test_mask"), (model.y, *model.split())):
        np.save(out / f"{name}.npy.tmp.npy", arr.numpy())
        os.replace(out / f"{name}.npy.tmp.npy", out / f"{name}.npy.tmp")
    for name in ("col", "rowptr", "x", "y", "train_mask", "val_mask", "test_mask"):
        os.replace(out / f"{name}.npy.tmp", out / f"{name}.npy")
    meta = _meta(spec, seed, repeated, size if isinstance(size, str) else "custom")
    from gnnkit.train.checkpoint import write_json

    write_json(meta, out / "meta.json")       # atomically, as the arrays beside it
    return meta


def _read_written(folder: Path) -> dict[str, torch.Tensor]:
    """The arrays of a folder of :func:`write_synthetic` (``allow_pickle=False``), with ``meta``."""
    names = ("rowptr", "col", "x", "y", "train_mask", "val_mask", "test_mask")
    missing = [n for n in names if not (folder / f"{n}.npy").is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(m + '.npy' for m in missing)}; generate it with "
                                f"`gnnkit data synth --size reddit --out {folder}`")
    return {n: torch.from_numpy(np.load(folder / f"{n}.npy", allow_pickle=False)) for n in names}


def _meta_of(folder: Path) -> dict:
    meta_path = folder / "meta.json"
    return json.loads(meta_path.read_text()) if meta_path.is_file() else {}


def load_synthetic(folder: str | Path) -> Graph:
    """The graph written by :func:`write_synthetic` (arrays read with ``allow_pickle=False``)."""
    folder = Path(folder)
    arrays = _read_written(folder)
    g = csr_graph(arrays["rowptr"], arrays["col"], arrays["x"], arrays["y"],
                  (arrays["train_mask"], arrays["val_mask"], arrays["test_mask"]))
    g.meta = _meta_of(folder)
    return g


def load_synthetic_nodes(folder: str | Path) -> tuple[Graph, torch.Tensor, torch.Tensor]:
    """What sampling needs of a written graph, without the int64 edge list: ``(graph, rowptr, col)``
    with ``graph`` holding the node fields (x, y, masks) and no edges, ``rowptr`` int64 ``[N + 1]`` and
    ``col`` the int32 ``[2M]`` CSR as written (4 B a directed edge, where :func:`load_synthetic`'s
    ``Graph`` and its ``SparseAdj`` hold ~40 B). Pass them as
    ``NeighborLoader(graph, [25, 10], csr=(rowptr, col))``."""
    folder = Path(folder)
    arrays = _read_written(folder)
    g = Graph(x=arrays["x"], y=arrays["y"], y_level="node", train_mask=arrays["train_mask"],
              val_mask=arrays["val_mask"], test_mask=arrays["test_mask"], num_nodes=arrays["rowptr"].numel() - 1)
    g.meta = _meta_of(folder)
    return g, arrays["rowptr"].long(), arrays["col"]
