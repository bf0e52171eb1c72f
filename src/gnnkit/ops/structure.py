"""Edge-list operations: degrees, self loops, normalizations, Laplacians,
undirected/coalesce, subgraphs, negative sampling, edge dropout.

Matrices here are in *target-aggregation* form: ``A[dst, src] = w`` for an edge
``src -> dst``, so ``A @ X`` sums each node's incoming messages. Degrees are
(weighted) in-degrees. For undirected graphs this is the usual adjacency.
"""
from __future__ import annotations

import torch

from gnnkit.ops.adj import SparseAdj
from gnnkit.ops.checks import check_allocation


def degree(index: torch.Tensor, num_nodes: int, weight: torch.Tensor | None = None) -> torch.Tensor:
    """``[N]`` count (or weight sum) of each value in ``index`` (pass ``edge_index[1]`` for in-degrees)."""
    check_allocation(8 * num_nodes, f"the degree vector of num_nodes={num_nodes:,}")
    if weight is None:
        return torch.bincount(index, minlength=num_nodes).float()
    return torch.zeros(num_nodes, dtype=weight.dtype, device=index.device).index_add_(0, index, weight)


def remove_self_loops(edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None):
    """Drop edges ``i -> i``. Returns ``(edge_index, edge_attr)``."""
    keep = edge_index[0] != edge_index[1]
    return edge_index[:, keep], (None if edge_attr is None else edge_attr[keep])


def add_self_loops(edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None,
                   fill_value: float = 1.0):
    """Remove existing self loops and add one loop per node with weight ``fill_value``.
    Returns ``(edge_index, edge_weight)`` (``edge_weight`` is ``None`` if none was given)."""
    edge_index, edge_weight = remove_self_loops(edge_index, edge_weight)
    loop = torch.arange(num_nodes, device=edge_index.device)
    edge_index = torch.cat([edge_index, torch.stack([loop, loop])], 1)
    if edge_weight is not None:
        fill = torch.full((num_nodes,) + tuple(edge_weight.shape[1:]), fill_value,
                          dtype=edge_weight.dtype, device=edge_weight.device)
        edge_weight = torch.cat([edge_weight, fill], 0)
    return edge_index, edge_weight


def gcn_norm(edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None,
             add_loops: bool = True):
    """The renormalization trick of Kipf & Welling (2017).

    .. math::
        \\hat A = \\tilde D^{-1/2} (A + I) \\tilde D^{-1/2}, \\qquad \\tilde D_{ii} = \\sum_j (A + I)_{ij}

    Returns ``(edge_index, edge_weight)`` of :math:`\\hat A` (self loops included
    when ``add_loops``). Nodes of degree 0 get weight 0, never inf.

    Negative edge weights are refused: :math:`\tilde D^{-1/2}` is undefined for a negative
    degree, and a weight of -1 beside the self loop makes a degree 0, which silently zeroes the
    node's output. Duplicated edges are counted (their weights add up), as in PyG.
    """
    _check_non_negative(edge_weight, "GCN normalisation D^-1/2 (A + I) D^-1/2")
    if edge_weight is None:   # float64, so float64 models get full precision; spmm casts to x's dtype
        edge_weight = torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    if add_loops:
        edge_index, edge_weight = add_self_loops(edge_index, num_nodes, edge_weight, 1.0)
    src, dst = edge_index
    deg = degree(dst, num_nodes, edge_weight)
    inv_sqrt = deg.pow(-0.5)
    inv_sqrt = inv_sqrt.masked_fill(torch.isinf(inv_sqrt), 0.0)
    return edge_index, inv_sqrt[src] * edge_weight * inv_sqrt[dst]


def _check_non_negative(edge_weight: torch.Tensor | None, what: str) -> None:
    """Refuse negative (or NaN) edge weights where ``what`` takes D^-1/2 or D^-1 of the degrees."""
    if edge_weight is None or edge_weight.numel() == 0:
        return
    bad = ~(edge_weight.detach() >= 0)
    if bool(bad.any()):
        first = int(bad.reshape(-1).nonzero()[0])
        raise ValueError(f"{what} needs non-negative edge weights, got {int(bad.sum())} negative or NaN "
                         f"(first: edge {first}, weight {float(edge_weight.reshape(-1)[first])}): the degree "
                         "normalisation takes D^-1/2, undefined for a negative degree, and a degree that sums to "
                         "0 silently zeroes the node; use weights >= 0 (e.g. edge_weight.abs() or .exp()) "
                         "or a layer without degree normalisation")


def gcn_adj(adj: SparseAdj, add_loops: bool = True) -> SparseAdj:
    """:func:`gcn_norm` of a ``SparseAdj``, built once and cached on it (negative weights refused)."""
    def build(a: SparseAdj) -> SparseAdj:
        _check_non_negative(a.weight, "GCN normalisation D^-1/2 (A + I) D^-1/2")
        looped = a.with_self_loops(1.0) if add_loops else a                  # stays sorted: no re-sort
        if a.lean and a.weight is None:
            return _gcn_adj_unweighted(looped, torch.get_default_dtype())
        w = looped.weight
        if w is None:
            return _gcn_adj_unweighted(looped, torch.float64)
        inv_sqrt = degree(looped.dst, a.num_nodes, w).pow(-0.5)
        inv_sqrt = inv_sqrt.masked_fill(torch.isinf(inv_sqrt), 0.0)
        return looped.with_weight(inv_sqrt.index_select(0, looped.src) * w * inv_sqrt.index_select(0, looped.dst))
    return adj.cached(("gcn_norm", add_loops), build)


def _gcn_adj_unweighted(looped: SparseAdj, dtype: torch.dtype) -> SparseAdj:
    """:func:`gcn_adj`'s weights ``s[row] * s[col]``, ``s = deg^-1/2``, for an unweighted adjacency,
    from its CSR: the degrees are the row lengths and ``s[row]`` is ``s`` repeated along each row, so
    no int64 ``dst`` array is built. ``s`` is taken in float64 and rounded once to ``dtype``:

    - float64 (the ``edge_index`` path): the same numbers, bit for bit, as the weighted path with
      all-one weights (``(s[src] * 1) * s[dst]``; tested);
    - float32 (a lean ``SparseAdj.from_csr`` adjacency): one float32 product per entry, within
      float32 rounding of the float64 path (tested), no float64 array of the edges' length kept.

    The product is symmetric in (row, col), so on a symmetric pattern the result is
    :attr:`~SparseAdj.symmetric` and SpMM's backward needs no transposed index."""
    counts = looped.rowptr.diff()
    deg = counts.to(torch.float64)                                             # [N] with the loop
    inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0).to(dtype)              # [N]
    w = torch.repeat_interleave(inv_sqrt, counts)                              # [E] s[row]
    w.mul_(inv_sqrt.index_select(0, looped.csr_index().col))                   # * s[col]
    return looped._with_symmetric_weight(w)


def laplacian(edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None,
              normalization: str | None = "sym"):
    """Graph Laplacian as an edge list (self-loop entries carry the diagonal).

    .. math::
        L = D - A \\;(\\text{None}), \\quad
        L_{sym} = I - D^{-1/2} A D^{-1/2} \\;(\\text{'sym'}), \\quad
        L_{rw} = I - D^{-1} A \\;(\\text{'rw'})

    Isolated nodes get :math:`L_{ii} = 1` in the normalized forms (their
    :math:`D^{-1/2}` is taken as 0). Returns ``(edge_index, edge_weight)``.
    """
    if normalization not in (None, "sym", "rw"):
        raise ValueError(f"normalization must be None, 'sym' or 'rw' (got {normalization!r})")
    if normalization is not None:
        _check_non_negative(edge_weight, f"the {normalization!r}-normalised Laplacian")
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    src, dst = edge_index
    deg = degree(dst, num_nodes, edge_weight)
    loop = torch.arange(num_nodes, device=edge_index.device)
    ones = torch.ones(num_nodes, dtype=edge_weight.dtype, device=edge_index.device)
    if normalization is None:
        off, diag = -edge_weight, deg
    elif normalization == "sym":
        inv_sqrt = deg.pow(-0.5).masked_fill(deg == 0, 0.0)
        off, diag = -inv_sqrt[dst] * edge_weight * inv_sqrt[src], ones
    else:
        inv = deg.pow(-1.0).masked_fill(deg == 0, 0.0)
        off, diag = -inv[dst] * edge_weight, ones
    ei = torch.cat([edge_index, torch.stack([loop, loop])], 1)
    return coalesce(ei, torch.cat([off, diag.to(off.dtype)]), num_nodes)


def scaled_laplacian(edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None,
                     lambda_max: float | None = None, normalization: str = "sym"):
    """:math:`\\tilde L = 2L/\\lambda_{max} - I`, the argument of Chebyshev filters
    (Defferrard et al., 2016). ``lambda_max`` defaults to the largest eigenvalue of
    ``L`` (computed with ``scipy.sparse.linalg.eigsh``). Returns ``(edge_index, edge_weight)``."""
    ei, w = laplacian(edge_index, num_nodes, edge_weight, normalization)
    if lambda_max is not None and lambda_max <= 0:
        raise ValueError(f"lambda_max must be > 0 (got {lambda_max}); leave it None to compute it")
    if lambda_max is None:
        lambda_max = largest_eigenvalue(ei, w, num_nodes)
    loop = torch.arange(num_nodes, device=edge_index.device)
    minus_one = -torch.ones(num_nodes, dtype=w.dtype, device=w.device)
    if lambda_max <= 1e-12:   # L = 0 (no edges, or self loops only): the limit is L~ = -I
        return torch.stack([loop, loop]), minus_one
    ei = torch.cat([ei, torch.stack([loop, loop])], 1)
    return coalesce(ei, torch.cat([2.0 * w / lambda_max, minus_one]), num_nodes)


def largest_eigenvalue(edge_index: torch.Tensor, edge_weight: torch.Tensor, num_nodes: int) -> float:
    """Largest eigenvalue (largest real part) of a matrix given as an edge list.
    Symmetric matrices use ``eigsh``; others the general ``eigs``."""
    import numpy as np
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    m = sp.coo_matrix((edge_weight.detach().cpu().double().numpy(),
                       (edge_index[1].cpu().numpy(), edge_index[0].cpu().numpy())),
                      shape=(num_nodes, num_nodes)).tocsr()
    symmetric = abs(m - m.T).max() <= 1e-12 if m.nnz else True
    if num_nodes <= 64:
        dense = m.toarray()
        return float(np.linalg.eigvalsh(dense).max() if symmetric else np.linalg.eigvals(dense).real.max())
    if symmetric:
        return float(spla.eigsh(m, k=1, which="LA", return_eigenvectors=False, tol=1e-6)[0])
    return float(spla.eigs(m, k=1, which="LR", return_eigenvectors=False, tol=1e-6)[0].real)


def coalesce(edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None, num_nodes: int | None = None,
             reduce: str = "sum"):
    """Sort edges by (src, dst) and merge duplicates, reducing their attributes with ``reduce``
    (``'sum'``, ``'mean'``, ``'max'``, ``'min'``). Returns ``(edge_index, edge_attr)``."""
    from gnnkit.ops.scatter import scatter

    if num_nodes is None:
        num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
    key = edge_index[0] * max(num_nodes, 1) + edge_index[1]
    unique, inverse = torch.unique(key, sorted=True, return_inverse=True)
    out = torch.stack([unique // max(num_nodes, 1), unique % max(num_nodes, 1)])
    if edge_attr is None:
        return out, None
    return out, scatter(edge_attr, inverse, unique.numel(), reduce)


def to_undirected(edge_index: torch.Tensor, edge_attr: torch.Tensor | None = None, num_nodes: int | None = None,
                  reduce: str = "max"):
    """Add the reverse of every edge and merge duplicates (attributes reduced with ``reduce``;
    the default ``'max'`` makes the function idempotent)."""
    ei = torch.cat([edge_index, edge_index.flip(0)], 1)
    attr = None if edge_attr is None else torch.cat([edge_attr, edge_attr], 0)
    return coalesce(ei, attr, num_nodes, reduce)


def is_undirected(edge_index: torch.Tensor, num_nodes: int) -> bool:
    a, _ = coalesce(edge_index, None, num_nodes)
    b, _ = coalesce(edge_index.flip(0), None, num_nodes)
    return a.shape == b.shape and bool((a == b).all())


def subgraph(subset: torch.Tensor, edge_index: torch.Tensor, num_nodes: int, relabel: bool = True):
    """Edges with both ends in ``subset`` (node ids or a ``[N]`` bool mask).

    Returns ``(edge_index, edge_mask)``; with ``relabel`` node ``subset[k]`` becomes ``k``.
    """
    if subset.dtype == torch.bool:
        if subset.numel() != num_nodes:
            raise ValueError(f"a boolean subset must have num_nodes={num_nodes} entries (got {subset.numel()})")
        mask = subset
        subset = mask.nonzero().view(-1)
    else:
        mask = torch.zeros(num_nodes, dtype=torch.bool, device=edge_index.device)
        mask[subset] = True
    edge_mask = mask[edge_index[0]] & mask[edge_index[1]]
    ei = edge_index[:, edge_mask]
    if relabel:
        mapping = torch.full((num_nodes,), -1, dtype=torch.long, device=edge_index.device)
        mapping[subset] = torch.arange(subset.numel(), device=edge_index.device)
        ei = mapping[ei]
    return ei, edge_mask


def k_hop_subgraph(node_idx, num_hops: int, edge_index: torch.Tensor, num_nodes: int, relabel: bool = True):
    """The nodes whose messages reach ``node_idx`` within ``num_hops`` steps, and the edges among them.

    Returns ``(subset, edge_index, mapping, edge_mask)``: ``subset`` sorted node ids,
    the induced edges (relabelled to positions in ``subset`` when ``relabel``), the
    positions of ``node_idx`` in ``subset``, and the mask of kept edges.
    """
    device = edge_index.device
    node_idx = torch.as_tensor(node_idx, dtype=torch.long, device=device).view(-1)
    src, dst = edge_index
    reached = torch.zeros(num_nodes, dtype=torch.bool, device=device)
    reached[node_idx] = True
    frontier = reached.clone()
    for _ in range(num_hops):
        hit = frontier[dst]
        new = torch.zeros(num_nodes, dtype=torch.bool, device=device)
        new[src[hit]] = True
        frontier = new & ~reached
        reached |= new
    subset = reached.nonzero().view(-1)
    ei, edge_mask = subgraph(subset, edge_index, num_nodes, relabel)
    mapping = torch.searchsorted(subset, node_idx)
    return subset, ei, mapping, edge_mask


def negative_sampling(edge_index: torch.Tensor, num_nodes: int, num_samples: int | None = None,
                      generator: torch.Generator | None = None, allow_self_loops: bool = False) -> torch.Tensor:
    """Sample ``num_samples`` distinct pairs ``(src, dst)`` that are not edges of the graph.

    Never returns an existing edge (nor a self loop unless ``allow_self_loops``).
    Raises ``ValueError`` if the graph has fewer non-edges than asked for. Samples are drawn
    on ``edge_index``'s device, so a ``generator`` must live there too.
    """
    device = edge_index.device
    if num_samples is None:
        num_samples = edge_index.size(1)
    n = num_nodes
    existing = (torch.unique(edge_index[0] * n + edge_index[1]) if edge_index.numel()
                else torch.empty(0, dtype=torch.long, device=device))
    total = n * n if allow_self_loops else n * (n - 1)
    if not allow_self_loops:
        loops_in_graph = int((edge_index[0] == edge_index[1]).sum()) if edge_index.numel() else 0
        available = total - (existing.numel() - loops_in_graph)
    else:
        available = total - existing.numel()
    if num_samples > available:
        raise ValueError(f"asked for {num_samples} negative edges but the graph has only {available} non-edges")
    chosen = torch.empty(0, dtype=torch.long, device=device)
    while chosen.numel() < num_samples:
        need = num_samples - chosen.numel()
        cand = torch.randint(0, n * n, (max(2 * need, 16),), generator=generator, device=device)
        if not allow_self_loops:
            cand = cand[cand // n != cand % n]
        cand = cand[~torch.isin(cand, existing) & ~torch.isin(cand, chosen)]
        cand = _unique_in_order(cand)
        chosen = torch.cat([chosen, cand[:need]])
    return torch.stack([chosen // n, chosen % n])


def _unique_in_order(t: torch.Tensor) -> torch.Tensor:
    unique, inverse = torch.unique(t, return_inverse=True)
    first = torch.full((unique.numel(),), t.numel(), dtype=torch.long, device=t.device).scatter_reduce(
        0, inverse, torch.arange(t.numel(), device=t.device), reduce="amin")
    return t[first.sort().values]


def dropout_edge(edge_index: torch.Tensor, p: float = 0.5, training: bool = True,
                 generator: torch.Generator | None = None):
    """Drop each edge with probability ``p``. Returns ``(edge_index, kept_mask)``. The draw is
    on ``edge_index``'s device, so a ``generator`` must live there too."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability p must be in [0, 1) (got {p})")
    if not training or p == 0.0:
        return edge_index, torch.ones(edge_index.size(1), dtype=torch.bool, device=edge_index.device)
    keep = torch.rand(edge_index.size(1), generator=generator, device=edge_index.device) >= p
    return edge_index[:, keep], keep


def dense_adjacency(edge_index: torch.Tensor, num_nodes: int, edge_weight: torch.Tensor | None = None,
                    dtype=torch.float32) -> torch.Tensor:
    """Dense ``[N, N]`` matrix with ``A[dst, src] += w`` (for tests and small graphs)."""
    check_allocation(num_nodes * num_nodes * dtype.itemsize,
                     f"the dense {num_nodes:,} x {num_nodes:,} adjacency", "keep the graph sparse (ops.spmm)")
    a = torch.zeros(num_nodes, num_nodes, dtype=dtype, device=edge_index.device)
    w = (torch.ones(edge_index.size(1), dtype=dtype, device=edge_index.device) if edge_weight is None
         else edge_weight.to(dtype))
    a.index_put_((edge_index[1], edge_index[0]), w, accumulate=True)
    return a
