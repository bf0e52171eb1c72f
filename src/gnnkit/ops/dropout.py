"""Dropout whose mask comes from one uniform draw per entry.

torch's CPU ``F.dropout`` draws its Bernoulli mask one element at a time through a scalar
generator call (about 25 ns an entry here); drawing ``torch.rand_like`` (vectorised) and comparing
with ``p`` in place gives the same distribution in about a quarter of the time: 3.8 ms against
15-18 ms for GAT's ``[108365, 8]`` attention coefficients on one thread (issue 17's PubMed-sized
graph). :func:`dropout_reference` is torch's own, the plain form.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """Zero each entry of ``x`` with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    .. math::
        \\mathrm{out}_i = x_i \\, m_i / (1 - p), \\qquad m_i = [u_i \\ge p], \\; u_i \\sim U[0, 1)

    Args:
        x: any shape, floating point.
        p: drop probability, in ``[0, 1)``.
        training: when False (or ``p == 0``) ``x`` is returned unchanged.

    Returns: the shape of ``x``; differentiable in ``x`` (the gradient is ``m / (1 - p)``).

    Example::

        ops.dropout(torch.ones(2, 3), 0.5)   # entries 0 or 2
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1) (got {p})")
    if not training or p == 0.0:
        return x
    scale = torch.rand_like(x)                                                 # u ~ U[0, 1)
    scale.ge_(p).mul_(1.0 / (1.0 - p))                                         # m / (1 - p), in place
    return x * scale


def dropout_reference(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """:func:`dropout` as torch's ``F.dropout`` (the same distribution, another random stream)."""
    return F.dropout(x, p, training)
