import pytest
import torch

from gnnkit.viz import plot_curves, plot_embedding

PNG = b"\x89PNG\r\n\x1a\n"


def test_curves_and_embeddings_are_png_files(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / e, "train_acc": 0.5, "val_loss": 1.2 / e, "val_acc": 0.4}
               for e in range(1, 6)]
    assert plot_curves(history, tmp_path / "c.png").read_bytes()[:8] == PNG
    y = torch.arange(40) % 3
    assert plot_embedding(torch.randn(40, 2), y, tmp_path / "e2.png").read_bytes()[:8] == PNG
    assert plot_embedding(torch.randn(40, 16), y, tmp_path / "tsne.png").read_bytes()[:8] == PNG


def test_plot_errors_say_what_was_wrong(tmp_path):
    with pytest.raises(ValueError, match="at least one epoch"):
        plot_curves([], tmp_path / "c.png")
    with pytest.raises(ValueError, match="one row per label"):
        plot_embedding(torch.randn(5, 2), torch.zeros(4), tmp_path / "e.png")
