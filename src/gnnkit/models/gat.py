"""The GAT networks of Veličković et al. (2018), composed from ``GATConv``."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit.models.dropout import feature_dropout
from gnnkit.nn import GATConv


class GAT(nn.Module):
    """Veličković, Cucurull, Casanova, Romero, Liò & Bengio, "Graph Attention
    Networks", ICLR 2018, https://arxiv.org/abs/1710.10903 (Section 3.3):

    .. math::
        h^{(l+1)} = \\mathrm{ELU}\\big(\\mathrm{GAT}^{(l)}_{\\Vert\\,H_l\\ \\mathrm{heads}}(\\mathrm{dropout}(h^{(l)}))
                    \\;[+\\; \\mathrm{skip}(h^{(l)})]\\big), \\qquad
        Z = \\mathrm{GAT}^{out}_{\\mathrm{mean}\\,H_{out}\\ \\mathrm{heads}}(\\mathrm{dropout}(h^{(L)}))

    Transductive (Cora, CiteSeer): one hidden layer of 8 heads x 8 features, a
    1-head output (8 averaged heads on PubMed), dropout 0.6 on every layer's
    input and on the attention coefficients. Inductive (PPI): two hidden layers of
    4 heads x 256, a 6-head averaged output, no dropout, skip connections
    (``residual=True``: a linear projection of the layer input, or the input itself
    when the widths match).

    Args:
        in_channels, hidden_channels, out_channels: F_in, features per head, classes.
        heads: heads of each hidden layer; ``out_heads``: heads of the output layer (averaged).
        num_layers: attention layers including the output one (2, or 3 for PPI).
        dropout: dropout on layer inputs and attention coefficients.
        residual: skip connections.

    Shapes: x: [N, F_in] (dense or sparse COO); adj: ``SparseAdj`` or edge_index; out: [N, C].

    Example::

        model = GAT(34, 8, 2, heads=8)
        logits = model(g.x, g.adj())    # [34, 2]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, heads: int = 8,
                 out_heads: int = 1, num_layers: int = 2, dropout: float = 0.6, residual: bool = False):
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2: hidden attention layers and the output layer (got {num_layers})")
        dims = [in_channels] + [heads * hidden_channels] * (num_layers - 2)   # inputs of the hidden layers
        self.convs = nn.ModuleList(GATConv(d, hidden_channels, heads=heads, dropout=dropout) for d in dims)
        self.out = GATConv(heads * hidden_channels, out_channels, heads=out_heads, concat=False, dropout=dropout)
        self.skips = None
        if residual:
            widths = [(d, heads * hidden_channels) for d in dims] + [(heads * hidden_channels, out_channels)]
            self.skips = nn.ModuleList(nn.Identity() if a == b else nn.Linear(a, b, bias=False) for a, b in widths)
        self.dropout = dropout

    def _skip(self, i: int, h: torch.Tensor) -> torch.Tensor | float:
        return 0.0 if self.skips is None else self.skips[i](h)

    def embed(self, x: torch.Tensor, adj) -> torch.Tensor:
        """The last hidden layer (all heads concatenated)."""
        h = x
        for i, conv in enumerate(self.convs):
            h_in = feature_dropout(h, self.dropout, self.training)        # [N, F]
            h = F.elu(conv(h_in, adj) + self._skip(i, h))                 # [N, heads * hidden]
        return h

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = self.embed(x, adj)
        h_in = feature_dropout(h, self.dropout, self.training)
        return self.out(h_in, adj) + self._skip(len(self.convs), h)       # [N, C]
