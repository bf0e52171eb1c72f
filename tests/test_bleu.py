"""metrics.bleu: the d2l.ai definition, hand-computed."""
import math

import pytest

from gnnkit.metrics import bleu


def test_bleu_hand_computed_chapter_example():
    # d2l prints "he's calm . => il est paresseux ., bleu 0.658": no brevity penalty (4 vs 4 tokens),
    # p1 = 3/4 (il, est, .), p2 = 1/3 ("il est"), weights 1/2 and 1/4.
    assert bleu("il est paresseux .", "il est calme .", k=2) == pytest.approx((3 / 4) ** 0.5 * (1 / 3) ** 0.25)
    assert round(bleu("il est paresseux .", "il est calme .", k=2), 3) == 0.658


def test_bleu_brevity_penalty_and_clipped_counts():
    # pred "a a" vs label "a b c": penalty exp(1 - 3/2); p1 = 1/2 (the label has one "a"); p2 = 0/1
    assert bleu("a a", "a b c", k=1) == pytest.approx(math.exp(1 - 3 / 2) * (1 / 2) ** 0.5)
    assert bleu("a a", "a b c", k=2) == 0.0
    # "je suis sûr ." vs "je suis chez moi .": exp(1 - 5/4) * (3/4)^(1/2) * (1/3)^(1/4) = 0.512 (d2l's deeper run)
    assert round(bleu("je suis sûr .", "je suis chez moi .", k=2), 3) == 0.512


def test_bleu_perfect_and_degenerate():
    assert bleu("va !", "va !", k=2) == 1.0
    assert bleu("", "va !", k=2) == 0.0
    assert bleu("va", "va !", k=2) == 0.0        # no bigram in a one-token prediction (d2l divides by zero)
    assert bleu("va ! x", "va !", k=2) == pytest.approx((2 / 3) ** 0.5 * (1 / 2) ** 0.25)
