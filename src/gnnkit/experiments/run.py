"""Running experiments: one run (``run``), several experiments x runs with the table beside the
papers' numbers (``reproduce``), and ``results.json``.

A run is one seed (or one fold of a k-fold protocol). ``reproduce(..., out=DIR)`` gives every
run its folder, ``DIR/<experiment>/seed-<k>/`` (``fold-<k>/`` for folds), holding the run's
``checkpoint.pt`` and ``metrics.jsonl`` while it trains and its ``result.json`` once finished.
Called again on the same folder it keeps the finished runs (read from their ``result.json``),
resumes an interrupted one from its checkpoint, and trains the rest, so a long table is built
over several sittings with the same command.
"""
from __future__ import annotations

import json
import math
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import gnnkit
from gnnkit.experiments.data import DataAbsent, load_data, make_task
from gnnkit.experiments.protocols import runner_for, summary_for
from gnnkit.experiments.spec import Experiment
from gnnkit.models import build_model
from gnnkit.train import fit, seed_everything, write_json


def run(exp: Experiment, seed: int = 0, root=None, out: str | Path | None = None, quiet: bool = False,
        resume: bool = False, deterministic: bool = False, plots: bool = False, task=None,
        fold: int | None = None, device: str | torch.device | None = None) -> dict:
    """Train and test ``exp`` once with ``seed`` (on fold ``fold`` of a k-fold protocol). With
    ``out`` the run writes ``metrics.jsonl`` and ``checkpoint.pt`` there (``resume=True``
    continues from it), and with ``plots`` also ``curves.png`` and ``embedding.png``.
    Returns a plain dict: seed, fold, the selected metric on each split, every metric, epochs,
    seconds, the validation curve, and the trained ``model``. ``device`` (e.g. ``'cuda'``) moves the
    model and the task's data there (``task.to(device)``); ``None`` leaves both on the CPU.

    A 'fair' fold or a WL-kernel run (``protocols.runner_for``) is handed to its own runner, which
    returns the same kind of row (its ``model`` None)."""
    runner = runner_for(exp)
    if runner is not None and task is None:
        return runner(exp, seed, root=root, out=out, quiet=quiet, resume=resume, fold=fold)
    task = task if task is not None else make_task(exp, load_data(exp, root), fold or 0)
    seed_everything(seed, deterministic)
    model = build_model(exp.model, **task.model_args(), **exp.model_args)
    if device is not None:
        model, task = model.to(device), _task_to(task, device)
    config = exp.train if not quiet else _quiet(exp)
    out = Path(out) if out is not None else None
    result = fit(model, task, config,
                 log_path=out / "metrics.jsonl" if out else None,
                 checkpoint_path=out / "checkpoint.pt" if out else None, resume=resume)
    m = exp.metric
    row = {"experiment": exp.name, "seed": seed, "fold": fold, "metric": m, "test": result.test.get(m),
           "val": result.val.get(m), "train": result.train.get(m), "test_loss": result.test["loss"],
           "test_metrics": result.test, "val_metrics": result.val,
           "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": round(result.seconds, 3),
           "val_curve": [r.get(f"val_{m}") for r in result.history],
           "train_curve": [r.get(f"train_{m}") for r in result.history]}
    if out is not None and plots:
        from gnnkit.viz import plot_curves

        plot_curves(result.history, out / "curves.png", title=f"{exp.name} (seed {seed})", metric=m)
        row["plots"] = [str(out / "curves.png")]
        if hasattr(task, "embeddings"):
            row["plots"].append(str(_plot_embedding(exp, model, task, out, seed)))
    row["model"] = model
    return row


def _task_to(task, device):
    """``task.to(device)``; a task without ``to`` runs on the CPU only."""
    if hasattr(task, "to"):
        return task.to(device)
    if torch.device(device).type != "cpu":
        raise ValueError(f"{type(task).__name__} has no to(device), so its data stays on the CPU; "
                         "run it with --device cpu")
    return task


def _quiet(exp: Experiment):
    from dataclasses import replace

    return replace(exp.train, quiet=True)


def _plot_embedding(exp, model, task, out: Path, seed: int) -> Path:
    from gnnkit.viz import plot_embedding

    if exp.plot == "all":   # every node of the one graph (the karate demo: 34 members, 2 factions)
        h, y = task.embeddings(model, "test", mask=False)
        names = getattr(task, "class_names", None)
        return plot_embedding(h, y, out / f"{exp.dataset}_embedding.png", class_names=names, seed=seed,
                              title=f"{exp.name}: t-SNE of the last hidden layer")
    h, y = task.embeddings(model, "test")
    return plot_embedding(h, y, out / "embedding.png", seed=seed,
                          title=f"{exp.name}: t-SNE of the last hidden layer (test split)")


def _stats(values: list[float]) -> tuple[float, float]:
    values = [v for v in values if v is not None]
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.pstdev(values) if len(values) > 1 else 0.0)


def summarize(exp: Experiment, runs: list[dict]) -> dict:
    """Mean and (population) std of every test metric over ``runs``, beside the paper.
    The top-level ``mean`` / ``std`` / ``paper`` are the selecting metric's; ``metrics`` has all."""
    metrics = {}
    for m in exp.metrics:
        mean, std = _stats([r["test_metrics"].get(m) for r in runs])
        paper = exp.paper_value(m)
        metrics[m] = {"mean": mean, "std": std, "paper": paper, "paper_std": exp.paper_std_value(m),
                      "difference": None if paper is None else mean - paper}
    main = metrics[exp.metric]
    return {"experiment": exp.name, "metric": exp.metric, "seeds": len(runs), "mean": main["mean"],
            "std": main["std"], "paper": main["paper"], "paper_std": main["paper_std"],
            "difference": main["difference"], "metrics": metrics,
            "seconds": round(sum(r["seconds"] for r in runs), 3), "status": "ok"}


def _run_dir(out: Path, exp: Experiment, k: int) -> Path:
    return out / exp.name / (f"fold-{k}" if exp.runs_are_folds else f"seed-{k}")


# Entry fields that describe a run without changing it: a corrected paper number or source keeps the
# finished runs (the table prints the entry's current numbers).
DESCRIPTIVE_FIELDS = ("paper", "paper_std", "source", "notes")


def _check_same_config(run_dir: Path, config: dict) -> None:
    path = run_dir / "config.json"
    if not path.is_file():
        return
    saved = json.loads(path.read_text())
    differ = sorted(k for k in set(saved) | set(config)
                    if k not in DESCRIPTIVE_FIELDS and saved.get(k) != config.get(k))
    if differ:
        raise ValueError(f"{run_dir} holds a run with other settings ({', '.join(differ)} differ); pass another "
                         "--out folder, or delete that folder to start over")


def _one(exp: Experiment, k: int, task, out: Path | None, quiet: bool) -> dict:
    """Run ``k`` of ``exp`` (seed k, or fold k with seed 0), reusing or resuming what ``out`` holds."""
    seed, fold = (0, k) if exp.runs_are_folds else (k, None)
    train_one = runner_for(exp) or run      # 'fair' folds and the WL kernel train their own way
    if out is None:
        row = train_one(exp, seed, task=task, quiet=quiet, fold=fold)
        row.pop("model")
        return row
    run_dir = _run_dir(out, exp, k)
    config = json.loads(json.dumps(exp.to_dict()))
    _check_same_config(run_dir, config)
    done = run_dir / "result.json"
    if done.is_file():
        return json.loads(done.read_text())
    write_json(config, run_dir / "config.json")
    resume = (run_dir / "checkpoint.pt").is_file()
    row = train_one(exp, seed, task=task, quiet=quiet, fold=fold, out=run_dir, resume=resume)
    row.pop("model")
    row["resumed"] = resume
    write_json(row, done)
    return row


def run_count(exp: Experiment, seeds: int) -> int:
    """How many runs ``reproduce`` makes of ``exp``: its folds (k-fold protocols) or ``seeds``."""
    return exp.folds if exp.runs_are_folds else seeds


def check_runs(exps: list[Experiment], seeds: int, only: list[int]) -> None:
    """Refuse run numbers that some experiment of ``exps`` does not have (``reproduce``'s ``only``)."""
    for exp in exps:
        count = run_count(exp, seeds)
        bad = [k for k in only if not 0 <= k < count]
        if bad:
            what = f"{count} folds" if exp.runs_are_folds else f"{count} seeds (--seeds)"
            raise ValueError(f"run {bad[0]} is out of range: {exp.name} has {what}, numbered 0..{count - 1}")


def reproduce(names: list[str], seeds: int = 10, root=None, out: str | Path | None = None, quiet: bool = True,
              epochs: int | None = None, echo=print, command: str | None = None,
              only: list[int] | None = None) -> dict:
    """Run every experiment in ``names`` with seeds ``0..seeds-1`` (k-fold protocols: every fold,
    seed 0); print the table through ``echo``; write ``out/results.json`` (every run, the configs,
    the package version, wall time) atomically when ``out`` is given, and keep each run's folder
    there so that the same call resumes an interrupted table. Experiments whose data is absent get a
    'data absent' row and one line explaining why. ``command`` (the command line, which the CLI
    passes) is kept in results.json for ``gnnkit results``.

    ``only`` runs just those run numbers (seeds, or folds) of each experiment, so that one long
    table can be split over processes or sittings: each writes its runs' folders, and the table
    comes from copying the finished folders into one ``out`` and calling again without ``only``.
    A summary over a subset says so (``partial_runs``; the table prints "partial")."""
    from gnnkit.experiments.registry import get

    exps = [get(n) for n in names]
    if epochs is not None:
        exps = [e.override(epochs=epochs) for e in exps]
    if only is not None:
        check_runs(exps, seeds, only)
    out = Path(out) if out is not None else None
    started = time.time()
    summaries, runs, configs = [], [], {}
    for exp in exps:
        configs[exp.name] = exp.to_dict()
        try:
            data = load_data(exp, root)
        except DataAbsent as err:
            echo(f"{exp.name}: {err}")
            summaries.append({"experiment": exp.name, "metric": exp.metric, "status": "data absent",
                              "paper": exp.paper_value(), "paper_std": exp.paper_std_value(), "reason": str(err)})
            continue
        count = run_count(exp, seeds)
        ks = range(count) if only is None else sorted(set(only))
        exp_runs, task = [], None
        for k in ks:
            if task is None or exp.runs_are_folds:
                task = make_task(exp, data, k)
            row = _one(exp, k, task, out, quiet)
            exp_runs.append(row)
            if not quiet:
                what = f"fold {k}" if exp.runs_are_folds else f"seed {k}"
                echo(f"{exp.name} {what}: test {exp.metric} {_num(row['test'])} ({row['epochs']} epochs, "
                     f"{row['seconds']:.1f} s)")
        runs.extend(exp_runs)
        summary = (summary_for(exp) or summarize)(exp, exp_runs)
        if len(ks) < count:
            summary["partial_runs"] = list(ks)
        summaries.append(summary)
    echo(format_table(summaries))
    results = {"command": command, "gnnkit_version": gnnkit.__version__, "torch_version": torch.__version__,
               "python": platform.python_version(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "command_seeds": seeds, "wall_seconds": round(time.time() - started, 2),
               "summary": summaries, "runs": runs, "configs": configs}
    if out is not None:
        write_json(results, out / "results.json")
    return results


def _num(x) -> str:
    return "—" if x is None else f"{x:.4f}"


# Metrics in the data's own units (speed for traffic), printed as they are; every other metric is a
# fraction printed in %. A name may carry a horizon, "mae@15".
RAW_METRICS = ("mae", "rmse")


def fmt_metric(metric: str, x: float | None, signed: bool = False) -> str:
    """``x`` of ``metric`` for a table: in % for fractions (accuracy, F1, AUC, MAPE), as is for MAE/RMSE."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    raw = metric.split("@")[0] in RAW_METRICS
    value = x if raw else 100 * x
    return f"{value:+.{2 if raw else 1}f}" if signed else f"{value:.{2 if raw else 1}f}"


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def format_table(summaries: list[dict]) -> str:
    """A Markdown table: experiment | metric | ours (mean ± std, in %) | runs | paper | difference,
    one line per reported metric."""
    lines = ["| experiment | metric | ours (mean ± std) | seeds | paper | difference |",
             "|---|---|---|---|---|---|"]
    for s in summaries:
        if s["status"] != "ok":
            paper = _pct(s["paper"]) + (f" ± {_pct(s['paper_std'])}" if s.get("paper_std") is not None else "")
            lines.append(f"| {s['experiment']} | {s['metric']} | {s['status']} | — | {paper} | — |")
            continue
        metrics = s.get("metrics") or {s["metric"]: s}
        for m, v in metrics.items():
            paper = fmt_metric(m, v["paper"]) + (f" ± {fmt_metric(m, v['paper_std'])}"
                                                 if v.get("paper_std") is not None else "")
            diff = fmt_metric(m, v["difference"], signed=True)
            runs = f"{s['seeds']} (partial)" if s.get("partial_runs") else s["seeds"]
            lines.append(f"| {s['experiment']} | {m} | {fmt_metric(m, v['mean'])} ± {fmt_metric(m, v['std'])} "
                         f"| {runs} | {paper} | {diff} |")
    return "\n".join(lines)
