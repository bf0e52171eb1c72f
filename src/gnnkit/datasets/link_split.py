"""The link-prediction split of an undirected graph (Kipf & Welling 2016's protocol).

Kipf & Welling, "Variational Graph Auto-Encoders", NIPS Bayesian Deep Learning workshop 2016,
https://arxiv.org/abs/1611.07308, Section 3: the models are "trained on an incomplete version of
these data sets where parts of the citation links (edges) have been removed, while all node
features are kept"; validation and test sets hold 5% and 10% of the edges and "the same number of
randomly sampled pairs of unconnected nodes (non-edges)". The authors' code
(tkipf/gae, ``preprocessing.mask_test_edges``) splits the unique undirected pairs (upper triangle,
self loops dropped) and rebuilds the training adjacency from the training pairs alone.

.. math::
    \\mathcal E = \\mathcal E_{train} \\sqcup \\mathcal E_{val} \\sqcup \\mathcal E_{test},\\quad
    |\\mathcal E_{val}| = \\lfloor 0.05 |\\mathcal E| \\rfloor,\\;
    |\\mathcal E_{test}| = \\lfloor 0.10 |\\mathcal E| \\rfloor,\\quad
    \\mathcal N_{val}, \\mathcal N_{test} \\subset \\{\\{u, v\\} : u \\ne v\\} \\setminus \\mathcal E

with :math:`\\mathcal E` the unique undirected edges, the negatives :math:`\\mathcal N` disjoint
from each other and of the same sizes as their positives. The message-passing graph holds
:math:`\\mathcal E_{train}` in both directions and nothing else, so no validation or test edge is
seen by an encoder in either direction.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from gnnkit.ops.structure import _unique_in_order

__all__ = ["LinkSplit", "link_split", "undirected_pairs"]


@dataclass
class LinkSplit:
    """Positive and negative node pairs per split, and the training graph.

    Attributes:
        num_nodes: N.
        train_pos, val_pos, test_pos: ``[2, P]`` undirected edges, one direction each (``u < v``).
        val_neg, test_neg: ``[2, P]`` non-edges (``u < v``), as many as the split's positives.
        train_edge_index: ``[2, 2 * P_train]`` the message-passing graph: ``train_pos`` in both
            directions, sorted by (source, target).
    """

    num_nodes: int
    train_pos: torch.Tensor
    val_pos: torch.Tensor
    val_neg: torch.Tensor
    test_pos: torch.Tensor
    test_neg: torch.Tensor
    train_edge_index: torch.Tensor

    def pairs(self, split: str) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(positives, negatives)`` of ``'val'`` or ``'test'`` (``'train'``: negatives ``None``)."""
        if split == "train":
            return self.train_pos, None
        if split in ("val", "test"):
            return getattr(self, f"{split}_pos"), getattr(self, f"{split}_neg")
        raise ValueError(f"split must be 'train', 'val' or 'test' (got {split!r})")

    def __repr__(self) -> str:
        return (f"LinkSplit(num_nodes={self.num_nodes}, train={self.train_pos.size(1)}, "
                f"val={self.val_pos.size(1)}+{self.val_neg.size(1)}, test={self.test_pos.size(1)}+{self.test_neg.size(1)})")


def undirected_pairs(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """The unique undirected edges ``{u, v}`` of ``edge_index`` as ``[2, M]`` with ``u < v``, sorted;
    self loops dropped, either or both directions of an edge count once."""
    src, dst = edge_index
    keep = src != dst
    lo = torch.minimum(src[keep], dst[keep])
    hi = torch.maximum(src[keep], dst[keep])
    key = torch.unique(lo * num_nodes + hi)
    return torch.stack([key // num_nodes, key % num_nodes])


def sample_non_edges(num_nodes: int, forbidden: torch.Tensor, count: int,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """``count`` distinct unordered pairs ``u < v`` whose key ``u * N + v`` is not in ``forbidden``
    (a sorted ``[K]`` int64 tensor of such keys), uniformly from the global or the given generator.
    Returns ``[2, count]``."""
    n = num_nodes
    available = n * (n - 1) // 2 - forbidden.numel()
    if count > available:
        raise ValueError(f"asked for {count} non-edges but the graph has only {available}; lower the "
                         "validation / test fractions")
    chosen = torch.empty(0, dtype=torch.long)
    while chosen.numel() < count:
        need = count - chosen.numel()
        a = torch.randint(0, n, (2 * need + 16,), generator=generator)
        b = torch.randint(0, n, (2 * need + 16,), generator=generator)
        lo, hi = torch.minimum(a, b), torch.maximum(a, b)
        cand = (lo * n + hi)[lo != hi]
        cand = cand[~torch.isin(cand, forbidden) & ~torch.isin(cand, chosen)]
        cand = _unique_in_order(cand)                                       # first occurrence of each
        chosen = torch.cat([chosen, cand[:need]])
    return torch.stack([chosen // n, chosen % n])


def link_split(edge_index: torch.Tensor, num_nodes: int, val: float = 0.05, test: float = 0.10,
               seed: int = 0) -> LinkSplit:
    """Split the undirected edges of a graph into train / validation / test positives, with as many
    non-edges as negatives for validation and test (Kipf & Welling 2016: 85 / 5 / 10).

    Args:
        edge_index: ``[2, E]`` edges of an undirected graph (one or both directions per edge; self
            loops are dropped).
        num_nodes: N.
        val, test: fractions of the unique undirected edges (rounded down, as the authors' code).
        seed: the split's own generator (the global torch generator is not touched), so one seed
            gives one split whatever ran before.

    Returns:
        a :class:`LinkSplit`.

    Example::

        g = karate_club()
        split = link_split(g.edge_index, g.num_nodes, seed=0)
        split.test_pos.shape, split.train_edge_index.shape   # [2, 7], [2, 126]
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape [2, E] (got {list(edge_index.shape)}); if it is [E, 2], "
                         "pass edge_index.t()")
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test must be fractions in [0, 1) with val + test < 1 (got {val}, {test})")
    n = int(num_nodes)
    pairs = undirected_pairs(edge_index.long(), n)                        # [2, M]
    m = pairs.size(1)
    n_val, n_test = int(val * m), int(test * m)
    if m - n_val - n_test < 1:
        raise ValueError(f"the graph has {m} undirected edges: too few to keep any for training "
                         f"with val={val}, test={test}")
    generator = torch.Generator().manual_seed(seed)
    perm = torch.randperm(m, generator=generator)
    test_pos = pairs[:, perm[:n_test]]
    val_pos = pairs[:, perm[n_test:n_test + n_val]]
    train_pos = pairs[:, perm[n_test + n_val:]]
    train_pos = train_pos[:, torch.argsort(train_pos[0] * n + train_pos[1])]
    negatives = sample_non_edges(n, pairs[0] * n + pairs[1], n_test + n_val, generator)  # [2, n_test + n_val]
    test_neg, val_neg = negatives[:, :n_test], negatives[:, n_test:]
    both = torch.cat([train_pos, train_pos.flip(0)], 1)
    both = both[:, torch.argsort(both[0] * n + both[1])]                  # [2, 2 * P_train]
    return LinkSplit(n, train_pos, val_pos, val_neg, test_pos, test_neg, both)
