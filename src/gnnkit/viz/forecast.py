"""Traffic forecasts against the measured speeds: a few sensors over one test day, one panel per
sensor and horizon (PNG, matplotlib's Agg backend)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from gnnkit.viz.plots import _pyplot, _save


def day_curves(pred: torch.Tensor, target: torch.Tensor, t: torch.Tensor, horizons: Sequence[int], day: int,
               steps_per_day: int = 288) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """For each horizon k: ``(steps, predicted, true)`` of the target steps ``t + h_k`` that fall in
    day ``day`` (steps ``day * steps_per_day`` .. ``(day + 1) * steps_per_day - 1``), sorted by time.

    Shapes:
        pred, target: [S, H, N] speeds; t: [S] last input step of each window; out: per horizon
        ``steps`` [M], ``predicted`` and ``true`` [M, N].
    """
    out = []
    lo, hi = day * steps_per_day, (day + 1) * steps_per_day
    for k, h in enumerate(horizons):
        steps = t + h                                                        # [S] target step of row k
        keep = (steps >= lo) & (steps < hi)
        order = torch.argsort(steps[keep])
        out.append((steps[keep][order], pred[keep][order][:, k], target[keep][order][:, k]))
    return out


def plot_forecast(pred: torch.Tensor, target: torch.Tensor, t: torch.Tensor, horizons: Sequence[int],
                  path: str | Path, sensors: Sequence[int] = (0, 1, 2), day: int | None = None,
                  steps_per_day: int = 288, minutes_per_step: int = 5, title: str = "",
                  sensor_names: Sequence[str] | None = None) -> Path:
    """Predicted and true speed of ``sensors`` over one day of the test windows, one row per
    sensor and one column per horizon (x: hour of the day).

    Args:
        pred, target, t: :meth:`gnnkit.tasks.Forecasting.predict`'s ``pred``, ``target`` [S, H, N]
            and ``t`` [S].
        horizons: the steps ahead of the H rows (e.g. ``(3, 6, 9, 12)``).
        path: the PNG file.
        sensors: node indices to draw.
        day: which day of the series (default: the last day every horizon covers completely,
            else the day with most target steps).
        steps_per_day, minutes_per_step: 288 and 5 for 5-minute data.

    Example::

        out = task.predict(model, "test")
        plot_forecast(out["pred"], out["target"], out["t"], task.horizons, "forecast.png")
    """
    plt = _pyplot()
    if pred.shape != target.shape or pred.dim() != 3 or pred.size(1) != len(horizons):
        raise ValueError(f"pred and target must both be [S, H = {len(horizons)}, N] (got {list(pred.shape)} and "
                         f"{list(target.shape)})")
    if any(not 0 <= s < pred.size(2) for s in sensors):
        raise ValueError(f"sensors must be node indices in [0, {pred.size(2)}) (got {list(sensors)})")
    if day is None:
        days = torch.cat([(t + h) // steps_per_day for h in horizons])
        counts = torch.bincount(days)
        full = (counts == steps_per_day * len(horizons)).nonzero().view(-1)
        day = int(full[-1]) if full.numel() else int(counts.argmax())
    curves = day_curves(pred, target, t, horizons, day, steps_per_day)
    fig, axes = plt.subplots(len(sensors), len(horizons), figsize=(3.6 * len(horizons), 2.4 * len(sensors)),
                             sharex=True, squeeze=False)
    for col, (h, (steps, p, y)) in enumerate(zip(horizons, curves)):
        hours = (steps - day * steps_per_day).float() * minutes_per_step / 60
        for row, s in enumerate(sensors):
            ax = axes[row][col]
            ax.plot(hours, y[:, s], color="black", lw=1.0, label="true")
            ax.plot(hours, p[:, s], color="tab:red", lw=1.0, label="predicted")
            name = sensor_names[row] if sensor_names else f"sensor {s}"
            ax.set_title(f"{name}, {h * minutes_per_step} min ahead", fontsize=9)
            if col == 0:
                ax.set_ylabel("speed")
            if row == len(sensors) - 1:
                ax.set_xlabel(f"hour, day {day + 1} of the series")
    axes[0][0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return _save(plt, fig, path)
