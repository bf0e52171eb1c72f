"""Transformer parts with the d2l.ai chapter's names: positional encoding, position-wise FFN,
residual + layer norm, encoder and decoder blocks.

Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
(Section 3); d2l.ai section "The Transformer Architecture"
(https://d2l.ai/chapter_attention-mechanisms-and-transformers/transformer.html).

An encoder block is message passing on the complete graph of a sequence's positions: every
position (node) receives the values of all unmasked positions, weighted by a softmax over its
incoming edges (``tests/nn/test_transformer.py`` states the equivalence with ``ops.edge_softmax``
and ``ops.scatter``).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gnnkit.nn.attention import MultiHeadAttention


class PositionalEncoding(nn.Module):
    """Sinusoidal positional encoding added to the input, then dropout.

    Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
    (Section 3.5); d2l.ai "The Transformer Architecture", ``PositionalEncoding``

    .. math::
        p_{t, 2j} = \\sin\\big(t / 10000^{2j/d}\\big), \\qquad
        p_{t, 2j+1} = \\cos\\big(t / 10000^{2j/d}\\big), \\qquad
        \\text{out}_t = \\mathrm{Dropout}(x_t + p_{t + \\text{offset}})

    for position :math:`t`, column pair :math:`j = 0, \\dots, \\lceil d/2 \\rceil - 1` of
    :math:`d` = ``num_hiddens`` columns (an odd :math:`d` drops the last cosine), :math:`x_t` the
    input at step :math:`t`. The table :math:`p` is built once for ``max_len`` positions (a buffer,
    float32, cast to the input's dtype).

    Args:
        num_hiddens: :math:`d`.
        dropout: dropout after the addition (default 0.0).
        max_len: the most positions (default 1000, as in the chapter).

    Shapes: ``X`` ``[B, T, d]`` -> ``[B, T, d]``. ``offset`` (default 0) shifts the positions
    (``X[:, 0]`` is position ``offset``); step-by-step decoding passes the steps done so far.

    Example::

        pe = PositionalEncoding(32, 0.0)
        pe(torch.zeros(1, 60, 32)).shape        # [1, 60, 32]; pe.P[0, :60] are the encodings
    """

    def __init__(self, num_hiddens: int, dropout: float = 0.0, max_len: int = 1000):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        t = torch.arange(max_len, dtype=torch.float32).reshape(-1, 1)
        angle = t / torch.pow(10000, torch.arange(0, num_hiddens, 2, dtype=torch.float32) / num_hiddens)
        P = torch.zeros(1, max_len, num_hiddens)
        P[:, :, 0::2] = torch.sin(angle)
        P[:, :, 1::2] = torch.cos(angle[:, : num_hiddens // 2])
        self.register_buffer("P", P, persistent=False)

    def forward(self, X: torch.Tensor, offset: int = 0) -> torch.Tensor:
        if offset + X.size(1) > self.P.size(1):
            raise ValueError(f"positions up to {offset + X.size(1)} but max_len is {self.P.size(1)}; "
                             "build PositionalEncoding with a larger max_len")
        return self.dropout(X + self.P[:, offset:offset + X.size(1)].to(X.dtype))


class PositionWiseFFN(nn.Module):
    """Position-wise feed-forward network: the same two-layer MLP at every position.

    Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
    (Section 3.3); d2l.ai "The Transformer Architecture", ``PositionWiseFFN``

    .. math::
        \\mathrm{FFN}(x_t) = W_2\\,\\mathrm{ReLU}(W_1 x_t + b_1) + b_2

    :math:`x_t` the input at position :math:`t`, :math:`W_1, b_1` the first layer (``dense1``, to
    ``ffn_num_hiddens``), :math:`W_2, b_2` the second (``dense2``, to ``ffn_num_outputs``).

    Args:
        ffn_num_input: input width (F_in).
        ffn_num_hiddens: hidden width.
        ffn_num_outputs: output width (F_out; default ``None``: ``ffn_num_input``).

    Shapes: X: [..., F_in] (e.g. [B, T, F_in]); out: [..., F_out].

    Example::

        ffn = PositionWiseFFN(4, 4, 8)
        ffn(torch.ones(2, 3, 4)).shape          # [2, 3, 8]
    """

    def __init__(self, ffn_num_input: int, ffn_num_hiddens: int, ffn_num_outputs: int | None = None):
        super().__init__()
        self.dense1 = nn.Linear(ffn_num_input, ffn_num_hiddens)
        self.relu = nn.ReLU()
        self.dense2 = nn.Linear(ffn_num_hiddens, ffn_num_outputs or ffn_num_input)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.dense2(self.relu(self.dense1(X)))                           # [..., F_out]


class AddNorm(nn.Module):
    """Residual connection followed by layer normalization ("Add & Norm").

    Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
    (Section 3.1); d2l.ai "The Transformer Architecture", ``AddNorm``

    .. math::
        \\text{out} = \\mathrm{LayerNorm}\\big(X + \\mathrm{Dropout}(Y)\\big)

    :math:`X` the sublayer's input, :math:`Y` its output; LayerNorm (learned scale and shift) over
    the last ``norm_shape`` axes.

    Args:
        norm_shape: the normalized trailing shape, e.g. ``num_hiddens`` or ``[num_hiddens]``.
        dropout: dropout on :math:`Y` (default 0.0).

    Shapes: X, Y: [..., *norm_shape] (e.g. [B, T, F]), the same shape; out: the same.

    Example::

        AddNorm(4, 0.5).eval()(torch.ones(2, 3, 4), torch.ones(2, 3, 4)).shape   # [2, 3, 4]
    """

    def __init__(self, norm_shape, dropout: float = 0.0):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(norm_shape)

    def forward(self, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        if X.shape != Y.shape:
            raise ValueError(f"AddNorm adds X and Y, which must have the same shape (got {list(X.shape)} "
                             f"and {list(Y.shape)})")
        return self.ln(self.dropout(Y) + X)


class TransformerEncoderBlock(nn.Module):
    """One encoder layer: multi-head self-attention and a position-wise FFN, each wrapped in AddNorm.

    Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
    (Section 3.1); d2l.ai "The Transformer Architecture", ``TransformerEncoderBlock``

    .. math::
        Y = \\mathrm{AddNorm}(X, \\mathrm{MultiHead}(X, X, X)), \\qquad
        \\text{out} = \\mathrm{AddNorm}(Y, \\mathrm{FFN}(Y))

    :math:`X` the block's input sequence (queries, keys and values of the self-attention, keys past
    ``valid_lens`` or where ``mask`` is ``False`` masked), MultiHead a :class:`MultiHeadAttention`,
    FFN a :class:`PositionWiseFFN` of width :math:`d \\to` ``ffn_num_hiddens`` :math:`\\to d`, AddNorm
    an :class:`AddNorm`.

    Args:
        num_hiddens: :math:`d`, the input and output width.
        ffn_num_hiddens: the FFN's hidden width.
        num_heads: :math:`H`.
        dropout: in attention and both AddNorms (default 0.0).
        use_bias: attention projection biases (default ``False``).
        scoring: ``'dot'`` (default) or ``'additive'`` (see :class:`MultiHeadAttention`).

    Shapes: ``X`` ``[B, T, d]``, ``valid_lens`` ``[B]`` / ``[B, T]``, ``mask`` as in
    :class:`MultiHeadAttention`; out ``[B, T, d]``.

    Example::

        blk = TransformerEncoderBlock(24, 48, 8, 0.5).eval()
        blk(torch.ones(2, 100, 24), torch.tensor([3, 2])).shape     # [2, 100, 24]
    """

    def __init__(self, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, dropout: float = 0.0,
                 use_bias: bool = False, scoring: str = "dot"):
        super().__init__()
        self.attention = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias, scoring)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, num_hiddens)
        self.addnorm2 = AddNorm(num_hiddens, dropout)

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        Y = self.addnorm1(X, self.attention(X, X, X, valid_lens, mask))          # [B, T, d]
        return self.addnorm2(Y, self.ffn(Y))                                      # [B, T, d]


def causal_mask(num_queries: int, num_keys: int, past: int = 0, device=None) -> torch.Tensor:
    """The decoder's causal mask: query ``q`` (position ``past + q``) may attend to keys ``0 .. past + q``.

    .. math::
        m_{qk} = [\\, k \\le \\text{past} + q \\,]

    Args:
        num_queries: Tq.
        num_keys: Tk.
        past: positions decoded before the first query (default 0).
        device: where the mask is made (default ``None``: the CPU).

    Shapes: out: [Tq, Tk] bool.

    Example::

        causal_mask(2, 3, past=1)      # [[True, True, False], [True, True, True]]
    """
    q = torch.arange(num_queries, device=device)[:, None] + past
    return torch.arange(num_keys, device=device)[None, :] <= q


class TransformerDecoderBlock(nn.Module):
    """One decoder layer: masked (causal) self-attention, encoder-decoder attention, FFN; each in AddNorm.

    Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762
    (Section 3.1); d2l.ai "The Transformer Architecture", ``TransformerDecoderBlock``

    .. math::
        Y = \\mathrm{AddNorm}(X, \\mathrm{MultiHead}_{\\text{causal}}(X, X, X)), \\quad
        Z = \\mathrm{AddNorm}(Y, \\mathrm{MultiHead}(Y, E, E)), \\quad
        \\text{out} = \\mathrm{AddNorm}(Z, \\mathrm{FFN}(Z))

    with :math:`E` the encoder outputs (keys at positions ``>= enc_valid_lens`` masked). Position
    ``t`` attends only to positions ``<= t``, in training and in evaluation alike (the chapter masks
    by lengths ``1..T`` in training and relies on step-by-step decoding in prediction).

    ``cache``: ``None`` decodes the whole target at once; a dict (initially ``{}``) decodes step
    by step: the self-attention's projected keys and values of earlier steps are kept in
    ``cache['self']`` (the chapter keeps the block inputs and projects them again each step), and
    the result equals the full-sequence result at the same positions.

    :math:`X` the decoder's input sequence, MultiHead a :class:`MultiHeadAttention`, FFN a
    :class:`PositionWiseFFN`, AddNorm an :class:`AddNorm`.

    Args:
        num_hiddens: :math:`d`, the input and output width.
        ffn_num_hiddens: the FFN's hidden width.
        num_heads: :math:`H`.
        dropout: in both attentions and the three AddNorms (default 0.0).
        i: the block's index in the decoder (the chapter's name; default 0).
        use_bias: attention projection biases (default ``False``).
        scoring: ``'dot'`` (default) or ``'additive'`` (see :class:`MultiHeadAttention`).

    Shapes: ``X`` ``[B, T, d]``; ``enc_outputs`` ``[B, S, d]``; ``enc_valid_lens`` ``[B]``; out ``[B, T, d]``.

    Example::

        blk = TransformerDecoderBlock(24, 48, 8, 0.5, i=0).eval()
        E = torch.ones(2, 100, 24)
        blk(torch.ones(2, 7, 24), E, torch.tensor([3, 2])).shape    # [2, 7, 24]
    """

    def __init__(self, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, dropout: float = 0.0, i: int = 0,
                 use_bias: bool = False, scoring: str = "dot"):
        super().__init__()
        self.i = i
        self.attention1 = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias, scoring)
        self.addnorm1 = AddNorm(num_hiddens, dropout)
        self.attention2 = MultiHeadAttention(num_hiddens, num_heads, dropout, use_bias, scoring)
        self.addnorm2 = AddNorm(num_hiddens, dropout)
        self.ffn = PositionWiseFFN(num_hiddens, ffn_num_hiddens, num_hiddens)
        self.addnorm3 = AddNorm(num_hiddens, dropout)

    def forward(self, X: torch.Tensor, enc_outputs: torch.Tensor, enc_valid_lens: torch.Tensor | None = None,
                cache: dict | None = None) -> torch.Tensor:
        self_cache = None if cache is None else cache.setdefault("self", {})
        past = 0 if not self_cache else self_cache["keys"].size(2)
        causal = causal_mask(X.size(1), past + X.size(1), past, X.device)                 # [T, past + T]
        X2 = self.attention1(X, X, X, mask=causal, cache=self_cache)                      # [B, T, d]
        Y = self.addnorm1(X, X2)
        Y2 = self.attention2(Y, enc_outputs, enc_outputs, enc_valid_lens)                 # [B, T, d]
        Z = self.addnorm2(Y, Y2)
        return self.addnorm3(Z, self.ffn(Z))                                              # [B, T, d]


def scaled_embedding(embedding: nn.Embedding, tokens: torch.Tensor) -> torch.Tensor:
    """``embedding(tokens) * sqrt(d)`` (Vaswani et al. 2017, Section 3.4): the chapter rescales learned
    embeddings to the scale of the positional encodings (values in [-1, 1]) before adding them.

    Shapes: tokens: [B, T] (integer ids); out: [B, T, d], d = ``embedding.embedding_dim``.

    Example::

        scaled_embedding(nn.Embedding(10, 4), torch.tensor([[1, 2, 3]])).shape   # [1, 3, 4]
    """
    return embedding(tokens) * math.sqrt(embedding.embedding_dim)
