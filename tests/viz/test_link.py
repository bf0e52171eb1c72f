"""Link-prediction pictures (viz/link.py)."""
import pytest
import torch

from gnnkit.viz.link import plot_link_run, plot_roc


def test_plot_roc_writes_a_png(tmp_path):
    score = torch.tensor([0.9, 0.8, 0.3, 0.6, 0.2, 0.1])
    y = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    path = plot_roc(score, y, tmp_path / "roc.png")
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_roc_errors_say_what_was_wrong(tmp_path):
    with pytest.raises(ValueError, match=r"both be \[P\]"):
        plot_roc(torch.rand(3), torch.ones(4), tmp_path / "x.png")
    with pytest.raises(ValueError, match="both positive and negative"):
        plot_roc(torch.rand(3), torch.ones(3), tmp_path / "x.png")


def test_plot_link_run_refuses_other_tasks(tmp_path):
    with pytest.raises(ValueError, match="draws link-prediction runs"):
        plot_link_run("gcn-cora", tmp_path)
