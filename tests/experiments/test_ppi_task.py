"""experiments/data.py `_ppi`: the PPI experiments read gnnkit.datasets.ppi, or say 'data absent' in one line."""
from dataclasses import replace

import pytest
import torch

from gnnkit.experiments import DataAbsent, get, load_task
from gnnkit.experiments.run import run
from tests.datasets.ppi_files import C, F, arrays, write_ppi


def test_ppi_absent_is_one_line_naming_the_expected_files(tmp_path):
    with pytest.raises(DataAbsent) as err:
        load_task(get("gat-ppi"), root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("data absent: ppi needs {train,valid,test}_")
    assert str(tmp_path / "ppi") in msg and "ppi.zip" in msg and "GNNKIT_DATA" in msg
    write_ppi(tmp_path)
    (tmp_path / "ppi" / "test_labels.npy").unlink()
    with pytest.raises(DataAbsent, match=r"data absent: ppi needs test_labels\.npy in "):
        load_task(get("sage-mean-ppi"), root=tmp_path)


def test_gat_ppi_task_holds_the_synthetic_graphs(tmp_path):
    task = load_task(get("gat-ppi"), root=write_ppi(tmp_path))
    assert [g.num_nodes for g, _ in task.train] == [3, 4] and len(task.val) == len(task.test) == 1
    assert all(mask is None for _, mask in task.train + task.val + task.test)
    feats, _ = arrays(7, seed=0)
    torch.testing.assert_close(task.train[1][0].x, torch.from_numpy(feats[[0, 2, 5, 6]]))
    assert task.metric == "micro_f1" and task.batch_size == 2
    assert task.train[0][0].x.shape[1] == F and task.train[0][0].y.shape[1] == C


def test_gat_ppi_runs_two_epochs_on_the_synthetic_files(tmp_path):
    exp = get("gat-ppi")
    exp = replace(exp, train=replace(exp.train, epochs=2))
    row = run(exp, seed=0, root=write_ppi(tmp_path), quiet=True)
    assert row["epochs"] == 2 and 0 <= row["test"] <= 1 and row["metric"] == "micro_f1"
