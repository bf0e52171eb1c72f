"""GINConv and GINEConv: hand-computed cases, dense float64 references, the GIN
paper's expressiveness ablation in miniature, learned eps, and errors."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from gnnkit import ops
from gnnkit.nn import GINConv, GINEConv
from tests.strategies import small_graphs

X3 = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
E3 = torch.tensor([[0, 2, 1], [1, 1, 2]])          # 0 -> 1, 2 -> 1, 1 -> 2; node 0 has no in-edge


# ------------------------------------------------------------------ hand-computed
@pytest.mark.parametrize("aggr, expected", [
    # (1 + 0.5) h_v + AGG:  node 0: 1.5*1 + 0 (no neighbours)
    #   sum:  node 1: 1.5*2 + (1 + 3) = 7;       node 2: 1.5*3 + 2 = 6.5
    #   mean: node 1: 1.5*2 + (1 + 3)/2 = 5;     node 2: 4.5 + 2 = 6.5
    #   max:  node 1: 1.5*2 + max(1, 3) = 6;     node 2: 4.5 + 2 = 6.5
    ("sum", [1.5, 7.0, 6.5]), ("mean", [1.5, 5.0, 6.5]), ("max", [1.5, 6.0, 6.5]),
])
def test_gin_hand_computed(aggr, expected):
    conv = GINConv(nn.Identity(), eps=0.5, aggr=aggr)
    torch.testing.assert_close(conv(X3, E3), torch.tensor(expected, dtype=torch.float64).view(3, 1))


def test_gin_hand_computed_edge_weights():
    # weights 2 (0->1), 0.5 (2->1), -1 (1->2), eps = 0:
    # node 1: 2 + 2*1 + 0.5*3 = 5.5;  node 2: 3 - 1*2 = 1;  node 0: 1
    conv = GINConv(nn.Identity())
    w = torch.tensor([2.0, 0.5, -1.0], dtype=torch.float64)
    torch.testing.assert_close(conv(X3, E3, w), torch.tensor([[1.0], [5.5], [1.0]], dtype=torch.float64))


def test_gin_narrow_linear_is_moved_inside_the_aggregation_exactly():
    # nn = Linear(2, 1) with weight [1, 2], bias 0.5; x = [[1, 0], [0, 1], [1, 1]], edges as E3, eps = 0
    # z = h_v + sum_u h_u: z0 = [1, 0], z1 = [0, 1] + [1, 0] + [1, 1] = [2, 2], z2 = [1, 1] + [0, 1] = [1, 2]
    # out = z . [1, 2] + 0.5: 1.5, 6.5, 5.5
    lin = nn.Linear(2, 1).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0]]))
        lin.bias.fill_(0.5)
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    torch.testing.assert_close(GINConv(lin)(x, E3), torch.tensor([[1.5], [6.5], [5.5]], dtype=torch.float64))


def test_gine_hand_computed():
    # edge features (already F_in = 1 wide) -2, 1, 0.5 on 0->1, 2->1, 1->2; eps = 0:
    # node 1: 2 + relu(1 - 2) + relu(3 + 1) = 6;  node 2: 3 + relu(2 + 0.5) = 5.5;  node 0: 1
    conv = GINEConv(nn.Identity(), in_channels=1)
    e = torch.tensor([[-2.0], [1.0], [0.5]], dtype=torch.float64)
    torch.testing.assert_close(conv(X3, E3, e), torch.tensor([[1.0], [6.0], [5.5]], dtype=torch.float64))


# ------------------------------------------------------------------ dense references
def dense_gin(conv, x, edge_index, weight=None):
    """MLP((1 + eps) h_v + AGG_u w_uv h_u) with A[dst, src] dense; max by looping over nodes."""
    n = x.size(0)
    a = ops.dense_adjacency(edge_index, n, weight, dtype=torch.float64)
    count = ops.dense_adjacency(edge_index, n, dtype=torch.float64)
    if conv.aggr == "sum":
        agg = a @ x
    elif conv.aggr == "mean":
        agg = (a @ x) / count.sum(1, keepdim=True).clamp(min=1)
    else:
        w = torch.ones(edge_index.size(1), dtype=torch.float64) if weight is None else weight
        agg = torch.zeros_like(x)
        for v in range(n):
            into = edge_index[1] == v
            if into.any():
                agg[v] = (x[edge_index[0, into]] * w[into].unsqueeze(-1)).max(0).values
    return conv.nn((1 + conv.eps) * x + agg)


@pytest.mark.parametrize("aggr", ["sum", "mean", "max"])
@pytest.mark.parametrize("narrow", [False, True])
@given(g=small_graphs(), weighted=st.booleans())
def test_gin_matches_dense_formula(aggr, narrow, g, weighted):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 2), nn.ReLU()) if narrow else \
        nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    conv = GINConv(mlp, eps=0.3, train_eps=True, aggr=aggr).double()
    w = torch.rand(g.num_edges, dtype=torch.float64) - 0.3 if weighted else None
    torch.testing.assert_close(conv(g.x, g.edge_index, w), dense_gin(conv, g.x, g.edge_index, w))


@given(g=small_graphs())
def test_gine_matches_edge_by_edge_formula(g):
    torch.manual_seed(0)
    conv = GINEConv(nn.Sequential(nn.Linear(4, 6), nn.ReLU()), in_channels=4, edge_dim=2, eps=-0.2).double()
    e = torch.randn(g.num_edges, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    agg = torch.zeros_like(g.x)
    for k, (u, v) in enumerate(g.edge_index.t().tolist()):
        agg[v] += torch.relu(g.x[u] + conv.lin_edge(e[k]))
    torch.testing.assert_close(conv(g.x, g.edge_index, e), conv.nn(0.8 * g.x + agg))


# ------------------------------------------------------------------ the ablation (Xu et al. 2019, Sec. 5, Fig. 3)
A, B = [1.0, 0.0], [0.0, 1.0]                      # two node colours, one-hot

# Each case: two neighbourhoods (multisets of colours) around centre nodes of the same colour.
MULTISETS = {
    # Fig. 3a: same colour, different counts: mean and max both fail
    "same_colour_different_count": ([A, A], [A, A, A]),
    # same set {A, B}, different multiplicities: max fails, the means differ
    "same_set_different_multiplicity": ([A, A, B], [A, B, B]),
    # same mean (and set), different size: mean and max both fail
    "same_mean_different_size": ([A, B], [A, A, B, B]),
}
SEPARATES = {
    "sum": {"same_colour_different_count": True, "same_set_different_multiplicity": True,
            "same_mean_different_size": True},
    "mean": {"same_colour_different_count": False, "same_set_different_multiplicity": True,
             "same_mean_different_size": False},
    "max": {"same_colour_different_count": False, "same_set_different_multiplicity": False,
            "same_mean_different_size": False},
}


def two_stars(left, right):
    """Centre 0 with leaves `left`, centre 1 with leaves `right`; edges leaf -> centre."""
    x = [A, A] + left + right
    leaves = list(range(2, 2 + len(left) + len(right)))
    dst = [0] * len(left) + [1] * len(right)
    return torch.tensor(x, dtype=torch.float64), torch.tensor([leaves, dst])


@pytest.mark.parametrize("aggr", ["sum", "mean", "max"])
@pytest.mark.parametrize("case", list(MULTISETS))
def test_gin_ablation_which_aggregators_separate_the_multisets(aggr, case):
    x, edge_index = two_stars(*MULTISETS[case])
    # The aggregate itself (nn = Identity): equal for mean/max means no MLP after it can separate them.
    agg = GINConv(nn.Identity(), aggr=aggr)(x, edge_index)
    assert (not torch.equal(agg[0], agg[1])) == SEPARATES[aggr][case]
    # With trained-looking random MLPs the outputs agree exactly when the aggregates do.
    for seed in range(5):
        torch.manual_seed(seed)
        conv = GINConv(nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 4)), aggr=aggr).double()
        out = conv(x, edge_index)
        if SEPARATES[aggr][case]:
            assert not torch.allclose(out[0], out[1])
        else:
            assert torch.equal(out[0], out[1])


# ------------------------------------------------------------------ eps and errors
def test_gin_eps_fixed_is_a_buffer_and_learned_is_a_parameter():
    fixed, learned = GINConv(nn.Linear(2, 2), eps=0.1), GINConv(nn.Linear(2, 2), eps=0.1, train_eps=True)
    assert "eps" not in dict(fixed.named_parameters()) and "eps" in dict(fixed.named_buffers())
    assert "eps" in dict(learned.named_parameters())
    with torch.no_grad():
        learned.eps.fill_(3.0)
    learned.reset_parameters()
    assert learned.eps.item() == pytest.approx(0.1)


def test_gin_rejects_unknown_aggregator():
    with pytest.raises(ValueError, match="aggr must be one of"):
        GINConv(nn.Linear(2, 2), aggr="avg")


def test_gin_rejects_a_non_module_mlp():
    with pytest.raises(TypeError, match="must be a torch.nn.Module"):
        GINConv(lambda x: x)


def test_gin_rejects_1d_features():
    with pytest.raises(ValueError, match=r"x of shape \[N, F\].*unsqueeze"):
        GINConv(nn.Identity())(torch.ones(3), E3)


def test_gin_rejects_transposed_edge_index():
    with pytest.raises(ValueError, match=r"\[2, E\].*edge_index.t\(\)"):
        GINConv(nn.Identity())(X3, E3.t())


def test_gin_rejects_out_of_range_edges():
    with pytest.raises(ValueError, match="refers to node 5"):
        GINConv(nn.Identity())(X3, torch.tensor([[0], [5]]))


def test_gine_rejects_wrong_edge_attr_width():
    conv = GINEConv(nn.Identity(), in_channels=1, edge_dim=2)
    with pytest.raises(ValueError, match=r"edge_attr of shape \[E, 2\].*got \[3, 1\]"):
        conv(X3, E3, torch.ones(3, 1, dtype=torch.float64))


def test_gine_rejects_wrong_feature_width():
    with pytest.raises(ValueError, match=r"x of shape \[N, 4\]"):
        GINEConv(nn.Identity(), in_channels=4)(X3, E3, torch.ones(3, 4))


def test_gine_and_gin_max_run_their_messages_through_message_passing():
    from gnnkit.nn import MessagePassing

    conv = GINEConv(nn.Linear(3, 2), in_channels=3)
    assert isinstance(conv, MessagePassing) and not conv.uses_spmm(["edge_attr"])
    ei, x, e = torch.tensor([[0, 1], [1, 1]]), torch.randn(2, 3), torch.randn(2, 3)
    # forward is propagate: message ReLU(h_u + e_uv), sum, update MLP((1 + eps) h_v + h_neigh)
    torch.testing.assert_close(conv(x, ei, e), conv.propagate(ei, x, edge_attr=e))
    assert not GINConv(nn.Linear(3, 2), aggr="max").uses_spmm()        # max is never an SpMM
