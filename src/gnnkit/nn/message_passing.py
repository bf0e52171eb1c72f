"""The message-passing base class: message, aggregate, update (Gilmer et al., 2017).

.. math::
    m_{uv} = \\mathrm{MESSAGE}(h_u, h_v, e_{uv}), \\qquad
    a_v = \\mathrm{AGGREGATE}(\\{ m_{uv} : u \\to v \\}), \\qquad
    h_v' = \\mathrm{UPDATE}(a_v, h_v)

A new layer subclasses ``MessagePassing``, overrides ``message`` (and ``update`` if it has
one), picks ``aggr``, and writes a ``forward`` that reads like its paper and calls
``self.propagate``. ``docs/custom_layer.md`` walks through one.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gnnkit import ops

AGGREGATORS = ("sum", "mean", "max", "min")
EDGE_ORDERS = ("input", "adjacency")


class MessagePassing(nn.Module):
    """Base class: ``propagate`` runs message, aggregate and update over the edges ``src -> dst``.

    Gilmer, Schoenholz, Riley, Vinyals & Dahl, "Neural Message Passing for Quantum Chemistry",
    ICML 2017, https://arxiv.org/abs/1704.01212 (Eq. 1-2).

    A subclass overrides any of the three steps:

    - ``message(x_src, x_dst, **edge)``: one message per edge, ``[E, *]``. ``x_src`` is the
      source node's row of ``x``; ``x_dst`` the target's row of ``propagate``'s ``x_dst``
      (``None`` unless given); ``edge`` holds the edge tensors passed to ``propagate`` by name
      (e.g. ``edge_attr``, ``edge_weight``). Default: ``w_uv * x_src``, with ``w`` the
      ``edge_weight`` passed, else a weighted ``SparseAdj``'s own weights (``x_src`` if none).
    - ``aggregate(messages, adj)``: ``[E, *] -> [N, *]``, reducing at the targets with ``aggr``
      (messages arrive sorted by target, in ``adj``'s order). Empty neighbourhoods give 0.
    - ``update(h_neigh, x)``: the new node state from the aggregate and the old state.
      Default: the aggregate.

    **The SpMM shortcut.** When ``message`` and ``aggregate`` are this class's own (not
    overridden, on the class or the instance), ``aggr`` is ``'sum'`` or ``'mean'`` and no edge
    tensor other than ``edge_weight`` is passed, the messages are linear and ``propagate`` runs
    them as one ``ops.spmm``: the same numbers without an ``[E, F]`` tensor. A subclass that
    overrides ``message`` always runs it: the check is made on every call (``uses_spmm``). A
    layer whose own message is linear calls ``ops.spmm`` itself, so the choice is visible in it.

    Args:
        aggr: ``'sum'`` (default), ``'mean'``, ``'max'``, ``'min'``, or a callable
            ``aggr(messages [E, *], dst [E], num_nodes) -> [N, *]``.

    Shapes:
        x: [N, F]; edge_index: [2, E] or ``ops.SparseAdj``; edge tensors: [E, *]; out: [N, F'].

    Example::

        mp = MessagePassing(aggr="mean")
        h_neigh = mp.propagate(torch.tensor([[0, 1], [1, 2]]), torch.randn(3, 8))   # [3, 8]
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "linear_message" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} sets linear_message, which MessagePassing no longer reads: an overridden "
                "message() always runs, and the default one takes the SpMM path by itself. Remove the "
                "attribute; if your message is linear, call ops.spmm in forward instead of propagate")

    def __init__(self, aggr: str | Callable = "sum"):
        super().__init__()
        if not callable(aggr) and aggr not in AGGREGATORS:
            raise ValueError(f"aggr must be one of {AGGREGATORS} or a callable (got {aggr!r})")
        self.aggr = aggr

    def message(self, x_src: torch.Tensor, x_dst: torch.Tensor | None,
                edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        """Message along each edge ``src -> dst``: ``[E, *]``. Default: ``w * x_src``."""
        if edge_weight is None:
            return x_src
        return x_src * edge_weight.view(-1, *([1] * (x_src.dim() - 1)))

    def aggregate(self, messages: torch.Tensor, adj: ops.SparseAdj) -> torch.Tensor:
        """Reduce messages (in ``adj``'s order, sorted by target) at their targets: ``[E, *] -> [N, *]``."""
        if callable(self.aggr):
            return self.aggr(messages, adj.dst, adj.num_nodes)
        if self.aggr in ("max", "min"):                 # contiguous segments: faster than a scatter
            return ops.segment(messages, adj.rowptr, self.aggr)
        return ops.scatter(messages, adj.dst, adj.num_nodes, self.aggr)

    def update(self, h_neigh: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The new node state from the aggregate ``h_neigh`` and the old state ``x``. Default: ``h_neigh``."""
        return h_neigh

    def uses_spmm(self, edge_tensors=()) -> bool:
        """Whether ``propagate`` takes the SpMM shortcut: default message and aggregate (on the class
        and on this instance), ``aggr`` sum or mean, and no edge tensor but ``edge_weight``."""
        return (getattr(self.message, "__func__", None) is MessagePassing.message
                and getattr(self.aggregate, "__func__", None) is MessagePassing.aggregate
                and isinstance(self.aggr, str) and self.aggr in ("sum", "mean")
                and all(name == "edge_weight" for name in edge_tensors))

    def propagate(self, edge_index, x: torch.Tensor, *, x_dst: torch.Tensor | None = None,
                  edge_order: str = "input", **edge: torch.Tensor) -> torch.Tensor:
        """``update(aggregate(message(...)), x)`` over every edge; returns ``[N, *]``.

        Args:
            edge_index: ``[2, E]`` tensor or an ``ops.SparseAdj`` (e.g. ``graph.adj()``).
            x: ``[N, *]`` node features; ``message`` gets their rows at the sources (``x_src``).
            x_dst: optional ``[N, *]`` features whose rows at the targets ``message`` gets as ``x_dst``
                (pass ``x_dst=x`` when the message reads the target; not gathered otherwise).
            edge_order: the order of the edge tensors: ``'input'`` (default), aligned with
                ``edge_index`` (or the ``edge_index`` the ``SparseAdj`` was built from), reordered
                here with ``adj.perm``; or ``'adjacency'``, already in ``adj``'s sorted order
                (e.g. computed once from ``edge_attr[adj.perm]`` before a loop of steps).
            **edge: ``[E, *]`` edge tensors passed on to ``message`` by name (``edge_weight`` scales
                the default message).
        """
        if edge_order not in EDGE_ORDERS:
            raise ValueError(f"edge_order must be one of {EDGE_ORDERS} (got {edge_order!r})")
        adj = ops.as_adj(edge_index, x.size(0))
        for name, t in edge.items():
            if not isinstance(t, torch.Tensor) or t.size(0) != adj.num_edges:
                got = list(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
                raise ValueError(f"edge tensor {name!r} must have one row per edge, [{adj.num_edges}, *] "
                                 f"(got {got}); pass node tensors as x or x_dst")
        if edge_order == "input":
            edge = {name: t.index_select(0, adj.perm) for name, t in edge.items()}   # [E, *] in adj's order
        default_message = getattr(self.message, "__func__", None) is MessagePassing.message
        unread = sorted(name for name in edge if name != "edge_weight")
        if default_message and unread:
            raise ValueError(f"the default message reads only edge_weight, not {', '.join(unread)}; override "
                             "message() to use them (see docs/custom_layer.md)")
        if default_message and "edge_weight" not in edge and adj.weight is not None:
            edge["edge_weight"] = adj.weight                    # a weighted SparseAdj's own weights
        if self.uses_spmm(edge):
            w = edge.get("edge_weight", adj.weight)
            weighted = adj if w is adj.weight else adj.with_weight(w)                  # shares adj's structure
            return self.update(ops.spmm(weighted, x, self.aggr), x)                     # [N, F]
        x_src = x.index_select(0, adj.src)                                               # [E, F]
        x_dst = None if x_dst is None else x_dst.index_select(0, adj.dst)               # [E, F]
        messages = self.message(x_src, x_dst, **edge)                                    # [E, F']
        return self.update(self.aggregate(messages, adj), x)                            # [N, F']

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}"
