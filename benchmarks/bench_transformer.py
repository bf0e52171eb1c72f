"""The d2l.ai English -> French Transformer: gnnkit's ``models.Transformer`` next to torch's own
``nn.Transformer`` built to the same sizes, one training epoch at a time, in the same run.

Both models: 2 encoder and 2 decoder layers, d = 32, 4 heads, FFN 64, dropout 0.1, learned
embeddings scaled by sqrt(d) plus the same sinusoidal positional encoding, a linear layer to the
French vocabulary; post-LayerNorm (torch's default ``norm_first=False``). Differences: torch's
attention projections carry biases (gnnkit's default follows the chapter: none), and
``nn.Transformer`` adds a final LayerNorm after each stack. The data are the chapter's 600 pairs
(10 steps, batch 64, 10 batches an epoch); each epoch is teacher-forced masked cross-entropy,
Adam lr 0.005, gradients clipped to norm 1: the same loop for both, alternating epoch by epoch
so that machine noise hits both alike. Reported: median and minimum seconds per epoch, and the
ratio torch / gnnkit (> 1: gnnkit faster).

    python benchmarks/bench_transformer.py [--epochs 20] [--threads 1] [--root ../shared/data]
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time

import torch
from torch import nn

from gnnkit.datasets import load
from gnnkit.models.transformer import Transformer
from gnnkit.nn.transformer import PositionalEncoding
from gnnkit.tasks.seq2seq import masked_cross_entropy


class TorchTransformer(nn.Module):
    """``nn.Transformer`` with the chapter's embeddings, positional encoding and output layer."""

    def __init__(self, src_vocab_size, tgt_vocab_size, num_hiddens=32, ffn_num_hiddens=64, num_heads=4,
                 num_layers=2, dropout=0.1):
        super().__init__()
        self.d = num_hiddens
        self.src_embedding = nn.Embedding(src_vocab_size, num_hiddens)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout)
        self.transformer = nn.Transformer(num_hiddens, num_heads, num_layers, num_layers, ffn_num_hiddens, dropout,
                                          batch_first=True)
        self.dense = nn.Linear(num_hiddens, tgt_vocab_size)

    def forward(self, src, src_valid_len, dec_input):
        S, T = src.size(1), dec_input.size(1)
        src_pad = torch.arange(S)[None, :] >= src_valid_len[:, None]              # True = ignore
        causal = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.pos_encoding(self.src_embedding(src) * math.sqrt(self.d))
        y = self.pos_encoding(self.tgt_embedding(dec_input) * math.sqrt(self.d))
        out = self.transformer(x, y, tgt_mask=causal, src_key_padding_mask=src_pad,
                               memory_key_padding_mask=src_pad)
        return self.dense(out)


def epoch(model, optimizer, data, bos: int, batch_size: int = 64) -> tuple[float, float]:
    """One teacher-forced epoch; returns (seconds, mean token loss)."""
    model.train()
    t0 = time.perf_counter()
    order = torch.randperm(data.src.size(0))
    total, count = 0.0, 0
    for start in range(0, order.numel(), batch_size):
        ids = order[start:start + batch_size]
        X, X_len, Y, Y_len = data.src[ids], data.src_valid_len[ids], data.tgt[ids], data.tgt_valid_len[ids]
        dec_input = torch.cat([torch.full((Y.size(0), 1), bos), Y[:, :-1]], 1)
        optimizer.zero_grad()
        loss = masked_cross_entropy(model(X, X_len, dec_input), Y, Y_len)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        n = int(Y_len.sum())
        total, count = total + loss.item() * n, count + n
    return time.perf_counter() - t0, total / count


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--root", default=os.environ.get("GNNKIT_DATA"))
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    data = load("fra-eng", a.root, num_steps=10, num_examples=600, min_freq=2)
    bos = data.tgt_vocab["<bos>"]
    sizes = dict(src_vocab_size=len(data.src_vocab), tgt_vocab_size=len(data.tgt_vocab))
    torch.manual_seed(0)
    ours = Transformer(**sizes, num_hiddens=32, ffn_num_hiddens=64, num_heads=4, num_layers=2, dropout=0.1)
    theirs = TorchTransformer(**sizes)
    models = {"gnnkit": ours, "torch": theirs}
    opts = {k: torch.optim.Adam(m.parameters(), lr=0.005) for k, m in models.items()}
    times = {k: [] for k in models}
    losses = {k: [] for k in models}
    for _ in range(a.epochs):
        for k in models:
            sec, loss = epoch(models[k], opts[k], data, bos)
            times[k].append(sec)
            losses[k].append(loss)
    params = {k: sum(p.numel() for p in m.parameters()) for k, m in models.items()}
    print(f"fra-eng, 600 pairs, 10 batches of 64 an epoch, {a.epochs} epochs each (alternating), "
          f"{a.threads} thread(s), torch {torch.__version__}, {platform.processor() or platform.machine()}")
    print("| model | parameters | median s/epoch | min s/epoch | loss after the epochs |")
    print("|---|---|---|---|---|")
    for k in models:
        print(f"| {k} | {params[k]:,} | {statistics.median(times[k]):.3f} | {min(times[k]):.3f} | {losses[k][-1]:.3f} |")
    med = statistics.median(times["torch"]) / statistics.median(times["gnnkit"])
    mn = min(times["torch"]) / min(times["gnnkit"])
    print(f"ratio torch / gnnkit: {med:.2f}x (medians), {mn:.2f}x (minimums)")


if __name__ == "__main__":
    main()
