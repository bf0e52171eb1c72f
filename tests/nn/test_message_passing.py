import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import AGGREGATORS, MessagePassing
from tests.strategies import relabel, small_graphs


class EdgeDifference(MessagePassing):
    """A non-linear message (x_src - x_dst)^2, to exercise the gather path."""

    linear_message = False

    def message(self, x_src, x_dst, edge_weight=None, **kwargs):
        return (x_src - x_dst) ** 2


def test_default_message_hand_computed():
    # edges 0->2, 1->2, 2->0; x = [1, 10, 100]
    ei = torch.tensor([[0, 1, 2], [2, 2, 0]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    expected = {"sum": [100.0, 0.0, 11.0], "mean": [100.0, 0.0, 5.5], "max": [100.0, 0.0, 10.0],
                "min": [100.0, 0.0, 1.0]}
    for aggr, values in expected.items():
        assert MessagePassing(aggr).propagate(ei, x).view(-1).tolist() == values


@given(g=small_graphs(), aggr=st.sampled_from(AGGREGATORS), seed=st.integers(0, 2**16))
def test_message_passing_is_permutation_equivariant(g, aggr, seed):
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    for layer in (MessagePassing(aggr), EdgeDifference(aggr)):
        out = layer.propagate(g.edge_index, g.x)
        out_p = layer.propagate(relabel(g.edge_index, perm), g.x[perm])
        torch.testing.assert_close(out_p, out[perm])


@given(g=small_graphs(), aggr=st.sampled_from(["sum", "mean"]))
def test_linear_path_equals_gather_scatter(g, aggr):
    w = torch.rand(g.num_edges, dtype=torch.float64)
    src, dst = g.edge_index
    reference = ops.scatter(g.x[src] * w.unsqueeze(-1), dst, g.num_nodes, aggr)
    torch.testing.assert_close(MessagePassing(aggr).propagate(g.edge_index, g.x, edge_weight=w), reference)


def test_linear_path_never_builds_an_edge_by_feature_tensor(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("message() must not run on the SpMM path")
    layer = MessagePassing("sum")
    monkeypatch.setattr(layer, "message", fail)
    out = layer.propagate(torch.tensor([[0, 1], [1, 0]]), torch.ones(2, 3))
    assert out.tolist() == [[1.0] * 3] * 2


def test_propagate_accepts_cached_adjacency_and_edge_kwargs():
    class EdgeScaled(MessagePassing):
        linear_message = False

        def message(self, x_src, x_dst, edge_weight=None, scale=None):
            return x_src * scale.unsqueeze(-1)

    ei = torch.tensor([[1, 0], [0, 1]])                  # unsorted by target on purpose
    adj = ops.SparseAdj(ei, 2)
    scale = torch.tensor([2.0, 3.0])                     # aligned with ei: 1->0 x2, 0->1 x3
    out = EdgeScaled("sum").propagate(adj, torch.tensor([[1.0], [10.0]]), scale=scale)
    assert out.view(-1).tolist() == [20.0, 3.0]


def test_callable_aggregator_and_zero_edge_graph():
    layer = MessagePassing(aggr=lambda m, dst, n: ops.scatter(m, dst, n, "sum") * 2)
    out = layer.propagate(torch.empty(2, 0, dtype=torch.long), torch.randn(3, 2))
    assert out.tolist() == [[0.0, 0.0]] * 3


def test_rejects_unknown_aggregator():
    with pytest.raises(ValueError, match=r"aggr must be one of .* \(got 'avg'\)"):
        MessagePassing("avg")
