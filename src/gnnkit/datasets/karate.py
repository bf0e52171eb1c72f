"""Zachary's karate club (shipped with networkx): the default, download-free dataset."""
from __future__ import annotations

import torch

from gnnkit.graph import Graph

FACTIONS = ("Mr. Hi", "Officer")   # label 0 and 1


def karate_club(labels_per_class: int = 4, seed: int = 0) -> Graph:
    """Zachary's karate club: 34 members, 78 friendships (156 directed edges), and
    the two factions after the split ("Mr. Hi" = 0, "Officer" = 1) as labels.

    Features are one-hot node ids (``x = I``), as in Kipf & Welling's karate demo.
    ``train_mask`` holds ``labels_per_class`` members of each faction, always
    including the two leaders (node 0, Mr. Hi, and node 33, the officer) and
    drawn with ``seed`` otherwise; ``test_mask`` holds every other member and
    ``val_mask`` is empty (34 nodes are too few to spare a validation set).

    Example::

        g = karate_club()
        g.num_nodes, g.num_edges, int(g.train_mask.sum())   # (34, 156, 8)
    """
    import networkx as nx

    nxg = nx.karate_club_graph()
    n = nxg.number_of_nodes()
    y = torch.tensor([FACTIONS.index(nxg.nodes[v]["club"]) for v in range(n)])
    pairs = [(u, v) for u, v in nxg.edges()] + [(v, u) for u, v in nxg.edges()]
    edge_index = torch.tensor(pairs, dtype=torch.long).t()
    if labels_per_class < 1:
        raise ValueError(f"labels_per_class must be >= 1 (got {labels_per_class})")
    gen = torch.Generator().manual_seed(seed)
    train = torch.zeros(n, dtype=torch.bool)
    for label, leader in ((0, 0), (1, 33)):
        members = (y == label).nonzero().view(-1)
        if labels_per_class > members.numel():
            raise ValueError(f"labels_per_class={labels_per_class} exceeds the {members.numel()} members of faction {label}")
        others = members[members != leader]
        pick = others[torch.randperm(others.numel(), generator=gen)[: labels_per_class - 1]]
        train[leader] = True
        train[pick] = True
    return Graph(x=torch.eye(n), edge_index=edge_index, y=y, y_level="node", train_mask=train,
                 val_mask=torch.zeros(n, dtype=torch.bool), test_mask=~train)
