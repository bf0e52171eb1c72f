"""datasets/pemsd7.py: STGCN's Gaussian-kernel graph weights and the PeMSD7(M) reader (synthetic files)."""
import math

import numpy as np
import pytest
import torch

from gnnkit.datasets import DataAbsent, load
from gnnkit.datasets.pemsd7 import gaussian_kernel_weights, pemsd7m


def test_gaussian_kernel_hand_computed():
    d = np.array([[0.0, 1000.0, 5000.0], [1000.0, 0.0, 2000.0], [5000.0, 2000.0, 0.0]])
    w = gaussian_kernel_weights(d)        # (d / 1e4)^2 / 0.1: 0.1 -> e^-0.1 = 0.905; 0.4 -> 0.670; 2.5 -> 0.082 < 0.5
    expected = torch.tensor([[0.0, math.exp(-0.1), 0.0],
                             [math.exp(-0.1), 0.0, math.exp(-0.4)],
                             [0.0, math.exp(-0.4), 0.0]])
    torch.testing.assert_close(w, expected)


def test_gaussian_kernel_errors():
    with pytest.raises(ValueError, match="square"):
        gaussian_kernel_weights(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        gaussian_kernel_weights(np.array([[0.0, -1.0], [-1.0, 0.0]]))


def _write(folder, T=30, N=3):
    folder.mkdir(parents=True)
    speeds = np.arange(T * N, dtype=float).reshape(T, N) + 1
    np.savetxt(folder / "PeMSD7_V_228.csv", speeds, delimiter=",")
    np.savetxt(folder / "PeMSD7_W_228.csv", np.array([[0, 1000, 9000], [1000, 0, 9000], [9000, 9000, 0.0]]),
               delimiter=",")
    return speeds


def test_pemsd7m_reads_speeds_and_builds_the_kernel_graph(tmp_path):
    speeds = _write(tmp_path / "traffic" / "PeMSD7M")
    series = pemsd7m(tmp_path)
    torch.testing.assert_close(series.signal, torch.from_numpy(speeds).float())
    assert sorted(series.graph.edge_index.t().tolist()) == [[0, 1], [1, 0]]    # 9 km is below the threshold
    assert series.graph.edge_weight.tolist() == pytest.approx([math.exp(-0.1)] * 2)
    assert load("pemsd7m", tmp_path).signal.shape == (30, 3)


def test_pemsd7m_absent_is_one_line(tmp_path):
    with pytest.raises(DataAbsent, match="data absent: pemsd7m needs PeMSD7_V_228.csv, PeMSD7_W_228.csv"):
        load("pemsd7m", tmp_path)
