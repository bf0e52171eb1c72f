"""tasks/graph.py: GraphClassification as a Task."""
import pytest
import torch
from torch import nn

from gnnkit import Graph
from gnnkit.nn import global_add_pool
from gnnkit.tasks import GraphClassification, Task


def graphs():
    # graph i has i + 1 nodes, features 1, label i % 2
    return [Graph(x=torch.ones(i + 1, 1), edge_index=torch.zeros(2, 0, dtype=torch.long), y=torch.tensor(i % 2))
            for i in range(6)]


class SizeModel(nn.Module):
    """Logits [0, w * size]: predicts class 1 for big graphs when w > 0."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(1.0))

    def forward(self, batch):
        size = global_add_pool(batch.x, batch.batch, batch.num_graphs)      # [B, 1]
        return torch.cat([torch.zeros_like(size), self.w * (size - 3.5)], 1)


def test_a_training_epoch_covers_every_training_graph_once():
    task = GraphClassification(graphs(), [0, 1, 2, 3], [4], [5], batch_size=3)
    assert isinstance(task, Task) and task.model_args() == {"in_channels": 1, "out_channels": 2}
    batches = list(task.train_batches())
    assert [b.num_graphs for b in batches] == [3, 1]
    sizes = sorted(int(n) for b in batches for n in torch.diff(b.ptr))
    assert sizes == [1, 2, 3, 4]


def test_iters_per_epoch_draws_that_many_batches():
    task = GraphClassification(graphs(), [0, 1, 2, 3, 4], [5], [5], batch_size=2, iters_per_epoch=7)
    assert [b.num_graphs for b in task.train_batches()] == [2] * 7


def test_loss_and_accuracy_by_hand():
    task = GraphClassification(graphs(), [0, 1, 2, 3], [4, 5], [4, 5], batch_size=4)
    # sizes 5, 6 -> logits [0, 1.5], [0, 2.5]; labels 0, 1: one right
    result = task.evaluate(SizeModel(), "val")
    expected = (torch.nn.functional.softplus(torch.tensor(1.5)) + torch.nn.functional.softplus(torch.tensor(-2.5))) / 2
    assert result["acc"] == 0.5 and result["loss"] == pytest.approx(expected.item(), rel=1e-6)


def test_an_auxiliary_loss_is_added():
    class WithAux(SizeModel):
        def forward(self, batch):
            return super().forward(batch), torch.tensor(0.25)

    task = GraphClassification(graphs(), [0, 1, 2, 3], [4, 5], [4, 5], batch_size=4)
    plain, aux = task.evaluate(SizeModel(), "val")["loss"], task.evaluate(WithAux(), "val")["loss"]
    assert aux == pytest.approx(plain + 0.25)


def test_refusals_name_the_problem():
    with pytest.raises(ValueError, match="train_idx refers to graph 9 but there are 6 graphs"):
        GraphClassification(graphs(), [0, 9], [1], [2])
    with pytest.raises(ValueError, match="no node features x"):
        GraphClassification([Graph(num_nodes=2, y=torch.tensor(0))], [0], [0], [0])
    task = GraphClassification(graphs(), [0, 1], [2], [3])

    class Wrong(nn.Module):
        def forward(self, batch):
            return batch.x                       # per node, not per graph

    with pytest.raises(ValueError, match="must return \\[B, C\\] logits, one row per graph"):
        task.evaluate(Wrong(), "val")
