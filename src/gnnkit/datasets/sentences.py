"""English-French sentence pairs (``fra-eng``), prepared as in the d2l.ai textbook.

Zhang, Lipton, Li & Smola, "Dive into Deep Learning", section "Machine Translation
and the Dataset" (https://d2l.ai/chapter_recurrent-modern/machine-translation-and-dataset.html).
The data are the Tatoeba / manythings.org pairs (CC-BY 2.0), one ``English<TAB>French``
pair per line in ``root/fra-eng/fra.txt``.

Pipeline (each step a function, as in the book):

1. ``preprocess``: byte-order marks, zero-width characters (U+200B..U+200D, U+2060, U+FEFF),
   NUL and other control characters (tab and newline kept) removed; non-breaking spaces become
   spaces, lower-case, a space before ``, . ! ?`` when none is there.
2. ``tokenize``: split each side on runs of spaces (never an empty ``''`` token); a pair with an
   empty side is skipped (first ``num_examples`` kept pairs only).
3. ``Vocab``: ``<unk>`` = 0, then the reserved tokens, then tokens by decreasing
   frequency (ties in order of first appearance), those rarer than ``min_freq`` dropped.
4. ``to_tensor``: tokens to ids, ``<eos>`` appended, truncated / padded with ``<pad>``
   to ``num_steps``; ``valid_len`` counts the non-pad ids.

Example::

    data = SentencePairs(root, num_steps=8, num_examples=600)
    data.src.shape, data.src_valid_len.shape, len(data.src_vocab)   # [600, 8], [600], ...
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, Sequence

import torch

from gnnkit.datasets.base import read_text, require_files, resolve_root
from gnnkit.datasets.download import Remote, fetch
from gnnkit.datasets.errors import DatasetFileError

REMOTE = Remote("https://raw.githubusercontent.com/modelexlab/data/adddaf33ac35572bcfeb421efec29435e7ea9332/fra.txt",
                sha256="0bb85dbaa1c896844649094d7eaf2e34bee34e84fe362b26ce7e8f2e12aae104")
RESERVED = ("<pad>", "<bos>", "<eos>")
# d2l inserts a space before , . ! ? when the previous character is not a space.
_NO_SPACE_BEFORE = re.compile(r"(?<=[^ ])([,.!?])")


# Invisible characters a copy-paste or an editor leaves in text: BOM, zero-width (non-)joiners and
# spaces, word joiner; and C0 control characters other than tab and newline (NUL, CR, ...), and DEL.
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\x00-\x08\x0b-\x1f\x7f]")


def preprocess(text: str) -> str:
    """d2l's ``preprocess_nmt``: ``'Go.\\tVa !'`` -> ``'go .\\tva !'``; invisible and control
    characters (BOM, U+200B..U+200D, U+2060, NUL, CR, ...) are removed first."""
    text = _INVISIBLE.sub("", text)
    text = text.replace("\u202f", " ").replace("\xa0", " ").lower()
    return _NO_SPACE_BEFORE.sub(r" \1", text)


def tokenize(text: str, num_examples: int | None = None) -> tuple[list[list[str]], list[list[str]]]:
    """Source and target token lists of the first ``num_examples`` well-formed pairs
    (lines without exactly one tab are skipped, as in d2l, and so are pairs with an empty side).
    Each side is split on runs of spaces, so no token is ``''``."""
    source, target = [], []
    for line in text.split("\n"):
        if num_examples is not None and len(source) >= num_examples:
            break
        parts = line.split("\t")
        if len(parts) == 2:
            src, tgt = ([tok for tok in side.split(" ") if tok] for side in parts)
            if src and tgt:
                source.append(src)
                target.append(tgt)
    return source, target


class Vocab:
    """Token <-> id maps. ``vocab[token]`` (unknown -> ``<unk>`` = 0), ``vocab[list]``,
    ``vocab.to_tokens(ids)``.

    Args:
        sentences: token lists whose tokens are counted.
        min_freq: tokens seen fewer times map to ``<unk>``.
        reserved_tokens: given ids 1, 2, ... right after ``<unk>``.
    """

    def __init__(self, sentences: Iterable[Sequence[str]] = (), min_freq: int = 0,
                 reserved_tokens: Sequence[str] = ()):
        counter = Counter(tok for sent in sentences for tok in sent)
        self.token_freqs = sorted(counter.items(), key=lambda kv: kv[1], reverse=True)  # stable: ties keep order
        self.idx_to_token = ["<unk>"] + [t for t in reserved_tokens if t != "<unk>"]
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        for token, freq in self.token_freqs:
            if freq < min_freq:
                break
            if token not in self.token_to_idx:
                self.token_to_idx[token] = len(self.idx_to_token)
                self.idx_to_token.append(token)

    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __getitem__(self, tokens):
        if isinstance(tokens, (list, tuple)):
            return [self[t] for t in tokens]
        return self.token_to_idx.get(tokens, 0)

    def to_tokens(self, ids) -> list[str] | str:
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        if isinstance(ids, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in ids]
        return self.idx_to_token[int(ids)]

    @property
    def unk(self) -> int:
        return 0


def truncate_pad(ids: Sequence[int], num_steps: int, pad: int) -> list[int]:
    """Cut ``ids`` to ``num_steps`` or pad it with ``pad`` up to ``num_steps``."""
    ids = list(ids)
    return ids[:num_steps] if len(ids) > num_steps else ids + [pad] * (num_steps - len(ids))


def to_tensor(sentences: Sequence[Sequence[str]], vocab: Vocab, num_steps: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(ids [S, num_steps], valid_len [S])``: ``<eos>`` appended, then truncated / padded."""
    rows = [truncate_pad(vocab[list(s)] + [vocab["<eos>"]], num_steps, vocab["<pad>"]) for s in sentences]
    ids = torch.tensor(rows, dtype=torch.long).view(len(rows), num_steps)
    valid_len = (ids != vocab["<pad>"]).long().sum(1)
    return ids, valid_len


class SentencePairs:
    """The d2l ``fra-eng`` data: source (English) and target (French) id tensors.

    Args:
        root: data root; reads ``root/fra-eng/fra.txt``.
        num_steps: fixed sequence length (default 8, as in d2l).
        num_examples: keep the first N pairs (default 600, as in d2l; ``None`` = all).
        min_freq: vocabulary cut-off (default 2).
        reserved_tokens: default ``('<pad>', '<bos>', '<eos>')``.
        download: fetch ``fra.txt`` from its source (sha256-pinned) if missing.

    Shapes: ``src``, ``tgt`` [S, num_steps] int64; ``src_valid_len``, ``tgt_valid_len`` [S].
    ``data[i]`` is ``(src[i], src_valid_len[i], tgt[i], tgt_valid_len[i])``.
    """

    def __init__(self, root=None, num_steps: int = 8, num_examples: int | None = 600, min_freq: int = 2,
                 reserved_tokens: Sequence[str] = RESERVED, download: bool = False):
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1 (got {num_steps})")
        if "<pad>" not in reserved_tokens or "<eos>" not in reserved_tokens:
            raise ValueError(f"reserved_tokens must include '<pad>' and '<eos>' (got {tuple(reserved_tokens)})")
        path = resolve_root(root) / "fra-eng" / "fra.txt"
        if download:
            fetch(REMOTE, path)
        require_files([path], "fra-eng", hint="; or pass download=True")
        text = preprocess(read_text(path))
        self.source, self.target = tokenize(text, num_examples)
        if not self.source:
            raise DatasetFileError(path, "holds no 'English<TAB>French' lines")
        self.src_vocab = Vocab(self.source, min_freq, reserved_tokens)
        self.tgt_vocab = Vocab(self.target, min_freq, reserved_tokens)
        self.src, self.src_valid_len = to_tensor(self.source, self.src_vocab, num_steps)
        self.tgt, self.tgt_valid_len = to_tensor(self.target, self.tgt_vocab, num_steps)
        self.num_steps = num_steps

    def __len__(self) -> int:
        return self.src.size(0)

    def __getitem__(self, i):
        return self.src[i], self.src_valid_len[i], self.tgt[i], self.tgt_valid_len[i]

    def stats(self) -> dict:
        return {"name": "fra-eng", "pairs": len(self), "num_steps": self.num_steps,
                "src_vocab": len(self.src_vocab), "tgt_vocab": len(self.tgt_vocab)}

    def __repr__(self) -> str:
        return f"SentencePairs(fra-eng, {len(self)} pairs, num_steps={self.num_steps})"
