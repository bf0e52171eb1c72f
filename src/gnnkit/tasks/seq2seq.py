"""Sequence to sequence: padded sentence pairs, teacher forcing, masked cross-entropy, BLEU.

As in d2l.ai's ``train_seq2seq`` and ``predict_seq2seq`` ("Sequence-to-Sequence Learning"):
the decoder reads ``<bos>`` followed by the target shifted right (teacher forcing), the loss is
the cross-entropy of the target tokens with the padding masked out, and evaluation decodes
greedily from ``<bos>`` until ``<eos>`` and scores the result with :func:`gnnkit.metrics.bleu`.

The data is any object with d2l's tensors (``src``, ``src_valid_len``, ``tgt``, ``tgt_valid_len``:
``[S, num_steps]`` ids and ``[S]`` lengths), vocabularies ``src_vocab`` / ``tgt_vocab`` (a
:class:`gnnkit.datasets.sentences.Vocab`) and the target token lists ``target`` (the BLEU
references): :class:`gnnkit.datasets.sentences.SentencePairs` or :class:`SyntheticPairs`.
Models are called as ``model(src, src_valid_len, dec_input)`` -> ``[B, T, V]`` logits and decode
with ``model.greedy_decode(src, src_valid_len, bos, eos, num_steps)``.

Loss scale: the step loss is the mean over the batch's target tokens. d2l's printed loss
divides the same sum by ``num_steps`` as well (each sequence's masked sum over ``num_steps``
positions, summed, over the token count); ``train_metrics`` reports it as ``d2l_loss``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from gnnkit.datasets.sentences import RESERVED, Vocab, to_tensor
from gnnkit.metrics import bleu
from gnnkit.tasks.base import Step, check_split, evaluating


def masked_cross_entropy(logits: torch.Tensor, target: torch.Tensor, valid_len: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the target tokens at positions ``< valid_len`` (d2l's
    ``MaskedSoftmaxCELoss``, averaged over tokens). logits ``[B, T, V]``, target ``[B, T]``, valid_len ``[B]``."""
    mask = torch.arange(target.size(1), device=target.device)[None, :] < valid_len[:, None]     # [B, T]
    losses = F.cross_entropy(logits.transpose(1, 2), target, reduction="none")                  # [B, T]
    return (losses * mask).sum() / mask.sum().clamp_min(1)


@dataclass
class SyntheticPairs:
    """Random token sequences and a deterministic target: ``'copy'``, ``'reverse'`` or ``'sort'``.

    The same fields as :class:`~gnnkit.datasets.sentences.SentencePairs`, so the same task and model
    run on it without the sentence file: tokens ``'t0' .. 't{vocab_size-1}'``, lengths uniform in
    ``[min_len, max_len]``, ``<eos>`` appended, padded to ``num_steps``.

    Example::

        data = SyntheticPairs("reverse", num_examples=2000, seed=0)
        data.source[0], data.target[0]        # ['t3', 't1', 't4'], ['t4', 't1', 't3']
    """

    kind: str = "reverse"
    num_examples: int = 2000
    vocab_size: int = 10
    min_len: int = 1
    max_len: int = 6
    num_steps: int = 8
    seed: int = 0
    source: list = field(init=False, repr=False)
    target: list = field(init=False, repr=False)

    def __post_init__(self):
        ops = {"copy": lambda s: list(s), "reverse": lambda s: s[::-1], "sort": lambda s: sorted(s, key=lambda t: int(t[1:]))}
        if self.kind not in ops:
            raise ValueError(f"kind must be one of {sorted(ops)} (got {self.kind!r})")
        if not 1 <= self.min_len <= self.max_len < self.num_steps:
            raise ValueError(f"need 1 <= min_len <= max_len < num_steps (room for <eos>); got min_len={self.min_len}, "
                             f"max_len={self.max_len}, num_steps={self.num_steps}")
        g = torch.Generator().manual_seed(self.seed)
        lengths = torch.randint(self.min_len, self.max_len + 1, (self.num_examples,), generator=g).tolist()
        ids = torch.randint(0, self.vocab_size, (self.num_examples, self.max_len), generator=g).tolist()
        self.source = [[f"t{i}" for i in row[:n]] for row, n in zip(ids, lengths)]
        self.target = [ops[self.kind](s) for s in self.source]
        self.src_vocab = Vocab(self.source, 0, RESERVED)
        self.tgt_vocab = Vocab(self.target, 0, RESERVED)
        self.src, self.src_valid_len = to_tensor(self.source, self.src_vocab, self.num_steps)
        self.tgt, self.tgt_valid_len = to_tensor(self.target, self.tgt_vocab, self.num_steps)

    def __len__(self) -> int:
        return self.num_examples


def _index(idx, n: int, name: str) -> torch.Tensor:
    idx = torch.as_tensor(idx, dtype=torch.long).view(-1)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"{name} has ids outside 0..{n - 1} (the data has {n} pairs)")
    return idx


@dataclass
class Seq2Seq:
    """Args:
        data: the sentence pairs (see the module docstring).
        train_idx, val_idx, test_idx: pair ids of each split (d2l trains on all 600 pairs and
            probes four of them; ``val_idx`` may equal ``test_idx``).
        batch_size: pairs per training step (default 64, the chapter's).
        bleu_k: the largest n-gram order of BLEU (default 2, the chapter's).
        eval_batch_size: pairs decoded at once in evaluation (only memory depends on it).

    ``evaluate`` returns ``loss`` (teacher-forced masked cross-entropy), ``token_acc`` (teacher-forced
    arg-max accuracy over target tokens), ``bleu`` (mean BLEU-k of the greedy translations against the
    references) and ``exact`` (share of greedy translations equal to the reference ids).

    Example::

        data = SyntheticPairs("reverse")
        task = Seq2Seq(data, torch.arange(1600), torch.arange(1600, 1800), torch.arange(1800, 2000))
        fit(Transformer(**task.model_args()), task, TrainConfig(epochs=30, lr=0.005, clip_grad=1.0))
    """

    data: Any
    train_idx: torch.Tensor
    val_idx: torch.Tensor
    test_idx: torch.Tensor
    batch_size: int = 64
    bleu_k: int = 2
    eval_batch_size: int = 1024
    metric: str = field(default="bleu", init=False)
    higher_is_better: bool = field(default=True, init=False)

    def __post_init__(self):
        for name in ("src", "src_valid_len", "tgt", "tgt_valid_len", "src_vocab", "tgt_vocab", "target"):
            if not hasattr(self.data, name):
                raise TypeError(f"Seq2Seq data needs a {name!r} attribute (SentencePairs and SyntheticPairs have "
                                f"them); got a {type(self.data).__name__}")
        n = self.data.src.size(0)
        self.train_idx = _index(self.train_idx, n, "train_idx")
        self.val_idx = _index(self.val_idx, n, "val_idx")
        self.test_idx = _index(self.test_idx, n, "test_idx")
        if self.train_idx.numel() == 0:
            raise ValueError("train_idx is empty; a seq2seq task needs training pairs")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ValueError(f"batch_size must be a positive int (got {self.batch_size!r})")
        self.bos, self.eos, self.pad = (self.data.tgt_vocab[t] for t in ("<bos>", "<eos>", "<pad>"))
        self.num_steps = self.data.tgt.size(1)

    # -------------------------------------------------------------- the protocol
    def model_args(self) -> dict:
        return {"src_vocab_size": len(self.data.src_vocab), "tgt_vocab_size": len(self.data.tgt_vocab)}

    def _batch(self, ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
        d = self.data
        return d.src[ids], d.src_valid_len[ids], d.tgt[ids], d.tgt_valid_len[ids]

    def train_batches(self):
        order = self.train_idx[torch.randperm(self.train_idx.numel())]
        for start in range(0, order.numel(), self.batch_size):
            yield self._batch(order[start:start + self.batch_size])

    def loss(self, model, batch) -> Step:
        """Teacher forcing: the decoder reads ``<bos>, y_1 .. y_{T-1}`` and predicts ``y_1 .. y_T``."""
        X, X_valid_len, Y, Y_valid_len = batch
        bos = torch.full((Y.size(0), 1), self.bos, dtype=torch.long, device=Y.device)
        dec_input = torch.cat([bos, Y[:, :-1]], dim=1)                              # [B, T]
        logits = model(X, X_valid_len, dec_input)                                   # [B, T, V]
        if logits.dim() != 3 or logits.shape[:2] != Y.shape:
            raise ValueError(f"a seq2seq model must return [B, T, V] logits for targets of shape {list(Y.shape)} "
                             f"(got {list(logits.shape)})")
        loss = masked_cross_entropy(logits, Y, Y_valid_len)
        keep = torch.arange(Y.size(1), device=Y.device)[None, :] < Y_valid_len[:, None]
        return Step(loss, int(keep.sum()), logits.argmax(-1).detach(), Y.masked_fill(~keep, -1))

    def train_metrics(self, steps: list[Step]) -> dict:
        n = sum(s.size for s in steps)
        if n == 0:
            return {"token_acc": None, "d2l_loss": None}
        correct = sum(int((s.output == s.target).sum()) for s in steps)
        token_loss = sum(float(s.loss) * s.size for s in steps) / n
        return {"token_acc": correct / n, "d2l_loss": token_loss / self.num_steps}

    def reference_ids(self, i: int) -> list[int]:
        """Target ids of pair ``i`` up to its ``<eos>`` (or all ``num_steps`` when truncated)."""
        row = self.data.tgt[i].tolist()
        return row[:row.index(self.eos)] if self.eos in row else row

    def evaluate(self, model, split: str) -> dict:
        ids = getattr(self, f"{check_split(split)}_idx")
        if ids.numel() == 0:
            return {"loss": None, "token_acc": None, "bleu": None, "exact": None}
        steps, scores, exact = [], [], 0
        with evaluating(model):
            for start in range(0, ids.numel(), self.eval_batch_size):
                chunk = ids[start:start + self.eval_batch_size]
                batch = self._batch(chunk)
                steps.append(self.loss(model, batch))
                tokens, lengths = model.greedy_decode(batch[0], batch[1], self.bos, self.eos, self.num_steps)
                for i, toks, n in zip(chunk.tolist(), tokens.tolist(), lengths.tolist()):
                    pred = toks[:n]
                    exact += pred == self.reference_ids(i)
                    scores.append(bleu(" ".join(self.data.tgt_vocab.to_tokens(pred)),
                                       " ".join(self.data.target[i]), self.bleu_k))
        n = sum(s.size for s in steps)
        metrics = self.train_metrics(steps)
        return {"loss": sum(float(s.loss) * s.size for s in steps) / n, "token_acc": metrics["token_acc"],
                "bleu": sum(scores) / len(scores), "exact": exact / ids.numel()}

    # -------------------------------------------------------------- prediction
    def translate(self, model, sentences: Sequence[str], save_attention: bool = False):
        """Greedy translations of raw source ``sentences`` (lower-cased and split on spaces, ids padded
        to ``num_steps`` as in d2l's ``predict_seq2seq``). Returns the translated strings, with
        ``save_attention`` also ``(encoder weights, per-step decoder weights)`` of the last sentence."""
        src_vocab = self.data.src_vocab
        out, attention = [], None
        with evaluating(model):
            for sentence in sentences:
                tokens = [sentence.lower().split(" ")]
                src, src_len = to_tensor(tokens, src_vocab, self.data.src.size(1))
                res = model.greedy_decode(src, src_len, self.bos, self.eos, self.num_steps, save_attention)
                toks, n = res[0][0].tolist(), int(res[1][0])
                out.append(" ".join(self.data.tgt_vocab.to_tokens(toks[:n])))
                if save_attention:
                    attention = ([w.clone() for w in model.encoder.attention_weights], res[2], n)
        return (out, attention) if save_attention else out
