"""What an experiment is: a paper's protocol as data."""
from __future__ import annotations

from dataclasses import dataclass, replace

from gnnkit.train import TrainConfig


@dataclass(frozen=True)
class Experiment:
    """One paper protocol: dataset and split, model and hyper-parameters, training
    schedule, metric, and the number the paper reports.

    Args:
        name: registry key, e.g. ``'gcn-cora'``.
        dataset: ``'karate'``, ``'cora'``, ``'citeseer'``, ``'pubmed'`` or ``'ppi'``.
        model: a key of ``gnnkit.models.MODELS``; ``model_args`` its keyword arguments.
        train: the :class:`TrainConfig` (epochs, optimizer, weight decay groups, early stopping).
        setting: ``'transductive'`` (one graph, three masks) or ``'inductive'`` (validation and
            test nodes unseen in training; PPI: whole unseen graphs).
        metric: ``'acc'`` or ``'micro_f1'``.
        sparse_features: keep bag-of-words features as a sparse tensor (first layer as sparse X W).
        paper: the paper's mean (a fraction), ``paper_std`` its std, ``source`` where it is printed.
        plot: which nodes the embedding plot (t-SNE of the last hidden layer) shows:
            ``'test'`` (the test nodes) or ``'all'`` (every node of the graph).
    """

    name: str
    dataset: str
    model: str
    model_args: dict
    train: TrainConfig
    setting: str = "transductive"
    metric: str = "acc"
    sparse_features: bool = True
    batch_size: int | None = None
    paper: float | None = None
    paper_std: float | None = None
    source: str = ""
    plot: str = "test"
    notes: str = ""

    def override(self, epochs: int | None = None, lr: float | None = None, weight_decay: float | None = None,
                 patience: int | None = None, **model_args) -> "Experiment":
        """A copy with some training values and model arguments replaced (``None`` = keep)."""
        train = {k: v for k, v in dict(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience).items()
                 if v is not None}
        args = dict(self.model_args)
        args.update({k: v for k, v in model_args.items() if v is not None})
        return replace(self, train=replace(self.train, **train), model_args=args)

    def to_dict(self) -> dict:
        return {"name": self.name, "dataset": self.dataset, "model": self.model, "model_args": dict(self.model_args),
                "train": self.train.to_dict(), "setting": self.setting, "metric": self.metric,
                "sparse_features": self.sparse_features, "batch_size": self.batch_size, "paper": self.paper,
                "paper_std": self.paper_std, "source": self.source, "notes": self.notes}


