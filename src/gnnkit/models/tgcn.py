"""T-GCN (Zhao et al. 2019): a GRU whose gates are graph convolutions, and its graph-free ablation,
a GRU run on every sensor alone.

Both are forecasting models: ``model(x, adj)`` with ``x`` [B, T, N, C_in] (or [B, T, N]) and the
sensor graph, returning ``[B, H, N]``, one value per sensor for each of the H horizons.
"""
from __future__ import annotations

import torch
from torch import nn

from gnnkit.models.stgcn import _with_channels
from gnnkit.nn.spectral import GCNConv
from gnnkit.nn.temporal import graph_conv_over_time


class TGCN(nn.Module):
    """Temporal Graph Convolutional Network: graph convolutions inside a GRU cell.

    Zhao, Song, Zhang, Liu, Wang, Lin, Deng & Li, "T-GCN: A Temporal Graph Convolutional Network
    for Traffic Prediction", IEEE T-ITS 2019, https://arxiv.org/abs/1811.05320 (Section III.C)

    .. math::
        u_t = \\sigma(\\hat A [X_t, h_{t-1}] W_u + b_u), \\qquad
        r_t = \\sigma(\\hat A [X_t, h_{t-1}] W_r + b_r),

        c_t = \\tanh(\\hat A [X_t, r_t \\odot h_{t-1}] W_c + b_c), \\qquad
        h_t = u_t \\odot h_{t-1} + (1 - u_t) \\odot c_t

    :math:`\\hat A = \\tilde D^{-1/2}(A + I)\\tilde D^{-1/2}` (a ``GCNConv`` each for the two gates
    together and for the candidate), :math:`X_t` the sensors' inputs at step t,
    :math:`h_t \\in \\mathbb{R}^{N \\times F}` the hidden state, :math:`h_0 = 0`. After the last
    input step a linear map of :math:`h_T` gives every horizon (the paper's regression layer).
    As in the authors' code the graph convolution acts on the concatenation
    :math:`[X_t, h_{t-1}]` (the paper writes it on :math:`X_t` alone).

    Args:
        in_channels: C_in (1 for speed); out_channels: H, horizons predicted.
        input_len: T (checked on the input; default 12).
        hidden_channels: F, the hidden state's width (the paper's 64 for Los-loop).

    Shapes:
        x: [B, T, N, C_in] or [B, T, N]; adj: the sensor graph; out: [B, H, N].

    Example::

        model = TGCN(1, 4, input_len=12, hidden_channels=16)
        out = model(torch.randn(8, 12, 3), torch.tensor([[0, 1], [1, 2]]))   # [8, 4, 3]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12, hidden_channels: int = 64):
        super().__init__()
        self.in_channels, self.input_len, self.hidden_channels = in_channels, input_len, hidden_channels
        self.gates = GCNConv(in_channels + hidden_channels, 2 * hidden_channels)     # [u, r]
        self.candidate = GCNConv(in_channels + hidden_channels, hidden_channels)
        nn.init.ones_(self.gates.bias)          # gates start open-ish (the authors' code: bias 1.0)
        self.out = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        B, T, N, _ = x.shape
        h = x.new_zeros(B, 1, N, self.hidden_channels)                       # h_0: [B, 1, N, F]
        for t in range(T):
            x_t = x[:, t:t + 1]                                              # [B, 1, N, C_in]
            gates = torch.sigmoid(graph_conv_over_time(self.gates, torch.cat([x_t, h], -1), adj))
            u, r = gates.chunk(2, dim=-1)                                    # [B, 1, N, F] each
            c = torch.tanh(graph_conv_over_time(self.candidate, torch.cat([x_t, r * h], -1), adj))
            h = u * h + (1 - u) * c                                          # [B, 1, N, F]
        return self.out(h[:, 0]).transpose(1, 2)                            # [B, H, N]

    def extra_repr(self) -> str:
        return f"hidden_channels={self.hidden_channels}"


class NodeGRU(nn.Module):
    """A GRU on each sensor's own series, no graph: the temporal half of T-GCN alone
    (Cho et al. 2014, https://arxiv.org/abs/1406.1078; the GRU baseline of the T-GCN paper).

    .. math::
        h_{n,t} = \\mathrm{GRU}(x_{n,t}, h_{n,t-1}), \\qquad \\hat v_{n} = W h_{n,T} + b

    with the same weights for every sensor n.

    Args:
        in_channels: C_in; out_channels: H; input_len: T (12); hidden_channels: 64.

    Shapes:
        x: [B, T, N, C_in] or [B, T, N]; adj: ignored (accepted so every forecasting model is
        called alike); out: [B, H, N].

    Example::

        model = NodeGRU(1, 4, input_len=12, hidden_channels=16)
        out = model(torch.randn(8, 12, 3), None)   # [8, 4, 3]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12, hidden_channels: int = 64):
        super().__init__()
        self.in_channels, self.input_len = in_channels, input_len
        self.gru = nn.GRU(in_channels, hidden_channels, batch_first=True)
        self.out = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor, adj=None) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        B, T, N, C = x.shape
        seq = x.permute(0, 2, 1, 3).reshape(B * N, T, C)                     # [B N, T, C_in]
        _, h = self.gru(seq)                                                 # [1, B N, F]
        return self.out(h[0]).view(B, N, -1).transpose(1, 2)                # [B, H, N]
