"""Products with the sparse adjacency: SpMM, the multi-head SpMM of attention layers, and
``x @ W`` for sparse node features.

Each custom autograd kernel sits next to a plain reference of the same computation
(``*_reference``: index_select + index_add, or a dense product) that a reader can learn the
math from; ``tests/ops/test_kernels.py`` holds each pair equal, gradients included, on random
graphs with isolated nodes, self loops and duplicate edges. Each kernel's docstring says
what it buys, measured. (The edge softmax's sorted-segment kernel and its scatter form are
in :mod:`gnnkit.ops.scatter`.)
"""
from __future__ import annotations

import warnings

import torch

from gnnkit.ops.adj import CSRIndex, SparseAdj, transpose_csr


def _csr_tensor(rowptr: torch.Tensor, col: torch.Tensor, values: torch.Tensor, shape) -> torch.Tensor:
    """A ``torch.sparse_csr_tensor`` of ``shape`` (``rowptr`` cast to ``col``'s integer type; the
    invariants are those of a ``SparseAdj``, not re-checked; torch's beta warning silenced)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return torch.sparse_csr_tensor(rowptr.to(col.dtype), col, values, shape, check_invariants=False)


def _csr_mm(a: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``a @ x`` written straight into a fresh tensor (``beta=0`` ignores its contents);
    plain ``a @ x`` zero-fills and copies an extra output on CPU."""
    out = torch.empty(a.size(0), x.size(1), dtype=x.dtype, device=x.device)
    return torch.addmm(out, a, x, beta=0, out=out)


def _transposed_values(adj: SparseAdj, values: torch.Tensor, index_t: CSRIndex) -> torch.Tensor:
    """``values`` in ``A^T``'s entry order (all ones stay the shared ones: no gather; constant
    weights, e.g. GCN's normalisation, are gathered once and kept on the adjacency)."""
    if adj.weight is None:
        return values
    if not values.requires_grad and values is adj.values(values.dtype):
        return adj.cached(("values_t", values.dtype), lambda a: values.index_select(0, index_t.order))
    return values.index_select(0, index_t.order)


# --------------------------------------------------------------- SpMM
class _SpMM(torch.autograd.Function):
    """``out = A x`` for ``A`` = the adjacency's structure with entries ``values``.

    Backward: ``grad_x = A^T g`` (a second SpMM over the transposed index, built once per
    structure; over ``A``'s own index when the adjacency is :attr:`~SparseAdj.symmetric`) and,
    when the values need it, ``grad_values[e] = <g[dst_e], x[src_e]>``.
    Against the gather-scatter reference this is 13.6x faster forward + backward on PubMed's
    graph with 64 features (docs/benchmarks.md, "Ops"), and builds no ``[E, F]`` tensor unless
    the edge weights require a gradient."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, values: torch.Tensor, adj: SparseAdj):
        n = adj.num_nodes
        rowptr, col, _ = adj.csr_index()
        ctx.adj = adj
        # x is needed only for the values' gradient: not kept alive through the backward otherwise
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, values)
        return _csr_mm(_csr_tensor(rowptr, col, values, (n, n)), x)

    @staticmethod
    def backward(ctx, grad_out):
        adj = ctx.adj
        x, values = ctx.saved_tensors
        grad_x = grad_values = None
        if ctx.needs_input_grad[0] and adj.symmetric:                # A^T = A: no transposed index
            rowptr, col, _ = adj.csr_index()
            grad_x = _csr_mm(_csr_tensor(rowptr, col, values, (adj.num_nodes, adj.num_nodes)), grad_out.contiguous())
        elif ctx.needs_input_grad[0]:
            n, index_t = adj.num_nodes, adj.csr_index(transpose=True)
            a_t = _csr_tensor(index_t.rowptr, index_t.col, _transposed_values(adj, values, index_t), (n, n))
            grad_x = _csr_mm(a_t, grad_out.contiguous())
        if ctx.needs_input_grad[1]:
            grad_values = (grad_out.index_select(0, adj.dst) * x.index_select(0, adj.src)).sum(-1)
        return grad_x, grad_values, None


def _check_spmm(adj: SparseAdj, x: torch.Tensor, reduce: str) -> None:
    if not isinstance(adj, SparseAdj):
        raise TypeError(f"spmm takes a SparseAdj (got {type(adj).__name__}); build it with ops.as_adj(edge_index, N)")
    if reduce not in ("sum", "mean"):
        raise ValueError(f"spmm reduce must be 'sum' or 'mean' (got {reduce!r}); use ops.scatter for max/min")
    if x.size(0) != adj.num_nodes:
        raise ValueError(f"x has {x.size(0)} rows but the adjacency has {adj.num_nodes} nodes")


def spmm(adj: SparseAdj, x: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
    """Aggregate neighbour features with one sparse-dense product, never an ``[E, F]`` tensor.

    .. math::
        \\mathrm{out}_v = \\sum_{u \\to v} w_{uv} x_u \\quad (\\text{sum}), \\qquad
        \\mathrm{out}_v = \\frac{1}{|N(v)|}\\sum_{u \\to v} w_{uv} x_u \\quad (\\text{mean})

    Args:
        adj: the adjacency (``ops.as_adj(edge_index, N)``); ``w`` are its weights, 1 if none.
        x: ``[N, *]`` node features.
        reduce: ``'sum'`` (default) or ``'mean'`` (divided by the in-degree, counting edges).

    Returns: the shape of ``x``. Nodes without incoming edges get 0. Differentiable in ``x``
    and in ``adj.weight``. :func:`spmm_reference` is the same computation, written plainly.

    Example::

        adj = ops.as_adj(torch.tensor([[0, 1], [2, 2]]), 3)
        ops.spmm(adj, torch.tensor([[1.], [10.], [100.]]))   # [[0.], [0.], [11.]]
    """
    _check_spmm(adj, x, reduce)
    h = x.reshape(x.size(0), -1)                                               # [N, F]
    out = _SpMM.apply(h.contiguous(), adj.values(h.dtype), adj)               # [N, F]
    if reduce == "mean":            # in place on the fresh product (exact: sum, then divide), no second [N, F]
        out = out.div_(adj.in_degree().clamp(min=1).to(out.dtype).unsqueeze(-1))
    return out if x.dim() == 2 else out.reshape(x.shape)     # not a view: callers may add in place


def spmm_reference(adj: SparseAdj, x: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
    """:func:`spmm` as gather, scale and index_add: builds the ``[E, F]`` messages ``w_uv x_u``."""
    _check_spmm(adj, x, reduce)
    msg = x.index_select(0, adj.src)                                           # [E, *]
    if adj.weight is not None:
        msg = msg * adj.weight.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    out = torch.zeros(x.shape, dtype=msg.dtype, device=x.device).index_add_(0, adj.dst, msg)   # [N, *]
    if reduce == "mean":
        out = out / adj.in_degree().clamp(min=1).to(out.dtype).view(-1, *([1] * (x.dim() - 1)))
    return out


# --------------------------------------------------------------- multi-head SpMM (attention)
def _head_blocks(adj: SparseAdj, heads: int):
    """CSR indices of the ``H``-head block matrix, node-major: row and column ``v * H + k`` are node
    ``v``'s copy in head ``k``, so ``[N, H, C]`` features are its ``[N * H, C]`` rows as they lie (no
    transpose, no copy). Row ``(v, k)`` holds ``v``'s in-edges in the adjacency's order; ``gather``
    takes ``alpha.view(-1)`` (``[E, H]`` row-major) to the block's entry order. The same for the
    transpose (rows ``(u, k)``). Cached on ``adj``; the last item says whether an edge repeats
    (``torch.sparse.sampled_addmm`` refuses such a pattern)."""
    def build(a: SparseAdj):
        n, e = a.num_nodes, a.num_edges
        dtype = torch.int32 if heads * max(n, e, 1) < 2**31 else torch.long
        k = torch.arange(heads, device=a.src.device)                             # [H]

        def blocks(index: CSRIndex, same_pattern=None):
            rowptr, col = index.rowptr.long(), index.col.long()
            edge = torch.arange(e, device=col.device) if index.order is None else index.order.long()
            deg = rowptr.diff()                                                  # [N]
            start = heads * rowptr[:-1].unsqueeze(1) + k * deg.unsqueeze(1)      # [N, H] first entry of row (v, k)
            rowptr_h = torch.cat([start.reshape(-1), rowptr.new_full((1,), heads * e)])   # [N*H + 1]
            row = torch.repeat_interleave(torch.arange(n, device=col.device), deg)        # [E] row of each entry
            pos = (start[row] + (torch.arange(e, device=col.device) - rowptr[row]).unsqueeze(1)).reshape(-1)  # [E*H]
            col_h = torch.empty(heads * e, dtype=torch.long, device=col.device)
            col_h[pos] = (col.unsqueeze(1) * heads + k).reshape(-1)
            gather = torch.empty(heads * e, dtype=torch.long, device=col.device)
            gather[pos] = (edge.unsqueeze(1) * heads + k).reshape(-1)
            if same_pattern is not None:       # A^T's pattern is A's: keep A's block indices once
                return same_pattern[0], same_pattern[1], gather.to(dtype)
            return rowptr_h.to(dtype), col_h.to(dtype), gather.to(dtype)

        key = a.dst * max(n, 1) + a.src                                          # sorted: repeats are adjacent
        duplicates = bool((key[1:] == key[:-1]).any()) if e > 1 else False
        forward = blocks(a.csr_index())
        # a symmetric pattern (an undirected graph stored both ways): the transpose's rows and columns
        # are the same (4 of the 12 bytes an entry this cache holds at H heads); only its order differs
        return forward, blocks(a.csr_index(transpose=True), forward if a._structure.symmetric else None), duplicates
    return adj.cached(("spmm_heads", heads), build)


class _HeadSpMM(torch.autograd.Function):
    """``out[v, k] = sum_{u -> v} alpha[e, k] x[u, k]`` for every head ``k`` as one SpMM over the
    block matrix of :func:`_head_blocks` (no ``[E, H, C]`` message tensor, no transposed copy of the
    features).

    Backward: ``grad_x`` is the transposed SpMM; ``grad_alpha[e, k] = <g[v, k], x[u, k]>`` is a
    sampled dense-dense product on the same block pattern (``torch.sparse.sampled_addmm``), so
    no ``[E, H, C]`` tensor there either (unless an edge repeats: then per edge). Against the gather-scatter reference this made GATConv
    (8 heads x 8) 1.2-1.6x faster than PyG's layer where the reference path ran at 0.82-0.97x
    (docs/benchmarks.md, "Layers"); the node-major blocks (no head-major copies of ``x``, the
    output and both gradients) took a further ~20% off a GAT epoch's non-GEMM time (issue 17)."""

    @staticmethod
    def forward(ctx, alpha, x, adj):
        (N, H, C), ((rowptr, col, gather), _, _) = x.shape, _head_blocks(adj, x.size(1))
        a = _csr_tensor(rowptr, col, alpha.reshape(-1).index_select(0, gather), (N * H, N * H))
        ctx.save_for_backward(alpha, x)
        ctx.adj = adj                  # not ``a``: its gathered values would stay alive until the backward
        return _csr_mm(a, x.view(N * H, C)).view(N, H, C)                      # [N, H, C]

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        (N, H, C), adj = x.shape, ctx.adj
        (rowptr, col, gather), (rowptr_t, col_t, gather_t), duplicates = _head_blocks(adj, H)
        grad_h = grad.contiguous().view(N * H, C)                                # [N*H, C]
        grad_alpha = grad_x = None
        if ctx.needs_input_grad[0] and duplicates:                               # per edge: [E, H, C]
            grad_alpha = (grad.index_select(0, adj.dst) * x.index_select(0, adj.src)).sum(-1)   # [E, H]
        elif ctx.needs_input_grad[0]:
            # Only the block pattern matters with beta=0, so its values are alpha's own storage in
            # whatever order (E*H finite numbers, multiplied by 0): no gathered copy is made or kept.
            pattern = _csr_tensor(rowptr, col, alpha.reshape(-1), (N * H, N * H))
            sampled = torch.sparse.sampled_addmm(pattern, grad_h, x.view(N * H, C).t(), beta=0.0)
            grad_alpha = torch.empty_like(alpha)                                 # [E, H]
            grad_alpha.view(-1).index_copy_(0, gather.long(), sampled.values())    # block order -> edge order
        if ctx.needs_input_grad[1]:
            a_t = _csr_tensor(rowptr_t, col_t, alpha.reshape(-1).index_select(0, gather_t), (N * H, N * H))
            grad_x = _csr_mm(a_t, grad_h).view(N, H, C)                          # [N, H, C]
        return grad_alpha, grad_x, None


def _check_heads(adj: SparseAdj, alpha: torch.Tensor, x: torch.Tensor) -> None:
    if not isinstance(adj, SparseAdj):
        raise TypeError(f"spmm_heads takes a SparseAdj (got {type(adj).__name__}); build it with ops.as_adj")
    if x.dim() != 3 or x.size(0) != adj.num_nodes:
        raise ValueError(f"spmm_heads expects x of shape [N, H, C] with N = {adj.num_nodes} (got {list(x.shape)})")
    if alpha.shape != (adj.num_edges, x.size(1)):
        raise ValueError(f"spmm_heads expects alpha of shape [E, H] = [{adj.num_edges}, {x.size(1)}] in the "
                         f"adjacency's edge order (got {list(alpha.shape)})")


def spmm_heads(adj: SparseAdj, alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-head weighted sum over in-neighbours, as in multi-head attention.

    .. math::
        \\mathrm{out}_{v,k} = \\sum_{u \\to v} \\alpha_{uv}^k \\, x_{u,k}

    Args:
        adj: the adjacency; ``alpha`` is given in its edge order (``adj.src``, ``adj.dst``);
            its own weights are not used.
        alpha: ``[E, H]`` one coefficient per edge and head.
        x: ``[N, H, C]`` per-head node features.

    Returns: ``[N, H, C]``; nodes without incoming edges get 0. Differentiable in ``alpha`` and
    ``x``. :func:`spmm_heads_reference` is the same computation, written plainly.

    Example::

        adj = ops.as_adj(torch.tensor([[0, 1], [2, 2]]), 3)
        out = ops.spmm_heads(adj, torch.rand(2, 4), torch.randn(3, 4, 8))   # [3, 4, 8]
    """
    _check_heads(adj, alpha, x)
    return _HeadSpMM.apply(alpha.contiguous(), x.contiguous(), adj)


def spmm_heads_reference(adj: SparseAdj, alpha: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """:func:`spmm_heads` as gather, scale and index_add: builds the ``[E, H, C]`` messages."""
    _check_heads(adj, alpha, x)
    msg = alpha.unsqueeze(-1) * x.index_select(0, adj.src)                     # [E, H, C]
    return torch.zeros(x.shape, dtype=msg.dtype, device=x.device).index_add_(0, adj.dst, msg)   # [N, H, C]


# --------------------------------------------------------------- x @ W for sparse features
class _SparseFeatureMM(torch.autograd.Function):
    """``x @ weight`` for a constant sparse CSR ``x``; the weight gradient ``x^T g`` goes through
    a transposed CSR built here by counting sort (torch's own backward converts the CSC view
    generically: 15.6 ms against 2.7 ms with an argsort for Cora's 2,708 x 1,433 bag of words,
    64 outputs, and 0.5 ms for the transpose by counting sort). Reference: the dense product."""

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
        rowptr_t, col_t, values_t = transpose_csr(x.crow_indices(), x.col_indices(), x.values(), (n, f))
        x_t = _csr_tensor(rowptr_t, col_t, values_t, (f, n))                     # x^T, [F_in, N]
        return None, _csr_mm(x_t, grad_out.to(values_t.dtype).contiguous())


def matmul(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight`` for dense or sparse (CSR or COO) node features ``x``: ``[N, F_in] x [F_in, F_out]``.

    Bag-of-words features (Cora's are 1.3% non-zero) stay sparse through a first layer this
    way; the gradient reaches ``weight`` only (sparse ``x`` is data, not a parameter).
    :func:`matmul_reference` is the same computation on dense features.

    Example::

        ops.matmul(torch.eye(3).to_sparse_csr(), torch.randn(3, 2))   # [3, 2]
    """
    if x.layout == torch.strided:
        return x @ weight
    if x.requires_grad:
        raise ValueError("sparse x with requires_grad=True is not supported; pass x.detach() or dense features")
    if x.layout != torch.sparse_csr:
        x = x.to_sparse_csr()
    return _SparseFeatureMM.apply(x, weight)


def matmul_reference(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """:func:`matmul` with the features made dense first."""
    return (x.to_dense() if x.layout != torch.strided else x) @ weight
