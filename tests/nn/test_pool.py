"""nn/pool.py: global readouts over a batch."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Batch, Graph
from gnnkit.nn import global_add_pool, global_max_pool, global_mean_pool, global_pool


def test_readouts_by_hand():
    x = torch.tensor([[1.0, -2.0], [3.0, 4.0], [5.0, 0.0]])
    batch = torch.tensor([0, 0, 1])
    # graph 0 = rows 0, 1: sum [4, 2], mean [2, 1], max [3, 4]; graph 1 = row 2; graph 2 empty -> 0
    torch.testing.assert_close(global_add_pool(x, batch, 3), torch.tensor([[4.0, 2.0], [5.0, 0.0], [0.0, 0.0]]))
    torch.testing.assert_close(global_mean_pool(x, batch, 3), torch.tensor([[2.0, 1.0], [5.0, 0.0], [0.0, 0.0]]))
    torch.testing.assert_close(global_max_pool(x, batch), torch.tensor([[3.0, 4.0], [5.0, 0.0]]))


@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=5), seed=st.integers(0, 2**16),
       reduce=st.sampled_from(["sum", "mean", "max"]))
def test_batch_readout_equals_per_graph_readouts(sizes, seed, reduce):
    gen = torch.Generator().manual_seed(seed)
    graphs = [Graph(x=torch.randn(n, 3, generator=gen), num_nodes=n) for n in sizes]
    b = Batch.from_graphs(graphs)
    out = global_pool(b.x, b.batch, b.num_graphs, reduce)
    expected = torch.stack([{"sum": g.x.sum(0), "mean": g.x.mean(0), "max": g.x.max(0).values}[reduce]
                            for g in graphs])
    torch.testing.assert_close(out, expected)


@given(n=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_readout_is_invariant_to_node_order(n, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    perm = torch.randperm(n, generator=gen)
    batch = torch.zeros(n, dtype=torch.long)
    for reduce in ("sum", "mean", "max"):
        torch.testing.assert_close(global_pool(x[perm], batch, 1, reduce), global_pool(x, batch, 1, reduce))


def test_readout_errors_name_the_problem():
    with pytest.raises(ValueError, match="reduce must be one of"):
        global_pool(torch.ones(2, 1), torch.zeros(2, dtype=torch.long), reduce="avg")
    with pytest.raises(ValueError, match="x has 2 rows but batch has 3 entries"):
        global_add_pool(torch.ones(2, 1), torch.zeros(3, dtype=torch.long))
