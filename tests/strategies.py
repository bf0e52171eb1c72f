"""Hypothesis strategies for random graphs (isolated nodes, self loops and duplicate edges included)."""
import torch
from hypothesis import strategies as st

from gnnkit import Graph


@st.composite
def small_graphs(draw, min_nodes=1, max_nodes=12, max_edges=40, num_features=4, dtype=torch.float64,
                 self_loops=True, undirected=False):
    """A random ``Graph`` with ``x`` of shape [N, num_features] (seeded from hypothesis)."""
    n = draw(st.integers(min_nodes, max_nodes))
    m = draw(st.integers(0, max_edges))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=m, max_size=m))
    if not self_loops:
        pairs = [(a, b) for a, b in pairs if a != b]
    if undirected:
        pairs = sorted(set(pairs) | {(b, a) for a, b in pairs})
    edge_index = torch.tensor(pairs, dtype=torch.long).t() if pairs else torch.empty(2, 0, dtype=torch.long)
    seed = draw(st.integers(0, 2**31 - 1))
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, num_features, generator=gen, dtype=dtype)
    return Graph(x=x, edge_index=edge_index, num_nodes=n)


def relabel(edge_index: torch.Tensor, perm: torch.Tensor) -> torch.Tensor:
    """Edges of the graph whose node ``k`` is old node ``perm[k]``."""
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(perm.numel())
    return inverse[edge_index]
