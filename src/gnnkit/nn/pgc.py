"""Parametric graph convolution: PGCConv (Tran, Navarin & Sperduti, 2018), and the
shortest-path distance partitions it needs."""
from __future__ import annotations


import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.init import glorot_


def distance_partitions(adj: ops.SparseAdj, r: int) -> list[ops.SparseAdj]:
    """Partition each node's r-hop neighbourhood by shortest-path distance.

    Returns ``[S_0, S_1, ..., S_r]``, one ``SparseAdj`` per distance ``j``, with an
    edge ``u -> v`` exactly when the shortest directed path from ``u`` to ``v``
    (following edges source -> target) has ``j`` edges. ``S_0`` holds one self
    loop per node; ``S_1`` is the graph without self loops and duplicate edges.
    Edge weights are ignored (hop distance). Breadth-first, one hop at a time
    over pairs, so the cost is the number of pairs within distance ``r``.
    """
    N = adj.num_nodes
    device = adj.src.device
    deg = adj.rowptr[1:] - adj.rowptr[:-1]                                   # [N] in-degrees
    node = torch.arange(N, device=device)
    frontier_v, frontier_u = node, node                                      # pairs (v, u) at distance j
    visited = node * max(N, 1) + node                                        # sorted keys v * N + u
    parts = [ops.SparseAdj(torch.stack([node, node]), N)]
    for _ in range(r):
        counts = deg[frontier_u]                                             # in-neighbours to expand
        total = int(counts.sum())
        v = frontier_v.repeat_interleave(counts)                             # [P]
        first = (adj.rowptr[frontier_u]).repeat_interleave(counts)           # [P] start of u's row
        offset = torch.arange(total, device=device) - (torch.cumsum(counts, 0) - counts).repeat_interleave(counts)
        w = adj.src[first + offset]                                          # [P] in-neighbour of u
        keys = torch.unique(v * max(N, 1) + w)                               # sorted, no duplicates
        keys = keys[~torch.isin(keys, visited)]
        visited = torch.sort(torch.cat([visited, keys])).values
        frontier_v, frontier_u = keys // max(N, 1), keys % max(N, 1)
        parts.append(ops.SparseAdj(torch.stack([frontier_u, frontier_v]), N))
    return parts


class PGCConv(nn.Module):
    """Graph convolution with one weight matrix per shortest-path distance.

    Tran, Navarin & Sperduti, "On Filter Size in Graph Convolutional Networks",
    IEEE SSCI 2018, https://arxiv.org/abs/1811.10435 (the PGC layer of PGC-DGCNN).

    .. math::
        h_v' = \\sum_{j=0}^{r} \\frac{1}{|S_j(v)|} \\sum_{u \\in S_j(v)} W_j h_u + b,
        \\qquad S_j(v) = \\{u : \\mathrm{sp}(u, v) = j\\}

    :math:`\\mathrm{sp}(u, v)` is the number of edges on a shortest directed path
    from :math:`u` to :math:`v`, so :math:`S_0(v) = \\{v\\}`, :math:`S_1(v)` the
    in-neighbours, :math:`S_2(v)` the nodes two hops away, and so on up to the
    filter size :math:`r`. Each distance has its own :math:`W_j`. With
    ``normalize=False`` the :math:`1/|S_j(v)|` factor is dropped; an empty
    :math:`S_j(v)` contributes 0. (Concatenating the per-distance terms instead
    of summing them is the special case of block-structured :math:`W_j`.)

    The partitions are computed once per graph and cached on its ``SparseAdj``
    (``adj.cached``); pass ``graph.adj()`` to reuse them across calls and layers.

    Args:
        in_channels: F_in.
        out_channels: F_out.
        r: the filter size, the largest distance used (default 2).
        normalize: average within each distance (default True).
        bias: learnable bias (default True).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; out: [N, F_out].

    Example::

        conv = PGCConv(16, 4, r=2)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, r: int = 2, normalize: bool = True, bias: bool = True):
        super().__init__()
        if r < 0:
            raise ValueError(f"the filter size r must be >= 0 (got {r})")
        self.in_channels, self.out_channels, self.r, self.normalize = in_channels, out_channels, r, normalize
        self.weight = nn.Parameter(torch.empty(r + 1, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        glorot_(self.weight, fan_in=self.in_channels, fan_out=self.out_channels)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, edge_index) -> torch.Tensor:
        check_node_features(x, self.in_channels, "PGCConv")
        adj = ops.as_adj(edge_index, x.size(0))
        parts = adj.cached(("pgc_partitions", self.r), lambda a: distance_partitions(a, self.r))
        reduce = "mean" if self.normalize else "sum"
        h = x @ self.weight[0]                                               # [N, F_out]  S_0(v) = {v}
        for j in range(1, self.r + 1):
            if self.out_channels < self.in_channels:                         # aggregate the narrower side
                h = h + ops.spmm(parts[j], x @ self.weight[j], reduce)       # [N, F_out]
            else:
                h = h + ops.spmm(parts[j], x, reduce) @ self.weight[j]       # [N, F_out]
        if self.bias is not None:
            h = h + self.bias
        return h

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, r={self.r}, normalize={self.normalize}, "
                f"bias={self.bias is not None}")
