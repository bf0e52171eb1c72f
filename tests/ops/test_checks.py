"""ops.check_edge_index and ops.check_node_features: one rule, one message, wherever the input enters."""
import pytest
import torch

from gnnkit import Graph, ops
from gnnkit.nn import ChebConv, GCNConv, NN4GConv, PGCConv, SAGEConv

EDGES = torch.tensor([[0, 1], [1, 2]])


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32])
def test_check_edge_index_accepts_int64_and_int32(dtype):
    ops.check_edge_index(EDGES.to(dtype), 3)
    ops.check_edge_index(torch.empty(2, 0, dtype=dtype), 0)


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int16, torch.float32, torch.float64])
def test_check_edge_index_refuses_every_other_dtype(dtype):
    with pytest.raises(ValueError, match=rf"edge_index must be an integer tensor \(int64 or int32\), got dtype "
                                         rf"{dtype}; convert with edge_index.long\(\)"):
        ops.check_edge_index(EDGES.to(dtype), 3)


@pytest.mark.parametrize("edge_index, message", [
    (torch.tensor([[0, 1], [1, 2], [2, 0]]), r"shape \[2, E\] \(got \[3, 2\]\); if it is \[E, 2\], pass edge_index.t\(\)"),
    (torch.tensor([0, 1, 2]), r"shape \[2, E\] \(got \[3\]\)$"),
    (torch.tensor([[0, -1], [1, 2]]), r"negative node id -1; node ids must be in \[0, 3\)"),
    (torch.tensor([[0, 3], [1, 2]]), r"refers to node 3 but num_nodes is 3 \(the rows of x\); set num_nodes"),
])
def test_check_edge_index_names_the_problem_and_the_fix(edge_index, message):
    with pytest.raises(ValueError, match=message):
        ops.check_edge_index(edge_index, 3)


def test_check_edge_index_refuses_a_list():
    with pytest.raises(TypeError, match=r"edge_index must be a torch.Tensor of shape \[2, E\] \(got list\)"):
        ops.check_edge_index([[0, 1], [1, 2]], 3)


@pytest.mark.parametrize("bad", [EDGES.bool(), EDGES.float(), torch.tensor([[0, 5], [1, 2]]),
                                 torch.tensor([[0, 1], [1, 2], [2, 0]])])
@pytest.mark.parametrize("layer", [GCNConv(2, 2), ChebConv(2, 2, K=2), PGCConv(2, 2), SAGEConv(2, 2)])
def test_a_layer_and_graph_give_the_same_message_for_a_bad_edge_index(layer, bad):
    with pytest.raises((ValueError, TypeError)) as from_graph:
        Graph(x=torch.randn(3, 2), edge_index=bad)
    with pytest.raises(type(from_graph.value)) as from_layer:
        layer(torch.randn(3, 2), bad)
    assert str(from_layer.value) == str(from_graph.value)


def test_check_node_features_messages():
    ops.check_node_features(torch.randn(3, 4), 4, "GCNConv")
    ops.check_node_features(torch.randn(3, 7), None, "GINConv")
    with pytest.raises(ValueError, match=r"^GCNConv expects x of shape \[N, 4\] \(got \[3, 5\]\)$"):
        ops.check_node_features(torch.randn(3, 5), 4, "GCNConv")
    with pytest.raises(ValueError, match=r"GINConv expects x of shape \[N, F\] \(got \[3\]\); use x.unsqueeze"):
        ops.check_node_features(torch.randn(3), None, "GINConv", hint="; use x.unsqueeze(-1)")
    with pytest.raises(ValueError, match=r"GCNConv expects floating-point x \(got torch.int64\); use x.float\(\)"):
        ops.check_node_features(torch.ones(3, 4, dtype=torch.long), 4, "GCNConv")
    with pytest.raises(TypeError, match=r"GCNConv expects x, a tensor of shape \[N, 4\] \(got list\)"):
        ops.check_node_features([[1.0] * 4], 4, "GCNConv")


def test_check_node_features_accepts_sparse_x():
    ops.check_node_features(torch.eye(3).to_sparse(), 3, "GCNConv")


@pytest.mark.parametrize("layer, name", [(GCNConv(2, 2), "GCNConv"), (NN4GConv(2, 2), "NN4GConv"),
                                         (PGCConv(2, 2), "PGCConv"), (ChebConv(2, 2, K=2), "ChebConv")])
def test_layers_share_the_x_message(layer, name):
    with pytest.raises(ValueError, match=rf"^{name} expects x of shape \[N, 2\] \(got \[3, 1\]\)$"):
        layer(torch.randn(3, 1), EDGES)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_check_node_features_names_the_half_precision_dtype(dtype):
    with pytest.raises(ValueError, match=rf"GCNConv computes in float32 or float64 \(got x of dtype {dtype}\).*x.float\(\)"):
        ops.check_node_features(torch.randn(3, 2).to(dtype), 2, "GCNConv")


def test_check_allocation_names_what_and_how_much(monkeypatch):
    from gnnkit.ops.checks import check_allocation

    monkeypatch.setenv("GNNKIT_MEMORY_LIMIT", "2e9")
    check_allocation(10**9, "one GB")                         # fits: silent
    with pytest.raises(MemoryError, match=r"the thing would need 8.0 GB but 2.0 GB is available; check num_nodes"):
        check_allocation(8 * 10**9, "the thing")
    monkeypatch.setenv("GNNKIT_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="GNNKIT_MEMORY_LIMIT must be a number of bytes"):
        check_allocation(8 * 10**9, "the thing")
