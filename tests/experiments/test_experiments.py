import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gnnkit.experiments import EXPERIMENTS, DataAbsent, format_table, get, load_task, reproduce
from gnnkit.models import MODELS

REQUIRED = (
    [f"{m}-{d}" for m in ("gcn", "cheb2", "cheb3", "mlp", "gat") for d in ("cora", "citeseer", "pubmed")]
    + ["gat-ppi"] + [f"sage-{a}-ppi" for a in ("mean", "gcn", "lstm", "pool")]
    + [f"sage-{a}-{d}-inductive" for a in ("mean", "gcn", "lstm", "pool") for d in ("cora", "citeseer")]
    + [f"{m}-{d}-inductive" for m in ("gat", "gcn") for d in ("cora", "citeseer")]
)


def test_every_protocol_of_the_issue_is_registered_with_its_paper_number():
    for name in REQUIRED:
        exp = get(name)
        assert exp.model in MODELS
        if not name.endswith("-inductive"):
            assert exp.paper is not None and 0 < exp.paper < 1, name
    assert get("gcn-cora").paper == pytest.approx(0.815) and get("gat-citeseer").paper_std == pytest.approx(0.007)
    assert get("cheb3-cora").model_args["K"] == 3 and get("mlp-citeseer").paper == pytest.approx(0.465)


def test_gcn_protocol_is_the_papers():
    exp = get("gcn-cora")
    assert exp.model_args == {"hidden_channels": 16, "dropout": 0.5}
    t = exp.train
    assert (t.epochs, t.lr, t.weight_decay, t.decay, t.stopping, t.patience) == (200, 0.01, 5e-4, ("convs.0",), "gcn", 10)


@pytest.mark.parametrize("model", ["gcn", "cheb2", "cheb3", "mlp"])
def test_gcn_paper_protocols_stop_on_the_l2_objective_and_test_the_last_model(model):
    # tkipf/gcn gcn/train.py: cost_val holds model.loss (cross-entropy + weight_decay * l2_loss
    # of the first layer), and the model tested is the one of the last epoch run.
    for ds in ("cora", "citeseer", "pubmed"):
        t = get(f"{model}-{ds}").train
        assert (t.stopping, t.val_loss_l2, t.restore_best) == ("gcn", True, False)
        assert t.decay == (("lins.0",) if model == "mlp" else ("convs.0",))


def test_unknown_experiment_suggests_close_names():
    with pytest.raises(ValueError, match="did you mean gcn-cora"):
        get("gcn-coro")


def test_missing_dataset_is_one_line_naming_the_folder(tmp_path):
    with pytest.raises(DataAbsent) as err:
        load_task(get("gcn-cora"), root=tmp_path)
    msg = str(err.value)
    assert "\n" not in msg and str(tmp_path / "planetoid") in msg and "GNNKIT_DATA" in msg and "--root" in msg


def test_pubmed_and_ppi_are_reported_absent(data_root, capsys):
    results = reproduce(["gcn-pubmed", "gat-ppi"], seeds=1, root=data_root)
    assert [s["status"] for s in results["summary"]] == ["data absent", "data absent"]
    out = capsys.readouterr().out
    assert "ind.pubmed.allx" in out and "| gat-ppi | micro_f1 | data absent |" in out


def test_inductive_task_hides_validation_and_test_nodes(data_root):
    task = load_task(get("gcn-cora-inductive"), root=data_root)
    (train_g, train_mask), (val_g, val_mask), (test_g, test_mask) = task.train[0], task.val[0], task.test[0]
    assert train_g.num_nodes == 2708 - 500 - 1000 and int(train_mask.sum()) == 140
    assert val_g.num_nodes == 2708 - 1000 and int(val_mask.sum()) == 500
    assert test_g.num_nodes == 2708 and int(test_mask.sum()) == 1000
    assert train_g.x.layout == torch.sparse_csr and int(train_g.edge_index.max()) < train_g.num_nodes


def test_format_table_shows_difference_to_paper():
    table = format_table([{"experiment": "gcn-cora", "metric": "acc", "status": "ok", "mean": 0.812, "std": 0.005,
                           "seeds": 10, "paper": 0.815, "paper_std": None, "difference": -0.003}])
    assert "| gcn-cora | acc | 81.2 ± 0.5 | 10 | 81.5 | -0.3 |" in table


def test_reproduce_command_in_a_fresh_folder(data_root, tmp_path):
    # As in a fresh clone: only GNNKIT_DATA points at the data; few epochs to stay quick.
    env = dict(os.environ, GNNKIT_DATA=str(data_root), OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "gnnkit.cli", "reproduce", "gcn-cora", "--seeds", "3", "--epochs", "30",
           "--out", str(tmp_path / "res"), "--quiet"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "| experiment | metric | ours (mean ± std) | seeds | paper | difference |" in proc.stdout
    assert "| gcn-cora | acc |" in proc.stdout and "| 3 | 81.5 |" in proc.stdout
    results = json.loads((tmp_path / "res" / "results.json").read_text())
    assert results["gnnkit_version"] and results["wall_seconds"] > 0
    assert [r["seed"] for r in results["runs"]] == [0, 1, 2]
    assert all(r["epochs"] <= 30 and 0 < r["test"] <= 1 for r in results["runs"])
    assert results["configs"]["gcn-cora"]["train"]["epochs"] == 30
    assert not list((tmp_path / "res").glob(".*tmp"))


def test_registry_names_are_unique_and_match_keys():
    assert all(name == exp.name for name, exp in EXPERIMENTS.items())


def test_inductive_gcn_stops_on_the_papers_stated_rule_without_the_l2_term():
    for ds in ("cora", "citeseer"):
        t = get(f"gcn-{ds}-inductive").train
        assert (t.stopping, t.val_loss_l2, t.patience) == ("gcn", False, 10)


def test_sparse_features_converts_bag_of_words_but_keeps_dense_tf_idf_dense():
    from gnnkit import Graph
    from gnnkit.experiments.data import sparse_features
    from gnnkit.train.task import NodeClassification
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.tensor([[0, 1], [1, 0]])
    for density, layout in ((0.01, torch.sparse_csr), (0.10, torch.strided)):    # Cora-like, PubMed-like
        x = (torch.rand(50, 400, generator=gen) < density).float()
        g = Graph(x=x, edge_index=edge_index, y=torch.zeros(50, dtype=torch.long), num_nodes=50)
        task = sparse_features(NodeClassification([(g, None)], [(g, None)], [(g, None)], "acc"))
        assert task.train[0][0] is task.test[0][0]     # each distinct graph converted once
        assert task.train[0][0].x.layout == layout
        assert torch.equal(task.train[0][0].x.to_dense(), x)
