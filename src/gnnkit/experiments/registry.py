"""Every protocol gnnkit reproduces: the entries of each task family's module, by name.

A family module (``experiments/node.py``, ``experiments/graph.py``, ...) has ``entries()``,
a list of :class:`Experiment`; add a new family by adding its module to ``FAMILIES``.
"""
from __future__ import annotations

from gnnkit.experiments import graph, node, pooling
from gnnkit.experiments import seq2seq
from gnnkit.experiments import graph_transformer
from gnnkit.experiments import link
from gnnkit.experiments import forecast
from gnnkit.experiments import scale
from gnnkit.experiments.spec import Experiment

FAMILIES = (node, graph, pooling, link, forecast, seq2seq, scale, graph_transformer)


def _collect() -> dict[str, Experiment]:
    out: dict[str, Experiment] = {}
    for family in FAMILIES:
        for e in family.entries():
            if e.name in out:
                raise ValueError(f"experiment {e.name!r} is defined twice ({family.__name__})")
            out[e.name] = e
    return out


EXPERIMENTS: dict[str, Experiment] = _collect()


def get(name: str) -> Experiment:
    """The experiment called ``name``, or a ValueError listing close names."""
    if name not in EXPERIMENTS:
        import difflib

        close = difflib.get_close_matches(name, list(EXPERIMENTS), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `gnnkit reproduce --list` lists them"
        raise ValueError(f"unknown experiment {name!r}{hint}")
    return EXPERIMENTS[name]
