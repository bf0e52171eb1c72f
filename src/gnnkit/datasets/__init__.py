"""Datasets: files on disk to ``Graph`` objects, with safe parsing, pinned downloads and splits.

- ``Planetoid`` (Cora, CiteSeer, PubMed), ``PPI`` (multi-label, 24 graphs), ``TUDataset`` (graph classification),
  ``los_loop`` / ``metr_la_graph`` / ``TrafficSeries`` (forecasting), ``SentencePairs``
  (fra-eng), ``karate_club``, synthetic generators (``synthetic``).
- ``load(name, root)``: any of them by name, or a one-line ``DataAbsent`` naming the missing files.
- ``Dataset``: the indexable, sliceable list of graphs they share.
- ``download``: ``Remote``, ``fetch``, ``safe_extract``; ``safe_pickle.load``.
"""
from gnnkit.datasets.base import Dataset, default_root
from gnnkit.datasets.download import Remote, fetch, safe_extract
from gnnkit.datasets.errors import DataAbsent, DatasetFileError
from gnnkit.datasets.karate import karate_club
from gnnkit.datasets.planetoid import Planetoid, planetoid_split
from gnnkit.datasets.ppi import PPI
from gnnkit.datasets.sentences import SentencePairs, Vocab
from gnnkit.datasets.synthetic import (
    circular_skip_link,
    csl_graphs,
    erdos_renyi,
    planted_partition,
    random_regular,
    stochastic_block_model,
    wl_hard_pairs,
)
from gnnkit.datasets.traffic import TrafficSeries, ZScore, los_loop, metr_la_graph
from gnnkit.datasets.tu import TUDataset, stratified_kfold
from gnnkit.datasets.registry import load

__all__ = [
    "Dataset", "DataAbsent", "load", "default_root", "Remote", "fetch", "safe_extract", "DatasetFileError", "karate_club",
    "Planetoid", "planetoid_split", "PPI", "SentencePairs", "Vocab", "circular_skip_link", "csl_graphs",
    "erdos_renyi",
    "planted_partition", "random_regular", "stochastic_block_model", "wl_hard_pairs", "TrafficSeries", "ZScore",
    "los_loop", "metr_la_graph", "TUDataset", "stratified_kfold",
]
