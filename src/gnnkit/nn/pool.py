"""Global readouts: one vector per graph from the node vectors of a batch.

.. math::
    h_G = \\mathrm{READOUT}(\\{ h_v : v \\in G \\}), \\qquad
    \\mathrm{READOUT} \\in \\{\\textstyle\\sum, \\mathrm{mean}, \\max\\}

Xu et al. (2019), "How Powerful are Graph Neural Networks?", https://arxiv.org/abs/1810.00826,
Section 3: the readout must be permutation-invariant; sum is injective on multisets, mean
and max are not. A graph with no nodes reads out as 0.

Shapes: ``x`` [N, F] node vectors of B graphs, ``batch`` [N] graph id of each node (as
``Batch.batch``), ``size`` B (default ``batch.max() + 1``; pass ``batch.num_graphs`` when the
last graphs may be empty). Output [B, F].

Example::

    b = Batch.from_graphs([g1, g2])
    h = global_add_pool(b.x, b.batch, b.num_graphs)      # [2, F]
"""
from __future__ import annotations

import torch

from gnnkit import ops

READOUTS = ("sum", "mean", "max")


def _size(batch: torch.Tensor, size: int | None) -> int:
    if batch.dim() != 1:
        raise ValueError(f"batch must be 1-D with one graph id per node (got shape {list(batch.shape)})")
    if size is None:
        return int(batch.max()) + 1 if batch.numel() else 0
    return size


def global_pool(x: torch.Tensor, batch: torch.Tensor, size: int | None = None, reduce: str = "sum") -> torch.Tensor:
    """``reduce`` ('sum', 'mean' or 'max') of the rows of ``x`` per graph: ``[N, F] -> [B, F]``."""
    if reduce not in READOUTS:
        raise ValueError(f"reduce must be one of {READOUTS} (got {reduce!r})")
    if x.size(0) != batch.size(0):
        raise ValueError(f"x has {x.size(0)} rows but batch has {batch.size(0)} entries; pass the batch's "
                         "node-to-graph vector (Batch.batch)")
    return ops.scatter(x, batch, _size(batch, size), reduce)


def global_add_pool(x: torch.Tensor, batch: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """:math:`h_G = \\sum_{v \\in G} h_v` per graph."""
    return global_pool(x, batch, size, "sum")


def global_mean_pool(x: torch.Tensor, batch: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """:math:`h_G = \\frac{1}{|G|} \\sum_{v \\in G} h_v` per graph."""
    return global_pool(x, batch, size, "mean")


def global_max_pool(x: torch.Tensor, batch: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """:math:`h_G = \\max_{v \\in G} h_v` (feature-wise) per graph."""
    return global_pool(x, batch, size, "max")


def layer_readout(hs: list[torch.Tensor], batch: torch.Tensor, size: int | None = None,
                  reduce: str = "sum") -> list[torch.Tensor]:
    """GIN's readout (Xu et al. 2019, Eq. 4.2): one graph vector per layer, the input included.

    .. math::
        h_G^{(k)} = \\mathrm{READOUT}\\big(\\{ h_v^{(k)} : v \\in G \\}\\big), \\quad k = 0..K-1

    The paper concatenates :math:`h_G^{(0)} .. h_G^{(K-1)}`; its code sends each through its own
    linear classifier and sums the scores (``models.GIN``), which is the same linear map of the
    concatenation. Here each layer is reduced with one call over all layers' columns at once.

    Args:
        hs: K node-vector tensors [N, F_k] (the layers of one batch).
        batch, size: as in :func:`global_pool`. reduce: 'sum', 'mean' or 'max'.

    Returns: K tensors [B, F_k].

    Example::

        h0, h1 = layer_readout([b.x, h], b.batch, b.num_graphs)     # [B, F_0], [B, F_1]
    """
    if not hs:
        raise ValueError("layer_readout needs at least one layer's node vectors")
    pooled = global_pool(torch.cat(hs, 1), batch, size, reduce)           # [B, sum F_k]
    return list(pooled.split([h.size(1) for h in hs], 1))
