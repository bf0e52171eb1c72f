"""NN4GConv: a hand-computed two-layer case, a dense float64 reference, and errors."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import ops
from gnnkit.nn import NN4GConv
from tests.strategies import small_graphs

X3 = torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64)
E3 = torch.tensor([[0, 2, 1], [1, 1, 2]])          # 0 -> 1, 2 -> 1, 1 -> 2; node 0 has no in-edge


def scalar_layer(prev_channels=(), act=None):
    layer = NN4GConv(1, 1, prev_channels=prev_channels, act=act, bias=False).double()
    with torch.no_grad():
        layer.weight_input.fill_(1.0)
        if layer.weight_states is not None:
            layer.weight_states.copy_(torch.tensor([[10.0], [100.0]])[:len(prev_channels)])
    return layer


def test_nn4g_hand_computed():
    # layer 1 (W = 1, identity f): h1 = x = [1, 2, 3]
    # layer 2 (W = 1, W^(2,1) = 10): h2_v = x_v + 10 * sum_{u in N(v)} h1_u
    #   neighbour sums of h1: node 0: 0, node 1: 1 + 3 = 4, node 2: 2  ->  h2 = [1, 42, 23]
    # layer 3 (W = 1, W^(3,1) = 10, W^(3,2) = 100): sums of h2: [0, 1 + 23 = 24, 42]
    #   h3 = [1 + 0, 2 + 10*4 + 100*24, 3 + 10*2 + 100*42] = [1, 2442, 4223]
    h1 = scalar_layer()(X3, E3)
    h2 = scalar_layer([1])(X3, E3, [h1])
    h3 = scalar_layer([1, 1])(X3, E3, [h1, h2])
    torch.testing.assert_close(h1, X3)
    torch.testing.assert_close(h2, torch.tensor([[1.0], [42.0], [23.0]], dtype=torch.float64))
    torch.testing.assert_close(h3, torch.tensor([[1.0], [2442.0], [4223.0]], dtype=torch.float64))
    # the default activation is tanh of the same pre-activation
    torch.testing.assert_close(scalar_layer([1], act=torch.tanh)(X3, E3, [h1]), torch.tanh(h2))


@given(g=small_graphs(), widths=st.lists(st.integers(1, 6), max_size=3), out_channels=st.sampled_from([2, 7]))
def test_nn4g_matches_dense_formula(g, widths, out_channels):
    torch.manual_seed(len(widths))
    layer = NN4GConv(4, out_channels, prev_channels=widths).double()
    with torch.no_grad():
        layer.bias.uniform_(-1, 1)
    gen = torch.Generator().manual_seed(5)
    states = [torch.randn(g.num_nodes, w, dtype=torch.float64, generator=gen) for w in widths]
    a = ops.dense_adjacency(g.edge_index, g.num_nodes, dtype=torch.float64)
    pre = g.x @ layer.weight_input + layer.bias
    if widths:   # sum_k W^(i,k) sum_{u in N(v)} h^(k)_u, the W^(i,k) stacked by rows
        pre = pre + a @ torch.cat(states, 1) @ layer.weight_states
    torch.testing.assert_close(layer(g.x, g.edge_index, states), torch.tanh(pre))


def test_nn4g_rejects_missing_or_misshaped_states():
    layer = NN4GConv(1, 2, prev_channels=[3, 2])
    with pytest.raises(ValueError, match=r"expects prev_states of shapes \[\(3, 3\), \(3, 2\)\] \(got \[\]\)"):
        layer(X3.float(), E3)
    with pytest.raises(ValueError, match=r"got \[\(3, 2\), \(3, 3\)\].*all earlier layers, in order"):
        layer(X3.float(), E3, [torch.zeros(3, 2), torch.zeros(3, 3)])


def test_nn4g_rejects_wrong_feature_width():
    with pytest.raises(ValueError, match=r"NN4GConv expects x of shape \[N, 2\] \(got \[3, 1\]\)"):
        NN4GConv(2, 2)(X3.float(), E3)
