"""Cluster-GCN: METIS partitions as minibatches, with the edges between the chosen clusters restored.

Chiang, Liu, Si, Li, Bengio & Hsieh, "Cluster-GCN: An Efficient Algorithm for Training Deep and
Large Graph Convolutional Networks", KDD 2019, https://arxiv.org/abs/1905.07953 (Section 3.2,
stochastic multiple partitions; Algorithm 1).

The nodes are split by METIS into ``c`` clusters :math:`V_1, \\dots, V_c` (``ClusterData``).
Each step of an epoch picks ``q`` clusters at random without replacement (``ClusterLoader``,
``batch_size = q``) and trains on the subgraph they induce,

.. math::
    \\bar V = V_{t_1} \\cup \\dots \\cup V_{t_q}, \\qquad \\bar A = A_{\\bar V, \\bar V}

so the edges *between* the chosen clusters come back, which single-cluster batches lose.

The partition (METIS k-way through ``pymetis``, on the symmetrised graph without self loops) is
cached on disk as ``.npz`` arrays (no pickle: loaded with ``allow_pickle=False``), written to a
temporary name and renamed, and keyed by a checksum of the graph's edges and the parameters; a
file whose checksum, shape or values do not match is reported and rebuilt.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import time
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from gnnkit.graph import Graph
from gnnkit.loader.neighbor import _ranges, subgraph_batch

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$GNNKIT_CACHE/partitions``, else ``~/.cache/gnnkit/partitions``."""
    base = os.environ.get("GNNKIT_CACHE") or Path.home() / ".cache" / "gnnkit"
    return Path(base) / "partitions"


def graph_checksum(rowptr: torch.Tensor, col: torch.Tensor) -> str:
    """blake2b of the CSR structure (node count, row pointer, columns): the same graph with its
    edges listed in another order has the same checksum."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(rowptr.numel() - 1).encode())
    h.update(rowptr.to(torch.int64).contiguous().numpy().tobytes())
    h.update(col.to(torch.int64).contiguous().numpy().tobytes())
    return h.hexdigest()


def _digest(parts: np.ndarray) -> str:
    return hashlib.blake2b(np.ascontiguousarray(parts).tobytes(), digest_size=16).hexdigest()


def metis_partition(rowptr: torch.Tensor, col: torch.Tensor, num_parts: int, recursive: bool = False,
                    symmetric: bool = False) -> tuple[np.ndarray, int]:
    """``(parts [N] int64, edge cut)``: METIS k-way (or recursive bisection) on the symmetrised
    graph without self loops. Needs ``pip install pymetis``.

    ``symmetric=True`` says the CSR already holds both directions of every edge with each row's
    columns sorted (``gnnkit data synth`` writes it so): repeated entries and self loops are then
    dropped in place of scipy's ``A + A^T``, which needs ~10x the memory (ogbn-products' size:
    0.6 GB of METIS input instead of several GB of scipy temporaries)."""
    import scipy.sparse as sp

    n = rowptr.numel() - 1
    if num_parts == 1:
        return np.zeros(n, dtype=np.int64), 0
    if symmetric:
        xadj, adjncy = _metis_input_sorted(rowptr.numpy().astype(np.int64), col.numpy())
    else:
        a = sp.csr_matrix((np.ones(col.numel(), dtype=np.int32), col.numpy().astype(np.int32),
                           rowptr.numpy().astype(np.int64)), shape=(n, n))
        sym = (a + a.T).tocsr()                                   # undirected: METIS needs both directions
        rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(sym.indptr))
        keep = sym.indices != rows                                # no self loops
        adjncy = np.ascontiguousarray(sym.indices[keep], dtype=np.int32)
        xadj = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows[keep], minlength=n), out=xadj[1:])
        del a, sym, rows, keep
    return metis_parts(xadj, adjncy, num_parts, recursive)


def metis_parts(xadj: np.ndarray, adjncy: np.ndarray, num_parts: int, recursive: bool = False
                ) -> tuple[np.ndarray, int]:
    """``(parts [N] int64, edge cut)`` of METIS on its own CSR input (both directions of every edge,
    no self loops). pymetis copies arrays whose integer width is not METIS' ``idx_t`` (64-bit in
    the pip wheels), so int64 ``adjncy`` avoids a copy of ``E`` entries."""
    try:
        import pymetis
    except ImportError as err:   # pragma: no cover - pymetis is a dependency of gnnkit
        raise ImportError("ClusterData needs METIS through pymetis: pip install pymetis") from err
    if num_parts == 1:
        return np.zeros(xadj.size - 1, dtype=np.int64), 0
    if hasattr(pymetis, "CSRAdjacency"):                       # pymetis >= 2025.2
        cut, parts = pymetis.part_graph(num_parts, pymetis.CSRAdjacency(xadj, adjncy), recursive=recursive)
    else:
        cut, parts = pymetis.part_graph(num_parts, xadj=xadj, adjncy=adjncy, recursive=recursive)
    return np.asarray(parts, dtype=np.int64), int(cut)


def _metis_input_sorted(rowptr: np.ndarray, col: np.ndarray, dtype=np.int32) -> tuple[np.ndarray, np.ndarray]:
    """``(xadj int64, adjncy dtype)`` of a symmetric CSR whose rows are sorted: each row's repeated
    entries and its self loop dropped, chunk by chunk (temporaries of one chunk, not of ``E``)."""
    n = rowptr.size - 1
    deg = np.diff(rowptr)
    keep_deg = np.zeros(n, dtype=np.int64)
    adjncy = np.empty(col.size, dtype=dtype)
    filled, rows_per_chunk = 0, max(1, (1 << 22) * n // max(col.size, 1))     # ~4M entries a chunk
    for lo in range(0, n, rows_per_chunk):
        hi = min(n, lo + rows_per_chunk)
        a, b = int(rowptr[lo]), int(rowptr[hi])
        c = np.asarray(col[a:b])
        rows = np.repeat(np.arange(lo, hi, dtype=np.int64), deg[lo:hi])
        first = np.ones(c.size, dtype=bool)                            # a row's first entry is never a repeat
        first[1:] = (c[1:] != c[:-1]) | (rows[1:] != rows[:-1])
        if c.size > 1 and bool(((c[1:] < c[:-1]) & (rows[1:] == rows[:-1])).any()):
            raise ValueError("metis_partition(symmetric=True) needs each row's columns sorted; "
                             "pass symmetric=False to symmetrise through scipy")
        keep = first & (c != rows)
        kept = c[keep]
        adjncy[filled:filled + kept.size] = kept
        filled += kept.size
        keep_deg[lo:hi] = np.bincount(rows[keep] - lo, minlength=hi - lo)
    xadj = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep_deg, out=xadj[1:])
    return xadj, adjncy[:filled]                                       # a view: no second copy


# ------------------------------------------------------------------ the partition cache (shared with loader.disk)
def partition_file_name(checksum: str, num_parts: int, recursive: bool) -> str:
    method = "rb" if recursive else "kway"
    return f"metis-{checksum}-{num_parts}-{method}-v{CACHE_VERSION}.npz"


def partition_key(checksum: str, num_nodes: int, num_parts: int, recursive: bool) -> dict:
    return {"version": CACHE_VERSION, "checksum": checksum, "num_nodes": num_nodes, "num_parts": num_parts,
            "recursive": recursive}


def read_partition_cache(path: Path, key: dict, num_nodes: int, num_parts: int
                         ) -> tuple[np.ndarray | None, int | None, str | None]:
    """``(parts, edge cut, 'hit')`` from a cache file that matches ``key``; ``(None, None, None)``
    when there is none; ``(None, None, 'corrupt')`` (with a warning) when it does not match."""
    if not path.is_file():
        return None, None, None
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(bytes(f["meta"]).decode())
            parts = np.array(f["parts"])
            edge_cut = int(f["edge_cut"])
        problem = None
        if {k: meta.get(k) for k in key} != key:
            problem = "its key does not match this graph and these parameters"
        elif parts.shape != (num_nodes,) or parts.dtype != np.int64:
            problem = f"parts has shape {parts.shape} and dtype {parts.dtype}"
        elif parts.size and (parts.min() < 0 or parts.max() >= num_parts):
            problem = "parts holds cluster ids out of range"
        elif meta.get("digest") != _digest(parts):
            problem = "its content checksum does not match"
    except Exception as err:                                  # a truncated or foreign file
        problem = f"it cannot be read ({type(err).__name__}: {err})"
    if problem is not None:
        warnings.warn(f"partition cache {path} is corrupt ({problem}); partitioning again and rewriting it",
                      stacklevel=4)
        return None, None, "corrupt"
    return parts, edge_cut, "hit"


def write_partition_cache(path: Path, key: dict, parts: np.ndarray, edge_cut: int) -> None:
    """``parts`` and the edge cut as ``.npz`` (no pickle), written to a temporary name and renamed."""
    from gnnkit.train.checkpoint import _atomic

    meta = key | {"digest": _digest(parts)}
    buf = io.BytesIO()
    np.savez(buf, parts=parts, edge_cut=np.int64(edge_cut),
             meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    _atomic(path, lambda f: f.write(buf.getvalue()))


class ClusterData:
    """A graph partitioned into ``num_parts`` METIS clusters, nodes regrouped cluster by cluster.

    Args:
        graph: the graph to partition (its edges are read through ``graph.adj()``).
        num_parts: number of clusters ``c``.
        recursive: METIS recursive bisection instead of k-way.
        cache_dir: folder for the partition cache (default :func:`default_cache_dir`); ``None`` with
            ``cache=False`` partitions without touching the disk.
        cache: read / write the cache.

    Attributes:
        perm: ``[N]`` the graph's node ids, cluster by cluster (cluster ``p`` is
            ``perm[partptr[p]:partptr[p+1]]``).
        partptr: ``[c + 1]`` cluster boundaries in ``perm``.
        parts: ``[N]`` each node's cluster.
        edge_cut, seconds: METIS' edge cut and partitioning time (``None`` when read from the cache).
        cache_path: the cache file, and ``cache_status``: ``'hit'``, ``'built'``, ``'rebuilt'`` or ``'off'``.

    Shapes: N nodes, E edges; the regrouped CSR ``rowptr`` [N + 1], ``col`` [E] (in regrouped ids).

    Example::

        data = ClusterData(g, num_parts=128)
        loader = ClusterLoader(data, batch_size=32, shuffle=True)
    """

    def __init__(self, graph: Graph, num_parts: int, recursive: bool = False, cache_dir: str | Path | None = None,
                 cache: bool = True):
        if not isinstance(num_parts, int) or num_parts < 1:
            raise ValueError(f"num_parts must be a positive int (got {num_parts!r})")
        if num_parts > max(graph.num_nodes, 1):
            raise ValueError(f"num_parts={num_parts} exceeds the graph's {graph.num_nodes} nodes; use fewer parts")
        self.graph, self.num_parts, self.recursive = graph, num_parts, recursive
        adj = graph.adj()
        self.checksum = graph_checksum(adj.rowptr, adj.src)
        self.edge_cut, self.seconds, self.cache_path = None, None, None
        self.cache_status = "off"
        if cache:
            self.cache_path = Path(cache_dir or default_cache_dir()) / self._file_name()
            parts = self._read_cache()
        else:
            parts = None
        if parts is None:
            t0 = time.perf_counter()
            parts_np, self.edge_cut = metis_partition(adj.rowptr, adj.src, num_parts, recursive)
            self.seconds = time.perf_counter() - t0
            parts = torch.from_numpy(parts_np)
            if cache:
                self._write_cache(parts_np)
                self.cache_status = "rebuilt" if self.cache_status == "corrupt" else "built"
        self.parts = parts
        self.perm = torch.argsort(parts, stable=True)                         # [N] regrouped -> graph id
        counts = torch.bincount(parts, minlength=num_parts)
        self.partptr = torch.zeros(num_parts + 1, dtype=torch.long)
        self.partptr[1:] = torch.cumsum(counts, 0)
        # The regrouped CSR by target: row i is node perm[i]; columns in regrouped ids.
        inv = torch.empty_like(self.perm)
        inv[self.perm] = torch.arange(self.perm.numel())
        deg = adj.rowptr.diff()[self.perm]
        self.rowptr = torch.zeros(graph.num_nodes + 1, dtype=torch.long)
        self.rowptr[1:] = torch.cumsum(deg, 0)
        old_pos = _ranges(adj.rowptr[self.perm], deg)
        self.col = inv[adj.src[old_pos]]
        self.node_part = torch.repeat_interleave(torch.arange(num_parts), counts)  # [N] cluster of regrouped node

    # ------------------------------------------------------------------ cache
    def _file_name(self) -> str:
        return partition_file_name(self.checksum, self.num_parts, self.recursive)

    def _meta(self) -> dict:
        return partition_key(self.checksum, self.graph.num_nodes, self.num_parts, self.recursive)

    def _read_cache(self) -> torch.Tensor | None:
        parts, self.edge_cut, status = read_partition_cache(self.cache_path, self._meta(), self.graph.num_nodes,
                                                            self.num_parts)
        self.cache_status = status or self.cache_status
        return None if parts is None else torch.from_numpy(parts)

    def _write_cache(self, parts: np.ndarray) -> None:
        write_partition_cache(self.cache_path, self._meta(), parts, self.edge_cut)

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return self.num_parts

    def cluster_sizes(self) -> torch.Tensor:
        return self.partptr.diff()

    def batch(self, clusters: torch.Tensor) -> Graph:
        """The subgraph induced by the union of ``clusters`` (cluster ids): nodes cluster by cluster
        (``n_id`` = their graph ids), every edge between them, the graph's node fields at ``n_id``."""
        clusters = torch.as_tensor(clusters, dtype=torch.long).view(-1)
        sizes = self.partptr[clusters + 1] - self.partptr[clusters]                    # [q]
        starts = self.partptr[clusters]
        nodes = _ranges(starts, sizes)                                                 # [M] regrouped ids
        chosen = torch.zeros(self.num_parts, dtype=torch.bool)
        chosen[clusters] = True
        offset = torch.zeros(self.num_parts, dtype=torch.long)
        offset[clusters] = (torch.cumsum(sizes, 0) - sizes) - starts                   # local = regrouped + offset
        pos = _ranges(self.rowptr[starts], self.rowptr[starts + sizes] - self.rowptr[starts])
        deg = self.rowptr[nodes + 1] - self.rowptr[nodes]
        dst = torch.repeat_interleave(torch.arange(nodes.numel()), deg)                # [E'] local target
        col = self.col[pos]
        col_part = self.node_part[col]
        keep = chosen[col_part]                                                        # source in a chosen cluster
        col, col_part = col[keep], col_part[keep]
        edge_index = torch.stack([col + offset[col_part], dst[keep]])
        return subgraph_batch(self.graph, self.perm[nodes], edge_index, None, nodes.numel())

    def __repr__(self) -> str:
        return f"ClusterData(num_parts={self.num_parts}, num_nodes={self.graph.num_nodes}, cache={self.cache_status})"


class ClusterLoader:
    """Stochastic multiple-cluster batches (Cluster-GCN, Section 3.2): every epoch the clusters in
    a random order (``shuffle``), ``batch_size`` of them per batch, each batch the subgraph they
    induce with the between-cluster edges restored (:meth:`ClusterData.batch`). Batches are
    ``Graph`` s with ``n_id`` (graph id of each node) and every node field of the graph.

    Args:
        cluster_data: a :class:`ClusterData` (or a :class:`~gnnkit.loader.disk.DiskClusterData`).
        batch_size: clusters per batch (``q``).
        shuffle: a new cluster order every epoch (from ``generator`` or the global torch generator).
        clusters: the clusters this loader draws from (default: all); distributed training gives
            each rank its own share.
        generator: a ``torch.Generator`` (default: the global one).

    Example::

        loader = ClusterLoader(ClusterData(g, 128), batch_size=32, shuffle=True)   # 4 batches an epoch
        for batch in loader:
            loss = F.cross_entropy(model(batch.x, batch.adj())[batch.train_mask], batch.y[batch.train_mask])
    """

    def __init__(self, cluster_data: ClusterData, batch_size: int = 1, shuffle: bool = False,
                 clusters: torch.Tensor | None = None, generator: torch.Generator | None = None):
        from gnnkit.loader.disk import DiskClusterData

        if not isinstance(cluster_data, (ClusterData, DiskClusterData)):
            raise TypeError(f"ClusterLoader takes a ClusterData or DiskClusterData (got {type(cluster_data).__name__}); "
                            "wrap the graph first: ClusterLoader(ClusterData(graph, num_parts), ...)")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
        self.data, self.batch_size, self.shuffle, self.generator = cluster_data, batch_size, shuffle, generator
        self.clusters = (torch.arange(cluster_data.num_parts) if clusters is None
                         else torch.as_tensor(clusters, dtype=torch.long).view(-1))

    def __len__(self) -> int:
        return -(-self.clusters.numel() // self.batch_size)

    def __iter__(self) -> Iterator[Graph]:
        order = self.clusters
        if self.shuffle:
            order = order[torch.randperm(order.numel(), generator=self.generator)]
        for i in range(len(self)):
            yield self.data.batch(order[i * self.batch_size:(i + 1) * self.batch_size])

    def __repr__(self) -> str:
        return f"ClusterLoader(clusters={self.clusters.numel()}, batch_size={self.batch_size}, shuffle={self.shuffle})"
