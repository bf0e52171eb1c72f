"""Graph transformer convolution: multi-head Q/K/V attention restricted to each node's neighbours.

Shi, Huang, Feng, Zhong, Wang & Sun, "Masked Label Prediction: Unified Message Passing Model for
Semi-Supervised Classification", IJCAI 2021, https://arxiv.org/abs/2009.03509 (Section 3.2,
"Graph Transformer"). It is GAT's idea with the Transformer's scoring: the Transformer encoder's
attention (``nn.attention``) with the complete graph replaced by the graph's edges.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gnnkit import ops


class GraphTransformerConv(nn.Module):
    """Graph transformer layer (Shi et al. 2021, Eq. 3-5 and the gated residual of Eq. 7).

    .. math::
        q_{c,i} = W_{c,q} h_i + b_{c,q}, \\quad k_{c,j} = W_{c,k} h_j + b_{c,k}, \\quad
        v_{c,j} = W_{c,v} h_j + b_{c,v}, \\quad e_{c,ij} = W_{c,e}\\, e_{ij}

        \\alpha_{c,ij} = \\operatorname{softmax}_{j \\in \\mathcal{N}(i)}
            \\frac{\\langle q_{c,i},\\, k_{c,j} + e_{c,ij} \\rangle}{\\sqrt{d}}, \\qquad
        \\hat h_i = \\big\\Vert_{c=1}^{C} \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{c,ij}\\,(v_{c,j} + e_{c,ij})

        r_i = W_r h_i + b_r, \\quad \\beta_i = \\sigma\\big(W_g [\\hat h_i;\\, r_i;\\, \\hat h_i - r_i]\\big), \\quad
        h_i' = (1 - \\beta_i)\\, \\hat h_i + \\beta_i\\, r_i

    for head :math:`c` of :math:`C`, head width :math:`d` = ``out_channels``, :math:`\\mathcal{N}(i)` the
    sources of node ``i``'s incoming edges and :math:`e_{ij}` the edge features. With ``concat=False``
    the heads are averaged (the paper's last layer); ``beta=False`` uses :math:`h_i' = \\hat h_i + r_i`;
    ``root_weight=False`` drops :math:`r_i`. A node without incoming edges gets :math:`\\hat h_i = 0`.

    Args:
        in_channels: F_in; out_channels: d, per head; heads: C (default 1);
        concat: concatenate (default) or average the heads; beta: the gated residual (default ``False``);
        dropout: on the attention coefficients (default 0.0); edge_dim: width of ``edge_attr``
        (``None`` = no edge features); root_weight: the residual :math:`r_i` (default ``True``).

    Shapes: ``x`` [N, F_in], ``edge_index`` [2, E], ``edge_attr`` [E, edge_dim];
    out [N, H * d] (``concat``) or [N, d]. ``attention_weights``: the last call's :math:`\\alpha`, [E, H].

    Example::

        conv = GraphTransformerConv(16, 8, heads=4, edge_dim=3)
        out = conv(x, edge_index, edge_attr)            # x [N, 16] -> [N, 32]
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True, beta: bool = False,
                 dropout: float = 0.0, edge_dim: int | None = None, root_weight: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.concat, self.beta, self.edge_dim, self.root_weight = concat, beta, edge_dim, root_weight
        width = heads * out_channels
        self.lin_query = nn.Linear(in_channels, width)
        self.lin_key = nn.Linear(in_channels, width)
        self.lin_value = nn.Linear(in_channels, width)
        self.lin_edge = nn.Linear(edge_dim, width, bias=False) if edge_dim is not None else None
        out_width = width if concat else out_channels
        self.lin_skip = nn.Linear(in_channels, out_width) if root_weight else None
        self.lin_beta = nn.Linear(3 * out_width, 1, bias=False) if (beta and root_weight) else None
        self.dropout = nn.Dropout(dropout)
        self.attention_weights: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, edge_index, edge_attr: torch.Tensor | None = None) -> torch.Tensor:
        ops.check_node_features(x, self.in_channels, type(self).__name__)
        if isinstance(edge_index, ops.SparseAdj):
            edge_index = edge_index.edge_index
        ops.check_edge_index(edge_index, x.size(0))
        if (edge_attr is None) != (self.lin_edge is None):
            raise ValueError("edge_attr must be given exactly when the layer was built with edge_dim "
                             f"(edge_dim={self.edge_dim}, edge_attr {'missing' if edge_attr is None else 'given'})")
        N, H, d = x.size(0), self.heads, self.out_channels
        src, dst = edge_index                                                   # [E], [E]
        q = self.lin_query(x).view(N, H, d)                                     # [N, H, d]
        k = self.lin_key(x).view(N, H, d)
        v = self.lin_value(x).view(N, H, d)
        k_j, v_j = k[src], v[src]                                               # [E, H, d]
        if self.lin_edge is not None:
            e = self.lin_edge(edge_attr).view(-1, H, d)                         # [E, H, d]
            k_j, v_j = k_j + e, v_j + e
        scores = (q[dst] * k_j).sum(-1) / math.sqrt(d)                          # [E, H]
        alpha = ops.edge_softmax(scores, dst, N)                                # [E, H]
        self.attention_weights = alpha.detach()
        msg = self.dropout(alpha).unsqueeze(-1) * v_j                           # [E, H, d]
        h = ops.scatter(msg.reshape(-1, H * d), dst, N, "sum").view(N, H, d)    # [N, H, d]
        h = h.reshape(N, H * d) if self.concat else h.mean(1)                   # [N, H*d] or [N, d]
        if self.lin_skip is None:
            return h
        r = self.lin_skip(x)
        if self.lin_beta is None:
            return h + r
        beta = torch.sigmoid(self.lin_beta(torch.cat([h, r, h - r], dim=-1)))   # [N, 1]
        return (1 - beta) * h + beta * r

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, "
                f"beta={self.beta}, edge_dim={self.edge_dim}, root_weight={self.root_weight}")
