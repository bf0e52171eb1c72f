"""tasks/forecast.py: windows, the training-span scaler, de-normalised errors per horizon; metrics mae/mape/rmse."""
import math

import pytest
import torch

from gnnkit import Graph
from gnnkit.datasets.traffic import TrafficSeries
from gnnkit.metrics import METRICS, mae, mape, rmse
from gnnkit.models import STGCN, HistoricalAverage, LastValue
from gnnkit.tasks import Forecasting, Task
from gnnkit.train import TrainConfig, fit


def _series(T=60, N=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    signal = 50 + 10 * torch.rand(T, N, generator=gen)
    edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    return TrafficSeries(signal, Graph(edge_index=edge_index, num_nodes=N))


def test_mae_rmse_mape_hand_computed():
    pred = torch.tensor([1.0, 2.0, 6.0])
    target = torch.tensor([2.0, 2.0, 4.0])
    assert mae(pred, target) == pytest.approx(1.0)                 # (1 + 0 + 2) / 3
    assert rmse(pred, target) == pytest.approx(math.sqrt(5 / 3))   # sqrt((1 + 0 + 4) / 3)
    assert mape(pred, target) == pytest.approx((0.5 + 0 + 0.5) / 3)
    assert {"mae", "mape", "rmse"} <= set(METRICS)


def test_mape_ignores_zero_targets():
    pred = torch.tensor([1.0, 5.0, 3.0])
    target = torch.tensor([2.0, 0.0, 4.0])                        # the zero speed is left out
    assert mape(pred, target) == pytest.approx((0.5 + 0.25) / 2)
    assert math.isnan(mape(torch.ones(2), torch.zeros(2)))
    assert math.isnan(mae(torch.ones(0), torch.ones(0)))


def test_task_follows_the_protocol():
    task = Forecasting.from_series(_series(), input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2), batch_size=7)
    assert isinstance(task, Task)
    assert task.metric == "mae" and task.higher_is_better is False
    assert task.model_args() == {"in_channels": 1, "out_channels": 2, "input_len": 4}
    batches = task.train_batches()
    assert sum(x.size(0) for x, _ in batches) == len(task.data.train) == 36 - 4 - 3 + 1
    assert {tuple(x.shape[1:]) for x, _ in batches} == {(4, 3)}
    assert set(task.evaluate(LastValue(1, 2, 4), "val")) == {"loss", *task.metric_names()}
    assert "mape@15" in task.metric_names() and "rmse@5" in task.metric_names()


def test_windows_align_targets_with_the_series():
    series = _series()
    task = Forecasting.from_series(series, input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    out = task.predict(LastValue(1, 2, 4), "test")
    t = out["t"]
    # row k of each target is the raw series at step t + h_k; the inputs end at step t
    torch.testing.assert_close(out["target"][:, 0], series.signal[t + 1])
    torch.testing.assert_close(out["target"][:, 1], series.signal[t + 3])
    torch.testing.assert_close(out["pred"][:, 0], series.signal[t])     # last value = the step t itself


def test_scaler_comes_from_the_training_span_only():
    a, b = _series(), _series()
    b.signal[48:] = 1e4                                       # change only the test span (last 20%)
    ta = Forecasting.from_series(a, input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    tb = Forecasting.from_series(b, input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    assert ta.data.scaler == tb.data.scaler
    torch.testing.assert_close(ta.data.train.x, tb.data.train.x)
    train = a.signal[:36]
    assert ta.data.scaler.mean == pytest.approx(float(train.mean()))


def test_errors_are_on_de_normalised_values_per_horizon():
    series = _series()
    task = Forecasting.from_series(series, input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    res = task.evaluate(HistoricalAverage(1, 2, 4), "test")
    t = task.data.test.t
    window_mean = torch.stack([series.signal[int(s) - 3:int(s) + 1].mean(0) for s in t])   # [S, N]
    for k, (h, minutes) in enumerate([(1, "5"), (3, "15")]):
        target = series.signal[t + h].double()
        assert res[f"mae@{minutes}"] == pytest.approx(float((window_mean - target).abs().mean()), rel=1e-5)
        assert res[f"rmse@{minutes}"] == pytest.approx(float((window_mean - target).pow(2).mean().sqrt()), rel=1e-5)
        assert res[f"mape@{minutes}"] == pytest.approx(float(((window_mean - target).abs() / target).mean()),
                                                       rel=1e-5)


def test_mape_in_the_task_skips_zero_speeds():
    series = _series()
    series.signal[50, :] = 0.0                                 # a missing reading in the test span
    task = Forecasting.from_series(series, input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    res = task.evaluate(LastValue(1, 2, 4), "test")
    assert math.isfinite(res["mape@5"]) and math.isfinite(res["mape"])


def test_a_model_without_parameters_goes_through_fit_unchanged():
    task = Forecasting.from_series(_series(), input_len=4, horizons=(1, 3), split=(0.6, 0.2, 0.2))
    model = HistoricalAverage(1, 2, 4)
    result = fit(model, task, TrainConfig(epochs=1, quiet=True))
    assert result.test["mae"] == pytest.approx(task.evaluate(model, "test")["mae"])


def test_stgcn_trains_through_fit():
    torch.manual_seed(0)
    t = torch.arange(160.0)[:, None]
    waves = 50 + 10 * torch.sin(2 * math.pi * t / 24 + torch.tensor([[0.0, 1.0, 2.0]]))   # [T, 3], predictable
    series = TrafficSeries(waves, _series().graph)
    task = Forecasting.from_series(series, input_len=9, horizons=(1, 2), split=(0.6, 0.2, 0.2), batch_size=16)
    model = STGCN(1, 2, input_len=9, hidden_channels=8, spatial_channels=4)
    before = task.evaluate(model, "train")["loss"]
    fit(model, task, TrainConfig(epochs=10, lr=0.01, quiet=True))
    assert task.evaluate(model, "train")["loss"] < 0.2 * before


def test_forecasting_errors():
    series = _series()
    data = series.windows(input_len=4, horizons=[1, 3], split=(0.6, 0.2, 0.2))
    with pytest.raises(ValueError, match="the windows have 2 target steps but horizons lists 3"):
        Forecasting(data, (1, 2, 3))
    task = Forecasting(data, (1, 3))
    with pytest.raises(ValueError, match=r"must return \[B, H, N\]"):
        task.loss(lambda x, adj: x[:, :1], task.train_batches()[0])
    with pytest.raises(ValueError, match="split must be one of"):
        task.evaluate(LastValue(1, 2, 4), "dev")


def test_los_loop_windows_and_baselines(data_root):
    from gnnkit.datasets import load

    series = load("los-loop", data_root)
    task = Forecasting.from_series(series)                    # 12 in; 15 / 30 / 45 / 60 min; 70 / 10 / 20
    assert (len(task.data.train), len(task.data.val), len(task.data.test)) == (1388, 179, 380)   # spans 1411 / 202 / 403 steps, 23 fewer windows each
    out = task.predict(LastValue(1, 4, 12), "test")
    torch.testing.assert_close(out["target"][:, 3], series.signal[out["t"] + 12])
    last = task.evaluate(LastValue(1, 4, 12), "test")
    mean = task.evaluate(HistoricalAverage(1, 4, 12), "test")
    assert last["mae@15"] < last["mae@60"]                    # errors grow with the horizon
    assert 0 < mean["mape@30"] < 1


def test_mae_training_loss_option_and_its_error():
    torch.manual_seed(0)
    series = _series()
    mse = Forecasting.from_series(series, horizons=(1, 2), input_len=3, batch_size=4)
    mae = Forecasting.from_series(series, horizons=(1, 2), input_len=3, batch_size=4, loss_fn="mae")
    model = LastValue(**mse.model_args())
    batch = mse.train_batches()[0]
    x, y = batch
    pred = x[:, -1:, :].expand_as(y)
    assert mse.loss(model, batch).loss.item() == pytest.approx(((pred - y) ** 2).mean().item())
    assert mae.loss(model, batch).loss.item() == pytest.approx((pred - y).abs().mean().item())
    with pytest.raises(ValueError, match="loss_fn must be one of"):
        Forecasting.from_series(series, horizons=(1, 2), input_len=3, loss_fn="huber")
