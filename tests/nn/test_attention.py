"""nn/attention.py: MultiHeadAttention is the d2l.ai chapter's function; masks give exact zeros."""
import math

import pytest
import torch

from gnnkit.nn.attention import MultiHeadAttention, masked_softmax, sequence_mask


def d2l_multihead(attn: MultiHeadAttention, queries, keys, values, valid_lens):
    """The chapter's equations restated plainly (d2l.ai "Multi-Head Attention": transpose_qkv,
    DotProductAttention with masked_softmax filling -1e6, transpose_output, W_o), no dropout."""
    H = attn.num_heads

    def transpose_qkv(X):
        X = X.reshape(X.shape[0], X.shape[1], H, -1).permute(0, 2, 1, 3)
        return X.reshape(-1, X.shape[2], X.shape[3])

    def masked_softmax_d2l(X, valid_lens):
        if valid_lens is None:
            return torch.softmax(X, dim=-1)
        shape = X.shape
        valid_lens = torch.repeat_interleave(valid_lens, shape[1]) if valid_lens.dim() == 1 else valid_lens.reshape(-1)
        X = X.reshape(-1, shape[-1])
        mask = torch.arange(shape[-1])[None, :] < valid_lens[:, None]
        X[~mask] = -1e6
        return torch.softmax(X.reshape(shape), dim=-1)

    q = transpose_qkv(queries @ attn.W_q.weight.T)
    k = transpose_qkv(keys @ attn.W_k.weight.T)
    v = transpose_qkv(values @ attn.W_v.weight.T)
    if valid_lens is not None:
        valid_lens = torch.repeat_interleave(valid_lens, repeats=H, dim=0)
    d = q.shape[-1]
    scores = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d)
    weights = masked_softmax_d2l(scores, valid_lens)
    out = torch.bmm(weights, v)
    out = out.reshape(-1, H, out.shape[1], out.shape[2]).permute(0, 2, 1, 3)
    out = out.reshape(out.shape[0], out.shape[1], -1)
    return out @ attn.W_o.weight.T, weights


@pytest.mark.parametrize("valid_lens", [None, torch.tensor([3, 2]), torch.tensor([[1, 2, 3, 4], [4, 1, 2, 1]])])
def test_multihead_attention_equals_the_chapters_equations(valid_lens):
    torch.manual_seed(0)
    attn = MultiHeadAttention(num_hiddens=20, num_heads=5, dropout=0.5).double().eval()
    assert attn.W_q.bias is None and attn.W_o.bias is None     # four bias-free projections by default
    X = torch.randn(2, 4, 20, dtype=torch.float64)
    Y = torch.randn(2, 6, 20, dtype=torch.float64)
    out = attn(X, Y, Y, valid_lens)
    ref, ref_weights = d2l_multihead(attn, X, Y, Y, valid_lens)
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(attn.attention_weights.reshape(-1, 4, 6), ref_weights)
    assert out.shape == (2, 4, 20)


def test_masked_positions_get_exactly_zero_weight():
    torch.manual_seed(1)
    attn = MultiHeadAttention(8, 2).eval()
    X = torch.randn(3, 5, 8) * 50            # large scores: a -1e6 fill would still leave exactly 0; ours is -inf
    attn(X, X, X, torch.tensor([2, 5, 1]))
    w = attn.attention_weights                                        # [3, 2, 5, 5]
    assert torch.all(w[0, :, :, 2:] == 0) and torch.all(w[2, :, :, 1:] == 0)
    assert torch.all(w[2, :, :, 0] == 1)                              # one visible key gets all the weight
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 2, 5))


def test_boolean_mask_and_valid_lens_combine():
    torch.manual_seed(2)
    attn = MultiHeadAttention(8, 2).eval()
    X = torch.randn(2, 4, 8)
    causal = torch.ones(4, 4, dtype=torch.bool).tril()
    attn(X, X, X, torch.tensor([4, 2]), mask=causal)
    w = attn.attention_weights
    assert torch.all(w[:, :, ~causal] == 0)
    assert torch.all(w[1, :, :, 2:] == 0)
    # the same as valid_lens [B, Tq] = 1, 2, 3, 4 (the chapter's training-time decoder lengths)
    attn(X, X, X, torch.arange(1, 5).repeat(2, 1))
    w2 = attn.attention_weights
    attn(X, X, X, mask=causal)
    torch.testing.assert_close(attn.attention_weights, w2)


def test_all_masked_query_gives_zero_row_not_nan():
    w = masked_softmax(torch.randn(1, 2, 3), torch.tensor([[[False, False, False], [True, False, True]]]))
    assert torch.all(w[0, 0] == 0) and not torch.isnan(w).any()
    torch.testing.assert_close(w[0, 1].sum(), torch.tensor(1.0))


def test_sequence_mask_hand_computed():
    m = sequence_mask(torch.tensor([1, 3]), num_queries=2, num_keys=3)
    assert m.tolist() == [[[True, False, False]] * 2, [[True, True, True]] * 2]


def test_additive_attention_hand_computed():
    """One head, identity projections: score(q, k) = w^T tanh(q + k)."""
    attn = MultiHeadAttention(2, 1, scoring="additive").double()
    with torch.no_grad():
        for lin in (attn.W_q, attn.W_k, attn.W_v, attn.W_o):
            lin.weight.copy_(torch.eye(2))
        attn.w_v.copy_(torch.tensor([[1.0, -1.0]]))
    q = torch.tensor([[[0.5, 0.0]]], dtype=torch.float64)
    k = torch.tensor([[[0.0, 0.0], [1.0, 2.0]]], dtype=torch.float64)
    v = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    out = attn(q, k, v)
    s = torch.tensor([math.tanh(0.5) - math.tanh(0.0), math.tanh(1.5) - math.tanh(2.0)], dtype=torch.float64)
    a = torch.softmax(s, 0)
    torch.testing.assert_close(out[0, 0], a)       # values are the unit vectors
    assert attn.attention_weights.shape == (1, 1, 1, 2)


def test_dropout_acts_on_weights_in_training_only():
    torch.manual_seed(3)
    attn = MultiHeadAttention(8, 2, dropout=0.9)
    X = torch.randn(2, 4, 8)
    a, b = attn(X, X, X), attn(X, X, X)
    assert not torch.allclose(a, b)
    attn.eval()
    torch.testing.assert_close(attn(X, X, X), attn(X, X, X))


def test_cache_appends_projected_keys_and_values():
    torch.manual_seed(4)
    attn = MultiHeadAttention(8, 2).eval()
    X = torch.randn(1, 3, 8)
    cache = {}
    for t in range(3):
        attn(X[:, t:t + 1], X[:, t:t + 1], X[:, t:t + 1], cache=cache)
    assert cache["keys"].shape == (1, 2, 3, 4)
    full = attn(X[:, 2:], X, X)
    cache_out = attn(X[:, 2:], X[:, :0], X[:, :0], cache={"keys": cache["keys"], "values": cache["values"]})
    torch.testing.assert_close(cache_out, full)


def test_errors_say_what_to_fix():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="scoring must be one of"):
        MultiHeadAttention(8, 2, scoring="cosine")
    attn = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"\[batch, steps, features\].*unsqueeze"):
        attn(torch.randn(4, 8), torch.randn(4, 8), torch.randn(4, 8))
    X = torch.randn(2, 4, 8)
    with pytest.raises(ValueError, match=r"valid_lens must have shape \[B\] or \[B, Tq\]"):
        attn(X, X, X, torch.ones(2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        attn(X, X, X, mask=torch.ones(4, 4))
