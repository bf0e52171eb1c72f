"""Mini-batches of small graphs: ``DataLoader`` collates lists of graphs into a ``Batch``.

Example::

    loader = DataLoader(dataset, batch_size=32, shuffle=True, seed=0)
    for batch in loader:          # Batch: batch.batch [N], batch.ptr [B + 1], batch.y [B]
        out = model(batch)
"""
from __future__ import annotations

from typing import Sequence

import torch

from gnnkit.graph import Batch, Graph


class DataLoader:
    """Iterate over graphs in batches, each collated to one block-diagonal ``Batch``.

    Args:
        graphs: a ``Dataset`` or any sequence of ``Graph`` (indexable, with ``len``).
        batch_size: graphs per batch (default 1).
        shuffle: draw a new order every epoch (default ``False``: file order).
        drop_last: drop the last batch when it has fewer than ``batch_size`` graphs.
        seed: seeds the shuffling; epoch ``e`` uses ``seed + e``, so a run is
            reproducible and each epoch differs. Without it, the global torch RNG is used.

    Shapes: each batch has ``x`` [N, F] (N = nodes of its graphs), ``edge_index``
    [2, E] shifted per graph, ``batch`` [N], ``ptr`` [B + 1], graph-level ``y`` [B].
    """

    def __init__(self, graphs: Sequence[Graph], batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, seed: int | None = None):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {batch_size!r})")
        if not hasattr(graphs, "__len__") or not hasattr(graphs, "__getitem__"):
            raise TypeError(f"DataLoader needs an indexable sequence of graphs (got {type(graphs).__name__})")
        self.graphs = graphs
        self.batch_size, self.shuffle, self.drop_last, self.seed = batch_size, shuffle, drop_last, seed
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.graphs)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> torch.Tensor:
        n = len(self.graphs)
        if not self.shuffle:
            return torch.arange(n)
        gen = None
        if self.seed is not None:
            gen = torch.Generator().manual_seed(self.seed + self.epoch)
        return torch.randperm(n, generator=gen)

    def __iter__(self):
        order = self._order().tolist()
        self.epoch += 1
        for i in range(len(self)):
            chunk = order[i * self.batch_size: (i + 1) * self.batch_size]
            yield Batch.from_graphs([self.graphs[j] for j in chunk])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.graphs)} graphs, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
