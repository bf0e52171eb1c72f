"""STGCN (Yu, Yin & Zhu, IJCAI 2018) and its graph-only ablation for traffic forecasting.

Forecasting models are called as ``model(x, adj)`` with ``x`` [B, T, N, C_in] (B windows of T
past steps of N sensors) and the sensor graph ``adj`` (``graph.adj()``), and return
``[B, H, N]``: one value per sensor for each of the H forecast horizons.
"""
from __future__ import annotations

import torch
from torch import nn

from gnnkit.nn.spectral import GCNConv
from gnnkit.nn.temporal import NodeLayerNorm, STConvBlock, TemporalConv, graph_conv_over_time


class STGCN(nn.Module):
    """Spatio-Temporal Graph Convolutional Network.

    Yu, Yin & Zhu, "Spatio-Temporal Graph Convolutional Networks: A Deep Learning Framework for
    Traffic Forecasting", IJCAI 2018, https://arxiv.org/abs/1709.04875 (Section 3.4, Figure 2)

    .. math::
        v^{1} = \\mathrm{ST}_1(v^0), \\quad v^{2} = \\mathrm{ST}_2(v^1), \\quad
        \\hat v_{t+h} = W_{fc}\\, \\sigma\\big(\\Gamma_{1 \\times 1} *_{\\mathcal T}
        \\mathrm{LN}(\\Gamma_o *_{\\mathcal T} v^2)\\big) + b_{fc}

    :math:`v^0 \\in \\mathbb{R}^{T \\times N \\times C_{in}}` the past window, :math:`\\mathrm{ST}_l`
    two ST-Conv blocks (:class:`~gnnkit.nn.temporal.STConvBlock`: gated temporal convolution,
    graph convolution, gated temporal convolution, layer norm, dropout; channels 64/16/64),
    then the output layer: a gated temporal convolution :math:`\\Gamma_o` spanning the
    remaining :math:`T - 4 (K_t - 1)` steps, layer norm, a 1x1 temporal convolution with a
    sigmoid, and a linear map per sensor to the outputs. The graph convolution is Chebyshev
    (``spatial='cheb'``, STGCN(Cheb), :math:`K_s` terms) or first-order (``'first'``, STGCN(1st)).

    The paper's output layer gives one step and reaches later ones by feeding predictions back;
    here the last linear map gives all ``out_channels`` horizons at once (direct multi-step).

    Args:
        in_channels: C_in, signals per sensor and step (1 for speed).
        out_channels: H, the number of horizons predicted.
        input_len: T, the window length (12); fixes the output layer's kernel.
        hidden_channels: the ST-Conv blocks' temporal channels (the paper's 64).
        spatial_channels: their graph-convolution channels (the paper's 16).
        kernel_size: K_t (3); K: K_s, Chebyshev terms (3); spatial: ``'cheb'`` or ``'first'``.
        dropout: dropout at the end of each block (default 0.0).

    Shapes:
        x: [B, T, N, C_in] (or [B, T, N] when C_in = 1); adj: the sensor graph; out: [B, H, N].

    Example::

        model = STGCN(in_channels=1, out_channels=4, input_len=12)
        out = model(torch.randn(8, 12, 3, 1), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))   # [8, 4, 3]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12, hidden_channels: int = 64,
                 spatial_channels: int = 16, kernel_size: int = 3, K: int = 3, spatial: str = "cheb",
                 dropout: float = 0.0):
        super().__init__()
        remaining = input_len - 4 * (kernel_size - 1)
        if remaining < 1:
            raise ValueError(f"input_len={input_len} is too short for two ST-Conv blocks with kernel_size="
                             f"{kernel_size} (each takes 2 (K_t - 1) steps); use input_len >= {4 * kernel_size - 3}")
        self.in_channels, self.out_channels, self.input_len = in_channels, out_channels, input_len
        self.blocks = nn.ModuleList([
            STConvBlock(in_channels, spatial_channels, hidden_channels, kernel_size, K, spatial, dropout),
            STConvBlock(hidden_channels, spatial_channels, hidden_channels, kernel_size, K, spatial, dropout),
        ])
        self.out_temporal = TemporalConv(hidden_channels, hidden_channels, remaining, "glu")
        self.out_norm = NodeLayerNorm(hidden_channels)
        self.out_gate = TemporalConv(hidden_channels, hidden_channels, 1, "sigmoid")
        self.fc = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        h = x
        for block in self.blocks:
            h = block(h, adj)                                                # [B, T - 2 (K_t - 1), N, C]
        h = self.out_gate(self.out_norm(self.out_temporal(h)))               # [B, 1, N, C]
        return self.fc(h[:, 0]).transpose(1, 2)                             # [B, H, N]


class GraphOnlyGCN(nn.Module):
    """The graph without temporal convolution: a 2-layer GCN whose node features are the
    window's T past values (time as plain features), then a linear map to the horizons.

    Kipf & Welling, ICLR 2017, https://arxiv.org/abs/1609.02907 (the GCN-only baseline of the
    STGCN table: what the graph adds without the temporal convolution).

    .. math::
        H = \\mathrm{ReLU}(\\hat A\\, \\mathrm{ReLU}(\\hat A X W_0) W_1), \\qquad \\hat v = H W_{out} + b

    Args:
        in_channels: C_in; input_len: T (the node features are the T C_in past values);
        out_channels: H; hidden_channels: 64; dropout: 0.0.

    Shapes:
        x: [B, T, N, C_in] or [B, T, N]; adj: the sensor graph; out: [B, H, N].

    Example::

        model = GraphOnlyGCN(1, 4, input_len=12)
        out = model(torch.randn(8, 12, 3), torch.tensor([[0, 1], [1, 2]]))   # [8, 4, 3]
    """

    def __init__(self, in_channels: int, out_channels: int, input_len: int = 12, hidden_channels: int = 64,
                 dropout: float = 0.0):
        super().__init__()
        self.in_channels, self.input_len = in_channels, input_len
        self.conv1 = GCNConv(input_len * in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels, hidden_channels)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        x = _with_channels(x, self.in_channels, self.input_len)             # [B, T, N, C_in]
        B, T, N, C = x.shape
        h = x.permute(0, 2, 1, 3).reshape(B, 1, N, T * C)                    # [B, 1, N, T C_in]
        h = self.dropout(torch.relu(graph_conv_over_time(self.conv1, h, adj)))   # [B, 1, N, hidden]
        h = self.dropout(torch.relu(graph_conv_over_time(self.conv2, h, adj)))   # [B, 1, N, hidden]
        return self.out(h[:, 0]).transpose(1, 2)                            # [B, H, N]


def _with_channels(x: torch.Tensor, in_channels: int, input_len: int) -> torch.Tensor:
    """``[B, T, N]`` -> ``[B, T, N, 1]``; checks ``[B, T, N, C_in]`` with ``T = input_len``."""
    if x.dim() == 3 and in_channels == 1:
        x = x.unsqueeze(-1)
    if x.dim() != 4 or x.size(1) != input_len or x.size(-1) != in_channels:
        raise ValueError(f"expected x of shape [B, {input_len}, N, {in_channels}] (B windows of {input_len} "
                         f"steps of N sensors; got {list(x.shape)}); build the model with input_len=T")
    return x
