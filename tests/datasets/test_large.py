"""Synthetic large graphs (datasets/large.py): deterministic, symmetric int32 CSR without self
loops, the requested sizes, the same graph from memory and from the written files."""
import json

import numpy as np
import pytest
import torch

from gnnkit.datasets.large import PRESETS, SynthSpec, load_synthetic, synthetic_csr, synthetic_graph, write_synthetic

TINY = SynthSpec(500, 3000, 6, 4, (300, 100, 100), signal=1.0)


def test_same_seed_same_graph_other_seed_other_graph():
    a, b, c = synthetic_csr(TINY, 0), synthetic_csr(TINY, 0), synthetic_csr(TINY, 1)
    assert all(torch.equal(x, y) for x, y in zip(a[:4], b[:4]))
    assert not torch.equal(a[1], c[1])


def test_csr_is_symmetric_int32_sorted_without_self_loops():
    rowptr, col, x, y, masks, meta = synthetic_csr(TINY, 3)
    assert rowptr.dtype == col.dtype == torch.int32
    assert col.numel() == 2 * TINY.num_edges == meta["directed_edges"]
    rows = torch.repeat_interleave(torch.arange(TINY.num_nodes), rowptr.long().diff())
    assert not bool((rows == col.long()).any())                                 # no self loops
    fwd = torch.sort(rows * TINY.num_nodes + col.long()).values
    bwd = torch.sort(col.long() * TINY.num_nodes + rows).values
    assert torch.equal(fwd, bwd)                                                # both directions
    key = rows * TINY.num_nodes + col.long()
    assert bool((key[1:] >= key[:-1]).all())                                    # columns sorted in each row
    repeated = int((key[1:] == key[:-1]).sum())
    assert repeated == meta["repeated_directed_entries"]


def test_sizes_split_and_community_structure():
    g = synthetic_graph(TINY, 0)
    assert (g.num_nodes, g.num_features) == (TINY.num_nodes, TINY.num_features)
    assert [int(m.sum()) for m in (g.train_mask, g.val_mask, g.test_mask)] == list(TINY.split)
    assert not bool((g.train_mask & g.test_mask).any())
    src, dst = g.edge_index
    same = (g.y[src] == g.y[dst]).float().mean().item()
    assert same > 0.75                                                           # p_in = 0.8 plus chance
    means = torch.stack([g.x[g.y == c].mean(0) for c in range(TINY.num_classes)])
    assert torch.cdist(means, means).max() > 1.0                                 # classes differ in features


def test_presets_have_the_real_datasets_counts():
    assert (PRESETS["reddit"].num_nodes, PRESETS["reddit"].num_features, PRESETS["reddit"].num_classes) == (
        232_965, 602, 41)
    assert (PRESETS["products"].num_nodes, PRESETS["products"].num_edges, PRESETS["products"].num_features,
            PRESETS["products"].num_classes) == (2_449_029, 61_859_140, 100, 47)


def test_written_files_give_the_same_graph(tmp_path):
    meta = write_synthetic(TINY, tmp_path / "g", seed=2)
    loaded, direct = load_synthetic(tmp_path / "g"), synthetic_graph(TINY, 2)
    for key in ("edge_index", "x", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(loaded.get(key), direct.get(key)), key
    assert json.loads((tmp_path / "g" / "meta.json").read_text()) == json.loads(json.dumps(meta))
    assert not list((tmp_path / "g").glob("*.tmp"))
    assert np.load(tmp_path / "g" / "col.npy", allow_pickle=False).dtype == np.int32


def test_missing_files_and_unknown_size(tmp_path):
    with pytest.raises(FileNotFoundError, match="gnnkit data synth --size reddit"):
        load_synthetic(tmp_path)
    with pytest.raises(ValueError, match="size must be one of"):
        synthetic_graph("huge")


def test_data_synth_command(tmp_path, capsys):
    from gnnkit.datasets.cli import main

    assert main(["synth", "--size", "small", "--out", str(tmp_path / "s")]) == 0
    assert "10,000 nodes, 200,000 directed edges" in capsys.readouterr().out
    assert load_synthetic(tmp_path / "s").num_nodes == 10_000
