"""Graph classification: one label per graph, a model that ends in a readout, accuracy.

The task holds a list of graphs (a ``Dataset`` whose graphs already carry ``x``) and three
index tensors into it. Training batches are ``Batch`` es of ``batch_size`` graphs in a fresh
shuffled order every epoch (from the global torch generator); evaluation batches are collated
once and reused. Models are called as ``model(batch)`` and return ``[B, C]`` logits, or
``(logits, aux)`` where ``aux`` is a scalar added to the loss (DiffPool's link-prediction and
entropy terms).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Sequence

import torch
import torch.nn.functional as F

from gnnkit.graph import Batch, Graph
from gnnkit.metrics import accuracy
from gnnkit.tasks.base import Step, check_split, evaluating


def _index(idx, n: int, name: str) -> torch.Tensor:
    idx = torch.as_tensor(idx, dtype=torch.long).view(-1)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"{name} refers to graph {int(idx.max()) if int(idx.max()) >= n else int(idx.min())} "
                         f"but there are {n} graphs (ids 0..{n - 1})")
    return idx


@dataclass
class GraphClassification:
    """Args:
        graphs: the graphs, each with ``x`` [N_i, F] and a graph-level label ``y`` (int64 scalar).
        train_idx, val_idx, test_idx: ids into ``graphs``. ``val_idx`` may equal ``test_idx`` (the
            GIN paper's protocol reports the validation curve of the test fold).
        batch_size: graphs per training step (default 32).
        eval_batch_size: graphs per evaluation step (default 512; only memory depends on it).
        iters_per_epoch: ``None`` = one pass over the training graphs per epoch; an int =
            that many batches per epoch, each ``batch_size`` graphs drawn afresh without
            replacement (the GIN authors' code: 50).
        num_classes: ``None`` = one more than the largest label.

    Example::

        ds = TUDataset(root, "MUTAG", transform=OneHotNodeLabels(...))
        task = GraphClassification(ds, train_idx, val_idx, test_idx, batch_size=32)
        fit(GIN(**task.model_args(), hidden_channels=32), task, TrainConfig(epochs=100))
    """

    graphs: Sequence[Graph]
    train_idx: torch.Tensor
    val_idx: torch.Tensor
    test_idx: torch.Tensor
    batch_size: int = 32
    eval_batch_size: int = 512
    iters_per_epoch: int | None = None
    num_classes: int | None = None
    metric: str = field(default="acc", init=False)
    higher_is_better: bool = field(default=True, init=False)
    _eval: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        n = len(self.graphs)
        if n == 0:
            raise ValueError("GraphClassification needs at least one graph")
        self.train_idx = _index(self.train_idx, n, "train_idx")
        self.val_idx = _index(self.val_idx, n, "val_idx")
        self.test_idx = _index(self.test_idx, n, "test_idx")
        if self.train_idx.numel() == 0:
            raise ValueError("train_idx is empty; graph classification needs training graphs")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {self.batch_size!r})")
        g = self.graphs[0]
        if g.get("x") is None:
            raise ValueError("the graphs have no node features x; give them some first, e.g. "
                             "transforms.OneHotDegree(max_degree) or transforms.Constant()")
        if self.num_classes is None:
            self.num_classes = int(max(int(self.graphs[i].y) for i in range(n))) + 1

    def to(self, device) -> "GraphClassification":
        """The same task with every graph on ``device``, so batches are collated there."""
        return replace(self, graphs=[g.to(device) for g in self.graphs])

    # -------------------------------------------------------------- the protocol
    def model_args(self) -> dict:
        return {"in_channels": self.graphs[0].num_features, "out_channels": self.num_classes}

    def _collate(self, ids: list[int]) -> Batch:
        return Batch.from_graphs([self.graphs[i] for i in ids])

    def train_batches(self):
        """Batches of one epoch, collated lazily so only one is in memory at a time."""
        ids = self.train_idx
        if self.iters_per_epoch is None:
            order = ids[torch.randperm(ids.numel())].tolist()
            for start in range(0, len(order), self.batch_size):
                yield self._collate(order[start:start + self.batch_size])
        else:
            for _ in range(self.iters_per_epoch):
                pick = torch.randperm(ids.numel())[:self.batch_size]
                yield self._collate(ids[pick].tolist())

    def eval_batches(self, split: str) -> list[Batch]:
        """The split's graphs in file order, collated once (``eval_batch_size`` a batch)."""
        if split not in self._eval:
            ids = getattr(self, f"{check_split(split)}_idx").tolist()
            self._eval[split] = [self._collate(ids[s:s + self.eval_batch_size])
                                 for s in range(0, len(ids), self.eval_batch_size)]
        return self._eval[split]

    def loss(self, model, batch: Batch) -> Step:
        """Cross-entropy of ``model(batch)``'s ``[B, C]`` logits against ``batch.y`` (plus ``aux``)."""
        out = model(batch)
        logits, aux = out if isinstance(out, tuple) else (out, None)
        y = batch.y.view(-1)
        if logits.dim() != 2 or logits.size(0) != y.size(0):
            raise ValueError(f"a graph-classification model must return [B, C] logits, one row per graph "
                             f"(got shape {list(logits.shape)} for {y.size(0)} graphs); end it with a readout "
                             "such as nn.global_add_pool")
        if y.numel() and (int(y.max()) >= logits.size(-1) or int(y.min()) < 0):
            bad = int(y.max()) if int(y.max()) >= logits.size(-1) else int(y.min())
            raise ValueError(f"graph label {bad} is out of range for a model with {logits.size(-1)} classes; "
                             f"labels must be 0..C-1 and out_channels = C (task.model_args())")
        loss = F.cross_entropy(logits, y)
        if aux is not None:
            loss = loss + aux
        return Step(loss, y.size(0), logits.detach(), y)

    def train_metrics(self, steps: list[Step]) -> dict:
        y = torch.cat([s.target for s in steps])
        return {"acc": accuracy(torch.cat([s.output for s in steps]), y) if y.numel() else None}

    def evaluate(self, model, split: str) -> dict:
        batches = self.eval_batches(split)
        if not batches:
            return {"loss": None, "acc": None}
        with evaluating(model):
            steps = [self.loss(model, b) for b in batches]
        n = sum(s.size for s in steps)
        return {"loss": sum(s.loss.item() * s.size for s in steps) / n, **self.train_metrics(steps)}

    def embeddings(self, model, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
        """The graph vectors (``model.embed(batch)``) of ``split``'s graphs, with their labels."""
        hs, ys = [], []
        with evaluating(model):
            for b in self.eval_batches(split):
                hs.append(model.embed(b))
                ys.append(b.y.view(-1))
        return torch.cat(hs), torch.cat(ys)
