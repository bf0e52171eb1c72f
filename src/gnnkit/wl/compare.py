"""The 1-WL isomorphism test and "can this model tell these graphs apart".

Xu et al. (ICLR 2019), https://arxiv.org/abs/1810.00826, Lemma 2 and Theorem 3: a message-passing
GNN maps two graphs to different vectors only if 1-WL tells them apart, and a GNN whose
aggregation, update and readout are injective (GIN with sum) is exactly as strong. Section 5 /
Figure 3: mean and max aggregators are not injective on multisets and miss pairs that sum tells
apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gnnkit.wl.refine import Refinement, refine

NOT_ISOMORPHIC = "not isomorphic"
POSSIBLY_ISOMORPHIC = "possibly isomorphic"


@dataclass
class WLVerdict:
    """The answer of :func:`wl_test`.

    Attributes:
        verdict: ``'not isomorphic'`` or ``'possibly isomorphic'``.
        iteration: the iteration whose colour histograms differ first (``None`` when they never do).
        iterations: how many refinement iterations ran (to stability, or the limit given).
        refinement: the colours of both graphs (graph 0 and graph 1), every iteration.
    """

    verdict: str
    iteration: int | None
    iterations: int
    refinement: Refinement

    @property
    def isomorphic_possible(self) -> bool:
        return self.verdict == POSSIBLY_ISOMORPHIC

    def __str__(self) -> str:
        if self.iteration is None:
            return f"{self.verdict} (colour histograms equal at every one of {self.iterations} iterations)"
        return f"{self.verdict} (colour histograms differ at iteration {self.iteration})"


def wl_test(g1, g2, labels1=None, labels2=None, iterations: int | None = None) -> WLVerdict:
    """1-WL on two graphs with one shared dictionary: 'not isomorphic' as soon as their colour
    histograms differ (iteration 0 compares the initial labels, 1 the degrees when unlabelled), else
    'possibly isomorphic' once the joint colouring is stable.

    Args:
        g1, g2: ``Graph`` objects or ``(edge_index, num_nodes)`` pairs (both edge directions stored
            for undirected graphs).
        labels1, labels2: initial node colours (``None``: all alike).
        iterations: the most iterations (``None``: until stable).

    Example::

        six_cycle = (torch.tensor([[0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0]]), 6)   # and reversed edges
        wl_test(six_cycle, two_triangles).verdict        # 'possibly isomorphic'
    """
    if (labels1 is None) != (labels2 is None):
        raise ValueError("give initial labels for both graphs or for neither")
    labels = None if labels1 is None else [labels1, labels2]
    r = refine([g1, g2], labels, iterations)
    for t in range(r.iterations + 1):
        if r.histogram(0, t) != r.histogram(1, t):
            return WLVerdict(NOT_ISOMORPHIC, t, r.iterations, r)
    return WLVerdict(POSSIBLY_ISOMORPHIC, None, r.iterations, r)


def distinguishes(model: torch.nn.Module, g1, g2, atol: float = 1e-6) -> bool:
    """Whether ``model`` maps ``g1`` and ``g2`` to different graph vectors: its ``embed(batch)``
    (every readout; GIN's concatenated per-layer readouts) when it has one, else its output, each
    graph on its own, in eval mode (batch norm's running statistics, no dropout).

    Args:
        model: a graph model called as ``model(batch)``.
        g1, g2: ``Graph`` objects with ``x``.
        atol: vectors closer than this in every entry count as equal (float round-off).

    Example::

        distinguishes(GIN(1, 16, 2, aggr="mean"), triangle, k4)   # False: mean cannot count
    """
    from gnnkit.graph import Batch

    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            outs = []
            for g in (g1, g2):
                b = Batch.from_graphs([g])
                outs.append((model.embed(b) if hasattr(model, "embed") else model(b)).reshape(-1).double())
    finally:
        model.train(was)
    if outs[0].shape != outs[1].shape:
        return True
    return not torch.allclose(outs[0], outs[1], rtol=0.0, atol=atol)


def stable_colours(g, labels=None) -> np.ndarray:
    """The stable WL colour of each node of one graph (ids of the last iteration), e.g. to draw it."""
    r = refine([g], None if labels is None else [labels])
    return r.colours[-1]
