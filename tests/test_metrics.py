"""gnnkit.metrics: hand-computed small cases, the empty-input conventions, and scikit-learn as reference."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit import metrics


def test_accuracy_hand_computed():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])   # arg-max: 0, 1, 0, 1
    y = torch.tensor([0, 1, 1, 1])                                              # right: yes, yes, no, yes
    assert metrics.accuracy(logits, y) == 0.75


def test_accuracy_breaks_ties_towards_the_first_class_and_is_nan_when_empty():
    assert metrics.accuracy(torch.tensor([[1.0, 1.0]]), torch.tensor([0])) == 1.0
    assert math.isnan(metrics.accuracy(torch.empty(0, 3), torch.empty(0, dtype=torch.long)))


def test_micro_f1_hand_computed():
    logits = torch.tensor([[1.0, -1.0, 2.0], [-1.0, -1.0, 1.0]])   # predicted: (0,0) (0,2) (1,2)
    y = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])            # true:      (0,0) (1,1) (1,2)
    # tp = 2, fp = 1 (0,2), fn = 1 (1,1): F1 = 2 * 2 / (2 * 2 + 1 + 1) = 2/3
    assert metrics.micro_f1(logits, y) == pytest.approx(2 / 3)
    assert metrics.micro_f1(-torch.ones(2, 3), torch.zeros(2, 3)) == 0.0   # nothing predicted, nothing true


@given(seed=st.integers(0, 2**16))
def test_micro_f1_matches_scikit_learn(seed):
    from sklearn.metrics import f1_score

    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(7, 4, generator=gen)
    y = (torch.rand(7, 4, generator=gen) > 0.6).float()
    expected = f1_score(y.numpy(), (logits > 0).numpy().astype(float), average="micro", zero_division=0)
    assert metrics.micro_f1(logits, y) == pytest.approx(expected)


def test_mae_rmse_mape_hand_computed():
    pred, target = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.0, 2.0, 5.0])
    assert metrics.mae(pred, target) == pytest.approx(1.0)                  # (1 + 0 + 2) / 3
    assert metrics.rmse(pred, target) == pytest.approx(math.sqrt(5 / 3))    # sqrt((1 + 0 + 4) / 3)
    # target 0 is a missing reading: left out. |1 - 2| / 2 = 0.5, |3 - 4| / 4 = 0.25, mean 0.375
    assert metrics.mape(pred, torch.tensor([2.0, 0.0, 4.0])) == pytest.approx(0.375)
    assert math.isnan(metrics.mape(pred, torch.zeros(3)))
    assert math.isnan(metrics.mae(torch.empty(0), torch.empty(0)))


def test_bleu_hand_computed():
    # unigrams: il, est, . of 4 match (3/4); bigrams: only "il est" of 3 (1/3); equal lengths: no penalty
    got = metrics.bleu("il est paresseux .", "il est calme .", k=2)
    assert got == pytest.approx((3 / 4) ** 0.5 * (1 / 3) ** 0.25)
    assert metrics.bleu("va !", "va !", k=2) == 1.0
    # a short prediction pays exp(1 - len_label / len_pred) = exp(1 - 4/2)
    assert metrics.bleu("il est", "il est calme .", k=2) == pytest.approx(math.exp(-1.0))
    assert metrics.bleu("", "il est", k=2) == 0.0 and metrics.bleu("il", "il est", k=2) == 0.0


def test_roc_auc_and_average_precision_hand_computed():
    score = torch.tensor([0.1, 0.4, 0.35, 0.8])
    y = torch.tensor([0, 0, 1, 1])
    # positive-negative pairs ranked right: 0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4 (not 0.35 > 0.4): 3 of 4
    assert metrics.roc_auc(score, y) == pytest.approx(0.75)
    # ranked: 0.8 (pos, precision 1/1), 0.4 (neg), 0.35 (pos, precision 2/3), 0.1: AP = (1 + 2/3) / 2
    assert metrics.average_precision(score, y) == pytest.approx(5 / 6)
    assert math.isnan(metrics.roc_auc(score, torch.ones(4)))
    assert math.isnan(metrics.average_precision(score, torch.zeros(4)))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=2, max_size=40))
def test_roc_auc_and_average_precision_equal_scikit_learn_with_ties(pairs):
    # scores on a coarse grid so that ties between and within classes are common
    score = torch.tensor([s / 6 for s, _ in pairs], dtype=torch.float32)
    y = torch.tensor([float(b) for _, b in pairs])
    for fast, ref in ((metrics.roc_auc, metrics.roc_auc_reference),
                      (metrics.average_precision, metrics.average_precision_reference)):
        got, want = fast(score, y), ref(score, y)
        assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=1e-12)
