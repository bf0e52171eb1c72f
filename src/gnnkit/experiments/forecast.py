"""Traffic-forecasting protocols: STGCN's two variants, T-GCN and the baselines on Los-loop, and
STGCN on PeMSD7(M) with the paper's numbers (its data is absent here).

Protocol ``'temporal'`` (``tasks/forecast.py``): chronological split, z-score from the training
span, windows of 12 past steps, horizons of 3 / 6 / 9 / 12 steps (15 / 30 / 45 / 60 minutes),
MAE / MAPE / RMSE on de-normalised speeds per horizon; the validation MAE over all horizons
selects the epoch whose model is tested.

Sources:
- STGCN: Yu, Yin & Zhu, IJCAI 2018, https://arxiv.org/abs/1709.04875 (Section 4.2: 12 past steps,
  RMSprop lr 1e-3 decayed by 0.7 every 5 epochs, 50 epochs, batch 50; channels 64/16/64,
  K_s = K_t = 3). The PeMSD7(M) numbers are the performance table as the authors' README prints it
  (VeritasYin/STGCN_IJCAI-18, "Table 1: Performance comparison of different approaches on the dataset
  PeMSD7", row STGCN(Cheb); 34 / 5 / 5 weekdays in ``main.py``).
- T-GCN: Zhao et al., IEEE T-ITS 2019, https://arxiv.org/abs/1811.05320 (the Los-loop data;
  hidden 64 for Los-loop in the authors' PyTorch README, Adam lr 1e-3).

What differs from the papers here (the CPU budget first: the Los-loop table is 2 STGCN variants, T-GCN
and the GRU x 3 seeds on a shared 2-core machine, not a GPU): the Los-loop entries use half the widths
(STGCN 32/8/32 channels, T-GCN and the GRU 32 hidden units; ``STGCN_ARGS`` keeps the paper's 64/16/64
for ``stgcn-pemsd7m``) and 20 epochs (STGCN: 50; T-GCN: thousands) of Adam at lr 5e-3 decayed by 0.7
every 5 epochs (STGCN: RMSprop 1e-3, same decay; gnnkit's optimizers are Adam, AdamW, SGD) with 25
windows per batch (STGCN: 50); every trained model on Los-loop minimises the mean absolute error
(``loss_fn='mae'``, DCRNN's and Graph WaveNet's loss on METR-LA, whose sensors Los-loop's are; STGCN
and T-GCN use L2: trained on L2 with this budget, STGCN(Cheb) lost to the last-value baseline on MAPE at
every horizon, 10.2 % vs 8.9 % at 15 minutes after 30 epochs); one model predicts all horizons at once
(STGCN feeds single-step predictions back); a 70/10/20 split with a validation span (T-GCN: 80/20, no
validation); every horizon is scored at step t + h alone (T-GCN's '15 min' averages the errors of steps
1..3).
"""
from __future__ import annotations

from gnnkit import datasets
from gnnkit.experiments.spec import Experiment
from gnnkit.tasks.forecast import ERRORS, Forecasting
from gnnkit.train import TrainConfig

# Per dataset: window, horizons (steps), split, minutes per step.
SETTINGS = {
    "los-loop": {"input_len": 12, "horizons": (3, 6, 9, 12), "split": (0.7, 0.1, 0.2), "minutes_per_step": 5,
                 "loss_fn": "mae"},
    # STGCN: 34 / 5 / 5 weekdays; 15 / 30 / 45 minutes.
    "pemsd7m": {"input_len": 12, "horizons": (3, 6, 9), "split": (34 / 44, 5 / 44, 5 / 44), "minutes_per_step": 5},
}

STGCN_TRAIN = TrainConfig(epochs=20, lr=5e-3, optimizer="adam", lr_step=5, lr_gamma=0.7, select="val_metric",
                          restore_best=True)
RNN_TRAIN = STGCN_TRAIN                       # T-GCN and the GRU: the same budget
GCN_TRAIN = TrainConfig(epochs=20, lr=5e-3, optimizer="adam", lr_step=5, lr_gamma=0.7, select="val_metric",
                        restore_best=True)    # the cheap graph-only baseline trains to convergence
NO_TRAINING = TrainConfig(epochs=1, lr=1e-3, select="val_metric")
# STGCN's own schedule (50 epochs, lr 1e-3 decayed by 0.7 every 5 epochs, batch 50), with Adam for RMSprop.
STGCN_PAPER_TRAIN = TrainConfig(epochs=50, lr=1e-3, optimizer="adam", lr_step=5, lr_gamma=0.7,
                                select="val_metric", restore_best=True)


def metrics_for(minutes: list[str]) -> tuple[str, ...]:
    """``('mae', 'mae@15', 'mape@15', 'rmse@15', ...)``: what the table reports."""
    return ("mae",) + tuple(f"{e}@{m}" for m in minutes for e in ERRORS)


LOS_METRICS = metrics_for(["15", "30", "45", "60"])
PEMS_METRICS = metrics_for(["15", "30", "45"])


# ------------------------------------------------------------------ the builder (experiments/data.py)
def load(exp, root):
    """The dataset's ``TrafficSeries`` (``DataAbsent`` when its files are missing)."""
    return datasets.load(exp.dataset, root)


def task(exp, series, run: int = 0) -> Forecasting:
    """The windowed task of ``exp`` (the same for every seed)."""
    if exp.protocol != "temporal":
        raise ValueError(f"{exp.name}: forecasting has only the 'temporal' protocol (got {exp.protocol!r})")
    key = exp.dataset.lower()
    if key not in SETTINGS:
        raise ValueError(f"{exp.name}: no forecasting settings for dataset {exp.dataset!r}; known: {sorted(SETTINGS)}")
    return Forecasting.from_series(series, batch_size=exp.batch_size or 50, **SETTINGS[key])


# ------------------------------------------------------------------ the entries
def _los(name: str, model: str, model_args: dict, train: TrainConfig, notes: str = "") -> Experiment:
    return Experiment(name, "los-loop", model, model_args, train, task="forecast", protocol="temporal",
                      metric="mae", metrics=LOS_METRICS, batch_size=25, notes=notes,
                      source="no paper number on this split (see docs/results/forecast.md)")


STGCN_ARGS = {"hidden_channels": 64, "spatial_channels": 16, "kernel_size": 3, "K": 3, "dropout": 0.0}
# Los-loop: half the paper's widths, what the shared CPU allows for 2 variants x 3 seeds (module docstring).
STGCN_LOS_ARGS = {**STGCN_ARGS, "hidden_channels": 32, "spatial_channels": 8}

# STGCN's performance table (authors' README "Table 1", PeMSD7(M), STGCN(Cheb)): MAE / MAPE / RMSE at 15 / 30 / 45 min.
STGCN_PEMSD7M_PAPER = {"mae@15": 2.25, "mape@15": 0.0526, "rmse@15": 4.04,
                       "mae@30": 3.03, "mape@30": 0.0733, "rmse@30": 5.70,
                       "mae@45": 3.57, "mape@45": 0.0869, "rmse@45": 6.77}


def entries() -> list[Experiment]:
    return [
        _los("stgcn-cheb-losloop", "stgcn", {**STGCN_LOS_ARGS, "spatial": "cheb"}, STGCN_TRAIN),
        _los("stgcn-1st-losloop", "stgcn", {**STGCN_LOS_ARGS, "spatial": "first"}, STGCN_TRAIN),
        _los("tgcn-losloop", "tgcn", {"hidden_channels": 32}, RNN_TRAIN),
        _los("gru-losloop", "node_gru", {"hidden_channels": 32}, RNN_TRAIN,
             notes="baseline: a GRU per sensor, no graph"),
        _los("gcn-losloop", "gcn_only", {"hidden_channels": 64}, GCN_TRAIN,
             notes="baseline: 2-layer GCN on the window as node features, no temporal convolution"),
        _los("ha-losloop", "historical_average", {}, NO_TRAINING,
             notes="baseline: mean of the 12 input steps (no parameters; its one epoch changes nothing)"),
        _los("last-losloop", "last_value", {}, NO_TRAINING,
             notes="baseline: last input step (no parameters; its one epoch changes nothing)"),
        Experiment("stgcn-pemsd7m", "pemsd7m", "stgcn", {**STGCN_ARGS, "spatial": "cheb"}, STGCN_PAPER_TRAIN,
                   task="forecast", protocol="temporal", metric="mae", metrics=PEMS_METRICS, batch_size=50,
                   paper=STGCN_PEMSD7M_PAPER,
                   source="Yu et al. 2018, performance table (authors' README 'Table 1'), PeMSD7(M), STGCN(Cheb)",
                   notes="data absent here (PeMSD7(M) could not be brought to the shared data folder)"),
    ]


# ------------------------------------------------------------------ the plot of a finished run
def plot_run(name: str, run_dir, path, root=None, sensors=(0, 1, 2)):
    """Predicted vs true speed of ``sensors`` over one test day, per horizon, from the model a
    ``gnnkit reproduce --out`` run kept in ``run_dir/checkpoint.pt`` (its selected model).

    Example::

        plot_run("stgcn-cheb-losloop", "results/stgcn-cheb-losloop/seed-0", "forecast.png")
    """
    from pathlib import Path

    from gnnkit.experiments.registry import get
    from gnnkit.models import build_model
    from gnnkit.train.checkpoint import load_checkpoint
    from gnnkit.viz.forecast import plot_forecast

    exp = get(name)
    forecast = task(exp, load(exp, _root(root)))
    state = load_checkpoint(Path(run_dir) / "checkpoint.pt")
    model = build_model(exp.model, **forecast.model_args(), **exp.model_args)
    model.load_state_dict(state["best_model"] or state["model"])
    out = forecast.predict(model, "test")
    ids = forecast.data.graph.get("sensor_id")
    names = [f"sensor {int(ids[s])}" for s in sensors] if ids is not None else None
    return plot_forecast(out["pred"], out["target"], out["t"], forecast.horizons, path, sensors=sensors,
                         minutes_per_step=forecast.minutes_per_step, sensor_names=names,
                         title=f"{name}: test-day forecasts (run {Path(run_dir).name})")


def _root(root):
    from gnnkit.datasets.base import resolve_root

    return resolve_root(root)


# ------------------------------------------------------------------ the table in real units
def forecast_table(results: dict, names: list[str] | None = None) -> str:
    """A Markdown table of a forecasting ``results.json`` in real units: one row per experiment,
    MAE / MAPE (%) / RMSE at each horizon as mean ± std over the runs (``gnnkit reproduce``'s own
    table prints every metric as a percentage, which suits accuracies, not speeds).

    Example::

        print(forecast_table(json.load(open("results/results.json"))))
    """
    rows = [s for s in results["summary"] if s.get("status") == "ok" and (names is None or s["experiment"] in names)]
    if not rows:
        return "(no finished forecasting runs)"
    minutes = []
    for key in rows[0]["metrics"]:
        if "@" in key and key.split("@")[1] not in minutes:
            minutes.append(key.split("@")[1])
    head = "| experiment | runs | " + " | ".join(f"{e.upper()} @{m}" for m in minutes for e in ERRORS) + " |"
    lines = [head, "|---|---:|" + "---:|" * (len(minutes) * len(ERRORS))]
    for s in rows:
        cells = []
        for m in minutes:
            for e in ERRORS:
                v = s["metrics"].get(f"{e}@{m}")
                scale = 100 if e == "mape" else 1
                cells.append("—" if v is None else f"{scale * v['mean']:.2f} ± {scale * v['std']:.2f}")
        lines.append(f"| {s['experiment']} | {s['seeds']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
