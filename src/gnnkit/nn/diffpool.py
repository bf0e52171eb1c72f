"""DiffPool: differentiable hierarchical pooling on the padded dense form (Ying et al. 2018).

Ying, You, Morris, Ren, Hamilton & Leskovec, "Hierarchical Graph Representation Learning with
Differentiable Pooling", NeurIPS 2018, https://arxiv.org/abs/1806.08804 (Section 3.2, Eq. 3-5;
auxiliary objectives Section 3.3). Released code: https://github.com/RexYing/diffpool
(``encoders.py``, ``SoftPoolingGcnEncoder``).

Everything here works on a batch of B graphs padded to ``N_max`` nodes
(:func:`gnnkit.ops.to_dense_batch`, :func:`gnnkit.ops.to_dense_adj`) with a node ``mask``
``[B, N_max]``; padded nodes get zero features, zero assignment and contribute nothing.

- :class:`DenseSAGEConv`: GraphSAGE-mean on the dense form (the GNNs inside DiffPool).
- :func:`diff_pool`: the coarsening ``X' = S^T Z``, ``A' = S^T A S`` and the two auxiliary terms
  for a given assignment ``S`` (learned, or fixed as in DiffPool-DET).
- :class:`DiffPool`: the layer, ``S = softmax(GNN_pool(A, X))``, ``Z = GNN_embed(A, X)``.
- :func:`metis_assignment`: a deterministic one-hot ``S`` from a METIS partition (DiffPool-DET).
- :func:`diff_pool_flat` and ``DenseSAGEConv.forward_flat``: the same first level on a batch's
  unpadded nodes and its sparse block-diagonal adjacency (the fast path; the padded form is its
  reference, tested equal). A padded batch of graphs up to ``N_max`` nodes costs ``B N_max^2`` per
  dense product; the unpadded one ``E`` per neighbour sum and ``sum_b n_b^2`` for the
  link-prediction term. Measured on one thread, quiet machine: a PROTEINS epoch 2.8 s against 8.0 s
  padded and 7.4 s for torch_geometric's dense recipe (``benchmarks/bench_diffpool.py --epoch``,
  docs/benchmarks.md); D&D's first five batches (graphs up to 1,000 nodes, two levels) 4.2 s against
  10.0 s, both under the same load.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import ops

LINK_LOSSES = ("frobenius", "bce", None)
EPS = 1e-7   # RexYing/diffpool encoders.py, SoftPoolingGcnEncoder.loss: eps = 1e-7 inside the logs


def _check_dense(x: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None, name: str = "x"):
    if x.dim() != 3:
        raise ValueError(f"{name} must be padded dense [B, N_max, F] (got shape {list(x.shape)}); "
                         "use ops.to_dense_batch(batch.x, batch.batch) first")
    B, N = x.shape[:2]
    if adj.shape != (B, N, N):
        raise ValueError(f"adj must have shape [B, N_max, N_max] = {[B, N, N]} (got {list(adj.shape)}); "
                         "use ops.to_dense_adj with the same batch and max_num_nodes")
    if mask is not None and mask.shape != (B, N):
        raise ValueError(f"mask must have shape [B, N_max] = {[B, N]} (got {list(mask.shape)})")


class DenseSAGEConv(nn.Module):
    """GraphSAGE-mean on padded dense adjacencies (Hamilton, Ying & Leskovec 2017,
    https://arxiv.org/abs/1706.02216, Algorithm 1 with the mean aggregator), as DiffPool's GNNs:

    .. math::
        h_v' = W_{self} h_v + W_{neigh} \\frac{1}{\\max(1, |N(v)|)} \\sum_{u} A_{vu} h_u + b, \\qquad
        h_v' \\leftarrow h_v' / \\lVert h_v' \\rVert_2 \\;(\\text{if normalize})

    ``A_{vu}`` is the (weighted) adjacency, row = target; on a pooled graph :math:`A' = S^T A S`
    the "degree" is the row sum :math:`\\sum_u A'_{vu}`, so the mean is a weighted mean. Padded
    rows (``mask`` False) come out as 0.

    Args:
        in_channels, out_channels: F_in, F_out.
        normalize: L2-normalise each output row (DiffPool's embeddings are, Section 4.1).
        bias: learn ``b`` (default True).

    Shapes: x [B, N, F_in], adj [B, N, N], mask [B, N] (optional); out [B, N, F_out].

    Example::

        conv = DenseSAGEConv(3, 8, normalize=True)
        out = conv(torch.randn(2, 5, 3), torch.ones(2, 5, 5))     # [2, 5, 8]
    """

    def __init__(self, in_channels: int, out_channels: int, normalize: bool = False, bias: bool = True):
        super().__init__()
        self.in_channels, self.out_channels, self.normalize = in_channels, out_channels, normalize
        self.lin_self = nn.Linear(in_channels, out_channels, bias=bias)
        self.lin_neigh = nn.Linear(in_channels, out_channels, bias=False)

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, normalize={self.normalize}"

    def forward(self, x: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        _check_dense(x, adj, mask)
        if x.size(-1) != self.in_channels:
            raise ValueError(f"DenseSAGEConv expects {self.in_channels} input features (got {x.size(-1)})")
        deg = adj.sum(-1, keepdim=True).clamp(min=1)                         # [B, N, 1]
        h_neigh = torch.bmm(adj, x) / deg                                    # [B, N, F_in]
        h = self.lin_self(x) + self.lin_neigh(h_neigh)                       # [B, N, F_out]
        if self.normalize:
            h = F.normalize(h, p=2.0, dim=-1)
        if mask is not None:
            h = h * mask.unsqueeze(-1).to(h.dtype)                           # padded rows -> 0
        return h

    def forward_flat(self, x: torch.Tensor, adj: ops.SparseAdj) -> torch.Tensor:
        """The same layer on unpadded node rows ``x [N, F_in]`` (a batch's nodes, graph by graph) and
        their sparse adjacency (block-diagonal for a batch): the neighbour sum is one SpMM over the
        ``E`` edges instead of a ``[B, N_max, N_max]`` product. Equals :meth:`forward` on the padded
        form, row for row (tested)."""
        if x.dim() != 2 or x.size(0) != adj.num_nodes:
            raise ValueError(f"forward_flat expects x of shape [N, F] with N = adj.num_nodes = {adj.num_nodes} "
                             f"(got {list(x.shape)})")
        if x.size(-1) != self.in_channels:
            raise ValueError(f"DenseSAGEConv expects {self.in_channels} input features (got {x.size(-1)})")
        deg = adj.in_degree().clamp(min=1).to(x.dtype).unsqueeze(-1)        # [N, 1] edges in, counted
        h = self.lin_self(x) + self.lin_neigh(ops.spmm(adj, x) / deg)       # [N, F_out]
        return F.normalize(h, p=2.0, dim=-1) if self.normalize else h


def _link_terms(adj: torch.Tensor, pred: torch.Tensor, kind: str) -> torch.Tensor:
    """Per entry of one or more adjacencies: ``(A - S S^T)^2`` (``'frobenius'``) or the released
    code's binary cross-entropy of ``A`` against ``min(S S^T, 1)`` (``'bce'``); ``pred = S S^T``."""
    if kind == "frobenius":
        return (adj - pred) ** 2
    pred = pred.clamp(max=1.0)
    return -adj * torch.log(pred + EPS) - (1 - adj) * torch.log(1 - pred + EPS)


def link_prediction_loss(adj: torch.Tensor, s: torch.Tensor, mask: torch.Tensor | None = None,
                         kind: str = "frobenius") -> torch.Tensor:
    """The auxiliary link-prediction term of DiffPool (Section 3.3), normalised as the released code.

    - ``'frobenius'`` (the paper's equation): :math:`\\lVert A - S S^T \\rVert_F / \\sum_b n_b^2`;
    - ``'bce'`` (the released code, ``SoftPoolingGcnEncoder.loss``): with
      :math:`P = \\min(S S^T, 1)`, :math:`\\sum_{b, u, v \\text{ real}} -A_{uv} \\log(P_{uv} + \\epsilon)
      - (1 - A_{uv}) \\log(1 - P_{uv} + \\epsilon) / \\sum_b n_b^2`, :math:`\\epsilon = 10^{-7}`.
      A cross-entropy: meant for a 0/1 ``adj`` (weights above 1 make terms negative without bound;
      :class:`~gnnkit.models.DiffPoolNet` takes it on the input level only).

    Both divide by the code's ``num_entries = sum(batch_num_nodes * batch_num_nodes)``: the real
    entries of the batch's adjacencies (padded pairs count neither in the sum nor in the count).
    The Frobenius norm is taken over the whole batch at once, as one matrix. (torch_geometric's
    ``dense_diff_pool`` divides the same norm by ``adj.numel() = B N_max^2``, padding included, so its
    value depends on how the batch was padded; this one does not.)

    Shapes: adj [B, N, N], s [B, N, K] (rows of padded nodes 0), mask [B, N]; out: a scalar.
    """
    if kind not in ("frobenius", "bce"):
        raise ValueError(f"kind must be 'frobenius' or 'bce' (got {kind!r})")
    B, N = s.shape[:2]
    if mask is None:
        mask = torch.ones(B, N, dtype=torch.bool, device=s.device)
    m = mask.to(s.dtype)
    pair = m.unsqueeze(-1) * m.unsqueeze(-2)                                 # [B, N, N]
    num_entries = pair.sum().clamp(min=1)
    pred = torch.bmm(s, s.transpose(1, 2))                                   # [B, N, N]
    if kind == "frobenius":
        return torch.linalg.norm(((adj - pred) * pair).reshape(-1)) / num_entries
    return (_link_terms(adj, pred, "bce") * pair).sum() / num_entries       # [B, N, N] summed


def entropy_loss(s: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """The entropy regulariser :math:`\\frac{1}{n} \\sum_i H(S_i)` (Section 3.3), averaged over the
    real nodes of the batch; 0 for one-hot rows. Shapes: s [B, N, K], mask [B, N]; out: a scalar."""
    h = -(s * torch.log(s + 1e-15)).sum(-1)                                  # [B, N]
    if mask is None:
        return h.mean()
    m = mask.to(s.dtype)
    return (h * m).sum() / m.sum().clamp(min=1)


def diff_pool(z: torch.Tensor, adj: torch.Tensor, s: torch.Tensor, mask: torch.Tensor | None = None,
              link_loss: str | None = "frobenius", entropy: bool = True):
    """Coarsen a padded batch with the assignment ``s`` (Eq. 3-4):

    .. math::
        X' = S^T Z \\in \\mathbb{R}^{K \\times F}, \\qquad A' = S^T A S \\in \\mathbb{R}^{K \\times K}

    Args:
        z: node embeddings [B, N, F]; adj: [B, N, N]; s: assignment [B, N, K] (rows sum to 1 for
            real nodes); mask: [B, N] (padded rows of ``s`` are zeroed here, so they add nothing).
        link_loss: ``'frobenius'``, ``'bce'`` or ``None`` (see :func:`link_prediction_loss`).
        entropy: add :func:`entropy_loss`.

    Returns: ``(x' [B, K, F], adj' [B, K, K], aux)``, ``aux`` the scalar sum of the chosen terms.
    """
    _check_dense(z, adj, mask, "z")
    if s.dim() != 3 or s.shape[:2] != z.shape[:2]:
        raise ValueError(f"s must have shape [B, N_max, K] = [{z.size(0)}, {z.size(1)}, K] (got {list(s.shape)})")
    if link_loss not in LINK_LOSSES:
        raise ValueError(f"link_loss must be one of {LINK_LOSSES} (got {link_loss!r})")
    if mask is not None:
        s = s * mask.unsqueeze(-1).to(s.dtype)                              # [B, N, K], padded rows 0
    st = s.transpose(1, 2)                                                   # [B, K, N]
    x_out = torch.bmm(st, z)                                                 # [B, K, F]
    adj_out = torch.bmm(torch.bmm(st, adj), s)                               # [B, K, K]
    aux = z.new_zeros(())
    if link_loss is not None:
        aux = aux + link_prediction_loss(adj, s, mask, link_loss)
    if entropy:
        aux = aux + entropy_loss(s, mask)
    return x_out, adj_out, aux


def _flat_link_sum(pred: torch.Tensor, dst: torch.Tensor, src: torch.Tensor, kind: str) -> torch.Tensor:
    """``_link_terms(A, pred, kind).sum()`` for one graph whose ``A`` is given by its edges (``A[dst, src]``
    counts the edges, duplicates included): the sum the reference form takes, without building ``A``.

    For ``'bce'`` the sum splits into a part over every pair and a correction on the edges:
    with :math:`P = \\min(S S^T, 1)`,
    :math:`\\sum_{uv} -A_{uv} \\log(P_{uv} + \\epsilon) - (1 - A_{uv}) \\log(1 - P_{uv} + \\epsilon)
    = \\sum_{uv} -\\log(1 - P_{uv} + \\epsilon)
    - \\sum_{(v, u) \\in E} [\\log(P_{uv} + \\epsilon) - \\log(1 - P_{uv} + \\epsilon)]`,
    so the ``n x n`` work is three elementwise passes and their backward, not the dozen of the
    reference (which stays the padded form's, and the test's, :func:`_link_terms`): 1.2 against
    3.5 ms forward and backward for n = 284, K = 250 (D&D's mean size), 17 against 37 ms for
    n = 1,000, one thread. ``'frobenius'`` builds ``A`` and uses the reference."""
    n = pred.size(0)
    if kind == "frobenius":
        a = pred.new_zeros(n, n).index_put_((dst, src), pred.new_ones(dst.numel()), accumulate=True)
        return _link_terms(a, pred, kind).sum()
    p = pred.clamp(max=1.0)
    every_pair = -torch.log((1 - p) + EPS).sum()
    p_edge = p[dst, src]                                                    # one entry per edge
    on_edges = (torch.log(p_edge + EPS) - torch.log((1 - p_edge) + EPS)).sum()
    return every_pair - on_edges


def diff_pool_flat(z: torch.Tensor, adj: ops.SparseAdj, s: torch.Tensor, counts: list[int],
                   link_loss: str | None = "frobenius", entropy: bool = True):
    """:func:`diff_pool` on a batch's unpadded nodes: ``X'_b = S_b^T Z_b``, ``A'_b = S_b^T (A S)_b``
    per graph ``b`` (``A S`` one SpMM over the batch's edges), and the auxiliary terms over each
    graph's own ``n_b x n_b`` pairs (its dense ``A_b`` built from its edges): the same values as the
    padded form (tested), at ``n_b`` instead of ``N_max`` per graph.

    Args:
        z: ``[N, F]`` node embeddings, graph by graph; adj: the batch's block-diagonal adjacency
            (unweighted, as :func:`gnnkit.ops.to_dense_adj` builds the padded one);
        s: ``[N, K]`` assignment (rows sum to 1); counts: the ``B`` graphs' node counts (sum ``N``).
        link_loss, entropy: as :func:`diff_pool`.

    Returns: ``(x' [B, K, F], adj' [B, K, K], aux)``.
    """
    if z.dim() != 2 or s.dim() != 2 or s.size(0) != z.size(0) or z.size(0) != adj.num_nodes:
        raise ValueError(f"z [N, F] and s [N, K] must have one row per node of adj (N = {adj.num_nodes}; "
                         f"got z {list(z.shape)}, s {list(s.shape)})")
    if sum(counts) != z.size(0):
        raise ValueError(f"counts must add up to the batch's {z.size(0)} nodes (they add up to {sum(counts)})")
    if link_loss not in LINK_LOSSES:
        raise ValueError(f"link_loss must be one of {LINK_LOSSES} (got {link_loss!r})")
    a_s = ops.spmm(adj, s)                                                  # [N, K]  A S
    ptr = [0]
    for n in counts:
        ptr.append(ptr[-1] + n)
    edge_ptr = adj.rowptr[ptr].tolist()            # edges sorted by target: graph b's are one range
    xs, adjs, link = [], [], []
    # split, not slices: the backward of a split is one concatenation, of B slices B zero-filled [N, K]
    for b, (s_b, z_b, as_b) in enumerate(zip(s.split(counts), z.split(counts), a_s.split(counts))):
        st = s_b.t()                                                        # [K, n_b]
        xs.append(st @ z_b)                                                 # [K, F]
        adjs.append(st @ as_b)                                              # [K, K]
        if link_loss is not None:
            n, lo, (e_lo, e_hi) = counts[b], ptr[b], edge_ptr[b:b + 2]
            dst, src = adj.dst[e_lo:e_hi] - lo, adj.src[e_lo:e_hi] - lo         # graph b's edges, A[dst, src]
            link.append(_flat_link_sum(s_b @ st, dst, src, link_loss))
    aux = z.new_zeros(())
    if link_loss is not None:
        num_entries = max(sum(n * n for n in counts), 1)
        total = torch.stack(link).sum()
        aux = aux + (total.sqrt() if link_loss == "frobenius" else total) / num_entries
    if entropy:
        aux = aux + entropy_loss(s)
    return torch.stack(xs), torch.stack(adjs), aux


class DiffPool(nn.Module):
    """Differentiable pooling layer (Ying et al. 2018, https://arxiv.org/abs/1806.08804, Eq. 3-6):

    .. math::
        Z = \\mathrm{GNN}_{embed}(A, X) \\in \\mathbb{R}^{n \\times d}, \\qquad
        S = \\mathrm{softmax}(\\mathrm{GNN}_{pool}(A, X)) \\in \\mathbb{R}^{n \\times K}, \\qquad
        X' = S^T Z, \\qquad A' = S^T A S

    ``S_{ik}`` is the share of node ``i`` in cluster ``k`` (softmax over the K clusters, row-wise).
    The auxiliary terms :math:`L_{LP} = \\lVert A - S S^T \\rVert_F` (normalised by the batch's real
    adjacency entries, as the released code) and :math:`L_E = \\frac{1}{n}\\sum_i H(S_i)` are returned
    for the task to add to its loss.

    Args:
        embed: GNN_embed, called as ``embed(x, adj, mask) -> [B, N, d]``.
        pool: GNN_pool, called as ``pool(x, adj, mask) -> [B, N, K]`` (logits; K = clusters).
        link_loss: ``'frobenius'`` (default, the paper's equation), ``'bce'`` (the released code's
            binary cross-entropy on ``min(S S^T, 1)``) or ``None`` (DiffPool-NOLP).
        entropy: add the entropy term (default True).

    Shapes: x [B, N, F], adj [B, N, N], mask [B, N] -> x' [B, K, d], adj' [B, K, K], s [B, N, K], aux [].

    Example::

        layer = DiffPool(DenseSAGEConv(3, 16), DenseSAGEConv(3, 4))
        x2, adj2, s, aux = layer(torch.randn(2, 6, 3), torch.ones(2, 6, 6))   # [2, 4, 16], [2, 4, 4]
        loss = task_loss + aux
    """

    def __init__(self, embed: nn.Module, pool: nn.Module, link_loss: str | None = "frobenius",
                 entropy: bool = True):
        super().__init__()
        if link_loss not in LINK_LOSSES:
            raise ValueError(f"link_loss must be one of {LINK_LOSSES} (got {link_loss!r})")
        self.embed, self.pool, self.link_loss, self.entropy = embed, pool, link_loss, entropy

    def extra_repr(self) -> str:
        return f"link_loss={self.link_loss!r}, entropy={self.entropy}"

    def forward(self, x: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor | None = None):
        _check_dense(x, adj, mask)
        z = self.embed(x, adj, mask)                                         # [B, N, d]
        s = torch.softmax(self.pool(x, adj, mask), dim=-1)                   # [B, N, K]
        if mask is not None:
            s = s * mask.unsqueeze(-1).to(s.dtype)                          # padded nodes: no cluster
        x_out, adj_out, aux = diff_pool(z, adj, s, mask, self.link_loss, self.entropy)
        return x_out, adj_out, s, aux


_METIS_CACHE: "OrderedDict[bytes, list[int]]" = OrderedDict()
_METIS_CACHE_SIZE = 200_000


def _metis_parts(a: np.ndarray, k: int) -> list[int]:
    """METIS ``k``-way partition of the symmetric weighted adjacency ``a`` [n, n] (zero diagonal),
    remembered by content: DiffPool-DET sees the same graphs every epoch."""
    key = hashlib.blake2b(a.tobytes() + bytes(str((a.shape[0], k)), "ascii"), digest_size=16).digest()
    parts = _METIS_CACHE.get(key)
    if parts is not None:
        _METIS_CACHE.move_to_end(key)
        return parts
    import pymetis

    n = a.shape[0]
    if k < 2 or not (a > 0).any():
        parts = [i % k for i in range(n)] if k > 1 else [0] * n
    else:
        rows, cols = np.nonzero(a)                                           # sorted by row
        xadj = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=xadj[1:])
        w = a[rows, cols]
        w = np.maximum(np.rint(w / w.min()), 1).astype(np.int64)            # METIS wants int weights
        _, parts = pymetis.part_graph(k, pymetis.CSRAdjacency(xadj.tolist(), cols.tolist()), eweights=w.tolist())
        parts = list(parts)
    _METIS_CACHE[key] = parts
    if len(_METIS_CACHE) > _METIS_CACHE_SIZE:
        _METIS_CACHE.popitem(last=False)
    return parts


def metis_assignment(adj: torch.Tensor, mask: torch.Tensor | None, num_clusters: int) -> torch.Tensor:
    """DiffPool-DET's fixed assignment: a one-hot ``S`` [B, N, K] from a METIS partition of each graph.

    Ying et al. (Section 4.2) use a deterministic graph clustering (Graclus); here each graph is
    cut by METIS (``pymetis.part_graph``, its default fixed seed, so the same graph always gets the
    same clusters) into ``min(num_clusters, n_b)`` parts, weighted by the (symmetrised) adjacency.
    A graph without edges is dealt round-robin; padded rows are 0. Partitions are remembered by the
    graph's content (an LRU of 200,000 graphs), as the same graphs come back every epoch.

    Shapes: adj [B, N, N], mask [B, N]; out [B, N, num_clusters] (float, no gradient).
    """
    try:
        import pymetis  # noqa: F401
    except ImportError as e:  # pragma: no cover - pymetis is a core dependency
        raise ImportError("DiffPool-DET needs pymetis: pip install pymetis") from e
    if num_clusters < 1:
        raise ValueError(f"num_clusters must be >= 1 (got {num_clusters})")
    B, N = adj.shape[:2]
    counts = mask.sum(-1).tolist() if mask is not None else [N] * B
    out = torch.zeros(B, N, num_clusters, dtype=adj.dtype, device=adj.device)
    sym = (adj + adj.transpose(1, 2)).detach().cpu().double().numpy()
    for b, n in enumerate(counts):
        n = int(n)
        if n == 0:
            continue
        a = sym[b, :n, :n].copy()
        np.fill_diagonal(a, 0.0)
        parts = _metis_parts(a, min(num_clusters, n))
        out[b, torch.arange(n, device=adj.device), torch.as_tensor(parts, dtype=torch.long, device=adj.device)] = 1.0
    return out
