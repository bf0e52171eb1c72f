"""models/stgcn.py, models/tgcn.py, models/forecast_baselines.py: forecasting models, [B, T, N] -> [B, H, N]."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.models import (STGCN, TGCN, GraphOnlyGCN, HistoricalAverage, LastValue, NodeGRU, build_model)
from tests.strategies import relabel, small_graphs

PATH = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


def dense_gcn_adj(edge_index, n):
    A = ops.dense_adjacency(edge_index, n).double() + torch.eye(n, dtype=torch.float64)
    d = A.sum(1).pow(-0.5)
    return d[:, None] * A * d[None, :]


@pytest.mark.parametrize("name, args", [
    ("stgcn", {"spatial": "cheb", "hidden_channels": 8, "spatial_channels": 4}),
    ("stgcn", {"spatial": "first", "hidden_channels": 8, "spatial_channels": 4}),
    ("tgcn", {"hidden_channels": 8}), ("node_gru", {"hidden_channels": 8}), ("gcn_only", {"hidden_channels": 8}),
    ("historical_average", {}), ("last_value", {}),
])
def test_forecasting_models_map_windows_to_horizons(name, args):
    model = build_model(name, in_channels=1, out_channels=4, input_len=12, **args)
    x = torch.randn(5, 12, 3)
    out = model(x, PATH)
    assert out.shape == (5, 4, 3)
    if list(model.parameters()):
        out.square().sum().backward()
        assert all(p.grad is not None for p in model.parameters())


@settings(max_examples=15)
@given(g=small_graphs(min_nodes=2, max_nodes=8, undirected=True, self_loops=False), seed=st.integers(0, 2**16),
       spatial=st.sampled_from(["cheb", "first"]))
def test_stgcn_is_permutation_equivariant_over_sensors(g, seed, spatial):
    torch.manual_seed(seed)
    model = STGCN(1, 3, input_len=9, hidden_channels=6, spatial_channels=3, spatial=spatial).double().eval()
    x = torch.randn(2, 9, g.num_nodes, dtype=torch.float64)
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    out = model(x, g.edge_index)                                             # [2, 3, N]
    out_p = model(x[:, :, perm], relabel(g.edge_index, perm))
    torch.testing.assert_close(out_p, out[:, :, perm])


@settings(max_examples=15)
@given(g=small_graphs(min_nodes=2, max_nodes=8, undirected=True, self_loops=False), seed=st.integers(0, 2**16))
def test_tgcn_is_permutation_equivariant_over_sensors(g, seed):
    torch.manual_seed(seed)
    model = TGCN(1, 2, input_len=4, hidden_channels=5).double()
    x = torch.randn(2, 4, g.num_nodes, dtype=torch.float64)
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(model(x[:, :, perm], relabel(g.edge_index, perm)), model(x, g.edge_index)[:, :, perm])


def test_tgcn_matches_dense_gru_cell_formula():
    torch.manual_seed(0)
    model = TGCN(1, 2, input_len=3, hidden_channels=4).double()
    x = torch.randn(2, 3, 3, dtype=torch.float64)
    A = dense_gcn_adj(PATH, 3)
    h = torch.zeros(2, 3, 4, dtype=torch.float64)
    for t in range(3):
        xh = torch.cat([x[:, t, :, None], h], -1)                             # [B, N, 1 + F]
        gates = torch.sigmoid(A @ xh @ model.gates.weight + model.gates.bias)
        u, r = gates[..., :4], gates[..., 4:]
        c = torch.tanh(A @ torch.cat([x[:, t, :, None], r * h], -1) @ model.candidate.weight + model.candidate.bias)
        h = u * h + (1 - u) * c
    expected = (h @ model.out.weight.t() + model.out.bias).transpose(1, 2)
    torch.testing.assert_close(model(x, PATH), expected)


def test_node_gru_runs_each_sensor_alone():
    torch.manual_seed(0)
    model = NodeGRU(1, 2, input_len=5, hidden_channels=3).double()
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    out = model(x, None)
    for n in range(4):
        _, h = model.gru(x[:, :, n, None])
        torch.testing.assert_close(out[:, :, n], model.out(h[0]))


def test_graph_only_gcn_matches_dense_formula():
    torch.manual_seed(0)
    model = GraphOnlyGCN(1, 2, input_len=4, hidden_channels=5).double().eval()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    A = dense_gcn_adj(PATH, 3)
    feats = x.transpose(1, 2)                                               # [B, N, T]: time as features
    h = torch.relu(A @ feats @ model.conv1.weight + model.conv1.bias)
    h = torch.relu(A @ h @ model.conv2.weight + model.conv2.bias)
    torch.testing.assert_close(model(x, PATH), model.out(h).transpose(1, 2))


def test_historical_average_and_last_value_hand_computed():
    x = torch.tensor([1.0, 2.0, 6.0]).view(1, 3, 1)                          # one window, one sensor
    assert HistoricalAverage(1, 2, input_len=3)(x, None).view(-1).tolist() == [3.0, 3.0]
    assert LastValue(1, 2, input_len=3)(x, None).view(-1).tolist() == [6.0, 6.0]


def test_forecasting_model_errors():
    with pytest.raises(ValueError, match="input_len=8 is too short for two ST-Conv blocks"):
        STGCN(1, 2, input_len=8)
    with pytest.raises(ValueError, match=r"expected x of shape \[B, 12, N, 1\]"):
        STGCN(1, 2, input_len=12)(torch.randn(2, 10, 3), PATH)
    with pytest.raises(ValueError, match=r"expected x of shape \[B, 4, N, 1\]"):
        TGCN(1, 2, input_len=4)(torch.randn(2, 4, 3, 2), PATH)
