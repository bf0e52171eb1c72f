"""Graph transforms: callables ``Graph -> Graph`` that return a new graph.

Pass them as a dataset's ``transform=`` (applied on every access) or call them
yourself. The node-feature transforms here are the ones the papers use:

- ``NormalizeFeatures``: row-normalize ``x`` (Kipf & Welling's preprocessing).
- ``OneHotNodeLabels``: ``x`` = one-hot node labels (GIN, bioinformatics graphs).
- ``OneHotDegree``: ``x`` = one-hot node degree (GIN, social graphs without labels).
- ``Constant``: the same ``x`` for every node (GIN, REDDIT).

Example::

    ds = Planetoid(root, "cora", transform=NormalizeFeatures())
    t = Compose([OneHotDegree(max_degree=135)])
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from gnnkit.graph import Graph
from gnnkit.ops import degree


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: Sequence[Callable[[Graph], Graph]]):
        self.transforms = list(transforms)

    def __call__(self, g: Graph) -> Graph:
        for t in self.transforms:
            g = t(g)
        return g

    def __repr__(self) -> str:
        return f"Compose({self.transforms})"


class NormalizeFeatures:
    """Divide each row of ``x`` by its sum: :math:`x_v \\leftarrow x_v / \\sum_f x_{vf}`.
    All-zero rows (e.g. CiteSeer's isolated test nodes) stay zero."""

    def __call__(self, g: Graph) -> Graph:
        if g.x is None:
            raise ValueError("NormalizeFeatures needs node features x; this graph has none")
        total = g.x.sum(dim=-1, keepdim=True)
        return g.replace(x=g.x / total.clamp(min=1e-12) * (total != 0))

    def __repr__(self) -> str:
        return "NormalizeFeatures()"


def _one_hot(index: torch.Tensor, num_classes: int, what: str) -> torch.Tensor:
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= num_classes):
        raise ValueError(f"{what} {int(index.max())} is out of range for {num_classes} one-hot columns; "
                         f"raise the size or fit it on the whole dataset")
    return torch.nn.functional.one_hot(index, num_classes).float()


class OneHotNodeLabels:
    """``x`` = one-hot encoding of the integer node labels in field ``key``.

    Args:
        values: every label value that occurs in the dataset, in column order (a
            ``TUDataset`` gives them as ``dataset.node_label_values``).
        key: the node field holding the labels (default ``'node_label'``).
        cat: append to an existing ``x`` instead of replacing it.
    """

    def __init__(self, values: Sequence[int], key: str = "node_label", cat: bool = False):
        self.values = [int(v) for v in values]
        self.key, self.cat = key, cat
        self._lookup = {v: i for i, v in enumerate(self.values)}

    def __call__(self, g: Graph) -> Graph:
        if self.key not in g:
            raise ValueError(f"OneHotNodeLabels reads node field {self.key!r}, which this graph lacks "
                             f"(fields: {g.keys()})")
        labels = g.get(self.key).view(-1).tolist()
        unknown = sorted(set(labels) - set(self._lookup))
        if unknown:
            raise ValueError(f"node labels {unknown[:5]} are not among values={self.values[:10]}...; "
                             "pass every label of the dataset")
        index = torch.tensor([self._lookup[v] for v in labels], dtype=torch.long)
        x = _one_hot(index, len(self.values), "node label index")
        return g.replace(x=_cat(g, x, self.cat))

    def __repr__(self) -> str:
        return f"OneHotNodeLabels({len(self.values)} values, key={self.key!r})"


class OneHotDegree:
    """``x`` = one-hot in-degree (number of incoming edges), columns ``0..max_degree``.

    Args:
        max_degree: the largest degree in the dataset (``TUDataset.max_degree()``).
        cat: append to an existing ``x`` instead of replacing it.
    """

    def __init__(self, max_degree: int, cat: bool = False):
        if max_degree < 0:
            raise ValueError(f"max_degree must be >= 0 (got {max_degree})")
        self.max_degree, self.cat = int(max_degree), cat

    def __call__(self, g: Graph) -> Graph:
        deg = degree(g.edge_index[1], g.num_nodes).long()
        x = _one_hot(deg, self.max_degree + 1, "node degree")
        return g.replace(x=_cat(g, x, self.cat))

    def __repr__(self) -> str:
        return f"OneHotDegree(max_degree={self.max_degree})"


class Degree:
    """``x`` = the in-degree (number of incoming edges) as one float column: Errica et al.'s
    ``--use-degree`` node input for the social sets (``cat=True`` appends it)."""

    def __init__(self, cat: bool = False):
        self.cat = cat

    def __call__(self, g: Graph) -> Graph:
        x = degree(g.edge_index[1], g.num_nodes).to(torch.float32).view(-1, 1)
        return g.replace(x=_cat(g, x, self.cat))

    def __repr__(self) -> str:
        return "Degree()"


class Constant:
    """``x`` = ``value`` for every node (one column; ``cat=True`` appends it)."""

    def __init__(self, value: float = 1.0, cat: bool = False):
        self.value, self.cat = float(value), cat

    def __call__(self, g: Graph) -> Graph:
        x = torch.full((g.num_nodes, 1), self.value)
        return g.replace(x=_cat(g, x, self.cat))

    def __repr__(self) -> str:
        return f"Constant({self.value})"


def _cat(g: Graph, x: torch.Tensor, cat: bool) -> torch.Tensor:
    if cat and g.x is not None:
        old = g.x.view(-1, 1) if g.x.dim() == 1 else g.x
        return torch.cat([old, x.to(old.dtype)], dim=-1)
    return x


# ------------------------------------------------------------------ positional encodings
def laplacian_pe(edge_index: torch.Tensor, num_nodes: int, k: int) -> torch.Tensor:
    """Laplacian eigenvector positional encoding ``[N, k]`` (Dwivedi & Bresson 2020,
    https://arxiv.org/abs/2012.09699, Section 3.1): the eigenvectors of the ``k`` smallest non-trivial
    eigenvalues of :math:`L = I - D^{-1/2} A D^{-1/2}` (the first, trivial one dropped), float64
    ``eigh`` on the dense matrix. Columns past ``N - 1`` (graphs with fewer nodes) are zero. Each
    column's sign is arbitrary (and within repeated eigenvalues the basis is): models flip signs at
    random in training (``models.GraphTransformer``)."""
    from gnnkit.ops import laplacian

    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    (lap_index, lap_weight) = laplacian(edge_index, num_nodes, normalization="sym")
    L = torch.zeros(num_nodes, num_nodes, dtype=torch.float64)
    L.index_put_((lap_index[1], lap_index[0]), lap_weight.to(torch.float64), accumulate=True)
    L = (L + L.T) / 2                                  # directed inputs: the symmetric part
    _, vecs = torch.linalg.eigh(L)                      # ascending eigenvalues
    pe = torch.zeros(num_nodes, k, dtype=torch.float32)
    m = min(k, max(num_nodes - 1, 0))
    pe[:, :m] = vecs[:, 1:m + 1].float()
    return pe


def random_walk_pe(edge_index: torch.Tensor, num_nodes: int, k: int) -> torch.Tensor:
    """Random-walk positional encoding ``[N, k]`` (Dwivedi et al. 2022, https://arxiv.org/abs/2110.07875,
    Section 3): column :math:`t` holds :math:`[(D^{-1}A)^{t}]_{ii}`, the probability that a ``t``-step
    random walk from node :math:`i` returns to :math:`i`, :math:`t = 1..k`. Sign-free and
    permutation-equivariant. A node without out-edges gets zeros (its row of :math:`D^{-1}A` is zero)."""
    if k < 1:
        raise ValueError(f"k must be >= 1 (got {k})")
    from gnnkit.ops import scatter

    src, dst = edge_index
    w = (1.0 / degree(src, num_nodes).clamp_min(1))[src]          # P[i, j] = 1 / d_i on each edge i -> j
    M = torch.eye(num_nodes)
    cols = []
    for _ in range(k):
        M = scatter(w[:, None] * M[dst], src, num_nodes, "sum")   # P^t = P P^{t-1}
        cols.append(M.diagonal())
    return torch.stack(cols, dim=1)


class _NodeEncoding:
    """Store ``encode(edge_index, num_nodes, k)`` as the node field ``key``, ``[N, k]``."""

    encode = None      # set by each subclass to its encoding function

    def __init__(self, k: int, key: str):
        self.k, self.key = int(k), key

    def __call__(self, g: Graph) -> Graph:
        pe = type(self).encode(g.edge_index, g.num_nodes, self.k)
        return g.replace(**{self.key: pe}, levels={self.key: "node"})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k})"


class LaplacianPE(_NodeEncoding):
    """Store :func:`laplacian_pe` as node field ``key`` (default ``'lap_pe'``), ``[N, k]``."""

    encode = staticmethod(laplacian_pe)

    def __init__(self, k: int, key: str = "lap_pe"):
        super().__init__(k, key)


class RandomWalkPE(_NodeEncoding):
    """Store :func:`random_walk_pe` as node field ``key`` (default ``'rw_pe'``), ``[N, k]``."""

    encode = staticmethod(random_walk_pe)

    def __init__(self, k: int, key: str = "rw_pe"):
        super().__init__(k, key)
