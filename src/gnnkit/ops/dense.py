"""From a ``Batch`` (block-diagonal, N nodes in all) to the padded dense form ``[B, N_max, ...]``.

Dense pooling layers (DiffPool, Ying et al. 2018, https://arxiv.org/abs/1806.08804) work on
one dense adjacency per graph. A batch of B graphs with ``n_b`` nodes each becomes

.. math::
    X \\in \\mathbb{R}^{B \\times N_{max} \\times F}, \\qquad
    A \\in \\mathbb{R}^{B \\times N_{max} \\times N_{max}}, \\qquad
    \\mathrm{mask} \\in \\{0, 1\\}^{B \\times N_{max}}

where node ``i`` of graph ``b`` sits in row ``i`` of block ``b`` and rows ``n_b .. N_max - 1``
are padding (zero features, zero adjacency, ``mask`` False). ``A[b, dst, src]`` holds the
weight of the edge ``src -> dst`` (row = target, as messages are aggregated at the target),
so ``A @ X`` sums each node's in-neighbours. Duplicate edges add up.

Memory: the adjacency alone is ``B * N_max^2`` floats; D&D's largest graph (5,748 nodes)
alone takes 132 MB in float32 (docs/benchmarks.md, "DiffPool memory").

Example::

    b = Batch.from_graphs([g1, g2])                          # 2 and 3 nodes
    x, mask = ops.to_dense_batch(b.x, b.batch, b.num_graphs)  # [2, 3, F], [2, 3]
    adj = ops.to_dense_adj(b.edge_index, b.batch, b.num_graphs)  # [2, 3, 3]
"""
from __future__ import annotations

import torch


def _positions(batch: torch.Tensor, num_graphs: int | None, max_num_nodes: int | None):
    """``(graph id [N], position inside its graph [N], B, N_max)`` of a sorted ``batch`` vector."""
    if batch.dim() != 1:
        raise ValueError(f"batch must be 1-D with one graph id per node (got shape {list(batch.shape)})")
    if batch.numel() > 1 and bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("batch must be sorted (the nodes of graph 0 first, then graph 1, ...), as "
                         "Batch.from_graphs makes it; sort the nodes by graph id first")
    if num_graphs is None:
        num_graphs = int(batch.max()) + 1 if batch.numel() else 0
    elif batch.numel() and int(batch.max()) >= num_graphs:
        raise ValueError(f"batch refers to graph {int(batch.max())} but num_graphs is {num_graphs}; "
                         "pass num_graphs=batch.num_graphs")
    counts = torch.bincount(batch, minlength=num_graphs)                       # [B]
    ptr = torch.cumsum(counts, 0) - counts                                    # [B]
    pos = torch.arange(batch.numel(), device=batch.device) - ptr[batch]        # [N]
    n_max = int(counts.max()) if counts.numel() else 0
    if max_num_nodes is None:
        max_num_nodes = n_max
    elif n_max > max_num_nodes:
        raise ValueError(f"a graph has {n_max} nodes but max_num_nodes is {max_num_nodes}; "
                         "raise max_num_nodes or leave it None (the largest graph of the batch)")
    return pos, num_graphs, max_num_nodes


def to_dense_batch(x: torch.Tensor, batch: torch.Tensor, num_graphs: int | None = None,
                   max_num_nodes: int | None = None, fill_value: float = 0.0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Node rows ``[N, ...]`` to ``([B, N_max, ...], mask [B, N_max])``, padding with ``fill_value``.

    Args:
        x: ``[N, ...]`` node rows, graph by graph (a ``Batch``'s order).
        batch: ``[N]`` sorted graph id of each node (``Batch.batch``).
        num_graphs: B (default ``batch.max() + 1``; pass ``Batch.num_graphs`` when graphs may be empty).
        max_num_nodes: N_max (default: the largest graph of the batch).
        fill_value: what padded rows hold.
    """
    if x.size(0) != batch.numel():
        raise ValueError(f"x has {x.size(0)} rows but batch has {batch.numel()} entries; they must match")
    pos, b, n = _positions(batch, num_graphs, max_num_nodes)
    out = x.new_full((b, n) + tuple(x.shape[1:]), fill_value)                  # [B, N_max, ...]
    out[batch, pos] = x
    mask = torch.zeros(b, n, dtype=torch.bool, device=x.device)                 # [B, N_max]
    mask[batch, pos] = True
    return out, mask


def to_dense_adj(edge_index: torch.Tensor, batch: torch.Tensor, num_graphs: int | None = None,
                 max_num_nodes: int | None = None, edge_weight: torch.Tensor | None = None,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Edges of a batch ``[2, E]`` to one dense adjacency per graph, ``[B, N_max, N_max]``.

    ``A[b, dst, src]`` is the summed weight (default 1) of the edges ``src -> dst`` of graph ``b``,
    in local node numbers. Edges must stay inside their graph (a ``Batch``'s edges do).

    Args:
        edge_index: ``[2, E]`` batch node ids (row 0 source, row 1 target).
        batch, num_graphs, max_num_nodes: as in :func:`to_dense_batch`.
        edge_weight: ``[E]`` weights (default ones).
        dtype: dtype of the result when ``edge_weight`` is None.
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)}); "
                         "if it is [E, 2], pass edge_index.t()")
    pos, b, n = _positions(batch, num_graphs, max_num_nodes)
    src, dst = edge_index                                                      # [E], [E]
    if src.numel() and int(edge_index.max()) >= batch.numel():
        raise ValueError(f"edge_index refers to node {int(edge_index.max())} but batch has {batch.numel()} "
                         "nodes; pass the batch vector of the same Batch")
    g = batch[dst]                                                             # [E]
    if bool((batch[src] != g).any()):
        raise ValueError("an edge joins two different graphs of the batch; to_dense_adj needs the "
                         "block-diagonal edges of a Batch")
    if edge_weight is None:
        edge_weight = torch.ones(src.numel(), dtype=dtype, device=edge_index.device)
    elif edge_weight.shape != src.shape:
        raise ValueError(f"edge_weight must have shape [E] = [{src.numel()}] (got {list(edge_weight.shape)})")
    adj = edge_weight.new_zeros(b, n, n)                                       # [B, N_max, N_max]
    flat = (g * n + pos[dst]) * n + pos[src]                                   # [E]
    adj.view(-1).index_add_(0, flat, edge_weight)
    return adj
