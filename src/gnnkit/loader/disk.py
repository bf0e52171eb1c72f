"""Cluster-GCN on a graph kept on disk: only what a training step needs is in memory.

:class:`~gnnkit.loader.ClusterData` holds the whole graph as a ``Graph`` (int64 ``edge_index`` and
the ``SparseAdj`` built from it, about 40 B per directed edge) plus the regrouped CSR (12 B per
edge): at ogbn-products' size (123.7M directed edges) that is 6.4 GB before the first step.
Cluster-GCN's point (Chiang et al., KDD 2019, https://arxiv.org/abs/1905.07953, Section 3) is that
a step touches only its ``q`` clusters, so :class:`DiskClusterData` keeps in memory only

- the regrouped CSR's row pointer (int64 ``[N + 1]``), the node order ``perm`` and ``partptr``,
- the labels and masks in regrouped order (``y``, ``train_mask``, ``val_mask``, ``test_mask``),

and reads, for each batch, the chosen clusters' rows of the regrouped int32 CSR (``q`` contiguous
ranges of ``col.npy``, read with plain file reads) and their feature rows from the graph's
``x.npy`` (``np.load(mmap_mode='r')``; the mapping is dropped after the batch, so the pages read
leave the resident set with it). Batches equal :meth:`ClusterData.batch`'s for the same clusters.

The input is a folder written by :func:`gnnkit.datasets.large.write_synthetic` (symmetric int32
CSR by target, rows sorted; ``x.npy``, ``y.npy`` and masks). The METIS partition is shared with
``ClusterData``'s cache (the same key: a checksum of the CSR, streamed here in chunks); the
regrouped CSR is cached beside it as ``clusters-<checksum>-<parts>-kway-v1/`` (``rowptr.npy``,
``col.npy``, ``meta.json`` with both files' checksums), written under a temporary name and
renamed; a store whose key, shapes or checksums do not match is reported and rebuilt.

Example::

    data = DiskClusterData("/tmp/gnnkit-synth-products", num_parts=15_000)
    loader = ClusterLoader(data, batch_size=32, shuffle=True)
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from gnnkit.graph import Graph
from gnnkit.loader.cluster import (CACHE_VERSION, _metis_input_sorted, default_cache_dir, metis_parts,
                                   partition_file_name, partition_key, read_partition_cache, write_partition_cache)
from gnnkit.loader.neighbor import _ranges

CHUNK = 1 << 24                      # entries read at a time when streaming a whole array (64-128 MB)
FORMAT = "int32 CSR by target, symmetric"


def _npy_open(path: Path):
    """``(file at the first data byte, shape, dtype)`` of a ``.npy`` file (no pickle, no mapping)."""
    f = open(path, "rb")
    try:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(f)
        if fortran or dtype.hasobject:
            raise ValueError(f"{path}: expected a C-order numeric array (got fortran={fortran}, dtype={dtype})")
    except BaseException:
        f.close()
        raise
    return f, shape, dtype


def _npy_chunks(path: Path, chunk: int = CHUNK):
    """The entries of a 1-D ``.npy`` file, ``chunk`` at a time, through file reads."""
    f, shape, dtype = _npy_open(path)
    with f:
        for start in range(0, int(np.prod(shape)), chunk):
            yield np.fromfile(f, dtype=dtype, count=min(chunk, int(np.prod(shape)) - start))


def _npy_ranges(path: Path, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """``concatenate([a[s:t] for s, t in zip(starts, stops)])`` of a 1-D ``.npy`` file ``a``, one
    file read per range (no mapping: nothing stays resident after the call)."""
    f, shape, dtype = _npy_open(path)
    with f:
        base = f.tell()
        out = np.empty(int((stops - starts).sum()), dtype=dtype)
        at = 0
        for s, t in zip(starts.tolist(), stops.tolist()):
            f.seek(base + s * dtype.itemsize)
            out[at:at + t - s] = np.fromfile(f, dtype=dtype, count=t - s)
            at += t - s
    return out


def csr_checksum(folder: Path) -> str:
    """:func:`gnnkit.loader.cluster.graph_checksum` of the folder's CSR, streamed: the same value
    as for ``load_synthetic(folder).adj()`` without holding the int64 arrays."""
    rowptr = np.load(folder / "rowptr.npy", allow_pickle=False)
    h = hashlib.blake2b(digest_size=16)
    h.update(str(rowptr.size - 1).encode())
    h.update(rowptr.astype(np.int64).tobytes())
    for c in _npy_chunks(folder / "col.npy"):
        h.update(c.astype(np.int64).tobytes())
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            h.update(block)
    return h.hexdigest()


class DiskClusterData:
    """METIS clusters of a graph on disk, batches read cluster by cluster (see the module docstring).

    Args:
        folder: a graph written by :func:`gnnkit.datasets.large.write_synthetic`.
        num_parts: number of clusters ``c``.
        cache_dir: folder of the partition cache and of the regrouped CSR (default
            :func:`gnnkit.loader.cluster.default_cache_dir`).

    Attributes:
        perm, partptr, num_parts, num_nodes, checksum: as :class:`ClusterData`'s.
        y, train_mask, val_mask, test_mask: ``[N]`` in regrouped order (node ``perm[i]`` is row ``i``).
        edge_cut, seconds: METIS' edge cut and time, its input included (``seconds`` is ``None`` when
            the partition came from the cache); ``cache_status``: ``'hit'``, ``'built'`` or ``'rebuilt'`` (the partition),
            ``store_status``: the same for the regrouped CSR.

    Shapes: N nodes, E directed edges, F features; in memory ``8 (2N + c)`` bytes of index plus the
    labels and masks; per batch of M nodes and E' edges, ``4 E'`` bytes of columns and ``4 M F`` of features.

    Example::

        data = DiskClusterData("/tmp/gnnkit-synth-products", num_parts=15_000)
        for batch in ClusterLoader(data, batch_size=32, shuffle=True):
            out = model(batch.x, batch.adj())
    """

    def __init__(self, folder: str | Path, num_parts: int, cache_dir: str | Path | None = None):
        self.folder = Path(folder)
        missing = [n for n in ("rowptr", "col", "x", "y", "train_mask", "val_mask", "test_mask")
                   if not (self.folder / f"{n}.npy").is_file()]
        if missing:
            raise FileNotFoundError(f"{self.folder} lacks {', '.join(m + '.npy' for m in missing)}; DiskClusterData "
                                    "reads a folder of `gnnkit data synth --out FOLDER`")
        meta_path = self.folder / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        if meta.get("format") != FORMAT:
            raise ValueError(f"{self.folder}: DiskClusterData needs a symmetric int32 CSR as `gnnkit data synth` "
                             f"writes it (meta.json format {FORMAT!r}; got {meta.get('format')!r}); for other "
                             "graphs use ClusterData(graph, num_parts)")
        rowptr = torch.from_numpy(np.load(self.folder / "rowptr.npy", allow_pickle=False).astype(np.int64))
        self.num_nodes = rowptr.numel() - 1
        if not isinstance(num_parts, int) or num_parts < 1:
            raise ValueError(f"num_parts must be a positive int (got {num_parts!r})")
        if num_parts > max(self.num_nodes, 1):
            raise ValueError(f"num_parts={num_parts} exceeds the graph's {self.num_nodes} nodes; use fewer parts")
        self.num_parts = num_parts
        self.checksum = csr_checksum(self.folder)
        cache_dir = Path(cache_dir or default_cache_dir())
        self.cache_path = cache_dir / partition_file_name(self.checksum, num_parts, False)
        key = partition_key(self.checksum, self.num_nodes, num_parts, False)
        parts, self.edge_cut, status = read_partition_cache(self.cache_path, key, self.num_nodes, num_parts)
        self.seconds = None
        if parts is None:
            t0 = time.perf_counter()
            col = np.load(self.folder / "col.npy", allow_pickle=False)
            xadj, adjncy = _metis_input_sorted(rowptr.numpy(), col, dtype=np.int64)   # METIS' idx_t: no copy
            del col                                                                    # not held while METIS runs
            parts, self.edge_cut = metis_parts(xadj, adjncy, num_parts)
            del xadj, adjncy
            self.seconds = time.perf_counter() - t0
            write_partition_cache(self.cache_path, key, parts, self.edge_cut)
            status = "rebuilt" if status == "corrupt" else "built"
        self.cache_status = status
        parts = torch.from_numpy(parts)
        self.perm = torch.argsort(parts, stable=True)                              # [N] regrouped -> graph id
        counts = torch.bincount(parts, minlength=num_parts)
        del parts
        self.partptr = torch.zeros(num_parts + 1, dtype=torch.long)
        self.partptr[1:] = torch.cumsum(counts, 0)
        self.store = cache_dir / f"clusters-{self.checksum}-{num_parts}-kway-v{CACHE_VERSION}"
        self.rowptr = self._open_store(rowptr)                                    # [N + 1] regrouped CSR rows
        del rowptr
        for name in ("y", "train_mask", "val_mask", "test_mask"):
            value = torch.from_numpy(np.load(self.folder / f"{name}.npy", allow_pickle=False))
            setattr(self, name, value.index_select(0, self.perm))

    # ------------------------------------------------------------------ the regrouped CSR on disk
    def _store_key(self) -> dict:
        return {"version": CACHE_VERSION, "checksum": self.checksum, "num_nodes": self.num_nodes,
                "num_parts": self.num_parts, "partition": self.cache_path.name}

    def _open_store(self, rowptr: torch.Tensor) -> torch.Tensor:
        problem = self._check_store(int(rowptr[-1]))
        if problem is None:
            self.store_status = "hit"
            return torch.from_numpy(np.load(self.store / "rowptr.npy", allow_pickle=False))
        if problem != "absent":
            warnings.warn(f"regrouped CSR {self.store} is corrupt ({problem}); writing it again", stacklevel=3)
        self._write_store(rowptr)
        self.store_status = "built" if problem == "absent" else "rebuilt"
        return torch.from_numpy(np.load(self.store / "rowptr.npy", allow_pickle=False))

    def _check_store(self, num_entries: int) -> str | None:
        meta_path = self.store / "meta.json"
        if not meta_path.is_file():
            return "absent"
        try:
            meta = json.loads(meta_path.read_text())
            key = self._store_key()
            if {k: meta.get(k) for k in key} != key:
                return "its key does not match this graph and these parameters"
            for name, shape, dtype in (("rowptr", (self.num_nodes + 1,), np.int64), ("col", (num_entries,), np.int32)):
                f, got_shape, got_dtype = _npy_open(self.store / f"{name}.npy")
                f.close()
                if tuple(got_shape) != shape or got_dtype != dtype:
                    return f"{name}.npy has shape {tuple(got_shape)} and dtype {got_dtype} (expected {shape}, {np.dtype(dtype)})"
                if meta.get(f"{name}_digest") != _file_digest(self.store / f"{name}.npy"):
                    return f"{name}.npy's checksum does not match"
        except Exception as err:                                              # truncated or foreign files
            return f"it cannot be read ({type(err).__name__}: {err})"
        return None

    def _write_store(self, rowptr: torch.Tensor) -> None:
        """The CSR with rows in ``perm`` order and columns renamed to regrouped ids, written as
        ``rowptr.npy`` (int64) and ``col.npy`` (int32) into a temporary folder that is then renamed."""
        inv = torch.empty(self.num_nodes, dtype=torch.int32)
        inv[self.perm] = torch.arange(self.num_nodes, dtype=torch.int32)
        deg = rowptr.diff().index_select(0, self.perm)                            # [N] in regrouped order
        new_rowptr = torch.zeros(self.num_nodes + 1, dtype=torch.long)
        new_rowptr[1:] = torch.cumsum(deg, 0)
        col = torch.from_numpy(np.load(self.folder / "col.npy", allow_pickle=False))    # [E] int32, old ids
        self.store.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.store.name}.", dir=self.store.parent))
        try:
            np.save(tmp / "rowptr.npy", new_rowptr.numpy())
            out = np.lib.format.open_memmap(tmp / "col.npy", mode="w+", dtype=np.int32, shape=(col.numel(),))
            rows_per_chunk = max(1, CHUNK * self.num_nodes // max(col.numel(), 1))
            for lo in range(0, self.num_nodes, rows_per_chunk):
                hi = min(self.num_nodes, lo + rows_per_chunk)
                old = self.perm[lo:hi]
                pos = _ranges(rowptr.index_select(0, old), deg[lo:hi])
                out[int(new_rowptr[lo]):int(new_rowptr[hi])] = inv.index_select(0, col.index_select(0, pos).long()).numpy()
            out.flush()
            del out
            meta = self._store_key() | {"rowptr_digest": _file_digest(tmp / "rowptr.npy"),
                                        "col_digest": _file_digest(tmp / "col.npy")}
            (tmp / "meta.json").write_text(json.dumps(meta))
            if self.store.exists():
                shutil.rmtree(self.store)
            os.replace(tmp, self.store)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return self.num_parts

    def cluster_sizes(self) -> torch.Tensor:
        return self.partptr.diff()

    def batch(self, clusters: torch.Tensor) -> Graph:
        """The subgraph induced by the union of ``clusters``, as :meth:`ClusterData.batch` builds it
        (nodes cluster by cluster, ``n_id`` their graph ids, every edge between them, x / y / masks)."""
        clusters = torch.as_tensor(clusters, dtype=torch.long).view(-1)
        starts = self.partptr[clusters]                                            # [q]
        sizes = self.partptr[clusters + 1] - starts                                # [q]
        nodes = _ranges(starts, sizes)                                             # [M] regrouped ids
        chosen = torch.zeros(self.num_parts, dtype=torch.bool)
        chosen[clusters] = True
        offset = torch.zeros(self.num_parts, dtype=torch.long)
        offset[clusters] = (torch.cumsum(sizes, 0) - sizes) - starts               # local = regrouped + offset
        col = torch.from_numpy(_npy_ranges(self.store / "col.npy", self.rowptr[starts].numpy(),
                                           self.rowptr[starts + sizes].numpy())).long()   # [E'] regrouped sources
        deg = self.rowptr[nodes + 1] - self.rowptr[nodes]                          # [M]
        dst = torch.repeat_interleave(torch.arange(nodes.numel()), deg)            # [E'] local targets
        col_part = torch.searchsorted(self.partptr, col, right=True) - 1           # [E'] source's cluster
        keep = chosen[col_part]                                                    # source in a chosen cluster
        col, col_part = col[keep], col_part[keep]
        edge_index = torch.stack([col + offset[col_part], dst[keep]])
        n_id = self.perm.index_select(0, nodes)                                    # [M] graph ids
        x_file = np.load(self.folder / "x.npy", mmap_mode="r", allow_pickle=False)
        x = torch.from_numpy(np.ascontiguousarray(x_file[n_id.numpy()]))          # [M, F] read now, unmapped below
        del x_file
        out = Graph(x=x, edge_index=edge_index, y=self.y.index_select(0, nodes), y_level="node", num_nodes=nodes.numel(),
                    train_mask=self.train_mask.index_select(0, nodes), val_mask=self.val_mask.index_select(0, nodes),
                    test_mask=self.test_mask.index_select(0, nodes), extra={"n_id": n_id}, levels={"n_id": "node"})
        out.batch_size = nodes.numel()
        return out

    def __repr__(self) -> str:
        return (f"DiskClusterData(folder={str(self.folder)!r}, num_parts={self.num_parts}, "
                f"num_nodes={self.num_nodes}, cache={self.cache_status}, store={self.store_status})")
