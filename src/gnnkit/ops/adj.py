"""The sparse adjacency: built once per graph, cached, and handed to every layer.

``SparseAdj`` stores the edges sorted by target (CSR by target: row ``v`` of ``A``
holds the in-edges of node ``v``, ``A[dst, src] = w``), the in-degrees, and a cache
of derived objects (normalizations, Laplacians, self loops) keyed by name, so a layer
that needs :math:`D^{-1/2}(A + I)D^{-1/2}` builds it once per graph, not once per call.
``as_adj`` turns what a layer was given (an ``edge_index`` or a ``SparseAdj``) into a
``SparseAdj``, keeping the structure of recently seen ``edge_index`` tensors.

The kernels that multiply by the adjacency are in :mod:`gnnkit.ops.kernels`.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
import torch

from gnnkit.ops.checks import check_edge_index


# --------------------------------------------------------------- other libraries' private APIs
def _scipy_csr_tocsc(n_rows: int, n_cols: int, rowptr: np.ndarray, col: np.ndarray, data: np.ndarray):
    """``(colptr, row, data)`` of the CSC form of an ``n_rows x n_cols`` CSR matrix, entries of a
    column in row order: scipy's private ``scipy.sparse._sparsetools.csr_tocsc``, the counting-sort
    kernel behind ``csr_matrix.tocsc()`` without its format checks (0.07 ms on Cora's 10,556
    edges against 0.24 ms through ``tocsc()`` and 0.9 ms for torch's argsort). The one place gnnkit
    calls scipy's private API; ``tests/ops/test_adj.py`` fails if the kernel changes."""
    from scipy.sparse import _sparsetools

    colptr = np.empty(n_cols + 1, dtype=col.dtype)
    row, out = np.empty_like(col), np.empty_like(data)
    _sparsetools.csr_tocsc(n_rows, n_cols, rowptr, col, data, colptr, row, out)
    return colptr, row, out


def _version_counter(t: torch.Tensor) -> int:
    """``t``'s in-place version counter (torch's private ``Tensor._version``): it grows with every
    in-place change of ``t`` or of a view of it. The one place gnnkit reads it;
    ``tests/ops/test_adj.py`` fails if it stops counting."""
    return t._version


# --------------------------------------------------------------- sorting and transposing
def _is_sorted(major: torch.Tensor, minor: torch.Tensor, n: int) -> bool:
    """Whether the pairs ``(major, minor)`` are in non-decreasing order."""
    key = major * max(n, 1) + minor
    return key.numel() < 2 or bool((key[1:] >= key[:-1]).all())


def _argsort_pairs(major: torch.Tensor, minor: torch.Tensor, n: int) -> torch.Tensor:
    """Stable order of the pairs ``(major, minor)`` (values in ``[0, n)``), as one sort of
    ``major * n + minor``; the key is int32 when ``n * n`` fits (measured ~20% faster than int64
    on PubMed's 88,648 edges)."""
    key = major * max(n, 1) + minor
    if n * n < 2**31:
        key = key.int()
    return torch.argsort(key, stable=True)


def _rowptr(rows: torch.Tensor, n: int) -> torch.Tensor:
    """``[n + 1]`` CSR row pointer of sorted row ids."""
    rowptr = torch.zeros(n + 1, dtype=torch.long, device=rows.device)
    rowptr[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return rowptr


def transpose_csr(rowptr: torch.Tensor, col: torch.Tensor, data: torch.Tensor, shape: tuple[int, int]):
    """``(rowptr, col, data)`` of the transpose of a ``shape`` CSR matrix, entries kept in row order
    inside each new row (``rowptr`` and ``col`` come back in ``col``'s integer type). On CPU a
    counting sort in O(nnz + columns) (:func:`_scipy_csr_tocsc`); elsewhere a stable argsort."""
    if col.device.type == "cpu":
        a_ptr, a_col, a_data = (np.ascontiguousarray(t.numpy()) for t in (rowptr.to(col.dtype), col, data))
        b_ptr, b_col, b_data = _scipy_csr_tocsc(shape[0], shape[1], a_ptr, a_col, a_data)
        return torch.from_numpy(b_ptr), torch.from_numpy(b_col), torch.from_numpy(b_data)
    order = torch.argsort(col, stable=True)
    rows = torch.repeat_interleave(torch.arange(shape[0], device=col.device), rowptr.diff())
    return _rowptr(col, shape[1]).to(col.dtype), rows.index_select(0, order).to(col.dtype), data.index_select(0, order)


class CSRIndex(NamedTuple):
    """The index arrays of ``A`` (or ``A^T``) in CSR form, for ``torch.sparse_csr_tensor``.

    ``rowptr``: ``[N + 1]``; ``col``: ``[E]`` (both int32 when ``E`` fits, else int64);
    ``order``: ``[E]`` int64, the position in the adjacency's edge order of each entry
    (``None`` for ``A`` itself, whose entries are in that order)."""

    rowptr: torch.Tensor
    col: torch.Tensor
    order: torch.Tensor | None


class _Structure:
    """The weight-free part of a ``SparseAdj`` (edges sorted by (dst, src), row pointer, the
    permutation from the input order, CSR indices of ``A`` and ``A^T``), shared by the adjacency's
    reweighted copies (:meth:`SparseAdj.with_weight`)."""

    def __init__(self, num_nodes: int, src: torch.Tensor, dst: torch.Tensor | None, perm: torch.Tensor | None,
                 rowptr: torch.Tensor | None = None, by_source: tuple | None = None):
        self.num_nodes, self._src, self._dst, self._perm = num_nodes, src, dst, perm   # dst / perm: None = lazy
        self.num_edges = src.numel()
        self.rowptr = _rowptr(dst, num_nodes) if rowptr is None else rowptr
        self.by_source = by_source         # (rowptr, dst) of A^T when the input came sorted by source
        self.index: dict[bool, CSRIndex] = {}
        self.ones: dict[torch.dtype, torch.Tensor] = {}
        self.lean = False                  # built from a CSR: src / dst / perm made only when asked
        self.symmetric = False             # the pattern equals its transpose (checked where set)

    @classmethod
    def from_csr(cls, num_nodes: int, rowptr: torch.Tensor, col: torch.Tensor, symmetric: bool) -> "_Structure":
        """A lean structure over a checked CSR (:meth:`SparseAdj.from_csr`): the int32 (or int64)
        ``col`` is kept as the index of ``A``; the int64 ``src``, ``dst`` and ``perm`` are built
        only if a caller asks for them."""
        s = cls.__new__(cls)
        s.num_nodes, s.num_edges, s._src, s._dst, s._perm = num_nodes, col.numel(), None, None, None
        s.rowptr, s.by_source, s.ones = rowptr.long(), None, {}
        s.index = {False: CSRIndex(rowptr.to(col.dtype), col, None)}
        s.lean, s.symmetric = True, symmetric
        return s

    @property
    def src(self) -> torch.Tensor:
        if self._src is None:                                          # lean: the CSR's columns
            self._src = self.index[False].col.long()
        return self._src

    @property
    def dst(self) -> torch.Tensor:
        if self._dst is None:                                          # lean (or looped): each entry's row
            self._dst = torch.repeat_interleave(torch.arange(self.num_nodes, device=self.rowptr.device),
                                                self.rowptr.diff())
        return self._dst

    @property
    def perm(self) -> torch.Tensor:
        if self._perm is None:                                         # lean (or looped): the entries are in input order
            self._perm = torch.arange(self.num_edges, device=self.rowptr.device)
        return self._perm

    @classmethod
    def sort(cls, src: torch.Tensor, dst: torch.Tensor, n: int) -> "_Structure":
        """Sort the edges ``src -> dst`` by (dst, src); inputs sorted by target or by source
        (coalesced, as the Planetoid files and PyG's datasets are) need no sort."""
        if src.device.type == "cpu" and _is_sorted(src, dst, n):
            # sorted by source: the input is A^T in CSR form, A is its transpose (a counting sort)
            rowptr_src = _rowptr(src, n)
            edges = torch.arange(src.numel(), device=src.device)
            rowptr, src_sorted, perm = transpose_csr(rowptr_src, dst, edges, (n, n))
            # A^T's CSR equal to A's: the graph is stored both ways (an undirected edge_index). Then
            # A^T's columns are A's (kept once) and SpMM's backward multiplies by A itself.
            symmetric = torch.equal(rowptr_src, rowptr) and torch.equal(dst, src_sorted)
            col_t = src_sorted if symmetric else dst.clone()     # not a view keeping the [2, E] copy alive
            s = cls(n, src_sorted, dst.index_select(0, perm), perm, rowptr,
                    by_source=(rowptr if symmetric else rowptr_src, col_t))
            s.symmetric = symmetric
            return s
        if _is_sorted(dst, src, n):                                    # already CSR by target
            return cls(n, src, dst, torch.arange(src.numel(), device=src.device))
        perm = _argsort_pairs(dst, src, n)
        return cls(n, src.index_select(0, perm), dst.index_select(0, perm), perm)

    def csr_index(self, transpose: bool) -> CSRIndex:
        if transpose not in self.index:
            n, e = self.num_nodes, self.num_edges
            dtype = torch.int32 if max(n, e) < 2**31 else torch.long
            if not transpose:
                self.index[False] = CSRIndex(self.rowptr.to(dtype), self.src.to(dtype), None)
            elif self.by_source is not None:                            # A^T came with the input
                rowptr_t, col_t = self.by_source
                order = torch.empty_like(self.perm)
                order[self.perm] = torch.arange(e, device=self.perm.device)   # input position -> ours
                self.index[True] = CSRIndex(rowptr_t.to(dtype), col_t.to(dtype), order)
            else:
                edges = torch.arange(e, device=self.rowptr.device)
                col = self.index[False].col if self.lean else self.src       # lean: no int64 copy
                rowptr_t, col_t, order = transpose_csr(self.rowptr, col, edges, (n, n))
                self.index[True] = CSRIndex(rowptr_t.to(dtype), col_t.to(dtype), order.long())
        return self.index[transpose]

    def ones_like_edges(self, dtype: torch.dtype) -> torch.Tensor:
        if dtype not in self.ones:
            self.ones[dtype] = torch.ones(self.num_edges, dtype=dtype, device=self.rowptr.device)
        return self.ones[dtype]


class SparseAdj:
    """Adjacency of one graph (or a block-diagonal batch) in CSR-by-target form.

    Args:
        edge_index: ``[2, E]`` integer tensor, row 0 source, row 1 target (not kept: the
            adjacency holds its own sorted copy).
        num_nodes: ``N``.
        edge_weight: optional ``[E]`` weights aligned with ``edge_index``.

    Attributes:
        src, dst: ``[E]`` int64 endpoints sorted by (dst, src).
        weight: ``[E]`` weights in the same order, or ``None`` (all ones).
        perm: ``[E]`` positions in the input ``edge_index`` of the sorted edges
            (``edge_index[:, perm] == adj.edge_index``; reorder an edge tensor with ``t[perm]``).
        rowptr: ``[N + 1]`` CSR row pointer over ``dst``: node ``v``'s in-edges are
            ``rowptr[v]:rowptr[v + 1]``.
        cache: dict of derived objects (see :meth:`cached`).

    Example::

        adj = SparseAdj(torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
        ops.spmm(adj, torch.eye(3))  # row v sums the features of v's in-neighbours
    """

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None):
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)})")
        if edge_weight is not None and edge_weight.shape != (edge_index.size(1),):
            raise ValueError(
                f"edge_weight must have shape [E] = [{edge_index.size(1)}] (got {list(edge_weight.shape)})"
            )
        src, dst = edge_index.to(torch.long, copy=True)      # a private copy: no view of the caller's tensor
        self._structure = _Structure.sort(src, dst, int(num_nodes))
        self.weight = None if edge_weight is None else edge_weight.index_select(0, self._structure.perm)
        self.cache: dict = {}
        self._symmetric_weight = False

    @classmethod
    def from_csr(cls, rowptr: torch.Tensor, col: torch.Tensor, num_nodes: int | None = None,
                 symmetric: bool = False) -> "SparseAdj":
        """The unweighted adjacency of a CSR by target, kept lean: for graphs whose int64 edge
        arrays would not fit.

        Row ``v`` (``col[rowptr[v]:rowptr[v + 1]]``, sorted ascending) lists the sources of
        ``v``'s in-edges: :math:`A_{v,u} = 1` for each listed ``u``. ``col`` is kept as it is
        (int32, as ``gnnkit data synth`` writes it: 4 B an entry) and is the index the kernels
        multiply with; the int64 ``src`` / ``dst`` / ``perm`` of the ``edge_index`` form (24 B
        an entry) are built only if a caller asks for them (attention layers, learnable edge
        weights). Built on it, :func:`gnnkit.ops.gcn_adj` inserts the self loops in the CSR and
        keeps float32 weights.

        ``symmetric=True`` declares :math:`A = A^T` (an undirected graph stored both ways, as
        ``gnnkit data synth`` writes it); it is checked here (one counting-sort transpose) and lets
        SpMM's backward multiply by ``A`` itself instead of a transposed index. The flag holds for
        the adjacency and for its GCN normalisation; reweighted copies (:meth:`with_weight`) drop it.

        Raises ``ValueError`` naming the fault for a malformed CSR (row pointer not starting at 0,
        decreasing, not ending at ``len(col)``; a column outside ``[0, N)``; a row not sorted) or
        an asymmetric one declared symmetric.

        Example::

            adj = SparseAdj.from_csr(torch.tensor([0, 1, 3, 4]), torch.tensor([1, 0, 2, 1], dtype=torch.int32),
                                     symmetric=True)      # the path 0 - 1 - 2
        """
        n = rowptr.numel() - 1 if num_nodes is None else int(num_nodes)
        _check_csr(rowptr, col, n)
        if symmetric:
            _check_symmetric(rowptr, col, n)
        structure = _Structure.from_csr(n, rowptr, col, symmetric)
        return cls._from_structure(structure, None)

    @classmethod
    def _from_structure(cls, structure: _Structure, weight: torch.Tensor | None,
                        symmetric_weight: bool = False) -> "SparseAdj":
        """The one private constructor: a sorted structure and weights in its order
        (``symmetric_weight``: the caller knows ``weight`` is symmetric on a symmetric pattern)."""
        adj = cls.__new__(cls)
        adj._structure, adj.weight, adj.cache = structure, weight, {}
        adj._symmetric_weight = symmetric_weight
        return adj

    @property
    def lean(self) -> bool:
        """Built by :meth:`from_csr` (or derived from such an adjacency): int64 edge arrays only on request."""
        return self._structure.lean

    @property
    def symmetric(self) -> bool:
        """``A == A^T``, entries included: a symmetric pattern (checked by :meth:`from_csr`) with no
        weights or with weights known to be symmetric (the GCN normalisation of such a pattern). An
        ``edge_index`` sorted by source (as PyG and the Planetoid files store graphs) is found symmetric
        when it equals its transpose, which costs nothing beyond the transpose it needs anyway."""
        return self._structure.symmetric and (self.weight is None or self._symmetric_weight)

    num_nodes = property(lambda self: self._structure.num_nodes, doc="N")
    src = property(lambda self: self._structure.src, doc="[E] sources, sorted by (dst, src)")
    dst = property(lambda self: self._structure.dst, doc="[E] targets, sorted")
    perm = property(lambda self: self._structure.perm, doc="[E] input position of each sorted edge")
    rowptr = property(lambda self: self._structure.rowptr, doc="[N + 1] CSR row pointer over dst")

    @property
    def num_edges(self) -> int:
        return self._structure.num_edges

    @property
    def edge_index(self) -> torch.Tensor:
        """``[2, E]`` edges in this object's (sorted) order."""
        return torch.stack([self.src, self.dst])

    def csr_index(self, transpose: bool = False) -> CSRIndex:
        """CSR index arrays of ``A`` (or ``A^T``), computed once per structure (see :class:`CSRIndex`)."""
        return self._structure.csr_index(transpose)

    def values(self, dtype: torch.dtype) -> torch.Tensor:
        """``[E]`` the matrix entries in edge order: the weights cast to ``dtype``, or ones (shared).
        A cast of constant weights (no gradient, e.g. GCN's float64 normalisation) is made once."""
        if self.weight is None:
            return self._structure.ones_like_edges(dtype)
        if self.weight.dtype == dtype:
            return self.weight
        if self.weight.requires_grad:
            return self.weight.to(dtype)
        return self.cached(("values", dtype), lambda a: a.weight.to(dtype))

    def in_degree(self, weighted: bool = False) -> torch.Tensor:
        """``[N]`` number (or weight sum) of incoming edges."""
        key = ("in_degree", weighted)
        if key not in self.cache:
            if weighted and self.weight is not None:
                deg = torch.zeros(self.num_nodes, dtype=self.weight.dtype, device=self.rowptr.device)
                deg.index_add_(0, self.dst, self.weight.detach())
            else:
                deg = (self.rowptr[1:] - self.rowptr[:-1]).float()
            self.cache[key] = deg
        return self.cache[key]

    def cached(self, name, build):
        """``self.cache[name]``, calling ``build(self)`` the first time."""
        if name not in self.cache:
            self.cache[name] = build(self)
        return self.cache[name]

    def with_weight(self, weight_sorted: torch.Tensor | None) -> "SparseAdj":
        """The same structure (shared, not copied) with new weights given in this object's (sorted)
        order, or ``None`` for all ones. Derived objects are not carried over (they depend on weights)."""
        if weight_sorted is not None and weight_sorted.shape != (self.num_edges,):
            raise ValueError(f"weights must have shape [E] = [{self.num_edges}] in the adjacency's order "
                             f"(got {list(weight_sorted.shape)})")
        return SparseAdj._from_structure(self._structure, weight_sorted)

    def _with_symmetric_weight(self, weight_sorted: torch.Tensor) -> "SparseAdj":
        """:meth:`with_weight` for weights the caller knows are symmetric (``w[u, v] == w[v, u]``,
        e.g. ``s[row] * s[col]``), so a symmetric pattern stays :attr:`symmetric`."""
        adj = self.with_weight(weight_sorted)
        adj._symmetric_weight = True
        return adj

    def with_self_loops(self, fill_value: float = 1.0) -> "SparseAdj":
        """The adjacency with existing self loops replaced by one loop per node of weight
        ``fill_value``, built by placing each loop inside its sorted row (no sort). Its ``perm``
        is the identity: edge tensors for it are in its own order."""
        if self.lean:
            return self._with_self_loops_csr(fill_value)
        n, src, dst = self.num_nodes, self.src, self.dst
        keep = src != dst
        has_loops = not bool(keep.all())
        if has_loops:
            src, dst = src[keep], dst[keep]                               # still sorted by (dst, src)
        device = src.device
        after_loop = (src > dst).long()                                   # entries right of the diagonal
        pos = torch.arange(src.numel(), device=device) + dst + after_loop
        before_loop = torch.bincount(dst[src < dst], minlength=n)         # row entries left of the diagonal
        row_start = torch.zeros(n, dtype=torch.long, device=device)
        row_start[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)[:-1]
        loop = torch.arange(n, device=device)
        loop_pos = row_start + before_loop + loop
        total = src.numel() + n
        new_src = torch.empty(total, dtype=torch.long, device=device)
        new_src[pos], new_src[loop_pos] = src, loop
        weight = None
        if self.weight is not None:
            weight = torch.empty(total, dtype=self.weight.dtype, device=device)
            weight[pos], weight[loop_pos] = (self.weight[keep] if has_loops else self.weight), fill_value
        elif fill_value != 1.0:
            weight = torch.ones(total, device=device)
            weight[loop_pos] = fill_value
        new_rowptr = torch.zeros(n + 1, dtype=torch.long, device=device)
        new_rowptr[1:] = torch.cumsum(torch.bincount(dst, minlength=n) + 1, 0)
        # dst and perm (the identity) are built only if a caller asks (GCN's SpMM does not)
        structure = _Structure(n, new_src, None, None, rowptr=new_rowptr)
        structure.symmetric = self._structure.symmetric                   # loops sit on the diagonal
        return SparseAdj._from_structure(structure, weight,
                                         symmetric_weight=self.weight is None or self._symmetric_weight)

    def _with_self_loops_csr(self, fill_value: float) -> "SparseAdj":
        """:meth:`with_self_loops` of a lean adjacency, in its CSR: the same entries in the same
        order as the ``src`` / ``dst`` form (tested), with the index kept in ``col``'s type and
        no int64 array of the edges' length kept."""
        n, rowptr = self.num_nodes, self.rowptr
        col = self.csr_index().col
        device = col.device
        row = torch.repeat_interleave(torch.arange(n, dtype=col.dtype, device=device), rowptr.diff())   # [E]
        keep = col != row
        has_loops = not bool(keep.all())
        weight = self.weight
        if has_loops:
            col, row = col[keep], row[keep]
            weight = None if weight is None else weight[keep]
        deg = torch.bincount(row, minlength=n)                            # [N] entries a row, loops removed
        before_loop = torch.bincount(row[col < row], minlength=n)        # row entries left of the diagonal
        new_rowptr = torch.zeros(n + 1, dtype=torch.long, device=device)
        new_rowptr[1:] = torch.cumsum(deg + 1, 0)
        pos = torch.arange(col.numel(), device=device) + row + (col > row)   # each kept entry, shifted by the loops
        loop_pos = new_rowptr[:-1] + before_loop
        del row
        new_col = torch.empty(col.numel() + n, dtype=col.dtype, device=device)
        new_col[pos], new_col[loop_pos] = col, torch.arange(n, dtype=col.dtype, device=device)
        new_weight = None
        if weight is not None:
            new_weight = torch.empty(new_col.numel(), dtype=weight.dtype, device=device)
            new_weight[pos], new_weight[loop_pos] = weight, fill_value
        elif fill_value != 1.0:
            new_weight = torch.ones(new_col.numel(), device=device)
            new_weight[loop_pos] = fill_value
        structure = _Structure.from_csr(n, new_rowptr, new_col, self._structure.symmetric)
        return SparseAdj._from_structure(structure, new_weight, symmetric_weight=self.weight is None or self._symmetric_weight)

    def __repr__(self) -> str:
        return f"SparseAdj(num_nodes={self.num_nodes}, num_edges={self.num_edges}, weighted={self.weight is not None})"


# --------------------------------------------------------------- checks of a given CSR
def _check_csr(rowptr: torch.Tensor, col: torch.Tensor, n: int) -> None:
    """Refuse a CSR that :meth:`SparseAdj.from_csr` cannot take, naming the fault."""
    for name, t in (("rowptr", rowptr), ("col", col)):
        if not isinstance(t, torch.Tensor) or t.dim() != 1 or t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
            got = f"{t.dtype} {list(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a 1-D integer tensor (got {got}); convert with torch.from_numpy(...).long()")
    if rowptr.numel() != n + 1:
        raise ValueError(f"rowptr must have N + 1 = {n + 1} entries for num_nodes={n} (got {rowptr.numel()})")
    if int(rowptr[0]) != 0 or int(rowptr[-1]) != col.numel():
        raise ValueError(f"rowptr must start at 0 and end at len(col) = {col.numel()} "
                         f"(got {int(rowptr[0])} and {int(rowptr[-1])})")
    counts = rowptr.diff()
    if bool((counts < 0).any()):
        v = int((counts < 0).nonzero()[0])
        raise ValueError(f"rowptr must be non-decreasing (rowptr[{v + 1}] = {int(rowptr[v + 1])} < rowptr[{v}] = {int(rowptr[v])})")
    if col.numel():
        lo, hi = int(col.min()), int(col.max())
        if lo < 0 or hi >= n:
            raise ValueError(f"col refers to node {lo if lo < 0 else hi} but the graph has {n} nodes; "
                             "set num_nodes or remove those entries")
    if col.numel() > 1:
        descending = col[1:] < col[:-1]                                  # allowed only where a row starts
        row_start = torch.zeros(col.numel() - 1, dtype=torch.bool, device=col.device)
        starts = rowptr[1:-1]
        row_start[(starts[(starts > 0) & (starts < col.numel())] - 1)] = True
        bad = descending & ~row_start
        if bool(bad.any()):
            i = int(bad.nonzero()[0]) + 1
            raise ValueError(f"each CSR row must list its columns in ascending order (entry {i}: {int(col[i])} after "
                             f"{int(col[i - 1])}); sort each row, e.g. build the CSR with scipy's "
                             "csr_matrix(...).sorted_indices()")


def _check_symmetric(rowptr: torch.Tensor, col: torch.Tensor, n: int) -> None:
    """Refuse a CSR declared symmetric whose transpose differs (one counting-sort transpose)."""
    if col.device.type != "cpu":
        raise ValueError("symmetric=True is checked on CPU tensors; build the adjacency on CPU, then move it")
    marks = torch.zeros(col.numel(), dtype=torch.int8, device=col.device)
    rowptr_t, col_t, _ = transpose_csr(rowptr.to(col.dtype), col, marks, (n, n))
    if not (torch.equal(rowptr_t.long(), rowptr.long()) and torch.equal(col_t.to(col.dtype), col)):
        counts, counts_t = rowptr.long().diff(), rowptr_t.long().diff()
        differ = (counts != counts_t).nonzero()
        where = (f"node {int(differ[0])} has {int(counts[differ[0]])} in-edges but {int(counts_t[differ[0]])} "
                 "out-edges" if differ.numel() else "the same degrees, different neighbours")
        raise ValueError(f"symmetric=True but the CSR is not symmetric ({where}); store each undirected edge in "
                         "both directions (ops.to_undirected) or pass symmetric=False")


# --------------------------------------------------------------- as_adj and its cache
class _AdjCache:
    """The unweighted ``SparseAdj`` of the last ``size`` ``edge_index`` tensors; the rules are
    :func:`as_adj`'s docstring."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[int, tuple] = OrderedDict()   # id -> (weakref, version, num_nodes, adj)
        self._lock = threading.RLock()      # re-entrant: a weakref callback may run inside put()

    def get(self, edge_index: torch.Tensor, num_nodes: int) -> SparseAdj | None:
        with self._lock:
            entry = self._entries.get(id(edge_index))
            if entry is None:
                return None
            ref, version, n, adj = entry
            if ref() is not edge_index or version != _version_counter(edge_index) or n != num_nodes:
                return None
            self._entries.move_to_end(id(edge_index))
            return adj

    def put(self, edge_index: torch.Tensor, num_nodes: int, adj: SparseAdj) -> None:
        key = id(edge_index)

        def forget(ref, key=key):          # the tensor was freed: drop its entry, unless replaced since
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and entry[0] is ref:
                    del self._entries[key]

        with self._lock:
            self._entries[key] = (weakref.ref(edge_index, forget), _version_counter(edge_index), num_nodes, adj)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


ADJ_CACHE_SIZE = 8
_ADJ_CACHE = _AdjCache(size=ADJ_CACHE_SIZE)


def clear_adj_cache() -> None:
    """Forget the adjacency structures :func:`as_adj` keeps for recently seen ``edge_index`` tensors."""
    _ADJ_CACHE.clear()


def as_adj(edge_index_or_adj, num_nodes: int, edge_weight: torch.Tensor | None = None) -> SparseAdj:
    """The ``SparseAdj`` of what a layer was given: an ``edge_index`` ``[2, E]`` or a ``SparseAdj``,
    plus optional ``[E]`` weights aligned with the input edges (applied on every call, so they may
    change and carry gradients).

    A ``SparseAdj`` is returned as it is (checked against ``num_nodes``). For an ``edge_index``
    the sorted structure is kept in a process-wide cache, so a training loop that passes the same
    tensor on every call sorts it once, and what layers cache on the adjacency (normalizations,
    self loops, head blocks) is reused too. The cache's whole contract:

    - **key**: the tensor object itself (its ``id``, confirmed through a weak reference), its
      in-place version counter and ``num_nodes``. Only that very tensor, unmodified, with the same
      ``num_nodes``, gets the entry; an equal-valued clone is another key and builds afresh.
    - **invalidation**: an in-place change of the tensor (or of a view of it) bumps its version
      counter, so the next call rebuilds and replaces the entry. Inference-mode tensors have no
      version counter and are never cached.
    - **eviction**: an entry goes when its tensor is freed (weak reference callback) or when
      ``ADJ_CACHE_SIZE`` (8) newer tensors have come (least recently used first);
      ``clear_adj_cache()`` empties it. The cache never keeps a tensor alive: the adjacency holds
      its own sorted copy.
    - **what is shared**: the entry is the unweighted structure; weights are applied per call on a
      copy that shares it (``with_weight``). Callers get the same object back, so what they put in
      its ``cache`` is seen by every later caller with that tensor.
    - **threads**: lookups, inserts and evictions hold one re-entrant lock. Two threads that miss on
      the same tensor at once may both build; the later insert wins and both results are correct.

    ``graph.adj()`` is the explicit form of the same thing: the graph's own adjacency.
    """
    if isinstance(edge_index_or_adj, SparseAdj):
        if edge_index_or_adj.num_nodes != num_nodes:
            raise ValueError(
                f"the adjacency has {edge_index_or_adj.num_nodes} nodes but x has {num_nodes} rows"
            )
        if edge_weight is not None:
            return edge_index_or_adj.with_weight(_in_adjacency_order(edge_index_or_adj, edge_weight))
        return edge_index_or_adj
    cacheable = isinstance(edge_index_or_adj, torch.Tensor) and not edge_index_or_adj.is_inference()
    adj = _ADJ_CACHE.get(edge_index_or_adj, num_nodes) if cacheable else None
    if adj is None:
        check_edge_index(edge_index_or_adj, num_nodes)
        adj = SparseAdj(edge_index_or_adj, num_nodes)
        if cacheable:
            _ADJ_CACHE.put(edge_index_or_adj, num_nodes, adj)
    if edge_weight is not None:
        return adj.with_weight(_in_adjacency_order(adj, edge_weight))
    return adj


def _in_adjacency_order(adj: SparseAdj, edge_weight: torch.Tensor) -> torch.Tensor:
    if edge_weight.shape != (adj.num_edges,):
        raise ValueError(f"edge_weight must have shape [E] = [{adj.num_edges}] (got {list(edge_weight.shape)})")
    return edge_weight.index_select(0, adj.perm)
