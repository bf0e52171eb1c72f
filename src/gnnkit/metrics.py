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


def _groups(score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The permutation sorting ``score`` in decreasing order, and the size of each run of equal scores."""
    order = torch.argsort(score, descending=True, stable=True)               # [P]
    _, counts = torch.unique_consecutive(score[order], return_counts=True)   # [G]
    return order, counts


def roc_auc(score: torch.Tensor, y: torch.Tensor) -> float:
    """Area under the ROC curve of scores ``score`` [P] against 0/1 labels ``y`` [P]; ``nan`` when ``y``
    holds a single class. As the Mann-Whitney statistic, tied scores counting one half:

    .. math::
        \\mathrm{AUC} = \\frac{1}{n_+ n_-} \\sum_{i: y_i = 1} \\Big(\\#\\{j: y_j = 0, s_j < s_i\\}
            + \\tfrac12 \\#\\{j: y_j = 0, s_j = s_i\\}\\Big)

    One sort, in torch (scikit-learn's input checks cost ~30x the computation on the few hundred pairs
    of a validation split); equal to :func:`roc_auc_reference`, scikit-learn's ``roc_auc_score`` (tested)."""
    y = y.detach().reshape(-1) > 0.5
    pos = int(y.sum())
    neg = y.numel() - pos
    if pos == 0 or neg == 0:
        return float("nan")
    order, counts = _groups(score.detach().reshape(-1).double())
    neg_in_group = torch.segment_reduce((~y[order]).double(), "sum", lengths=counts)      # [G]
    pos_in_group = counts - neg_in_group                                                   # [G]
    neg_below = neg - torch.cumsum(neg_in_group, 0)                                        # [G] strictly lower scores
    wins = (pos_in_group * (neg_below + 0.5 * neg_in_group)).sum()
    return float(wins / (pos * neg))


def average_precision(score: torch.Tensor, y: torch.Tensor) -> float:
    """Average precision of scores ``score`` [P] against 0/1 labels ``y`` [P]; ``nan`` without positives.
    The step sum over the distinct thresholds :math:`t_k` in decreasing order,

    .. math::
        \\mathrm{AP} = \\sum_k (R_k - R_{k-1})\\, P_k, \\qquad
        P_k = \\frac{TP_k}{TP_k + FP_k}, \\quad R_k = \\frac{TP_k}{n_+}

    (counts of the scores :math:`\\ge t_k`). Equal to :func:`average_precision_reference`,
    scikit-learn's ``average_precision_score`` (tested)."""
    y = y.detach().reshape(-1) > 0.5
    pos = int(y.sum())
    if y.numel() == 0 or pos == 0:
        return float("nan")
    order, counts = _groups(score.detach().reshape(-1).double())
    tp = torch.cumsum(torch.segment_reduce(y[order].double(), "sum", lengths=counts), 0)   # [G]
    seen = torch.cumsum(counts, 0).double()                                                # [G] TP + FP
    recall_step = torch.diff(tp, prepend=tp.new_zeros(1)) / pos
    return float((recall_step * tp / seen).sum())


def roc_auc_reference(score: torch.Tensor, y: torch.Tensor) -> float:
    """scikit-learn's ``roc_auc_score``: the plain reference of :func:`roc_auc`."""
    from sklearn.metrics import roc_auc_score

    if y.numel() == 0 or y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y.detach().cpu().numpy(), score.detach().double().cpu().numpy()))


def average_precision_reference(score: torch.Tensor, y: torch.Tensor) -> float:
    """scikit-learn's ``average_precision_score``: the plain reference of :func:`average_precision`."""
    from sklearn.metrics import average_precision_score

    if y.numel() == 0 or y.max() <= 0:
        return float("nan")
    return float(average_precision_score(y.detach().cpu().numpy(), score.detach().double().cpu().numpy()))


METRICS.update({"auc": roc_auc, "ap": average_precision})
