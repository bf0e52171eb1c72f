"""loader/dataloader.py: batching, shuffling, drop_last."""
import pytest
import torch
from hypothesis import given, strategies as st

from gnnkit import Batch, Graph
from gnnkit.datasets import Dataset
from gnnkit.loader import DataLoader


def _graphs(n=7):
    return [Graph(x=torch.full((i + 1, 2), float(i)), edge_index=torch.tensor([[0], [i]]), y=torch.tensor(i),
                  y_level="graph") for i in range(n)]


def test_batches_in_order_with_remainder():
    loader = DataLoader(_graphs(7), batch_size=3)
    batches = list(loader)
    assert len(loader) == 3 and [b.num_graphs for b in batches] == [3, 3, 1]
    assert batches[0].y.tolist() == [0, 1, 2] and batches[2].y.tolist() == [6]
    # graph sizes 1, 2, 3 -> ptr [0, 1, 3, 6]; edges 0->0, 0->1, 0->2 shifted by the offsets
    assert batches[0].ptr.tolist() == [0, 1, 3, 6]
    assert batches[0].edge_index.tolist() == [[0, 1, 3], [0, 2, 5]]
    assert isinstance(batches[0], Batch)


def test_drop_last():
    loader = DataLoader(_graphs(7), batch_size=3, drop_last=True)
    assert len(loader) == 2 and [b.num_graphs for b in loader] == [3, 3]


@given(n=st.integers(1, 20), batch_size=st.integers(1, 8), seed=st.integers(0, 1000))
def test_shuffled_epoch_visits_every_graph_once(n, batch_size, seed):
    loader = DataLoader(_graphs(n), batch_size=batch_size, shuffle=True, seed=seed)
    seen = torch.cat([b.y for b in loader])
    assert sorted(seen.tolist()) == list(range(n))


def test_seeded_shuffle_is_reproducible_and_changes_each_epoch():
    a = DataLoader(_graphs(20), batch_size=20, shuffle=True, seed=5)
    b = DataLoader(_graphs(20), batch_size=20, shuffle=True, seed=5)
    first_a, first_b = next(iter(a)).y, next(iter(b)).y
    assert torch.equal(first_a, first_b)
    assert not torch.equal(first_a, next(iter(a)).y)  # epoch 2 differs


def test_works_with_dataset_and_its_transform():
    ds = Dataset(_graphs(4), transform=lambda g: g.replace(x=g.x + 1))
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch.x[0].tolist() == [1.0, 1.0] and batch.num_graphs == 4


def test_batch_round_trips_to_graphs():
    graphs = _graphs(5)
    batch = next(iter(DataLoader(graphs, batch_size=5)))
    for g, h in zip(graphs, batch.to_graphs()):
        assert torch.equal(g.x, h.x) and torch.equal(g.edge_index, h.edge_index)


def test_errors():
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(_graphs(2), batch_size=0)
    with pytest.raises(TypeError, match="indexable sequence of graphs"):
        DataLoader(iter(_graphs(2)))


def test_batches_of_real_mutag_with_gin_features(data_root):
    from gnnkit.datasets import TUDataset
    from gnnkit.transforms import OneHotNodeLabels

    try:
        ds = TUDataset(data_root, "MUTAG")
    except FileNotFoundError as err:
        pytest.skip(f"MUTAG absent: {err}")
    ds.transform = OneHotNodeLabels(ds.node_label_values)
    batches = list(DataLoader(ds, batch_size=32, shuffle=True, seed=0))
    assert [b.num_graphs for b in batches] == [32] * 5 + [28]
    assert sum(b.num_nodes for b in batches) == 3371
    b = batches[0]
    assert b.x.shape == (b.num_nodes, 7) and b.y.shape == (32,) and b.batch.max() == 31
