"""The two evaluation protocols of graph classification over k folds, for any graph model.

**'gin-paper'** (Xu et al., ICLR 2019, Section 7 "Configurations" and the authors' code): train
one model per fold with the test fold as the validation set and record its accuracy after every
epoch; average the ``k`` curves, take the single epoch with the best average, and report the
folds' mean ± std at that epoch. A run is an ordinary fold run (``run.run`` stores
``val_curve``); only the summary differs (:func:`gin_paper_summary`).

.. math::
    t^* = \\arg\\max_t \\tfrac{1}{k} \\textstyle\\sum_{f} \\mathrm{acc}_f(t), \\qquad
    \\text{report } \\mathrm{mean}_f\\, \\mathrm{acc}_f(t^*) \\pm \\mathrm{std}_f\\, \\mathrm{acc}_f(t^*)

The test fold chooses the epoch, so the number is optimistic; the paper says so itself.

**'fair'** (Errica, Podda, Bacciu & Micheli, "A Fair Comparison of Graph Neural Networks for
Graph Classification", ICLR 2020, https://arxiv.org/abs/1912.09893, Section 3): the outer
``k`` folds only assess. Inside fold ``f`` (:func:`run_fair`):

1. a stratified hold-out of ``HOLDOUT`` (10%) of the fold's training graphs is the validation set;
2. every configuration of ``exp.grid`` is trained once on the other 90% and scored on it
   (the validation accuracy of the model the training config selects);
3. the best configuration (first on ties) is retrained ``RETRAINS`` (3) times on the whole
   training part, each time with a fresh stratified 10% hold-out for early stopping and model
   selection, and tested on fold ``f``; the fold's score is the mean of the 3 test accuracies.

The table reports the mean ± std of the ``k`` fold scores. The test fold is never seen before
step 3's testing.

Both protocols read the folds from the data builder (``TUDataset.folds``: the shipped
``10fold_idx`` files). An experiment opts in with ``protocol='gin-paper'`` or
``protocol='fair'`` and ``folds=10`` (and ``grid=(...)`` for 'fair'); nothing here depends on
the model, so DiffPool or any ``model(batch)`` classifier uses them unchanged.

Example::

    Experiment("gin-fair-mutag", "MUTAG", "gin", {"num_layers": 5}, TrainConfig(epochs=100),
               task="graph", protocol="fair", folds=10, transform="gin",
               grid=({"hidden_channels": 32}, {"hidden_channels": 64}))
"""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Callable, Sequence

import torch

from gnnkit.tasks import GraphClassification
from gnnkit.train import TrainConfig, write_json

HOLDOUT = 0.1
RETRAINS = 3
_TRAIN_KEYS = {f.name for f in fields(TrainConfig)}


# ------------------------------------------------------------------ 'fair'
@dataclass(frozen=True)
class FoldData:
    """One outer fold of a 'fair' protocol: the graphs, their labels, the fold's training and test
    ids; ``task(train, val, test, exp)`` makes a :class:`GraphClassification` on any ids."""

    graphs: Sequence
    y: torch.Tensor
    train: torch.Tensor
    test: torch.Tensor
    fold: int

    def task(self, train, val, test, exp) -> GraphClassification:
        return GraphClassification(self.graphs, train, val, test, batch_size=exp.batch_size or 32,
                                   iters_per_epoch=exp.iters_per_epoch, num_classes=int(self.y.max()) + 1)


def holdout(y: torch.Tensor, ids: torch.Tensor, fraction: float = HOLDOUT, seed: int = 0):
    """A stratified split of ``ids`` into ``(train, val)`` with ``fraction`` of them in ``val``
    (scikit-learn's ``train_test_split``; classes too small to stratify fall back to a plain split)."""
    from sklearn.model_selection import train_test_split

    ids = torch.as_tensor(ids).long()
    labels = y[ids].numpy()
    counts = torch.bincount(y[ids])
    stratify = labels if int(counts[counts > 0].min()) >= 2 else None
    tr, va = train_test_split(ids.numpy(), test_size=fraction, stratify=stratify, random_state=seed)
    return torch.from_numpy(tr).long(), torch.from_numpy(va).long()


def configure(exp, overrides: dict):
    """``exp`` with one grid point applied: ``TrainConfig`` fields go to ``exp.train``, ``batch_size``
    and ``iters_per_epoch`` to the experiment, everything else to ``model_args``."""
    train = {k: v for k, v in overrides.items() if k in _TRAIN_KEYS}
    top = {k: v for k, v in overrides.items() if k in ("batch_size", "iters_per_epoch")}
    args = {k: v for k, v in overrides.items() if k not in train and k not in top}
    return replace(exp, train=replace(exp.train, **train), model_args={**exp.model_args, **args}, **top)


def _cached(folder: Path | None, quiet: bool, make: Callable[[Path | None, bool], dict]) -> dict:
    """A sub-run's row, read from ``folder/result.json`` when finished, else run (resuming its
    checkpoint) and written there."""
    if folder is not None and (folder / "result.json").is_file():
        return json.loads((folder / "result.json").read_text())
    resume = folder is not None and (folder / "checkpoint.pt").is_file()
    row = make(folder, resume)
    row.pop("model", None)
    if folder is not None:
        write_json(row, folder / "result.json")
    return row


def run_fair(exp, seed: int = 0, root=None, out: str | Path | None = None, quiet: bool = True,
             resume: bool = False, task: FoldData | None = None, fold: int | None = None, **_) -> dict:
    """Fold ``fold`` of a 'fair' protocol (see the module docstring): model selection on a 10%
    hold-out over ``exp.grid``, then the selected configuration retrained ``RETRAINS`` times and
    tested. With ``out``, every training has its own folder (``select-j/``, ``final-r/``), so an
    interrupted fold resumes. Returns the row ``run.run`` returns (``test`` the mean of the
    retrained models' test accuracies), plus ``selected``, ``selection`` and ``final_tests``."""
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.experiments.run import run

    if not exp.grid:
        raise ValueError(f"{exp.name}: a 'fair' protocol needs grid=(...), the configurations to select from")
    if task is None:
        task = make_task(exp, load_data(exp, root), fold or 0)
    out = Path(out) if out is not None else None
    sub = (lambda name: out / name) if out is not None else (lambda name: None)
    inner_train, inner_val = holdout(task.y, task.train, HOLDOUT, seed=task.fold)
    selection = []
    for j, overrides in enumerate(exp.grid):
        cfg = configure(exp, overrides)
        row = _cached(sub(f"select-{j}"), quiet, lambda d, r: run(
            cfg, seed, task=task.task(inner_train, inner_val, inner_val, cfg), quiet=quiet, out=d, resume=r))
        selection.append({"config": j, "overrides": dict(overrides), "val": row["val"],
                          "epochs": row["epochs"], "seconds": row["seconds"]})
    best = max(range(len(selection)), key=lambda j: (selection[j]["val"] or 0.0, -j))
    cfg = configure(exp, exp.grid[best])
    finals = []
    for r in range(RETRAINS):
        tr, va = holdout(task.y, task.train, HOLDOUT, seed=1000 * (task.fold + 1) + r)
        finals.append(_cached(sub(f"final-{r}"), quiet, lambda d, res: run(
            cfg, seed + r, task=task.task(tr, va, task.test, cfg), quiet=quiet, out=d, resume=res)))
    m = exp.metric
    mean = lambda key, k: statistics.fmean(f[key][k] for f in finals) if all(  # noqa: E731
        f[key].get(k) is not None for f in finals) else None
    test_metrics = {k: mean("test_metrics", k) for k in finals[0]["test_metrics"]}
    val_metrics = {k: mean("val_metrics", k) for k in finals[0]["val_metrics"]}
    seconds = sum(s["seconds"] for s in selection) + sum(f["seconds"] for f in finals)
    return {"experiment": exp.name, "seed": seed, "fold": fold, "metric": m, "test": test_metrics.get(m),
            "val": val_metrics.get(m), "train": statistics.fmean(f["train"] for f in finals),
            "test_loss": test_metrics.get("loss"), "test_metrics": test_metrics, "val_metrics": val_metrics,
            "epochs": sum(f["epochs"] for f in finals), "best_epoch": None, "seconds": round(seconds, 3),
            "val_curve": None, "train_curve": None, "selected": best, "selected_overrides": dict(exp.grid[best]),
            "selection": selection, "final_tests": [f["test"] for f in finals], "model": None}


# ------------------------------------------------------------------ 'gin-paper'
def gin_paper_summary(exp, runs: list[dict]) -> dict:
    """The GIN paper's number from ``k`` fold runs' validation curves (validation = the test fold):
    the epoch ``t*`` with the best mean curve, and the folds' mean ± (population) std at ``t*``.
    Curves of different lengths (early stopping) are cut to the shortest."""
    from gnnkit.experiments.run import summarize

    curves = [r.get("val_curve") or [] for r in runs]
    length = min((len(c) for c in curves), default=0)
    if length == 0 or any(v is None for c in curves for v in c[:length]):
        raise ValueError(f"{exp.name}: the 'gin-paper' protocol needs every fold's per-epoch validation "
                         "accuracy (val_curve); run the folds with a validation split")
    mean_curve = [statistics.fmean(c[t] for c in curves) for t in range(length)]
    best = max(range(length), key=lambda t: (mean_curve[t], -t))
    at_best = [c[best] for c in curves]
    mean, std = statistics.fmean(at_best), statistics.pstdev(at_best) if len(at_best) > 1 else 0.0
    out = summarize(exp, runs)
    paper = exp.paper_value()
    main = {**out["metrics"][exp.metric], "mean": mean, "std": std,
            "difference": None if paper is None else mean - paper}
    out.update(mean=mean, std=std, difference=main["difference"], metrics={**out["metrics"], exp.metric: main},
               best_epoch=best + 1, epochs=length, last_epoch_mean=mean_curve[-1], mean_curve=mean_curve)
    return out


# ------------------------------------------------------------------ hooks for experiments.run
SUMMARIES = {"gin-paper": gin_paper_summary}


def runner_for(exp) -> Callable | None:
    """The function that trains one run of ``exp`` when it is not ``run.run``: 'fair' folds, and
    the WL subtree kernel's SVM (``model='wl-subtree'``), which is not trained by ``fit``."""
    if exp.model == "wl-subtree":
        from gnnkit.wl.svm import run_wl

        return run_wl
    if exp.protocol == "fair":
        return run_fair
    return None


def summary_for(exp) -> Callable | None:
    """The protocol's summary of its runs when it is not ``run.summarize``."""
    return SUMMARIES.get(exp.protocol)
