"""viz/attention.py: heatmap grids and the decoder's per-step weights assembled with zeros where masked."""
import pytest
import torch

from gnnkit.models.transformer import Transformer
from gnnkit.viz.attention import decoder_matrices, encoder_matrix, plot_decoder_attention, plot_encoder_attention, show_heatmaps


def _decode():
    torch.manual_seed(0)
    model = Transformer(9, 9, num_hiddens=8, ffn_num_hiddens=16, num_heads=2, num_layers=2).eval()
    src = torch.tensor([[3, 4, 5, 2, 0, 0]])
    tokens, n, steps = model.greedy_decode(src, torch.tensor([4]), 1, 2, 5, save_attention=True)
    return model, int(n[0]), steps


def test_decoder_matrices_are_causal_and_rows_sum_to_one():
    model, n, steps = _decode()
    self_w, cross_w = decoder_matrices(steps, n)
    Q = min(n + 1, len(steps))
    assert self_w.shape == (2, 2, Q, Q) and cross_w.shape == (2, 2, Q, 6)
    assert torch.all(self_w.triu(1) == 0)                       # no query sees a later position
    torch.testing.assert_close(self_w.sum(-1), torch.ones(2, 2, Q))
    assert torch.all(cross_w[..., 4:] == 0)                      # encoder padding
    enc = encoder_matrix(model.encoder.attention_weights, num_keys=4)
    assert enc.shape == (2, 2, 4, 4)


def test_plots_write_pngs(tmp_path):
    model, n, steps = _decode()
    p = plot_encoder_attention(model.encoder.attention_weights, tmp_path / "enc.png", num_keys=4)
    a, b = plot_decoder_attention(steps, n, tmp_path / "self.png", tmp_path / "cross.png", num_keys=4)
    for path in (p, a, b):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match=r"\[rows, cols, queries, keys\]"):
        show_heatmaps(torch.zeros(3, 3), tmp_path / "x.png")
