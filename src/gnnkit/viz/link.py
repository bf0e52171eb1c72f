"""Pictures of a link-prediction run: the t-SNE of the learned embeddings coloured by class (labels
used for the picture only) and the ROC curve of the test pairs.

    python -m gnnkit.viz.link gae-cora --seed 0 --out docs/figures

trains the experiment once and writes ``<exp>_tsne.png`` and ``<exp>_roc.png`` there.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gnnkit.viz.plots import _pyplot, _save, plot_embedding


def plot_roc(score: torch.Tensor, y: torch.Tensor, path: str | Path, title: str = "") -> Path:
    """The ROC curve (scikit-learn's ``roc_curve``) of scores ``score`` [P] against 0/1 labels ``y`` [P],
    with its area in the legend and the chance diagonal.

    Example::

        score, y = task.scores(model, "test")
        plot_roc(score, y, "out/roc.png")
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    if score.shape != y.shape or score.dim() != 1:
        raise ValueError(f"score and y must both be [P] (got {list(score.shape)} and {list(y.shape)})")
    if y.numel() == 0 or y.min() == y.max():
        raise ValueError("the ROC curve needs both positive and negative pairs in y")
    s, t = score.detach().double().cpu().numpy(), y.detach().cpu().numpy()
    fpr, tpr, _ = roc_curve(t, s)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"AUC = {roc_auc_score(t, s):.3f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(loc="lower right")
    ax.set_title(title or f"ROC curve ({int(t.sum())} positive, {int((1 - t).sum())} negative pairs)")
    return _save(plt, fig, path)


def plot_link_run(name: str, out: str | Path, seed: int = 0, root=None) -> list[Path]:
    """Train experiment ``name`` (a 'link' task) once with ``seed``; write the t-SNE of all nodes'
    embeddings coloured by class and the test ROC curve into ``out``."""
    from gnnkit.experiments import get, run
    from gnnkit.experiments.data import load_data, make_task

    exp = get(name)
    if exp.task != "link":
        raise ValueError(f"{name} is a {exp.task!r} experiment; plot_link_run draws link-prediction runs")
    task = make_task(exp, load_data(exp, root))
    row = run(exp, seed, task=task, quiet=True)
    model, out = row["model"], Path(out)
    z, labels = task.embeddings(model, mask=False)
    auc = row["test_metrics"]["auc"]
    tsne = plot_embedding(z, labels, out / f"{name}_tsne.png", seed=seed,
                          title=f"{name}: t-SNE of the embeddings, all {z.size(0)} nodes (seed {seed})")
    score, y = task.scores(model, "test")
    roc = plot_roc(score, y, out / f"{name}_roc.png", title=f"{name}: test ROC (AUC {100 * auc:.1f}, seed {seed})")
    return [tsne, roc]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=".")
    parser.add_argument("--root", default=None)
    args = parser.parse_args(argv)
    for name in args.names:
        for path in plot_link_run(name, args.out, args.seed, args.root):
            print(path)


if __name__ == "__main__":
    main()
