"""The one training loop every task shares.

Per epoch: one optimizer step per training batch, then validation under
``no_grad``; the early-stopping rule decides whether this is the best model so
far and whether to stop. The loop writes a metrics log (JSON lines), shows a
progress bar with live metrics, and checkpoints everything it needs
(model, optimizer, stopping rule, best model, history, random states) so that
``resume=True`` continues an interrupted run to the same result.
"""
from __future__ import annotations

import copy
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from gnnkit.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_jsonl
from gnnkit.train.optim import l2_penalty, make_optimizer
from gnnkit.train.seed import rng_state, set_rng_state
from gnnkit.train.stopping import make_stopping


SELECT = ("rule", "val_loss", "val_metric")


@dataclass
class TrainConfig:
    """How to train (the model and data are separate).

    Args:
        epochs: most epochs to run.
        lr, weight_decay, optimizer: optimizer settings (``'adam'``, ``'sgd'``, ``'adamw'``).
        decay: parameter-name prefixes that get ``weight_decay`` (``None`` = all).
        stopping: ``'gcn'`` (val loss above the mean of the last ``patience`` epochs),
            ``'gat'`` (``patience`` epochs without a better val loss or metric) or ``None``.
        patience: window (``'gcn'``) or patience (``'gat'``).
        restore_best: load the best model before testing (``False``: test the last one).
        val_loss_l2: the stopping rule (and ``select='rule'``) sees the validation loss plus
            the L2 term of the objective, :func:`l2_penalty` (``weight_decay / 2 * ||p||^2`` over
            the ``decay`` parameters), logged as ``val_loss_l2``. Kipf & Welling's
            ``gcn/train.py`` records ``model.loss`` in ``cost_val``, and ``model.loss``
            includes the weight decay term (``gcn/models.py``, ``_loss``).
        select: which model is best: ``'rule'`` (the stopping rule's own notion: lowest
            validation loss for ``'gcn'``, loss and metric both at their best for ``'gat'``),
            ``'val_loss'`` (lowest validation loss) or ``'val_metric'`` (highest metric).
        quiet: no progress bar (it is also off when stderr is not a terminal).
        checkpoint_every: epochs between checkpoints (when a checkpoint path is given).
        lr_step, lr_gamma: multiply the learning rate by ``lr_gamma`` every ``lr_step`` epochs
            (``None``: constant; the GIN paper halves it every 50).
        clip_grad: clip the gradients' global 2-norm to this value before each step (``None``: no clipping).
    """

    epochs: int = 200
    lr: float = 0.01
    weight_decay: float = 0.0
    decay: tuple[str, ...] | None = None
    optimizer: str = "adam"
    stopping: str | None = None
    patience: int = 10
    restore_best: bool = False
    val_loss_l2: bool = False
    select: str = "rule"
    quiet: bool = False
    checkpoint_every: int = 1
    lr_step: int | None = None
    lr_gamma: float = 0.5
    clip_grad: float | None = None

    def __post_init__(self):
        checks = [("epochs", self.epochs, self.epochs >= 1), ("lr", self.lr, self.lr > 0),
                  ("weight_decay", self.weight_decay, self.weight_decay >= 0),
                  ("patience", self.patience, self.patience >= 1),
                  ("checkpoint_every", self.checkpoint_every, self.checkpoint_every >= 1),
                  ("lr_step", self.lr_step, self.lr_step is None or self.lr_step >= 1),
                  ("clip_grad", self.clip_grad, self.clip_grad is None or self.clip_grad > 0)]
        for name, value, ok in checks:
            if not ok:
                raise ValueError(f"{name} must be positive (got {value!r})")
        if self.select not in SELECT:
            raise ValueError(f"select must be one of {SELECT} (got {self.select!r})")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["decay"] = None if self.decay is None else list(self.decay)
        return d


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or a callback's KeyboardInterrupt) during :func:`fit`: ``epoch`` epochs are done and,
    with a checkpoint path, saved there; ``fit(..., resume=True)`` continues from them."""

    def __init__(self, epoch: int, checkpoint_path: Path | None):
        self.epoch, self.checkpoint_path = epoch, checkpoint_path
        where = f"; rerun with --resume to continue from {checkpoint_path}" if checkpoint_path else ""
        super().__init__(f"interrupted at epoch {epoch}{where}")


# Settings that may change between an interrupted run and its resumption (they change no result).
RESUMABLE_CHANGES = ("quiet", "checkpoint_every")


def _check_resumable(ckpt: dict, config: "TrainConfig", model: torch.nn.Module, path) -> None:
    saved = dict(ckpt.get("config") or {})
    now = config.to_dict()
    differ = [f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in sorted(set(saved) | set(now))
              if k not in RESUMABLE_CHANGES and saved.get(k) != now.get(k)]
    if differ:
        raise CheckpointError(f"{path} was written with other settings ({'; '.join(differ)}); resume with the "
                              "same settings, or start a new run with --overwrite")
    mine = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in ckpt["model"].items()}
    if mine != theirs:
        diff = sorted(set(mine) ^ set(theirs)) or sorted(k for k in mine if mine[k] != theirs[k])
        raise CheckpointError(f"{path} holds another model's weights (differing: {', '.join(diff[:4])}"
                              f"{' ...' if len(diff) > 4 else ''}); pass the --out of that model's run, or "
                              "--overwrite to start afresh")


@dataclass
class FitResult:
    """What one run produced: final metrics per split, the per-epoch history, timing."""

    train: dict
    val: dict
    test: dict
    epochs: int
    best_epoch: int
    seconds: float
    history: list[dict] = field(default_factory=list)


def _bar(total: int, initial: int, quiet: bool):
    disable = quiet or not sys.stderr.isatty()
    return tqdm(total=total, initial=initial, disable=disable, unit="epoch", dynamic_ncols=True, leave=False)


def fit(model: torch.nn.Module, task, config: TrainConfig, log_path: str | Path | None = None,
        checkpoint_path: str | Path | None = None, resume: bool = False,
        callbacks: tuple[Callable[[int, dict], None], ...] = ()) -> FitResult:
    """Train ``model`` on ``task`` (any :class:`gnnkit.tasks.Task`) and test it.

    Seed the random generators *before* building the model (``seed_everything``);
    the loop draws dropout and batch orders from the global torch generator,
    whose state the checkpoint carries. ``callbacks`` are called as
    ``cb(epoch, row)`` after each epoch's checkpoint; an exception there stops
    the run as an interruption would (and ``resume=True`` picks it up).

    Example::

        seed_everything(0)
        model = GCN(34, 16, 2)
        result = fit(model, NodeClassification.transductive(karate_club()), TrainConfig(epochs=100))
        result.test["acc"]
    """
    optimizer = make_optimizer(model, config.optimizer, config.lr, config.weight_decay, config.decay)
    stopping = make_stopping(config.stopping, config.patience)
    scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, config.lr_step, config.lr_gamma)
                 if config.lr_step else None)
    metric, sign = task.metric, (1.0 if task.higher_is_better else -1.0)
    history: list[dict] = []
    best_state, best_epoch, best_score, start, done, elapsed = None, 0, -math.inf, 0, False, 0.0
    if resume:
        ckpt = load_checkpoint(checkpoint_path)
        _check_resumable(ckpt, config, model, checkpoint_path)
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        stopping.load_state_dict(ckpt["stopping"])
        if scheduler is not None:
            scheduler.load_state_dict(ckpt["scheduler"])
        best_state, best_epoch, history = ckpt["best_model"], ckpt["best_epoch"], ckpt["history"]
        best_score = ckpt["best_score"]
        start, done, elapsed = ckpt["epoch"], ckpt["done"], ckpt["seconds"]
        set_rng_state(ckpt["rng"])
        if log_path is not None:
            write_jsonl(history, log_path)
    elif log_path is not None:
        write_jsonl([], log_path)

    def checkpoint(epoch: int) -> None:
        save_checkpoint({
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "stopping": stopping.state_dict(),
            "scheduler": None if scheduler is None else scheduler.state_dict(),
            "best_model": best_state, "best_epoch": best_epoch, "best_score": best_score, "history": history,
            "epoch": epoch,
            "done": done, "seconds": elapsed + time.perf_counter() - t0, "rng": rng_state(),
            "config": config.to_dict(),
        }, checkpoint_path)

    t0 = time.perf_counter()
    log = open(log_path, "a") if log_path is not None else None
    bar = _bar(config.epochs, start, config.quiet)
    try:
        for epoch in range(start, config.epochs):
            if done:
                break
            model.train()
            steps = []
            for batch in task.train_batches():
                optimizer.zero_grad()
                step = task.loss(model, batch)
                step.loss.backward()
                if config.clip_grad is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip_grad)
                optimizer.step()
                step.loss = step.loss.detach()
                steps.append(step)
            if scheduler is not None:
                scheduler.step()
            n = sum(s.size for s in steps)
            train_loss = (sum(s.loss * s.size for s in steps) / max(n, 1)).item()
            if not math.isfinite(train_loss):
                raise FloatingPointError(f"the training loss is {train_loss} at epoch {epoch + 1}; check the "
                                         "inputs for NaN/inf or lower the learning rate")
            train_metrics = task.train_metrics(steps)
            val = task.evaluate(model, "val")
            stop_loss = val["loss"]
            if config.val_loss_l2 and stop_loss is not None:
                stop_loss += l2_penalty(model, config.weight_decay, config.decay)
            val_score = None if val.get(metric) is None else sign * val[metric]
            improved, done = (False, False) if stop_loss is None else stopping.step(stop_loss, val_score)
            if config.select != "rule" and val["loss"] is not None:
                score = -val["loss"] if config.select == "val_loss" else val_score
                improved, best_score = score > best_score, max(score, best_score)
            if improved:
                best_epoch = epoch + 1
                if config.restore_best:
                    best_state = copy.deepcopy(model.state_dict())
            row = {"epoch": epoch + 1, "train_loss": train_loss,
                   **{f"train_{k}": v for k, v in train_metrics.items()},
                   **{f"val_{k}": v for k, v in val.items()}}
            if config.val_loss_l2:
                row["val_loss_l2"] = stop_loss
            history.append(row)
            if log is not None:
                log.write(json.dumps(row) + "\n")
                log.flush()
            bar.update(1)
            shown = {"loss": f"{train_loss:.3f}"}
            if train_metrics.get(metric) is not None:
                shown["train"] = f"{train_metrics[metric]:.3f}"
            if val.get(metric) is not None:
                shown["val"] = f"{val[metric]:.3f}"
            bar.set_postfix(**shown)
            if checkpoint_path is not None and ((epoch + 1) % config.checkpoint_every == 0 or done
                                                or epoch + 1 == config.epochs):
                checkpoint(epoch + 1)
            for cb in callbacks:
                cb(epoch + 1, row)
    except KeyboardInterrupt as err:
        if isinstance(err, TrainingInterrupted):
            raise
        raise TrainingInterrupted(len(history), Path(checkpoint_path) if checkpoint_path else None) from None
    finally:
        bar.close()
        if log is not None:
            log.close()
    if config.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    result = FitResult(train=task.evaluate(model, "train"), val=task.evaluate(model, "val"),
                       test=task.evaluate(model, "test"), epochs=len(history), best_epoch=best_epoch,
                       seconds=elapsed + time.perf_counter() - t0, history=history)
    return result
