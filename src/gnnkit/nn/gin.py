"""Graph isomorphism networks: GINConv (Xu et al., 2019) and GINEConv (Hu et al., 2020)."""
from __future__ import annotations

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_node_features
from gnnkit.nn.message_passing import MessagePassing

GIN_AGGREGATORS = ("sum", "mean", "max")


def _first_linear(mlp: nn.Module) -> tuple[nn.Linear, nn.Module] | None:
    """``(first, rest)`` when ``mlp`` is a Linear or a Sequential starting with one, else None."""
    if isinstance(mlp, nn.Linear):
        return mlp, nn.Identity()
    if isinstance(mlp, nn.Sequential) and len(mlp) > 0 and isinstance(mlp[0], nn.Linear):
        return mlp[0], mlp[1:]
    return None


def _register_eps(module: nn.Module, eps: float, train_eps: bool) -> None:
    """The ``(1 + eps)`` self term's eps: a learned parameter, or a fixed buffer (so it follows ``.to``)."""
    module.initial_eps, module.train_eps = float(eps), train_eps
    if train_eps:
        module.eps = nn.Parameter(torch.tensor([float(eps)]))
    else:
        module.register_buffer("eps", torch.tensor([float(eps)]))


def _check_mlp(mlp) -> nn.Module:
    if not isinstance(mlp, nn.Module):
        raise TypeError(f"the MLP must be a torch.nn.Module (got {type(mlp).__name__})")
    return mlp


def _reset(mlp: nn.Module, module: nn.Module) -> None:
    for m in mlp.modules():
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
    module.eps.data.fill_(module.initial_eps)


def _check_x(name: str, x) -> None:
    check_node_features(x, None, name, hint="; use x.unsqueeze(-1) for 1-D features")


class GINConv(MessagePassing):
    """Graph isomorphism network convolution.

    Xu, Hu, Leskovec & Jegelka, "How Powerful are Graph Neural Networks?",
    ICLR 2019, https://arxiv.org/abs/1810.00826 (Eq. 4.1; Section 5 ablation).

    .. math::
        h_v' = \\mathrm{MLP}\\Big((1 + \\epsilon)\\, h_v + \\bigoplus_{u \\in N(v)} w_{uv} h_u\\Big)

    :math:`N(v)` are the in-neighbours of :math:`v` (a multiset), :math:`w_{uv}`
    optional edge weights (1 by default), :math:`\\epsilon` a fixed number or a
    learned scalar, and :math:`\\bigoplus` is sum (the injective choice of the
    paper), mean or max (element-wise) for the paper's ablation. Mean is
    :math:`\\frac{1}{|N(v)|}\\sum_u w_{uv} h_u`; empty neighbourhoods give 0.

    Sum and mean are one SpMM. When ``mlp`` starts with an ``nn.Linear`` that
    narrows the features, that linear map is moved inside the aggregation
    (:math:`W((1+\\epsilon)h_v + \\sum_u h_u) + b = (1+\\epsilon)Wh_v + \\sum_u W h_u + b`),
    so the SpMM runs on the narrow side; the result is the same.

    Args:
        nn: the MLP, a module mapping ``[N, F_in]`` to ``[N, F_out]``.
        eps: initial (or fixed) :math:`\\epsilon` (default 0, the paper's GIN-0).
        train_eps: learn :math:`\\epsilon` (default False).
        aggr: ``'sum'`` (default), ``'mean'`` or ``'max'``.

    Shapes:
        x: [N, F_in], dense or sparse (kept sparse when the MLP's first Linear narrows it);
        edge_index: [2, E] or ``SparseAdj``; edge_weight: [E]; out: [N, F_out].

    Example::

        conv = GINConv(nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 32)), train_eps=True)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 32]
    """

    def __init__(self, nn: nn.Module, eps: float = 0.0, train_eps: bool = False, aggr: str = "sum"):
        if aggr not in GIN_AGGREGATORS:
            raise ValueError(f"GINConv aggr must be one of {GIN_AGGREGATORS} (got {aggr!r})")
        super().__init__(aggr)
        self.nn = _check_mlp(nn)
        _register_eps(self, eps, train_eps)

    def reset_parameters(self) -> None:
        _reset(self.nn, self)

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        _check_x("GINConv", x)
        adj = ops.as_adj(edge_index, x.size(0), edge_weight)
        split = _first_linear(self.nn) if self.aggr != "max" else None
        if split is not None and split[0].out_features < split[0].in_features:
            first, rest = split
            wh = ops.matmul(x, first.weight.t())                             # [N, F_hidden]  W h
            z = ops.spmm(adj, wh, self.aggr)                                 # [N, F_hidden], fresh:
            z += self._self_term(wh)                                         # summed into in place
            if first.bias is not None:
                z += first.bias
            return rest(z)                                                   # [N, F_out]
        if x.layout != torch.strided:
            x = x.to_dense()                              # sparse features stay sparse on the path above only
        if self.aggr == "max":          # the max's backward may keep its output: not added to in place
            h_neigh = self.propagate(adj, x)              # [N, F_in]  max_u w_uv h_u (default message)
            return self.nn(self._self_term(x) + h_neigh)                     # [N, F_out]
        h_neigh = ops.spmm(adj, x, self.aggr)                                # [N, F_in], fresh
        h_neigh += self._self_term(x)                                        # summed into in place
        return self.nn(h_neigh)                                              # [N, F_out]

    def _self_term(self, h: torch.Tensor) -> torch.Tensor:
        """:math:`(1 + \\epsilon) h`; ``h`` itself for a fixed eps of 0 (GIN-0: the same numbers, one
        pass over ``[N, F]`` fewer each way)."""
        if not self.train_eps and float(self.eps) == 0.0:
            return h
        return (1 + self.eps) * h

    def extra_repr(self) -> str:
        return f"eps={self.initial_eps}, train_eps={self.train_eps}, aggr={self.aggr!r}"


class GINEConv(MessagePassing):
    """GIN with edge features.

    Hu, Liu, Gomes, Zitnik, Liang, Pande & Leskovec, "Strategies for
    Pre-training Graph Neural Networks", ICLR 2020, https://arxiv.org/abs/1905.12265
    (the edge-feature form of Xu et al., 2019, https://arxiv.org/abs/1810.00826).

    .. math::
        h_v' = \\mathrm{MLP}\\Big((1 + \\epsilon)\\, h_v + \\sum_{u \\in N(v)} \\mathrm{ReLU}(h_u + W_e e_{uv} + b_e)\\Big)

    :math:`e_{uv}` is the feature vector of edge :math:`u \\to v`; :math:`W_e, b_e`
    project it to F_in when ``edge_dim`` is given (otherwise ``edge_attr`` must
    already have F_in columns and is added as is).

    Args:
        nn: the MLP, ``[N, F_in] -> [N, F_out]``.
        in_channels: F_in (needed to check shapes and size the edge projection).
        edge_dim: width of ``edge_attr``; ``None`` means it is already F_in (default).
        eps: initial (or fixed) :math:`\\epsilon` (default 0).
        train_eps: learn :math:`\\epsilon` (default False).

    Shapes:
        x: [N, F_in]; edge_index: [2, E] or ``SparseAdj``; edge_attr: [E, edge_dim] aligned with
        ``edge_index``; out: [N, F_out].

    Example::

        conv = GINEConv(nn.Linear(16, 8), in_channels=16, edge_dim=3)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]), torch.randn(2, 3))   # [3, 8]
    """

    def __init__(self, nn: nn.Module, in_channels: int, edge_dim: int | None = None, eps: float = 0.0,
                 train_eps: bool = False):
        super().__init__(aggr="sum")
        self.nn = _check_mlp(nn)
        _register_eps(self, eps, train_eps)
        self.in_channels, self.edge_dim = in_channels, edge_dim
        self.lin_edge = None if edge_dim is None else torch.nn.Linear(edge_dim, in_channels)

    def reset_parameters(self) -> None:
        _reset(self.nn, self)
        if self.lin_edge is not None:
            self.lin_edge.reset_parameters()

    def message(self, x_src: torch.Tensor, x_dst, edge_attr: torch.Tensor) -> torch.Tensor:
        """``ReLU(h_u + W_e e_uv + b_e)``: ``[E, F_in]``."""
        e = edge_attr if self.lin_edge is None else self.lin_edge(edge_attr)   # [E, F_in]
        return torch.relu(x_src + e)

    def update(self, h_neigh: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``MLP((1 + eps) h_v + h_neigh)``: ``[N, F_out]``."""
        return self.nn((1 + self.eps) * x + h_neigh)

    def forward(self, x: torch.Tensor, edge_index, edge_attr: torch.Tensor) -> torch.Tensor:
        _check_x("GINEConv", x)
        if x.size(1) != self.in_channels:
            raise ValueError(f"GINEConv expects x of shape [N, {self.in_channels}] (got {list(x.shape)})")
        adj = ops.as_adj(edge_index, x.size(0))
        width = self.in_channels if self.edge_dim is None else self.edge_dim
        if edge_attr is None or edge_attr.dim() != 2 or edge_attr.shape != (adj.num_edges, width):
            got = None if edge_attr is None else list(edge_attr.shape)
            raise ValueError(f"GINEConv expects edge_attr of shape [E, {width}] = [{adj.num_edges}, {width}] "
                             f"(got {got}); set edge_dim to the width of your edge features")
        return self.propagate(adj, x, edge_attr=edge_attr)                  # [N, F_out]

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, edge_dim={self.edge_dim}, eps={self.initial_eps}, "
                f"train_eps={self.train_eps}")
