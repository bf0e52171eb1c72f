"""The 'gin-paper' and 'fair' protocols (gnnkit/experiments/protocols.py)."""
import json

import pytest
import torch

from gnnkit import Graph
from gnnkit.experiments import Experiment
from gnnkit.experiments.protocols import (RETRAINS, FoldData, configure, gin_paper_summary, holdout, run_fair,
                                          runner_for, summary_for)
from gnnkit.train import TrainConfig


def _exp(**kw):
    base = dict(task="graph", protocol="gin-paper", transform="gin", folds=3, paper=0.5, train=TrainConfig(epochs=2))
    base.update(kw)
    return Experiment("x", "MUTAG", "gin", {"hidden_channels": 8, "num_layers": 2}, **base)


def test_gin_paper_picks_the_best_epoch_of_the_mean_curve():
    # three folds, three epochs: mean curve [0.5, 0.7, 0.6] -> epoch 2, values [0.6, 0.8, 0.7]
    runs = [{"val_curve": [0.4, 0.6, 0.9], "test_metrics": {"acc": 0.9}, "seconds": 1.0},
            {"val_curve": [0.6, 0.8, 0.3], "test_metrics": {"acc": 0.3}, "seconds": 1.0},
            {"val_curve": [0.5, 0.7, 0.6], "test_metrics": {"acc": 0.6}, "seconds": 1.0}]
    s = gin_paper_summary(_exp(), runs)
    assert s["best_epoch"] == 2
    assert s["mean"] == pytest.approx(0.7)
    assert s["std"] == pytest.approx((2 * 0.1 ** 2 / 3) ** 0.5)        # population std of 0.6, 0.8, 0.7
    assert s["difference"] == pytest.approx(0.2) and s["metrics"]["acc"]["mean"] == pytest.approx(0.7)
    assert s["mean_curve"] == pytest.approx([0.5, 0.7, 0.6]) and s["seconds"] == 3.0


def test_gin_paper_cuts_curves_to_the_shortest_and_refuses_missing_curves():
    runs = [{"val_curve": [0.1, 0.9], "test_metrics": {"acc": 0.9}, "seconds": 1},
            {"val_curve": [0.2], "test_metrics": {"acc": 0.2}, "seconds": 1}]
    assert gin_paper_summary(_exp(), runs)["best_epoch"] == 1
    with pytest.raises(ValueError, match="needs every fold's per-epoch validation"):
        gin_paper_summary(_exp(), [{"val_curve": None, "test_metrics": {}, "seconds": 0}])


def test_protocol_hooks_and_fold_protocols_need_folds():
    assert summary_for(_exp()) is gin_paper_summary and runner_for(_exp()) is None
    assert runner_for(_exp(protocol="fair", grid=({},))) is run_fair
    with pytest.raises(ValueError, match="needs folds=K"):
        _exp(protocol="fair", folds=None)
    assert _exp(protocol="fair").runs_are_folds and _exp().to_dict()["iters_per_epoch"] is None


def test_configure_routes_overrides():
    e = configure(_exp(), {"hidden_channels": 64, "lr": 0.001, "batch_size": 128, "dropout": 0.0})
    assert e.model_args == {"hidden_channels": 64, "num_layers": 2, "dropout": 0.0}
    assert e.train.lr == 0.001 and e.batch_size == 128


def test_holdout_is_stratified_and_inside_the_ids():
    y = torch.tensor([0] * 50 + [1] * 50)
    ids = torch.arange(0, 100, 2).tolist() + torch.arange(1, 100, 2).tolist()
    tr, va = holdout(y, torch.tensor(ids[:80]), 0.1, seed=3)
    assert len(va) == 8 and set(tr.tolist()) | set(va.tolist()) == set(ids[:80])
    assert not set(tr.tolist()) & set(va.tolist())
    assert abs(int(y[va].sum()) - 4) <= 1


def _toy_graphs(n=60):
    """Class 0: paths, class 1: stars (node feature: a constant), sizes 4..7."""
    gen = torch.Generator().manual_seed(0)
    graphs = []
    for i in range(n):
        k = 4 + int(torch.randint(0, 4, (1,), generator=gen))
        if i % 2 == 0:
            e = torch.tensor([[j, j + 1] for j in range(k - 1)]).t()
        else:
            e = torch.tensor([[0, j] for j in range(1, k)]).t()
        e = torch.cat([e, e.flip(0)], 1)
        graphs.append(Graph(x=torch.ones(k, 1), edge_index=e, num_nodes=k, y=torch.tensor(i % 2), y_level="graph"))
    return graphs


def test_fair_fold_selects_on_the_holdout_retrains_and_resumes(tmp_path):
    graphs = _toy_graphs()
    y = torch.tensor([int(g.y) for g in graphs])
    fold = FoldData(graphs, y, torch.arange(10, 60), torch.arange(10), fold=0)
    exp = _exp(protocol="fair", grid=({"hidden_channels": 4}, {"hidden_channels": 8}),
               train=TrainConfig(epochs=3, quiet=True))
    row = run_fair(exp, 0, task=fold, fold=0, out=tmp_path)
    assert row["selected"] in (0, 1) and len(row["selection"]) == 2 and len(row["final_tests"]) == RETRAINS
    assert row["test"] == pytest.approx(sum(row["final_tests"]) / RETRAINS)
    best = max(row["selection"], key=lambda s: s["val"])["val"]
    assert row["selection"][row["selected"]]["val"] == best
    for name in ("select-0", "select-1", "final-0", "final-1", "final-2"):
        assert (tmp_path / name / "result.json").is_file()
    # the test fold is never in a training or hold-out split: every final run tested on the 10 graphs
    finals = [json.loads((tmp_path / f"final-{r}" / "result.json").read_text()) for r in range(RETRAINS)]
    assert all(f["test"] in {k / 10 for k in range(11)} for f in finals)
    # a second call reads the finished sub-runs instead of training again
    again = run_fair(exp, 0, task=fold, fold=0, out=tmp_path)
    assert again["final_tests"] == row["final_tests"] and again["selected"] == row["selected"]


def test_fair_needs_a_grid():
    with pytest.raises(ValueError, match="needs grid="):
        run_fair(_exp(protocol="fair"), task=object())


@pytest.mark.slow
def test_gin_paper_through_reproduce_on_mutag(data_root, tmp_path):
    from gnnkit.experiments import reproduce

    results = reproduce(["gin0-mutag"], root=data_root, epochs=1, out=tmp_path, echo=lambda *_: None)
    s = results["summary"][0]
    assert s["status"] == "ok" and s["seeds"] == 10 and s["best_epoch"] == 1
    # folds are the shipped 10fold_idx files: 18 or 19 test graphs each
    runs = results["runs"]
    assert [r["fold"] for r in runs] == list(range(10))
    assert s["mean"] == pytest.approx(sum(r["val_curve"][0] for r in runs) / 10)
