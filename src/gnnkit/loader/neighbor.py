"""Neighbour sampling: GraphSAGE's fixed-size neighbourhoods as minibatches of subgraphs.

Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
https://arxiv.org/abs/1706.02216 (Algorithm 2, minibatch forward propagation).

For a batch of seed nodes :math:`\\mathcal B^{(K)}` the sampler walks K hops backwards; hop k
draws, for every node newly reached at hop k-1, ``num_neighbors[k]`` of its in-neighbours:

.. math::
    \\mathcal B^{(k-1)} = \\mathcal B^{(k)} \\cup \\bigcup_{v \\in \\mathcal B^{(k)}} \\mathcal N_k(v),
    \\qquad \\mathcal N_k(v) \\subseteq N(v),\\ |\\mathcal N_k(v)| = \\min(s_k, |N(v)|)

without replacement (a uniform ``s_k``-subset, every neighbour when the degree is below ``s_k``),
or ``s_k`` independent uniform draws with replacement (the paper's fixed-size samples; repeated
neighbours give repeated edges). ``s_k = -1`` takes every neighbour. The batch is the subgraph of
the sampled edges, relabelled so that the seeds are nodes ``0..B-1``; ``n_id`` maps its nodes back
to the graph's ids, and a model run on it predicts the seeds in its first ``batch_size`` rows.

Everything is vectorised over the nodes of a hop: with replacement one ``rand`` per draw;
without, Floyd's algorithm (Bentley & Floyd 1987), whose loop runs over the fan-out (``s_k``
steps, each over all nodes at once), never over nodes. Measured on the Reddit-sized synthetic
graph (``benchmarks/bench_sampling.py``, docs/benchmarks.md).
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch

from gnnkit.graph import Graph


def _ranges(starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``cat([arange(s, s + l) for s, l in zip(starts, lengths)])`` without a Python loop."""
    total = int(lengths.sum())
    if total == 0:
        return torch.empty(0, dtype=torch.long, device=starts.device)
    offsets = torch.cumsum(lengths, 0) - lengths                         # exclusive prefix sums
    shift = torch.repeat_interleave(starts - offsets, lengths, output_size=total)
    return torch.arange(total, device=starts.device) + shift


def sample_neighbors(rowptr: torch.Tensor, nodes: torch.Tensor, k: int, replace: bool = False,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample up to ``k`` in-neighbours of each of ``nodes`` from a CSR structure.

    Args:
        rowptr: ``[N + 1]`` CSR row pointer; row ``v`` holds positions ``rowptr[v]..rowptr[v+1]-1``.
        nodes: ``[M]`` rows to sample from.
        k: draws per node; ``-1`` takes the whole row.
        replace: ``True``: ``k`` independent uniform draws per node of non-zero degree; ``False``:
            a uniform ``k``-subset (the whole row when its degree is at most ``k``).
        generator: torch generator (default: the global one).

    Returns:
        ``(pos, owner)``: ``[S]`` CSR positions of the sampled entries and ``[S]`` the index into
        ``nodes`` each belongs to.

    Example::

        rowptr = torch.tensor([0, 3, 3, 5])
        pos, owner = sample_neighbors(rowptr, torch.tensor([0, 2]), 2)   # 2 of row 0, both of row 2
    """
    start = rowptr[nodes]                                                # [M]
    deg = rowptr[nodes + 1] - start                                      # [M]
    M = nodes.numel()
    if k < 0:
        owner = torch.repeat_interleave(torch.arange(M, device=nodes.device), deg)
        return _ranges(start, deg), owner
    if replace:
        has = (deg > 0).nonzero().view(-1)                               # [M'] rows with a neighbour
        r = torch.rand(has.numel(), k, generator=generator, device=nodes.device)
        d = deg[has].unsqueeze(1)
        off = torch.minimum((r * d).long(), d - 1)                       # [M', k] uniform in [0, deg)
        pos = (start[has].unsqueeze(1) + off).view(-1)
        return pos, has.repeat_interleave(k)
    small = (deg <= k).nonzero().view(-1)                                # every neighbour
    big = (deg > k).nonzero().view(-1)                                   # a uniform k-subset
    pos_small = _ranges(start[small], deg[small])
    owner_small = torch.repeat_interleave(small, deg[small])
    # Floyd: for j = n-k .. n-1 draw t uniform in [0, j]; take t unless already taken, else j.
    n = deg[big]
    chosen = torch.empty(big.numel(), k, dtype=torch.long, device=nodes.device)
    for i in range(k):
        j = n - k + i                                                    # [Mb]
        t = torch.minimum((torch.rand(big.numel(), generator=generator, device=nodes.device) * (j + 1)).long(), j)
        taken = (chosen[:, :i] == t.unsqueeze(1)).any(1)
        chosen[:, i] = torch.where(taken, j, t)
    pos_big = (start[big].unsqueeze(1) + chosen).view(-1)
    return torch.cat([pos_small, pos_big]), torch.cat([owner_small, big.repeat_interleave(k)])


class NeighborSampler:
    """The sampling step of :class:`NeighborLoader` on a CSR-by-target structure, with the node
    relabelling (seeds first) done through one reusable ``[N]`` table.

    Args:
        rowptr, col: CSR by target: the in-neighbours of ``v`` are ``col[rowptr[v]:rowptr[v+1]]``.
        num_neighbors: fan-out per hop (``-1``: all).
        replace: sample with replacement.

    ``sample(seeds)`` returns ``(n_id [M], edge_index [2, S] local, pos [S] CSR positions)``.
    """

    def __init__(self, rowptr: torch.Tensor, col: torch.Tensor, num_neighbors: Sequence[int], replace: bool = False):
        self.rowptr, self.col = rowptr, col
        self.num_neighbors = [int(k) for k in num_neighbors]
        self.replace = replace
        self._local = torch.full((rowptr.numel() - 1,), -1, dtype=torch.long, device=rowptr.device)

    def sample(self, seeds: torch.Tensor, generator: torch.Generator | None = None):
        local = self._local
        parts, srcs, dsts, poss = [seeds], [], [], []
        count = seeds.numel()
        try:
            local[seeds] = torch.arange(count, device=seeds.device)
            frontier, frontier_local = seeds, torch.arange(count, device=seeds.device)
            for k in self.num_neighbors:
                pos, owner = sample_neighbors(self.rowptr, frontier, k, self.replace, generator)
                nbr = self.col.index_select(0, pos).long()                # [S] global sources
                seen = local.index_select(0, nbr)                         # [S] local id, -1 if new
                new = torch.unique(nbr[seen < 0])                         # nodes first reached now
                new_local = torch.arange(count, count + new.numel(), device=seeds.device)
                local[new] = new_local
                count += new.numel()
                srcs.append(torch.where(seen < 0, local.index_select(0, nbr), seen))
                dsts.append(frontier_local.index_select(0, owner))
                poss.append(pos)
                parts.append(new)
                frontier, frontier_local = new, new_local
            n_id = torch.cat(parts)
        finally:
            for p in parts:
                local[p] = -1                                            # the table is clean for the next batch
        edge_index = torch.stack([torch.cat(srcs), torch.cat(dsts)]) if srcs else torch.empty(
            2, 0, dtype=torch.long, device=seeds.device)
        pos = torch.cat(poss) if poss else torch.empty(0, dtype=torch.long, device=seeds.device)
        return n_id, edge_index, pos


def _input_nodes(graph: Graph, input_nodes) -> torch.Tensor:
    if input_nodes is None:
        return torch.arange(graph.num_nodes)
    input_nodes = torch.as_tensor(input_nodes)
    if input_nodes.dtype == torch.bool:
        if input_nodes.numel() != graph.num_nodes:
            raise ValueError(f"input_nodes as a mask must have num_nodes={graph.num_nodes} entries "
                             f"(got {input_nodes.numel()})")
        return input_nodes.nonzero().view(-1)
    input_nodes = input_nodes.long().view(-1)
    if input_nodes.numel() and (int(input_nodes.min()) < 0 or int(input_nodes.max()) >= graph.num_nodes):
        raise ValueError(f"input_nodes must be node ids in [0, {graph.num_nodes}) (got ids from "
                         f"{int(input_nodes.min())} to {int(input_nodes.max())})")
    if torch.unique(input_nodes).numel() != input_nodes.numel():
        raise ValueError("input_nodes holds repeated node ids; pass each seed once (torch.unique(ids))")
    return input_nodes


def subgraph_batch(graph: Graph, n_id: torch.Tensor, edge_index: torch.Tensor, e_id: torch.Tensor | None,
                   batch_size: int) -> Graph:
    """The batch ``Graph``: ``graph``'s node fields at ``n_id``, edge fields at ``e_id`` (when given),
    graph fields as they are; ``n_id`` (and ``e_id``) stored on it, ``batch_size`` as an attribute."""
    fields, levels = {}, {}
    for key in graph.keys():
        level = graph.level(key)
        if level == "node":
            fields[key] = graph.get(key).index_select(0, n_id)
        elif level == "edge" and e_id is not None:
            fields[key] = graph.get(key).index_select(0, e_id)
        elif level == "graph":
            fields[key] = graph.get(key)
        else:
            continue
        levels[key] = level
    extra = {k: v for k, v in fields.items() if k not in ("x", "y", "edge_attr", "edge_weight", "train_mask",
                                                           "val_mask", "test_mask")}
    extra["n_id"] = n_id
    levels_extra = {k: levels[k] for k in extra if k != "n_id"} | {"n_id": "node"}
    if e_id is not None:
        extra["e_id"], levels_extra["e_id"] = e_id, "edge"
    builtin = {k: v for k, v in fields.items() if k not in extra}
    y = builtin.pop("y", None)
    out = Graph(num_nodes=n_id.numel(), edge_index=edge_index, y=y,
                y_level=levels.get("y") if y is not None else None, extra=extra, levels=levels_extra, **builtin)
    out.batch_size = int(batch_size)
    return out


class NeighborLoader:
    """Minibatches of sampled neighbourhoods (GraphSAGE), called as torch_geometric's is.

    Each batch is a :class:`Graph`: the sampled edges between its nodes (relabelled, seeds first),
    every node-level field of ``graph`` at those nodes (``x``, ``y``, masks), edge-level fields at
    the sampled edges, plus ``n_id`` ``[M]`` (global id of each node; ``n_id[:batch_size]`` are the
    seeds), ``e_id`` ``[S]`` (each sampled edge's column in ``graph.edge_index``) and the Python int
    ``batch.batch_size``. See the module docstring for the sampling rule.

    Args:
        graph: the whole graph (its cached ``graph.adj()``, CSR by target, is what is sampled).
        num_neighbors: fan-out per hop, e.g. ``[25, 10]`` (the paper's S1 = 25, S2 = 10); ``-1`` = all.
        batch_size: seeds per batch.
        shuffle: a new seed order every epoch (from ``generator`` or the global torch generator).
        input_nodes: the seeds: node ids or an ``[N]`` bool mask (default: every node).
        replace: sample with replacement (the paper's fixed-size samples) or without (default, as PyG).
        drop_last: skip a last batch smaller than ``batch_size``.
        generator: a ``torch.Generator`` for shuffling and sampling (default: the global one, whose
            state the trainer's checkpoint carries).
        csr: ``(rowptr, col)``, the graph's CSR by target, sampled instead of ``graph.adj()``; ``graph``
            then supplies only the node fields and may have no edges. A large graph's int32 CSR
            (:func:`gnnkit.datasets.large.load_synthetic_nodes`: 4 B a directed edge) instead of the
            int64 ``edge_index`` and ``SparseAdj`` (40 B); ``e_id`` are then positions in ``col``.

    Shapes: batch.x: [M, F]; batch.edge_index: [2, S]; batch.n_id: [M]; M <= B (1 + s_1 + s_1 s_2 ...).

    Example::

        loader = NeighborLoader(g, num_neighbors=[25, 10], batch_size=1024, shuffle=True,
                                input_nodes=g.train_mask)
        for batch in loader:
            out = model(batch.x, batch.adj())[:batch.batch_size]     # the seeds' predictions
    """

    def __init__(self, graph: Graph, num_neighbors: Sequence[int], batch_size: int = 1, shuffle: bool = False,
                 input_nodes=None, replace: bool = False, drop_last: bool = False,
                 generator: torch.Generator | None = None, csr: tuple[torch.Tensor, torch.Tensor] | None = None):
        if isinstance(num_neighbors, int) or not len(num_neighbors):
            raise ValueError(f"num_neighbors must be a list with one fan-out per hop, e.g. [25, 10] "
                             f"(got {num_neighbors!r})")
        bad = [k for k in num_neighbors if int(k) != k or (k < 0 and k != -1)]
        if bad:
            raise ValueError(f"each fan-out must be a non-negative int or -1 for all neighbours (got {bad})")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {batch_size})")
        self.graph = graph
        self.num_neighbors = list(num_neighbors)
        self.batch_size, self.shuffle, self.drop_last, self.replace = batch_size, shuffle, drop_last, replace
        self.generator = generator
        self.input_nodes = _input_nodes(graph, input_nodes)
        if csr is None:
            adj = graph.adj()
            self.e_perm = adj.perm
            self.sampler = NeighborSampler(adj.rowptr, adj.src, self.num_neighbors, replace)
        else:
            rowptr, col = csr
            if rowptr.shape != (graph.num_nodes + 1,) or int(rowptr[-1]) != col.numel():
                raise ValueError(f"csr must be (rowptr [N + 1], col [rowptr[-1]]) with N = graph.num_nodes = "
                                 f"{graph.num_nodes} (got rowptr {list(rowptr.shape)}, col {list(col.shape)})")
            self.e_perm = None                                            # e_id = positions in col
            self.sampler = NeighborSampler(rowptr.long(), col, self.num_neighbors, replace)

    def __len__(self) -> int:
        n = self.input_nodes.numel()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[Graph]:
        nodes = self.input_nodes
        if self.shuffle:
            nodes = nodes[torch.randperm(nodes.numel(), generator=self.generator)]
        for i in range(len(self)):
            yield self.sample(nodes[i * self.batch_size:(i + 1) * self.batch_size])

    def sample(self, seeds: torch.Tensor) -> Graph:
        """The batch of the given seed ids (distinct) as a ``Graph``."""
        n_id, edge_index, pos = self.sampler.sample(seeds, self.generator)
        e_id = pos if self.e_perm is None else self.e_perm[pos]
        return subgraph_batch(self.graph, n_id, edge_index, e_id, seeds.numel())

    def __repr__(self) -> str:
        return (f"NeighborLoader(num_neighbors={self.num_neighbors}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, replace={self.replace}, seeds={self.input_nodes.numel()})")
