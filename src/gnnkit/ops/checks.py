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
