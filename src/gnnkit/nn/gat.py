"""Graph attention: GATConv (Veličković et al., 2018)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.message_passing import MessagePassing


class GATConv(MessagePassing):
    """Multi-head graph attention.

    Veličković, Cucurull, Casanova, Romero, Liò & Bengio, "Graph Attention
    Networks", ICLR 2018, https://arxiv.org/abs/1710.10903

    .. math::
        e_{uv}^k = \\mathrm{LeakyReLU}_{0.2}\\big(a_k^\\top [W_k h_v \\,\\|\\, W_k h_u]\\big), \\qquad
        \\alpha_{uv}^k = \\frac{\\exp(e_{uv}^k)}{\\sum_{w \\in N(v)} \\exp(e_{wv}^k)}, \\qquad
        h_v' = \\big\\Vert_{k=1}^{H} \\sum_{u \\in N(v)} \\alpha_{uv}^k W_k h_u + b
        \\;\\;\\text{or}\\;\\; \\frac{1}{H}\\sum_{k=1}^{H} \\sum_{u \\in N(v)} \\alpha_{uv}^k W_k h_u + b

    :math:`N(v)` are the in-neighbours of :math:`v`, including :math:`v` itself
    when ``add_self_loops``; :math:`W_k \\in \\mathbb{R}^{F_{out} \\times F_{in}}`
    and :math:`a_k = [a_k^{dst} \\| a_k^{src}] \\in \\mathbb{R}^{2F_{out}}` belong to
    head :math:`k`; :math:`\\|` concatenates. The score splits as
    :math:`a_k^{dst\\top} W_k h_v + a_k^{src\\top} W_k h_u`, so scores are computed
    per node and per head (``[E, H]``), never per feature. Dropout on
    :math:`\\alpha` is applied in training, as in the paper. Nodes with no
    in-edges (and no self loop) get only the bias.

    The aggregation :math:`\\sum_u \\alpha_{uv}^k W_k h_u` is linear in the messages, so
    ``forward`` runs it for all heads as one ``ops.spmm_heads`` (no ``[E, H, F_out]`` tensor).
    The same step as message passing, ``self.propagate(adj, wh, alpha=alpha,
    edge_order="adjacency")`` with :meth:`message` below, is the reference it is tested against.

    Args:
        in_channels: F_in.
        out_channels: F_out per head.
        heads: H (default 1).
        concat: concatenate the heads (default True) or average them (the paper's output layer).
        negative_slope: LeakyReLU slope (default 0.2).
        dropout: dropout probability on the attention coefficients (default 0).
        add_self_loops: attend to the node itself (default True); existing loops are replaced by one.
        bias: learnable bias (default True).

    Shapes:
        x: [N, F_in], dense or sparse (CSR / COO); edge_index: [2, E] or ``SparseAdj``;
        out: [N, H * F_out] (concat) or [N, F_out];
        with ``return_attention_weights=True`` also ``(edge_index [2, E'], alpha [E', H])``, the
        edges attended over (self loops included) and their coefficients.

    Example::

        conv = GATConv(16, 8, heads=4)
        out, (edges, alpha) = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]),
                                   return_attention_weights=True)   # [3, 32], [2, 5], [5, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True, bias: bool = True):
        super().__init__(aggr="sum")
        if heads < 1:
            raise ValueError(f"heads must be >= 1 (got {heads})")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1) (got {dropout})")
        self.in_channels, self.out_channels, self.heads, self.concat = in_channels, out_channels, heads, concat
        self.negative_slope, self.dropout, self.add_self_loops = negative_slope, dropout, add_self_loops
        self.weight = nn.Parameter(torch.empty(in_channels, heads * out_channels))
        self.att_src = nn.Parameter(torch.empty(heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(heads, out_channels))
        self.bias = nn.Parameter(torch.empty(heads * out_channels if concat else out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = math.sqrt(6.0 / (self.in_channels + self.heads * self.out_channels))   # Glorot, as in the paper
        nn.init.uniform_(self.weight, -bound, bound)
        bound_att = math.sqrt(6.0 / (1 + self.out_channels))
        nn.init.uniform_(self.att_src, -bound_att, bound_att)
        nn.init.uniform_(self.att_dst, -bound_att, bound_att)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def message(self, x_src: torch.Tensor, x_dst, alpha: torch.Tensor) -> torch.Tensor:
        """``alpha_uv^k W_k h_u``: ``[E, H, F_out]`` (the reference form of the aggregation)."""
        return alpha.unsqueeze(-1) * x_src

    def forward(self, x: torch.Tensor, edge_index, return_attention_weights: bool = False):
        check_node_features(x, self.in_channels, "GATConv")
        N, H, C = x.size(0), self.heads, self.out_channels
        adj = ops.as_adj(edge_index, N)                 # an edge_index tensor's structure is kept between calls
        if self.add_self_loops:                        # one loop per node, cached on the adjacency
            adj = adj.cached("gat_self_loops", lambda a: a.with_weight(None).with_self_loops())
        src, dst = adj.src, adj.dst                                          # [E], [E]
        wh = ops.matmul(x, self.weight).view(N, H, C)                        # [N, H, C]  W_k h
        score_src = (wh * self.att_src).sum(-1)                              # [N, H]  a_src^T W_k h_u
        score_dst = (wh * self.att_dst).sum(-1)                              # [N, H]  a_dst^T W_k h_v
        e = score_src.index_select(0, src)                                   # [E, H] a fresh tensor:
        e.add_(score_dst.index_select(0, dst))                               # summed and activated in place
        e = F.leaky_relu(e, self.negative_slope, inplace=True)               # (one [E, H] buffer, not three)
        alpha = ops.edge_softmax(e, dst, N, adj.rowptr)                      # [E, H] (edges sorted by dst)
        alpha_drop = ops.dropout(alpha, self.dropout, self.training)        # [E, H]
        # sum_u alpha_uv^k W_k h_u, all heads in one SpMM: self.propagate(adj, wh, alpha=alpha_drop,
        # edge_order="adjacency") without the [E, H, C] messages.
        h = ops.spmm_heads(adj, alpha_drop, wh)                              # [N, H, C]
        h = h.reshape(N, H * C) if self.concat else h.mean(1)                # [N, H*C] or [N, C]
        if self.bias is not None:
            h = h + self.bias
        if return_attention_weights:
            return h, (torch.stack([src, dst]), alpha)
        return h

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, "
                f"negative_slope={self.negative_slope}, dropout={self.dropout}, "
                f"add_self_loops={self.add_self_loops}, bias={self.bias is not None}")
