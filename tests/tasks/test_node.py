"""tasks/node.py: NodeClassification as a Task (steps, metrics, evaluation, refusals)."""
import pytest
import torch
from torch import nn

from gnnkit import Graph
from gnnkit.tasks import NodeClassification, Step, Task


class Fixed(nn.Module):
    """A 'model' returning given logits (one parameter so it can be trained)."""

    def __init__(self, logits):
        super().__init__()
        self.logits = nn.Parameter(logits.clone())

    def forward(self, x, adj):
        return self.logits


def graph():
    y = torch.tensor([0, 1, 1, 0])
    masks = dict(train_mask=torch.tensor([True, True, False, False]), val_mask=torch.tensor([False, False, True, False]),
                 test_mask=torch.tensor([False, False, False, True]))
    return Graph(x=torch.eye(4), edge_index=torch.tensor([[0, 1], [1, 0]]), y=y, **masks)


def test_node_classification_is_a_task_and_counts_only_masked_nodes():
    g = graph()
    task = NodeClassification.transductive(g)
    assert isinstance(task, Task) and task.model_args() == {"in_channels": 4, "out_channels": 2}
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])   # node 2 wrong, others right
    (item,) = task.train_batches()
    step = task.loss(Fixed(logits), item)
    assert isinstance(step, Step) and step.size == 2
    # cross-entropy of [2, 0] for its class: log(1 + e^-2)
    torch.testing.assert_close(step.loss, torch.log1p(torch.exp(torch.tensor(-2.0))))
    assert task.train_metrics([step]) == {"acc": 1.0}
    val, test = task.evaluate(Fixed(logits), "val"), task.evaluate(Fixed(logits), "test")
    assert val["acc"] == 0.0 and test["acc"] == 1.0
    assert val["loss"] == pytest.approx(2 + torch.log1p(torch.exp(torch.tensor(-2.0))).item())


def test_evaluate_restores_training_mode_and_takes_no_gradient():
    model = Fixed(torch.zeros(4, 2)).train()
    task = NodeClassification.transductive(graph())
    task.evaluate(model, "test")
    assert model.training and model.logits.grad is None


def test_refusals_name_the_problem():
    g = graph()
    with pytest.raises(ValueError, match="split must be one of"):
        NodeClassification.transductive(g).evaluate(Fixed(torch.zeros(4, 2)), "dev")
    with pytest.raises(ValueError, match="empty train_mask"):
        NodeClassification([(g, torch.zeros(4, dtype=torch.bool))], [(g, None)], [(g, None)])
    unlabelled = g.replace(y=torch.tensor([0, -1, 1, 0]))
    with pytest.raises(ValueError, match=r"the train split counts a node with label -1"):
        NodeClassification.transductive(unlabelled)
    task = NodeClassification.transductive(g.replace(y=torch.tensor([0, 5, 1, 0])))
    with pytest.raises(ValueError, match="label 5 is out of range for a model with 2 classes"):
        task.loss(Fixed(torch.zeros(4, 2)), task.train[0])
