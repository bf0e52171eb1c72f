"""What an experiment is: a paper's protocol as data."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from gnnkit.train import TrainConfig

TASKS = ("node", "graph", "forecast", "link", "seq2seq", "sampled")
PROTOCOLS = ("public", "inductive", "given", "kfold", "gin-paper", "fair", "temporal", "link", "link-sampled", "cluster",
             "neighbor")
FOLD_PROTOCOLS = ("kfold", "gin-paper", "fair")   # one run per fold (experiments/protocols.py)


@dataclass(frozen=True)
class Experiment:
    """One paper protocol: task, dataset and evaluation protocol, model and hyper-parameters,
    training schedule, metrics, and the numbers the paper reports.

    Args:
        name: registry key, e.g. ``'gcn-cora'``.
        dataset: a name of the datasets registry (``gnnkit data list``), e.g. ``'cora'``, ``'MUTAG'``.
        model: a key of ``gnnkit.models.MODELS``; ``model_args`` its keyword arguments (the task adds
            the ones the data fixes, ``task.model_args()``).
        train: the :class:`TrainConfig` (epochs, optimizer, weight decay groups, early stopping).
        task: what is learned: ``'node'`` or ``'graph'`` classification (``experiments.data.BUILDERS``
            has one entry per task).
        protocol: how the data is split for evaluation:
            ``'public'`` the dataset's public split (Planetoid's masks);
            ``'inductive'`` validation and test nodes unseen in training;
            ``'given'`` a fixed split that comes with the data or the entry (PPI's graphs, a seeded
            stratified split of a TU dataset);
            ``'kfold'`` ``folds`` folds (the shipped fold files when present): one run per fold;
            ``'gin-paper'`` k-fold scored at the best epoch of the folds' mean validation curve and
            ``'fair'`` Errica et al.'s model selection inside each fold (``experiments/protocols.py``).
        metric: the metric that selects the model and is compared with the paper (``'acc'``, ``'micro_f1'``).
        metrics: every metric reported (default: just ``metric``).
        transform: the protocol's feature transform: ``None``, ``'normalize'`` (row-normalized
            features), ``'gin'`` (GIN's node inputs: one-hot node labels, one-hot degree or a constant),
            ``'gin-degree'`` (the same on the bio sets; the node degree as one column on the social sets,
            Errica et al.'s input).
        sparse_features: keep bag-of-words features as a sparse tensor (first layer as sparse X W).
        batch_size: graphs per training step.
        folds: how many folds a ``'kfold'`` protocol has.
        paper: the paper's numbers as ``{metric: mean}`` (fractions); a float means ``{metric: value}``.
            ``paper_std`` likewise; ``source`` where they are printed.
        plot: which nodes the embedding plot shows: ``'test'`` or ``'all'``.
        grid: the configurations a ``'fair'`` protocol selects from, each a dict of overrides
            (model arguments, ``TrainConfig`` fields, ``batch_size``).
        iters_per_epoch: training batches per epoch drawn afresh (the GIN code's 50); ``None`` = one pass.
        max_graph_nodes: graph classification only: leave out the graphs with more nodes before the
            folds are drawn (DiffPool's released code: ``--max-nodes``, default 1000); ``None`` keeps all.
    """

    name: str
    dataset: str
    model: str
    model_args: dict
    train: TrainConfig
    task: str = "node"
    protocol: str = "public"
    metric: str = "acc"
    metrics: tuple[str, ...] = ()
    transform: str | None = None
    sparse_features: bool = True
    batch_size: int | None = None
    folds: int | None = None
    paper: dict | float | None = None
    paper_std: dict | float | None = None
    source: str = ""
    plot: str = "test"
    notes: str = ""
    grid: tuple[dict, ...] = ()
    iters_per_epoch: int | None = None
    max_graph_nodes: int | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"{self.name}: task must be one of {TASKS} (got {self.task!r})")
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"{self.name}: protocol must be one of {PROTOCOLS} (got {self.protocol!r})")
        if self.protocol in FOLD_PROTOCOLS and not self.folds:
            raise ValueError(f"{self.name}: a {self.protocol!r} protocol needs folds=K")
        object.__setattr__(self, "metrics", tuple(self.metrics) or (self.metric,))
        for name in ("paper", "paper_std"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, dict):
                object.__setattr__(self, name, {self.metric: value})

    def paper_value(self, metric: str | None = None) -> float | None:
        return (self.paper or {}).get(metric or self.metric)

    def paper_std_value(self, metric: str | None = None) -> float | None:
        return (self.paper_std or {}).get(metric or self.metric)

    @property
    def runs_are_folds(self) -> bool:
        return self.protocol in FOLD_PROTOCOLS

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
                "train": self.train.to_dict(), "task": self.task, "protocol": self.protocol,
                "metric": self.metric, "metrics": list(self.metrics), "transform": self.transform,
                "sparse_features": self.sparse_features, "batch_size": self.batch_size, "folds": self.folds,
                "paper": self.paper, "paper_std": self.paper_std, "source": self.source, "notes": self.notes,
                "grid": [dict(g) for g in self.grid], "iters_per_epoch": self.iters_per_epoch,
                # only when set, so that run folders written before the field existed still match
                **({"max_graph_nodes": self.max_graph_nodes} if self.max_graph_nodes is not None else {})}
