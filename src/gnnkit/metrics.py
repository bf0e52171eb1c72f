"""Metrics of every task, as plain functions of predictions and targets.

Each takes tensors (or, for BLEU, strings) and returns a Python float; an empty input gives
``nan``. ``METRICS`` maps the names experiments use to the functions that take
``(output, target)``.
"""
from __future__ import annotations

import torch


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals ``y``. logits: [N, C]; y: [N] int."""
    if y.numel() == 0:
        return float("nan")
    return (logits.argmax(-1) == y).float().mean().item()


def micro_f1(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Micro-averaged F1 of multi-label predictions ``logits > 0`` against 0/1 ``y`` ([N, C] both)."""
    pred = logits > 0
    truth = y > 0.5
    tp = (pred & truth).sum().item()
    fp = (pred & ~truth).sum().item()
    fn = (~pred & truth).sum().item()
    return 2 * tp / max(2 * tp + fp + fn, 1)


METRICS = {"acc": accuracy, "micro_f1": micro_f1}
