import networkx as nx
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Batch, Graph, ops
from tests.strategies import small_graphs


# ---------------------------------------------------------------- validation
def test_graph_rejects_out_of_range_edge_index_naming_index_and_num_nodes():
    with pytest.raises(ValueError, match=r"edge_index.*node 5.*num_nodes is 3"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 5], [1, 2]]))


def test_graph_rejects_negative_index():
    with pytest.raises(ValueError, match=r"edge_index holds the negative node id -1; node ids must be in \[0, 3\)"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, -1], [1, 2]]))


def test_graph_rejects_float_edge_index():
    with pytest.raises(ValueError, match=r"edge_index must be an integer tensor.*float32.*\.long\(\)"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0.0, 1.0], [1.0, 2.0]]))


@pytest.mark.parametrize("dtype", [torch.bool, torch.float64, torch.uint8, torch.int16])
def test_graph_accepts_only_int64_or_int32_edge_index(dtype):
    with pytest.raises(ValueError, match=rf"edge_index must be an integer tensor \(int64 or int32\), got dtype {dtype}"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]).to(dtype))
    for ok in (torch.int64, torch.int32):
        assert Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]], dtype=ok)).num_edges == 2


def test_graph_rejects_transposed_edge_index_with_hint():
    with pytest.raises(ValueError, match=r"shape \[2, E\] \(got \[3, 2\]\); if it is \[E, 2\], pass edge_index.t\(\)"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2], [2, 0]]))


def test_graph_rejects_mask_of_wrong_length():
    with pytest.raises(ValueError, match=r"train_mask is node-level and must have 3 rows \(num_nodes\), got shape \[4\]"):
        Graph(x=torch.randn(3, 2), train_mask=torch.zeros(4, dtype=torch.bool))


def test_graph_rejects_non_bool_mask():
    with pytest.raises(ValueError, match=r"val_mask must be a bool tensor"):
        Graph(x=torch.randn(3, 2), val_mask=torch.zeros(3))


def test_graph_rejects_edge_attr_of_wrong_length():
    with pytest.raises(ValueError, match=r"edge_attr is edge-level and must have 2 rows"):
        Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), edge_attr=torch.randn(3, 4))


def test_graph_rejects_x_rows_differing_from_num_nodes():
    with pytest.raises(ValueError, match=r"x is node-level and must have 5 rows"):
        Graph(x=torch.randn(3, 2), num_nodes=5)


def test_graph_needs_num_nodes_without_x():
    with pytest.raises(ValueError, match=r"num_nodes is unknown"):
        Graph(edge_index=torch.tensor([[0], [1]]))


def test_extra_tensor_needs_a_level():
    with pytest.raises(ValueError, match=r"extra tensor 'pos' has no batching level"):
        Graph(x=torch.randn(3, 2), extra={"pos": torch.randn(3, 3)})


def test_num_nodes_is_stored_not_guessed_from_edges():
    g = Graph(edge_index=torch.tensor([[0], [1]]), num_nodes=10)
    assert g.num_nodes == 10 and g.num_edges == 1


def test_y_level_inferred_and_overridable():
    g = Graph(x=torch.randn(3, 2), y=torch.tensor([0, 1, 1]))
    assert g.level("y") == "node"
    g = Graph(x=torch.randn(3, 2), y=torch.tensor(1))
    assert g.level("y") == "graph"
    g = Graph(x=torch.randn(1, 2), y=torch.tensor([1]), y_level="node")
    assert g.level("y") == "node"


def test_replace_returns_new_graph_and_keeps_levels():
    g = Graph(x=torch.randn(3, 2), extra={"pos": torch.randn(3, 3)}, levels={"pos": "node"})
    h = g.replace(x=torch.zeros(3, 5))
    assert h.x.shape == (3, 5) and g.x.shape == (3, 2) and h.level("pos") == "node"


# ------------------------------------------------------------------- batching
def test_batch_worked_example_from_docstring():
    g1 = Graph(x=torch.randn(2, 1), edge_index=torch.tensor([[0], [1]]), y=torch.tensor(1))
    g2 = Graph(x=torch.randn(3, 1), edge_index=torch.tensor([[0, 2], [1, 1]]), y=torch.tensor(0))
    b = Batch.from_graphs([g1, g2])
    assert b.edge_index.tolist() == [[0, 2, 4], [1, 3, 3]]
    assert b.batch.tolist() == [0, 0, 1, 1, 1]
    assert b.ptr.tolist() == [0, 2, 5]
    assert b.y.tolist() == [1, 0]
    assert b.num_graphs == 2


def test_batch_with_zero_edge_and_isolated_node_graphs():
    g1 = Graph(x=torch.randn(1, 2))                                            # one isolated node
    g2 = Graph(x=torch.randn(4, 2), edge_index=torch.tensor([[0, 1], [1, 0]]))  # nodes 2, 3 isolated
    g3 = Graph(x=torch.randn(2, 2))
    b = Batch.from_graphs([g1, g2, g3])
    assert b.num_nodes == 7 and b.edge_index.tolist() == [[1, 2], [2, 1]]
    back = b.to_graphs()
    assert [g.num_nodes for g in back] == [1, 4, 2] and [g.num_edges for g in back] == [0, 2, 0]


def test_batch_rejects_mismatched_fields():
    g1 = Graph(x=torch.randn(2, 1), y=torch.tensor(1))
    g2 = Graph(x=torch.randn(2, 1))
    with pytest.raises(ValueError, match=r"graph 1 has fields .* but graph 0 has"):
        Batch.from_graphs([g1, g2])


def test_batch_errors_name_the_first_graph_that_differs_in_a_long_list():
    ok = [Graph(x=torch.randn(2, 3), edge_index=torch.tensor([[0], [1]])) for _ in range(5)]
    wide = Graph(x=torch.randn(2, 4), edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"field 'x': its width is 3 in graph 0 but 4 in graph 3"):
        Batch.from_graphs(ok[:3] + [wide] + ok[3:] + [wide])
    graph_y = Graph(x=torch.randn(2, 3), y=torch.tensor(1))
    node_y = Graph(x=torch.randn(2, 3), y=torch.tensor([0, 1]), levels={"y": "node"})
    with pytest.raises(ValueError, match=r"field 'y' is node-level in graph 2 but graph-level in graph 0"):
        Batch.from_graphs([graph_y, graph_y, node_y])


def test_batch_rejects_empty_list():
    with pytest.raises(ValueError, match="at least one graph"):
        Batch.from_graphs([])


def _graph_with_all_levels(g: Graph, seed: int) -> Graph:
    gen = torch.Generator().manual_seed(seed)
    return g.replace(
        edge_attr=torch.randn(g.num_edges, 3, generator=gen),
        y=torch.randint(0, 3, (), generator=gen),
        train_mask=torch.rand(g.num_nodes, generator=gen) > 0.5,
        anchor=torch.randint(0, g.num_nodes, (2,), generator=gen),   # node ids: shifted when batched
        levels={"y": "graph", "anchor": "index"},
    )


@given(graphs=st.lists(small_graphs(), min_size=1, max_size=5), seed=st.integers(0, 1000))
def test_batch_round_trips(graphs, seed):
    graphs = [_graph_with_all_levels(g, seed + i) for i, g in enumerate(graphs)]
    b = Batch.from_graphs(graphs)
    assert b.num_nodes == sum(g.num_nodes for g in graphs)
    back = b.to_graphs()
    assert len(back) == len(graphs)
    for g, h in zip(graphs, back):
        assert g.num_nodes == h.num_nodes
        assert sorted(g.keys()) == sorted(h.keys())
        for k in g.keys():
            assert g.level(k) == h.level(k)
            torch.testing.assert_close(g.get(k), h.get(k))


def test_batch_shifts_index_fields_by_node_offset():
    g1 = Graph(x=torch.randn(2, 1), extra={"anchor": torch.tensor([1])}, levels={"anchor": "index"})
    g2 = Graph(x=torch.randn(3, 1), extra={"anchor": torch.tensor([0, 2])}, levels={"anchor": "index"})
    assert Batch.from_graphs([g1, g2]).anchor.tolist() == [1, 2, 4]


# ---------------------------------------------------------------- conversions
def test_networkx_round_trip_keeps_attributes():
    nxg = nx.Graph()
    nxg.add_node("a", x=[1.0, 0.0], label=0)
    nxg.add_node("b", x=[0.0, 1.0], label=1)
    nxg.add_node("c", x=[1.0, 1.0], label=1)
    nxg.add_edge("a", "b", weight=2.0)
    nxg.add_edge("b", "c", weight=3.0)
    g = Graph.from_networkx(nxg)
    assert g.num_nodes == 3 and g.num_edges == 4           # both directions of 2 undirected edges
    assert g.x.tolist() == [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    assert g.label.tolist() == [0, 1, 1]
    weights = {(s, d): w for s, d, w in zip(*g.edge_index.tolist(), g.weight.tolist())}
    assert weights == {(0, 1): 2.0, (1, 0): 2.0, (1, 2): 3.0, (2, 1): 3.0}
    back = g.to_networkx()
    assert back.nodes[2]["label"] == 1 and back.edges[1, 2]["weight"] == 3.0
    assert back.number_of_edges() == 4


def test_scipy_round_trip():
    g = Graph(edge_index=torch.tensor([[0, 1, 2], [1, 2, 0]]), num_nodes=4)
    m = g.to_scipy()
    assert m.shape == (4, 4) and m.toarray()[0, 1] == 1 and m.nnz == 3
    h = Graph.from_scipy(sp.csr_matrix(m))
    assert h.num_nodes == 4 and sorted(zip(*h.edge_index.tolist())) == [(0, 1), (1, 2), (2, 0)]


def test_torch_geometric_round_trip():
    pytest.importorskip("torch_geometric", reason="torch_geometric (the 'bench' extra) is not installed")
    g = Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]), y=torch.tensor([0, 1, 0]))
    data = g.to_pyg()
    assert data.num_nodes == 3 and torch.equal(data.edge_index, g.edge_index)
    h = Graph.from_pyg(data)
    assert h.num_nodes == 3 and torch.equal(h.x, g.x) and h.level("y") == "node"


def test_adj_is_built_once_and_cached():
    g = Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    first = g.adj()
    assert g.adj() is first
    g.set("edge_index", torch.tensor([[2], [0]]), "index")     # new edges: the cached adjacency goes
    assert g.adj() is not first and g.adj().src.tolist() == [2] and g.adj().dst.tolist() == [0]


def test_to_keeps_the_graph_when_it_is_already_on_the_device():
    g = Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
    assert g.to("cpu") is g and g.to(torch.device("cpu")) is g
    b = Batch.from_graphs([g, g])
    assert b.to("cpu") is b


# ------------------------------------------------------------ assignment and PyG habits (issues 18, 19)
def _tri():
    return Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]))


def test_assigning_x_goes_through_set_and_reaches_to_and_batch():
    g = _tri()
    new_x = torch.ones(3, 2)
    g.x = new_x
    assert g.get("x") is new_x                                   # the field itself, not a shadowing attribute
    assert "x" not in g.__dict__
    assert torch.equal(g.to("cpu").x, new_x) and torch.equal(g.clone().x, new_x)
    assert torch.equal(Batch.from_graphs([g, g]).x, torch.ones(6, 2))


def test_assigning_a_wrong_shape_x_is_refused_like_set():
    g = _tri()
    with pytest.raises(ValueError, match=r"x is node-level and must have 3 rows \(num_nodes\), got shape \[4, 2\]"):
        g.x = torch.ones(4, 2)


def test_assigning_edge_index_drops_the_cached_adjacency():
    g = _tri()
    old = g.adj()
    g.edge_index = torch.tensor([[0], [2]])
    assert g.adj() is not old and g.adj().num_edges == 1
    with pytest.raises(ValueError, match="edge_index refers to node 5 but num_nodes is 3"):
        g.edge_index = torch.tensor([[0], [5]])


def test_assigning_edge_weight_drops_the_cached_adjacency():
    g = _tri()
    g.adj()
    g.edge_weight = torch.tensor([1.0, 2.0, 3.0, 4.0])
    assert torch.equal(g.adj().weight.sort().values, torch.tensor([1.0, 2.0, 3.0, 4.0]))


def test_assigning_an_unknown_tensor_name_asks_for_a_level():
    g = _tri()
    with pytest.raises(ValueError, match=r"'pos' is a new field and needs a batching level: g.set\('pos', tensor, level\)"):
        g.pos = torch.zeros(3, 2)
    g.set("pos", torch.zeros(3, 2), "node")
    g.pos = torch.ones(3, 2)                                      # known now: its level is kept
    assert g.level("pos") == "node" and torch.equal(g["pos"], torch.ones(3, 2))


def test_assigning_num_nodes_or_a_non_tensor_field_is_refused():
    g = _tri()
    with pytest.raises(AttributeError, match=r"num_nodes is fixed .* g.replace\(num_nodes=N"):
        g.num_nodes = 5
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor \(got list\)"):
        g.x = [[0.0, 1.0]] * 3
    with pytest.raises(AttributeError, match="num_edges is computed"):
        g.num_edges = 3
    g.name = "triangle"                                           # plain Python attributes still work
    assert g.name == "triangle"


def test_item_access_and_assignment_go_through_set():
    g = _tri()
    assert g["x"] is g.x
    g["x"] = torch.zeros(3, 2)
    assert torch.equal(g.x, torch.zeros(3, 2))
    with pytest.raises(KeyError, match="graph has no field 'pos'"):
        g["pos"]
    with pytest.raises(ValueError, match="x is node-level and must have 3 rows"):
        g["x"] = torch.zeros(2, 2)


@pytest.mark.parametrize("bad", [3.5, 3.0, "3", True, torch.tensor(3.0)])
def test_num_nodes_must_be_an_integer(bad):
    with pytest.raises(TypeError, match="num_nodes must be an int"):
        Graph(edge_index=torch.tensor([[0], [1]]), num_nodes=bad)


def test_num_nodes_accepts_numpy_and_tensor_integers():
    import numpy as np

    assert Graph(num_nodes=np.int64(4)).num_nodes == 4 and Graph(num_nodes=torch.tensor(4)).num_nodes == 4


def test_pyg_habits_feature_counts_clone_and_structure_checks():
    g = Graph(x=torch.randn(4, 3), edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]), edge_attr=torch.randn(3, 5))
    assert g.num_node_features == 3 and g.num_edge_features == 5
    assert Graph(num_nodes=2).num_node_features == 0 and Graph(num_nodes=2).num_edge_features == 0
    assert not g.is_undirected()                                  # 1 -> 2 has no reverse
    assert g.has_isolated_nodes()                                 # node 3
    assert not g.has_duplicate_edges() and not g.has_self_loops()
    c = g.clone()
    c.x[0, 0] = 100.0
    assert g.x[0, 0] != 100.0 and c.num_nodes == 4 and c.level("edge_attr") == "edge"
    u = Graph(edge_index=torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]]), num_nodes=3)
    assert u.is_undirected() and not u.has_isolated_nodes()


def test_duplicate_edges_are_kept_counted_and_detectable():
    g = Graph(x=torch.ones(2, 1), edge_index=torch.tensor([[0, 0], [1, 1]]))
    assert g.has_duplicate_edges() and g.num_edges == 2
    assert g.adj().num_edges == 2                                 # counted twice, as in PyG
    assert ops.spmm(g.adj(), g.x).view(-1).tolist() == [0.0, 2.0]  # node 1 gets node 0's message twice
    ei, _ = ops.coalesce(g.edge_index, None, 2)
    assert ei.tolist() == [[0], [1]]


def test_batch_of_graphs_with_different_feature_widths_names_field_and_widths():
    a = Graph(x=torch.randn(2, 3), edge_index=torch.tensor([[0], [1]]))
    b = Graph(x=torch.randn(2, 4), edge_index=torch.tensor([[0], [1]]))
    with pytest.raises(ValueError, match=r"cannot batch field 'x': its width is 3 in graph 0 but 4 in graph 1"):
        Batch.from_graphs([a, b])


def test_nan_in_x_is_accepted_at_construction():
    # The choice (issue 18): non-finite x is allowed in a Graph; the trainer stops at the first
    # non-finite loss (tests/train/test_trainer.py::test_a_non_finite_loss_stops_training_with_a_message).
    x = torch.randn(3, 2)
    x[1, 1] = float("nan")
    assert torch.isnan(Graph(x=x).x).sum() == 1


def test_a_huge_adjacency_says_how_much_memory_it_needs(monkeypatch):
    monkeypatch.setenv("GNNKIT_MEMORY_LIMIT", str(10**9))
    g = Graph(edge_index=torch.tensor([[0], [1]]), num_nodes=10**9)
    with pytest.raises(MemoryError, match=r"sparse adjacency .*num_nodes=1,000,000,000.* would need 8.0 GB but 1.0 GB"):
        g.adj()
