import json

import pytest
import torch

from gnnkit.datasets.karate import karate_club
from gnnkit.models import GAT, GCN
from gnnkit.train import NodeClassification, TrainConfig, fit, load_checkpoint, seed_everything
from tests.train.graphs import community_graph


class Interrupt(Exception):
    pass


def stop_after(n):
    def callback(epoch, row):
        if epoch == n:
            raise Interrupt

    return callback


def train(config, g, model_cls=GCN, **kw):
    seed_everything(3)
    model = model_cls(g.num_features, 8, 3, dropout=0.5)
    return model, fit(model, NodeClassification.transductive(g), config, **kw)


@pytest.mark.parametrize("model_cls, rule, select", [(GCN, "gcn", "rule"), (GAT, "gat", "rule"),
                                                     (GAT, "gat", "val_loss")])
def test_resume_reproduces_an_uninterrupted_run(tmp_path, model_cls, rule, select):
    g = community_graph()
    config = TrainConfig(epochs=40, lr=0.02, weight_decay=5e-4, stopping=rule, patience=10, restore_best=True,
                         select=select, quiet=True)
    model_a, full = train(config, g, model_cls)

    ckpt, log = tmp_path / "ckpt.pt", tmp_path / "metrics.jsonl"
    with pytest.raises(Interrupt):
        train(config, g, model_cls, checkpoint_path=ckpt, log_path=log, callbacks=(stop_after(7),))
    assert load_checkpoint(ckpt)["epoch"] == 7
    torch.manual_seed(12345)   # the resumed run must not depend on the RNG state it starts with
    model_b = model_cls(g.num_features, 8, 3, dropout=0.5)
    resumed = fit(model_b, NodeClassification.transductive(g), config, checkpoint_path=ckpt, log_path=log,
                  resume=True)

    assert resumed.history == full.history
    assert resumed.test == full.test and resumed.best_epoch == full.best_epoch
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert rows == full.history


def test_checkpoint_is_written_atomically_and_loads_weights_only(tmp_path):
    g = community_graph()
    train(TrainConfig(epochs=5, quiet=True), g, checkpoint_path=tmp_path / "c.pt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]   # no temporary files left behind
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert state["epoch"] == 5 and len(state["history"]) == 5 and state["done"] is False


def test_metrics_log_has_one_json_line_per_epoch(tmp_path):
    g = community_graph()
    _, result = train(TrainConfig(epochs=6, quiet=True), g, log_path=tmp_path / "m.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert set(rows[0]) == {"epoch", "train_loss", "train_acc", "val_loss", "val_acc"}
    assert rows == result.history


def test_gcn_stopping_ends_the_run_early():
    g = community_graph()
    _, result = train(TrainConfig(epochs=500, lr=0.05, stopping="gcn", patience=5, quiet=True), g)
    assert result.epochs < 500
    losses = [r["val_loss"] for r in result.history]
    assert losses[-1] > sum(losses[-6:-1]) / 5


def test_restore_best_tests_the_best_validation_model():
    g = community_graph()
    config = TrainConfig(epochs=60, lr=0.05, stopping="gat", patience=15, restore_best=True, quiet=True)
    model, result = train(config, g, GAT)
    best = result.history[result.best_epoch - 1]
    assert result.val["acc"] == pytest.approx(best["val_acc"])
    assert result.val["loss"] == pytest.approx(best["val_loss"], rel=1e-5)


def test_same_seed_same_result_and_training_learns_karate():
    g = karate_club()
    config = TrainConfig(epochs=100, lr=0.01, weight_decay=5e-4, quiet=True)
    runs = []
    for _ in range(2):
        seed_everything(0)
        model = GCN(34, 16, 2)
        runs.append(fit(model, NodeClassification.transductive(g), config))
    assert runs[0].history == runs[1].history
    assert runs[0].test["acc"] >= 0.9
    assert runs[0].history[-1]["train_loss"] < runs[0].history[0]["train_loss"]


def test_resume_without_checkpoint_says_how_to_start(tmp_path):
    g = community_graph()
    with pytest.raises(FileNotFoundError, match="run without --resume"):
        train(TrainConfig(epochs=2, quiet=True), g, checkpoint_path=tmp_path / "none.pt", resume=True)


def test_select_val_loss_restores_the_lowest_validation_loss_model():
    g = community_graph()
    config = TrainConfig(epochs=60, lr=0.05, stopping="gat", patience=15, restore_best=True, select="val_loss",
                         quiet=True)
    _, result = train(config, g, GAT)
    losses = [r["val_loss"] for r in result.history]
    assert result.best_epoch == losses.index(min(losses)) + 1
    assert result.val["loss"] == pytest.approx(min(losses), rel=1e-5)


def test_unknown_select_is_an_error():
    with pytest.raises(ValueError, match="select must be one of"):
        train(TrainConfig(epochs=1, select="best"), community_graph())


def test_multi_graph_multilabel_training_as_ppi():
    # PPI's shape of task: lists of whole graphs, 0/1 label vectors, micro-F1, 2 graphs per step.
    graphs = []
    for seed in range(5):
        g = community_graph(n_per_class=6, seed=seed)
        labels = torch.nn.functional.one_hot(g.y, 3).float()
        graphs.append(g.replace(y=torch.cat([labels, 1 - labels], 1)))
    task = NodeClassification([(g, None) for g in graphs[:3]], [(graphs[3], None)], [(graphs[4], None)],
                              metric="micro_f1", batch_size=2)
    assert len(task.train_batches()) == 2
    seed_everything(0)
    model = GAT(8, 4, 6, heads=2, num_layers=3, dropout=0.0, residual=True)
    result = fit(model, task, TrainConfig(epochs=30, lr=0.01, stopping="gat", patience=10, restore_best=True,
                                          quiet=True))
    assert set(result.test) == {"loss", "micro_f1"} and 0.0 <= result.test["micro_f1"] <= 1.0
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
