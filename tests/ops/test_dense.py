import pytest
import torch
from hypothesis import given

from gnnkit import Batch, Graph, ops
from tests.strategies import small_graphs


def _two_graphs():
    g1 = Graph(x=torch.tensor([[1.0], [2.0]]), edge_index=torch.tensor([[0], [1]]), num_nodes=2)
    g2 = Graph(x=torch.tensor([[3.0], [4.0], [5.0]]), edge_index=torch.tensor([[0, 2, 2], [1, 1, 1]]), num_nodes=3)
    return Batch.from_graphs([g1, g2])


def test_to_dense_batch_pads_each_graph_to_the_largest():
    b = _two_graphs()
    x, mask = ops.to_dense_batch(b.x, b.batch, b.num_graphs)
    # graph 0: rows 1, 2 then one padded row of 0; graph 1: rows 3, 4, 5
    torch.testing.assert_close(x, torch.tensor([[[1.0], [2.0], [0.0]], [[3.0], [4.0], [5.0]]]))
    assert mask.tolist() == [[True, True, False], [True, True, True]]


def test_to_dense_adj_rows_are_targets_and_duplicates_add_up():
    b = _two_graphs()
    adj = ops.to_dense_adj(b.edge_index, b.batch, b.num_graphs)
    expected = torch.zeros(2, 3, 3)
    expected[0, 1, 0] = 1.0          # 0 -> 1 in graph 0
    expected[1, 1, 0] = 1.0          # 0 -> 1 in graph 1
    expected[1, 1, 2] = 2.0          # 2 -> 1 twice
    torch.testing.assert_close(adj, expected)


def test_to_dense_adj_takes_edge_weights_and_a_larger_max_num_nodes():
    b = _two_graphs()
    w = torch.tensor([0.5, 1.0, 2.0, 3.0])
    adj = ops.to_dense_adj(b.edge_index, b.batch, b.num_graphs, max_num_nodes=4, edge_weight=w)
    assert adj.shape == (2, 4, 4)
    assert adj[0, 1, 0] == 0.5 and adj[1, 1, 2] == 5.0 and adj[1, 1, 0] == 1.0


@given(g=small_graphs(max_nodes=8), h=small_graphs(max_nodes=8))
def test_dense_form_equals_each_graph_alone(g, h):
    b = Batch.from_graphs([g, h])
    x, mask = ops.to_dense_batch(b.x, b.batch, 2)
    adj = ops.to_dense_adj(b.edge_index, b.batch, 2, dtype=torch.float64)
    for i, one in enumerate((g, h)):
        n = one.num_nodes
        torch.testing.assert_close(x[i, :n], one.x)
        assert bool(mask[i, :n].all()) and not bool(mask[i, n:].any())
        torch.testing.assert_close(adj[i, :n, :n], _dense(one.edge_index, n))
        assert float(adj[i, n:].abs().sum() + adj[i, :, n:].abs().sum()) == 0.0


def _dense(edge_index, n):
    a = torch.zeros(n, n, dtype=torch.float64)
    for s, d in edge_index.t().tolist():
        a[d, s] += 1.0
    return a


def test_dense_ops_reject_unsorted_batch_and_cross_graph_edges():
    with pytest.raises(ValueError, match="batch must be sorted"):
        ops.to_dense_batch(torch.ones(3, 1), torch.tensor([1, 0, 1]))
    with pytest.raises(ValueError, match="joins two different graphs"):
        ops.to_dense_adj(torch.tensor([[0], [2]]), torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match=r"shape \[2, E\]"):
        ops.to_dense_adj(torch.zeros(3, 2, dtype=torch.long), torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match="max_num_nodes is 1"):
        ops.to_dense_batch(torch.ones(3, 1), torch.tensor([0, 0, 1]), max_num_nodes=1)
    with pytest.raises(ValueError, match="x has 2 rows but batch has 3"):
        ops.to_dense_batch(torch.ones(2, 1), torch.tensor([0, 0, 1]))
