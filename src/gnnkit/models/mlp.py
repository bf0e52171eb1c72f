"""The MLP baseline of the GCN paper (Table 3): the same network without the graph."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout


class MLP(nn.Module):
    """Two dense layers with ReLU and dropout; ``adj`` is accepted and ignored so
    every node classifier is called the same way.

    .. math::
        Z = \\mathrm{dropout}\\big(\\mathrm{ReLU}(\\mathrm{dropout}(X) W^{(0)})\\big) W^{(1)}

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width, classes.
        dropout: dropout rate (0.5).
        bias: learnable biases (False, as the dense layers of the GCN paper's code).

    Shapes: x: [N, F_in] (dense or sparse COO); out: [N, C].

    Example::

        model = MLP(34, 16, 2)
        logits = model(g.x, None)    # [34, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, dropout: float = 0.5,
                 bias: bool = False):
        super().__init__()
        self.lins = nn.ModuleList([nn.Linear(in_channels, hidden_channels, bias=bias),
                                   nn.Linear(hidden_channels, out_channels, bias=bias)])
        self.dropout = dropout
        for lin in self.lins:   # Glorot, as the paper's code
            nn.init.xavier_uniform_(lin.weight)

    def embed(self, x: torch.Tensor, adj=None) -> torch.Tensor:
        h = feature_dropout(x, self.dropout, self.training)
        return F.relu(self.lins[0](h))                                    # [N, hidden]

    def forward(self, x: torch.Tensor, adj=None) -> torch.Tensor:
        h = feature_dropout(self.embed(x, adj), self.dropout, self.training)
        return self.lins[1](h)                                            # [N, C]
