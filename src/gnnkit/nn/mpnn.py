"""Neural message passing with an edge network, and the Set2Set readout (Gilmer et al., 2017)."""
from __future__ import annotations

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.message_passing import MessagePassing


class MPNNConv(MessagePassing):
    """Message passing with the edge-network message and a GRU update.

    Gilmer, Schoenholz, Riley, Vinyals & Dahl, "Neural Message Passing for
    Quantum Chemistry", ICML 2017, https://arxiv.org/abs/1704.01212 (Sec. 5.1).

    .. math::
        m_v^{t+1} = \\sum_{u \\in N(v)} A(e_{uv})\\, h_u^t, \\qquad
        h_v^{t+1} = \\mathrm{GRU}(h_v^t, m_v^{t+1})

    :math:`e_{uv}` is the feature vector of edge :math:`u \\to v` and
    :math:`A(e_{uv}) \\in \\mathbb{R}^{d \\times d}` is the output of an MLP
    (``Linear(edge_dim, edge_hidden) - ReLU - Linear(edge_hidden, d * d)``)
    reshaped to a matrix. :math:`d` is both the input and output width. The
    ``steps`` iterations share their weights, as in the paper. Messages are
    per edge (``[E, d]``) because each edge has its own matrix. In
    ``MessagePassing`` terms: :meth:`message` is :math:`A(e_{uv}) h_u`, the
    aggregation ``aggr``, :meth:`update` the GRU; the matrices are computed once per
    call, in the adjacency's edge order, and reused by every step.

    Args:
        channels: d, the width of the node states.
        edge_dim: width of the edge features.
        edge_hidden: hidden width of the edge network (default 64).
        steps: message-passing steps T per call (default 1).
        aggr: ``'sum'`` (default, the paper) or ``'mean'``.

    Shapes:
        x: [N, d]; edge_index: [2, E] or ``SparseAdj``; edge_attr: [E, edge_dim] aligned with
        ``edge_index``; out: [N, d].

    Example::

        conv = MPNNConv(8, edge_dim=3, steps=3)
        out = conv(torch.randn(3, 8), torch.tensor([[0, 1], [1, 2]]), torch.randn(2, 3))   # [3, 8]
    """

    def __init__(self, channels: int, edge_dim: int, edge_hidden: int = 64, steps: int = 1, aggr: str = "sum"):
        if aggr not in ("sum", "mean"):
            raise ValueError(f"MPNNConv aggr must be 'sum' or 'mean' (got {aggr!r})")
        super().__init__(aggr)
        if steps < 1:
            raise ValueError(f"steps must be >= 1 (got {steps})")
        self.channels, self.edge_dim, self.edge_hidden, self.steps, self.aggr = channels, edge_dim, edge_hidden, steps, aggr
        self.edge_net = nn.Sequential(nn.Linear(edge_dim, edge_hidden), nn.ReLU(),
                                      nn.Linear(edge_hidden, channels * channels))
        self.gru = nn.GRUCell(channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for module in (self.edge_net[0], self.edge_net[2], self.gru):
            module.reset_parameters()

    def message(self, x_src: torch.Tensor, x_dst, A: torch.Tensor) -> torch.Tensor:
        """``A(e_uv) h_u``: ``[E, d]``."""
        return torch.bmm(A, x_src.unsqueeze(-1)).squeeze(-1)

    def update(self, m: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """``GRU(h_v, m_v)``: ``[N, d]``."""
        return self.gru(m, h)

    def forward(self, x: torch.Tensor, edge_index, edge_attr: torch.Tensor) -> torch.Tensor:
        d = self.channels
        check_node_features(x, d, "MPNNConv", hint="; pad or project the input features to the state width first")
        adj = ops.as_adj(edge_index, x.size(0))
        if edge_attr is None or edge_attr.dim() != 2 or edge_attr.shape != (adj.num_edges, self.edge_dim):
            got = None if edge_attr is None else list(edge_attr.shape)
            raise ValueError(f"MPNNConv expects edge_attr of shape [E, edge_dim] = [{adj.num_edges}, "
                             f"{self.edge_dim}] (got {got}); use edge_attr.unsqueeze(-1) for one feature per edge")
        A = self.edge_net(edge_attr.index_select(0, adj.perm)).view(-1, d, d)   # [E, d, d] A(e_uv), adj's order
        h = x
        for _ in range(self.steps):
            h = self.propagate(adj, h, A=A, edge_order="adjacency")          # [N, d]
        return h

    def extra_repr(self) -> str:
        return (f"{self.channels}, edge_dim={self.edge_dim}, edge_hidden={self.edge_hidden}, "
                f"steps={self.steps}, aggr={self.aggr!r}")


class Set2Set(nn.Module):
    """Set2Set readout: an order-invariant graph embedding by LSTM-driven attention.

    Vinyals, Bengio & Kudlur, "Order Matters: Sequence to sequence for sets",
    ICLR 2016, https://arxiv.org/abs/1511.06391; the MPNN readout of Gilmer et
    al., 2017, https://arxiv.org/abs/1704.01212.

    .. math::
        q_t = \\mathrm{LSTM}(q_{t-1}^*), \\qquad
        a_{v,t} = \\frac{\\exp(h_v \\cdot q_t)}{\\sum_{w \\in G} \\exp(h_w \\cdot q_t)}, \\qquad
        r_t = \\sum_{v \\in G} a_{v,t} h_v, \\qquad
        q_t^* = [q_t \\,\\|\\, r_t]

    for :math:`t = 1..T` with :math:`q_0^* = 0`; the output is :math:`q_T^*`.
    The softmax and the sum run over the nodes of each graph; a graph with no
    nodes gets :math:`r_t = 0`.

    Args:
        in_channels: F.
        processing_steps: T.
        num_layers: LSTM layers (default 1).

    Shapes:
        x: [N, F]; batch: [N] graph id of each node (``None``: one graph); out: [B, 2F].

    Example::

        readout = Set2Set(8, processing_steps=3)
        out = readout(torch.randn(5, 8), torch.tensor([0, 0, 1, 1, 1]))   # [2, 16]
    """

    def __init__(self, in_channels: int, processing_steps: int, num_layers: int = 1):
        super().__init__()
        if processing_steps < 1:
            raise ValueError(f"processing_steps must be >= 1 (got {processing_steps})")
        self.in_channels, self.processing_steps, self.num_layers = in_channels, processing_steps, num_layers
        self.lstm = nn.LSTM(2 * in_channels, in_channels, num_layers)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.lstm.reset_parameters()

    def forward(self, x: torch.Tensor, batch: torch.Tensor | None = None, num_graphs: int | None = None) -> torch.Tensor:
        F = self.in_channels
        check_node_features(x, F, "Set2Set")
        if batch is None:
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
        if batch.dim() != 1 or batch.size(0) != x.size(0):
            raise ValueError(f"batch must have shape [N] = [{x.size(0)}] (got {list(batch.shape)}); "
                             "pass Batch.batch, the graph id of every node")
        if num_graphs is None:
            num_graphs = int(batch.max()) + 1 if batch.numel() else 1
        B = num_graphs
        state = (x.new_zeros(self.num_layers, B, F), x.new_zeros(self.num_layers, B, F))
        q_star = x.new_zeros(B, 2 * F)                                       # [B, 2F]
        for _ in range(self.processing_steps):
            q, state = self.lstm(q_star.unsqueeze(0), state)                 # [1, B, F]
            q = q.view(B, F)                                                 # [B, F]
            score = (x * q[batch]).sum(-1)                                   # [N]  h_v . q_t
            a = ops.edge_softmax(score, batch, B)                            # [N]  softmax per graph
            r = ops.scatter(a.unsqueeze(-1) * x, batch, B, "sum")            # [B, F]
            q_star = torch.cat([q, r], dim=-1)                               # [B, 2F]
        return q_star

    def extra_repr(self) -> str:
        return f"{self.in_channels}, processing_steps={self.processing_steps}, num_layers={self.num_layers}"
