import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import AGGREGATORS, MessagePassing
from tests.strategies import relabel, small_graphs


class EdgeDifference(MessagePassing):
    """A non-linear message (x_src - x_dst)^2 that reads the target."""

    def message(self, x_src, x_dst):
        return (x_src - x_dst) ** 2

    def forward(self, x, edge_index):
        return self.propagate(edge_index, x, x_dst=x)


class Doubled(MessagePassing):
    """A linear message, overridden: sum aggregation must still run it, never the SpMM."""

    def message(self, x_src, x_dst):
        return 2 * x_src


class GatedSum(MessagePassing):
    """An edge-feature message and an update."""

    def message(self, x_src, x_dst, edge_attr):
        return edge_attr * x_src

    def update(self, h_neigh, x):
        return x + h_neigh


def test_default_message_hand_computed():
    # edges 0->2, 1->2, 2->0; x = [1, 10, 100]
    ei = torch.tensor([[0, 1, 2], [2, 2, 0]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    expected = {"sum": [100.0, 0.0, 11.0], "mean": [100.0, 0.0, 5.5], "max": [100.0, 0.0, 10.0],
                "min": [100.0, 0.0, 1.0]}
    for aggr, values in expected.items():
        assert MessagePassing(aggr).propagate(ei, x).view(-1).tolist() == values


def test_edge_features_update_and_both_edge_orders_hand_computed():
    # edges (input order) 1->0 gate 2, 0->1 gate 3, 2->1 gate 0.5; x = [1, 10, 100]
    ei = torch.tensor([[1, 0, 2], [0, 1, 1]])
    x = torch.tensor([[1.0], [10.0], [100.0]])
    gate = torch.tensor([[2.0], [3.0], [0.5]])
    layer = GatedSum("sum")
    # node 0: 1 + 2*10 = 21; node 1: 10 + 3*1 + 0.5*100 = 63; node 2: 100 + 0
    expected = [21.0, 63.0, 100.0]
    assert layer.propagate(ei, x, edge_attr=gate).view(-1).tolist() == expected
    adj = ops.SparseAdj(ei, 3)                                          # sorted by target: same order here
    assert layer.propagate(adj, x, edge_attr=gate).view(-1).tolist() == expected
    shuffled = torch.tensor([2, 0, 1])
    adj = ops.SparseAdj(ei[:, shuffled], 3)                             # perm is not the identity now
    assert layer.propagate(adj, x, edge_attr=gate[shuffled]).view(-1).tolist() == expected
    sorted_gate = gate[shuffled][adj.perm]                              # already in the adjacency's order
    assert layer.propagate(adj, x, edge_attr=sorted_gate, edge_order="adjacency").view(-1).tolist() == expected


def test_an_overridden_message_always_runs_even_with_sum(monkeypatch):
    def no_spmm(*args, **kwargs):
        raise AssertionError("a subclass that overrides message must never take the SpMM path")

    monkeypatch.setattr(ops, "spmm", no_spmm)
    ei, x = torch.tensor([[0, 1], [1, 1]]), torch.tensor([[1.0], [10.0]])
    for aggr in ("sum", "mean"):
        layer = Doubled(aggr)
        assert not layer.uses_spmm()
        assert layer.propagate(ei, x).view(-1).tolist() == ([0.0, 22.0] if aggr == "sum" else [0.0, 11.0])
    plain = MessagePassing("sum")                                       # overridden on the instance too
    plain.message = lambda x_src, x_dst, edge_weight=None: 3 * x_src
    assert not plain.uses_spmm() and plain.propagate(ei, x).view(-1).tolist() == [0.0, 33.0]


def test_the_default_message_takes_the_spmm_path(monkeypatch):
    calls = []
    spmm = ops.spmm
    monkeypatch.setattr(ops, "spmm", lambda *a, **k: calls.append(1) or spmm(*a, **k))
    monkeypatch.setattr(ops, "scatter", lambda *a, **k: pytest.fail("no [E, F] messages on the SpMM path"))
    layer = MessagePassing("sum")
    assert layer.uses_spmm() and layer.uses_spmm(["edge_weight"]) and not layer.uses_spmm(["edge_attr"])
    out = layer.propagate(torch.tensor([[0, 1], [1, 0]]), torch.ones(2, 3), edge_weight=torch.tensor([2.0, 3.0]))
    assert calls == [1] and out.tolist() == [[3.0] * 3, [2.0] * 3]
    assert not MessagePassing("max").uses_spmm() and not MessagePassing(lambda m, d, n: m).uses_spmm()


def test_a_subclass_setting_linear_message_is_refused_at_class_creation():
    with pytest.raises(TypeError, match=r"Legacy sets linear_message, which MessagePassing no longer reads"):
        class Legacy(MessagePassing):
            linear_message = True

            def message(self, x_src, x_dst):
                return x_src


@given(g=small_graphs(), aggr=st.sampled_from(AGGREGATORS), seed=st.integers(0, 2**16))
def test_message_passing_is_permutation_equivariant(g, aggr, seed):
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    for layer in (MessagePassing(aggr), EdgeDifference(aggr)):
        out = layer(g.x, g.edge_index) if isinstance(layer, EdgeDifference) else layer.propagate(g.edge_index, g.x)
        if isinstance(layer, EdgeDifference):
            out_p = layer(g.x[perm], relabel(g.edge_index, perm))
        else:
            out_p = layer.propagate(relabel(g.edge_index, perm), g.x[perm])
        torch.testing.assert_close(out_p, out[perm])


@given(g=small_graphs(), aggr=st.sampled_from(AGGREGATORS), weighted=st.booleans())
def test_every_path_equals_gather_and_scatter(g, aggr, weighted):
    w = torch.rand(g.num_edges, dtype=torch.float64) if weighted else None
    src, dst = g.edge_index
    msg = g.x[src] if w is None else g.x[src] * w.unsqueeze(-1)
    reference = ops.scatter(msg, dst, g.num_nodes, aggr)
    kwargs = {} if w is None else {"edge_weight": w}
    torch.testing.assert_close(MessagePassing(aggr).propagate(g.edge_index, g.x, **kwargs), reference)
    adj = ops.SparseAdj(g.edge_index, g.num_nodes, w)                    # a weighted adjacency's own weights
    torch.testing.assert_close(MessagePassing(aggr).propagate(adj, g.x), reference)


def test_callable_aggregator_and_zero_edge_graph():
    layer = MessagePassing(aggr=lambda m, dst, n: ops.scatter(m, dst, n, "sum") * 2)
    out = layer.propagate(torch.empty(2, 0, dtype=torch.long), torch.randn(3, 2))
    assert out.tolist() == [[0.0, 0.0]] * 3
    assert layer.propagate(torch.tensor([[0], [1]]), torch.ones(2, 1)).view(-1).tolist() == [0.0, 2.0]


def test_errors():
    with pytest.raises(ValueError, match=r"aggr must be one of .* \(got 'avg'\)"):
        MessagePassing("avg")
    ei, x = torch.tensor([[0, 1], [1, 0]]), torch.ones(2, 1)
    with pytest.raises(ValueError, match=r"edge_order must be one of \('input', 'adjacency'\) \(got 'sorted'\)"):
        MessagePassing().propagate(ei, x, edge_order="sorted")
    with pytest.raises(ValueError, match=r"edge tensor 'edge_attr' must have one row per edge, \[2, \*\] \(got \[3, 1\]\)"):
        GatedSum().propagate(ei, x, edge_attr=torch.ones(3, 1))


def test_custom_layer_doc_runs(capsys):
    # docs/custom_layer.md: every ```python block, in order, in one namespace (its asserts included).
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "custom_layer.md").read_text()
    blocks = [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]
    assert len(blocks) >= 5
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/custom_layer.md block {i + 1}", "exec"), namespace)
    assert isinstance(namespace["conv"], MessagePassing)
    assert capsys.readouterr().out.strip() == "torch.Size([5, 4])"


def test_the_default_message_names_edge_tensors_it_would_ignore():
    from gnnkit.nn import MessagePassing

    edge_index = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="the default message reads only edge_weight, not edge_attr; override"):
        MessagePassing().propagate(edge_index, torch.ones(2, 3), edge_attr=torch.ones(2, 4))
