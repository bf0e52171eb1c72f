"""RecurrentGNN (Scarselli et al., 2009) and GatedGraphConv (Li et al., 2016):
hand-computed cases, dense float64 references, the fixed point and its
gradient, the contraction penalty, properties and errors."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Batch, Graph, ops
from gnnkit.nn import GatedGraphConv, RecurrentGNN
from tests.strategies import relabel, small_graphs

# edges 0 -> 1, 2 -> 1, 1 -> 2; node 3 isolated
EDGES = torch.tensor([[0, 2, 1], [1, 1, 2]])


def contracting_gnn(in_channels=4, out_channels=3, edge_channels=0, seed=0):
    """A float64 RecurrentGNN whose state weights are small enough to be a contraction on small graphs."""
    torch.manual_seed(seed)
    gnn = RecurrentGNN(in_channels, out_channels, edge_channels, hidden_channels=5, max_iter=300, tol=1e-12).double()
    with torch.no_grad():
        gnn.lin_state.weight.mul_(0.05)
    return gnn


def gnn_transition(gnn, x, edge_index, edge_attr, h):
    """F_w(h)_v = sum over edges u -> v of f_w(x_v, x_(v,u), x_u, h_u), one edge at a time (the paper's sum)."""
    W1 = torch.cat([gnn.lin_dst.weight] + ([gnn.lin_edge.weight] if gnn.lin_edge is not None else [])
                   + [gnn.lin_src.weight, gnn.lin_state.weight], 1)
    out = torch.zeros_like(h)
    for e, (u, v) in enumerate(edge_index.t().tolist()):
        parts = [x[v]] + ([edge_attr[e]] if edge_attr is not None else []) + [x[u], h[u]]
        z = torch.cat(parts)
        out[v] = out[v] + gnn.lin_out.weight @ torch.tanh(W1 @ z + gnn.lin_dst.bias) + gnn.lin_out.bias
    return out


# ---------------------------------------------------------------- RecurrentGNN
def test_recurrent_hand_computed_without_state_feedback():
    # S = hidden = F = 1, W_state = 0, so F(h) does not depend on h: h = F(0) after 1 step, and the
    # second step sees no change (2 iterations). f = tanh(x_v + 2 x_u) + 0.5, x = [1, 0, -1, 5]:
    # h_1 = [tanh(0 + 2) + .5] + [tanh(0 - 2) + .5] = 1, h_2 = tanh(-1 + 0) + .5, h_0 = h_3 = 0
    gnn = RecurrentGNN(1, 1, hidden_channels=1).double()
    with torch.no_grad():
        gnn.lin_dst.weight.fill_(1.0), gnn.lin_dst.bias.fill_(0.0), gnn.lin_src.weight.fill_(2.0)
        gnn.lin_state.weight.fill_(0.0), gnn.lin_out.weight.fill_(1.0), gnn.lin_out.bias.fill_(0.5)
    x = torch.tensor([[1.0], [0.0], [-1.0], [5.0]], dtype=torch.float64)
    h, info = gnn(x, EDGES, return_info=True)
    torch.testing.assert_close(h.view(-1), torch.tensor([0.0, 1.0, math.tanh(-1) + 0.5, 0.0], dtype=torch.float64))
    assert info.iterations == 2 and info.converged
    assert info.penalty.item() == 0.0                   # the Jacobian is 0


@given(g=small_graphs(), with_edges=st.booleans())
def test_recurrent_state_is_the_fixed_point_of_the_paper_equation(g, with_edges):
    gnn = contracting_gnn(edge_channels=2 if with_edges else 0)
    e = torch.randn(g.num_edges, 2, dtype=torch.float64) if with_edges else None
    h, info = gnn(g.x, g.edge_index, e, return_info=True)
    assert info.converged
    torch.testing.assert_close(gnn_transition(gnn, g.x, g.edge_index, e, h.detach()), h.detach())


def test_recurrent_gradient_equals_backprop_through_the_unrolled_iteration():
    g = Graph(x=torch.randn(5, 4, dtype=torch.float64), edge_index=torch.tensor([[0, 1, 2, 3, 4, 1], [1, 2, 3, 4, 0, 3]]))
    e = torch.randn(6, 2, dtype=torch.float64)
    gnn = contracting_gnn(edge_channels=2)
    with torch.no_grad():
        gnn.lin_state.weight.mul_(8.0)                  # a slower contraction: many iterations matter
    h, info = gnn(g.x, g.edge_index, e, return_info=True)
    assert info.iterations > 5
    h.pow(2).sum().backward()
    implicit = {n: p.grad.clone() for n, p in gnn.named_parameters()}
    gnn.zero_grad()
    h_unrolled = torch.zeros(5, 3, dtype=torch.float64)
    for _ in range(info.iterations):
        h_unrolled = gnn_transition(gnn, g.x, g.edge_index, e, h_unrolled)
    h_unrolled.pow(2).sum().backward()
    for name, p in gnn.named_parameters():
        torch.testing.assert_close(implicit[name], p.grad, rtol=1e-7, atol=1e-9, msg=name)


def test_recurrent_penalty_equals_the_jacobian_column_norms():
    # no duplicate edges, so each column of dF/dh is the per-edge blocks W_2 diag(1 - tanh^2) W_state
    g = Graph(x=torch.randn(4, 4, dtype=torch.float64), edge_index=torch.tensor([[0, 1, 2, 0], [1, 2, 0, 3]]))
    gnn = contracting_gnn(seed=1)
    with torch.no_grad():
        gnn.lin_state.weight.mul_(60.0)
    gnn.max_iter = 3
    _, info = gnn(g.x, g.edge_index, return_info=True)
    # the penalty is taken at the last iterate: run the same number of steps from 0
    h_prev = torch.zeros(4, 3, dtype=torch.float64)
    for _ in range(info.iterations):
        h_prev = gnn_transition(gnn, g.x, g.edge_index, None, h_prev)
    jac = torch.autograd.functional.jacobian(lambda s: gnn_transition(gnn, g.x, g.edge_index, None, s), h_prev)
    columns = jac.reshape(12, 12).abs().sum(0)          # || dF / dh_{u,j} ||_1
    expected = torch.relu(columns - gnn.contraction).pow(2).sum()
    assert expected.item() > 0
    torch.testing.assert_close(info.penalty, expected)


def test_recurrent_penalty_training_restores_convergence():
    # a transition far from a contraction does not converge; minimizing the paper's penalty fixes that
    torch.manual_seed(0)
    g = Graph(x=0.1 * torch.randn(6, 4, dtype=torch.float64),
              edge_index=torch.tensor([[0, 1, 2, 3, 4, 5, 0, 2], [1, 2, 3, 4, 5, 0, 3, 5]]))
    gnn = contracting_gnn(seed=2)
    gnn.max_iter, gnn.tol = 40, 1e-8
    with torch.no_grad():                               # steep, unsaturated tanh around h = 0
        gnn.lin_state.weight.mul_(10.0), gnn.lin_out.weight.mul_(4.0)
        gnn.lin_out.bias.zero_(), gnn.lin_dst.bias.zero_()
    _, before = gnn(g.x, g.edge_index, return_info=True)
    assert not before.converged and before.iterations == 40 and before.penalty.item() > 0
    opt = torch.optim.Adam(gnn.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        _, info = gnn(g.x, g.edge_index, return_info=True)
        info.penalty.backward()
        opt.step()
    _, after = gnn(g.x, g.edge_index, return_info=True)
    assert after.penalty.item() < 1e-3 * before.penalty.item() and after.converged


@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_recurrent_is_permutation_equivariant(g, seed):
    gnn = contracting_gnn()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(gnn(g.x[perm], relabel(g.edge_index, perm)), gnn(g.x, g.edge_index)[perm])


@given(gs=st.lists(small_graphs(), min_size=1, max_size=4))
def test_recurrent_batch_equals_graph_by_graph(gs):
    gnn = contracting_gnn()
    b = Batch.from_graphs(gs)
    torch.testing.assert_close(gnn(b.x, b.edge_index), torch.cat([gnn(g.x, g.edge_index) for g in gs]))


def test_recurrent_gradients_reach_every_parameter():
    g = Graph(x=torch.randn(5, 4, dtype=torch.float64), edge_index=torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]))
    gnn = contracting_gnn(edge_channels=2)
    with torch.no_grad():
        gnn.lin_state.weight.mul_(200.0)                # make the penalty active too
    gnn.max_iter = 5
    h, info = gnn(g.x, g.adj(), torch.randn(5, 2, dtype=torch.float64), return_info=True)
    (h.pow(2).sum() + info.penalty).backward()
    for name, p in gnn.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


def test_recurrent_zero_edges_and_self_loops():
    gnn = contracting_gnn()
    x = torch.randn(3, 4, dtype=torch.float64)
    h, info = gnn(x, torch.empty(2, 0, dtype=torch.long), return_info=True)
    assert bool((h == 0).all()) and info.iterations == 1 and info.converged   # no neighbours: h = 0
    h = gnn(x, torch.tensor([[0, 1], [0, 1]]))
    torch.testing.assert_close(h, gnn_transition(gnn, x, torch.tensor([[0, 1], [0, 1]]), None, h.detach()))


def test_recurrent_errors():
    with pytest.raises(ValueError, match=r"contraction \(mu\) must be in \(0, 1\)"):
        RecurrentGNN(2, 2, contraction=1.5)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        RecurrentGNN(2, 2, max_iter=0)
    gnn = RecurrentGNN(2, 3, edge_channels=2)
    with pytest.raises(ValueError, match=r"needs edge_attr of shape \[E, 2\] = \[2, 2\] \(got None\)"):
        gnn(torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match=r"expects x of shape \[N, 2\]"):
        gnn(torch.randn(3, 5), torch.tensor([[0, 1], [1, 2]]))
    assert "max_iter=50" in repr(gnn) and "edge_channels=2" in repr(gnn)


# ---------------------------------------------------------------- GatedGraphConv
def dense_ggnn(conv, x, edge_index, edge_type):
    """h^(t) = GRU(sum_tau A_tau h^(t-1) W_tau + b, h^(t-1)) with the GRU written out (Li et al. eq. 3-6)."""
    n, C = x.size(0), conv.out_channels
    h = torch.cat([x, torch.zeros(n, C - x.size(1), dtype=x.dtype)], 1)
    A = [ops.dense_adjacency(edge_index[:, edge_type == t], n, dtype=x.dtype) for t in range(conv.num_edge_types)]
    W_i, W_h = conv.gru.weight_ih.split(C), conv.gru.weight_hh.split(C)   # (reset, update, new)
    b_i, b_h = conv.gru.bias_ih.split(C), conv.gru.bias_hh.split(C)
    for _ in range(conv.num_steps):
        a = sum(A[t] @ h @ conv.weight[t] for t in range(conv.num_edge_types)) + conv.bias
        r = torch.sigmoid(a @ W_i[0].t() + b_i[0] + h @ W_h[0].t() + b_h[0])
        z = torch.sigmoid(a @ W_i[1].t() + b_i[1] + h @ W_h[1].t() + b_h[1])
        h_new = torch.tanh(a @ W_i[2].t() + b_i[2] + r * (h @ W_h[2].t() + b_h[2]))
        h = (1 - z) * h_new + z * h
    return h


def test_gated_hand_computed_one_step():
    # C = 1, W = 2, b = 0; GRU weights 0 except input -> candidate = 1: r = z = 1/2, n = tanh(a),
    # h' = tanh(a) / 2 + h / 2. Edges 0 -> 1, 2 -> 1, 1 -> 2, x = [1, 0, 3, -2]:
    # a = [0, 2 * (1 + 3), 2 * 0, 0] -> h' = [1/2, tanh(8)/2, 3/2, -1]
    conv = GatedGraphConv(1, num_steps=1).double()
    with torch.no_grad():
        for p in conv.gru.parameters():
            p.zero_()
        conv.gru.weight_ih[2, 0] = 1.0
        conv.weight.fill_(2.0)
    out = conv(torch.tensor([[1.0], [0.0], [3.0], [-2.0]], dtype=torch.float64), EDGES).view(-1)
    torch.testing.assert_close(out, torch.tensor([0.5, math.tanh(8) / 2, 1.5, -1.0], dtype=torch.float64))


@given(g=small_graphs(), steps=st.integers(1, 3), types=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_gated_matches_dense_gru_equations(g, steps, types, seed):
    torch.manual_seed(seed)
    conv = GatedGraphConv(6, num_steps=steps, num_edge_types=types).double()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    edge_type = torch.randint(0, types, (g.num_edges,))
    out = conv(g.x, g.edge_index, edge_type if types > 1 else None)
    torch.testing.assert_close(out, dense_ggnn(conv, g.x, g.edge_index, edge_type if types > 1 else
                                               torch.zeros(g.num_edges, dtype=torch.long)))


def test_gated_mean_aggregation_divides_by_in_degree():
    conv = GatedGraphConv(2, num_steps=1, aggr="mean").double()
    x = torch.randn(4, 2, dtype=torch.float64)
    summed = GatedGraphConv(2, num_steps=1).double()
    summed.load_state_dict(conv.state_dict())
    # node 1 has 2 in-edges: its mean aggregate is half the sum; feed that sum / 2 through weight / 2
    with torch.no_grad():
        summed.weight.mul_(torch.tensor([0.5], dtype=torch.float64))
    assert torch.allclose(conv(x, EDGES)[1], summed(x, EDGES)[1])


@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_gated_is_permutation_equivariant(g, seed):
    torch.manual_seed(seed)
    conv = GatedGraphConv(5, num_steps=2, num_edge_types=2).double()
    edge_type = torch.randint(0, 2, (g.num_edges,))
    perm = torch.randperm(g.num_nodes)
    torch.testing.assert_close(conv(g.x[perm], relabel(g.edge_index, perm), edge_type),
                               conv(g.x, g.edge_index, edge_type)[perm])


@given(gs=st.lists(small_graphs(), min_size=1, max_size=4))
def test_gated_batch_equals_graph_by_graph(gs):
    conv = GatedGraphConv(5, num_steps=2).double()
    b = Batch.from_graphs(gs)
    torch.testing.assert_close(conv(b.x, b.edge_index), torch.cat([conv(g.x, g.edge_index) for g in gs]))


def test_gated_gradients_reach_every_parameter():
    g = Graph(x=torch.randn(5, 3, dtype=torch.float64), edge_index=torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]]))
    conv = GatedGraphConv(4, num_steps=2, num_edge_types=2).double()
    conv(g.x, g.adj(), torch.tensor([0, 1, 0, 1, 0])).pow(2).sum().backward()
    for name, p in conv.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), name


def test_gated_zero_edges_and_self_loops():
    conv = GatedGraphConv(3, num_steps=2).double()
    x = torch.randn(3, 2, dtype=torch.float64)
    for ei in (torch.empty(2, 0, dtype=torch.long), torch.tensor([[0, 1], [0, 1]])):
        torch.testing.assert_close(conv(x, ei), dense_ggnn(conv, x, ei, torch.zeros(ei.size(1), dtype=torch.long)))


def test_gated_errors():
    conv = GatedGraphConv(3, num_steps=2, num_edge_types=2)
    with pytest.raises(ValueError, match=r"F_in <= out_channels=3 \(got \[2, 5\]\)"):
        conv(torch.randn(2, 5), EDGES[:, :0])
    with pytest.raises(ValueError, match="needs edge_type"):
        conv(torch.randn(4, 2), EDGES)
    with pytest.raises(ValueError, match=r"edge_type values must be in \[0, 2\)"):
        conv(torch.randn(4, 2), EDGES, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"shape \[E\] = \[3\]"):
        conv(torch.randn(4, 2), EDGES, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="aggr must be"):
        GatedGraphConv(3, num_steps=1, aggr="max")
    with pytest.raises(ValueError, match="num_steps and num_edge_types must be >= 1"):
        GatedGraphConv(3, num_steps=0)
    assert "num_steps=2, num_edge_types=2" in repr(conv)
