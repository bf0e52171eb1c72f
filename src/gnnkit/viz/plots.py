"""Training curves and embedding scatters, as PNG files."""
from __future__ import annotations

from pathlib import Path

import torch


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str | Path) -> Path:
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_curves(history: list[dict], path: str | Path, title: str = "", metric: str | None = None) -> Path:
    """Loss (train, val) and ``metric`` (train, val; default the first validation metric) per epoch,
    from ``fit``'s history rows. A split without the value (no training metric) is left out.

    Example::

        plot_curves(result.history, "out/curves.png", title="gcn-cora seed 0")
    """
    if not history:
        raise ValueError("plot_curves needs at least one epoch of history")
    plt = _pyplot()
    metric = metric or next(k[len("val_"):] for k in history[0] if k.startswith("val_") and k != "val_loss")
    epochs = [r["epoch"] for r in history]
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 4))
    for split in ("train", "val"):
        for ax, key in ((ax_loss, f"{split}_loss"), (ax_metric, f"{split}_{metric}")):
            values = [r.get(key) for r in history]
            if any(v is not None for v in values):
                ax.plot(epochs, [float("nan") if v is None else v for v in values], label=split)
    ax_loss.set(xlabel="epoch", ylabel="loss", title="loss")
    ax_metric.set(xlabel="epoch", ylabel=metric, title=metric)
    for ax in (ax_loss, ax_metric):
        ax.legend()
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return _save(plt, fig, path)


def plot_embedding(h: torch.Tensor, labels: torch.Tensor, path: str | Path, title: str = "",
                   class_names: list[str] | None = None, seed: int = 0) -> Path:
    """Scatter of node embeddings coloured by class: ``h`` itself when it is 2-D,
    else its t-SNE (scikit-learn) projection.

    Example::

        h, y = task.embeddings(model, "test")
        plot_embedding(h, y, "out/tsne.png")
    """
    h = h.detach().float().cpu()
    if h.dim() != 2 or h.size(0) != labels.size(0):
        raise ValueError(f"h must be [N, D] with one row per label (got {list(h.shape)} and {labels.size(0)} labels)")
    if h.size(1) == 2:
        xy, how = h.numpy(), ""
    else:
        from sklearn.manifold import TSNE

        perplexity = min(30.0, max(2.0, (h.size(0) - 1) / 3))
        xy = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(h.numpy())
        how = "t-SNE of "
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    labels = labels.cpu()
    for c in sorted(set(labels.tolist())):
        pick = (labels == c).numpy()
        name = class_names[c] if class_names else f"class {c}"
        ax.scatter(xy[pick, 0], xy[pick, 1], s=12 if h.size(0) > 200 else 40, label=name, alpha=0.8)
    ax.legend(fontsize=8, markerscale=1.5)
    ax.set_title(title or f"{how}embedding ({h.size(0)} nodes)")
    return _save(plt, fig, path)
