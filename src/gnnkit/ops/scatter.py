"""Scatter / segment reductions and the edge softmax.

Empty groups (a node with no incoming edge, a graph with no nodes) give 0 for
every reduction, never NaN or -inf.
"""
from __future__ import annotations

import torch

REDUCTIONS = ("sum", "mean", "max", "min")


def _check_reduce(reduce: str) -> None:
    if reduce not in REDUCTIONS:
        raise ValueError(f"reduce must be one of {REDUCTIONS} (got {reduce!r})")


def scatter(src: torch.Tensor, index: torch.Tensor, dim_size: int | None = None, reduce: str = "sum", *,
            dim: int = 0) -> torch.Tensor:
    """Reduce slices of ``src`` along ``dim`` into ``dim_size`` groups given by ``index``.

    .. math::
        \\mathrm{out}_i = \\bigoplus_{e \\,:\\, \\mathrm{index}_e = i} \\mathrm{src}_e

    with :math:`\\oplus` one of sum, mean, max, min; an empty group gives 0.

    Two call forms: gnnkit's positional ``scatter(src, index, N, 'mean')`` and torch_scatter /
    PyG's keywords ``scatter(src, index, dim=0, dim_size=N, reduce='mean')``. ``dim`` is
    keyword-only, so a positional third argument is always ``dim_size``.

    Args:
        src: ``[E, *]`` values (``E`` along ``dim``).
        index: ``[E]`` int64 group ids in ``[0, dim_size)``.
        dim_size: number of groups ``N`` (default ``index.max() + 1``, as torch_scatter; pass it
            when the last groups may be empty).
        reduce: ``'sum'`` (default; ``'add'`` is accepted), ``'mean'``, ``'max'`` or ``'min'``.
        dim: the dimension of ``src`` that ``index`` runs along (default 0; negative counts from the end).

    Returns: ``src``'s shape with ``dim`` of size ``N``.

    Example::

        scatter(torch.tensor([1., 2., 4.]), torch.tensor([0, 0, 2]), 3, "sum")           # [3., 0., 4.]
        scatter(torch.ones(2, 3), torch.tensor([0, 0, 1]), dim=1, reduce="sum")        # [[2., 1.], [2., 1.]]
    """
    if reduce == "add":
        reduce = "sum"
    _check_reduce(reduce)
    if not isinstance(src, torch.Tensor) or not isinstance(index, torch.Tensor):
        raise TypeError("scatter(src, index, ...) takes two tensors "
                        f"(got {type(src).__name__} and {type(index).__name__})")
    if src.dim() == 0:
        raise ValueError("src must have at least one dimension (got a scalar tensor)")
    if not -src.dim() <= dim < src.dim():
        raise ValueError(f"dim={dim} is out of range for src of {src.dim()} dimensions")
    dim = dim % src.dim()
    if index.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"index must be an integer tensor (int64), got dtype {index.dtype}; use index.long()")
    if index.dim() != 1 or index.size(0) != src.size(dim):
        raise ValueError(
            f"index must be 1-D with one entry per row of src along dim={dim} (src has {src.size(dim)} rows, "
            f"index shape {list(index.shape)})"
        )
    if index.numel():
        low, high = (int(v) for v in torch.aminmax(index))
        if dim_size is None:
            dim_size = high + 1
        if low < 0 or high >= dim_size:
            bad = low if low < 0 else high
            hint = ("; a positional third argument is dim_size: pass torch_scatter's dim as dim=..."
                    if dim_size in (0, 1) and high >= dim_size else "")
            raise ValueError(f"index holds group id {bad} but dim_size is {dim_size} (ids must be in "
                             f"[0, {dim_size})){hint}")
    elif dim_size is None:
        dim_size = 0
    if dim != 0:
        return scatter(src.movedim(dim, 0), index, dim_size, reduce).movedim(0, dim)
    index = index.long()
    out_shape = (dim_size,) + tuple(src.shape[1:])
    if reduce in ("sum", "mean"):
        out = src.new_zeros(out_shape).index_add_(0, index, src)
        if reduce == "mean":
            count = torch.bincount(index, minlength=dim_size).clamp_(min=1).to(src.dtype)
            out = out / count.view(-1, *([1] * (src.dim() - 1)))
        return out
    # max / min: start from the identity (-inf / +inf) and set empty groups to 0 afterwards. Starting
    # from zeros would be wrong in the backward pass: scatter_reduce's gradient counts the start
    # value as a tie whenever a group's max is exactly 0, halving the gradient of the true maximum.
    info = torch.finfo(src.dtype) if src.is_floating_point() else torch.iinfo(src.dtype)
    start = (float("-inf") if src.is_floating_point() else info.min) if reduce == "max" else (
        float("inf") if src.is_floating_point() else info.max)
    shape = (-1,) + (1,) * (src.dim() - 1)
    out = src.new_full(out_shape, start).scatter_reduce(
        0, index.view(shape).expand_as(src), src, reduce="amax" if reduce == "max" else "amin", include_self=False
    )
    return out.masked_fill((torch.bincount(index, minlength=dim_size) == 0).view(shape), 0)


class _SegmentExtreme(torch.autograd.Function):
    """Max or min over contiguous row segments, with the gradient shared equally among the rows
    that tie for the extreme. ``torch.segment_reduce``'s own backward is not used: in torch 2.13
    it gives every tied row the whole gradient when that gradient is negative."""

    @staticmethod
    def forward(ctx, src, ptr, reduce):
        out = torch.segment_reduce(src, reduce, offsets=ptr, axis=0)                 # [B, *]
        ctx.save_for_backward(src, ptr, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        src, ptr, out = ctx.saved_tensors
        sizes = ptr[1:] - ptr[:-1]
        seg = torch.repeat_interleave(torch.arange(sizes.numel(), device=src.device), sizes)   # [E]
        hit = (src == out.index_select(0, seg)).to(grad.dtype)                       # [E, *] 1 where tied
        count = torch.segment_reduce(hit, "sum", offsets=ptr, axis=0).clamp_min_(1)  # [B, *]
        return hit * (grad / count).index_select(0, seg), None, None


def segment(src: torch.Tensor, ptr: torch.Tensor, reduce: str = "sum") -> torch.Tensor:
    """Reduce contiguous row segments ``src[ptr[i]:ptr[i+1]]``: the nodes of graph ``i`` in a
    ``Batch``, or messages in a ``SparseAdj``'s order (sorted by target, ``ptr = adj.rowptr``).
    Empty segments give 0. ``ptr``: ``[B + 1]`` from 0 to ``src.size(0)``; returns ``[B, *]``.
    Max and min run ``torch.segment_reduce`` (ties share the gradient equally, as in
    :func:`scatter`): a neighbourhood max over Cora's 10,556 edges x 64 features took 6.5 ms
    forward + backward against 15 ms for the scatter. Sum and mean go through :func:`scatter`,
    whose backward measured 1.5-2x faster than ``segment_reduce``'s at 64-500 features."""
    _check_reduce(reduce)
    if ptr.dim() != 1 or ptr.numel() < 1:
        raise ValueError(f"ptr must be 1-D with B + 1 entries (got shape {list(ptr.shape)})")
    if int(ptr[0]) != 0 or int(ptr[-1]) != src.size(0):
        raise ValueError(f"ptr must run from 0 to src.size(0) = {src.size(0)} (got {int(ptr[0])} to {int(ptr[-1])})")
    ptr = ptr.long()
    sizes = ptr[1:] - ptr[:-1]
    if reduce in ("sum", "mean"):
        index = torch.repeat_interleave(torch.arange(sizes.numel(), device=src.device), sizes)
        return scatter(src, index, sizes.numel(), reduce)
    out = _SegmentExtreme.apply(src, ptr, reduce)                              # empty segments: -inf / +inf
    return out.masked_fill((sizes == 0).view(-1, *([1] * (src.dim() - 1))), 0)


class _SortedEdgeSoftmax(torch.autograd.Function):
    """The edge softmax for edges sorted by target, row ``v``'s edges at ``rowptr[v]:rowptr[v+1]``:
    max and sums over contiguous segments (``torch.segment_reduce``), and the softmax gradient
    ``alpha * (g - sum_v(alpha * g))`` written out. On Cora's 13,264 looped edges x 8 heads the
    per-target max took 0.22 ms against 1.8 ms for ``scatter_reduce``."""

    @staticmethod
    def forward(ctx, scores, dst, rowptr):
        shift = torch.segment_reduce(scores, "max", offsets=rowptr, axis=0, unsafe=True)   # [N, *]
        exp = (scores - shift.index_select(0, dst)).exp_()                                  # [E, *] <= 1
        denom = torch.segment_reduce(exp, "sum", offsets=rowptr, axis=0, unsafe=True)      # [N, *] >= 1
        alpha = exp.div_(denom.index_select(0, dst))
        ctx.save_for_backward(alpha, dst, rowptr)
        return alpha

    @staticmethod
    def backward(ctx, grad):
        alpha, dst, rowptr = ctx.saved_tensors
        prod = alpha * grad                                                                  # [E, *]
        total = torch.segment_reduce(prod, "sum", offsets=rowptr, axis=0, unsafe=True)      # [N, *]
        return prod - alpha * total.index_select(0, dst), None, None


def edge_softmax(scores: torch.Tensor, dst: torch.Tensor, num_nodes: int,
                 rowptr: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax of edge scores over each target's incoming edges.

    .. math::
        \\alpha_{e} = \\frac{\\exp(s_e)}{\\sum_{e' \\,:\\, \\mathrm{dst}_{e'} = \\mathrm{dst}_e} \\exp(s_{e'})}

    ``scores``: ``[E]`` or ``[E, H]`` (one softmax per head); ``dst``: ``[E]``.
    The per-target maximum is subtracted first, for stability. When the edges are sorted by
    target, pass their CSR row pointer ``rowptr`` (``[N + 1]``, e.g. ``SparseAdj.rowptr``): the
    reductions then run over contiguous segments, several times faster than scatters.
    """
    if scores.size(0) != dst.size(0):
        raise ValueError(f"scores has {scores.size(0)} rows but dst has {dst.size(0)} entries; both must be E")
    if rowptr is not None:
        if rowptr.shape != (num_nodes + 1,) or int(rowptr[-1]) != dst.size(0):
            raise ValueError(f"rowptr must have N + 1 = {num_nodes + 1} entries ending at E = {dst.size(0)} "
                             f"(got shape {list(rowptr.shape)}); it is the CSR row pointer of edges sorted by dst")
        return _SortedEdgeSoftmax.apply(scores, dst, rowptr)
    shift = scatter(scores.detach(), dst, num_nodes, "max")
    exp = (scores - shift.index_select(0, dst)).exp()
    denom = scatter(exp, dst, num_nodes, "sum")
    return exp / denom.index_select(0, dst).clamp_min(1e-16)
