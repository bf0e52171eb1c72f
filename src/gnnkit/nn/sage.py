"""GraphSAGE: SAGEConv (Hamilton, Ying & Leskovec, 2017)."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.message_passing import MessagePassing

SAGE_AGGREGATORS = ("mean", "gcn", "lstm", "pool")


class SAGEConv(nn.Module):
    """GraphSAGE convolution with the paper's four aggregators.

    Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large
    Graphs", NeurIPS 2017, https://arxiv.org/abs/1706.02216 (Algorithm 1).

    .. math::
        h_{N(v)} = \\mathrm{AGGREGATE}(\\{h_u : u \\in N(v)\\}), \\qquad
        h_v' = \\sigma\\big(W \\cdot \\mathrm{CONCAT}(h_v, h_{N(v)}) + b\\big)
             = \\sigma(W_{self} h_v + W_{neigh} h_{N(v)} + b), \\qquad
        h_v' \\leftarrow h_v' / \\lVert h_v' \\rVert_2 \\;(\\text{if normalize})

    with the aggregators

    - ``'mean'``: :math:`h_{N(v)} = \\frac{1}{|N(v)|} \\sum_{u \\in N(v)} h_u`;
    - ``'gcn'``: no concatenation,
      :math:`h_v' = \\sigma(W_{neigh} \\frac{1}{|N(v)| + 1}(h_v + \\sum_{u \\in N(v)} h_u) + b)`;
    - ``'lstm'``: the last hidden state of an LSTM run over the neighbours in a
      random order (a fresh order in each training call; in eval mode the
      stored edge order, so evaluation is deterministic);
    - ``'pool'`` (max-pooling): :math:`h_{N(v)} = \\max_{u \\in N(v)} \\mathrm{ReLU}(W_{pool} h_u + b_{pool})`,
      element-wise.

    :math:`N(v)` are the in-neighbours of :math:`v` (sources of edges into
    :math:`v`), a multiset; an empty neighbourhood aggregates to 0.
    :math:`\\sigma` is ``act`` (identity by default, so models choose it).

    Args:
        in_channels: F_in.
        out_channels: F_out.
        aggr: ``'mean'`` (default), ``'gcn'``, ``'lstm'`` or ``'pool'``.
        normalize: L2-normalize each output row (default False).
        bias: learnable bias b (default True).
        act: optional activation :math:`\\sigma`, applied before the normalization.

    Shapes:
        x: [N, F_in], dense or sparse (kept sparse by the narrowing mean aggregator); edge_index: [2, E]
        or ``SparseAdj``; out: [N, F_out].

    Example::

        conv = SAGEConv(16, 4, aggr="pool", normalize=True)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, aggr: str = "mean", normalize: bool = False,
                 bias: bool = True, act: Callable | None = None):
        super().__init__()
        if aggr not in SAGE_AGGREGATORS:
            raise ValueError(f"SAGEConv aggr must be one of {SAGE_AGGREGATORS} (got {aggr!r})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.aggr, self.normalize, self.act = aggr, normalize, act
        self.lin_neigh = nn.Linear(in_channels, out_channels, bias=False)
        self.lin_self = None if aggr == "gcn" else nn.Linear(in_channels, out_channels, bias=False)
        self.pool = nn.Linear(in_channels, in_channels) if aggr == "pool" else None
        self.max_neigh = MessagePassing("max") if aggr == "pool" else None       # message h_u, max at v
        self.lstm = nn.LSTM(in_channels, in_channels, batch_first=True) if aggr == "lstm" else None
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.lin_neigh, self.lin_self, self.pool, self.lstm):
            if module is not None:
                module.reset_parameters()
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, edge_index) -> torch.Tensor:
        check_node_features(x, self.in_channels, "SAGEConv")
        adj = ops.as_adj(edge_index, x.size(0))
        if x.layout != torch.strided and not (self.aggr == "mean" and self.out_channels < self.in_channels):
            x = x.to_dense()                              # sparse features stay sparse on the mean path only
        if self.aggr in ("mean", "gcn"):
            h = self._linear_aggregate(adj, x)                               # [N, F_out]
        else:
            h_neigh = self._lstm(adj, x) if self.aggr == "lstm" else self._max_pool(adj, x)  # [N, F_in]
            h = self.lin_self(x) + self.lin_neigh(h_neigh)                   # [N, F_out]
        if self.bias is not None:
            h = h + self.bias
        if self.act is not None:
            h = self.act(h)
        if self.normalize:
            h = F.normalize(h, p=2.0, dim=-1)
        return h

    def _linear_aggregate(self, adj: ops.SparseAdj, x: torch.Tensor) -> torch.Tensor:
        """Mean and gcn aggregators are linear, so W_neigh commutes with them: multiply
        on whichever side is narrower, then one SpMM."""
        narrow_first = self.out_channels < self.in_channels
        if self.aggr == "mean" and narrow_first:
            # one pass over x for both weights: [W_self h_v | W_neigh h_v] (measured ~5-9% faster)
            both = ops.matmul(x, torch.cat([self.lin_self.weight, self.lin_neigh.weight]).t())  # [N, 2 F_out]
            h_self, z = both.split(self.out_channels, dim=1)                 # [N, F_out] each
            return h_self + ops.spmm(adj, z, "mean")                         # [N, F_out]
        if self.aggr == "mean":
            return self.lin_self(x) + self.lin_neigh(ops.spmm(adj, x, "mean"))   # [N, F_out]
        z = self.lin_neigh(x) if narrow_first else x                        # [N, F']
        deg = adj.in_degree().to(z.dtype).unsqueeze(-1)                     # [N, 1]
        h_mean = (z + ops.spmm(adj, z)) / (deg + 1)                          # [N, F']
        return h_mean if narrow_first else self.lin_neigh(h_mean)            # [N, F_out]

    def _max_pool(self, adj: ops.SparseAdj, x: torch.Tensor) -> torch.Tensor:
        """``max_u ReLU(W_pool h_u + b_pool)``: the MLP runs once per node, then message passing
        with the plain message ``z_u`` and max aggregation."""
        z = torch.relu(self.pool(x))                                         # [N, F_in]
        plain = adj if adj.weight is None else adj.with_weight(None)         # the paper's max has no weights
        return self.max_neigh.propagate(plain, z)                            # [N, F_in]

    def _lstm(self, adj: ops.SparseAdj, x: torch.Tensor) -> torch.Tensor:
        """Pad each neighbourhood into a sequence (random order when training), run the
        LSTM and keep its last hidden state; nodes without neighbours get 0."""
        N, E = adj.num_nodes, adj.num_edges
        h_neigh = x.new_zeros(N, self.in_channels)                          # [N, F_in]
        if E == 0:
            return h_neigh
        order = torch.arange(E, device=x.device)
        if self.training:  # shuffle, then stable-sort by target: a random order inside each neighbourhood
            shuffled = torch.randperm(E, device=x.device)
            order = shuffled[torch.argsort(adj.dst[shuffled], stable=True)]
        src, dst = adj.src[order], adj.dst[order]                            # [E], [E]
        deg = adj.rowptr[1:] - adj.rowptr[:-1]                               # [N]
        position = torch.arange(E, device=x.device) - adj.rowptr[dst]       # [E] slot within the sequence
        seq = x.new_zeros(N, int(deg.max()), x.size(1))                      # [N, max_deg, F_in]
        seq[dst, position] = x[src]
        has = deg > 0
        packed = pack_padded_sequence(seq[has], deg[has].cpu(), batch_first=True, enforce_sorted=False)
        _, (h_last, _) = self.lstm(packed)                                   # [1, N_has, F_in]
        return h_neigh.index_put((has.nonzero().view(-1),), h_last[-1])     # [N, F_in]

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, aggr={self.aggr!r}, normalize={self.normalize}, "
                f"bias={self.bias is not None}")
