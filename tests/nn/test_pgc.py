"""PGCConv and its shortest-path distance partitions: a hand-computed case,
partitions against boolean matrix powers, a dense float64 reference, caching, errors."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Graph, ops
from gnnkit.nn import PGCConv
from gnnkit.nn.pgc import distance_partitions
from tests.strategies import small_graphs

# directed path 0 -> 1 -> 2 -> 3 plus a shortcut 0 -> 2
PATH = torch.tensor([[0, 1, 2, 0], [1, 2, 3, 2]])


def test_pgc_hand_computed():
    # F = 1, W_j = 10^j, no bias, normalized; x = [1, 2, 3, 4].
    # S_0(v) = {v}; S_1 = in-neighbours; S_2 = nodes exactly two hops away (0 is one hop from 2, not two).
    # node 0: 1
    # node 1: 2 + 10 * 1                                   = 12
    # node 2: 3 + 10 * mean(x_1, x_0) = 3 + 10 * 1.5       = 18      (S_2(2) is empty)
    # node 3: 4 + 10 * 3 + 100 * mean(x_1, x_0) = 4 + 30 + 150 = 184
    conv = PGCConv(1, 1, r=2, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1))
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]], dtype=torch.float64)
    torch.testing.assert_close(conv(x, PATH), torch.tensor([[1.0], [12.0], [18.0], [184.0]], dtype=torch.float64))
    # without the 1/|S_j(v)| factor: node 2: 3 + 10 * 3 = 33;  node 3: 4 + 30 + 100 * 3 = 334
    conv.normalize = False
    torch.testing.assert_close(conv(x, PATH), torch.tensor([[1.0], [12.0], [33.0], [334.0]], dtype=torch.float64))


def dense_distance(edge_index, n, r):
    """dist[v, u] = the smallest k <= r with a length-k walk u -> v (boolean powers of A[dst, src]); else -1."""
    a = (ops.dense_adjacency(edge_index, n) > 0).float()
    dist = torch.full((n, n), -1, dtype=torch.long)
    reach = torch.eye(n)
    for k in range(r + 1):
        dist[(reach > 0) & (dist < 0)] = k
        reach = ((a @ reach) > 0).float()
    return dist


@given(g=small_graphs(max_nodes=10), r=st.integers(0, 4))
def test_distance_partitions_match_boolean_matrix_powers(g, r):
    parts = distance_partitions(g.adj(), r)
    dist = dense_distance(g.edge_index, g.num_nodes, r)
    assert len(parts) == r + 1
    for j, part in enumerate(parts):
        got = ops.dense_adjacency(part.edge_index, g.num_nodes)
        torch.testing.assert_close(got, (dist == j).float())        # each pair once, in the right partition


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("out_channels", [2, 6])
@given(g=small_graphs(), r=st.integers(0, 3))
def test_pgc_matches_dense_formula(normalize, out_channels, g, r):
    torch.manual_seed(r)
    conv = PGCConv(4, out_channels, r=r, normalize=normalize).double()
    with torch.no_grad():
        conv.bias.uniform_(-1, 1)
    dist = dense_distance(g.edge_index, g.num_nodes, r)
    expected = conv.bias.expand(g.num_nodes, out_channels).clone()
    for j in range(r + 1):
        S = (dist == j).double()                                      # S[v, u] = 1 if sp(u, v) = j
        if normalize:
            S = S / S.sum(1, keepdim=True).clamp(min=1)
        expected = expected + S @ g.x @ conv.weight[j]
    torch.testing.assert_close(conv(g.x, g.edge_index), expected)


def test_pgc_partitions_are_computed_once_per_graph():
    g = Graph(x=torch.randn(4, 3), edge_index=PATH)
    adj = g.adj()
    conv = PGCConv(3, 2, r=2)
    conv(g.x, adj)
    parts = adj.cache[("pgc_partitions", 2)]
    conv(g.x, adj)
    PGCConv(3, 5, r=2)(g.x, adj)                                      # another layer, same r: same object
    assert adj.cache[("pgc_partitions", 2)] is parts
    PGCConv(3, 5, r=1)(g.x, adj)
    assert ("pgc_partitions", 1) in adj.cache


def test_pgc_rejects_negative_filter_size():
    with pytest.raises(ValueError, match="filter size r must be >= 0"):
        PGCConv(2, 2, r=-1)


def test_pgc_rejects_wrong_feature_width():
    with pytest.raises(ValueError, match=r"PGCConv expects x of shape \[N, 2\] \(got \[4, 3\]\)"):
        PGCConv(2, 2)(torch.randn(4, 3), PATH)
