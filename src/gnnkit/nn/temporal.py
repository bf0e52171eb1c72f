"""Spatio-temporal blocks: a gated convolution along time and a graph convolution at every
time step (STGCN, Yu, Yin & Zhu, IJCAI 2018, https://arxiv.org/abs/1709.04875).

Signals over a sensor graph are ``[B, T, N, C]``: B windows, T time steps, N sensors,
C channels. Along time a layer sees each sensor alone (:class:`TemporalConv`); across
sensors a graph convolution of ``gnnkit.nn.spectral`` sees each time step alone
(:func:`graph_conv_over_time`); :class:`STConvBlock` is the paper's "sandwich" of the two.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import ops

ACTIVATIONS = ("glu", "relu", "sigmoid", "linear")


class TemporalConv(nn.Module):
    """Causal 1-D convolution along time, the same for every sensor, optionally gated (GLU).

    Yu, Yin & Zhu, "Spatio-Temporal Graph Convolutional Networks: A Deep Learning Framework for
    Traffic Forecasting", IJCAI 2018, https://arxiv.org/abs/1709.04875 (Section 3.3)

    .. math::
        [P \\; Q]_{j,n} = b + \\sum_{s=0}^{K_t - 1} \\Gamma_s\\, Y_{j+s,\\,n}, \\qquad
        (\\Gamma *_{\\mathcal T} Y)_{j,n} = (P_{j,n} + Y^{res}_{j,n}) \\odot \\sigma(Q_{j,n})

    :math:`Y \\in \\mathbb{R}^{T \\times N \\times C_{in}}` is one window (:math:`Y_{t,n}` the
    channels of sensor :math:`n` at step :math:`t`), :math:`\\Gamma` a kernel of width :math:`K_t`
    (:math:`\\Gamma_s \\in \\mathbb{R}^{2 C_{out} \\times C_{in}}`, bias :math:`b`) with
    :math:`2 C_{out}` outputs, convolved without padding, so the output
    has :math:`T - K_t + 1` steps and its step :math:`j` sees the inputs
    :math:`j, \\dots, j + K_t - 1`: it stands for time :math:`j + K_t - 1` and reads nothing
    later (causal). :math:`P` and :math:`Q` are the two halves of the channels (the gated
    linear unit, :math:`\\sigma` the sigmoid), and :math:`Y^{res}` is the input aligned to the
    output (its last :math:`T - K_t + 1` steps, channels zero-padded up to :math:`C_{out}`
    or mapped down by a 1x1 convolution without bias), the residual connection of the authors' code
    (``models/layers.py``, ``temporal_conv_layer``). Other ``activation`` values use a
    kernel with :math:`C_{out}` outputs, :math:`U_{j,n} = b + \\sum_s \\Gamma_s Y_{j+s,n}`, and give
    :math:`\\mathrm{ReLU}(U + Y^{res})` (``'relu'``), :math:`\\sigma(U)` (``'sigmoid'``) or :math:`U`
    (``'linear'``).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        kernel_size: K_t, the steps each output reads (default 3).
        activation: ``'glu'`` (default), ``'relu'``, ``'sigmoid'`` or ``'linear'``.

    Shapes:
        x: [B, T, N, C_in] (B windows, T steps, N sensors); out: [B, T - K_t + 1, N, C_out].

    Example::

        conv = TemporalConv(1, 64, kernel_size=3)
        out = conv(torch.randn(8, 12, 207, 1))   # [8, 10, 207, 64]
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, activation: str = "glu"):
        super().__init__()
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be >= 1 (got {kernel_size})")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS} (got {activation!r})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.activation = kernel_size, activation
        width = 2 * out_channels if activation == "glu" else out_channels
        # Gamma as one linear map of the K_t stacked steps: the convolution along time as unfold + GEMM,
        # which keeps the [B, T, N, C] layout (no permutes around a Conv2d).
        self.conv = nn.Linear(kernel_size * in_channels, width)
        self.align = nn.Linear(in_channels, out_channels, bias=False) if in_channels > out_channels else None

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The input aligned to the output: last ``T - K_t + 1`` steps, ``C_out`` channels.
        x: [B, T, N, C_in] -> [B, T - K_t + 1, N, C_out]."""
        x = x[:, self.kernel_size - 1:]
        if self.align is not None:
            return self.align(x)
        if self.in_channels < self.out_channels:
            return F.pad(x, (0, self.out_channels - self.in_channels))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.size(-1) != self.in_channels:
            raise ValueError(f"TemporalConv expects x of shape [B, T, N, {self.in_channels}] "
                             f"(got {list(x.shape)})")
        if x.size(1) < self.kernel_size:
            raise ValueError(f"the window has {x.size(1)} steps but kernel_size is {self.kernel_size}; "
                             "use longer windows or a smaller kernel")
        B, T, N, C = x.shape
        steps = x.unfold(1, self.kernel_size, 1)                             # [B, T', N, C_in, K_t]
        steps = steps.transpose(3, 4).reshape(B, T - self.kernel_size + 1, N, -1)   # [B, T', N, K_t C_in]
        h = self.conv(steps)                                                 # [B, T', N, 2 C_out or C_out]
        if self.activation == "glu":
            p, q = h.chunk(2, dim=-1)                                        # [B, T', N, C_out] each
            return (p + self.residual(x)) * torch.sigmoid(q)
        if self.activation == "relu":
            return torch.relu(h + self.residual(x))
        if self.activation == "sigmoid":
            return torch.sigmoid(h)
        return h

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"activation={self.activation!r}")


def repeat_adj(adj: ops.SparseAdj, copies: int) -> ops.SparseAdj:
    """The block-diagonal adjacency of ``copies`` copies of ``adj`` (copy ``c`` holds nodes
    ``c N .. (c + 1) N - 1``), cached on ``adj`` so that what layers cache on it (Laplacians,
    normalizations) is built once per number of copies.

    .. math::
        A^{(\\text{copies})} = I_{\\text{copies}} \\otimes A

    Args:
        adj: the graph, a ``SparseAdj`` of N nodes and E edges (edge weights repeated with it).
        copies: how many copies (>= 1).

    Shapes: adj: N nodes, E edges; out: ``copies * N`` nodes, ``copies * E`` edges.

    Example::

        adj = ops.SparseAdj(torch.tensor([[0], [1]]), 2)
        repeat_adj(adj, 3).edge_index      # [[0, 2, 4], [1, 3, 5]]
    """
    if copies < 1:
        raise ValueError(f"copies must be >= 1 (got {copies})")

    def build(a: ops.SparseAdj) -> ops.SparseAdj:
        offset = (torch.arange(copies, device=a.src.device) * a.num_nodes).repeat_interleave(a.num_edges)
        edge_index = a.edge_index.repeat(1, copies) + offset                 # [2, copies * E]
        weight = None if a.weight is None else a.weight.repeat(copies)       # [copies * E]
        return ops.SparseAdj(edge_index, copies * a.num_nodes, weight)

    return adj.cached(("repeat_adj", copies), build)


def graph_conv_over_time(conv: nn.Module, x: torch.Tensor, adj) -> torch.Tensor:
    """Apply the graph convolution ``conv`` (``ChebConv``, ``GCNConv``, any ``conv(x, adj)``
    on ``[N, C]``) to every window and time step of ``x`` at once, as one call on the
    block-diagonal graph of ``B T`` copies (:func:`repeat_adj`).

    .. math::
        H_{b, t} = \\mathrm{conv}(X_{b, t}, A) \\quad \\text{for every } b, t

    Args:
        conv: a graph convolution called as ``conv(x, adj)``.
        x: [B, T, N, C_in].
        adj: the sensor graph, ``SparseAdj`` (``graph.adj()``) or ``[2, E]`` edge_index.

    Shapes:
        x: [B, T, N, C_in]; out: [B, T, N, C_out].

    Example::

        from gnnkit.nn import ChebConv
        x, edge_index = torch.randn(2, 5, 3, 4), torch.tensor([[0, 1], [1, 2]])
        h = graph_conv_over_time(ChebConv(4, 8, K=3), x, edge_index)     # [2, 5, 3, 8]
    """
    B, T, N, C = x.shape
    adj = ops.as_adj(adj, N)
    h = conv(x.reshape(B * T * N, C), repeat_adj(adj, B * T))                # [B T N, C_out]
    return h.view(B, T, N, -1)                                               # [B, T, N, C_out]


class STConvBlock(nn.Module):
    """Spatio-temporal convolutional block (ST-Conv block) of STGCN.

    Yu, Yin & Zhu, IJCAI 2018, https://arxiv.org/abs/1709.04875 (Section 3.4, Eq. 8)

    .. math::
        v^{l+1} = \\Gamma_1^l *_{\\mathcal T} \\mathrm{ReLU}\\big(\\Theta^l *_{\\mathcal G}
        (\\Gamma_0^l *_{\\mathcal T} v^l)\\big)

    followed by layer normalization and dropout. :math:`\\Gamma_0, \\Gamma_1` are gated
    temporal convolutions (:class:`TemporalConv`), :math:`\\Theta *_{\\mathcal G}` the graph
    convolution at each time step: ``'cheb'`` a Chebyshev filter of :math:`K_s` terms
    (``ChebConv``, STGCN(Cheb)) or ``'first'`` the first-order renormalized one (``GCNConv``,
    STGCN(1st)). As in the authors' code the graph convolution adds its input (channels
    padded or mapped by a 1x1 linear map) before the ReLU. Layer normalization takes its
    statistics over sensors and channels (as the authors' code) with a scale and shift per
    channel shared by all sensors (the code's are per sensor and channel), so the block is
    equivariant to relabelling the sensors.

    Args:
        in_channels: C_in.
        spatial_channels: channels of the graph convolution (the paper's 16).
        out_channels: C_out (the paper's 64).
        kernel_size: K_t of both temporal convolutions (default 3).
        K: K_s, Chebyshev terms of the ``'cheb'`` graph convolution (default 3).
        spatial: ``'cheb'`` (default) or ``'first'``.
        dropout: dropout after the layer norm (default 0.0).

    Shapes:
        x: [B, T, N, C_in]; adj: the sensor graph; out: [B, T - 2 (K_t - 1), N, C_out].

    Example::

        block = STConvBlock(1, 16, 64)
        out = block(torch.randn(8, 12, 3, 1), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))   # [8, 8, 3, 64]
    """

    def __init__(self, in_channels: int, spatial_channels: int, out_channels: int, kernel_size: int = 3,
                 K: int = 3, spatial: str = "cheb", dropout: float = 0.0):
        super().__init__()
        from gnnkit.nn.spectral import ChebConv, GCNConv

        if spatial not in ("cheb", "first"):
            raise ValueError(f"spatial must be 'cheb' (Chebyshev, STGCN(Cheb)) or 'first' (first-order, "
                             f"STGCN(1st)) (got {spatial!r})")
        self.spatial, self.K = spatial, K
        self.temporal0 = TemporalConv(in_channels, out_channels, kernel_size, "glu")
        self.graph_conv = (ChebConv(out_channels, spatial_channels, K) if spatial == "cheb"
                           else GCNConv(out_channels, spatial_channels))
        self.align = (nn.Linear(out_channels, spatial_channels, bias=False)
                      if out_channels > spatial_channels else None)
        self.spatial_channels = spatial_channels
        self.temporal1 = TemporalConv(spatial_channels, out_channels, kernel_size, "glu")
        self.norm = NodeLayerNorm(out_channels)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = self.temporal0(x)                                                # [B, T - K_t + 1, N, C_out]
        res = self.align(h) if self.align is not None else F.pad(h, (0, self.spatial_channels - h.size(-1)))
        h = torch.relu(graph_conv_over_time(self.graph_conv, h, adj) + res)  # [B, T - K_t + 1, N, C_s]
        h = self.temporal1(h)                                                # [B, T - 2 (K_t - 1), N, C_out]
        return self.dropout(self.norm(h))

    def extra_repr(self) -> str:
        return f"spatial={self.spatial!r}"


class NodeLayerNorm(nn.Module):
    """Layer normalization over the sensors and channels of each window and time step.

    Yu, Yin & Zhu, IJCAI 2018, https://arxiv.org/abs/1709.04875 (Section 3.4: layer normalization
    in each ST-Conv block; the statistics as the authors' code, ``layer_norm``)

    .. math::
        \\hat h_{b,t,n,c} = \\gamma_c \\, \\frac{h_{b,t,n,c} - \\mu_{b,t}}{\\sqrt{\\sigma^2_{b,t} + \\epsilon}} + \\beta_c

    :math:`h_{b,t,n,c}` channel :math:`c` of sensor :math:`n` at step :math:`t` of window :math:`b`;
    :math:`\\mu_{b,t}, \\sigma^2_{b,t}` the mean and (biased) variance over all :math:`(n, c)` of one
    step (STGCN's code, ``layer_norm``); :math:`\\gamma, \\beta` (``weight``, ``bias``) per channel,
    shared by sensors, so the layer is equivariant to relabelling them.

    Args:
        channels: C.
        eps: :math:`\\epsilon` (default 1e-6, the code's).

    Shapes:
        x: [B, T, N, C]; out: the same.

    Example::

        norm = NodeLayerNorm(64)
        norm(torch.randn(2, 4, 3, 64)).shape          # [2, 4, 3, 64]
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.channels, self.eps = channels, eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.layer_norm(x, x.shape[2:], eps=self.eps)                       # (x - mu_bt) / sqrt(var_bt + eps)
        return h * self.weight + self.bias                                   # [B, T, N, C]

    def extra_repr(self) -> str:
        return f"{self.channels}, eps={self.eps}"
