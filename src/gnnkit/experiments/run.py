"""Running experiments: one seed (``run``), several experiments x seeds with the
table beside the papers' numbers (``reproduce``), and ``results.json``."""
from __future__ import annotations

import math
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

import gnnkit
from gnnkit.experiments.data import DataAbsent, load_task, shapes
from gnnkit.experiments.spec import Experiment
from gnnkit.models import build_model
from gnnkit.train import fit, seed_everything, write_json


def run(exp: Experiment, seed: int = 0, root=None, out: str | Path | None = None, quiet: bool = False,
        resume: bool = False, deterministic: bool = False, plots: bool = False, task=None) -> dict:
    """Train and test ``exp`` once with ``seed``. With ``out`` the run writes
    ``metrics.jsonl`` and ``checkpoint.pt`` there (``resume=True`` continues from it),
    and with ``plots`` also ``curves.png`` and ``embedding.png``.
    Returns a plain dict (seed, final metrics, epochs, seconds)."""
    task = task if task is not None else load_task(exp, root)
    seed_everything(seed, deterministic)
    in_channels, out_channels = shapes(task)
    model = build_model(exp.model, in_channels, out_channels, **exp.model_args)
    config = exp.train if not quiet else _quiet(exp)
    out = Path(out) if out is not None else None
    result = fit(model, task, config,
                 log_path=out / "metrics.jsonl" if out else None,
                 checkpoint_path=out / "checkpoint.pt" if out else None, resume=resume)
    row = {"experiment": exp.name, "seed": seed, "metric": exp.metric, "test": result.test[exp.metric],
           "val": result.val[exp.metric], "train": result.train[exp.metric], "test_loss": result.test["loss"],
           "epochs": result.epochs, "best_epoch": result.best_epoch, "seconds": round(result.seconds, 3)}
    if out is not None and plots:
        from gnnkit.viz import plot_curves, plot_embedding

        plot_curves(result.history, out / "curves.png", title=f"{exp.name} (seed {seed})")
        row["plots"] = [str(out / "curves.png"), str(_plot_embedding(exp, model, task, out, seed, plot_embedding))]
    row["model"] = model
    return row


def _quiet(exp: Experiment):
    from dataclasses import replace

    return replace(exp.train, quiet=True)


def _plot_embedding(exp, model, task, out: Path, seed: int, plot_embedding) -> Path:
    if exp.plot == "all":   # every node of the one graph (the karate demo: 34 members, 2 factions)
        g = task.test[0][0]
        model.eval()
        with torch.no_grad():
            h = model.embed(g.x, g.adj())
        names = ["Mr. Hi", "Officer"] if exp.dataset == "karate" else None
        return plot_embedding(h, g.y, out / f"{exp.dataset}_embedding.png", class_names=names, seed=seed,
                              title=f"{exp.name}: t-SNE of the last hidden layer")
    h, y = task.embeddings(model, "test")
    return plot_embedding(h, y, out / "embedding.png", seed=seed,
                          title=f"{exp.name}: t-SNE of the last hidden layer (test nodes)")


def summarize(exp: Experiment, runs: list[dict]) -> dict:
    """Mean and (population) std of the test metric over ``runs``, beside the paper."""
    values = [r["test"] for r in runs]
    mean = statistics.fmean(values)
    std = statistics.pstdev(values) if len(values) > 1 else 0.0
    return {"experiment": exp.name, "metric": exp.metric, "seeds": len(values), "mean": mean, "std": std,
            "paper": exp.paper, "paper_std": exp.paper_std,
            "difference": None if exp.paper is None else mean - exp.paper,
            "seconds": sum(r["seconds"] for r in runs), "status": "ok"}


def reproduce(names: list[str], seeds: int = 10, root=None, out: str | Path | None = None, quiet: bool = True,
              epochs: int | None = None, echo=print) -> dict:
    """Run every experiment in ``names`` with seeds ``0..seeds-1``; print the table
    through ``echo``; write ``out/results.json`` (every run, the configs, the package
    version, wall time) atomically when ``out`` is given. Experiments whose data is
    absent get a 'data absent' row and one line explaining why."""
    from gnnkit.experiments.registry import get

    exps = [get(n) for n in names]
    if epochs is not None:
        exps = [e.override(epochs=epochs) for e in exps]
    started = time.time()
    summaries, runs, configs = [], [], {}
    for exp in exps:
        configs[exp.name] = exp.to_dict()
        try:
            task = load_task(exp, root)
        except DataAbsent as err:
            echo(f"{exp.name}: {err}")
            summaries.append({"experiment": exp.name, "metric": exp.metric, "status": "data absent",
                              "paper": exp.paper, "paper_std": exp.paper_std, "reason": str(err)})
            continue
        exp_runs = []
        for seed in range(seeds):
            row = run(exp, seed, task=task, quiet=quiet)
            row.pop("model")
            exp_runs.append(row)
            if not quiet:
                echo(f"{exp.name} seed {seed}: test {exp.metric} {row['test']:.4f} ({row['epochs']} epochs, "
                     f"{row['seconds']:.1f} s)")
        runs.extend(exp_runs)
        summaries.append(summarize(exp, exp_runs))
    echo(format_table(summaries))
    results = {"gnnkit_version": gnnkit.__version__, "torch_version": torch.__version__,
               "python": platform.python_version(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
               "command_seeds": seeds, "wall_seconds": round(time.time() - started, 2),
               "summary": summaries, "runs": runs, "configs": configs}
    if out is not None:
        write_json(results, Path(out) / "results.json")
    return results


def _pct(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def format_table(summaries: list[dict]) -> str:
    """A Markdown table: experiment | metric | ours (mean ± std, in %) | paper | difference."""
    lines = ["| experiment | metric | ours (mean ± std) | seeds | paper | difference |",
             "|---|---|---|---|---|---|"]
    for s in summaries:
        paper = _pct(s["paper"]) + (f" ± {_pct(s['paper_std'])}" if s.get("paper_std") is not None else "")
        if s["status"] != "ok":
            lines.append(f"| {s['experiment']} | {s['metric']} | {s['status']} | — | {paper} | — |")
            continue
        diff = "—" if s["difference"] is None else f"{100 * s['difference']:+.1f}"
        lines.append(f"| {s['experiment']} | {s['metric']} | {_pct(s['mean'])} ± {_pct(s['std'])} | {s['seeds']} "
                     f"| {paper} | {diff} |")
    return "\n".join(lines)
