"""The encoder-decoder Transformer of the d2l.ai chapter, composed from ``gnnkit.nn`` parts.

Vaswani et al., "Attention Is All You Need", NeurIPS 2017, https://arxiv.org/abs/1706.03762;
d2l.ai "The Transformer Architecture" (its ``TransformerEncoder``, ``TransformerDecoder`` and
``predict_seq2seq``).

.. code-block:: text

    src tokens -> Embedding * sqrt(d) + PE -> N x TransformerEncoderBlock -> enc_outputs
    tgt tokens -> Embedding * sqrt(d) + PE -> N x TransformerDecoderBlock(enc_outputs) -> Linear -> logits

Training uses teacher forcing (the decoder reads ``<bos>`` followed by the target shifted right,
with a causal mask); prediction decodes greedily (or by beam search) one step at a time with
each block's key/value cache.
"""
from __future__ import annotations

import torch
from torch import nn

from gnnkit.nn.transformer import (PositionalEncoding, TransformerDecoderBlock, TransformerEncoderBlock,
                                   scaled_embedding)


class TransformerEncoder(nn.Module):
    """Embedding * sqrt(d) + positional encoding, then ``num_layers`` encoder blocks.
    ``attention_weights``: one ``[B, H, T, T]`` tensor per block after each call."""

    def __init__(self, vocab_size: int, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, num_layers: int,
                 dropout: float = 0.0, use_bias: bool = False, max_len: int = 1000):
        super().__init__()
        self.num_hiddens = num_hiddens
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList([TransformerEncoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, use_bias)
                                   for _ in range(num_layers)])
        self.attention_weights: list[torch.Tensor | None] = [None] * num_layers

    def forward(self, X: torch.Tensor, valid_lens: torch.Tensor | None) -> torch.Tensor:
        X = self.pos_encoding(scaled_embedding(self.embedding, X))             # [B, S, d]
        for i, blk in enumerate(self.blks):
            X = blk(X, valid_lens)
            self.attention_weights[i] = blk.attention.attention_weights
        return X


class TransformerDecoder(nn.Module):
    """Embedding * sqrt(d) + positional encoding, ``num_layers`` decoder blocks, a linear layer to
    the vocabulary. ``attention_weights``: ``[self, enc-dec]``, each one ``[B, H, T, T_keys]`` per block.

    ``state`` (from :meth:`init_state`) holds the encoder outputs and lengths; with ``cache=True``
    also one key/value cache per block and the number of steps already decoded (the positional
    encoding's offset), so that ``forward`` can be called one token at a time."""

    def __init__(self, vocab_size: int, num_hiddens: int, ffn_num_hiddens: int, num_heads: int, num_layers: int,
                 dropout: float = 0.0, use_bias: bool = False, max_len: int = 1000):
        super().__init__()
        self.num_hiddens, self.num_layers = num_hiddens, num_layers
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.pos_encoding = PositionalEncoding(num_hiddens, dropout, max_len)
        self.blks = nn.ModuleList([TransformerDecoderBlock(num_hiddens, ffn_num_hiddens, num_heads, dropout, i,
                                                           use_bias) for i in range(num_layers)])
        self.dense = nn.Linear(num_hiddens, vocab_size)
        self.attention_weights: list[list[torch.Tensor | None]] = [[None] * num_layers for _ in range(2)]

    def init_state(self, enc_outputs: torch.Tensor, enc_valid_lens: torch.Tensor | None, cache: bool = False) -> dict:
        return {"enc_outputs": enc_outputs, "enc_valid_lens": enc_valid_lens, "offset": 0,
                "caches": [{} for _ in range(self.num_layers)] if cache else None}

    def forward(self, X: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        caches = state["caches"]
        X = self.pos_encoding(scaled_embedding(self.embedding, X), offset=state["offset"])    # [B, T, d]
        for i, blk in enumerate(self.blks):
            X = blk(X, state["enc_outputs"], state["enc_valid_lens"], None if caches is None else caches[i])
            self.attention_weights[0][i] = blk.attention1.attention_weights
            self.attention_weights[1][i] = blk.attention2.attention_weights
        if caches is not None:
            state["offset"] += X.size(1)
        return self.dense(X), state                                                            # [B, T, V]


class Transformer(nn.Module):
    """Encoder-decoder Transformer for sequence-to-sequence learning (Vaswani et al. 2017).

    Args:
        src_vocab_size, tgt_vocab_size: vocabulary sizes (the task gives them).
        num_hiddens: :math:`d` (default 32, the chapter's); ffn_num_hiddens: FFN width (default 64);
        num_heads: :math:`H` (default 4); num_layers: blocks in encoder and decoder (default 2);
        dropout: default 0.1; use_bias: attention projection biases (default ``False``);
        max_len: longest sequence the positional encoding covers.

    Shapes: ``src`` ``[B, S]`` ids, ``src_valid_len`` ``[B]``, ``dec_input`` ``[B, T]`` ids
    (``<bos>`` then the target shifted right); ``forward`` returns logits ``[B, T, tgt_vocab_size]``.

    Example::

        model = Transformer(src_vocab_size=184, tgt_vocab_size=201)
        logits = model(src, src_valid_len, dec_input)                 # [B, T, 201]
        tokens, lengths = model.greedy_decode(src, src_valid_len, bos=1, eos=2, num_steps=10)
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, num_hiddens: int = 32, ffn_num_hiddens: int = 64,
                 num_heads: int = 4, num_layers: int = 2, dropout: float = 0.1, use_bias: bool = False,
                 max_len: int = 1000):
        super().__init__()
        self.encoder = TransformerEncoder(src_vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                                          dropout, use_bias, max_len)
        self.decoder = TransformerDecoder(tgt_vocab_size, num_hiddens, ffn_num_hiddens, num_heads, num_layers,
                                          dropout, use_bias, max_len)

    def forward(self, src: torch.Tensor, src_valid_len: torch.Tensor | None, dec_input: torch.Tensor) -> torch.Tensor:
        enc_outputs = self.encoder(src, src_valid_len)                                  # [B, S, d]
        logits, _ = self.decoder(dec_input, self.decoder.init_state(enc_outputs, src_valid_len))
        return logits                                                                   # [B, T, V]

    @torch.no_grad()
    def greedy_decode(self, src: torch.Tensor, src_valid_len: torch.Tensor | None, bos: int, eos: int,
                      num_steps: int, save_attention: bool = False):
        """Greedy decoding, one token per step with the key/value caches (d2l's ``predict_seq2seq``,
        batched). Returns ``(tokens [B, num_steps], lengths [B])``: each row's prediction up to (not
        including) its first ``<eos>`` (later entries are ``eos``). With ``save_attention`` also the
        per-step decoder attention weights: a list over steps of ``[self, enc-dec]`` lists of
        ``[B, H, 1, T_keys]`` tensors per block."""
        enc_outputs = self.encoder(src, src_valid_len)
        state = self.decoder.init_state(enc_outputs, src_valid_len, cache=True)
        B = src.size(0)
        dec_X = torch.full((B, 1), bos, dtype=torch.long, device=src.device)
        tokens = torch.full((B, num_steps), eos, dtype=torch.long, device=src.device)
        lengths = torch.full((B,), num_steps, dtype=torch.long, device=src.device)
        finished = torch.zeros(B, dtype=torch.bool, device=src.device)
        steps_attention = []
        for t in range(num_steps):
            logits, state = self.decoder(dec_X, state)                                  # [B, 1, V]
            dec_X = logits.argmax(-1)                                                   # [B, 1]
            if save_attention:
                steps_attention.append([list(w) for w in self.decoder.attention_weights])
            pred = dec_X[:, 0]
            newly = ~finished & (pred == eos)
            lengths[newly] = t
            finished |= newly
            tokens[:, t] = torch.where(finished, torch.full_like(pred, eos), pred)
            if bool(finished.all()):
                break
        return (tokens, lengths, steps_attention) if save_attention else (tokens, lengths)

    @torch.no_grad()
    def beam_search(self, src: torch.Tensor, src_valid_len: torch.Tensor | None, bos: int, eos: int,
                    num_steps: int, beam_size: int = 4, length_penalty: float = 0.75) -> list[list[int]]:
        """Beam search (d2l.ai "Beam Search") for each sentence of the batch separately: keep the
        ``beam_size`` best partial sequences by summed log-probability; a finished sequence scores
        :math:`\\frac{1}{L^{\\alpha}} \\log P` with ``alpha = length_penalty`` (the chapter's final
        selection). Returns the best token list (without ``<eos>``) per sentence."""
        out = []
        for b in range(src.size(0)):
            enc = self.encoder(src[b:b + 1], None if src_valid_len is None else src_valid_len[b:b + 1])
            beams = [([], 0.0)]
            done: list[tuple[list[int], float]] = []
            for _ in range(num_steps):
                if not beams:
                    break
                k = len(beams)
                state = self.decoder.init_state(enc.expand(k, -1, -1),
                                                None if src_valid_len is None else src_valid_len[b:b + 1].expand(k))
                dec_in = torch.tensor([[bos] + seq for seq, _ in beams], dtype=torch.long, device=src.device)
                logits, _ = self.decoder(dec_in, state)                                # [k, t + 1, V]
                logp = torch.log_softmax(logits[:, -1], dim=-1)                        # [k, V]
                total = logp + torch.tensor([s for _, s in beams], device=src.device)[:, None]
                best = total.view(-1).topk(min(beam_size, total.numel()))
                beams = []
                V = logp.size(1)
                for score, flat in zip(best.values.tolist(), best.indices.tolist()):
                    i, tok = divmod(flat, V)
                    seq = dec_in[i, 1:].tolist()
                    if tok == eos:
                        done.append((seq, score))
                    else:
                        beams.append((seq + [tok], score))
            done.extend(beams)
            best_seq = max(done, key=lambda d: d[1] / max(len(d[0]) + 1, 1) ** length_penalty)[0]
            out.append(best_seq)
        return out
