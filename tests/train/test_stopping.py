import math

import pytest

from gnnkit.train import GATStopping, GCNStopping, NoStopping, make_stopping


def run(rule, losses, metrics=None):
    metrics = metrics or [0.0] * len(losses)
    out = []
    for loss, metric in zip(losses, metrics):
        out.append(rule.step(loss, metric))
        if out[-1][1]:
            break
    return out


def test_gcn_stopping_compares_with_mean_of_previous_window():
    # window 3: epochs 1..4 never stop (the authors' `epoch > early_stopping`, 0-based).
    # epoch 5: loss 2.5 vs mean(2, 1, 0.5) = 1.167 -> 2.5 > 1.167, stop.
    steps = run(GCNStopping(window=3), [3.0, 2.0, 1.0, 0.5, 2.5, 0.1])
    assert [done for _, done in steps] == [False, False, False, False, True]


def test_gcn_stopping_first_checks_at_epoch_window_plus_two():
    # epoch 4 = window + 1: 2.5 > mean(3, 2, 1) = 2.0 but tkipf/gcn train.py does not check yet
    # (epoch index 3 is not > 3); epoch 5: 2.6 > mean(2, 1, 2.5) = 1.833 -> stop.
    steps = run(GCNStopping(window=3), [3.0, 2.0, 1.0, 2.5, 2.6])
    assert [done for _, done in steps] == [False, False, False, False, True]


def test_gcn_stopping_continues_while_loss_is_below_the_mean():
    # epoch 4 not checked; epoch 5: 1.5 < mean(2, 1, 1.9) = 1.633;
    # epoch 6: 1.5 > mean(1, 1.9, 1.5) = 1.467 -> stop.
    steps = run(GCNStopping(window=3), [3.0, 2.0, 1.0, 1.9, 1.5, 1.5, 0.0])
    assert [done for _, done in steps] == [False] * 5 + [True]
    assert [improved for improved, _ in steps] == [True, True, True, False, False, False]


def test_gcn_stopping_window_ten_as_in_the_paper():
    losses = [1.0 - 0.01 * i for i in range(30)] + [5.0]
    steps = run(GCNStopping(window=10), losses)
    assert len(steps) == 31 and steps[-1][1]
    assert not any(done for _, done in steps[:-1])


def test_gat_stopping_patience_on_loss_or_accuracy():
    # patience 2. e1 best both; e2 worse both (bad 1); e3 acc ties best (reset, loss
    # worse -> not kept); e4, e5 worse both -> bad 2 -> stop at e5.
    rule = GATStopping(patience=2)
    steps = run(rule, [1.0, 1.2, 1.1, 1.3, 1.4, 0.1], [0.5, 0.4, 0.5, 0.3, 0.3, 0.9])
    assert steps == [(True, False), (False, False), (False, False), (False, False), (False, True)]
    assert rule.best_loss == 1.0 and rule.best_metric == 0.5


def test_gat_stopping_keeps_model_only_when_both_improve():
    rule = GATStopping(patience=5)
    assert rule.step(1.0, 0.5) == (True, False)
    assert rule.step(0.9, 0.4) == (False, False)   # loss better, accuracy worse: counter reset, not kept
    assert rule.bad_epochs == 0
    assert rule.step(0.8, 0.6) == (True, False)


def test_stopping_state_round_trips():
    rule = GATStopping(patience=3)
    run(rule, [1.0, 1.1, 1.2], [0.5, 0.4, 0.4])
    other = GATStopping(patience=3)
    other.load_state_dict(rule.state_dict())
    assert other.step(1.3, 0.1) == rule.step(1.3, 0.1)
    gcn = GCNStopping(4)
    run(gcn, [1.0, 0.5])
    copy = GCNStopping(4)
    copy.load_state_dict(gcn.state_dict())
    assert copy.losses == [1.0, 0.5] and copy.best_loss == 0.5


def test_no_stopping_tracks_best_metric():
    rule = NoStopping()
    assert [rule.step(0.0, m) for m in (0.1, 0.3, 0.2)] == [(True, False), (True, False), (False, False)]
    assert math.isclose(rule.best_metric, 0.3)


def test_make_stopping_rejects_unknown_rule():
    with pytest.raises(ValueError, match="'gcn', 'gat' or None"):
        make_stopping("patience", 10)
    with pytest.raises(ValueError, match="window must be >= 1"):
        GCNStopping(0)
