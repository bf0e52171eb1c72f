import json

import pytest
import torch

from gnnkit.datasets.karate import karate_club
from gnnkit.models import GAT, GCN
from gnnkit.tasks import NodeClassification
from gnnkit.train import (CheckpointError, GCNStopping, TrainConfig, TrainingInterrupted, fit, l2_penalty,
                          load_checkpoint, seed_everything)
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


class ScriptedValidation(NodeClassification):
    """The real task, but epoch i's validation loss is ``losses[i]`` (a hand-made sequence)."""

    def __init__(self, g, losses):
        base = NodeClassification.transductive(g)
        super().__init__(base.train, base.val, base.test, base.metric)
        self.losses, self.calls = list(losses), 0

    def evaluate(self, model, split):
        out = super().evaluate(model, split)
        if split == "val" and self.calls < len(self.losses):
            out["loss"], self.calls = self.losses[self.calls], self.calls + 1
        return out


def test_gcn_rule_without_restore_tests_the_last_epoch_weights_not_the_best():
    # window 3; lowest validation loss at epoch 4 (0.5). Epoch 5: 0.6 < mean(2, 1, 0.5) = 1.167;
    # epoch 6: 0.6 < mean(1, 0.5, 0.6) = 0.7; epoch 7: 1.4 > mean(0.5, 0.6, 0.6) = 0.567 -> stop.
    # As tkipf/gcn train.py, the model tested is epoch 7's, not epoch 4's.
    g = community_graph()
    task = ScriptedValidation(g, [3.0, 2.0, 1.0, 0.5, 0.6, 0.6, 1.4, 0.1, 0.1])
    snapshots = {}
    seed_everything(3)
    model = GCN(g.num_features, 8, 3, dropout=0.5)
    config = TrainConfig(epochs=50, lr=0.05, stopping="gcn", patience=3, quiet=True)
    result = fit(model, task, config, callbacks=(lambda epoch, row: snapshots.update(
        {epoch: {k: v.clone() for k, v in model.state_dict().items()}}),))
    assert result.epochs == 7 and result.best_epoch == 4
    for name, value in model.state_dict().items():
        assert torch.equal(value, snapshots[7][name]), name
    assert any(not torch.equal(model.state_dict()[k], snapshots[4][k]) for k in snapshots[4])


def test_val_loss_l2_adds_the_decayed_parameters_l2_term_for_the_stopping_rule():
    g = community_graph()
    config = TrainConfig(epochs=30, lr=0.05, weight_decay=0.5, decay=("convs.0",), stopping="gcn", patience=5,
                         val_loss_l2=True, quiet=True)
    model, result = train(config, g)
    last = result.history[-1]
    # the run tests the last model, so the last row's penalty is the final model's
    assert last["val_loss_l2"] == pytest.approx(last["val_loss"] + l2_penalty(model, 0.5, ("convs.0",)), rel=1e-6)
    assert all(r["val_loss_l2"] > r["val_loss"] for r in result.history)
    # the rule, replayed on the penalised losses, stops at the epoch the run stopped
    rule = GCNStopping(window=5)
    stops = [rule.step(r["val_loss_l2"], r["val_acc"])[1] for r in result.history]
    assert result.epochs < 30 and stops == [False] * (result.epochs - 1) + [True]


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
    with pytest.raises(CheckpointError, match="run without --resume"):
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


def test_ctrl_c_says_at_which_epoch_and_how_to_resume(tmp_path):
    g = community_graph()
    ckpt = tmp_path / "ckpt.pt"

    def ctrl_c(epoch, row):
        if epoch == 3:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match=r"interrupted at epoch 3; rerun with --resume to continue from "):
        train(TrainConfig(epochs=10, quiet=True), g, checkpoint_path=ckpt, callbacks=(ctrl_c,))
    assert load_checkpoint(ckpt)["epoch"] == 3


def test_resume_with_changed_settings_lists_what_differs(tmp_path):
    g = community_graph()
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(Interrupt):
        train(TrainConfig(epochs=10, lr=0.01, quiet=True), g, checkpoint_path=ckpt, callbacks=(stop_after(2),))
    with pytest.raises(CheckpointError, match=r"other settings \(lr 0.01 -> 0.05\)"):
        train(TrainConfig(epochs=10, lr=0.05, quiet=True), g, checkpoint_path=ckpt, resume=True)
    # quiet changes no result, so it may differ
    train(TrainConfig(epochs=10, lr=0.01, quiet=False), g, checkpoint_path=ckpt, resume=True)


def test_resume_with_another_models_checkpoint_is_refused(tmp_path):
    g = community_graph()
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(Interrupt):
        train(TrainConfig(epochs=10, quiet=True), g, checkpoint_path=ckpt, callbacks=(stop_after(2),))
    with pytest.raises(CheckpointError, match="holds another model's weights"):
        train(TrainConfig(epochs=10, quiet=True), g, model_cls=GAT, checkpoint_path=ckpt, resume=True)


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", None])
def test_a_broken_checkpoint_is_named_without_torchs_weights_only_advice(tmp_path, content):
    g = community_graph()
    ckpt = tmp_path / "ckpt.pt"
    with pytest.raises(Interrupt):
        train(TrainConfig(epochs=10, quiet=True), g, checkpoint_path=ckpt, callbacks=(stop_after(2),))
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[: len(data) // 2] if content is None else content)    # None: truncated
    with pytest.raises(CheckpointError) as err:
        train(TrainConfig(epochs=10, quiet=True), g, checkpoint_path=ckpt, resume=True)
    assert str(ckpt) in str(err.value) and "weights_only" not in str(err.value)


def test_a_non_finite_loss_stops_training_with_a_message():
    g = community_graph()
    x = g.x.clone()
    x[0, 0] = float("nan")
    with pytest.raises(FloatingPointError, match="training loss is nan at epoch 1"):
        train(TrainConfig(epochs=3, quiet=True), g.replace(x=x))


@pytest.mark.parametrize("field, value", [("epochs", 0), ("lr", -1.0), ("patience", 0), ("weight_decay", -1e-4),
                                          ("lr_step", 0), ("clip_grad", 0.0)])
def test_train_config_refuses_non_positive_values(field, value):
    with pytest.raises(ValueError, match=f"{field} must be positive"):
        TrainConfig(**{field: value})
