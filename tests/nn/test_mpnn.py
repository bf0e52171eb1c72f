"""MPNNConv (edge network + GRU) and the Set2Set readout: hand-computed cases,
edge-by-edge float64 references, Set2Set invariance and batching, and errors."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Batch
from gnnkit.nn import MPNNConv, Set2Set
from tests.strategies import small_graphs

X3 = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
E3 = torch.tensor([[0, 2, 1], [1, 1, 2]])          # 0 -> 1, 2 -> 1, 1 -> 2; node 0 has no in-edge


def test_mpnn_hand_computed():
    # d = 1, edge network A(e) = relu(e) (both linears weight 1, bias 0); GRU with every weight and
    # bias 0 except W_in = 1, so r = z = sigmoid(0) = 0.5, n = tanh(m) and h' = 0.5 tanh(m) + 0.5 h.
    # edge features 2, -1, 0.5 on 0->1, 2->1, 1->2:
    #   m_0 = 0;  m_1 = relu(2) * 1 + relu(-1) * 3 = 2;  m_2 = relu(0.5) * 2 = 1
    #   h_0' = 0.5;  h_1' = 0.5 tanh(2) + 1;  h_2' = 0.5 tanh(1) + 1.5
    conv = MPNNConv(1, edge_dim=1, edge_hidden=1).double()
    with torch.no_grad():
        for p in conv.parameters():
            p.zero_()
        conv.edge_net[0].weight.fill_(1.0)
        conv.edge_net[2].weight.fill_(1.0)
        conv.gru.weight_ih[2].fill_(1.0)                     # rows (r, z, n): the candidate's input weight
    e = torch.tensor([[2.0], [-1.0], [0.5]], dtype=torch.float64)
    expected = torch.tensor([[0.5], [0.5 * math.tanh(2) + 1], [0.5 * math.tanh(1) + 1.5]], dtype=torch.float64)
    torch.testing.assert_close(conv(X3, E3, e), expected)


def gru(cell, m, h):
    """GRU equations written out (gate order r, z, n as in torch.nn.GRUCell)."""
    gi = m @ cell.weight_ih.t() + cell.bias_ih
    gh = h @ cell.weight_hh.t() + cell.bias_hh
    d = h.size(1)
    r = torch.sigmoid(gi[:, :d] + gh[:, :d])
    z = torch.sigmoid(gi[:, d:2 * d] + gh[:, d:2 * d])
    n = torch.tanh(gi[:, 2 * d:] + r * gh[:, 2 * d:])
    return (1 - z) * n + z * h


@pytest.mark.parametrize("aggr", ["sum", "mean"])
@given(g=small_graphs(), steps=st.integers(1, 3))
def test_mpnn_matches_edge_by_edge_formula(aggr, g, steps):
    torch.manual_seed(steps)
    conv = MPNNConv(4, edge_dim=2, edge_hidden=5, steps=steps, aggr=aggr).double()
    e = torch.randn(g.num_edges, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    h = g.x
    for _ in range(steps):
        m = torch.zeros_like(h)
        count = torch.zeros(g.num_nodes, 1, dtype=torch.float64)
        for k, (u, v) in enumerate(g.edge_index.t().tolist()):
            A = conv.edge_net(e[k]).view(4, 4)                                   # A(e_uv), d x d
            m[v] += A @ h[u]
            count[v] += 1
        if aggr == "mean":
            m = m / count.clamp(min=1)
        h = gru(conv.gru, m, h)
    torch.testing.assert_close(conv(g.x, g.edge_index, e), h)


# ------------------------------------------------------------------ Set2Set
def test_set2set_hand_computed():
    # With every LSTM parameter 0: gates = sigmoid(0) = 0.5, cell input tanh(0) = 0, so c = 0 and q = 0.
    # Then all scores h_v . q are 0, attention is uniform and r = mean of the graph's rows:
    # graph 0 = rows [1, 2], [3, 4] -> [0, 0, 2, 3];  graph 1 = row [5, 6] -> [0, 0, 5, 6]
    readout = Set2Set(2, processing_steps=3).double()
    with torch.no_grad():
        for p in readout.parameters():
            p.zero_()
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=torch.float64)
    out = readout(x, torch.tensor([0, 0, 1]))
    torch.testing.assert_close(out, torch.tensor([[0, 0, 2, 3], [0, 0, 5, 6]], dtype=torch.float64))


def set2set_reference(readout, x):
    """One graph: q_t = LSTM(q*_{t-1}), a = softmax(x q_t), r = a^T x, q*_t = [q_t, r] (LSTM equations)."""
    lstm, F = readout.lstm, readout.in_channels
    h = c = torch.zeros(F, dtype=torch.float64)
    q_star = torch.zeros(2 * F, dtype=torch.float64)
    for _ in range(readout.processing_steps):
        gates = lstm.weight_ih_l0 @ q_star + lstm.bias_ih_l0 + lstm.weight_hh_l0 @ h + lstm.bias_hh_l0
        i, f, g, o = gates.split(F)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        a = torch.softmax(x @ h, 0)
        q_star = torch.cat([h, a @ x])
    return q_star


@given(graphs=st.lists(small_graphs(max_nodes=6), min_size=1, max_size=4), steps=st.integers(1, 3))
def test_set2set_batch_equals_each_graph_by_the_lstm_equations(graphs, steps):
    torch.manual_seed(steps)
    readout = Set2Set(4, processing_steps=steps).double()
    batch = Batch.from_graphs(graphs)
    expected = torch.stack([set2set_reference(readout, g.x) for g in graphs])
    torch.testing.assert_close(readout(batch.x, batch.batch, batch.num_graphs), expected)


@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_set2set_is_permutation_invariant(g, seed):
    readout = Set2Set(4, processing_steps=2).double()
    batch = torch.arange(g.num_nodes) % 2                                    # two "graphs" interleaved
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(readout(g.x[perm], batch[perm], 2), readout(g.x, batch, 2))


def test_set2set_gradients_reach_every_parameter():
    torch.manual_seed(0)
    readout = Set2Set(3, processing_steps=3).double()
    x = torch.randn(7, 3, dtype=torch.float64, requires_grad=True)
    out = readout(x, torch.tensor([0, 0, 0, 1, 1, 2, 2]))
    (out * torch.randn(out.shape, dtype=torch.float64)).sum().backward()
    for name, p in list(readout.named_parameters()) + [("x", x)]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_set2set_empty_graph_reads_zero():
    readout = Set2Set(2, processing_steps=2).double()
    x = torch.randn(2, 2, dtype=torch.float64)
    out = readout(x, torch.tensor([0, 2]), num_graphs=3)                    # graph 1 has no nodes
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[1, 2:], torch.zeros(2, dtype=torch.float64))


# ------------------------------------------------------------------ errors
def test_mpnn_rejects_state_width_mismatch():
    with pytest.raises(ValueError, match=r"MPNNConv expects x of shape \[N, 4\].*pad or project"):
        MPNNConv(4, edge_dim=1)(torch.randn(3, 2), E3, torch.randn(3, 1))


def test_mpnn_rejects_missing_or_misshaped_edge_attr():
    conv = MPNNConv(1, edge_dim=2)
    with pytest.raises(ValueError, match=r"edge_attr of shape \[E, edge_dim\] = \[3, 2\] \(got None\)"):
        conv(X3.float(), E3, None)
    with pytest.raises(ValueError, match=r"\(got \[3\]\).*unsqueeze"):
        conv(X3.float(), E3, torch.randn(3))


def test_mpnn_rejects_bad_options():
    with pytest.raises(ValueError, match="aggr must be 'sum' or 'mean'"):
        MPNNConv(2, 2, aggr="max")
    with pytest.raises(ValueError, match="steps must be >= 1"):
        MPNNConv(2, 2, steps=0)


def test_set2set_rejects_bad_inputs():
    readout = Set2Set(2, processing_steps=1)
    with pytest.raises(ValueError, match=r"batch must have shape \[N\] = \[3\]"):
        readout(torch.randn(3, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"Set2Set expects x of shape \[N, 2\]"):
        readout(torch.randn(3, 5))
    with pytest.raises(ValueError, match="processing_steps must be >= 1"):
        Set2Set(2, processing_steps=0)
