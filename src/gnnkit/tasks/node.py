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
from gnnkit.metrics import METRICS
from gnnkit.tasks.base import Step, check_split, evaluating

Item = tuple[Graph, "torch.Tensor | None"]


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
        step = task.loss(model, next(iter(task.train_batches())))
    """

    train: list[Item]
    val: list[Item]
    test: list[Item]
    metric: str = "acc"
    batch_size: int | None = None
    class_names: tuple[str, ...] | None = None
    higher_is_better: bool = field(default=True, init=False)

    def __post_init__(self):
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)} (got {self.metric!r})")
        if not self.train or all(m is not None and not bool(m.any()) for _, m in self.train):
            raise ValueError("the training split counts no node (empty train_mask); a model trained on nothing "
                             "reports meaningless accuracy: give train_mask some nodes")
        for split in ("train", "val", "test"):
            for g, mask in getattr(self, split):
                if g.get("y") is None:
                    raise ValueError(f"a {split} graph has no labels y; node classification needs y [N]")
                y = g.y if mask is None else g.y[mask]
                if self.metric == "acc" and y.numel() and int(y.min()) < 0:
                    raise ValueError(f"the {split} split counts a node with label {int(y.min())} (unlabelled); "
                                     f"drop such nodes from {split}_mask")

    @classmethod
    def transductive(cls, g: Graph, metric: str = "acc") -> "NodeClassification":
        """One graph, split by its ``train_mask``, ``val_mask``, ``test_mask``."""
        for name in ("train_mask", "val_mask", "test_mask"):
            if g.get(name) is None:
                raise ValueError(f"the graph has no {name}; transductive node classification needs all three masks")
        return cls([(g, g.train_mask)], [(g, g.val_mask)], [(g, g.test_mask)], metric)

    @classmethod
    def inductive(cls, g: Graph, metric: str = "acc") -> "NodeClassification":
        """Validation and test nodes (and their edges) unseen in training: train on the
        subgraph without them, validate on the graph without test nodes, test on the full graph."""
        from gnnkit.ops import subgraph

        def induced(keep: torch.Tensor) -> Graph:
            edge_index, _ = subgraph(keep.nonzero().view(-1), g.edge_index, g.num_nodes, relabel=True)
            fields = {k: g.get(k)[keep] for k in g.keys() if g.level(k) == "node"}
            return g.replace(num_nodes=int(keep.sum()), edge_index=edge_index, **fields)

        train_graph = induced(~(g.val_mask | g.test_mask))
        val_graph = induced(~g.test_mask)
        return cls([(train_graph, train_graph.train_mask)], [(val_graph, val_graph.val_mask)],
                   [(g, g.test_mask)], metric)

    def map_graphs(self, fn) -> "NodeClassification":
        """The same task with ``fn(graph)`` in place of every graph (each distinct graph mapped once)."""
        done: dict[int, Graph] = {}

        def convert(items):
            out = []
            for g, mask in items:
                if id(g) not in done:
                    done[id(g)] = fn(g)
                out.append((done[id(g)], mask))
            return out

        return NodeClassification(convert(self.train), convert(self.val), convert(self.test), self.metric,
                                  self.batch_size, self.class_names)

    def to(self, device) -> "NodeClassification":
        """The same task with every graph and mask on ``device`` (each distinct graph moved once)."""
        moved = self.map_graphs(lambda g: g.to(device))
        for items in (moved.train, moved.val, moved.test):
            items[:] = [(g, None if mask is None else mask.to(device)) for g, mask in items]
        return moved

    # -------------------------------------------------------------- the protocol
    def model_args(self) -> dict:
        g = self.train[0][0]
        if self.metric == "micro_f1":
            return {"in_channels": g.num_features, "out_channels": g.y.size(1)}
        ys = torch.cat([t[0].y.reshape(-1) for t in self.train + self.val + self.test])
        return {"in_channels": g.num_features, "out_channels": int(ys.max()) + 1}

    def train_batches(self) -> list[Item]:
        """The training steps of one epoch: one per ``batch_size`` graphs, in a shuffled order
        (from the global torch generator) when there are several."""
        items = self.train
        if len(items) == 1:
            return items
        order = torch.randperm(len(items)).tolist()
        size = self.batch_size or len(items)
        return [self._merge([items[i] for i in order[start:start + size]]) for start in range(0, len(items), size)]

    @staticmethod
    def _merge(chunk: list[Item]) -> Item:
        if len(chunk) == 1:
            return chunk[0]
        graphs = [g for g, _ in chunk]
        masks = [m if m is not None else torch.ones(g.num_nodes, dtype=torch.bool, device=g.edge_index.device)
                 for g, m in chunk]
        return Batch.from_graphs(graphs), torch.cat(masks)

    def loss(self, model, item: Item) -> Step:
        """Cross-entropy (or binary cross-entropy for ``micro_f1``) on the counted nodes of one ``(graph, mask)``."""
        g, mask = item
        logits = model(g.x, g.adj())                                      # [N, C]
        y = g.y
        if mask is not None:
            logits, y = logits[mask], y[mask]
        if self.metric == "micro_f1":
            loss = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype))
        else:
            if y.numel() and int(y.max()) >= logits.size(-1):
                raise ValueError(f"label {int(y.max())} is out of range for a model with {logits.size(-1)} classes; "
                                 f"build the model with out_channels >= {int(y.max()) + 1} (task.model_args())")
            loss = F.cross_entropy(logits, y)
        return Step(loss, y.size(0), logits.detach(), y)

    def train_metrics(self, steps: list[Step]) -> dict:
        out = torch.cat([s.output for s in steps])
        y = torch.cat([s.target for s in steps])
        return {self.metric: METRICS[self.metric](out, y) if y.numel() else None}

    def evaluate(self, model, split: str) -> dict:
        """``{'loss': ..., metric: ...}`` over every graph of ``split``; both ``None`` when the split
        has no counted nodes (the karate club has no validation nodes)."""
        items = getattr(self, check_split(split))
        with evaluating(model):
            steps = [self.loss(model, item) for item in items]
        n = sum(s.size for s in steps)
        if n == 0:
            return {"loss": None, self.metric: None}
        loss = sum(s.loss.item() * s.size for s in steps) / n
        return {"loss": loss, **self.train_metrics(steps)}

    def embeddings(self, model, split: str = "test", mask: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The model's last hidden layer (``model.embed``) on the counted nodes of ``split`` (every node
        of its graphs with ``mask=False``), with their labels."""
        hs, ys = [], []
        with evaluating(model):
            for g, m in getattr(self, check_split(split)):
                mask = m if mask else None
                h = model.embed(g.x, g.adj())
                hs.append(h if mask is None else h[mask])
                ys.append(g.y if mask is None else g.y[mask])
        return torch.cat(hs), torch.cat(ys)
