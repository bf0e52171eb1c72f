"""ChebNet as compared in the GCN paper (Table 3), composed from ``ChebConv``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout
from gnnkit.nn import ChebConv


class ChebNet(nn.Module):
    """Defferrard, Bresson & Vandergheynst, NeurIPS 2016,
    https://arxiv.org/abs/1606.09375, in the two-layer semi-supervised form of
    Kipf & Welling (2017), Table 3:

    .. math::
        Z = \\sum_{k=0}^{K} T_k(\\tilde L)\\,\\mathrm{dropout}\\big(\\mathrm{ReLU}(
            \\textstyle\\sum_{k=0}^{K} T_k(\\tilde L)\\,\\mathrm{dropout}(X)\\,\\Theta_k^{(0)})\\big)\\,\\Theta_k^{(1)}

    ``K`` is the polynomial *degree* as in the GCN paper (K = 2 and K = 3 are its
    rows); ``ChebConv`` counts terms, so each layer is ``ChebConv(..., K + 1)``.
    The Laplacian is the symmetric normalized one scaled by its largest
    eigenvalue, as in the paper's code. Sparse ``x`` is handled as in :class:`GCN`.

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width, classes.
        K: polynomial degree.
        dropout: dropout rate (0.5).
        bias: learnable biases (False, as in the paper's code).

    Shapes: x: [N, F_in] (dense or sparse); adj: ``SparseAdj`` or edge_index; out: [N, C].

    Example::

        model = ChebNet(34, 16, 2, K=2)
        logits = model(g.x, g.adj())    # [34, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, K: int = 2,
                 dropout: float = 0.5, bias: bool = False):
        super().__init__()
        self.convs = nn.ModuleList([ChebConv(in_channels, hidden_channels, K + 1, bias=bias),
                                    ChebConv(hidden_channels, out_channels, K + 1, bias=bias)])
        self.dropout = dropout

    def embed(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = feature_dropout(x, self.dropout, self.training)
        return F.relu(self.convs[0](h, adj))                              # [N, hidden]

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = feature_dropout(self.embed(x, adj), self.dropout, self.training)
        return self.convs[1](h, adj)                                      # [N, C]
