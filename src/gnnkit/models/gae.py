"""GAE and VGAE as Kipf & Welling (2016) built them: a two-layer GCN encoder (32 then 16 units)
and the inner-product decoder, composed from ``gnnkit.nn`` (``GCNConv``, ``GAE``, ``VGAE``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout
from gnnkit.nn import GCNConv
from gnnkit.nn.autoencoder import GAE, VGAE


class GCNEncoder(nn.Module):
    """Kipf & Welling, "Variational Graph Auto-Encoders", 2016, https://arxiv.org/abs/1611.07308 (Eq. 1):

    .. math::
        \\bar X = \\mathrm{ReLU}(\\hat A X W_0),\\qquad
        \\mu = \\hat A \\bar X W_\\mu,\\qquad \\log\\sigma = \\hat A \\bar X W_\\sigma,\\qquad
        \\hat A = D^{-1/2}(A + I)D^{-1/2}

    The non-variational encoder (GAE) returns :math:`Z = \\hat A \\bar X W_\\mu`; the variational
    one returns ``(mu, logstd)``, sharing the first layer :math:`W_0`. No biases and no dropout, as in
    the authors' code (``gae/model.py``).

    Args:
        in_channels: F_in.
        hidden_channels: first layer's width (32).
        out_channels: embedding width D (16).
        variational: also a log-std head; ``forward`` then returns ``(mu, logstd)``.
        dropout: dropout on each layer's input (0, the paper's setting).

    Shapes: x: [N, F_in] (dense or sparse); adj: ``SparseAdj`` or edge_index; out: [N, D] (or two).

    Example::

        enc, edge_index = GCNEncoder(34, 32, 16), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        z = enc(torch.randn(3, 34), edge_index)     # [3, 16]
    """

    def __init__(self, in_channels: int, hidden_channels: int = 32, out_channels: int = 16,
                 variational: bool = False, dropout: float = 0.0):
        super().__init__()
        self.conv1 = GCNConv(in_channels, hidden_channels, bias=False)
        self.conv_mu = GCNConv(hidden_channels, out_channels, bias=False)
        self.conv_logstd = GCNConv(hidden_channels, out_channels, bias=False) if variational else None
        self.dropout = dropout

    def forward(self, x: torch.Tensor, adj):
        h = F.relu(self.conv1(feature_dropout(x, self.dropout, self.training), adj))    # [N, hidden]
        h = feature_dropout(h, self.dropout, self.training)
        mu = self.conv_mu(h, adj)                                                        # [N, D]
        if self.conv_logstd is None:
            return mu
        return mu, self.conv_logstd(h, adj)                                              # [N, D] x 2


def gcn_gae(in_channels: int, hidden_channels: int = 32, out_channels: int = 16, dropout: float = 0.0) -> GAE:
    """The paper's GAE: :class:`GCNEncoder` + inner-product decoder.

    Example::

        model = gcn_gae(1433)
        z = model.encode(torch.randn(3, 1433), torch.tensor([[0, 1], [1, 0]]))    # [3, 16]
    """
    return GAE(GCNEncoder(in_channels, hidden_channels, out_channels, dropout=dropout))


def gcn_vgae(in_channels: int, hidden_channels: int = 32, out_channels: int = 16, dropout: float = 0.0) -> VGAE:
    """The paper's VGAE: variational :class:`GCNEncoder` + inner-product decoder.

    Example::

        model = gcn_vgae(1433)
        z = model.encode(torch.randn(3, 1433), torch.tensor([[0, 1], [1, 0]]))    # [3, 16]; mu in eval mode
    """
    return VGAE(GCNEncoder(in_channels, hidden_channels, out_channels, variational=True, dropout=dropout))
