"""Weight initialisation shared by the layers.

Glorot & Bengio, "Understanding the difficulty of training deep feedforward neural
networks", AISTATS 2010 (Eq. 16), the initialisation of GCN, ChebNet, GAT and most
graph layers:

.. math::
    W_{ij} \\sim U\\Big[-\\sqrt{\\tfrac{6}{f_{in} + f_{out}}},\\; \\sqrt{\\tfrac{6}{f_{in} + f_{out}}}\\Big]

The fans are given explicitly because graph layers stack several matrices in one
parameter (``[K, F_in, F_out]`` for K Chebyshev terms or hops), where
``torch.nn.init.xavier_uniform_`` would count the stack into the fans.

Example::

    w = torch.empty(3, 16, 4)             # three [16, 4] filters
    glorot_(w, fan_in=16, fan_out=4)      # each entry in [-sqrt(6/20), sqrt(6/20)]
"""
from __future__ import annotations

import math

import torch


def glorot_(*tensors: torch.Tensor | None, fan_in: int, fan_out: int) -> None:
    """Fill every given tensor (``None`` skipped) in place from
    :math:`U[-\\sqrt{6/(f_{in}+f_{out})}, \\sqrt{6/(f_{in}+f_{out})}]`."""
    if fan_in + fan_out <= 0:
        raise ValueError(f"glorot_ needs fan_in + fan_out > 0 (got {fan_in} + {fan_out})")
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    with torch.no_grad():
        for t in tensors:
            if t is not None:
                t.uniform_(-bound, bound)
