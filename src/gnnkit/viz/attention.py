"""Attention heatmaps (d2l.ai's ``show_heatmaps``) and the seq2seq loss curve, as PNG files.

Example::

    translation, (enc_w, dec_w, n) = task.translate(model, ["i'm home ."], save_attention=True)
    plot_encoder_attention(enc_w, "enc.png")                 # layers x heads, query x key positions
    plot_decoder_attention(dec_w, n, "dec_self.png", "dec_cross.png")
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch

from gnnkit.viz.plots import _pyplot, _save


def show_heatmaps(matrices: torch.Tensor, path: str | Path, xlabel: str = "Key positions",
                  ylabel: str = "Query positions", titles: Sequence[str] | None = None,
                  row_labels: Sequence[str] | None = None, cmap: str = "Reds", title: str = "") -> Path:
    """One heatmap per ``matrices[r, c]`` (``[rows, cols, Q, K]``, e.g. layers x heads), one shared colour bar."""
    if matrices.dim() != 4:
        raise ValueError(f"matrices must be [rows, cols, queries, keys] (got shape {list(matrices.shape)}); "
                         "for one matrix pass m[None, None]")
    plt = _pyplot()
    rows, cols = matrices.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(1.9 * cols + 1, 1.9 * rows + 0.4), sharex=True, sharey=True,
                             squeeze=False)
    image = None
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            image = ax.imshow(matrices[r, c].detach().cpu().float().numpy(), cmap=cmap, vmin=0.0, vmax=1.0)
            if r == rows - 1:
                ax.set_xlabel(xlabel)
            if c == 0:
                ax.set_ylabel(ylabel if row_labels is None else f"{row_labels[r]}\n{ylabel}")
            if titles is not None and r == 0:
                ax.set_title(titles[c])
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(right=0.8)
    fig.colorbar(image, cax=fig.add_axes((0.84, 0.2, 0.02, 0.6)))       # its own axis, right of the grid
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def encoder_matrix(enc_weights: Sequence[torch.Tensor], num_keys: int | None = None) -> torch.Tensor:
    """The encoder's per-block ``[1, H, T, T]`` weights of one sentence as ``[layers, H, T, T]``
    (cut to the first ``num_keys`` query and key positions when given)."""
    m = torch.cat([w[:1] for w in enc_weights], 0)                                # [L, H, T, T]
    return m if num_keys is None else m[:, :, :num_keys, :num_keys]


def decoder_matrices(steps: Sequence, length: int, num_keys: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-step decoder weights (``model.greedy_decode(..., save_attention=True)``: per step ``[self, enc-dec]``,
    each a list over blocks of ``[B, H, 1, keys]``) of sentence 0 as ``(self [L, H, Q, Q], enc-dec [L, H, Q, S])``,
    ``Q = length + 1`` queries (``<bos>`` and each predicted token, ``<eos>`` included); the keys a query cannot
    see are 0, as d2l fills them."""
    steps = list(steps)[:length + 1]
    Q, (L, H, S) = len(steps), (len(steps[0][0]), steps[0][0][0].size(1), steps[0][1][0].size(-1))
    self_w, cross_w = torch.zeros(L, H, Q, Q), torch.zeros(L, H, Q, S)
    for t, (self_blocks, cross_blocks) in enumerate(steps):
        for i in range(L):
            self_w[i, :, t, :t + 1] = self_blocks[i][0, :, 0, :t + 1]
            cross_w[i, :, t] = cross_blocks[i][0, :, 0]
    return self_w, (cross_w if num_keys is None else cross_w[..., :num_keys])


def plot_encoder_attention(enc_weights: Sequence[torch.Tensor], path: str | Path, num_keys: int | None = None) -> Path:
    m = encoder_matrix(enc_weights, num_keys)
    return show_heatmaps(m, path, titles=[f"Head {h + 1}" for h in range(m.size(1))],
                         row_labels=[f"layer {i + 1}" for i in range(m.size(0))], title="Encoder self-attention")


def plot_decoder_attention(steps: Sequence, length: int, self_path: str | Path, cross_path: str | Path,
                           num_keys: int | None = None) -> tuple[Path, Path]:
    self_w, cross_w = decoder_matrices(steps, length, num_keys)
    heads = [f"Head {h + 1}" for h in range(self_w.size(1))]
    layers = [f"layer {i + 1}" for i in range(self_w.size(0))]
    return (show_heatmaps(self_w, self_path, titles=heads, row_labels=layers, title="Decoder self-attention (causal)"),
            show_heatmaps(cross_w, cross_path, titles=heads, row_labels=layers,
                          title="Encoder-decoder attention"))


def plot_loss(history: list[dict], path: str | Path, title: str = "") -> Path:
    """Training loss per epoch (token-mean cross-entropy and, when logged, d2l's ``loss / num_steps``), log scale."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [h["epoch"] for h in history]
    ax.plot(epochs, [h["train_loss"] for h in history], label="token-mean cross-entropy")
    if all(h.get("train_d2l_loss") is not None for h in history):
        ax.plot(epochs, [h["train_d2l_loss"] for h in history], label="d2l's printed loss (/ num_steps)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    return _save(plt, fig, path)
