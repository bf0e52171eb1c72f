"""Node classification: the loss, the metric, and which nodes of which graphs count.

A task holds three lists of graphs (train, val, test) and, per graph, the mask
of nodes that count (``None`` = every node). Transductive Planetoid is the same
graph three times with its three masks; the inductive protocol trains on the
subgraph without validation and test nodes; PPI is lists of whole graphs.
Models are called as ``model(g.x, g.adj())``: the graph's cached sparse
adjacency, so normalizations are built once per graph and reused every epoch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from gnnkit.graph import Batch, Graph
from gnnkit.train.metrics import METRICS


@dataclass
class NodeClassification:
    """Args:
        train, val, test: lists of ``(graph, mask)``; mask ``[N]`` bool or ``None`` (all nodes).
        metric: ``'acc'`` (single label, ``y`` [N] int, cross-entropy) or
            ``'micro_f1'`` (multi-label, ``y`` [N, C] 0/1, binary cross-entropy).
        batch_size: graphs per training step (several graphs are merged with
            ``Batch.from_graphs``); ``None`` = all training graphs in one step.

    Example::

        g = karate_club()
        task = NodeClassification.transductive(g)
        loss, logits, y = task.loss(model, task.train_batches()[0])
    """

    train: list[tuple[Graph, torch.Tensor | None]]
    val: list[tuple[Graph, torch.Tensor | None]]
    test: list[tuple[Graph, torch.Tensor | None]]
    metric: str = "acc"
    batch_size: int | None = None
    _merged: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)} (got {self.metric!r})")

    @classmethod
    def transductive(cls, g: Graph, metric: str = "acc") -> "NodeClassification":
        """One graph, split by its ``train_mask``, ``val_mask``, ``test_mask``."""
        for name in ("train_mask", "val_mask", "test_mask"):
            if g.__getattr__(name) is None:
                raise ValueError(f"the graph has no {name}; transductive node classification needs all three masks")
        return cls([(g, g.train_mask)], [(g, g.val_mask)], [(g, g.test_mask)], metric)

    @classmethod
    def inductive(cls, g: Graph, metric: str = "acc") -> "NodeClassification":
        """Validation and test nodes (and their edges) unseen in training: train on the
        subgraph without them, validate on the graph without test nodes, test on the full graph."""
        from gnnkit.ops import subgraph

        def induced(keep: torch.Tensor) -> Graph:
            edge_index, _ = subgraph(keep.nonzero().view(-1), g.edge_index, g.num_nodes, relabel=True)
            fields = {k: g.__getattr__(k)[keep] for k in g.keys() if g.level(k) == "node"}
            return g.replace(num_nodes=int(keep.sum()), edge_index=edge_index, **fields)

        train_graph = induced(~(g.val_mask | g.test_mask))
        val_graph = induced(~g.test_mask)
        return cls([(train_graph, train_graph.train_mask)], [(val_graph, val_graph.val_mask)],
                   [(g, g.test_mask)], metric)

    # -------------------------------------------------------------- training
    def train_batches(self, generator: torch.Generator | None = None) -> list[tuple[Graph, torch.Tensor | None]]:
        """The training steps of one epoch: one per ``batch_size`` graphs, in a shuffled order
        (drawn from ``generator``) when there are several."""
        items = self.train
        if len(items) == 1:
            return items
        order = torch.randperm(len(items), generator=generator).tolist()
        size = self.batch_size or len(items)
        batches = []
        for start in range(0, len(items), size):
            chunk = [items[i] for i in order[start:start + size]]
            batches.append(self._merge(chunk))
        return batches

    @staticmethod
    def _merge(chunk):
        if len(chunk) == 1:
            return chunk[0]
        graphs = [g for g, _ in chunk]
        masks = [m if m is not None else torch.ones(g.num_nodes, dtype=torch.bool) for g, m in chunk]
        return Batch.from_graphs(graphs), torch.cat(masks)

    def loss(self, model, item) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(loss, logits, y)`` on the counted nodes of one ``(graph, mask)``."""
        g, mask = item
        logits = model(g.x, g.adj())                                      # [N, C]
        y = g.y
        if mask is not None:
            logits, y = logits[mask], y[mask]
        if self.metric == "micro_f1":
            loss = F.binary_cross_entropy_with_logits(logits, y.float())
        else:
            loss = F.cross_entropy(logits, y)
        return loss, logits, y

    def score(self, logits: torch.Tensor, y: torch.Tensor) -> float:
        return METRICS[self.metric](logits, y)

    # ------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self, model, split: str) -> dict:
        """``{'loss': ..., metric: ...}`` over every graph of ``split`` ('train', 'val', 'test'),
        in eval mode and without gradients; both ``None`` when the split has no nodes."""
        items = {"train": self.train, "val": self.val, "test": self.test}[split]
        was_training = model.training
        model.eval()
        losses, logits, ys = [], [], []
        for item in items:
            loss, out, y = self.loss(model, item)
            losses.append(loss * y.size(0))
            logits.append(out)
            ys.append(y)
        model.train(was_training)
        logits, ys = torch.cat(logits), torch.cat(ys)
        if ys.size(0) == 0:   # e.g. the karate club has no validation nodes
            return {"loss": None, self.metric: None}
        return {"loss": (sum(losses) / ys.size(0)).item(), self.metric: self.score(logits, ys)}

    @torch.no_grad()
    def embeddings(self, model, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
        """The model's last hidden layer (``model.embed``) on the counted nodes of ``split``, with their labels."""
        was_training = model.training
        model.eval()
        hs, ys = [], []
        for g, mask in {"train": self.train, "val": self.val, "test": self.test}[split]:
            h = model.embed(g.x, g.adj())
            hs.append(h if mask is None else h[mask])
            ys.append(g.y if mask is None else g.y[mask])
        model.train(was_training)
        return torch.cat(hs), torch.cat(ys)
