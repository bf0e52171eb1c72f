"""SAGEConv: hand-computed cases for each aggregator, dense float64 references,
the LSTM aggregator's neighbour order, L2 normalization, and errors."""
import itertools

import pytest
import torch
from hypothesis import given

from gnnkit import ops
from gnnkit.nn import SAGEConv
from tests.strategies import small_graphs

X3 = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
E3 = torch.tensor([[0, 2, 1], [1, 1, 2]])          # 0 -> 1, 2 -> 1, 1 -> 2; node 0 has no in-edge


def scalar_sage(aggr):
    """F_in = F_out = 1 with W_self = 1, W_neigh = 10, b = 0 (and W_pool = 1, b_pool = -1.5)."""
    conv = SAGEConv(1, 1, aggr=aggr).double()
    with torch.no_grad():
        conv.lin_neigh.weight.fill_(10.0)
        if conv.lin_self is not None:
            conv.lin_self.weight.fill_(1.0)
        if conv.pool is not None:
            conv.pool.weight.fill_(1.0)
            conv.pool.bias.fill_(-1.5)
    return conv


@pytest.mark.parametrize("aggr, expected", [
    # mean: h_v + 10 * mean(N(v)):  node 0: 1 + 0;  node 1: 2 + 10 * (1 + 3)/2 = 22;  node 2: 3 + 10 * 2 = 23
    ("mean", [1.0, 22.0, 23.0]),
    # gcn: 10 * (h_v + sum N(v)) / (|N(v)| + 1):  node 0: 10 * 1/1 = 10;  node 1: 10 * 6/3 = 20;  node 2: 10 * 5/2 = 25
    ("gcn", [10.0, 20.0, 25.0]),
    # pool: relu(h - 1.5) = [0, 0.5, 1.5];  node 1: 2 + 10 * max(0, 1.5) = 17;  node 2: 3 + 10 * 0.5 = 8;  node 0: 1
    ("pool", [1.0, 17.0, 8.0]),
])
def test_sage_hand_computed(aggr, expected):
    torch.testing.assert_close(scalar_sage(aggr)(X3, E3), torch.tensor(expected, dtype=torch.float64).view(3, 1))


def test_sage_normalize_gives_unit_rows():
    # x = [[3, 4]], no edges, W_self = I, W_neigh = 0: h = [3, 4] -> [0.6, 0.8]
    conv = SAGEConv(2, 2, normalize=True, bias=False).double()
    with torch.no_grad():
        conv.lin_self.weight.copy_(torch.eye(2))
        conv.lin_neigh.weight.zero_()
    out = conv(torch.tensor([[3.0, 4.0]], dtype=torch.float64), torch.empty(2, 0, dtype=torch.long))
    torch.testing.assert_close(out, torch.tensor([[0.6, 0.8]], dtype=torch.float64))


# ------------------------------------------------------------------ dense references
def lstm_last(conv, seq):
    """Last hidden state of the aggregator's LSTM over a [L, F] neighbour sequence."""
    _, (h, _) = conv.lstm(seq.unsqueeze(0))
    return h[-1, 0]


def dense_sage(conv, x, edge_index):
    """W_self h_v + W_neigh AGG(N(v)) + b (gcn: W_neigh mean({v} + N(v)) + b), A[dst, src] dense."""
    n = x.size(0)
    a = ops.dense_adjacency(edge_index, n, dtype=torch.float64)
    deg = a.sum(1, keepdim=True)
    if conv.aggr == "gcn":
        h = ((x + a @ x) / (deg + 1)) @ conv.lin_neigh.weight.t()
    else:
        if conv.aggr == "mean":
            agg = (a @ x) / deg.clamp(min=1)
        else:
            agg = torch.zeros_like(x)
            for v in range(n):
                # neighbours as the eval-mode LSTM reads them: sorted by source id, duplicates repeated
                nbrs = sorted(edge_index[0, edge_index[1] == v].tolist())
                if nbrs and conv.aggr == "pool":
                    agg[v] = torch.relu(conv.pool(x[nbrs])).max(0).values
                elif nbrs:
                    agg[v] = lstm_last(conv, x[nbrs])
        h = x @ conv.lin_self.weight.t() + agg @ conv.lin_neigh.weight.t()
    return h + conv.bias


@pytest.mark.parametrize("aggr", ["mean", "gcn", "pool", "lstm"])
@pytest.mark.parametrize("out_channels", [2, 6])        # narrower and wider than F_in = 4
@given(g=small_graphs())
def test_sage_matches_dense_formula(aggr, out_channels, g):
    torch.manual_seed(0)
    conv = SAGEConv(4, out_channels, aggr=aggr).double().eval()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    torch.testing.assert_close(conv(g.x, g.edge_index), dense_sage(conv, g.x, g.edge_index))


def test_sage_lstm_reads_neighbours_in_a_random_order_when_training():
    torch.manual_seed(0)
    conv = SAGEConv(2, 3, aggr="lstm").double()
    x = torch.randn(4, 2, dtype=torch.float64)
    edge_index = torch.tensor([[1, 2, 3], [0, 0, 0]])
    # every output for node 0 is the LSTM over one of the 3! orders of its neighbours
    candidates = [conv.lin_self(x[0]) + conv.lin_neigh(lstm_last(conv, x[list(p)])) + conv.bias
                  for p in itertools.permutations([1, 2, 3])]
    seen = set()
    for _ in range(30):
        out = conv.train()(x, edge_index)[0]
        match = [k for k, c in enumerate(candidates) if torch.allclose(out, c)]
        assert len(match) == 1
        seen.add(match[0])
    assert len(seen) > 1                                   # the order does change between calls
    # in eval mode the order is fixed: two calls agree
    torch.testing.assert_close(conv.eval()(x, edge_index), conv(x, edge_index))


# ------------------------------------------------------------------ errors
def test_sage_rejects_unknown_aggregator():
    with pytest.raises(ValueError, match="aggr must be one of .*'mean', 'gcn', 'lstm', 'pool'.*got 'sum'"):
        SAGEConv(2, 2, aggr="sum")


def test_sage_rejects_wrong_feature_width():
    with pytest.raises(ValueError, match=r"SAGEConv expects x of shape \[N, 2\] \(got \[3, 1\]\)"):
        SAGEConv(2, 2)(X3.float(), E3)


def test_sage_rejects_transposed_edge_index():
    with pytest.raises(ValueError, match=r"edge_index.t\(\)"):
        SAGEConv(1, 2)(X3.float(), E3.t())


def test_sage_rejects_float_edge_index():
    with pytest.raises(ValueError, match="integer tensor"):
        SAGEConv(1, 2)(X3.float(), E3.float())


def test_sage_pool_ignores_the_weights_of_a_weighted_adjacency():
    # The paper's max-pooling aggregator has no edge weights; a weighted SparseAdj (graph.adj() of a
    # graph with edge_weight) gives the same output as the unweighted one.
    torch.manual_seed(0)
    conv = SAGEConv(4, 3, aggr="pool")
    ei, x = torch.tensor([[0, 1, 2, 2], [1, 2, 0, 1]]), torch.randn(4, 4)
    weighted = ops.SparseAdj(ei, 4, torch.tensor([0.5, -2.0, 3.0, 0.0]))
    torch.testing.assert_close(conv(x, weighted), conv(x, ops.SparseAdj(ei, 4)))
