"""viz/forecast.py: the test-day curves per horizon, and the PNG."""
import pytest
import torch

from gnnkit.viz.forecast import day_curves, plot_forecast


def _forecasts():
    # one sensor, windows ending at t = 0..9, horizons 1 and 2; the true speed at step s is s
    t = torch.arange(10)
    target = torch.stack([t + 1, t + 2], 1).float().unsqueeze(-1)        # [S, 2, 1]
    pred = target + 0.5
    return pred, target, t


def test_day_curves_pick_the_target_steps_of_the_day():
    pred, target, t = _forecasts()
    curves = day_curves(pred, target, t, horizons=(1, 2), day=1, steps_per_day=4)   # steps 4..7
    for steps, p, y in curves:
        assert steps.tolist() == [4, 5, 6, 7]
        assert y.view(-1).tolist() == [4.0, 5.0, 6.0, 7.0]
        assert p.view(-1).tolist() == [4.5, 5.5, 6.5, 7.5]


def test_plot_forecast_writes_a_png(tmp_path):
    pred, target, t = _forecasts()
    path = plot_forecast(pred, target, t, (1, 2), tmp_path / "f.png", sensors=(0,), steps_per_day=4)
    assert path.is_file() and path.stat().st_size > 1000


def test_plot_forecast_errors(tmp_path):
    pred, target, t = _forecasts()
    with pytest.raises(ValueError, match=r"must both be \[S, H = 3, N\]"):
        plot_forecast(pred, target, t, (1, 2, 3), tmp_path / "f.png")
    with pytest.raises(ValueError, match=r"sensors must be node indices in \[0, 1\)"):
        plot_forecast(pred, target, t, (1, 2), tmp_path / "f.png", sensors=(3,))
