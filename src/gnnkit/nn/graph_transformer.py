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
    """Graph transformer layer: multi-head dot-product attention over each node's in-neighbours.

    Shi, Huang, Feng, Zhong, Wang & Sun, "Masked Label Prediction: Unified Message Passing Model for
    Semi-Supervised Classification", IJCAI 2021, https://arxiv.org/abs/2009.03509 (Section 3.2,
    Eq. 3-5, and the gated residual of Eq. 7)

    .. math::
        q_{h,i} = W_{h,q} x_i + b_{h,q}, \\quad k_{h,j} = W_{h,k} x_j + b_{h,k}, \\quad
        v_{h,j} = W_{h,v} x_j + b_{h,v}, \\quad e_{h,ij} = W_{h,e}\\, e_{ij}

        \\alpha_{h,ij} = \\operatorname{softmax}_{j \\in \\mathcal{N}(i)}
            \\frac{\\langle q_{h,i},\\, k_{h,j} + e_{h,ij} \\rangle}{\\sqrt{d}}, \\qquad
        \\hat x_i = \\big\\Vert_{h=1}^{H} \\sum_{j \\in \\mathcal{N}(i)} \\alpha_{h,ij}\\,(v_{h,j} + e_{h,ij})

        r_i = W_r x_i + b_r, \\quad
        \\beta_i = \\sigma\\big(w_g^\\top [\\hat x_i;\\, r_i;\\, \\hat x_i - r_i]\\big), \\quad
        x_i' = (1 - \\beta_i)\\, \\hat x_i + \\beta_i\\, r_i

    for head :math:`h` of :math:`H`, with :math:`x_i` node :math:`i`'s input features (the paper's
    :math:`h_i`), head width :math:`d` = ``out_channels`` (F_out), :math:`\\mathcal{N}(i)` the sources
    of node ``i``'s incoming edges, :math:`e_{ij}` the features of edge :math:`j \\to i`,
    :math:`\\Vert` concatenation over heads, :math:`\\sigma` the sigmoid and :math:`w_g` a vector
    (no bias). :math:`W_{h,q}, W_{h,k}, W_{h,v}` (with biases) and :math:`W_{h,e}` (without) are
    head :math:`h`'s rows of ``lin_query``, ``lin_key``, ``lin_value`` and ``lin_edge``;
    :math:`W_r, b_r` is ``lin_skip``, :math:`w_g` ``lin_beta``. Dropout acts on :math:`\\alpha` in
    the aggregation (``attention_weights`` keep it undropped). With ``concat=False`` the heads are
    averaged instead of concatenated (the paper's last layer); ``beta=False`` gives
    :math:`x_i' = \\hat x_i + r_i`; ``root_weight=False`` drops :math:`r_i` (and the gate):
    :math:`x_i' = \\hat x_i`. A node without incoming edges gets :math:`\\hat x_i = 0`.

    Args:
        in_channels: F_in.
        out_channels: F_out = d, per head.
        heads: H (default 1).
        concat: concatenate (default ``True``) or average the heads.
        beta: the gated residual (default ``False``).
        dropout: on the attention coefficients (default 0.0).
        edge_dim: width of ``edge_attr`` (default ``None``: no edge features).
        root_weight: the residual :math:`r_i` (default ``True``).

    Shapes: ``x`` [N, F_in], ``edge_index`` [2, E] or ``SparseAdj``, ``edge_attr`` [E, edge_dim];
    out [N, H * F_out] (``concat``) or [N, F_out]. ``attention_weights``: the last call's
    :math:`\\alpha`, [E, H].

    Example::

        conv = GraphTransformerConv(16, 8, heads=4, edge_dim=3)
        edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
        conv(torch.randn(3, 16), edge_index, torch.randn(3, 3)).shape     # [3, 32]
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True, beta: bool = False,
                 dropout: float = 0.0, edge_dim: int | None = None, root_weight: bool = True):
        super().__init__()
        if beta and not root_weight:
            raise ValueError("beta=True gates the root term against the attention output, and root_weight=False "
                             "removes the root term; pass root_weight=True, or beta=False")
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
        k = self.lin_key(x).view(N, H, d)                                       # [N, H, d]
        v = self.lin_value(x).view(N, H, d)                                     # [N, H, d]
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
        r = self.lin_skip(x)                                                    # [N, H*d] or [N, d]
        if self.lin_beta is None:
            return h + r
        beta = torch.sigmoid(self.lin_beta(torch.cat([h, r, h - r], dim=-1)))   # [N, 1]
        return (1 - beta) * h + beta * r                                        # [N, H*d] or [N, d]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, heads={self.heads}, concat={self.concat}, "
                f"beta={self.beta}, edge_dim={self.edge_dim}, root_weight={self.root_weight}")
