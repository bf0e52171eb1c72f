"""The sparse adjacency, built once per graph, and SpMM through ``torch.sparse``.

``SparseAdj`` stores the edges sorted by target (CSR by target: row ``i`` of
``A`` holds the in-edges of node ``i``, ``A[dst, src] = w``), the in-degrees,
and a cache of derived objects (normalizations, Laplacians) keyed by name, so a
layer that needs ``D^-1/2 (A + I) D^-1/2`` builds it once per graph, not once
per call.
"""
from __future__ import annotations

import threading
import warnings
import weakref
from collections import OrderedDict

import numpy as np
import torch
from scipy.sparse import _sparsetools   # the CSR -> CSC kernel behind tocsc(), without its checks


def _csr_rect(rowptr, col, values, shape) -> torch.Tensor:
    """A ``torch.sparse_csr_tensor`` of ``shape`` (``rowptr`` cast to ``col``'s integer type)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(rowptr.to(col.dtype), col, values, shape, check_invariants=False)


def _csr(rowptr, col, values, n) -> torch.Tensor:
    return _csr_rect(rowptr, col, values, (n, n))


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


def _transpose_csr(rowptr: torch.Tensor, col: torch.Tensor, data: torch.Tensor, shape: tuple[int, int]):
    """``(rowptr, col, data)`` of the transpose of a ``shape`` CSR matrix, rows kept in order inside
    each new row (``rowptr`` and ``col`` come back in ``col``'s integer type). On CPU this is scipy's
    CSR -> CSC kernel, a counting sort in O(nnz + columns): 0.07 ms on Cora's 10,556 edges, against
    0.24 ms through ``csr_matrix.tocsc()`` (whose format checks cost more than the conversion) and
    0.9 ms for torch's argsort; elsewhere a stable argsort."""
    if col.device.type == "cpu":
        a_ptr, a_col, a_data = (np.ascontiguousarray(t.numpy()) for t in (rowptr.to(col.dtype), col, data))
        b_ptr = np.empty(shape[1] + 1, dtype=a_col.dtype)
        b_col, b_data = np.empty_like(a_col), np.empty_like(a_data)
        _sparsetools.csr_tocsc(shape[0], shape[1], a_ptr, a_col, a_data, b_ptr, b_col, b_data)
        return torch.from_numpy(b_ptr), torch.from_numpy(b_col), torch.from_numpy(b_data)
    order = torch.argsort(col, stable=True)
    rows = torch.repeat_interleave(torch.arange(shape[0], device=col.device), rowptr.diff())
    return _rowptr(col, shape[1]), rows.index_select(0, order), data.index_select(0, order)


def _rowptr(rows: torch.Tensor, n: int) -> torch.Tensor:
    rowptr = torch.zeros(n + 1, dtype=torch.long, device=rows.device)
    rowptr[1:] = torch.cumsum(torch.bincount(rows, minlength=n), 0)
    return rowptr


class SparseAdj:
    """Adjacency of one graph (or a block-diagonal batch) in CSR-by-target form.

    Args:
        edge_index: ``[2, E]`` int64, row 0 source, row 1 target.
        num_nodes: ``N``.
        edge_weight: optional ``[E]`` weights aligned with ``edge_index``.

    Attributes:
        src, dst: ``[E]`` endpoints sorted by (dst, src).
        weight: ``[E]`` weights in the same order, or ``None`` (all ones).
        perm: ``[E]`` positions in the input ``edge_index`` of the sorted edges.
        rowptr: ``[N + 1]`` CSR row pointer over ``dst``.
        cache: dict for derived objects (see :meth:`cached`).

    Example::

        adj = SparseAdj(torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
        spmm(adj, torch.eye(3))  # row i sums the features of i's in-neighbours
    """

    def __init__(self, edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None):
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)})")
        if edge_weight is not None and edge_weight.shape != (edge_index.size(1),):
            raise ValueError(
                f"edge_weight must have shape [E] = [{edge_index.size(1)}] (got {list(edge_weight.shape)})"
            )
        self.num_nodes = n = int(num_nodes)
        src, dst = edge_index.to(torch.long, copy=True)      # a private copy: no view of the caller's tensor
        self._index: dict = {}   # int32 CSR indices of A and A^T, shared with with_weight() copies
        if src.device.type == "cpu" and _is_sorted(src, dst, n):
            # Sorted by source (coalesced, as the Planetoid files and PyG's datasets are): the input
            # is A^T in CSR form, so A is its transpose (a counting sort) and A^T's index is free.
            rowptr_src = _rowptr(src, n)
            self.rowptr, self.src, self.perm = _transpose_csr(rowptr_src, dst, torch.arange(src.numel()), (n, n))
            self.dst = dst.index_select(0, self.perm)
            self._index["by_src"] = (rowptr_src, dst)                # A^T's index, for _csr_index(True)
        else:
            already = _is_sorted(dst, src, n)                        # already CSR by target
            self.perm = torch.arange(src.numel(), device=src.device) if already else _argsort_pairs(dst, src, n)
            self.src = src if already else src.index_select(0, self.perm)
            self.dst = dst if already else dst.index_select(0, self.perm)
            self.rowptr = _rowptr(self.dst, n)
        self.weight = None if edge_weight is None else edge_weight.index_select(0, self.perm)
        self.cache: dict = {}
        self._csr: dict = {}

    @classmethod
    def _from_sorted(cls, src: torch.Tensor, dst: torch.Tensor, weight: torch.Tensor | None,
                     num_nodes: int) -> "SparseAdj":
        """Wrap edges already sorted by (dst, src) without sorting again; ``perm`` is the identity."""
        out = cls.__new__(cls)
        out.num_nodes, out.src, out.dst, out.weight = int(num_nodes), src, dst, weight
        out.perm = torch.arange(src.numel(), device=src.device)
        out.rowptr = _rowptr(dst, out.num_nodes)
        out.cache, out._csr, out._index = {}, {}, {}
        return out

    def with_self_loops(self, fill_value: float = 1.0) -> "SparseAdj":
        """The adjacency with existing self loops replaced by one loop per node of weight
        ``fill_value``, built by placing each loop inside its sorted row (no sort)."""
        n = self.num_nodes
        keep = self.src != self.dst
        has_loops = not bool(keep.all())
        src, dst = (self.src[keep], self.dst[keep]) if has_loops else (self.src, self.dst)  # sorted by (dst, src)
        after_loop = (src > dst).long()                                 # edges right of the diagonal
        pos = torch.arange(src.numel(), device=src.device) + dst + after_loop
        before_loop = torch.bincount(dst[src < dst], minlength=n)       # row entries left of the diagonal
        row_start = torch.zeros(n, dtype=torch.long, device=src.device)
        row_start[1:] = torch.cumsum(torch.bincount(dst, minlength=n), 0)[:-1]
        loop = torch.arange(n, device=src.device)
        loop_pos = row_start + before_loop + loop
        total = src.numel() + n
        new_src = torch.empty(total, dtype=torch.long, device=src.device)
        new_src[pos], new_src[loop_pos] = src, loop
        new_dst = torch.empty(total, dtype=torch.long, device=src.device)
        new_dst[pos], new_dst[loop_pos] = dst, loop
        weight = None
        if self.weight is not None:
            weight = torch.empty(total, dtype=self.weight.dtype, device=src.device)
            weight[pos], weight[loop_pos] = (self.weight[keep] if has_loops else self.weight), fill_value
        elif fill_value != 1.0:
            weight = torch.ones(total, device=src.device)
            weight[loop_pos] = fill_value
        return SparseAdj._from_sorted(new_src, new_dst, weight, n)

    @property
    def num_edges(self) -> int:
        return self.src.numel()

    @property
    def edge_index(self) -> torch.Tensor:
        """``[2, E]`` edges in this object's (sorted) order."""
        return torch.stack([self.src, self.dst])

    def in_degree(self, weighted: bool = False) -> torch.Tensor:
        """``[N]`` number (or weight sum) of incoming edges."""
        key = ("in_degree", weighted)
        if key not in self.cache:
            if weighted and self.weight is not None:
                deg = torch.zeros(self.num_nodes, dtype=self.weight.dtype, device=self.src.device)
                deg.index_add_(0, self.dst, self.weight.detach())
            else:
                deg = (self.rowptr[1:] - self.rowptr[:-1]).float()
            self.cache[key] = deg
        return self.cache[key]

    def cached(self, name: str, build):
        """``self.cache[name]``, calling ``build(self)`` the first time."""
        if name not in self.cache:
            self.cache[name] = build(self)
        return self.cache[name]

    def with_weight(self, weight_sorted: torch.Tensor | None) -> "SparseAdj":
        """The same structure with new weights given in this object's (sorted) order."""
        out = SparseAdj.__new__(SparseAdj)
        out.num_nodes, out.perm, out.src, out.dst, out.rowptr = self.num_nodes, self.perm, self.src, self.dst, self.rowptr
        out.weight = weight_sorted
        out.cache, out._csr, out._index = {}, {}, self._index
        if weight_sorted is None and self.weight is None:          # same values too: share the CSR tensors
            out._csr = self._csr
        return out

    def _csr_index(self, transpose: bool):
        """``(rowptr, col, order)`` of ``A`` or ``A^T`` (int32), computed once per structure;
        ``order`` maps the transpose's entries to this object's edge order."""
        if transpose not in self._index:
            if not transpose:
                self._index[False] = (self.rowptr.int(), self.src.int(), None)
            elif "by_src" in self._index:                           # the input was sorted by source
                rowptr_t, col_t = self._index["by_src"]
                order = torch.empty_like(self.perm)
                order[self.perm] = torch.arange(self.perm.numel(), device=order.device)   # input -> our order
                self._index[True] = (rowptr_t.int(), col_t.int(), order)
            else:
                n, edges = self.num_nodes, torch.arange(self.num_edges, device=self.src.device)
                rowptr_t, col_t, order = _transpose_csr(self.rowptr, self.src, edges, (n, n))
                self._index[True] = (rowptr_t.int(), col_t.int(), order.long())
        return self._index[transpose]

    def csr(self, dtype: torch.dtype, transpose: bool = False) -> torch.Tensor:
        """``A`` (or ``A^T``) as a ``torch.sparse_csr_tensor`` with the (detached) weights."""
        key = (dtype, transpose)
        if key not in self._csr:
            w = self.weight.detach().to(dtype) if self.weight is not None else torch.ones(
                self.num_edges, dtype=dtype, device=self.src.device)
            rowptr, col, order = self._csr_index(transpose)
            self._csr[key] = _csr(rowptr, col, w if order is None else w.index_select(0, order), self.num_nodes)
        return self._csr[key]

    def __repr__(self) -> str:
        return f"SparseAdj(num_nodes={self.num_nodes}, num_edges={self.num_edges}, weighted={self.weight is not None})"


def _csr_mm(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``a @ x`` written straight into a fresh tensor (``beta=0`` ignores its contents);
    plain ``a @ x`` zero-fills and copies an extra output on CPU."""
    out = torch.empty(a.size(0), x.size(1), dtype=x.dtype, device=x.device)
    return torch.addmm(out, a, x, beta=0, out=out)


class _SpMM(torch.autograd.Function):
    """out = A @ x with A fixed structure; gradients for x (A^T @ g) and, when the
    weights require it, for the edge weights (g[dst] . x[src])."""

    @staticmethod
    def forward(ctx, adj: SparseAdj, weight, x):
        ctx.adj = adj
        ctx.save_for_backward(x)
        return _csr_mm(adj.csr(x.dtype), x)

    @staticmethod
    def backward(ctx, grad_out):
        adj = ctx.adj
        (x,) = ctx.saved_tensors
        grad_x = grad_w = None
        if ctx.needs_input_grad[2]:
            grad_x = _csr_mm(adj.csr(grad_out.dtype, transpose=True), grad_out.contiguous())
        if ctx.needs_input_grad[1]:
            grad_w = (grad_out.index_select(0, adj.dst) * x.index_select(0, adj.src)).sum(-1)
        return None, grad_w, grad_x


class _SparseFeatureMM(torch.autograd.Function):
    """``x @ weight`` for a constant sparse CSR ``x``; the weight gradient ``x^T @ g`` goes
    through a transposed CSR built here (torch's own backward converts the CSC view
    generically: 15.6 ms against 2.7 ms with an argsort for Cora's 2,708 x 1,433 bag of words,
    64 outputs, and 0.5 ms for the transpose by counting sort)."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x)
        return _csr_mm(x, weight)

    @staticmethod
    def backward(ctx, grad_out):
        if not ctx.needs_input_grad[1]:
            return None, None
        (x,) = ctx.saved_tensors
        n, f = x.shape
        rowptr_t, col_t, values_t = _transpose_csr(x.crow_indices(), x.col_indices(), x.values(), (n, f))
        x_t = _csr_rect(rowptr_t, col_t, values_t, (f, n))                                # x^T, [F_in, N]
        return None, _csr_mm(x_t, grad_out.to(values_t.dtype).contiguous())


class _DenseFeatureMM(torch.autograd.Function):
    """``x @ weight`` with the weight gradient computed as ``(g^T x)^T``: for a tall ``x``
    ([2,708, 1,433] or [19,717, 500] against 64 outputs) that GEMM shape ran 6-9% faster
    here than the ``x^T g`` autograd uses (medians of 15, one thread)."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return x @ weight

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = grad_out @ weight.t() if ctx.needs_input_grad[0] else None
        grad_w = (grad_out.t() @ x).t() if ctx.needs_input_grad[1] else None
        return grad_x, grad_w


def matmul(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight`` for dense or sparse (CSR or COO) node features ``x``: ``[N, F_in] x [F_in, F_out]``.

    Bag-of-words features (Cora's are 1.3% non-zero) stay sparse through a first layer this
    way; the gradient reaches ``weight`` only (sparse ``x`` is data, not a parameter).
    """
    if x.layout == torch.strided:
        return _DenseFeatureMM.apply(x, weight) if x.dim() == 2 and weight.dim() == 2 else x @ weight
    if x.requires_grad:
        raise ValueError("sparse x with requires_grad=True is not supported; pass x.detach() or dense features")
    if x.layout != torch.sparse_csr:
        x = x.to_sparse_csr()
    return _SparseFeatureMM.apply(x, weight)


def spmm(adj: SparseAdj, x: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
    """Aggregate neighbour features with one sparse-dense product, never an E x F tensor.

    .. math::
        \\mathrm{out}_i = \\sum_{j \\to i} w_{ji} x_j \\quad (\\text{sum}), \\qquad
        \\mathrm{out}_i = \\frac{1}{|N(i)|}\\sum_{j \\to i} w_{ji} x_j \\quad (\\text{mean})

    ``x``: ``[N, F]`` (or ``[N]``); returns the same shape. Nodes without incoming
    edges get 0. Differentiable in ``x`` and in ``adj.weight``.
    """
    if reduce not in ("sum", "mean"):
        raise ValueError(f"spmm reduce must be 'sum' or 'mean' (got {reduce!r}); use ops.scatter for max/min")
    if x.size(0) != adj.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the adjacency has {adj.num_nodes} nodes")
    squeeze = x.dim() == 1
    h = x.unsqueeze(-1) if squeeze else x
    if h.dim() > 2:
        h = h.reshape(h.size(0), -1)
    weight = adj.weight
    if weight is not None and weight.dtype != h.dtype:
        weight = weight.to(h.dtype)
    out = _SpMM.apply(adj, weight, h.contiguous())
    if reduce == "mean":
        out = out / adj.in_degree().clamp(min=1).to(out.dtype).unsqueeze(-1)
    return out.reshape(x.shape)


class _AdjCache:
    """The unweighted ``SparseAdj`` of the last ``size`` ``edge_index`` tensors passed to :func:`as_adj`.

    Keyed by the tensor object itself (``id``, checked through a weak reference), its in-place
    version counter and ``num_nodes``: an entry serves only the very tensor it was built from,
    unmodified, so a changed or new ``edge_index`` (even with equal values) builds afresh. Entries
    go when their tensor is freed or when ``size`` newer tensors have come.
    """

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
            if ref() is not edge_index or version != edge_index._version or n != num_nodes:
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
            self._entries[key] = (weakref.ref(edge_index, forget), edge_index._version, num_nodes, adj)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_ADJ_CACHE = _AdjCache(size=8)


def clear_adj_cache() -> None:
    """Forget the adjacency structures :func:`as_adj` keeps for recently seen ``edge_index`` tensors."""
    _ADJ_CACHE.clear()


def as_adj(edge_index_or_adj, num_nodes: int, edge_weight: torch.Tensor | None = None) -> SparseAdj:
    """Accept either an ``edge_index`` ``[2, E]`` (plus optional weights in its order) or a ``SparseAdj``.

    For an ``edge_index`` the sorted structure is built once per tensor and reused while that
    same tensor object comes back unmodified (see ``_AdjCache``; the last 8 tensors are kept):
    a training loop that passes one ``edge_index`` on every call sorts it once, and what layers
    cache on the adjacency (normalizations, self loops, eigenvectors) is reused too. Weights are
    applied per call, so they may change and carry gradients. ``clear_adj_cache()`` empties it.
    A graph's own ``graph.adj()`` is the explicit form of the same thing.
    """
    if isinstance(edge_index_or_adj, SparseAdj):
        if edge_index_or_adj.num_nodes != num_nodes:
            raise ValueError(
                f"the adjacency has {edge_index_or_adj.num_nodes} nodes but x has {num_nodes} rows"
            )
        if edge_weight is not None:
            return edge_index_or_adj.with_weight(edge_weight[edge_index_or_adj.perm])
        return edge_index_or_adj
    cacheable = isinstance(edge_index_or_adj, torch.Tensor) and not edge_index_or_adj.is_inference()
    adj = _ADJ_CACHE.get(edge_index_or_adj, num_nodes) if cacheable else None
    if adj is None:
        check_edge_index(edge_index_or_adj, num_nodes)
        adj = SparseAdj(edge_index_or_adj, num_nodes)
        if cacheable:
            _ADJ_CACHE.put(edge_index_or_adj, num_nodes, adj)
    if edge_weight is not None:
        if edge_weight.shape != (adj.num_edges,):
            raise ValueError(f"edge_weight must have shape [E] = [{adj.num_edges}] (got {list(edge_weight.shape)})")
        return adj.with_weight(edge_weight.index_select(0, adj.perm))
    return adj


def check_edge_index(edge_index, num_nodes: int) -> None:
    """Raise a clear error unless ``edge_index`` is an integer ``[2, E]`` tensor of node ids in ``[0, num_nodes)``."""
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"expected edge_index (a [2, E] tensor) or a SparseAdj, got {type(edge_index).__name__}")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        hint = "; if it is [E, 2], pass edge_index.t()" if edge_index.dim() == 2 and edge_index.size(1) == 2 else ""
        raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)}){hint}")
    if edge_index.is_floating_point():
        raise ValueError(f"edge_index must be an integer tensor (got {edge_index.dtype}); use edge_index.long()")
    if edge_index.numel():
        low, high = int(edge_index.min()), int(edge_index.max())
        if low < 0:
            raise ValueError(f"edge_index holds the negative node id {low}; node ids must be in [0, {num_nodes})")
        if high >= num_nodes:
            raise ValueError(
                f"edge_index refers to node {high} but x has {num_nodes} rows; set num_nodes or remove those edges"
            )
