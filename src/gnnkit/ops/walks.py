"""Random walks, vectorised over walkers: DeepWalk's uniform walks, node2vec's p/q-biased
second-order walks, the (center, context) pairs of a skip-gram window, and degree-based
negative sampling. DeepWalk, node2vec and GraphSAGE's unsupervised loss share them.

- Perozzi, Al-Rfou & Skiena, "DeepWalk: Online Learning of Social Representations", KDD 2014,
  https://arxiv.org/abs/1403.6652: truncated uniform random walks, skip-gram over a window.
- Grover & Leskovec, "node2vec: Scalable Feature Learning for Networks", KDD 2016,
  https://arxiv.org/abs/1607.00653, Section 3.2.2: a walk that just went ``t -> v`` moves to a
  neighbour ``x`` of ``v`` with unnormalized probability

  .. math::
      \\alpha_{pq}(t, x) = \\begin{cases} 1/p & d_{tx} = 0 \\;(x = t) \\\\
                                         1 & d_{tx} = 1 \\;(x \\text{ a neighbour of } t) \\\\
                                         1/q & d_{tx} = 2 \\end{cases}

- Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
  https://arxiv.org/abs/1706.02216, Eq. (1): positives co-occur on short fixed-length random walks;
  negatives come from :math:`P_n(v) \\propto \\deg(v)^{0.75}`.

Every walker moves at once: one step is a gather of ``rowptr[cur]`` and a uniform draw inside the
walker's neighbour range of the CSR-by-source adjacency. node2vec's step lays every walker's
candidate neighbours out in one flat tensor, weights them by :math:`\\alpha_{pq}` and draws one per
walker from the running sum of the weights (O(sum of the walkers' degrees) per step; a rejection
sampler measured 1.8k walks/s on Cora at p = 0.25, q = 4 against this one's figure in
docs/benchmarks.md). Randomness comes from ``generator`` (default: the global torch generator).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["WalkConfig", "WalkGraph", "random_walk", "walk_pairs", "degree_negatives"]


@dataclass(frozen=True)
class WalkConfig:
    """How the walk objective samples one epoch.

    Args:
        walk_length: steps per walk.
        window: context size: pairs at most this many steps apart on a walk are positives.
        walks_per_node: walks started from every node per epoch.
        p, q: node2vec's return and in-out parameters (1, 1: DeepWalk's uniform walk).
        num_negatives: K negatives per positive pair, from ``deg^0.75``.
        draws_per_node: negatives drawn per distinct center node in a step; their mean loss stands
            for each of that center's pairs' K negatives (an unbiased estimate of the per-pair sampled
            loss: the same expectation, at ``draws_per_node`` dot products per center instead of K per pair).
        batch_size: start nodes per training step, each walked ``walks_per_node`` times (``None``: all
            nodes in one step).
    """

    walk_length: int = 20
    window: int = 10
    walks_per_node: int = 10
    p: float = 1.0
    q: float = 1.0
    num_negatives: int = 1
    batch_size: int | None = None
    draws_per_node: int = 20

    def __post_init__(self):
        for name in ("walk_length", "window", "walks_per_node", "num_negatives", "draws_per_node"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 (got {getattr(self, name)})")
        if self.p <= 0 or self.q <= 0:
            raise ValueError(f"p and q must be positive (got p={self.p}, q={self.q})")


class WalkGraph:
    """CSR by source of a graph, for walks: ``col[rowptr[v]:rowptr[v + 1]]`` are the out-neighbours
    of ``v`` (sorted), ``key`` the sorted edge keys ``src * N + dst`` for the edge test of node2vec.

    Args:
        edge_index: ``[2, E]`` (duplicates are merged); num_nodes: N.

    Example::

        wg = WalkGraph(torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), 3)
        wg.degree   # tensor([1, 2, 1])
    """

    def __init__(self, edge_index: torch.Tensor, num_nodes: int):
        if edge_index.dim() != 2 or edge_index.size(0) != 2:
            raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)}); if it is "
                             "[E, 2], pass edge_index.t()")
        n = self.num_nodes = int(num_nodes)
        if edge_index.numel() and int(edge_index.max()) >= n:
            raise ValueError(f"edge_index refers to node {int(edge_index.max())} but num_nodes is {n}")
        self.key = torch.unique(edge_index[0].long() * n + edge_index[1].long())   # sorted, [E]
        src, self.col = self.key // max(n, 1), self.key % max(n, 1)
        self.degree = torch.bincount(src, minlength=n)                              # [N]
        self.rowptr = torch.zeros(n + 1, dtype=torch.long, device=edge_index.device)
        self.rowptr[1:] = torch.cumsum(self.degree, 0)

    def uniform_neighbour(self, cur: torch.Tensor, generator=None) -> torch.Tensor:
        """One uniformly drawn out-neighbour per entry of ``cur``; a node without one stays put."""
        deg = self.degree[cur]                                                      # [W]
        offset = (torch.rand(cur.numel(), generator=generator, device=cur.device) * deg).long()   # [W], < deg
        nxt = self.col[(self.rowptr[cur] + offset).clamp(max=max(self.col.numel() - 1, 0))] \
            if self.col.numel() else cur
        return torch.where(deg > 0, nxt, cur)

    def has_edge(self, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
        """``[W]`` bool: whether each ``(src, dst)`` is an edge."""
        if self.key.numel() == 0:
            return torch.zeros(src.shape, dtype=torch.bool, device=src.device)
        q = src * self.num_nodes + dst
        pos = torch.searchsorted(self.key, q).clamp(max=self.key.numel() - 1)
        return self.key[pos] == q


def random_walk(graph: WalkGraph, start: torch.Tensor, walk_length: int, p: float = 1.0, q: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Random walks of ``walk_length`` steps from every node in ``start``: uniform (DeepWalk)
    when ``p = q = 1``, node2vec's second-order biased walk otherwise (see the module docstring).

    Args:
        graph: a :class:`WalkGraph`.
        start: ``[W]`` start nodes (repeat a node to walk from it several times).
        walk_length: steps per walk (the walk has ``walk_length + 1`` nodes).
        p: return parameter (small ``p``: the walk often steps back).
        q: in-out parameter (small ``q``: the walk moves outward, DFS-like; large: BFS-like).
        generator: the random source (default: the global torch generator).

    Returns: ``[W, walk_length + 1]`` node ids, column 0 the start. A walker on a node without
    out-edges stays there.

    Example::

        wg = WalkGraph(g.edge_index, g.num_nodes)
        walks = random_walk(wg, torch.arange(g.num_nodes).repeat(10), 20, p=1.0, q=0.5)   # [10 N, 21]
    """
    if walk_length < 0:
        raise ValueError(f"walk_length must be >= 0 (got {walk_length})")
    if p <= 0 or q <= 0:
        raise ValueError(f"p and q must be positive (got p={p}, q={q})")
    start = start.long().view(-1)
    if start.numel() and (int(start.min()) < 0 or int(start.max()) >= graph.num_nodes):
        raise ValueError(f"start holds node ids outside [0, {graph.num_nodes})")
    walks = torch.empty(start.numel(), walk_length + 1, dtype=torch.long, device=start.device)
    walks[:, 0] = start
    if walk_length == 0:
        return walks
    cur = graph.uniform_neighbour(start, generator)                                 # first step: uniform
    walks[:, 1] = cur
    biased = p != 1.0 or q != 1.0
    for step in range(2, walk_length + 1):
        prev = walks[:, step - 2]
        cur = walks[:, step - 1]
        if not biased:
            walks[:, step] = graph.uniform_neighbour(cur, generator)
        else:
            walks[:, step] = _biased_step(graph, prev, cur, p, q, generator)
    return walks


def _biased_step(graph: WalkGraph, prev: torch.Tensor, cur: torch.Tensor, p: float, q: float,
                 generator) -> torch.Tensor:
    """node2vec's next node for every walker at ``cur`` that came from ``prev``: every candidate
    neighbour of every walker in one flat tensor, weighted by :math:`\\alpha_{pq}`, one draw per walker by
    inverse transform sampling on the running sum of the weights (exact, no rejection rounds)."""
    nxt = cur.clone()
    active = (graph.degree[cur] > 0).nonzero().view(-1)                             # [W']
    if active.numel() == 0:
        return nxt
    c, t = cur[active], prev[active]
    deg = graph.degree[c]                                                           # [W']
    walker = torch.repeat_interleave(torch.arange(active.numel(), device=cur.device), deg)   # [T] -> walker
    first = torch.cumsum(deg, 0) - deg                                              # [W'] first candidate
    x = graph.col[graph.rowptr[c][walker] + torch.arange(walker.numel(), device=cur.device)
                  - first[walker]]                                              # [T] candidates
    tw = t[walker]
    alpha = torch.where(x == tw, 1.0 / p, torch.where(graph.has_edge(tw, x), 1.0, 1.0 / q)).double()
    run = torch.cumsum(alpha, 0)                                                    # [T]
    end = run[first + deg - 1]                                                      # [W'] sums up to each walker
    start = end - torch.zeros(active.numel(), dtype=torch.float64, device=cur.device).index_add_(0, walker, alpha)
    u = start + torch.rand(active.numel(), generator=generator, dtype=torch.float64, device=cur.device) * (end - start)
    below = torch.zeros(active.numel(), dtype=torch.long, device=cur.device).index_add_(
        0, walker, (run <= u[walker]).long())
    pick = torch.minimum(first + below, first + deg - 1)                            # the first run > u
    nxt[active] = x[pick]
    return nxt


def walk_pairs(walks: torch.Tensor, window: int, both_directions: bool = True) -> torch.Tensor:
    """Skip-gram's positive pairs: every ``(walks[w, i], walks[w, j])`` with ``0 < |i - j| <= window``
    (with ``both_directions=False`` only ``i < j``: enough when the pair's score is symmetric, as
    :math:`z_u^\\top z_v` with one embedding table is).

    Returns ``[2, P]`` (row 0 the center, row 1 the context), ``P = W * sum_{k<=window} (L - k)`` (twice
    that with both directions) for ``W`` walks of ``L`` nodes. Example: the walk ``[0, 1, 2]`` with
    ``window=1`` gives ``(0, 1), (1, 2), (1, 0), (2, 1)``.
    """
    if window < 1:
        raise ValueError(f"window must be >= 1 (got {window})")
    length = walks.size(1)
    pairs = []
    for k in range(1, min(window, length - 1) + 1):
        a, b = walks[:, :-k].reshape(-1), walks[:, k:].reshape(-1)                  # [W * (L - k)]
        pairs.append(torch.stack([torch.cat([a, b]), torch.cat([b, a])]) if both_directions else torch.stack([a, b]))
    if not pairs:
        return torch.empty(2, 0, dtype=torch.long, device=walks.device)
    return torch.cat(pairs, 1)


def degree_negatives(degree: torch.Tensor, count: int, power: float = 0.75,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` nodes drawn with replacement from :math:`P_n(v) \\propto \\deg(v)^{power}` (word2vec's
    and GraphSAGE's 0.75); a graph without edges falls back to uniform. Returns ``[count]``."""
    weight = degree.double().pow(power)
    if float(weight.sum()) <= 0:
        weight = torch.ones_like(weight)
    return torch.multinomial(weight, count, replacement=True, generator=generator)
