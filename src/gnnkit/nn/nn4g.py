"""Neural Network for Graphs: NN4GConv (Micheli, 2009)."""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.init import glorot_


class NN4GConv(nn.Module):
    """One NN4G layer: it reads the input labels and the neighbour sums of all earlier layers.

    Micheli, "Neural Network for Graphs: A Contextual Constructive Approach",
    IEEE Transactions on Neural Networks 20(3), 2009,
    https://doi.org/10.1109/TNN.2008.2010350 (no arXiv version).

    .. math::
        h_v^{(i)} = f\\Big(W^{(i)} x_v + \\sum_{k=1}^{i-1} \\hat W^{(i,k)} \\sum_{u \\in N(v)} h_u^{(k)} + b^{(i)}\\Big)

    :math:`x_v` is the input label of node :math:`v`, :math:`h^{(k)}` the state
    of the earlier layer :math:`k` (frozen or not, the layer does not care),
    :math:`N(v)` the in-neighbours of :math:`v` and :math:`f` the activation
    (tanh by default, the paper's sigmoidal units). The first layer
    (``prev_channels=()``) sees only :math:`x_v`. Unlike a recurrent GNN, no
    state feeds back into its own layer, so there is no fixed point to reach.
    The neighbour sums of all earlier states are one SpMM on their concatenation.

    Args:
        in_channels: F_in, the width of the input labels x.
        out_channels: F_out.
        prev_channels: widths of the earlier layers' states, in order (default: none, the first layer).
        act: activation f (default ``torch.tanh``; ``None`` for identity).
        bias: learnable bias (default True).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; prev_states: a list of [N, F_k], one per
        entry of ``prev_channels``; out: [N, F_out].

    Example::

        x, edge_index = torch.randn(3, 4), torch.tensor([[0, 1], [1, 2]])
        h1 = NN4GConv(4, 8)(x, edge_index)                             # [3, 8]
        h2 = NN4GConv(4, 8, prev_channels=[8])(x, edge_index, [h1])    # [3, 8]
    """

    def __init__(self, in_channels: int, out_channels: int, prev_channels: Sequence[int] = (),
                 act: Callable | None = torch.tanh, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.prev_channels, self.act = tuple(int(c) for c in prev_channels), act
        self.weight_input = nn.Parameter(torch.empty(in_channels, out_channels))
        self.weight_states = nn.Parameter(torch.empty(sum(self.prev_channels), out_channels)) \
            if self.prev_channels else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_(self.weight_input, self.weight_states, fan_in=self.in_channels + sum(self.prev_channels),
                fan_out=self.out_channels)   # one Glorot range over [W, W_hat], the layer's whole input
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, edge_index, prev_states: Sequence[torch.Tensor] = ()) -> torch.Tensor:
        check_node_features(x, self.in_channels, "NN4GConv")
        shapes = [tuple(s.shape) for s in prev_states]
        expected = [(x.size(0), c) for c in self.prev_channels]
        if shapes != expected:
            raise ValueError(f"NN4GConv(prev_channels={list(self.prev_channels)}) expects prev_states of shapes "
                             f"{expected} (got {shapes}); pass the states of all earlier layers, in order")
        adj = ops.as_adj(edge_index, x.size(0))
        h = x @ self.weight_input                                            # [N, F_out]  W x_v
        if self.weight_states is not None:
            states = torch.cat(list(prev_states), dim=-1)                    # [N, sum F_k]
            if self.out_channels < states.size(1):                           # aggregate the narrower side
                h = h + ops.spmm(adj, states @ self.weight_states)           # [N, F_out]
            else:
                h = h + ops.spmm(adj, states) @ self.weight_states           # [N, F_out]
        if self.bias is not None:
            h = h + self.bias
        return h if self.act is None else self.act(h)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, prev_channels={list(self.prev_channels)}, "
                f"bias={self.bias is not None}")
