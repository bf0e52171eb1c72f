"""GIN graph classifiers (Xu et al. 2019) and Errica et al.'s structure-agnostic baseline.

- :class:`GIN`: the paper's network: ``num_layers`` layers counting the input (the paper's 5), a
  readout of every layer including the input, each through its own linear classifier, scores
  summed. GIN-0 / GIN-eps (``train_eps``) and the Section 7 ablations (``aggr`` sum / mean / max,
  ``mlp_layers`` 2 = MLP or 1 = "1-layer").
- :class:`GraphMLP`: Errica, Podda, Bacciu & Micheli (ICLR 2020), "A Fair Comparison of Graph
  Neural Networks for Graph Classification", the structure-agnostic baseline: an MLP on each
  node's features, sum pooling, an MLP classifier; no edge is ever read.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.nn import GINConv
from gnnkit.nn.pool import READOUTS, global_pool, layer_readout


def mlp(in_channels: int, hidden_channels: int, out_channels: int, batch_norm: bool = True,
        num_layers: int = 2) -> nn.Module:
    """The MLP inside a GIN layer: ``Linear -> BN -> ReLU -> Linear`` (``num_layers=2``, the paper's
    choice) or a single ``Linear`` (``num_layers=1``, the "1-layer" ablation of Section 7)."""
    if num_layers == 1:
        return nn.Linear(in_channels, out_channels)
    if num_layers != 2:
        raise ValueError(f"mlp num_layers must be 1 or 2 (got {num_layers})")
    return nn.Sequential(nn.Linear(in_channels, hidden_channels),
                         nn.BatchNorm1d(hidden_channels) if batch_norm else nn.Identity(),
                         nn.ReLU(), nn.Linear(hidden_channels, out_channels))


class GIN(nn.Module):
    """Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019,
    https://arxiv.org/abs/1810.00826 (Eq. 4.1 per layer, Eq. 4.2 readout):

    .. math::
        h_v^{(k)} = \\mathrm{ReLU}\\Big(\\mathrm{BN}\\big(\\mathrm{MLP}^{(k)}\\big((1 + \\epsilon^{(k)})\\, h_v^{(k-1)}
            + \\textstyle\\bigoplus_{u \\in N(v)} h_u^{(k-1)}\\big)\\big)\\Big), \\quad k = 1..K-1

        \\hat y_G = \\sum_{k=0}^{K-1} \\mathrm{dropout}\\Big(W^{(k)}\\, \\mathrm{READOUT}\\big(\\{h_v^{(k)} : v \\in G\\}\\big)
            + b^{(k)}\\Big)

    :math:`h_v^{(0)}` are the node inputs, :math:`K` = ``num_layers`` counts the input layer (the
    paper's 5 = input + 4 GIN layers), :math:`\\bigoplus` is the neighbour aggregation (sum for GIN;
    mean / max for the ablation), :math:`\\epsilon^{(k)} = 0` (GIN-0) or learned (GIN-eps). Every
    layer's graph vector (the input's included) goes through its own linear classifier and the
    scores are summed, as in the authors' ``models/graphcnn.py``; dropout follows each dense layer.

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width (paper: 16/32 bio, 64 social), classes.
        num_layers: K, layers counting the input (default 5; at least 1: then only the input is read out).
        mlp_layers: 2 (an MLP, default) or 1 (one linear layer: the "1-layer" ablation).
        aggr: neighbour aggregation, ``'sum'`` (default), ``'mean'`` or ``'max'``.
        readout: graph readout; ``None`` (default) = the same as ``aggr`` (the ablations replace both
            sums; a sum readout would tell Figure 3's pairs apart by their sizes alone).
        train_eps: learn :math:`\\epsilon` per layer (GIN-eps) instead of 0 (GIN-0).
        dropout: dropout after each layer's dense classifier (paper: 0 or 0.5).

    Shapes: called on a ``Batch`` of B graphs with ``x`` [N, F_in]; out [B, C];
    ``embed`` [B, F_in + (K-1) hidden] (every layer's readout, concatenated).

    Example::

        b = Batch.from_graphs([g1, g2])
        logits = GIN(b.num_features, 32, 2)(b)       # [2, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 5,
                 mlp_layers: int = 2, aggr: str = "sum", readout: str | None = None, train_eps: bool = False,
                 dropout: float = 0.5):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers counts the input layer and must be >= 1 (got {num_layers})")
        readout = aggr if readout is None else readout
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS} (got {readout!r})")
        dims = [in_channels] + [hidden_channels] * (num_layers - 1)
        self.convs = nn.ModuleList(GINConv(mlp(a, b, b, num_layers=mlp_layers), train_eps=train_eps, aggr=aggr)
                                   for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in dims[1:])
        self.heads = nn.ModuleList(nn.Linear(d, out_channels) for d in dims)
        self.aggr, self.readout, self.dropout, self.train_eps = aggr, readout, dropout, train_eps

    def layers(self, batch) -> list[torch.Tensor]:
        """Every layer's node vectors ``[h^(0), ..., h^(K-1)]``, each [N, F_k]."""
        h, adj = batch.x, batch.adj()
        hs = [h.to_dense() if h.layout != torch.strided else h]
        for conv, norm in zip(self.convs, self.norms):
            h = F.relu(norm(conv(h, adj)))                                   # [N, hidden]
            hs.append(h)
        return hs

    def embed(self, batch) -> torch.Tensor:
        """Every layer's graph vector, concatenated: [B, F_in + (K-1) hidden]."""
        return torch.cat(layer_readout(self.layers(batch), batch.batch, batch.num_graphs, self.readout), 1)

    def forward(self, batch) -> torch.Tensor:
        pooled = layer_readout(self.layers(batch), batch.batch, batch.num_graphs, self.readout)  # K x [B, F_k]
        score = 0
        for head, h_g in zip(self.heads, pooled):
            score = score + F.dropout(head(h_g), self.dropout, self.training)  # [B, C]
        return score

    def extra_repr(self) -> str:
        return f"aggr={self.aggr!r}, readout={self.readout!r}, train_eps={self.train_eps}, dropout={self.dropout}"


class GraphMLP(nn.Module):
    """Errica, Podda, Bacciu & Micheli, "A Fair Comparison of Graph Neural Networks for Graph
    Classification", ICLR 2020, https://arxiv.org/abs/1912.09893, Section 4 "Baselines": a
    structure-agnostic model that never reads an edge:

    .. math::
        h_G = \\sum_{v \\in G} \\mathrm{ReLU}(W_1 x_v + b_1), \\qquad
        \\hat y_G = W_3\\, \\mathrm{dropout}(\\mathrm{ReLU}(W_2 h_G + b_2)) + b_3

    (their molecular-fingerprint form for chemical sets, the same sum of per-node MLPs then an MLP
    for the social ones).

    Args:
        in_channels, hidden_channels, out_channels: F_in, hidden width, classes.
        dropout: before the last linear layer (default 0).

    Shapes: ``Batch`` with ``x`` [N, F_in] -> [B, C]; ``embed`` [B, hidden].

    Example::

        logits = GraphMLP(7, 32, 2)(Batch.from_graphs([g1, g2]))   # [2, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, dropout: float = 0.0):
        super().__init__()
        self.node = nn.Linear(in_channels, hidden_channels)
        self.lin1 = nn.Linear(hidden_channels, hidden_channels)
        self.lin2 = nn.Linear(hidden_channels, out_channels)
        self.dropout = dropout

    def embed(self, batch) -> torch.Tensor:
        x = batch.x.to_dense() if batch.x.layout != torch.strided else batch.x
        h = F.relu(self.node(x))                                             # [N, hidden]
        return global_pool(h, batch.batch, batch.num_graphs, "sum")          # [B, hidden]

    def forward(self, batch) -> torch.Tensor:
        h = F.relu(self.lin1(self.embed(batch)))                             # [B, hidden]
        return self.lin2(F.dropout(h, self.dropout, self.training))          # [B, C]
