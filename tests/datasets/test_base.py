"""base.py: Dataset indexing, slicing, statistics; data root resolution."""
from pathlib import Path

import numpy as np
import pytest
import torch

from gnnkit import Graph
from gnnkit.datasets import Dataset, default_root


def _ds():
    graphs = [Graph(x=torch.ones(n, 3), edge_index=torch.tensor([[0], [n - 1]]), y=torch.tensor(n % 2),
                    y_level="graph") for n in (2, 3, 4, 5)]
    return Dataset(graphs, name="toy")


def test_index_slice_tensor_mask():
    ds = _ds()
    assert ds[1].num_nodes == 3 and ds[-1].num_nodes == 5 and ds[torch.tensor(2)].num_nodes == 4
    assert [g.num_nodes for g in ds[1:3]] == [3, 4]
    assert [g.num_nodes for g in ds[torch.tensor([3, 0])]] == [5, 2]
    assert [g.num_nodes for g in ds[torch.tensor([True, False, True, False])]] == [2, 4]
    assert [g.num_nodes for g in ds[[0, -1]]] == [2, 5]
    assert isinstance(ds[1:3], Dataset) and ds[1:3].name == "toy"
    assert isinstance(ds[np.int64(1)], Graph) and ds[np.int64(1)].num_nodes == 3


def test_index_errors():
    ds = _ds()
    with pytest.raises(IndexError, match="index 4 out of range for toy with 4 graphs"):
        ds[4]
    with pytest.raises(IndexError, match=r"bool mask must have shape \[4\]"):
        ds[torch.tensor([True, False])]
    with pytest.raises(IndexError, match="index must be an int, a slice"):
        ds[torch.tensor([0.5])]


def test_stats_hand_computed():
    s = _ds().stats()
    # nodes 2 + 3 + 4 + 5 = 14, one edge each, labels n % 2 -> classes {0, 1}
    assert (s["graphs"], s["nodes"], s["edges"], s["avg_nodes"], s["features"], s["classes"]) == (4, 14, 4, 3.5, 3, 2)


def test_transform_applies_on_access_only():
    ds = Dataset(_ds().graphs, transform=lambda g: g.replace(x=g.x * 2))
    assert ds[0].x.sum() == 12 and ds.graphs[0].x.sum() == 6


def test_shuffle_is_a_seeded_permutation():
    ds = _ds()
    a, b = ds.shuffle(seed=1), ds.shuffle(seed=1)
    assert [g.num_nodes for g in a] == [g.num_nodes for g in b]
    assert sorted(g.num_nodes for g in a) == [2, 3, 4, 5]


def test_default_root_env_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GNNKIT_DATA", str(tmp_path))
    assert default_root() == tmp_path
    monkeypatch.delenv("GNNKIT_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert default_root() == Path(tmp_path / "cache" / "gnnkit" / "data")
