"""A GIN graph classifier (Xu et al. 2019), composed from ``GINConv`` and a global readout."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.nn import GINConv, global_pool


def mlp(in_channels: int, hidden_channels: int, out_channels: int, batch_norm: bool = True) -> nn.Sequential:
    """Linear -> (BatchNorm) -> ReLU -> Linear: the 2-layer MLP inside each GIN layer."""
    return nn.Sequential(nn.Linear(in_channels, hidden_channels),
                         nn.BatchNorm1d(hidden_channels) if batch_norm else nn.Identity(),
                         nn.ReLU(), nn.Linear(hidden_channels, out_channels))


class GIN(nn.Module):
    """Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019,
    https://arxiv.org/abs/1810.00826 (Eq. 4.1 per layer):

    .. math::
        h_v^{(k)} = \\mathrm{ReLU}\\Big(\\mathrm{BN}\\big(\\mathrm{MLP}^{(k)}\\big((1 + \\epsilon^{(k)})\\, h_v^{(k-1)}
            + \\textstyle\\sum_{u \\in N(v)} h_u^{(k-1)}\\big)\\big)\\Big), \\qquad
        h_G = \\mathrm{READOUT}(\\{h_v^{(K)}\\}), \\qquad
        \\hat y = W_2\\, \\mathrm{dropout}(\\mathrm{ReLU}(W_1 h_G))

    ``num_layers`` GIN layers (2-layer MLPs with batch norm), one readout of the last layer, and
    a 2-layer classifier.

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width, classes.
        num_layers: GIN layers K (default 3).
        readout: ``'sum'`` (default), ``'mean'`` or ``'max'`` over each graph's nodes.
        aggr: neighbour aggregation of the layers, ``'sum'``, ``'mean'`` or ``'max'``.
        train_eps: learn :math:`\\epsilon` (GIN-eps) instead of fixing it to 0 (GIN-0).
        dropout: dropout before the last linear layer (default 0.5).

    Shapes: called on a ``Batch`` of B graphs with ``x`` [N, F_in]; out [B, C].

    Example::

        b = Batch.from_graphs([g1, g2])
        logits = GIN(b.num_features, 32, 2)(b)       # [2, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 3,
                 readout: str = "sum", aggr: str = "sum", train_eps: bool = False, dropout: float = 0.5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        dims = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(GINConv(mlp(a, b, b), train_eps=train_eps, aggr=aggr)
                                   for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(num_layers))
        self.lin1 = nn.Linear(hidden_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)
        self.readout, self.dropout = readout, dropout

    def embed(self, batch) -> torch.Tensor:
        """The graph vectors ``h_G`` [B, hidden]."""
        h, adj = batch.x, batch.adj()
        for conv, norm in zip(self.convs, self.norms):
            h = F.relu(norm(conv(h, adj)))                                   # [N, hidden]
        return global_pool(h, batch.batch, batch.num_graphs, self.readout)   # [B, hidden]

    def forward(self, batch) -> torch.Tensor:
        h = F.relu(self.lin1(self.embed(batch)))                             # [B, hidden]
        h = F.dropout(h, self.dropout, self.training)
        return self.lin2(h)                                                  # [B, C]
