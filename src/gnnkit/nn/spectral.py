"""Spectral graph convolutions: SpectralConv (Bruna et al., 2014), ChebConv
(Defferrard et al., 2016) and GCNConv (Kipf & Welling, 2017).

All three filter a graph signal with a function of the graph Laplacian. The
graph-dependent matrices (eigenvectors, scaled Laplacian, normalized adjacency)
are built once per graph and cached on its ``SparseAdj`` (``graph.adj()``), so
passing the adjacency instead of ``edge_index`` pays for them once.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gnnkit import ops
from gnnkit.ops.checks import check_allocation, check_node_features, format_bytes
from gnnkit.nn.init import glorot_


def _reset_glorot(layer: nn.Module) -> None:
    """Glorot-uniform ``layer.weight`` (fans ``in_channels``, ``out_channels``), zero ``layer.bias``."""
    glorot_(layer.weight, fan_in=layer.in_channels, fan_out=layer.out_channels)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)


def _graph_ptr(batch: torch.Tensor | None, ptr: torch.Tensor | None, num_nodes: int,
               device: torch.device) -> torch.Tensor:
    """``[B + 1]`` node offsets of the graphs in a batch (one graph when both are None), on ``device``."""
    if ptr is not None:
        if ptr.dim() != 1 or int(ptr[0]) != 0 or int(ptr[-1]) != num_nodes:
            raise ValueError(f"ptr must be [B + 1] offsets from 0 to N = {num_nodes} (got {ptr.tolist()})")
        return ptr.to(device)
    if batch is None:
        return torch.tensor([0, num_nodes], device=device)
    if batch.shape != (num_nodes,) or (batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any())):
        raise ValueError(f"batch must be a sorted [N] = [{num_nodes}] graph-id vector, as Batch.batch is")
    batch = batch.to(device)
    counts = torch.bincount(batch) if batch.numel() else torch.zeros(0, dtype=torch.long, device=device)
    return torch.cat([torch.zeros(1, dtype=torch.long, device=device), torch.cumsum(counts, 0)])


def _float64_weight(adj: ops.SparseAdj) -> torch.Tensor:
    """``[E]`` edge weights (fixed, not learned) in float64, so cached Laplacians are exact."""
    if adj.weight is None:
        return torch.ones(adj.num_edges, dtype=torch.float64, device=adj.src.device)
    return adj.weight.detach().double()


def _node_graph(ptr: torch.Tensor) -> torch.Tensor:
    """``[N]`` graph id of every node, from ``ptr`` (on ``ptr``'s device)."""
    return torch.repeat_interleave(torch.arange(ptr.numel() - 1, device=ptr.device), ptr[1:] - ptr[:-1])


class SpectralConv(nn.Module):
    """Spectral graph convolution with diagonal filters in the Laplacian eigenbasis.

    Bruna, Zaremba, Szlam & LeCun, "Spectral Networks and Locally Connected
    Networks on Graphs", ICLR 2014, https://arxiv.org/abs/1312.6203 (Sec. 3.2)

    .. math::
        x'_o = \\sum_{i=1}^{F_{in}} U_k \\, \\mathrm{diag}(\\theta_{i,o}) \\, U_k^\\top x_i + b_o,
        \\qquad L = I - D^{-1/2} A D^{-1/2} = U \\Lambda U^\\top

    :math:`x_i \\in \\mathbb{R}^N` is input channel :math:`i`, :math:`U_k` the
    :math:`N \\times k` eigenvectors of the :math:`k` smallest eigenvalues of the
    normalized Laplacian (the smooth "low frequencies"), and
    :math:`\\theta_{i,o} \\in \\mathbb{R}^k` the learnable diagonal filter of the
    channel pair :math:`(i, o)`. The eigendecomposition (dense, :math:`O(N^3)`) is
    computed once per graph and cached on its ``SparseAdj``.

    The filters are coefficients on *one* graph's eigenvectors, so the layer is
    built for graphs of ``num_nodes`` nodes and refuses others (the paper's
    setting: one fixed graph, many signals). A ``Batch`` of such graphs works when
    ``ptr`` (or ``batch``) is passed: every graph gets its own eigenbasis.
    The graph must be undirected (symmetric Laplacian); edge weights enter the
    eigendecomposition as constants (no gradient reaches them).

    Args:
        in_channels: F_in.
        out_channels: F_out.
        num_nodes: N, the size of the graph(s) the filters belong to.
        k: number of eigenvectors kept, ``1 <= k <= num_nodes`` (default: all).
        bias: add a learnable bias (default True).
        max_dense_bytes: refuse at construction when one graph's dense float64 Laplacian and
            eigenvectors (:math:`2 \\cdot 8 N^2` bytes) exceed this (default 2 GiB, about
            N = 11,500; the :math:`O(N^3)` eigendecomposition is the other cost). Raise it to allow more.

    ``x`` must be dense: the eigenbasis products are dense (a sparse ``x`` is refused with the size
    ``x.to_dense()`` would take).

    Shapes:
        x: [N, F_in] (or [B * N, F_in] with ``ptr``); edge_index: [2, E] or ``SparseAdj``;
        edge_weight: [E]; ptr: [B + 1]; out: [N, F_out].

    Example::

        conv = SpectralConv(2, 4, num_nodes=3, k=2)
        out = conv(torch.randn(3, 2), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, num_nodes: int, k: int | None = None,
                 bias: bool = True, max_dense_bytes: int = 2 ** 31):
        super().__init__()
        k = num_nodes if k is None else k
        if not 1 <= k <= num_nodes:
            raise ValueError(f"k must be in [1, num_nodes={num_nodes}] (got {k}); it counts kept eigenvectors")
        dense = 2 * 8 * num_nodes * num_nodes
        if dense > max_dense_bytes:
            raise ValueError(
                f"SpectralConv(num_nodes={num_nodes:,}) needs the dense {num_nodes:,} x {num_nodes:,} Laplacian and "
                f"its eigenvectors in float64, {format_bytes(dense)} per graph, and an O(N^3) eigendecomposition; "
                f"that is over max_dense_bytes={format_bytes(max_dense_bytes)}. Use ChebConv or GCNConv (sparse, "
                "linear in E) for a graph this large, or pass a larger max_dense_bytes")
        self.in_channels, self.out_channels, self.num_nodes, self.k = in_channels, out_channels, num_nodes, k
        self.weight = nn.Parameter(torch.empty(k, in_channels, out_channels))   # theta[j, i, o]
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_glorot(self)

    def eigenvectors(self, adj: ops.SparseAdj, ptr: torch.Tensor) -> torch.Tensor:
        """``[B, N, k]`` float64 eigenvectors of each graph's normalized Laplacian, cached on ``adj``."""
        def build(a: ops.SparseAdj) -> torch.Tensor:
            B, n = ptr.numel() - 1, self.num_nodes
            graph_of = _node_graph(ptr)
            src, dst = a.src, a.dst
            if bool((graph_of[src] != graph_of[dst]).any()):
                raise ValueError("an edge joins two graphs of the batch; ptr does not match edge_index")
            ei, w = ops.laplacian(a.edge_index, a.num_nodes, _float64_weight(a), "sym")
            L = torch.zeros(B, n, n, dtype=torch.float64, device=w.device)    # [B, N, N]
            g = graph_of[ei[1]]
            L.index_put_((g, ei[1] - ptr[g], ei[0] - ptr[g]), w, accumulate=True)
            if not torch.allclose(L, L.transpose(1, 2), atol=1e-10):
                raise ValueError("SpectralConv needs an undirected graph (a symmetric Laplacian); "
                                 "add the reverse edges with ops.to_undirected(edge_index)")
            _, U = torch.linalg.eigh(L)                                       # ascending eigenvalues
            return U[:, :, :self.k]                                           # [B, N, k]
        return adj.cached(("spectral_eigenvectors", self.num_nodes, self.k, tuple(ptr.tolist())), build)

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None,
                ptr: torch.Tensor | None = None, batch: torch.Tensor | None = None) -> torch.Tensor:
        check_node_features(x, self.in_channels, type(self).__name__)
        if x.layout != torch.strided:
            raise ValueError(f"SpectralConv needs dense x (got layout {x.layout}): the eigenbasis products are dense; "
                             f"x.to_dense() would take {format_bytes(x.size(0) * x.size(1) * x.element_size())} "
                             f"({x.size(0):,} x {x.size(1):,} {x.dtype})")
        ptr = _graph_ptr(batch, ptr, x.size(0), x.device)
        check_allocation(2 * 8 * (ptr.numel() - 1) * self.num_nodes ** 2,
                         f"SpectralConv's dense Laplacians and eigenvectors of {ptr.numel() - 1} graph(s) of "
                         f"{self.num_nodes:,} nodes (float64)", "pass fewer graphs at once, or use ChebConv")
        sizes = (ptr[1:] - ptr[:-1]).tolist()
        if any(s != self.num_nodes for s in sizes):
            hint = ("; for a Batch of graphs of that size pass ptr=batch.ptr" if len(sizes) == 1
                    and x.size(0) % self.num_nodes == 0 else "")
            raise ValueError(
                f"SpectralConv was built for graphs of {self.num_nodes} nodes but got graph sizes {sizes}: its "
                f"filters are coefficients on the first {self.k} Laplacian eigenvectors of a {self.num_nodes}-node "
                f"graph and do not transfer to a graph of another size (Bruna et al., 2014); use ChebConv or "
                f"GCNConv for graphs of varying size{hint}")
        adj = ops.as_adj(edge_index, x.size(0), edge_weight)
        U = self.eigenvectors(adj, ptr).to(x.dtype)                          # [B, N, k]
        x_hat = U.transpose(1, 2) @ x.view(-1, self.num_nodes, self.in_channels)   # [B, k, F_in]
        y_hat = torch.einsum("bji,jio->bjo", x_hat, self.weight)              # [B, k, F_out]
        out = (U @ y_hat).reshape(x.size(0), self.out_channels)               # [N, F_out]
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, num_nodes={self.num_nodes}, k={self.k}, "
                f"bias={self.bias is not None}")


class ChebConv(nn.Module):
    """Chebyshev spectral graph convolution (ChebNet).

    Defferrard, Bresson & Vandergheynst, "Convolutional Neural Networks on
    Graphs with Fast Localized Spectral Filtering", NeurIPS 2016,
    https://arxiv.org/abs/1606.09375

    .. math::
        X' = \\sum_{k=0}^{K-1} T_k(\\tilde L) \\, X \\, \\Theta_k + b, \\qquad
        \\tilde L = \\frac{2 L}{\\lambda_{max}} - I,

        T_0 = X, \\quad T_1 = \\tilde L X, \\quad T_k = 2 \\tilde L \\, T_{k-1} - T_{k-2}

    :math:`L` is the Laplacian (``normalization``: ``'sym'`` :math:`I - D^{-1/2} A D^{-1/2}`,
    ``'rw'`` :math:`I - D^{-1} A`, ``None`` :math:`D - A`), :math:`\\lambda_{max}` its
    largest eigenvalue (given, or computed once per graph, per graph of a batch when
    ``batch``/``ptr`` is passed; a graph with :math:`L = 0` gets :math:`\tilde L = -I`), :math:`\\Theta_k` an :math:`F_{in} \\times F_{out}`
    matrix. Each :math:`\\tilde L` product is one SpMM; the filter is K-1 hops local.
    Edge weights enter the cached :math:`\\tilde L` as constants (no gradient reaches them).
    When :math:`F_{out} < F_{in}` the same sum is evaluated on the narrower
    :math:`X \\Theta_k` by the Clenshaw form of the recurrence
    (:math:`B_k = X\\Theta_k + 2\\tilde L B_{k+1} - B_{k+2}`,
    :math:`X' = X\\Theta_0 + \\tilde L B_1 - B_2`), which is exactly equal.

    Args:
        in_channels: F_in.
        out_channels: F_out.
        K: filter size, number of Chebyshev terms (``K >= 1``; K-1 hops).
        normalization: ``'sym'`` (default), ``'rw'`` or ``None``.
        lambda_max: :math:`\\lambda_{max}`; ``None`` (default) computes it per graph
            (cached on the ``SparseAdj``). ``2.0`` is an upper bound for ``'sym'``.
        bias: add a learnable bias (default True).

    Shapes:
        x: [N, F_in], dense or sparse (CSR / COO: multiplied by the Theta_k first); edge_index: [2, E]
        or ``SparseAdj``; edge_weight: [E]; batch: [N] or ptr: [B + 1] (optional); out: [N, F_out].

    Example::

        conv = ChebConv(16, 4, K=3)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, K: int, normalization: str | None = "sym",
                 lambda_max: float | None = None, bias: bool = True):
        super().__init__()
        if K < 1:
            raise ValueError(f"K must be >= 1 (got {K}); K = 1 is a plain linear layer, K = 3 looks 2 hops away")
        if normalization not in ("sym", "rw", None):
            raise ValueError(f"normalization must be 'sym', 'rw' or None (got {normalization!r})")
        if lambda_max is not None and lambda_max <= 0:
            raise ValueError(f"lambda_max must be > 0 (got {lambda_max})")
        self.in_channels, self.out_channels, self.K = in_channels, out_channels, K
        self.normalization, self.lambda_max = normalization, lambda_max
        self.weight = nn.Parameter(torch.empty(K, in_channels, out_channels))   # Theta_k
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_glorot(self)

    def scaled_laplacian(self, adj: ops.SparseAdj, ptr: torch.Tensor) -> ops.SparseAdj:
        """:math:`\\tilde L = 2L/\\lambda_{max} - I` as a ``SparseAdj``, cached on ``adj``."""
        def build(a: ops.SparseAdj) -> ops.SparseAdj:
            ei, w = ops.laplacian(a.edge_index, a.num_nodes, _float64_weight(a), self.normalization)
            graph_of = _node_graph(ptr)                                                 # [N]
            if ptr.numel() > 2 and bool((graph_of[ei[0]] != graph_of[ei[1]]).any()):
                raise ValueError("an edge joins two graphs of the batch; batch / ptr does not match edge_index")
            lam = torch.empty(ptr.numel() - 1, dtype=w.dtype, device=w.device)    # [B]
            for b in range(lam.numel()):
                lam[b] = self.lambda_max or self._largest_eigenvalue(ei, w, int(ptr[b]), int(ptr[b + 1]))
            lam[lam <= 1e-12] = 1.0   # L = 0 (no edges, or self loops only): every lambda gives L~ = -I
            scale = (2.0 / lam)[graph_of]                                           # [N] 2 / lambda_max
            w = w * scale[ei[1]] - (ei[0] == ei[1]).to(w.dtype)   # L~ = 2L/lambda_max - I (L lists every L_ii)
            return ops.SparseAdj(ei, a.num_nodes, w)
        key = ("cheb_laplacian", self.normalization, self.lambda_max, tuple(ptr.tolist()))
        return adj.cached(key, build)

    @staticmethod
    def _largest_eigenvalue(ei: torch.Tensor, w: torch.Tensor, start: int, end: int) -> float:
        """lambda_max of the block of nodes [start, end); ``ei`` is sorted by source (coalesced)."""
        lo, hi = torch.searchsorted(ei[0], torch.tensor([start, end], device=ei.device)).tolist()
        return ops.largest_eigenvalue(ei[:, lo:hi] - start, w[lo:hi], end - start)

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None,
                batch: torch.Tensor | None = None, ptr: torch.Tensor | None = None) -> torch.Tensor:
        check_node_features(x, self.in_channels, type(self).__name__)
        if self.lambda_max is not None:   # one given lambda_max: the graphs of a batch need no telling apart
            batch = ptr = None
        ptr = _graph_ptr(batch, ptr, x.size(0), x.device)
        L = self.scaled_laplacian(ops.as_adj(edge_index, x.size(0), edge_weight), ptr)
        if self.out_channels < self.in_channels or x.layout != torch.strided:   # sparse x: product first
            out = self._clenshaw(L, x)                                        # [N, F_out]
        else:
            out = self._recurrence(L, x)                                      # [N, F_out]
        if self.bias is not None:
            out = out + self.bias
        return out

    def _recurrence(self, L: ops.SparseAdj, x: torch.Tensor) -> torch.Tensor:
        """The paper's order: T_k = T_k(L~) X by the recurrence, each times its Theta_k."""
        T_prev, T = x, x                                                      # T_0 = X
        out = x @ self.weight[0]                                              # [N, F_out]
        for k in range(1, self.K):
            T_prev, T = T, (ops.spmm(L, T) if k == 1 else 2 * ops.spmm(L, T) - T_prev)  # T_1 = L~ X, T_k
            out = torch.addmm(out, T, self.weight[k])                         # out + T_k Theta_k
        return out

    def _clenshaw(self, L: ops.SparseAdj, x: torch.Tensor) -> torch.Tensor:
        """The same sum, run backwards on the narrow X Theta_k (Clenshaw's algorithm)."""
        Y = ops.matmul(x, self.weight.permute(1, 0, 2).reshape(self.in_channels, -1)).view(
            x.size(0), self.K, self.out_channels).unbind(1)                    # K x [N, F_out]
        b1 = b2 = torch.zeros_like(Y[0])
        for k in range(self.K - 1, 0, -1):
            b1, b2 = Y[k] + 2 * ops.spmm(L, b1) - b2, b1                      # B_k
        return Y[0] + ops.spmm(L, b1) - b2 if self.K > 1 else Y[0]             # X' = X Theta_0 + L~ B_1 - B_2

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, K={self.K}, normalization={self.normalization!r}, "
                f"lambda_max={self.lambda_max}, bias={self.bias is not None}")


class GCNConv(nn.Module):
    """Graph convolution with the renormalization trick.

    Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017, https://arxiv.org/abs/1609.02907

    .. math::
        h_v' = \\sum_{u \\in N(v) \\cup \\{v\\}} \\frac{w_{uv}}{\\sqrt{\\tilde d_u \\tilde d_v}} W h_u + b,
        \\qquad \\tilde d_v = 1 + \\sum_{u \\in N(v)} w_{uv}

    i.e. :math:`H' = \\tilde D^{-1/2} \\tilde A \\tilde D^{-1/2} H W` with
    :math:`\\tilde A = A + I`; :math:`w_{uv}` are edge weights (1 by default).
    It is ChebConv with K = 2, :math:`\\lambda_{max} = 2` and :math:`\\Theta_0 = -\\Theta_1`,
    renormalized.

    Args:
        in_channels: F_in.
        out_channels: F_out.
        bias: add a learnable bias (default True).
        cached: keep the normalized adjacency of the first graph seen and reuse it
            (transductive training on one graph; default False). Passing a
            ``SparseAdj`` caches on that object instead, which is always safe.
        add_self_loops: use :math:`A + I` (default True); a self loop already in the
            graph is replaced by the one of weight 1.

    Shapes:
        x: [N, F_in], dense or sparse (CSR / COO: bag-of-words features stay sparse through ``x W``);
        edge_index: [2, E] or ``SparseAdj``; edge_weight: [E]; out: [N, F_out].

    Example::

        conv = GCNConv(16, 4)
        out = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]))   # [3, 4]
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True, cached: bool = False,
                 add_self_loops: bool = True):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.cached, self.add_self_loops = cached, add_self_loops
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self._cached_adj = None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_glorot(self)                                          # Glorot, as in the paper
        self._cached_adj = None

    def normalized_adj(self, edge_index, num_nodes: int, edge_weight=None) -> ops.SparseAdj:
        """:math:`\\hat A = \\tilde D^{-1/2} \\tilde A \\tilde D^{-1/2}` as a ``SparseAdj``."""
        if self.cached and self._cached_adj is not None:
            if self._cached_adj.num_nodes != num_nodes:
                raise ValueError(
                    f"GCNConv(cached=True) saw a graph with {self._cached_adj.num_nodes} nodes and now one with "
                    f"{num_nodes}; use cached=False for several graphs"
                )
            return self._cached_adj
        adj = ops.gcn_adj(ops.as_adj(edge_index, num_nodes, edge_weight), self.add_self_loops)
        if self.cached:
            self._cached_adj = adj
        return adj

    def forward(self, x: torch.Tensor, edge_index, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        check_node_features(x, self.in_channels, type(self).__name__)
        adj_hat = self.normalized_adj(edge_index, x.size(0), edge_weight)
        if self.in_channels < self.out_channels and x.layout == torch.strided:   # propagate the narrower side
            h = ops.spmm(adj_hat, x) @ self.weight              # [N, F_out]
        else:
            h = ops.spmm(adj_hat, ops.matmul(x, self.weight))   # [N, F_out]
        if self.bias is not None:
            h += self.bias                  # in place: h is a fresh product that no backward keeps
        return h

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, bias={self.bias is not None}, "
                f"cached={self.cached}, add_self_loops={self.add_self_loops}")
