"""Forecasts without learning: the floor every traffic model has to beat.

Both are called like the learned forecasting models, ``model(x, adj)`` with ``x``
[B, T, N, C_in] (or [B, T, N]) and return ``[B, H, N]``; they have no parameters, so
training them changes nothing (the forecasting task runs them through the same loop).
"""
from __future__ import annotations

import torch
from torch import nn

from gnnkit.models.stgcn import _with_channels


class HistoricalAverage(nn.Module):
    """Historical average: every horizon is the mean of the window,
    :math:`\\hat v_{n, t+h} = \\frac{1}{T}\\sum_{s=t-T+1}^{t} v_{n,s}`.

    The HA baseline of the T-GCN paper (Zhao et al. 2019, https://arxiv.org/abs/1811.05320): its
    code (lehaifeng/T-GCN, ``Baselines/baselines.py``) averages the input window, and for later
    steps rolls that mean into the window and averages again; here every horizon gets the one
    window mean. Los-loop covers one week, too short for a same-time-of-week average.

    Args:
        in_channels: C_in (the first channel is forecast); out_channels: H; input_len: T.

    Shapes:
        x: [B, T, N, C_in] or [B, T, N]; out: [B, H, N].

    Example::

        HistoricalAverage(1, 2, input_len=3)(torch.tensor([[[1.0], [2.0], [6.0]]]), None)   # [[[3.], [3.]]]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12):
        super().__init__()
        self.in_channels, self.out_channels, self.input_len = in_channels, out_channels, input_len

    def forward(self, x: torch.Tensor, adj=None) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        mean = x[..., 0].mean(dim=1, keepdim=True)                           # [B, 1, N]
        return mean.expand(-1, self.out_channels, -1)                        # [B, H, N]


class LastValue(nn.Module):
    """Last value (persistence): every horizon repeats the last observed step,
    :math:`\\hat v_{n, t+h} = v_{n, t}`.

    Args:
        in_channels: C_in (the first channel is forecast); out_channels: H; input_len: T.

    Shapes:
        x: [B, T, N, C_in] or [B, T, N]; out: [B, H, N].

    Example::

        LastValue(1, 2, input_len=3)(torch.tensor([[[1.0], [2.0], [6.0]]]), None)   # [[[6.], [6.]]]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12):
        super().__init__()
        self.in_channels, self.out_channels, self.input_len = in_channels, out_channels, input_len

    def forward(self, x: torch.Tensor, adj=None) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        return x[:, -1:, :, 0].expand(-1, self.out_channels, -1)             # [B, H, N]
