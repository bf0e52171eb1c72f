"""The two-layer GCN of Kipf & Welling (2017), composed from ``GCNConv``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout
from gnnkit.nn import GCNConv


class GCN(nn.Module):
    """Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017, https://arxiv.org/abs/1609.02907 (Eq. 9):

    .. math::
        Z = \\hat A \\, \\mathrm{dropout}\\big(\\mathrm{ReLU}(\\hat A \\,\\mathrm{dropout}(X) W^{(0)})\\big) W^{(1)},
        \\qquad \\hat A = \\tilde D^{-1/2}(A + I)\\tilde D^{-1/2}

    ``num_layers - 1`` hidden ``GCNConv`` layers of width ``hidden_channels``
    (ReLU, dropout before every layer), then the output ``GCNConv``. ``x`` may be
    a sparse COO tensor: the first layer then computes ``X W`` as a sparse-dense
    product and drops out only the non-zeros, as the paper's code does. The
    paper's layers have no bias (``bias=False``); weight decay goes on the first
    layer only (``decay=("convs.0",)`` in the trainer).

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width, classes.
        num_layers: GCN layers (2 in the paper).
        dropout: dropout rate (0.5).
        bias: learnable biases in the layers (False, as in the paper's code).

    Shapes: x: [N, F_in] (dense or sparse); adj: ``SparseAdj`` or edge_index [2, E]; out: [N, C].

    Example::

        g = karate_club()
        model = GCN(34, 16, 2)
        logits = model(g.x, g.adj())    # [34, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 2,
                 dropout: float = 0.5, bias: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(GCNConv(a, b, bias=bias) for a, b in zip(dims[:-1], dims[1:]))
        self.dropout = dropout

    def embed(self, x: torch.Tensor, adj) -> torch.Tensor:
        """The last hidden layer (the input to the output layer)."""
        h = x
        for conv in self.convs[:-1]:
            h = feature_dropout(h, self.dropout, self.training)          # [N, F]
            h = F.relu(conv(h, adj))                                      # [N, hidden]
        return h

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = feature_dropout(self.embed(x, adj), self.dropout, self.training)
        return self.convs[-1](h, adj)                                     # [N, C]
