"""Link-prediction protocols (graph auto-encoders and walk-based embeddings), one entry each, with
the paper's numbers, and the builder of the 'link' task kind (``experiments.data.BUILDERS``).

Protocol ``'link'`` (Kipf & Welling 2016, Section 3): one seeded 85 / 5 / 10 edge split per dataset
(:func:`gnnkit.datasets.link_split.link_split`, seed 0, the same for every run, as the paper's
"fixed dataset splits"), validation and test non-edges as many as their edges; every run a new
initialization; the model after the last epoch is tested (no early stopping); test ROC AUC and AP.
Every entry also reports ``probe_micro_f1``: logistic regression on the frozen embeddings of the 140 /
120 public Planetoid training nodes, tested on the 1,000 public test nodes. Protocol ``'link-sampled'``
is the same with torch_geometric's training loss instead of the paper's (``GAE.recon_loss``: the
training edges against as many non-edges drawn anew every epoch, ``LinkPrediction(negatives='sampled')``):
the ``gae-ns-*`` / ``vgae-ns-*`` entries, the like-for-like side of ``benchmarks/bench_runs.py``.

Sources:
- GAE / VGAE: Kipf & Welling, "Variational Graph Auto-Encoders", 2016, https://arxiv.org/abs/1611.07308,
  Table 1 (AUC and AP in %, mean of 10 runs on fixed splits); Adam lr 0.01, 200 iterations, 32-16 GCN encoder,
  raw (un-normalized) bag-of-words features (the authors' code does not normalize them).
- DeepWalk: the "DW" row of the same Table 1 (the paper's DeepWalk baseline, without features), CiteSeer
  only (the one confirmed).
- node2vec: no paper number on these splits (Grover & Leskovec 2016 report other graphs).
- GraphSAGE unsupervised: Hamilton et al. 2017 report no citation-network link prediction, so the
  sage-unsup rows have no paper number; walks of length 5 (the paper's), negatives from deg^0.75.
"""
from __future__ import annotations

from pathlib import Path

import torch

from gnnkit.experiments.spec import Experiment
from gnnkit.train import TrainConfig

VGAE_PAPER = "Kipf & Welling 2016 (VGAE), Table 1"
# Kipf & Welling 2016, Table 1: (AUC, AP) in %. Confirmed with the search tool against two quotations of
# the table (the paper's own page was not in the store): BUPT-GAMMA/GammaGL examples/vgae/readme.md
# ("Paper(GAE)" / "Paper(VGAE)" columns: all six GAE and VGAE pairs) and Yuan et al., "Graph Embedding
# Models: A Survey", J. Frontiers of Computer Science and Technology 2022, Table 7 (CiteSeer: DeepWalk
# 80.5 / 83.6, GAE 89.5 / 89.9, VGAE 90.8 / 92.0). The paper's standard errors and its DeepWalk rows for
# Cora and PubMed could not be confirmed, so they are left out.
VGAE_TABLE = {
    "gae": {"cora": (91.0, 92.0), "citeseer": (89.5, 89.9), "pubmed": (96.4, 96.5)},
    "vgae": {"cora": (91.4, 92.6), "citeseer": (90.8, 92.0), "pubmed": (94.4, 94.7)},
    "deepwalk": {"citeseer": (80.5, 83.6)},
}
PLANETOID = ("cora", "citeseer", "pubmed")
SAGE_AGGRS = ("mean", "gcn", "pool", "lstm")
METRICS = ("auc", "ap", "probe_micro_f1")
WALK_MODELS = ("deepwalk", "node2vec", "sage_unsup")

GAE_TRAIN = TrainConfig(epochs=200, lr=0.01)
# DeepWalk / node2vec: 128 dimensions, 10 walks of length 20 per node, window 5, one negative per pair,
# 128 start nodes per step (PyG's Node2Vec example, window 5 instead of 10), Adam lr 0.01, 10 epochs
# (seed 0 on Cora: AUC 87.2, AP 90.2 after 10 epochs).
WALK_TRAIN = TrainConfig(epochs=10, lr=0.01)
WALK_ARGS = {"embedding_dim": 128, "walk_length": 20, "window": 5, "walks_per_node": 10, "num_negatives": 1,
             "batch_size": 128}
# GraphSAGE unsupervised: 2 layers of 128, walks of length 5, window 5, 5 negatives per positive,
# one step per epoch over the whole graph (full neighbourhoods), Adam lr 0.01.
SAGE_TRAIN = TrainConfig(epochs=50, lr=0.01)
SAGE_ARGS = {"hidden_channels": 128, "walk_length": 5, "window": 5, "walks_per_node": 1, "num_negatives": 5}


def _paper(model: str, ds: str) -> dict | None:
    if ds not in VGAE_TABLE[model]:
        return None
    auc, ap = VGAE_TABLE[model][ds]
    return {"auc": auc / 100, "ap": ap / 100}


def entries() -> list[Experiment]:
    out = []
    losses = (("", "link", "paper's re-weighted dense reconstruction loss; fixed split (seed 0)"),
              ("-ns", "link-sampled", "negative sampling (one non-edge per training edge, anew every epoch) "
                                      "instead of the paper's dense loss, as torch_geometric's recipe; fixed split (seed 0)"))
    for ds in PLANETOID:
        for infix, protocol, notes in losses:
            for model in ("gae", "vgae"):
                out.append(Experiment(
                    f"{model}{infix}-{ds}", ds, model, {"hidden_channels": 32, "out_channels": 16}, GAE_TRAIN,
                    task="link", protocol=protocol, metric="auc", metrics=METRICS, paper=_paper(model, ds),
                    source=VGAE_PAPER, plot="test", notes=notes))
    for ds in ("cora", "citeseer"):
        out.append(Experiment(
            f"deepwalk-{ds}", ds, "deepwalk", dict(WALK_ARGS), WALK_TRAIN, task="link", protocol="link",
            metric="auc", metrics=METRICS, paper=_paper("deepwalk", ds),
            source=f"{VGAE_PAPER} (DW row)" if ds == "citeseer" else "no confirmed paper number",
            notes="skip-gram with negative sampling (the paper's DeepWalk used hierarchical softmax)"))
        out.append(Experiment(
            f"node2vec-{ds}", ds, "node2vec", {**WALK_ARGS, "p": 1.0, "q": 0.5}, WALK_TRAIN, task="link",
            protocol="link", metric="auc", metrics=METRICS, source="no paper number (p=1, q=0.5 not tuned)"))
        for aggr in SAGE_AGGRS:
            args = {**SAGE_ARGS, "aggr": aggr}
            if aggr in ("pool", "lstm"):
                args["project"] = 128
            out.append(Experiment(
                f"sage-unsup-{aggr}-{ds}", ds, "sage_unsup", args, SAGE_TRAIN, task="link", protocol="link",
                metric="auc", metrics=METRICS, source="no paper number (GraphSAGE reports no Planetoid unsupervised run)"))
    return out


# ------------------------------------------------------------------ the 'link' builder
def load(exp, root: Path):
    """The dataset's one graph (``DataAbsent`` when its files are missing), bag-of-words features kept
    sparse when at most ``SPARSE_MAX_DENSITY`` of them are non-zero."""
    from gnnkit import datasets
    from gnnkit.experiments.data import SPARSE_MAX_DENSITY, _csr

    g = datasets.load(exp.dataset, root)[0]
    if exp.transform == "normalize":
        from gnnkit.transforms import NormalizeFeatures

        g = NormalizeFeatures()(g)
    if exp.sparse_features and g.x is not None and int(torch.count_nonzero(g.x)) <= SPARSE_MAX_DENSITY * g.x.numel():
        g = g.replace(x=_csr(g.x))
    return g


def task(exp, g, run: int):
    """The :class:`LinkPrediction` task: the seed-0 link split (the same for every run), the walk
    settings of walk-based models (read from the model the experiment builds)."""
    from gnnkit.datasets.link_split import link_split
    from gnnkit.models import build_model
    from gnnkit.tasks.link import LinkPrediction

    if exp.protocol not in ("link", "link-sampled"):
        raise ValueError(f"{exp.name}: link prediction has the 'link' and 'link-sampled' protocols "
                         f"(got {exp.protocol!r})")
    split = link_split(g.edge_index, g.num_nodes, seed=0)
    inputs = "nodes" if exp.model in ("deepwalk", "node2vec") else "features"
    walks = None
    if exp.model in WALK_MODELS:
        sizes = {"num_nodes": g.num_nodes} if inputs == "nodes" else {"in_channels": g.num_features}
        walks = build_model(exp.model, **sizes, **exp.model_args).walk_config
    negatives = "sampled" if exp.protocol == "link-sampled" else "dense"
    return LinkPrediction(g, split, negatives=negatives, inputs=inputs, walks=walks)
