"""Traffic forecasting: sliding windows of a sensor signal, errors per horizon in real units.

The protocol of STGCN (Yu et al. 2018) and DCRNN (Li et al. 2018), built by
:meth:`gnnkit.datasets.traffic.TrafficSeries.windows`: a chronological train / val / test
split of the time axis, a z-score fitted on the training span only, then windows of
``input_len`` past steps in and the steps ``t + h`` for each horizon ``h`` out. The model
is called as ``model(x, adj)`` on a batch of windows, ``x`` [B, T, N] (normalised) and the
sensor graph's cached ``SparseAdj``, and returns ``[B, H, N]``; the loss is the mean squared
error on the normalised values (STGCN's L2 loss; ``loss_fn='mae'``: the mean absolute error, DCRNN's
and Graph WaveNet's choice on METR-LA), and every metric is computed on de-normalised speeds:

.. math::
    \\mathrm{MAE} = \\frac{1}{n}\\sum |\\hat v - v|, \\quad
    \\mathrm{MAPE} = \\frac{1}{n_{v \\ne 0}}\\sum_{v \\ne 0} \\frac{|\\hat v - v|}{v}, \\quad
    \\mathrm{RMSE} = \\sqrt{\\frac{1}{n}\\sum (\\hat v - v)^2}

per horizon (keys ``mae@15``, ``mape@15``, ``rmse@15`` for 15 minutes ahead, ...) and over all
horizons together (``mae``, ``mape``, ``rmse``; ``mae`` selects the model).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from gnnkit.datasets.traffic import TrafficSeries, Windows, WindowedSeries
from gnnkit.metrics import mae, mape, rmse
from gnnkit.tasks.base import Step, check_split, evaluating

ERRORS = {"mae": mae, "mape": mape, "rmse": rmse}
LOSSES = {"mse": F.mse_loss, "mae": F.l1_loss}


@dataclass
class Forecasting:
    """Multi-horizon forecasting of a node signal on a fixed sensor graph.

    Args:
        data: the windowed series (``TrafficSeries.windows(...)``): train / val / test
            :class:`Windows`, the training-span ``scaler``, the ``graph``.
        horizons: the steps ahead each output row stands for (e.g. ``(3, 6, 9, 12)``).
        minutes_per_step: minutes between two steps (5), for the metric names (``mae@15``).
        batch_size: windows per training step (and per evaluation step).
        loss_fn: the training loss on the normalised values, ``'mse'`` (default) or ``'mae'``.

    Example::

        task = Forecasting.from_series(los_loop(root), horizons=(3, 6, 9, 12))
        step = task.loss(model, next(iter(task.train_batches())))
        task.evaluate(model, "test")["mae@15"]
    """

    data: WindowedSeries
    horizons: tuple[int, ...]
    minutes_per_step: int = 5
    batch_size: int = 50
    loss_fn: str = "mse"
    metric: str = field(default="mae", init=False)
    higher_is_better: bool = field(default=False, init=False)

    def __post_init__(self):
        self.horizons = tuple(int(h) for h in self.horizons)
        if self.data.train.y.size(1) != len(self.horizons):
            raise ValueError(f"the windows have {self.data.train.y.size(1)} target steps but horizons lists "
                             f"{len(self.horizons)} ({self.horizons}); window the series with these horizons")
        if self.loss_fn not in LOSSES:
            raise ValueError(f"loss_fn must be one of {sorted(LOSSES)} (got {self.loss_fn!r})")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1 (got {self.batch_size})")
        self.adj = self.data.graph.adj()          # built once; layers cache their normalizations on it

    @classmethod
    def from_series(cls, series: TrafficSeries, input_len: int = 12, horizons=(3, 6, 9, 12),
                    split=(0.7, 0.1, 0.2), minutes_per_step: int = 5, batch_size: int = 50,
                    loss_fn: str = "mse") -> "Forecasting":
        """Chronological ``split``, z-score from the training span, sliding windows (see module doc)."""
        data = series.windows(input_len=input_len, horizons=list(horizons), split=split)
        return cls(data, tuple(horizons), minutes_per_step, batch_size, loss_fn)

    # ------------------------------------------------------------------ names
    @property
    def horizon_names(self) -> list[str]:
        """``['15', '30', ...]``: minutes ahead of each output row."""
        return [str(h * self.minutes_per_step) for h in self.horizons]

    def metric_names(self) -> list[str]:
        """Every key ``evaluate`` returns besides ``loss``."""
        return list(ERRORS) + [f"{e}@{h}" for h in self.horizon_names for e in ERRORS]

    # ------------------------------------------------------------------ the protocol
    def model_args(self) -> dict:
        return {"in_channels": 1, "out_channels": len(self.horizons), "input_len": self.data.train.x.size(1)}

    def _batches(self, part: Windows, order: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(part.x[idx], part.y[idx]) for idx in order.split(self.batch_size)]

    def train_batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(x [B, T, N], y [B, H, N])`` pairs of one epoch, windows shuffled (global torch generator)."""
        return self._batches(self.data.train, torch.randperm(len(self.data.train)))

    def loss(self, model, batch) -> Step:
        """Mean squared (``loss_fn='mae'``: absolute) error between ``model(x, adj)`` and the normalised targets."""
        x, y = batch
        out = model(x, self.adj)                                             # [B, H, N]
        if out.shape != y.shape:
            raise ValueError(f"a forecasting model must return [B, H, N] = {list(y.shape)} "
                             f"(got {list(out.shape)})")
        loss = LOSSES[self.loss_fn](out, y)
        if torch.is_grad_enabled() and not loss.requires_grad:
            # A model without parameters (historical average, last value): nothing to train,
            # but the training loop still calls backward() on the loss.
            loss = loss.detach().requires_grad_()
        return Step(loss, y.size(0), out.detach(), y)

    def errors(self, pred: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        """MAE / MAPE / RMSE of normalised ``pred`` and ``target`` ([S, H, N]) on de-normalised
        values, over all horizons and per horizon."""
        scaler = self.data.scaler
        pred, target = scaler.inverse(pred.double()), scaler.inverse(target.double())
        out = {name: fn(pred, target) for name, fn in ERRORS.items()}
        for k, minutes in enumerate(self.horizon_names):
            for name, fn in ERRORS.items():
                out[f"{name}@{minutes}"] = fn(pred[:, k], target[:, k])
        return out

    def train_metrics(self, steps: list[Step]) -> dict:
        return self.errors(torch.cat([s.output for s in steps]), torch.cat([s.target for s in steps]))

    def evaluate(self, model, split: str) -> dict:
        """``{'loss': ..., 'mae': ..., 'mae@15': ..., ...}`` over the windows of ``split``."""
        part = getattr(self.data, check_split(split))
        if len(part) == 0:
            return {"loss": None, **{k: None for k in self.metric_names()}}
        order = torch.arange(len(part), device=part.x.device)              # chronological
        with evaluating(model):
            steps = [self.loss(model, b) for b in self._batches(part, order)]
        loss = sum(s.loss.item() * s.size for s in steps) / len(part)
        return {"loss": loss, **self.train_metrics(steps)}

    def predict(self, model, split: str = "test") -> dict[str, torch.Tensor]:
        """De-normalised forecasts of ``split``: ``pred`` and ``target`` [S, H, N] and ``t`` [S], the
        index of each window's last input step in the series (the target of row k is step ``t + h_k``)."""
        part = getattr(self.data, check_split(split))
        order = torch.arange(len(part), device=part.x.device)              # chronological
        with evaluating(model):
            steps = [self.loss(model, b) for b in self._batches(part, order)]
        scaler = self.data.scaler
        return {"pred": scaler.inverse(torch.cat([s.output for s in steps])),
                "target": scaler.inverse(torch.cat([s.target for s in steps])), "t": part.t}

