import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gnnkit.experiments import EXPERIMENTS, DataAbsent, format_table, get, load_task, reproduce
from gnnkit.models import MODELS

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


def test_sparse_features_converts_bag_of_words_but_keeps_dense_tf_idf_dense():
    from gnnkit import Graph
    from gnnkit.experiments.data import sparse_features
    from gnnkit.tasks import NodeClassification
    gen = torch.Generator().manual_seed(0)
    edge_index = torch.tensor([[0, 1], [1, 0]])
    for density, layout in ((0.01, torch.sparse_csr), (0.10, torch.strided)):    # Cora-like, PubMed-like
        x = (torch.rand(50, 400, generator=gen) < density).float()
        g = Graph(x=x, edge_index=edge_index, y=torch.zeros(50, dtype=torch.long), num_nodes=50)
        task = sparse_features(NodeClassification([(g, None)], [(g, None)], [(g, None)], "acc"))
        assert task.train[0][0] is task.test[0][0]     # each distinct graph converted once
        assert task.train[0][0].x.layout == layout
        assert torch.equal(task.train[0][0].x.to_dense(), x)


def test_every_node_experiment_builds_its_model_from_the_task_shapes():
    # The registry's model_args and the task's model_args() together must make a model that runs.
    from gnnkit import Graph
    from gnnkit.models import build_model
    from gnnkit.tasks import NodeClassification

    g = Graph(x=torch.randn(6, 8), edge_index=torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]]),
              y=torch.tensor([0, 1, 2, 0, 1, 2]), train_mask=torch.ones(6, dtype=torch.bool),
              val_mask=torch.ones(6, dtype=torch.bool), test_mask=torch.ones(6, dtype=torch.bool))
    task = NodeClassification.transductive(g)
    for name, exp in EXPERIMENTS.items():
        if exp.task != "node" or exp.metric != "acc":
            continue
        model = build_model(exp.model, **task.model_args(), **exp.model_args).eval()
        assert model(g.x, g.adj()).shape == (6, 3), name


def test_registry_refuses_a_name_defined_twice(monkeypatch):
    from types import SimpleNamespace

    from gnnkit.experiments import registry

    twice = SimpleNamespace(__name__="twice", entries=lambda: [get("gcn-cora")])
    monkeypatch.setattr(registry, "FAMILIES", (registry.node, twice))
    with pytest.raises(ValueError, match="'gcn-cora' is defined twice"):
        registry._collect()


def test_experiment_refuses_unknown_task_protocol_and_kfold_without_folds():
    from gnnkit.experiments import Experiment
    from gnnkit.train import TrainConfig

    with pytest.raises(ValueError, match="task must be one of"):
        Experiment("x", "cora", "gcn", {}, TrainConfig(), task="nodes")
    with pytest.raises(ValueError, match="protocol must be one of"):
        Experiment("x", "cora", "gcn", {}, TrainConfig(), protocol="random")
    with pytest.raises(ValueError, match="needs folds=K"):
        Experiment("x", "MUTAG", "gin", {}, TrainConfig(), task="graph", protocol="kfold")
    e = Experiment("x", "cora", "gcn", {}, TrainConfig(), paper=0.5, metrics=("acc", "micro_f1"))
    assert e.paper == {"acc": 0.5} and e.paper_value("micro_f1") is None and e.metrics == ("acc", "micro_f1")


def test_gin_mutag_trains_through_reproduce_on_a_stratified_split(data_root):
    from gnnkit.experiments import load_task

    task = load_task(get("gin-mutag"), root=data_root)
    sizes = [t.numel() for t in (task.train_idx, task.val_idx, task.test_idx)]
    assert sum(sizes) == 188 and sizes[2] == 19
    assert not set(task.train_idx.tolist()) & set(task.test_idx.tolist())
    results = reproduce(["gin-mutag"], seeds=1, root=data_root, epochs=3, echo=lambda *_: None)
    (summary,) = results["summary"]
    assert summary["status"] == "ok" and 0 <= summary["mean"] <= 1 and results["runs"][0]["epochs"] == 3


def test_reproduce_resumes_an_interrupted_table_to_the_same_numbers(data_root, tmp_path, monkeypatch):
    import importlib

    run_module = importlib.import_module("gnnkit.experiments.run")

    quiet = dict(root=data_root, epochs=6, echo=lambda *_: None)
    straight = reproduce(["gin-mutag"], seeds=3, out=tmp_path / "straight", **quiet)

    real_fit = run_module.fit
    calls = []

    def interrupted_fit(model, task, config, **kw):
        calls.append(kw.get("resume"))
        if len(calls) == 2:      # seed 1: stop in the middle, after epoch 3 is checkpointed
            def stop(epoch, row):
                if epoch == 3:
                    raise KeyboardInterrupt
            kw["callbacks"] = (stop,)
        return real_fit(model, task, config, **kw)

    monkeypatch.setattr(run_module, "fit", interrupted_fit)
    with pytest.raises(KeyboardInterrupt):
        reproduce(["gin-mutag"], seeds=3, out=tmp_path / "resumed", **quiet)
    assert (tmp_path / "resumed/gin-mutag/seed-0/result.json").is_file()
    assert (tmp_path / "resumed/gin-mutag/seed-1/checkpoint.pt").is_file()
    assert not (tmp_path / "resumed/gin-mutag/seed-1/result.json").exists()
    monkeypatch.setattr(run_module, "fit", real_fit)
    resumed = reproduce(["gin-mutag"], seeds=3, out=tmp_path / "resumed", **quiet)
    assert [r.get("resumed") for r in resumed["runs"]] == [False, True, False]
    for a, b in zip(straight["runs"], resumed["runs"]):
        assert (a["seed"], a["test"], a["val_curve"]) == (b["seed"], b["test"], b["val_curve"])
    assert format_table(straight["summary"]) == format_table(resumed["summary"])


def test_a_table_split_over_runs_assembles_to_the_same_numbers(data_root, tmp_path):
    # Two processes (here: calls) each run part of the seeds into their own folder; the finished run
    # folders copied into one folder give, without `only`, the table of one uninterrupted call.
    quiet = dict(root=data_root, epochs=3, echo=lambda *_: None)
    whole = reproduce(["gin-mutag"], seeds=3, out=tmp_path / "whole", **quiet)
    first = reproduce(["gin-mutag"], seeds=3, out=tmp_path / "a", only=[0, 2], **quiet)
    assert [r["seed"] for r in first["runs"]] == [0, 2] and first["summary"][0]["partial_runs"] == [0, 2]
    assert "| 2 (partial) |" in format_table(first["summary"])
    reproduce(["gin-mutag"], seeds=3, out=tmp_path / "b", only=[1], **quiet)
    joined = tmp_path / "joined" / "gin-mutag"
    shutil.copytree(tmp_path / "a" / "gin-mutag", joined)
    shutil.copytree(tmp_path / "b" / "gin-mutag" / "seed-1", joined / "seed-1")
    assembled = reproduce(["gin-mutag"], seeds=3, out=tmp_path / "joined", **quiet)
    assert [(r["seed"], r["test"]) for r in assembled["runs"]] == [(r["seed"], r["test"]) for r in whole["runs"]]
    assert "partial_runs" not in assembled["summary"][0]
    assert format_table(assembled["summary"]) == format_table(whole["summary"])
    with pytest.raises(ValueError, match=r"run 3 is out of range: gin-mutag has 3 seeds"):
        reproduce(["gin-mutag"], seeds=3, only=[3], **quiet)


def test_runs_flag_out_of_range_is_a_usage_error(capsys):
    from gnnkit.cli import main

    assert main(["reproduce", "gin0-mutag", "--runs", "8-10"]) == 2
    assert "gnnkit: error: --runs: run 10 is out of range: gin0-mutag has 10 folds, numbered 0..9" in capsys.readouterr().err


def test_runs_flag_parses_numbers_and_ranges_and_refuses_the_rest():
    from gnnkit.cli import run_numbers

    assert run_numbers("0-4") == [0, 1, 2, 3, 4] and run_numbers("7,0,3-4,3") == [0, 3, 4, 7]
    for bad in ("", "a", "3-1", "-2", "1-x"):
        with pytest.raises(argparse.ArgumentTypeError, match="run numbers"):
            run_numbers(bad)


def test_reproduce_refuses_a_folder_made_with_other_settings(data_root, tmp_path):
    reproduce(["gin-mutag"], seeds=1, root=data_root, epochs=2, out=tmp_path, echo=lambda *_: None)
    with pytest.raises(ValueError, match=r"holds a run with other settings \(train differ\)"):
        reproduce(["gin-mutag"], seeds=1, root=data_root, epochs=3, out=tmp_path, echo=lambda *_: None)


def test_reproduce_keeps_finished_runs_when_only_the_paper_number_or_source_changed(data_root, tmp_path):
    quiet = dict(seeds=1, root=data_root, epochs=2, out=tmp_path, echo=lambda *_: None)
    first = reproduce(["gin-mutag"], **quiet)
    config_path = tmp_path / "gin-mutag" / "seed-0" / "config.json"
    saved = json.loads(config_path.read_text())
    saved |= {"paper": {"acc": 0.123}, "paper_std": None, "source": "an older citation", "notes": "older notes"}
    config_path.write_text(json.dumps(saved))
    (tmp_path / "gin-mutag" / "seed-0" / "result.json").write_text(
        json.dumps(first["runs"][0] | {"test": 0.5, "test_metrics": {"acc": 0.5}}))
    again = reproduce(["gin-mutag"], **quiet)
    assert again["runs"][0]["test"] == 0.5                    # the finished run was read, not retrained
    assert again["summary"][0]["paper"] == first["summary"][0]["paper"]   # the entry's number is printed
    saved["model_args"] = saved["model_args"] | {"hidden_channels": 3}
    config_path.write_text(json.dumps(saved))
    with pytest.raises(ValueError, match=r"other settings \(model_args differ\)"):
        reproduce(["gin-mutag"], **quiet)
