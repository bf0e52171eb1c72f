"""Metrics of every task, as plain functions of predictions and targets.

Each takes tensors (or, for BLEU, strings) and returns a Python float; an empty input gives
``nan``. ``METRICS`` maps the names experiments use to the functions that take
``(output, target)``.
"""
from __future__ import annotations

import math
from collections import Counter

import torch


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals ``y``. logits: [N, C]; y: [N] int."""
    if y.numel() == 0:
        return float("nan")
    return (logits.argmax(-1) == y).float().mean().item()


def micro_f1(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Micro-averaged F1 of multi-label predictions ``logits > 0`` against 0/1 ``y`` ([N, C] both)."""
    if y.numel() == 0:
        return float("nan")
    pred = logits > 0
    truth = y > 0.5
    tp = (pred & truth).sum().item()
    fp = (pred & ~truth).sum().item()
    fn = (~pred & truth).sum().item()
    return 2 * tp / max(2 * tp + fp + fn, 1)


def mae(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute error :math:`\\frac{1}{n}\\sum |\\hat y - y|` over every entry (any equal shapes)."""
    if target.numel() == 0:
        return float("nan")
    return (pred - target).abs().mean().item()


def rmse(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Root mean squared error :math:`\\sqrt{\\frac{1}{n}\\sum (\\hat y - y)^2}` over every entry."""
    if target.numel() == 0:
        return float("nan")
    return (pred - target).pow(2).mean().sqrt().item()


def mape(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute percentage error :math:`\\frac{1}{n}\\sum |\\hat y - y| / |y|` as a fraction,
    over the entries with ``target != 0`` only (a zero speed is a missing reading in traffic data,
    and would divide by zero); ``nan`` when every target is zero."""
    keep = target != 0
    if not bool(keep.any()):
        return float("nan")
    return ((pred[keep] - target[keep]).abs() / target[keep].abs()).mean().item()


def bleu(pred: str, label: str, k: int = 2) -> float:
    """BLEU of one predicted sentence against one reference, as d2l.ai defines it ("Sequence-to-Sequence
    Learning", evaluation of predicted sequences; Papineni et al. 2002), on space-separated tokens:

    .. math::
        \\exp\\Big(\\min\\big(0, 1 - \\tfrac{\\mathrm{len}_{label}}{\\mathrm{len}_{pred}}\\big)\\Big)
        \\prod_{n=1}^{k} p_n^{1/2^n}

    where :math:`p_n` is the share of the prediction's n-grams that match the label's (each label
    n-gram matched at most as often as it occurs). A prediction with no n-grams of some
    :math:`n \\le k` (fewer than n tokens, where d2l divides by zero) or an empty one scores 0.

    Example: ``bleu("il est paresseux .", "il est calme .", k=2)`` = 1 * (3/4)^(1/2) * (1/3)^(1/4) = 0.658.
    """
    pred_tokens, label_tokens = pred.split(), label.split()
    len_pred, len_label = len(pred_tokens), len(label_tokens)
    if len_pred == 0 or len_pred < k:
        return 0.0
    score = math.exp(min(0.0, 1 - len_label / len_pred))
    for n in range(1, k + 1):
        label_ngrams = Counter(tuple(label_tokens[i:i + n]) for i in range(len_label - n + 1))
        matches = 0
        for i in range(len_pred - n + 1):
            gram = tuple(pred_tokens[i:i + n])
            if label_ngrams[gram] > 0:
                matches += 1
                label_ngrams[gram] -= 1
        score *= (matches / (len_pred - n + 1)) ** (0.5 ** n)
    return score


METRICS = {"acc": accuracy, "micro_f1": micro_f1, "mae": mae, "rmse": rmse, "mape": mape}


def roc_auc(score: torch.Tensor, y: torch.Tensor) -> float:
    """Area under the ROC curve of scores ``score`` [P] against 0/1 labels ``y`` [P]
    (scikit-learn's ``roc_auc_score``); ``nan`` when ``y`` holds a single class."""
    from sklearn.metrics import roc_auc_score

    if y.numel() == 0 or y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y.detach().cpu().numpy(), score.detach().float().cpu().numpy()))


def average_precision(score: torch.Tensor, y: torch.Tensor) -> float:
    """Average precision (the area under the precision-recall curve as a step sum) of scores ``score``
    [P] against 0/1 labels ``y`` [P] (scikit-learn's ``average_precision_score``); ``nan`` without positives."""
    from sklearn.metrics import average_precision_score

    if y.numel() == 0 or y.max() <= 0:
        return float("nan")
    return float(average_precision_score(y.detach().cpu().numpy(), score.detach().float().cpu().numpy()))


METRICS.update({"auc": roc_auc, "ap": average_precision})
