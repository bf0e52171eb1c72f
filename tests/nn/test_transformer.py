"""nn/transformer.py: positional encoding, FFN, AddNorm, encoder block as message passing on the
complete graph, causal decoder, cached step-by-step decoding."""
import math

import pytest
import torch

from gnnkit import ops
from gnnkit.nn.transformer import (AddNorm, PositionalEncoding, PositionWiseFFN, TransformerDecoderBlock,
                                   TransformerEncoderBlock, causal_mask)


def test_positional_encoding_hand_computed():
    pe = PositionalEncoding(4, dropout=0.0)
    out = pe(torch.zeros(1, 3, 4))
    # p[t, 0] = sin(t), p[t, 1] = cos(t), p[t, 2] = sin(t / 100), p[t, 3] = cos(t / 100)
    t = 2.0
    torch.testing.assert_close(out[0, 2], torch.tensor([math.sin(t), math.cos(t), math.sin(t / 100), math.cos(t / 100)]))
    torch.testing.assert_close(pe(torch.zeros(1, 1, 4), offset=2)[0, 0], out[0, 2])
    with pytest.raises(ValueError, match="larger max_len"):
        PositionalEncoding(4, max_len=5)(torch.zeros(1, 6, 4))


def test_ffn_and_addnorm_shapes_and_math():
    ffn = PositionWiseFFN(4, 4, 8)
    X = torch.randn(2, 3, 4)
    torch.testing.assert_close(ffn(X), ffn.dense2(torch.relu(ffn.dense1(X))))
    assert ffn(X).shape == (2, 3, 8)
    an = AddNorm(4, 0.5).eval()
    Y = torch.randn(2, 3, 4)
    torch.testing.assert_close(an(X, Y), torch.nn.functional.layer_norm(X + Y, (4,)))
    with pytest.raises(ValueError, match="same shape"):
        an(X, Y[:, :2])


def message_passing_encoder_block(blk: TransformerEncoderBlock, X: torch.Tensor, valid_lens: torch.Tensor):
    """The same block written as message passing: every sequence is a complete graph whose nodes are
    its positions; node i receives from every valid position j (edge j -> i), score <q_i, k_j>/sqrt(d)
    per head, softmax over i's incoming edges (ops.edge_softmax), sum of alpha * v_j (ops.scatter)."""
    B, T, D = X.shape
    attn = blk.attention
    H, d = attn.num_heads, attn.head_dim
    x = X.reshape(B * T, D)                                             # one node per position
    src, dst = [], []
    for b in range(B):
        for i in range(T):
            for j in range(int(valid_lens[b])):
                src.append(b * T + j)
                dst.append(b * T + i)
    src, dst = torch.tensor(src), torch.tensor(dst)
    q = attn.W_q(x).view(-1, H, d)
    k = attn.W_k(x).view(-1, H, d)
    v = attn.W_v(x).view(-1, H, d)
    scores = (q[dst] * k[src]).sum(-1) / math.sqrt(d)                  # [E, H]
    alpha = ops.edge_softmax(scores, dst, B * T)                        # [E, H]
    h = ops.scatter((alpha.unsqueeze(-1) * v[src]).reshape(-1, H * d), dst, B * T, "sum")   # [N, H*d]
    y = blk.addnorm1.ln(x + attn.W_o(h))                                # AddNorm (dropout off)
    out = blk.addnorm2.ln(y + blk.ffn(y))
    return out.view(B, T, D)


def test_encoder_block_is_message_passing_on_the_complete_graph():
    torch.manual_seed(0)
    blk = TransformerEncoderBlock(num_hiddens=12, ffn_num_hiddens=24, num_heads=3, dropout=0.3).double().eval()
    X = torch.randn(3, 5, 12, dtype=torch.float64)
    valid_lens = torch.tensor([5, 2, 1])
    torch.testing.assert_close(blk(X, valid_lens), message_passing_encoder_block(blk, X, valid_lens))


def test_encoder_block_ignores_padded_positions():
    torch.manual_seed(1)
    blk = TransformerEncoderBlock(8, 16, 2).eval()
    X = torch.randn(1, 4, 8)
    X2 = X.clone()
    X2[0, 3] = 100.0                         # change the padding
    lens = torch.tensor([3])
    torch.testing.assert_close(blk(X, lens)[0, :3], blk(X2, lens)[0, :3])


def test_causal_mask_hand_computed():
    assert causal_mask(2, 3, past=1).tolist() == [[True, True, False], [True, True, True]]


def _decoder(seed=0):
    torch.manual_seed(seed)
    return TransformerDecoderBlock(num_hiddens=8, ffn_num_hiddens=16, num_heads=2, dropout=0.0, i=0).double().eval()


def test_decoder_never_attends_to_a_later_position():
    blk = _decoder()
    X = torch.randn(2, 6, 8, dtype=torch.float64)
    E = torch.randn(2, 4, 8, dtype=torch.float64)
    lens = torch.tensor([4, 2])
    out = blk(X, E, lens)
    for t in range(6):
        X2 = X.clone()
        X2[:, t:] = torch.randn(2, 6 - t, 8, dtype=torch.float64)       # change position t and later
        out2 = blk(X2, E, lens)
        torch.testing.assert_close(out2[:, :t], out[:, :t])
        if t < 5:
            assert not torch.allclose(out2[:, t:], out[:, t:])
    w = blk.attention1.attention_weights                                # [2, 2, 6, 6]
    assert torch.all(w.triu(1) == 0)
    assert torch.all(blk.attention2.attention_weights[1, :, :, 2:] == 0)   # encoder padding masked


def test_cached_step_by_step_decoding_equals_full_sequence():
    blk = _decoder(1)
    X = torch.randn(2, 5, 8, dtype=torch.float64)
    E = torch.randn(2, 3, 8, dtype=torch.float64)
    lens = torch.tensor([3, 1])
    full = blk(X, E, lens)
    cache = {}
    steps = [blk(X[:, t:t + 1], E, lens, cache=cache) for t in range(5)]
    torch.testing.assert_close(torch.cat(steps, 1), full)
    assert cache["self"]["keys"].shape == (2, 2, 5, 4)
    # two tokens, then three: chunks work too
    cache = {}
    torch.testing.assert_close(torch.cat([blk(X[:, :2], E, lens, cache=cache), blk(X[:, 2:], E, lens, cache=cache)], 1),
                               full)
