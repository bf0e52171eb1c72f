"""From an experiment's dataset name to a node-classification task.

The data root is ``root`` (``--root``), else ``$GNNKIT_DATA``, else the user
cache folder; a missing dataset raises :class:`DataAbsent` with one line that
says where gnnkit looked and how to point it at the data.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch

from gnnkit.graph import Graph
from gnnkit.train import NodeClassification


class DataAbsent(FileNotFoundError):
    """A dataset's files are not under the data root. ``str(err)`` is one line."""


def _planetoid(name: str, root: Path) -> Graph:
    from gnnkit.datasets.planetoid import PARTS, Planetoid
    from gnnkit.transforms import NormalizeFeatures

    folder = root / "planetoid"
    missing = [f"ind.{name}.{p}" for p in PARTS if not (folder / f"ind.{name}.{p}").is_file()]
    if missing:
        raise DataAbsent(f"data absent: {name} needs {', '.join(missing)} in {folder}; pass --root DIR or set "
                         f"GNNKIT_DATA=DIR to a folder holding planetoid/ind.{name}.*")
    return Planetoid(root, name, split="public", transform=NormalizeFeatures())[0]


def _ppi(root: Path) -> list[list[Graph]]:
    from gnnkit.datasets import ppi

    folder = root / "ppi"
    missing = ppi.missing(root)
    if missing:
        raise DataAbsent(f"data absent: ppi needs {ppi.describe(missing)} in {folder} (DGL's {ppi.URL}, "
                         "unpacked); pass --root DIR or set GNNKIT_DATA=DIR to a folder holding ppi/")
    return [list(ppi.PPI(root, split)) for split in ("train", "val", "test")]


def resolve_root(root: str | Path | None) -> Path:
    from gnnkit.datasets.base import resolve_root as datasets_root

    return datasets_root(root)


def load_task(exp, root: str | Path | None = None) -> NodeClassification:
    """The experiment's data as a :class:`NodeClassification` task (features sparse when asked)."""
    root = resolve_root(root)
    if exp.dataset == "karate":
        from gnnkit.datasets.karate import karate_club

        task = NodeClassification.transductive(karate_club(), exp.metric)
    elif exp.dataset == "ppi":
        train, val, test = _ppi(root)
        task = NodeClassification([(g, None) for g in train], [(g, None) for g in val], [(g, None) for g in test],
                                  exp.metric, batch_size=exp.batch_size)
    elif exp.dataset in ("cora", "citeseer", "pubmed"):
        g = _planetoid(exp.dataset, root)
        build = NodeClassification.inductive if exp.setting == "inductive" else NodeClassification.transductive
        task = build(g, exp.metric)
    else:
        raise ValueError(f"unknown dataset {exp.dataset!r}; one of karate, cora, citeseer, pubmed, ppi")
    if exp.sparse_features:
        task = sparse_features(task)
    return task


# Above this share of non-zeros a sparse X W is slower than the dense GEMM. Measured, X W forward +
# weight gradient with 64 outputs, one thread: 2,708 x 1,433 at 1% 9.7x faster sparse, at 5% 2.1x;
# 19,717 x 500 at 3% 2.7x faster, at 5% 0.9x, at PubMed's 10% 0.4x.
SPARSE_MAX_DENSITY = 0.03


def sparse_features(task: NodeClassification) -> NodeClassification:
    """The same task with every graph's ``x`` as a sparse CSR tensor (each distinct graph converted once)
    when at most ``SPARSE_MAX_DENSITY`` of it is non-zero (Cora 1.3%, CiteSeer 0.9%; PubMed's TF-IDF
    features, 10%, stay dense): the first layer's ``X W`` is then a sparse-dense product."""
    done: dict[int, Graph] = {}

    def convert(items):
        out = []
        for g, mask in items:
            if id(g) not in done:
                sparse_enough = g.x.layout == torch.strided and g.x.numel() and (
                    int(torch.count_nonzero(g.x)) <= SPARSE_MAX_DENSITY * g.x.numel())
                done[id(g)] = g.replace(x=_csr(g.x)) if sparse_enough else g
            out.append((done[id(g)], mask))
        return out

    return NodeClassification(convert(task.train), convert(task.val), convert(task.test), task.metric,
                              task.batch_size)


def _csr(x: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return x.to_sparse_csr()


def shapes(task: NodeClassification) -> tuple[int, int]:
    """``(in_channels, out_channels)`` of a model for ``task``."""
    g = task.train[0][0]
    if task.metric == "micro_f1":
        return g.num_features, g.y.size(1)
    ys = torch.cat([t[0].y.reshape(-1) for t in task.train + task.val + task.test])
    return g.num_features, int(ys.max()) + 1
