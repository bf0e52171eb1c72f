"""Multi-head attention as the d2l.ai Transformer chapter writes it.

Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762;
names and call shapes from Zhang, Lipton, Li & Smola, "Dive into Deep Learning", sections
"Attention Scoring Functions", "Multi-Head Attention" and "Transformer"
(https://d2l.ai/chapter_attention-mechanisms-and-transformers/).

Two public helpers sit beside the layer: :func:`sequence_mask` turns valid lengths into a
boolean mask and :func:`masked_softmax` is the softmax whose masked entries are exactly zero.
"""
from __future__ import annotations

import math

import torch
from torch import nn

SCORINGS = ("dot", "additive")


def sequence_mask(valid_lens: torch.Tensor, num_queries: int, num_keys: int) -> torch.Tensor:
    """Boolean mask of the keys each query may attend to, from valid lengths (d2l's ``sequence_mask``).

    .. math::
        m_{bqk} = [\\, k < \\ell_{bq} \\,]

    :math:`\\ell_{bq}` is ``valid_lens[b]`` (one length per sequence, the same for every query) or
    ``valid_lens[b, q]`` (one length per query, as the d2l decoder's training-time causal lengths
    ``1, 2, ..., T``); key positions :math:`k \\ge \\ell_{bq}` are padding.

    Args:
        valid_lens: the lengths, ``[B]`` or ``[B, Tq]`` (integers).
        num_queries: Tq.
        num_keys: Tk.

    Shapes: valid_lens: [B] or [B, Tq]; out: [B, Tq, Tk] bool.

    Example::

        m = sequence_mask(torch.tensor([1, 3]), 2, 3)       # [2, 2, 3]
        m[:, 0]                                            # [[True, False, False], [True, True, True]]
    """
    if valid_lens.dim() == 1:
        valid_lens = valid_lens[:, None].expand(-1, num_queries)          # [B, Tq]
    if valid_lens.dim() != 2 or valid_lens.size(1) != num_queries:
        raise ValueError(f"valid_lens must have shape [B] or [B, Tq] = [B, {num_queries}] "
                         f"(got {list(valid_lens.shape)})")
    keys = torch.arange(num_keys, device=valid_lens.device)
    return keys[None, None, :] < valid_lens[:, :, None]                    # [B, Tq, Tk]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis of ``scores``, restricted to the entries where ``mask`` is ``True``
    (d2l.ai "Attention Scoring Functions", ``masked_softmax``, with a boolean mask).

    .. math::
        \\alpha_{qk} = \\frac{m_{qk} \\exp(s_{qk})}{\\sum_{k'} m_{qk'} \\exp(s_{qk'})}

    :math:`s_{qk}` the score of query :math:`q` for key :math:`k`, :math:`m_{qk} \\in \\{0, 1\\}` the
    mask. Masked entries get weight exactly ``0.0`` (the chapter's ``-1e6`` fill only underflows to
    0); a query whose keys are all masked gets an all-zero row (the chapter's would be uniform).

    Args:
        scores: the scores :math:`s`.
        mask: bool, ``True`` where a query may attend, broadcastable to ``scores``; ``None`` gives
            the plain softmax.

    Shapes: scores: [..., Tq, Tk] (e.g. [B, H, Tq, Tk]); mask: broadcastable to it; out: as scores.

    Example::

        scores, mask = torch.zeros(2, 1, 3), sequence_mask(torch.tensor([2, 0]), 1, 3)
        masked_softmax(scores, mask)                       # [[[0.5, 0.5, 0.]], [[0., 0., 0.]]]
        masked_softmax(scores, None).shape                 # [2, 1, 3]
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    weights = torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)
    return weights.masked_fill(~mask, 0.0)     # also turns all-masked rows (NaN) into zeros


class MultiHeadAttention(nn.Module):
    """Multi-head attention with scaled dot-product or additive scoring.

    Vaswani, Shazeer, Parmar, Uszkoreit, Jones, Gomez, Kaiser & Polosukhin, "Attention Is All You
    Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762 (Section 3.2); names and call shapes of
    d2l.ai "Multi-Head Attention" and "Attention Scoring Functions"

    .. math::
        \\mathbf{h}_i = f\\big(\\mathbf{W}_i^{(q)} \\mathbf{q}, \\mathbf{W}_i^{(k)} \\mathbf{k},
        \\mathbf{W}_i^{(v)} \\mathbf{v}\\big), \\qquad
        \\text{output} = \\mathbf{W}_o [\\mathbf{h}_1; \\dots; \\mathbf{h}_H]

    for a query :math:`\\mathbf{q}` and the keys :math:`\\mathbf{k}` and values :math:`\\mathbf{v}` it
    attends to, where head :math:`i = 1, \\dots, H` uses ``num_hiddens / num_heads`` = :math:`d` columns
    of the query, key and value projections :math:`\\mathbf{W}^{(q)}, \\mathbf{W}^{(k)}, \\mathbf{W}^{(v)}`,
    :math:`\\mathbf{W}_o` is the output projection (each projection adds a bias when ``bias=True``),
    :math:`[\\cdot; \\cdot]` concatenates, and :math:`f` is attention pooling
    :math:`f(\\mathbf{Q},\\mathbf{K},\\mathbf{V}) = \\mathrm{softmax}_{\\text{masked}}(a(\\mathbf{Q},
    \\mathbf{K}))\\,\\mathbf{V}` with the scoring function

    - ``'dot'`` (scaled dot product): :math:`a(\\mathbf{q}, \\mathbf{k}) = \\mathbf{q}^\\top \\mathbf{k} / \\sqrt{d}`;
    - ``'additive'``: :math:`a(\\mathbf{q}, \\mathbf{k}) = \\mathbf{w}_i^\\top \\tanh(\\mathbf{q} + \\mathbf{k})`
      on the projected head vectors (d2l's ``AdditiveAttention`` with its two projections being
      :math:`\\mathbf{W}_i^{(q)}, \\mathbf{W}_i^{(k)}`, one :math:`\\mathbf{w}_i \\in \\mathbb{R}^d` per head).

    Keys at positions ``>= valid_lens`` (or where ``mask`` is ``False``) get weight exactly 0.
    Dropout acts on the attention weights, as in the chapter's ``DotProductAttention``.

    Args:
        num_hiddens: width of the projections and of the output (a multiple of ``num_heads``).
        num_heads: number of heads :math:`H`.
        dropout: dropout on the attention weights (default 0.0).
        bias: biases in the four projections (default ``False``, as in the chapter).
        scoring: ``'dot'`` (default) or ``'additive'``.
        query_size, key_size, value_size: input widths (default ``num_hiddens``).

    Shapes:
        queries ``[B, Tq, query_size]``, keys ``[B, Tk, key_size]``, values ``[B, Tk, value_size]``,
        ``valid_lens`` ``[B]`` or ``[B, Tq]`` (int), ``mask`` bool broadcastable to ``[B, H, Tq, Tk]``
        (``[Tq, Tk]``, ``[B, Tq, Tk]`` or ``[B, H, Tq, Tk]``, ``True`` = may attend);
        output ``[B, Tq, num_hiddens]``; ``attention_weights`` ``[B, H, Tq, Tk]`` (the last call's,
        before dropout; the chapter keeps them flattened as ``[B * H, Tq, Tk]``).

    ``cache``: a dict for step-by-step decoding. The call's projected keys and values are appended
    to ``cache['keys']`` / ``cache['values']`` (``[B, H, T_past, d]``), and attention runs over all
    of them, so earlier steps are never projected again.

    Example::

        attn = MultiHeadAttention(num_hiddens=100, num_heads=5, dropout=0.5).eval()
        X, Y = torch.ones(2, 4, 100), torch.ones(2, 6, 100)
        attn(X, Y, Y, torch.tensor([3, 2])).shape            # [2, 4, 100]
    """

    def __init__(self, num_hiddens: int, num_heads: int, dropout: float = 0.0, bias: bool = False,
                 scoring: str = "dot", query_size: int | None = None, key_size: int | None = None,
                 value_size: int | None = None):
        super().__init__()
        if num_heads < 1 or num_hiddens % num_heads:
            raise ValueError(f"num_hiddens must be a multiple of num_heads (got num_hiddens={num_hiddens}, "
                             f"num_heads={num_heads}); e.g. num_hiddens={num_heads * max(1, num_hiddens // max(num_heads, 1))}")
        if scoring not in SCORINGS:
            raise ValueError(f"scoring must be one of {SCORINGS} (got {scoring!r})")
        self.num_hiddens, self.num_heads, self.scoring, self.bias = num_hiddens, num_heads, scoring, bias
        self.head_dim = num_hiddens // num_heads
        self.W_q = nn.Linear(query_size or num_hiddens, num_hiddens, bias=bias)
        self.W_k = nn.Linear(key_size or num_hiddens, num_hiddens, bias=bias)
        self.W_v = nn.Linear(value_size or num_hiddens, num_hiddens, bias=bias)
        self.W_o = nn.Linear(num_hiddens, num_hiddens, bias=bias)
        self.w_v = nn.Parameter(torch.empty(num_heads, self.head_dim)) if scoring == "additive" else None
        if self.w_v is not None:
            nn.init.uniform_(self.w_v, -1 / math.sqrt(self.head_dim), 1 / math.sqrt(self.head_dim))
        self.dropout = nn.Dropout(dropout)
        self.attention_weights: torch.Tensor | None = None

    def transpose_qkv(self, X: torch.Tensor) -> torch.Tensor:
        """``[B, T, num_hiddens]`` -> ``[B, H, T, d]``: the heads as their own axis."""
        B, T, _ = X.shape
        return X.view(B, T, self.num_heads, self.head_dim).transpose(1, 2)

    def transpose_output(self, X: torch.Tensor) -> torch.Tensor:
        """``[B, H, T, d]`` -> ``[B, T, num_hiddens]``: heads concatenated."""
        B, H, T, d = X.shape
        return X.transpose(1, 2).reshape(B, T, H * d)

    def score(self, Q: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
        """Attention scores ``[B, H, Tq, Tk]`` of per-head queries ``[B, H, Tq, d]`` and keys ``[B, H, Tk, d]``."""
        if self.scoring == "dot":
            return Q @ K.transpose(-1, -2) / math.sqrt(self.head_dim)             # [B, H, Tq, Tk]
        features = torch.tanh(Q.unsqueeze(3) + K.unsqueeze(2))                    # [B, H, Tq, Tk, d]
        return (features * self.w_v[None, :, None, None, :]).sum(-1)              # [B, H, Tq, Tk]

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                valid_lens: torch.Tensor | None = None, mask: torch.Tensor | None = None,
                cache: dict | None = None) -> torch.Tensor:
        if queries.dim() != 3 or keys.dim() != 3 or values.dim() != 3:
            raise ValueError(f"queries, keys and values must be [batch, steps, features] tensors (got shapes "
                             f"{list(queries.shape)}, {list(keys.shape)}, {list(values.shape)}); add a batch "
                             "axis with x.unsqueeze(0)")
        if keys.shape[:2] != values.shape[:2] or queries.size(0) != keys.size(0):
            raise ValueError(f"keys {list(keys.shape)} and values {list(values.shape)} need the same [B, Tk] and "
                             f"queries {list(queries.shape)} the same B")
        Q = self.transpose_qkv(self.W_q(queries))                                 # [B, H, Tq, d]
        K = self.transpose_qkv(self.W_k(keys))                                    # [B, H, Tk, d]
        V = self.transpose_qkv(self.W_v(values))                                  # [B, H, Tk, d]
        if cache is not None:
            if "keys" in cache:
                K = torch.cat([cache["keys"], K], dim=2)                          # [B, H, T_past + Tk, d]
                V = torch.cat([cache["values"], V], dim=2)
            cache["keys"], cache["values"] = K, V
        Tq, Tk = Q.size(2), K.size(2)
        keep = None if valid_lens is None else sequence_mask(valid_lens, Tq, Tk)[:, None]   # [B, 1, Tq, Tk]
        if mask is not None:
            if mask.dtype != torch.bool:
                raise TypeError(f"mask must be a bool tensor, True where a query may attend (got {mask.dtype}); "
                                "pass lengths as valid_lens instead")
            mask = mask[:, None] if mask.dim() == 3 else mask                     # [B, 1, Tq, Tk]
            keep = mask if keep is None else keep & mask
        alpha = masked_softmax(self.score(Q, K), keep)                            # [B, H, Tq, Tk]
        self.attention_weights = alpha.detach()
        h = self.dropout(alpha) @ V                                               # [B, H, Tq, d]
        return self.W_o(self.transpose_output(h))                                 # [B, Tq, num_hiddens]

    def extra_repr(self) -> str:
        return (f"num_hiddens={self.num_hiddens}, num_heads={self.num_heads}, scoring={self.scoring!r}, "
                f"bias={self.bias}")
