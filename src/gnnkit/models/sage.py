"""Supervised GraphSAGE (Hamilton, Ying & Leskovec, 2017), composed from ``SAGEConv``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout
from gnnkit.nn import SAGEConv


class GraphSAGE(nn.Module):
    """Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large
    Graphs", NeurIPS 2017, https://arxiv.org/abs/1706.02216 (Algorithm 1,
    supervised variant):

    .. math::
        h^{(k)}_v = \\sigma\\big(W^{(k)} \\cdot [h^{(k-1)}_v \\,\\Vert\\,
                    \\mathrm{AGG}_k(\\{h^{(k-1)}_u : u \\in N(v)\\})]\\big),\\quad
        z_v = h^{(K)}_v / \\lVert h^{(K)}_v \\rVert_2, \\quad \\hat y_v = W_{out} z_v + b

    ``num_layers`` = K ``SAGEConv`` layers (ReLU on all but the last, as the
    paper's code), the L2-normalized embedding ``z``, then a linear classifier.
    Neighbourhoods are the full ones (no sampling) when the model is called on a
    whole graph; the aggregators are ``'mean'``, ``'gcn'``, ``'lstm'``, ``'pool'``.

    Args:
        in_channels, hidden_channels, out_channels: F_in, embedding width, classes.
        aggr: the aggregator.
        num_layers: K (2 in the paper).
        dropout: dropout on each layer's input (0 in the paper's PPI runs).
        project: if set, a linear map of the features to this width before the first
            layer (not in the paper; keeps the LSTM and pool aggregators, whose widths
            equal their input width, affordable on 1,433-3,703 bag-of-words features).

    Shapes: x: [N, F_in] (dense or sparse COO for the mean/gcn aggregators); adj:
    ``SparseAdj`` or edge_index; out: [N, C].

    Example::

        model = GraphSAGE(34, 16, 2, aggr="pool")
        logits = model(g.x, g.adj())    # [34, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, aggr: str = "mean",
                 num_layers: int = 2, dropout: float = 0.0, project: int | None = None):
        super().__init__()
        self.project = None if project is None else nn.Linear(in_channels, project, bias=False)
        dims = [in_channels if project is None else project] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(SAGEConv(a, b, aggr=aggr) for a, b in zip(dims[:-1], dims[1:]))
        self.classifier = nn.Linear(hidden_channels, out_channels)
        self.dropout = dropout

    def embed(self, x: torch.Tensor, adj) -> torch.Tensor:
        """The normalized embedding ``z`` ([N, hidden])."""
        h = x if self.project is None else self.project(x)                 # [N, project]
        for i, conv in enumerate(self.convs):
            h = conv(feature_dropout(h, self.dropout, self.training), adj)   # [N, hidden]
            if i < len(self.convs) - 1:
                h = F.relu(h)
        return F.normalize(h, p=2.0, dim=-1)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        z = feature_dropout(self.embed(x, adj), self.dropout, self.training)
        return self.classifier(z)                                          # [N, C]
