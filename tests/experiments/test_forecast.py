"""experiments/forecast.py: the traffic-forecasting entries, their builder, a 'data absent' row."""
import json

import pytest

from gnnkit.experiments import EXPERIMENTS, get, load_task, reproduce
from gnnkit.experiments.forecast import STGCN_PEMSD7M_PAPER, task as forecast_task
from gnnkit.tasks import Forecasting

NAMES = ["stgcn-cheb-losloop", "stgcn-1st-losloop", "tgcn-losloop", "gru-losloop", "gcn-losloop", "ha-losloop",
         "last-losloop", "stgcn-pemsd7m"]


def test_forecast_entries_are_registered():
    for name in NAMES:
        exp = EXPERIMENTS[name]
        assert exp.task == "forecast" and exp.protocol == "temporal" and exp.metric == "mae"
    assert get("stgcn-cheb-losloop").model_args["spatial"] == "cheb"
    assert get("stgcn-1st-losloop").model_args["spatial"] == "first"
    assert get("stgcn-pemsd7m").paper_value("mae@15") == STGCN_PEMSD7M_PAPER["mae@15"] == 2.25
    assert "rmse@60" in get("tgcn-losloop").metrics


def test_pemsd7m_is_data_absent_with_its_paper_numbers(tmp_path):
    out = reproduce(["stgcn-pemsd7m"], seeds=1, root=tmp_path, echo=lambda s: None)
    row = out["summary"][0]
    assert row["status"] == "data absent" and "PeMSD7_V_228.csv" in row["reason"]


def test_builder_rejects_other_protocols():
    from dataclasses import replace

    with pytest.raises(ValueError, match="only the 'temporal' protocol"):
        forecast_task(replace(get("ha-losloop"), protocol="given"), None)


def test_baselines_reproduce_on_los_loop(data_root, tmp_path):
    task = load_task(get("ha-losloop"), data_root)
    assert isinstance(task, Forecasting) and task.horizons == (3, 6, 9, 12) and task.batch_size == 25
    out = reproduce(["last-losloop"], seeds=1, root=data_root, out=tmp_path, echo=lambda s: None)
    metrics = out["summary"][0]["metrics"]
    assert metrics["mae@15"]["mean"] < metrics["mae@60"]["mean"]
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["runs"][0]["test_metrics"]["rmse@45"] > 0


def test_plot_run_draws_a_finished_runs_test_day(data_root, tmp_path):
    from gnnkit.experiments.forecast import plot_run

    reproduce(["last-losloop"], seeds=1, root=data_root, out=tmp_path, echo=lambda s: None)
    path = plot_run("last-losloop", tmp_path / "last-losloop" / "seed-0", tmp_path / "plot.png", root=data_root)
    assert path.is_file() and path.stat().st_size > 1000


def test_forecast_table_prints_speeds_and_percentages():
    from gnnkit.experiments.forecast import forecast_table

    metrics = {"mae": {"mean": 3.0, "std": 0.1}, "mae@15": {"mean": 2.5, "std": 0.25},
               "mape@15": {"mean": 0.0526, "std": 0.001}, "rmse@15": {"mean": 4.04, "std": 0.0}}
    results = {"summary": [{"experiment": "x", "status": "ok", "seeds": 3, "metrics": metrics},
                           {"experiment": "y", "status": "data absent"}]}
    table = forecast_table(results)
    assert "| MAE @15 | MAPE @15 | RMSE @15 |" in table
    assert "| x | 3 | 2.50 ± 0.25 | 5.26 ± 0.10 | 4.04 ± 0.00 |" in table
    assert "| y |" not in table
