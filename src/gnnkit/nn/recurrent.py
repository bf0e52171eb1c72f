"""Recurrent graph neural networks: the original GNN of Scarselli et al. (2009),
iterated to a fixed point, and the gated graph network of Li et al. (2016),
unrolled for a fixed number of GRU steps."""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features


class RecurrentInfo(NamedTuple):
    """What ``RecurrentGNN(..., return_info=True)`` reports besides the states."""

    penalty: torch.Tensor   # scalar contraction penalty, add beta * penalty to the loss
    iterations: int         # forward iterations run
    converged: bool         # whether max |h^(t) - h^(t-1)| < tol was reached


class RecurrentGNN(nn.Module):
    """The graph neural network of Scarselli et al., iterated to its fixed point.

    Scarselli, Gori, Tsoi, Hagenbuchner & Monfardini, "The Graph Neural Network
    Model", IEEE Trans. Neural Networks 20(1), 2009, https://doi.org/10.1109/TNN.2008.2005605

    .. math::
        h_v = \\sum_{u \\in N(v)} f_w(x_v, x_{(v,u)}, x_u, h_u), \\qquad
        f_w(z) = W_2 \\tanh(W_1 z + b_1) + b_2

    :math:`x_v` are node features, :math:`x_{(v,u)}` edge features, :math:`h_v` the
    state and :math:`f_w` the transition network (one tanh hidden layer, as in the
    paper's experiments). Starting from :math:`h^{(0)} = 0`, the layer iterates
    :math:`h^{(t)} = F_w(h^{(t-1)})` until :math:`\\max |h^{(t)} - h^{(t-1)}| <` ``tol``
    or ``max_iter`` steps. Banach's theorem makes the fixed point unique when
    :math:`F_w` is a contraction; the paper keeps it one with the penalty

    .. math::
        p_w = \\sum_{u, j} L\\Big(\\big\\|\\tfrac{\\partial F_w}{\\partial h_{u,j}}\\big\\|_1\\Big),
        \\qquad L(y) = \\max(y - \\mu, 0)^2

    over the columns of the Jacobian (each column's 1-norm is bounded by the sum
    of the per-edge blocks :math:`W_2 \\mathrm{diag}(1 - \\tanh^2) W_{1,h}`),
    returned with ``return_info=True``: add ``beta * info.penalty`` to the loss.
    Gradients follow the paper's Almeida-Pineda scheme: the fixed point is found
    without a graph, and the backward pass iterates
    :math:`z = z \\, \\partial F_w / \\partial h + \\partial e / \\partial h` to its own
    fixed point, so memory does not grow with the iterations.

    Args:
        in_channels: F_in, node feature size.
        out_channels: S, state size.
        edge_channels: F_e, edge feature size (default 0: no edge features).
        hidden_channels: hidden units of :math:`f_w` (default ``out_channels``).
        max_iter: most forward (and backward) iterations (default 50).
        tol: stop when the largest state change is below this (default 1e-5).
        contraction: :math:`\\mu \\in (0, 1)`, the contraction constant aimed for (default 0.9).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; edge_attr: [E, F_e]; out: [N, S].

    Example::

        gnn = RecurrentGNN(3, 8)
        h, info = gnn(torch.randn(4, 3), torch.tensor([[0, 1, 2], [1, 2, 3]]), return_info=True)
        loss = h.sum() + 0.1 * info.penalty                  # info.iterations: steps taken
    """

    def __init__(self, in_channels: int, out_channels: int, edge_channels: int = 0,
                 hidden_channels: int | None = None, max_iter: int = 50, tol: float = 1e-5,
                 contraction: float = 0.9):
        super().__init__()
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1 (got {max_iter})")
        if not 0.0 < contraction < 1.0:
            raise ValueError(f"contraction (mu) must be in (0, 1) (got {contraction}); F_w must shrink distances")
        hidden_channels = hidden_channels or out_channels
        self.in_channels, self.out_channels, self.edge_channels = in_channels, out_channels, edge_channels
        self.hidden_channels, self.max_iter, self.tol, self.contraction = hidden_channels, max_iter, tol, contraction
        # W_1 z = W_dst x_v + W_edge x_(v,u) + W_src x_u + W_state h_u   (W_1 split by the parts of z)
        self.lin_dst = nn.Linear(in_channels, hidden_channels)
        self.lin_edge = nn.Linear(edge_channels, hidden_channels, bias=False) if edge_channels else None
        self.lin_src = nn.Linear(in_channels, hidden_channels, bias=False)
        self.lin_state = nn.Linear(out_channels, hidden_channels, bias=False)
        self.lin_out = nn.Linear(hidden_channels, out_channels)                  # W_2, b_2
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in (self.lin_dst, self.lin_edge, self.lin_src, self.lin_state, self.lin_out):
            if lin is not None:
                lin.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index, edge_attr: torch.Tensor | None = None,
                return_info: bool = False):
        check_node_features(x, self.in_channels, "RecurrentGNN")
        adj = ops.as_adj(edge_index, x.size(0))
        src, dst = adj.src, adj.dst                                            # [E], [E] sorted by dst
        z_fixed = self.lin_dst(x)[dst] + self.lin_src(x)[src]                  # [E, hidden] parts of W_1 z
        if self.lin_edge is not None:
            if edge_attr is None or edge_attr.shape != (adj.perm.numel(), self.edge_channels):
                got = None if edge_attr is None else list(edge_attr.shape)
                raise ValueError(f"RecurrentGNN(edge_channels={self.edge_channels}) needs edge_attr of shape "
                                 f"[E, {self.edge_channels}] = [{adj.perm.numel()}, {self.edge_channels}] (got {got})")
            z_fixed = z_fixed + self.lin_edge(edge_attr[adj.perm])
        deg = adj.in_degree().to(x.dtype).unsqueeze(-1)                       # [N, 1]

        def F(h):                                                              # F_w: [N, S] -> [N, S]
            t = torch.tanh(z_fixed + self.lin_state(h)[src])                   # [E, hidden]
            t_sum = ops.scatter(t, dst, x.size(0), "sum")                      # [N, hidden]
            return t_sum @ self.lin_out.weight.t() + deg * self.lin_out.bias   # sum_u W_2 t + b_2

        h = x.new_zeros(x.size(0), self.out_channels)                         # h^(0) = 0
        iterations, converged = 0, False
        with torch.no_grad():
            while iterations < self.max_iter and not converged:
                h_next = F(h)
                iterations += 1
                converged = bool((h_next - h).abs().max() < self.tol) if h.numel() else True
                h = h_next
        h_star = h
        if torch.is_grad_enabled():
            h = F(h_star)                                                      # one step with a graph
            if h.requires_grad:
                h_in = h_star.detach().requires_grad_()
                f_in = F(h_in)
                h.register_hook(lambda grad: self._backward_fixed_point(f_in, h_in, grad))
        if not return_info:
            return h
        penalty = self.contraction_penalty(z_fixed, src, h_star.detach(), x.size(0))
        return h, RecurrentInfo(penalty, iterations, converged)

    def _backward_fixed_point(self, f_in, h_in, grad):
        """Almeida-Pineda: z = z dF/dh + grad, iterated (the backward pass of the paper)."""
        z = grad
        for _ in range(self.max_iter):
            z_next = torch.autograd.grad(f_in, h_in, z, retain_graph=True)[0] + grad
            done = bool((z_next - z).abs().max() < self.tol) if z.numel() else True
            z = z_next
            if done:
                break
        return z

    def contraction_penalty(self, z_fixed, src, h, num_nodes) -> torch.Tensor:
        """:math:`\\sum_{u,j} \\max(\\|\\partial F/\\partial h_{u,j}\\|_1 - \\mu, 0)^2` at states ``h``."""
        t = torch.tanh(z_fixed + self.lin_state(h)[src])                      # [E, hidden]
        jac = torch.einsum("ik,ek,kj->eij", self.lin_out.weight, 1 - t * t,
                           self.lin_state.weight)                              # [E, S, S] df_e/dh_u
        column_norm = ops.scatter(jac.abs().sum(1), src, num_nodes, "sum")    # [N, S]
        return torch.relu(column_norm - self.contraction).pow(2).sum()

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, edge_channels={self.edge_channels}, "
                f"hidden_channels={self.hidden_channels}, max_iter={self.max_iter}, tol={self.tol}, "
                f"contraction={self.contraction}")


class GatedGraphConv(nn.Module):
    """Gated graph neural network layer: message passing unrolled with a GRU.

    Li, Tarlow, Brockschmidt & Zemel, "Gated Graph Sequence Neural Networks",
    ICLR 2016, https://arxiv.org/abs/1511.05493

    .. math::
        h_v^{(0)} = [x_v, 0, \\dots, 0], \\qquad
        a_v^{(t)} = \\sum_{u \\in N(v)} W_{\\tau(u,v)} \\, h_u^{(t-1)} + b, \\qquad
        h_v^{(t)} = \\mathrm{GRU}(a_v^{(t)}, h_v^{(t-1)}), \\quad t = 1..T

    :math:`x_v` is zero-padded to the state size C, :math:`W_\\tau` is the
    propagation matrix of edge type :math:`\\tau` (one type by default), shared by
    all steps as in the paper, and GRU is the gated recurrent unit (update and
    reset gates). The sum of the linear messages :math:`W h_u` is one SpMM per
    edge type. The paper's incoming/outgoing split is two edge types: add the
    reversed edges with type 1.

    Args:
        out_channels: C, state size (>= F_in).
        num_steps: T, number of propagation steps.
        num_edge_types: number of edge types (default 1).
        aggr: ``'sum'`` (the paper's, default) or ``'mean'``.
        bias: add :math:`b` to the aggregate (default True).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; edge_type: [E] int64 in
        ``[0, num_edge_types)``; edge_weight: [E]; out: [N, C].

    Example::

        conv = GatedGraphConv(8, num_steps=3)
        out = conv(torch.randn(4, 5), torch.tensor([[0, 1, 2], [1, 2, 3]]))   # [4, 8]
    """

    def __init__(self, out_channels: int, num_steps: int, num_edge_types: int = 1, aggr: str = "sum",
                 bias: bool = True):
        super().__init__()
        if num_steps < 1 or num_edge_types < 1:
            raise ValueError(f"num_steps and num_edge_types must be >= 1 (got {num_steps}, {num_edge_types})")
        if aggr not in ("sum", "mean"):
            raise ValueError(f"aggr must be 'sum' or 'mean' (got {aggr!r})")
        self.out_channels, self.num_steps, self.num_edge_types, self.aggr = out_channels, num_steps, num_edge_types, aggr
        self.weight = nn.Parameter(torch.empty(num_edge_types, out_channels, out_channels))   # W_tau
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.gru = nn.GRUCell(out_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / self.out_channels ** 0.5
        nn.init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            nn.init.zeros_(self.bias)
        self.gru.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index, edge_type: torch.Tensor | None = None,
                edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 2 or x.size(1) > self.out_channels:
            raise ValueError(f"GatedGraphConv pads x to the state size, so x must be [N, F_in] with F_in <= "
                             f"out_channels={self.out_channels} (got {list(x.shape)}); project x with a Linear "
                             f"layer first or raise out_channels")
        check_node_features(x, None, "GatedGraphConv")
        adj = ops.as_adj(edge_index, x.size(0), edge_weight)
        typed_adj = self._typed_adjacencies(adj, edge_type)                    # one SparseAdj per type
        h = torch.cat([x, x.new_zeros(x.size(0), self.out_channels - x.size(1))], 1)   # h^(0): [N, C]
        for _ in range(self.num_steps):
            a = sum(ops.spmm(adj_t, h @ self.weight[t], self.aggr) for t, adj_t in enumerate(typed_adj))  # [N, C]
            if self.bias is not None:
                a = a + self.bias
            h = self.gru(a, h)                                                 # [N, C]
        return h

    def _typed_adjacencies(self, adj: ops.SparseAdj, edge_type: torch.Tensor | None) -> list[ops.SparseAdj]:
        """The adjacency restricted to each edge type (same structure, weight 0 on other types)."""
        if edge_type is None:
            if self.num_edge_types > 1:
                raise ValueError(f"GatedGraphConv(num_edge_types={self.num_edge_types}) needs edge_type [E]")
            return [adj]
        if edge_type.shape != (adj.num_edges,) or edge_type.is_floating_point():
            raise ValueError(f"edge_type must be an int64 tensor of shape [E] = [{adj.num_edges}] "
                             f"(got {edge_type.dtype} {list(edge_type.shape)})")
        if edge_type.numel() and not 0 <= int(edge_type.min()) <= int(edge_type.max()) < self.num_edge_types:
            raise ValueError(f"edge_type values must be in [0, {self.num_edge_types}) "
                             f"(got {int(edge_type.min())}..{int(edge_type.max())}); raise num_edge_types")
        tau = edge_type[adj.perm]                                              # [E] sorted like adj
        weight = adj.weight if adj.weight is not None else torch.ones(adj.num_edges, device=tau.device)
        return [adj.with_weight(weight * (tau == t)) for t in range(self.num_edge_types)]

    def extra_repr(self) -> str:
        return (f"{self.out_channels}, num_steps={self.num_steps}, num_edge_types={self.num_edge_types}, "
                f"aggr={self.aggr!r}, bias={self.bias is not None}")
