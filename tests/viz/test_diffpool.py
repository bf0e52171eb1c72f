import pytest
import torch

from gnnkit import Graph
from gnnkit.models import DiffPoolNet
from gnnkit.viz.diffpool import assignment_of, plot_assignments


def _graph(n, seed):
    gen = torch.Generator().manual_seed(seed)
    a = (torch.rand(n, n, generator=gen) < 0.3).triu(1)
    a = a | a.t()
    return Graph(x=torch.randn(n, 3, generator=gen), edge_index=a.nonzero().t(), y=torch.tensor(0), num_nodes=n)


def test_assignment_of_gives_level_one_rows_and_the_pooled_adjacency():
    torch.manual_seed(0)
    model = DiffPoolNet(3, 2, max_nodes=12, hidden_channels=8, embed_channels=8)
    g = _graph(9, 1)
    s, adj_p = assignment_of(model, g)
    assert s.shape == (9, 3) and adj_p.shape == (3, 3)
    torch.testing.assert_close(s.sum(-1), torch.ones(9))
    assert model.training                                  # the mode is restored


def test_plot_assignments_writes_a_png(tmp_path):
    torch.manual_seed(0)
    model = DiffPoolNet(3, 2, max_nodes=12, hidden_channels=8, embed_channels=8, assignment="metis")
    out = plot_assignments(model, [_graph(10, 2), _graph(6, 3)], tmp_path / "a.png", ["x", "y"])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="at least one graph"):
        plot_assignments(model, [], tmp_path / "b.png")


def test_plot_run_draws_a_trained_fold_from_its_checkpoint(data_root, tmp_path):
    from gnnkit.experiments.registry import get
    from gnnkit.experiments.run import run
    from gnnkit.viz.diffpool import plot_run

    exp = get("diffpool-det-enzymes").override(epochs=1)
    run(exp, seed=0, root=data_root, out=tmp_path / "fold-0", quiet=True)
    out = plot_run("diffpool-det-enzymes", tmp_path / "fold-0", tmp_path / "a.png", count=2, root=data_root)
    assert out.read_bytes()[:4] == b"\x89PNG"
