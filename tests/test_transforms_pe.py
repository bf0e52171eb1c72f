"""transforms.py positional encodings: Laplacian eigenvectors and random-walk return probabilities."""
import math

import torch

from gnnkit import Graph
from gnnkit.transforms import LaplacianPE, RandomWalkPE, laplacian_pe, random_walk_pe


def _undirected(pairs, n):
    e = torch.tensor(pairs).t()
    return torch.cat([e, e.flip(0)], 1), n


def test_laplacian_pe_hand_computed_two_nodes():
    # L_sym = [[1, -1], [-1, 1]]: eigenvalues 0 (dropped) and 2 with eigenvector +-[1, -1] / sqrt 2
    pe = laplacian_pe(*_undirected([(0, 1)], 2), k=2)
    assert pe.shape == (2, 2)
    torch.testing.assert_close(pe[:, 0].abs(), torch.full((2,), 1 / math.sqrt(2)))
    assert pe[0, 0] == -pe[1, 0]
    assert torch.all(pe[:, 1] == 0)                     # a 2-node graph has one non-trivial eigenvector


def test_laplacian_pe_are_eigenvectors_of_the_normalized_laplacian():
    edge_index, n = _undirected([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2), (3, 4)], 5)
    pe = laplacian_pe(edge_index, n, k=3).double()
    A = torch.zeros(n, n, dtype=torch.float64)
    A[edge_index[0], edge_index[1]] = 1
    d = A.sum(1).rsqrt()
    L = torch.eye(n, dtype=torch.float64) - d[:, None] * A * d[None, :]
    lam = torch.linalg.eigvalsh(L)
    for c in range(3):
        torch.testing.assert_close(L @ pe[:, c], lam[c + 1] * pe[:, c], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pe.T @ pe, torch.eye(3, dtype=torch.float64), atol=1e-5, rtol=1e-5)


def test_random_walk_pe_hand_computed_triangle():
    # P = (J - I) / 2: return probabilities 0, 1/2, 1/4 after 1, 2, 3 steps
    pe = random_walk_pe(*_undirected([(0, 1), (1, 2), (2, 0)], 3), k=3)
    torch.testing.assert_close(pe, torch.tensor([[0.0, 0.5, 0.25]] * 3))


def test_random_walk_pe_isolated_node_is_zero_and_is_permutation_equivariant():
    edge_index, n = _undirected([(0, 1), (1, 2)], 4)
    pe = random_walk_pe(edge_index, n, k=4)
    assert torch.all(pe[3] == 0)
    torch.testing.assert_close(pe[:, 1], torch.tensor([0.5, 1.0, 0.5, 0.0]))   # path: 2-step returns
    perm = torch.tensor([2, 0, 3, 1])
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(4)
    torch.testing.assert_close(random_walk_pe(inv[edge_index], n, k=4), pe[perm])


def test_transforms_store_node_fields():
    edge_index, n = _undirected([(0, 1), (1, 2)], 3)
    g = Graph(x=torch.ones(3, 1), edge_index=edge_index, num_nodes=3)
    g2 = RandomWalkPE(2)(LaplacianPE(2)(g))
    assert g2.lap_pe.shape == (3, 2) and g2.rw_pe.shape == (3, 2) and g2.level("lap_pe") == "node"
    assert "lap_pe" not in g
