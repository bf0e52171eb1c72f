"""``gnnkit train --device cpu|cuda|auto`` and ``task.to(device)``.

The development machine has no GPU: these tests run the device path on the CPU (the model and
the task moved with ``.to('cpu')``, which must not change a single number) and check the flag's
refusals; ``tests/test_device_scan.py`` checks that no compute code creates CPU-only tensors.
"""
import pytest
import torch

from gnnkit import Graph
from gnnkit.cli import UsageError, device_from_flag, main
from gnnkit.datasets.karate import karate_club
from gnnkit.experiments import get, run
from gnnkit.experiments.run import _task_to
from gnnkit.models import GCN, GIN
from gnnkit.tasks import GraphClassification, NodeClassification

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")


@no_cuda
def test_device_flag_auto_is_the_cpu_without_a_gpu_and_cuda_is_refused():
    assert device_from_flag("auto") == "cpu"
    assert device_from_flag("cpu") == "cpu"
    with pytest.raises(UsageError, match=r"--device cuda: torch .* sees no CUDA device; use --device cpu or auto"):
        device_from_flag("cuda")


@no_cuda
def test_train_with_device_cuda_exits_2_with_one_line(tmp_path, capsys):
    assert main(["train", "--device", "cuda", "--epochs", "1", "--quiet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "sees no CUDA device" in err[0]


def test_train_device_cpu_gives_the_same_run_as_no_device(tmp_path):
    exp = get("gcn-karate").override(epochs=5)
    plain = run(exp, seed=3, quiet=True)
    moved = run(exp, seed=3, quiet=True, device="cpu")
    assert moved["test"] == plain["test"] and moved["val_curve"] == plain["val_curve"]
    for a, b in zip(plain["model"].parameters(), moved["model"].parameters()):
        assert torch.equal(a, b)


def test_train_cli_accepts_device_auto(tmp_path, capsys):
    assert main(["train", "--device", "auto", "--epochs", "2", "--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("test accuracy: ")


def test_node_task_to_moves_graphs_and_masks_and_keeps_shared_graphs_shared():
    g = karate_club()
    task = NodeClassification.transductive(g)
    moved = task.to("cpu")
    assert moved is not task and moved.metric == task.metric
    (g_train, m_train), = moved.train
    (g_test, m_test), = moved.test
    assert g_train is g_test                                  # one graph, moved once
    assert torch.equal(m_train, g.train_mask) and torch.equal(m_test, g.test_mask)
    torch.manual_seed(0)
    model = GCN(g.num_features, 4, 2).eval()
    assert moved.evaluate(model, "test") == task.evaluate(model, "test")


def test_graph_task_to_collates_batches_on_the_graphs_device():
    graphs = [Graph(x=torch.randn(n, 3), edge_index=torch.tensor([[0], [1]]), y=torch.tensor(n % 2), y_level="graph")
              for n in (2, 3, 4, 5)]
    task = GraphClassification(graphs, [0, 1, 2], [3], [3], batch_size=2)
    moved = task.to("cpu")
    assert all(a is b for a, b in zip(moved.graphs, graphs))   # already there: Graph.to returns the graph itself
    torch.manual_seed(0)
    model = GIN(3, 4, 2, num_layers=2).eval()
    assert moved.evaluate(model, "test") == task.evaluate(model, "test")
    batch = next(iter(moved.train_batches()))
    assert batch.batch.device == batch.x.device == batch.ptr.device


def test_a_task_without_to_runs_on_the_cpu_only():
    class Plain:
        pass

    task = Plain()
    assert _task_to(task, "cpu") is task
    with pytest.raises(ValueError, match=r"Plain has no to\(device\).*--device cpu"):
        _task_to(task, "cuda")

