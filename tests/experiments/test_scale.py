"""Scale protocols (experiments/scale.py): Cluster-GCN and sampled GraphSAGE entries run through the
same experiment path; PubMed's entry says 'data absent' in one line while its features are missing."""
import pytest

from gnnkit.experiments import EXPERIMENTS, get, reproduce, run
from gnnkit.experiments.scale import LOADERS, ClusterSettings, NeighborSettings
from gnnkit.loader import ClusterLoader, NeighborLoader


def test_entries_and_their_loaders():
    assert LOADERS["cluster-gcn-pubmed"] == ClusterSettings(128, 32)
    assert LOADERS["cluster-gcn-cora"] == ClusterSettings(16, 4) and LOADERS["cluster-gcn-citeseer"] == ClusterSettings(20, 5)
    assert LOADERS["sage-sampled-cora"].num_neighbors == (25, 10)
    for name in ("cluster-gcn-pubmed", "cluster-gcn-cora", "gcn-full-cora", "cluster-gcn-ppi", "sage-mean-ppi-sampled",
                 "sage-sampled-synth-reddit"):
        assert name in EXPERIMENTS
    pubmed, full = get("cluster-gcn-pubmed"), get("gcn-full-pubmed")
    assert (pubmed.model_args, pubmed.train, pubmed.transform) == (full.model_args, full.train, full.transform)
    assert pubmed.train.epochs == 50 and pubmed.train.lr == 0.01 and pubmed.train.weight_decay == 5e-4
    assert not pubmed.train.restore_best and pubmed.train.stopping is None    # the tutorial: last model of 50
    for ds in ("cora", "citeseer"):                                              # trained to convergence
        cluster, full = get(f"cluster-gcn-{ds}"), get(f"gcn-full-{ds}")
        assert cluster.train == full.train and cluster.model_args == pubmed.model_args
        assert (cluster.train.epochs, cluster.train.stopping, cluster.train.patience) == (200, "gat", 20)
        assert cluster.train.restore_best and cluster.train.lr == 0.01 and cluster.train.weight_decay == 5e-4
    for name, settings in LOADERS.items():
        exp = get(name)
        assert exp.task == "sampled" and exp.protocol == ("cluster" if isinstance(settings, ClusterSettings)
                                                          else "neighbor")


@pytest.mark.parametrize("name, loader", [("cluster-gcn-synth-small", ClusterLoader),
                                          ("sage-sampled-synth-small", NeighborLoader)])
def test_synthetic_entries_train_end_to_end(tmp_path, monkeypatch, name, loader):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path))
    from gnnkit.experiments.data import load_task

    exp = get(name).override(epochs=3)
    task = load_task(exp)
    assert isinstance(task.loader, loader)
    row = run(exp, seed=0, task=task, quiet=True)
    assert row["epochs"] == 3 and row["test"] > 0.3                      # 8 classes: chance 0.125


def test_cluster_gcn_cora_runs(data_root, tmp_path, monkeypatch):
    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path))
    row = run(get("cluster-gcn-cora").override(epochs=25), seed=0, root=data_root, quiet=True)
    assert row["test"] > 0.7                                             # majority class: 0.32


def test_cluster_gcn_pubmed_reports_data_absent_in_one_line(data_root):
    if (data_root / "planetoid" / "ind.pubmed.allx").is_file():
        pytest.skip("PubMed's allx is present: the entry runs instead")
    lines = []
    out = reproduce(["cluster-gcn-pubmed"], seeds=1, root=data_root, echo=lines.append)
    assert out["summary"][0]["status"] == "data absent"
    message = [line for line in lines if line.startswith("cluster-gcn-pubmed:")]
    assert len(message) == 1 and "\n" not in message[0] and "data absent" in message[0] and "allx" in message[0]


@pytest.mark.parametrize("name", ["sage-mean-ppi-sampled", "cluster-gcn-ppi"])
def test_ppi_entries_run_on_the_toy_ppi_files(tmp_path, monkeypatch, name):
    from tests.datasets.ppi_files import C, write_ppi

    monkeypatch.setenv("GNNKIT_CACHE", str(tmp_path / "cache"))
    root = write_ppi(tmp_path)
    exp = get(name).override(epochs=2, hidden_channels=8)
    if name == "cluster-gcn-ppi":                          # 7 training nodes: fewer parts than the paper's 50
        from dataclasses import replace

        monkeypatch.setitem(LOADERS, name + "-toy", ClusterSettings(2, 1))
        exp = replace(exp, name=name + "-toy")
    from gnnkit.experiments.data import load_task

    task = load_task(exp, root)
    assert task.model_args()["out_channels"] == C and len(task.splits["test"]) == 1
    row = run(exp, seed=0, task=task, quiet=True)
    assert row["epochs"] == 2 and 0.0 <= row["test"] <= 1.0
