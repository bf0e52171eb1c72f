"""Early stopping rules of the papers' own code.

Each rule sees the validation loss and metric once per epoch and answers two
questions: is this the best model so far (keep it for restoring), and should
training stop. Their state is plain numbers so a checkpoint can carry it.
"""
from __future__ import annotations

import math


class GCNStopping:
    """Kipf & Welling (2017): stop when the validation loss exceeds the mean of
    the previous ``window`` epochs' validation losses (``window`` = 10 in the
    paper), checked from epoch ``window + 2`` on: the authors' ``gcn/train.py``
    tests ``epoch > FLAGS.early_stopping and cost_val[-1] >
    np.mean(cost_val[-(FLAGS.early_stopping+1):-1])`` with a 0-based ``epoch``.
    The best model is the one with the lowest validation loss (the authors' code
    keeps no best model: it tests the last one, ``restore_best=False``).

    Example::

        stop = GCNStopping(window=10)
        improved, done = stop.step(val_loss=0.9, val_metric=0.7)
    """

    def __init__(self, window: int = 10):
        if window < 1:
            raise ValueError(f"window must be >= 1 (got {window})")
        self.window = window
        self.losses: list[float] = []
        self.best_loss = math.inf

    def step(self, val_loss: float, val_metric: float) -> tuple[bool, bool]:
        self.losses.append(float(val_loss))
        improved = val_loss < self.best_loss
        self.best_loss = min(self.best_loss, float(val_loss))
        previous = self.losses[-(self.window + 1):-1]
        done = len(self.losses) > self.window + 1 and val_loss > sum(previous) / len(previous)
        return improved, done

    def state_dict(self) -> dict:
        return {"losses": list(self.losses), "best_loss": self.best_loss}

    def load_state_dict(self, state: dict) -> None:
        self.losses, self.best_loss = list(state["losses"]), float(state["best_loss"])


class GATStopping:
    """Veličković et al. (2018): patience on validation loss *and* metric.

    An epoch whose loss is at most the lowest so far *or* whose metric is at least
    the highest so far resets the counter; the model is kept (best) when both
    hold. Training stops after ``patience`` epochs (100 in the paper) without
    a reset.

    Example::

        stop = GATStopping(patience=100)
        improved, done = stop.step(val_loss=0.9, val_metric=0.7)
    """

    def __init__(self, patience: int = 100):
        if patience < 1:
            raise ValueError(f"patience must be >= 1 (got {patience})")
        self.patience = patience
        self.best_loss, self.best_metric, self.bad_epochs = math.inf, -math.inf, 0

    def step(self, val_loss: float, val_metric: float) -> tuple[bool, bool]:
        better_loss, better_metric = val_loss <= self.best_loss, val_metric >= self.best_metric
        improved = better_loss and better_metric
        if better_loss or better_metric:
            self.best_loss = min(self.best_loss, float(val_loss))
            self.best_metric = max(self.best_metric, float(val_metric))
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return improved, self.bad_epochs >= self.patience

    def state_dict(self) -> dict:
        return {"best_loss": self.best_loss, "best_metric": self.best_metric, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best_loss, self.best_metric = float(state["best_loss"]), float(state["best_metric"])
        self.bad_epochs = int(state["bad_epochs"])


class NoStopping:
    """Run every epoch; the best model is the one with the highest validation metric."""

    def __init__(self):
        self.best_metric = -math.inf

    def step(self, val_loss: float, val_metric: float) -> tuple[bool, bool]:
        improved = val_metric > self.best_metric
        self.best_metric = max(self.best_metric, float(val_metric))
        return improved, False

    def state_dict(self) -> dict:
        return {"best_metric": self.best_metric}

    def load_state_dict(self, state: dict) -> None:
        self.best_metric = float(state["best_metric"])


def make_stopping(rule: str | None, patience: int) -> GCNStopping | GATStopping | NoStopping:
    """``'gcn'`` (window = ``patience``), ``'gat'`` (patience) or ``None``."""
    if rule == "gcn":
        return GCNStopping(patience)
    if rule == "gat":
        return GATStopping(patience)
    if rule is None or rule == "none":
        return NoStopping()
    raise ValueError(f"early stopping rule must be 'gcn', 'gat' or None (got {rule!r})")
