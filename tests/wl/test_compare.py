"""distinguishes(): GIN-sum tells Figure 3's pairs apart, mean and max cannot (Xu et al. 2019, Section 5)."""
import pytest
import torch

from gnnkit import Graph
from gnnkit.models import GIN
from gnnkit.wl import distinguishes, wl_test

G, R = 0, 1     # two node colours (one-hot x)


def coloured(pairs, colours):
    e = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    return Graph(x=torch.nn.functional.one_hot(torch.tensor(colours), 2).float(),
                 edge_index=torch.cat([e, e.flip(0)], 1), num_nodes=len(colours))


# (a) every node sees 2 vs 3 neighbours of one colour: a triangle vs K4 (mean and max fail).
A = (coloured([(0, 1), (1, 2), (2, 0)], [G] * 3),
     coloured([(i, j) for i in range(4) for j in range(i + 1, 4)], [G] * 4))
# (b) every node sees {g, r} vs {g, g, r} (max fails, mean does not): the 4-cycle g-g-r-r vs a graph whose
# green 4-cycle 0-1-2-3 hangs on red nodes 4 (greens 0, 1) and 5 (greens 2, 3), reds joined.
B = (coloured([(0, 1), (1, 2), (2, 3), (3, 0)], [G, G, R, R]),
     coloured([(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (1, 4), (2, 5), (3, 5), (4, 5)], [G, G, G, G, R, R]))
# (c) every node sees {g, r} vs {g, g, r, r} (mean and max fail): the 4-cycle g-g-r-r vs a 4-regular graph on
# 4 greens and 4 reds, each node with two green and two red neighbours.
_greens, _reds = [(0, 1), (1, 2), (2, 3), (3, 0)], [(4, 5), (5, 6), (6, 7), (7, 4)]
_across = [(0, 4), (0, 5), (1, 5), (1, 6), (2, 6), (2, 7), (3, 7), (3, 4)]
C = (B[0], coloured(_greens + _reds + _across, [G] * 4 + [R] * 4))
PAIRS = {"a": A, "b": B, "c": C}


def _neighbour_colours(g):
    src, dst = g.edge_index
    return sorted(tuple(sorted(g.x[src[dst == v]].argmax(1).tolist())) for v in range(g.num_nodes))


def test_the_pairs_have_the_figure_3_neighbourhoods():
    assert set(_neighbour_colours(A[0])) == {(G, G)} and set(_neighbour_colours(A[1])) == {(G, G, G)}
    assert set(_neighbour_colours(B[0])) == {(G, R)} and set(_neighbour_colours(B[1])) == {(G, G, R)}
    assert set(_neighbour_colours(C[1])) == {(G, G, R, R)}
    for g1, g2 in PAIRS.values():     # and 1-WL tells every pair apart (sizes differ: iteration 0)
        assert wl_test((g1.edge_index, g1.num_nodes), (g2.edge_index, g2.num_nodes),
                       g1.x.argmax(1), g2.x.argmax(1)).verdict == "not isomorphic"


def _model(aggr, seed=0):
    torch.manual_seed(seed)
    model = GIN(2, 16, 2, num_layers=3, aggr=aggr, dropout=0.0)
    model.eval()
    return model


@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_gin_sum_tells_every_pair_apart(pair):
    assert distinguishes(_model("sum"), *PAIRS[pair])


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("seed", [0, 1])
def test_max_fails_on_every_pair(pair, seed):
    assert not distinguishes(_model("max", seed), *PAIRS[pair])


@pytest.mark.parametrize("seed", [0, 1])
def test_mean_fails_on_a_and_c_but_not_b(seed):
    model = _model("mean", seed)
    assert not distinguishes(model, *A) and not distinguishes(model, *C)
    assert distinguishes(model, *B)


def test_distinguishes_keeps_the_training_mode():
    model = _model("sum")
    model.train()
    distinguishes(model, *A)
    assert model.training
