"""PeMSD7(M) (STGCN, Yu et al. 2018): 228 Caltrans PeMS stations of District 7, 5-minute
average speeds of the 44 weekdays of May and June 2012, and the stations' pairwise distances.

The files are those of the authors' repository (VeritasYin/STGCN_IJCAI-18, ``dataset/``):
``PeMSD7_V_228.csv`` (12,672 rows x 228 speeds, no header) and ``PeMSD7_W_228.csv``
(228 x 228 distances in metres, no header), placed in ``traffic/PeMSD7M/`` under the data
root. They are not in this project's data folder (see its MANIFEST), so the experiments that
need them report 'data absent' until they are placed there.

Graph weights come from the distances by the paper's Gaussian kernel with a threshold
(:func:`gaussian_kernel_weights`).

Example::

    series = pemsd7m(root)                                   # TrafficSeries, T = 12672, N = 228
    data = series.windows(input_len=12, horizons=[3, 6, 9], split=(34 / 44, 5 / 44, 5 / 44))
"""
from __future__ import annotations

import numpy as np
import torch

from gnnkit.datasets.base import require_files, resolve_root
from gnnkit.datasets.errors import DatasetFileError
from gnnkit.datasets.traffic import TrafficSeries, read_csv_matrix
from gnnkit.graph import Graph

FILES = ("PeMSD7M/PeMSD7_V_228.csv", "PeMSD7M/PeMSD7_W_228.csv")


def gaussian_kernel_weights(distance: np.ndarray | torch.Tensor, sigma2: float = 0.1, epsilon: float = 0.5,
                            scale: float = 10000.0) -> torch.Tensor:
    """STGCN's graph weights from pairwise distances (Yu et al. 2018, Eq. 10):

    .. math::
        w_{ij} = \\exp\\!\\big(-d_{ij}^2 / \\sigma^2\\big) \\text{ if } i \\ne j \\text{ and }
        \\exp\\!\\big(-d_{ij}^2 / \\sigma^2\\big) \\ge \\epsilon, \\text{ else } 0

    with :math:`d_{ij}` the distance divided by ``scale`` (the authors' ``weight_matrix``:
    distances in metres / 10000, ``sigma2 = 0.1``, ``epsilon = 0.5``).

    Args:
        distance: [N, N] distances (non-negative).
        sigma2, epsilon, scale: as above.

    Shapes:
        distance: [N, N]; out: [N, N] float32 weights, zero diagonal.

    Example::

        gaussian_kernel_weights(np.array([[0.0, 1000.0], [1000.0, 0.0]]))   # off-diagonal exp(-0.1) = 0.905
    """
    d = torch.as_tensor(np.asarray(distance), dtype=torch.float64)
    if d.dim() != 2 or d.size(0) != d.size(1):
        raise ValueError(f"distance must be a square [N, N] matrix (got {list(d.shape)})")
    if bool((d < 0).any()) or not bool(torch.isfinite(d).all()):
        raise ValueError("distance must be finite and non-negative; mark missing pairs with a large distance")
    d = d / scale
    w = torch.exp(-d * d / sigma2)
    w = w * (w >= epsilon)
    w.fill_diagonal_(0.0)
    return w.float()


def weighted_graph(weight: torch.Tensor) -> Graph:
    """Edges ``src -> dst`` for each non-zero ``weight[src, dst]`` (diagonal dropped), weights in
    ``edge_weight``."""
    weight = weight.clone()
    weight.fill_diagonal_(0.0)
    src, dst = weight.nonzero(as_tuple=True)
    return Graph(edge_index=torch.stack([src, dst]), edge_weight=weight[src, dst].float(),
                 num_nodes=weight.size(0))


def pemsd7m(root=None, sigma2: float = 0.1, epsilon: float = 0.5) -> TrafficSeries:
    """PeMSD7(M) speeds [12672, 228] with the Gaussian-kernel graph of its station distances."""
    folder = resolve_root(root) / "traffic"
    require_files([folder / f for f in FILES], "PeMSD7(M)",
                  hint="; copy PeMSD7_V_228.csv and PeMSD7_W_228.csv from the STGCN authors' repository")
    _, speed = read_csv_matrix(folder / FILES[0])
    _, distance = read_csv_matrix(folder / FILES[1])
    if distance.shape != (speed.shape[1], speed.shape[1]):
        raise DatasetFileError(folder / FILES[1], f"distances are {distance.shape} but the speeds have "
                                                  f"{speed.shape[1]} stations")
    graph = weighted_graph(gaussian_kernel_weights(distance, sigma2, epsilon))
    return TrafficSeries(torch.from_numpy(speed), graph, name="PeMSD7(M)")
