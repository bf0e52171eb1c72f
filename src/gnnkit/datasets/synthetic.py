"""Synthetic graphs: block models with block-correlated features, random graphs, WL-hard pairs.

Every generator is deterministic given ``seed`` and returns ``Graph`` objects with both
directions of each undirected edge, no self loops and no duplicates.

- ``stochastic_block_model`` / ``planted_partition``: Holland, Laskey & Leinhardt (1983);
  node features ``x_v = mu_{b(v)} + noise`` make block recovery a learnable
  node-classification task of any size.
- ``erdos_renyi``: G(n, p); ``random_regular``: uniform d-regular graphs.
- WL-hard pairs (Xu et al. 2019, https://arxiv.org/abs/1810.00826; Murphy et al. 2019,
  https://arxiv.org/abs/1903.02541): non-isomorphic graphs that 1-WL colour refinement,
  hence every message-passing GNN, cannot tell apart.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from gnnkit.graph import Graph


def _undirected(pairs: np.ndarray, num_nodes: int, **fields) -> Graph:
    """Graph from ``[M, 2]`` pairs ``u < v`` (both directions stored, sorted)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    both = np.concatenate([pairs, pairs[:, ::-1]], 0)
    both = both[np.lexsort((both[:, 1], both[:, 0]))]
    return Graph(edge_index=torch.from_numpy(np.ascontiguousarray(both.T)), num_nodes=num_nodes, **fields)


def _sample_cells(rng: np.random.Generator, rows: int, cols: int, p: float) -> np.ndarray:
    """Each cell of a ``rows x cols`` grid independently with probability ``p``: ``[M, 2]``."""
    total = rows * cols
    if total == 0 or p <= 0:
        return np.empty((0, 2), dtype=np.int64)
    m = rng.binomial(total, min(p, 1.0))
    cells = rng.choice(total, size=m, replace=False)
    return np.stack([cells // cols, cells % cols], 1)


def _check_prob(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1] (got {p})")


def stochastic_block_model(block_sizes: Sequence[int], p_in: float, p_out: float, num_features: int = 16,
                           feature_signal: float = 1.0, seed: int = 0, num_train_per_class: int = 20,
                           val_fraction: float = 0.2) -> Graph:
    """A stochastic block model with block-correlated features and split masks.

    Nodes ``u, v`` in blocks ``b(u), b(v)`` are joined with probability
    :math:`p_{in}` if :math:`b(u) = b(v)`, else :math:`p_{out}`, independently. Features:

    .. math::
        x_v = s \\, \\mu_{b(v)} + \\varepsilon_v, \\qquad \\mu_b, \\varepsilon_v \\sim \\mathcal{N}(0, I_F)

    with :math:`s` = ``feature_signal`` (0 makes the features useless, so only the graph
    carries the blocks). ``y`` is the block.

    Args:
        block_sizes: nodes per block.
        p_in, p_out: edge probabilities within and between blocks.
        num_features: F.
        feature_signal: s.
        seed: everything (edges, features, masks) is drawn from it.
        num_train_per_class: training nodes per block; of the rest, ``val_fraction``
            validate and the remainder test.

    Example::

        g = stochastic_block_model([50, 50], p_in=0.1, p_out=0.01, seed=0)
        g.num_nodes, int(g.train_mask.sum())      # (100, 40)
    """
    _check_prob("p_in", p_in)
    _check_prob("p_out", p_out)
    sizes = [int(s) for s in block_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"block_sizes must be positive integers (got {list(block_sizes)})")
    rng = np.random.default_rng(seed)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    pairs = []
    for a in range(len(sizes)):
        for b in range(a, len(sizes)):
            cells = _sample_cells(rng, sizes[a], sizes[b], p_in if a == b else p_out)
            if a == b:
                cells = cells[cells[:, 0] < cells[:, 1]]  # upper triangle: each pair once
            pairs.append(cells + [starts[a], starts[b]])
    n = int(starts[-1])
    y = np.repeat(np.arange(len(sizes)), sizes)
    mu = rng.standard_normal((len(sizes), num_features))
    x = feature_signal * mu[y] + rng.standard_normal((n, num_features))
    train = np.zeros(n, dtype=bool)
    val = np.zeros(n, dtype=bool)
    for b in range(len(sizes)):
        if num_train_per_class >= sizes[b]:
            raise ValueError(f"block {b} has {sizes[b]} nodes; num_train_per_class={num_train_per_class} "
                             "leaves none to validate or test")
        idx = rng.permutation(np.arange(starts[b], starts[b + 1]))
        train[idx[:num_train_per_class]] = True
        rest = idx[num_train_per_class:]
        val[rest[: int(round(val_fraction * len(rest)))]] = True
    return _undirected(np.concatenate(pairs), n, x=torch.from_numpy(x).float(), y=torch.from_numpy(y),
                       y_level="node", train_mask=torch.from_numpy(train), val_mask=torch.from_numpy(val),
                       test_mask=torch.from_numpy(~(train | val)))


def planted_partition(num_blocks: int, block_size: int, p_in: float, p_out: float, **kwargs) -> Graph:
    """``num_blocks`` equal blocks of ``block_size`` nodes (see ``stochastic_block_model``)."""
    return stochastic_block_model([block_size] * num_blocks, p_in, p_out, **kwargs)


def erdos_renyi(num_nodes: int, p: float, seed: int = 0) -> Graph:
    """G(n, p): each of the n(n-1)/2 node pairs is an edge with probability ``p``."""
    _check_prob("p", p)
    cells = _sample_cells(np.random.default_rng(seed), num_nodes, num_nodes, p)
    return _undirected(cells[cells[:, 0] < cells[:, 1]], num_nodes)


def random_regular(num_nodes: int, degree: int, seed: int = 0) -> Graph:
    """A uniformly random ``degree``-regular graph (networkx's pairing algorithm)."""
    import networkx as nx

    if (num_nodes * degree) % 2 or degree >= num_nodes or degree < 0:
        raise ValueError(f"no {degree}-regular graph on {num_nodes} nodes: need 0 <= degree < num_nodes and "
                         "num_nodes * degree even")
    g = nx.random_regular_graph(degree, num_nodes, seed=seed)
    return _undirected(np.array(sorted((min(u, v), max(u, v)) for u, v in g.edges())), num_nodes)


def cycle(num_nodes: int) -> Graph:
    """The cycle C_n."""
    return _undirected([(i, (i + 1) % num_nodes) if i + 1 < num_nodes else (0, i) for i in range(num_nodes)],
                       num_nodes)


def circular_skip_link(num_nodes: int = 41, skip: int = 2) -> Graph:
    """CSL graph :math:`C_{n,k}`: the cycle on n nodes plus chords ``i -- i+k (mod n)``
    (Murphy et al. 2019). All are 4-regular, so 1-WL gives every node one colour; the
    standard set uses n = 41 and k in ``CSL_SKIPS``."""
    if not 2 <= skip < num_nodes - 1 or 2 * skip == num_nodes:
        raise ValueError(f"skip must satisfy 2 <= skip < num_nodes - 1 and 2 * skip != num_nodes "
                         f"(got skip={skip}, num_nodes={num_nodes})")
    pairs = {tuple(sorted((i, (i + s) % num_nodes))) for i in range(num_nodes) for s in (1, skip)}
    return _undirected(np.array(sorted(pairs)), num_nodes)


CSL_SKIPS = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)


def two_triangles() -> Graph:
    """Two disjoint triangles (6 nodes, 6 edges); 1-WL equal to ``cycle(6)``."""
    return _undirected([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)], 6)


def decalin() -> Graph:
    """Decalin's carbon skeleton: two hexagons sharing the bond 0--5 (10 nodes, 11 edges)."""
    ring_a = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5)]
    ring_b = [(5, 6), (6, 7), (7, 8), (8, 9), (0, 9)]
    return _undirected(ring_a + ring_b, 10)


def bicyclopentyl() -> Graph:
    """Bicyclopentyl's carbon skeleton: two pentagons joined by the bond 0--5 (10 nodes,
    11 edges); 1-WL equal to ``decalin()``."""
    ring_a = [(0, 1), (1, 2), (2, 3), (3, 4), (0, 4)]
    ring_b = [(5, 6), (6, 7), (7, 8), (8, 9), (5, 9)]
    return _undirected(ring_a + ring_b + [(0, 5)], 10)


def wl_hard_pairs() -> list[tuple[str, Graph, Graph]]:
    """Classic non-isomorphic pairs that 1-WL cannot distinguish: ``(name, g1, g2)``."""
    return [
        ("two triangles vs hexagon", two_triangles(), cycle(6)),
        ("decalin vs bicyclopentyl", decalin(), bicyclopentyl()),
        ("CSL(41, 2) vs CSL(41, 3)", circular_skip_link(41, 2), circular_skip_link(41, 3)),
    ]


def csl_graphs(num_nodes: int = 41, skips: Sequence[int] = CSL_SKIPS) -> list[Graph]:
    """One CSL graph per skip, ``y`` = the index of its skip (the CSL classification task)."""
    return [circular_skip_link(num_nodes, s).replace(y=torch.tensor(i), levels={"y": "graph"})
            for i, s in enumerate(skips)]
