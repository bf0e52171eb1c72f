"""Diffusion-convolutional neural networks: DiffusionConv (Atwood & Towsley, 2016)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.init import glorot_

DIFFUSION_MODES = ("dcnn", "sum")


def diffusion_powers(adj: ops.SparseAdj, x: torch.Tensor, K: int) -> list[torch.Tensor]:
    """``[P^0 x, P^1 x, ..., P^K x]`` with the transition matrix :math:`P = D^{-1} A`,
    :math:`P_{vu} = w_{uv} / \\sum_{u'} w_{u'v}` over the in-edges of :math:`v`
    (rows of nodes without in-edges are 0). One SpMM per hop."""
    inv_deg = None
    if adj.weight is not None:
        deg = ops.spmm(adj, x.new_ones(adj.num_nodes, 1))                    # [N, 1] weighted in-degree
        inv_deg = torch.where(deg != 0, 1.0 / deg, torch.zeros_like(deg))
    hops = [x]
    for _ in range(K):
        if inv_deg is None:
            hops.append(ops.spmm(adj, hops[-1], "mean"))                    # [N, F]
        else:
            hops.append(ops.spmm(adj, hops[-1]) * inv_deg)                  # [N, F]
    return hops


class DiffusionConv(nn.Module):
    """Diffusion convolution over hops 0..K of the random-walk transition matrix.

    Atwood & Towsley, "Diffusion-Convolutional Neural Networks", NeurIPS 2016,
    https://arxiv.org/abs/1511.02136 (node classification, Sec. 2).

    ``mode='dcnn'`` (the paper): every node gets a (K+1) x F_in diffusion
    representation, each entry scaled by its own weight,

    .. math::
        Z_{v,k,f} = f\\big(W_{k,f} \\cdot (P^k X)_{v,f} + b_{k,f}\\big), \\qquad k = 0..K,

    ``mode='sum'``: one weight matrix per hop, activated and summed,

    .. math::
        h_v' = \\sum_{k=0}^{K} f\\Big(\\big(\\textstyle\\sum_u (P^k)_{vu} x_u\\big) W_k + b_k\\Big),

    where :math:`P = D^{-1} A`, :math:`P_{vu} = w_{uv} / \\sum_{u'} w_{u'v}` over the
    in-edges of :math:`v` (the transition matrix of a random walk against the
    edge direction; rows of nodes without in-edges are 0), and :math:`f` is
    ``act`` (tanh by default, as in the paper).

    Args:
        in_channels: F_in.
        K: the largest hop (hops 0..K are used).
        out_channels: F_out; required for ``'sum'``, must be omitted (or equal (K+1) * F_in) for ``'dcnn'``.
        mode: ``'dcnn'`` (default) or ``'sum'``.
        act: activation f (default ``torch.tanh``; ``None`` for identity).
        bias: learnable bias (default True).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; edge_weight: [E];
        out: [N, (K+1) * F_in] for ``'dcnn'`` (hop-major: ``out.view(N, K + 1, F_in)`` is the
        paper's Z), [N, F_out] for ``'sum'``.

    Example::

        conv = DiffusionConv(16, K=2)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 48]
    """

    def __init__(self, in_channels: int, K: int, out_channels: int | None = None, mode: str = "dcnn",
                 act: Callable | None = torch.tanh, bias: bool = True):
        super().__init__()
        if mode not in DIFFUSION_MODES:
            raise ValueError(f"DiffusionConv mode must be one of {DIFFUSION_MODES} (got {mode!r})")
        if K < 0:
            raise ValueError(f"K must be >= 0 (got {K})")
        if mode == "sum" and out_channels is None:
            raise ValueError("DiffusionConv(mode='sum') needs out_channels")
        if mode == "dcnn" and out_channels not in (None, (K + 1) * in_channels):
            raise ValueError(f"DiffusionConv(mode='dcnn') outputs (K+1) * in_channels = {(K + 1) * in_channels} "
                             f"features (got out_channels={out_channels}); leave out_channels unset or use mode='sum'")
        self.in_channels, self.K, self.mode, self.act = in_channels, K, mode, act
        self.out_channels = (K + 1) * in_channels if mode == "dcnn" else out_channels
        shape = (K + 1, in_channels) if mode == "dcnn" else (K + 1, in_channels, out_channels)
        self.weight = nn.Parameter(torch.empty(shape))
        self.bias = nn.Parameter(torch.empty(shape[0], shape[-1])) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.mode == "dcnn":
            nn.init.uniform_(self.weight, -1.0, 1.0)
        else:
            glorot_(self.weight, fan_in=self.in_channels, fan_out=self.out_channels)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        check_node_features(x, self.in_channels, "DiffusionConv")
        adj = ops.as_adj(edge_index, x.size(0), edge_weight)
        px = torch.stack(diffusion_powers(adj, x, self.K), 1)                # [N, K+1, F_in]  (P^k X)_v
        if self.mode == "dcnn":
            z = self.weight * px if self.bias is None else torch.addcmul(self.bias, self.weight, px)  # [N, K+1, F_in]
        else:
            z = torch.einsum("nkf,kfo->nko", px, self.weight)                # [N, K+1, F_out]
            z = z if self.bias is None else z + self.bias
        if self.act is not None:
            z = self.act(z)
        return z.flatten(1) if self.mode == "dcnn" else z.sum(1)             # [N, (K+1)F_in] or [N, F_out]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, K={self.K}, mode={self.mode!r}, "
                f"bias={self.bias is not None}")
