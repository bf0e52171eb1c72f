"""Input checks shared by ``Graph`` and every layer, so one mistake gets one message.

``check_edge_index`` is the single rule for an edge list: an int64 or int32 tensor of shape
``[2, E]`` holding node ids in ``[0, num_nodes)`` (bool and float tensors are refused, not cast).
``check_node_features`` is the single rule for a layer's node features: a floating-point
``[N, F_in]`` tensor (dense or sparse) with the layer's ``F_in`` columns.

Example::

    check_edge_index(torch.tensor([[0, 1], [1, 2]]), num_nodes=3)     # passes
    check_node_features(torch.randn(3, 4), 4, "GCNConv")             # passes
    check_node_features(torch.randn(3, 5), 4, "GCNConv")
    # ValueError: GCNConv expects x of shape [N, 4] (got [3, 5])
"""
from __future__ import annotations

import torch

EDGE_INDEX_DTYPES = (torch.int64, torch.int32)


def _shape(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


def check_edge_index(edge_index, num_nodes: int) -> None:
    """Raise unless ``edge_index`` is an int64/int32 ``[2, E]`` tensor of node ids in ``[0, num_nodes)``.

    Args:
        edge_index: the edge list to check (row 0 source, row 1 target).
        num_nodes: N; every id must be below it.

    Raises:
        TypeError: ``edge_index`` is not a tensor.
        ValueError: wrong dtype (bool and float included), wrong shape, or an id outside ``[0, N)``;
            the message says how to fix it.

    Example::

        check_edge_index(torch.tensor([[0, 3], [1, 2]]), 3)
        # ValueError: edge_index refers to node 3 but num_nodes is 3 (the rows of x); ...
    """
    if not isinstance(edge_index, torch.Tensor):
        raise TypeError(f"edge_index must be a torch.Tensor of shape [2, E] (got {type(edge_index).__name__})")
    if edge_index.dtype not in EDGE_INDEX_DTYPES:
        raise ValueError(f"edge_index must be an integer tensor (int64 or int32), got dtype {edge_index.dtype}; "
                         "convert with edge_index.long()")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        hint = "; if it is [E, 2], pass edge_index.t()" if edge_index.dim() == 2 and edge_index.size(1) == 2 else ""
        raise ValueError(f"edge_index must have shape [2, E] (got {_shape(edge_index)}){hint}")
    if edge_index.numel():
        low, high = (int(v) for v in torch.aminmax(edge_index))
        if low < 0:
            raise ValueError(f"edge_index holds the negative node id {low}; node ids must be in [0, {num_nodes})")
        if high >= num_nodes:
            raise ValueError(f"edge_index refers to node {high} but num_nodes is {num_nodes} (the rows of x); "
                             "set num_nodes or remove those edges")


def check_node_features(x, in_channels: int | None, layer: str, hint: str = "") -> None:
    """Raise unless ``x`` is a floating-point ``[N, in_channels]`` tensor (dense or sparse).

    Args:
        x: the node features a layer was called with.
        in_channels: F_in the layer was built for (``None``: any width).
        layer: the layer's name, for the message (e.g. ``type(self).__name__``).
        hint: a fix to append to the shape message (e.g. "; pad or project x first").

    Example::

        check_node_features(torch.randn(3, 1), 2, "SAGEConv")
        # ValueError: SAGEConv expects x of shape [N, 2] (got [3, 1])
    """
    width = "F" if in_channels is None else str(in_channels)
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{layer} expects x, a tensor of shape [N, {width}] (got {type(x).__name__})")
    if x.dim() != 2 or (in_channels is not None and x.size(1) != in_channels):
        raise ValueError(f"{layer} expects x of shape [N, {width}] (got {_shape(x)}){hint}")
    if not x.is_floating_point():
        raise ValueError(f"{layer} expects floating-point x (got {x.dtype}); use x.float()")
    if x.dtype not in FEATURE_DTYPES:
        raise ValueError(f"{layer} computes in float32 or float64 (got x of dtype {x.dtype}): its sparse "
                         "products and cached normalisations have no half-precision path; use x.float()")


FEATURE_DTYPES = (torch.float32, torch.float64)


def available_memory() -> int:
    """Bytes the process may still allocate: ``MemAvailable`` of /proc/meminfo (Linux), capped by
    ``$GNNKIT_MEMORY_LIMIT`` (bytes) when set; without either, 2**62 (no limit known)."""
    import os

    limit = 2 ** 62
    env = os.environ.get("GNNKIT_MEMORY_LIMIT")
    if env:
        try:
            limit = int(float(env))
        except ValueError:
            raise ValueError(f"GNNKIT_MEMORY_LIMIT must be a number of bytes (got {env!r})") from None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return min(limit, int(line.split()[1]) * 1024)
    except OSError:
        pass
    return limit


def format_bytes(n: float) -> str:
    """``1.5 GB``-style size (powers of 1000)."""
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"


class TooLarge(MemoryError, ValueError):
    """An operation would need more memory than is available: raised before torch tries. A
    ``MemoryError`` and a ``ValueError`` (a bad size is usually a bad input), so the CLI prints it
    as one line."""


def check_allocation(nbytes: int, what: str, fix: str = "") -> None:
    """Raise :class:`TooLarge` (a ``MemoryError``) naming ``what`` and its size when ``nbytes`` exceeds :func:`available_memory`,
    before torch tries to allocate it.

    Example::

        check_allocation(8 * 10**9, "degree vector of 1,000,000,000 nodes")
        # MemoryError: degree vector of 1,000,000,000 nodes would need 8.0 GB but 3.1 GB is available; ...
    """
    if nbytes < 2 ** 26:   # below 64 MiB: not worth reading /proc/meminfo
        return
    free = available_memory()
    if nbytes > free:
        raise TooLarge(f"{what} would need {format_bytes(nbytes)} but {format_bytes(free)} is available"
                          + (f"; {fix}" if fix else "; check num_nodes (a node count that large is usually a "
                                                    "parsing mistake) or use a machine with more memory"))
