"""The Task protocol: what the one training loop (:func:`gnnkit.train.fit`) asks of every task.

A task owns the data of one protocol (a split of graphs, nodes, edges, windows or sentence
pairs) and decides everything that depends on what is being learned: how batches are made,
how the model is called on one of them, what the loss is, and which metrics an evaluation
reports. The trainer only loops, steps the optimizer, stops early and checkpoints; it never
sees graphs, masks, adjacency or labels.

.. code-block:: text

    for epoch:
        for batch in task.train_batches():      # any object; the trainer does not look inside
            step = task.loss(model, batch)      # Step(loss, size, output, target)
            step.loss.backward(); optimizer.step()
        task.train_metrics(steps)               # {'acc': ...} from the epoch's outputs
        task.evaluate(model, 'val')             # {'loss': ..., 'acc': ..., ...}
        select / stop on evaluate(...)[task.metric] (negated when not task.higher_is_better)

A task also says what the model must look like: ``task.model_args()`` gives the keyword
arguments fixed by the data (``in_channels``, ``out_channels``, vocabulary sizes, ...) that
:func:`gnnkit.models.build_model` adds to the experiment's hyper-parameters.

Randomness (batch order, negative samples, dropout) comes from the global torch generator,
whose state the trainer's checkpoint carries, so an interrupted run resumes to the same result.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Protocol, runtime_checkable

import torch

SPLITS = ("train", "val", "test")


@dataclass
class Step:
    """One training or evaluation step's result.

    Args:
        loss: scalar tensor, the mean loss over the step's ``size`` items (backpropagated in training).
        size: how many items (nodes, graphs, edges, windows, tokens) the loss averages over; the
            epoch's loss is the size-weighted mean of its steps.
        output, target: the step's predictions and targets, detached, for the epoch's training
            metrics (``task.train_metrics``); ``None`` when the task reports none.
    """

    loss: torch.Tensor
    size: int
    output: Any = None
    target: Any = None


@runtime_checkable
class Task(Protocol):
    """What every task implements (node, graph, link, forecast, seq2seq).

    Attributes:
        metric: the key of ``evaluate``'s dict that selects the model and feeds early stopping.
        higher_is_better: ``True`` for accuracy / AUC / BLEU, ``False`` for MAE / RMSE.
    """

    metric: str
    higher_is_better: bool

    def model_args(self) -> dict:
        """Model keyword arguments the data fixes, e.g. ``{'in_channels': 1433, 'out_channels': 7}``."""

    def train_batches(self) -> Iterable[Any]:
        """The training steps of one epoch (shuffled from the global torch generator)."""

    def loss(self, model: torch.nn.Module, batch: Any) -> Step:
        """Call ``model`` on ``batch`` (the task decides how) and return its :class:`Step`."""

    def train_metrics(self, steps: list[Step]) -> dict[str, float | None]:
        """Metrics of one training epoch from its steps' detached outputs (may be ``{}``)."""

    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float | None]:
        """``{'loss': ..., metric: ..., ...}`` over ``split`` ('train', 'val' or 'test'), in eval mode
        without gradients; values are ``None`` when the split is empty."""


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (got {split!r})")
    return split


class evaluating:
    """Context manager: the model in eval mode and no gradients inside; its previous mode after."""

    def __init__(self, model: torch.nn.Module):
        self.model = model

    def __enter__(self):
        self.was_training = self.model.training
        self.model.eval()
        self.no_grad = torch.no_grad()
        self.no_grad.__enter__()
        return self.model

    def __exit__(self, *exc):
        self.no_grad.__exit__(*exc)
        self.model.train(self.was_training)
        return False
