"""The message-passing core, in the Aggregate / Combine vocabulary of Xu et al. (2019).

.. math::
    a_v = \\mathrm{AGGREGATE}(\\{ m(h_u, h_v, e_{uv}) : u \\to v \\}), \\qquad
    h_v' = \\mathrm{COMBINE}(h_v, a_v)

A layer overrides ``message`` (and sets ``linear_message = False``), picks
``aggr``, and writes a ``forward`` that reads like its paper's equation.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gnnkit import ops

AGGREGATORS = ("sum", "mean", "max", "min")


class MessagePassing(nn.Module):
    """Base class: ``propagate`` = message, then aggregate at the target.

    Args:
        aggr: ``'sum'``, ``'mean'``, ``'max'``, ``'min'``, or a callable
            ``aggr(messages [E, *], dst [E], num_nodes) -> [N, *]``.

    The default message is the source feature, optionally times the edge weight:
    :math:`m_{uv} = w_{uv} h_u`. It is linear, so with ``sum`` or ``mean`` the
    aggregation is one SpMM (``ops.spmm``) and no ``[E, F]`` tensor is built. A
    subclass that overrides ``message`` sets ``linear_message = False``.

    Example::

        mp = MessagePassing(aggr="mean")
        h_neigh = mp.propagate(edge_index, x)       # [N, F] mean of in-neighbours
    """

    linear_message = True

    def __init__(self, aggr: str | Callable = "sum"):
        super().__init__()
        if not callable(aggr) and aggr not in AGGREGATORS:
            raise ValueError(f"aggr must be one of {AGGREGATORS} or a callable (got {aggr!r})")
        self.aggr = aggr

    def message(self, x_src: torch.Tensor, x_dst: torch.Tensor, edge_weight: torch.Tensor | None = None,
                **kwargs) -> torch.Tensor:
        """Message along each edge ``src -> dst``: ``[E, *]``. Default: ``w * x_src``."""
        if edge_weight is None:
            return x_src
        return x_src * edge_weight.view(-1, *([1] * (x_src.dim() - 1)))

    def aggregate(self, messages: torch.Tensor, dst: torch.Tensor, num_nodes: int) -> torch.Tensor:
        """Reduce messages at their targets: ``[E, *] -> [N, *]`` (empty neighbourhoods give 0)."""
        if callable(self.aggr):
            return self.aggr(messages, dst, num_nodes)
        return ops.scatter(messages, dst, num_nodes, self.aggr)

    def combine(self, x: torch.Tensor, h_neigh: torch.Tensor) -> torch.Tensor:
        """Combine a node's own state with its aggregated neighbourhood. Default: the aggregate."""
        return h_neigh

    def propagate(self, edge_index, x: torch.Tensor, edge_weight: torch.Tensor | None = None,
                  **kwargs) -> torch.Tensor:
        """Aggregate messages into every node; returns ``[N, *]``.

        ``edge_index`` is a ``[2, E]`` tensor or a cached ``ops.SparseAdj``;
        ``edge_weight`` (``[E]``, aligned with ``edge_index``) scales the default
        message. Extra keyword tensors of shape ``[E, *]`` (edge attributes, aligned
        with ``edge_index``) are passed to ``message`` in the adjacency's order.
        """
        adj = ops.as_adj(edge_index, x.size(0), edge_weight)
        if self.linear_message and self.aggr in ("sum", "mean"):
            return ops.spmm(adj, x, self.aggr)                               # [N, F]
        edge_kwargs = {k: (v[adj.perm] if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}
        messages = self.message(x_src=x[adj.src], x_dst=x[adj.dst],        # [E, F']
                                edge_weight=adj.weight, **edge_kwargs)
        return self.aggregate(messages, adj.dst, adj.num_nodes)             # [N, F']

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}"
