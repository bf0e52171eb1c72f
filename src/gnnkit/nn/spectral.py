"""Spectral graph convolutions: GCNConv (Kipf & Welling, 2017)."""
from __future__ import annotations

import math

import torch
from torch import nn

from gnnkit import ops


class GCNConv(nn.Module):
    """Graph convolution with the renormalization trick.

    Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017, https://arxiv.org/abs/1609.02907

    .. math::
        h_v' = \\sum_{u \\in N(v) \\cup \\{v\\}} \\frac{w_{uv}}{\\sqrt{\\tilde d_u \\tilde d_v}} W h_u + b,
        \\qquad \\tilde d_v = 1 + \\sum_{u \\in N(v)} w_{uv}

    i.e. :math:`H' = \\tilde D^{-1/2} \\tilde A \\tilde D^{-1/2} H W` with
    :math:`\\tilde A = A + I`; :math:`w_{uv}` are edge weights (1 by default).

    Args:
        in_channels: F_in.
        out_channels: F_out.
        bias: add a learnable bias (default True).
        cached: keep the normalized adjacency of the first graph seen and reuse it
            (transductive training on one graph; default False). Passing a
            ``SparseAdj`` caches on that object instead, which is always safe.
        add_self_loops: use :math:`A + I` (default True).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; edge_weight: [E]; out: [N, F_out].

    Example::

        conv = GCNConv(16, 4)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, cached: bool = False,
                 add_self_loops: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.cached, self.add_self_loops = cached, add_self_loops
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_adj = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.in_channels + self.out_channels))   # Glorot, as in the paper
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self._cached_adj = None

    def normalized_adj(self, edge_index, num_nodes: int, edge_weight=None) -> ops.SparseAdj:
        if self.cached and self._cached_adj is not None:
            if self._cached_adj.num_nodes != num_nodes:
                raise ValueError(
                    f"GCNConv(cached=True) saw a graph with {self._cached_adj.num_nodes} nodes and now one with "
                    f"{num_nodes}; use cached=False for several graphs"
                )
            return self._cached_adj
        adj = ops.gcn_adj(ops.as_adj(edge_index, num_nodes, edge_weight), self.add_self_loops)
        if self.cached:
            self._cached_adj = adj
        return adj

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(f"GCNConv expects x of shape [N, {self.in_channels}] (got {list(x.shape)})")
        adj_hat = self.normalized_adj(edge_index, x.size(0), edge_weight)
        if self.in_channels < self.out_channels:                # propagate the narrower side
            h = ops.spmm(adj_hat, x) @ self.weight              # [N, F_out]
        else:
            h = ops.spmm(adj_hat, x @ self.weight)              # [N, F_out]
        if self.bias is not None:
            h = h + self.bias
        return h

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}, "
                f"cached={self.cached}, add_self_loops={self.add_self_loops}")
