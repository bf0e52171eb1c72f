"""From an experiment to its task: data from the datasets registry, the protocol's transform, the split.

Each task kind has a builder in ``BUILDERS``: ``load(exp, root)`` reads the dataset once
(through :func:`gnnkit.datasets.load`, which alone knows the files and raises the one-line
:class:`DataAbsent`), and ``task(exp, data, run)`` makes the task of run ``run`` (the fold
of a k-fold protocol; other protocols ignore it). ``load_task`` does both.

The data root is ``root`` (``--root``), else ``$GNNKIT_DATA``, else the user cache folder.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from gnnkit import datasets
from gnnkit.datasets import DataAbsent
from gnnkit.experiments import forecast
from gnnkit.graph import Graph
from gnnkit.tasks import GraphClassification, NodeClassification

__all__ = ["BUILDERS", "Builder", "DataAbsent", "load_task", "load_data", "make_task", "sparse_features",
           "resolve_root", "gin_features", "given_split"]


def resolve_root(root: str | Path | None) -> Path:
    from gnnkit.datasets.base import resolve_root as datasets_root

    return datasets_root(root)


@dataclass(frozen=True)
class Builder:
    """How one task kind gets its data (``load``, once per experiment) and its task (``task``, per run)."""

    load: Callable[[Any, Path], Any]
    task: Callable[[Any, Any, int], Any]


# ------------------------------------------------------------------ node classification
def _load_node(exp, root: Path):
    if exp.dataset == "ppi":
        return [list(datasets.load("ppi", root, split=s)) for s in ("train", "val", "test")]
    g = datasets.load(exp.dataset, root)[0]
    if exp.transform == "normalize":
        from gnnkit.transforms import NormalizeFeatures

        g = NormalizeFeatures()(g)
    return g


def _node_task(exp, data, run: int) -> NodeClassification:
    if exp.protocol == "given":      # PPI: whole graphs per split
        train, val, test = data
        task = NodeClassification([(g, None) for g in train], [(g, None) for g in val], [(g, None) for g in test],
                                  exp.metric, batch_size=exp.batch_size)
    elif exp.protocol == "inductive":
        task = NodeClassification.inductive(data, exp.metric)
    elif exp.protocol == "public":
        task = NodeClassification.transductive(data, exp.metric)
        if exp.dataset == "karate":
            from gnnkit.datasets.karate import FACTIONS

            task.class_names = FACTIONS
    else:
        raise ValueError(f"{exp.name}: node classification has no {exp.protocol!r} protocol")
    return sparse_features(task) if exp.sparse_features else task


# ------------------------------------------------------------------ graph classification
GRAPH_TRANSFORMS = ("gin", "gin-degree")


def gin_features(ds, social: str = "gin") -> Callable[[Graph], Graph]:
    """The GIN paper's node inputs (Xu et al. 2019, Section 7): one-hot node labels for the
    bioinformatics sets, one-hot degree for IMDB and COLLAB, a constant 1 for REDDIT.

    ``social='degree'`` (an entry's ``transform='gin-degree'``) gives every social set (IMDB, COLLAB,
    REDDIT) the node degree as one column instead: the input of Errica et al.'s "SOCIAL + degree"
    tables (their ``--use-degree``), whose numbers the 'fair' entries print.
    """
    from gnnkit.datasets.tu import SOCIAL_CONSTANT, SOCIAL_DEGREE, canonical
    from gnnkit.transforms import Constant, Degree, OneHotDegree, OneHotNodeLabels

    if social not in ("gin", "degree"):
        raise ValueError(f"social must be 'gin' or 'degree' (got {social!r})")
    key = canonical(ds.folder.name)
    if social == "degree" and key in SOCIAL_CONSTANT | SOCIAL_DEGREE:
        return Degree()
    if key in SOCIAL_CONSTANT:
        return Constant(1.0)
    if key in SOCIAL_DEGREE:
        return OneHotDegree(ds.max_degree())
    return OneHotNodeLabels(ds.node_label_values)


def given_split(y: torch.Tensor, seed: int = 0, val: float = 0.1, test: float = 0.1):
    """A seeded stratified ``(train, val, test)`` split of graph ids (scikit-learn's
    ``train_test_split`` twice), the 'given' protocol of a TU experiment."""
    from sklearn.model_selection import train_test_split

    ids = torch.arange(y.numel()).numpy()
    rest, te = train_test_split(ids, test_size=test, stratify=y.numpy(), random_state=seed)
    tr, va = train_test_split(rest, test_size=val / (1 - test), stratify=y.numpy()[rest], random_state=seed)
    return tuple(torch.from_numpy(a).long() for a in (tr, va, te))


def _load_graph(exp, root: Path):
    """``(graphs with the protocol's features, labels [B], folds or None)``."""
    ds = datasets.load(exp.dataset, root)
    if exp.transform not in GRAPH_TRANSFORMS:
        raise ValueError(f"{exp.name}: graph classification needs a feature transform, one of {GRAPH_TRANSFORMS} "
                         f"(got transform={exp.transform!r})")
    transform = gin_features(ds, "degree" if exp.transform == "gin-degree" else "gin")
    graphs = [transform(g) for g in ds]   # once, not on every access
    if exp.max_graph_nodes is None:
        return graphs, ds.y, (ds.folds(exp.folds) if exp.runs_are_folds else None)
    # Leave out the larger graphs (DiffPool's code reads the set this way); the folds are the
    # dataset's folds (shipped or drawn on the whole set) with those graphs taken out, renumbered.
    keep = torch.tensor([g.num_nodes <= exp.max_graph_nodes for g in graphs])
    if not bool(keep.any()):
        raise ValueError(f"{exp.name}: no graph of {exp.dataset} has at most max_graph_nodes="
                         f"{exp.max_graph_nodes} nodes; raise the limit")
    new_id = torch.full((len(graphs),), -1, dtype=torch.long)
    new_id[keep] = torch.arange(int(keep.sum()))

    def renumber(ids: torch.Tensor) -> torch.Tensor:
        ids = new_id[ids]
        return ids[ids >= 0]

    folds = [(renumber(tr), renumber(te)) for tr, te in ds.folds(exp.folds)] if exp.runs_are_folds else None
    return [g for g, k in zip(graphs, keep.tolist()) if k], ds.y[keep], folds


def _graph_task(exp, data, run: int) -> GraphClassification:
    graphs, y, folds = data
    if exp.protocol == "given":
        train, val, test = given_split(y, seed=0)
    elif exp.protocol in ("kfold", "gin-paper"):
        train, test = folds[run]
        val = test
    elif exp.protocol == "fair":     # model selection inside the fold: experiments/protocols.py
        from gnnkit.experiments.protocols import FoldData

        return FoldData(graphs, y, *folds[run], fold=run)
    else:
        raise ValueError(f"{exp.name}: graph classification has no {exp.protocol!r} protocol")
    return GraphClassification(graphs, train, val, test, batch_size=exp.batch_size or 32,
                               iters_per_epoch=exp.iters_per_epoch, num_classes=int(y.max()) + 1)


from gnnkit.experiments import seq2seq  # noqa: E402  (its builder; the module imports nothing from here)

BUILDERS: dict[str, Builder] = {
    "node": Builder(_load_node, _node_task),
    "graph": Builder(_load_graph, _graph_task),
    "seq2seq": Builder(seq2seq.load, seq2seq.task),
    "link": Builder(lambda exp, root: _link().load(exp, root), lambda exp, data, run: _link().task(exp, data, run)),
    "forecast": Builder(forecast.load, forecast.task),   # traffic forecasting: experiments/forecast.py
    "sampled": Builder(lambda exp, root: _scale().load(exp, root), lambda exp, data, run: _scale().task(exp, data, run)),
}


def _link():
    from gnnkit.experiments import link   # link prediction's builder (imports this module's helpers)

    return link


def _scale():
    from gnnkit.experiments import scale   # sampled / clustered training's builder: experiments/scale.py

    return scale


def load_data(exp, root=None):
    """The experiment's data, read once (``DataAbsent`` when its files are missing)."""
    return BUILDERS[exp.task].load(exp, resolve_root(root))


def make_task(exp, data, run: int = 0):
    """The task of run ``run`` (a fold index for k-fold protocols) from :func:`load_data`'s data."""
    return BUILDERS[exp.task].task(exp, data, run)


def load_task(exp, root=None, run: int = 0):
    """``make_task(exp, load_data(exp, root), run)``."""
    return make_task(exp, load_data(exp, root), run)


# Above this share of non-zeros a sparse X W is slower than the dense GEMM. Measured, X W forward +
# weight gradient with 64 outputs, one thread: 2,708 x 1,433 at 1% 9.7x faster sparse, at 5% 2.1x;
# 19,717 x 500 at 3% 2.7x faster, at 5% 0.9x, at PubMed's 10% 0.4x.
SPARSE_MAX_DENSITY = 0.03


def sparse_features(task: NodeClassification) -> NodeClassification:
    """The same task with every graph's ``x`` as a sparse CSR tensor (each distinct graph converted once)
    when at most ``SPARSE_MAX_DENSITY`` of it is non-zero (Cora 1.3%, CiteSeer 0.9%; PubMed's TF-IDF
    features, 10%, stay dense): the first layer's ``X W`` is then a sparse-dense product."""

    def convert(g: Graph) -> Graph:
        sparse_enough = g.x.layout == torch.strided and g.x.numel() and (
            int(torch.count_nonzero(g.x)) <= SPARSE_MAX_DENSITY * g.x.numel())
        return g.replace(x=_csr(g.x)) if sparse_enough else g

    return task.map_graphs(convert)


def _csr(x: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return x.to_sparse_csr()
