"""Graph-transformer protocols: ``models.GraphTransformer`` on a TU graph-classification set and on Cora,
under the same protocols as the GIN and GCN/GAT entries they are compared with.

Sources (architecture only; none of these papers reports these exact settings, so no paper number):
- Dwivedi & Bresson, "A Generalization of Transformer Networks to Graphs", AAAI-21 DLG workshop,
  https://arxiv.org/abs/2012.09699: Laplacian eigenvector encodings, random sign flips in training.
- Dwivedi, Luu, Laurent, Bengio & Bresson, "Graph Neural Networks with Learnable Structural and
  Positional Representations", ICLR 2022, https://arxiv.org/abs/2110.07875: random-walk encodings.
- Shi et al., "Masked Label Prediction", IJCAI 2021, https://arxiv.org/abs/2009.03509: the
  neighbour-restricted graph transformer layer (``attention='sparse'``), without label masking.

Entries:
- ``graph-transformer-mutag`` / ``graph-transformer-rw-mutag``: full attention + Laplacian PE / random-walk PE,
  MUTAG with ``gin-mutag``'s fixed seeded 80/10/10 split, optimizer and selection (GIN_GIVEN_TRAIN).
- ``graph-transformer-cora``: full attention over all 2,708 nodes + Laplacian PE (k = 16), public split,
  row-normalized features, Adam lr 0.005, L2 5e-4, at most 100 epochs, width 32, stopping after 30
  epochs without a better validation loss or accuracy (GAT's rule).
- ``graph-transformer-sparse-cora``: ``models.TransformerConvNet``, GraphTransformerConv layers in
  GAT's shape, trained exactly as ``gat-cora`` (GAT_TRAIN). The first version of this entry,
  ``GraphTransformer(attention='sparse')`` with an input projection, LayerNorm blocks, an MLP head and
  Laplacian PE, reached 69.5 / 65.9 / 54.8 % (seeds 0-2) and 56-62 % without the PE or the norms.
"""
from __future__ import annotations

from gnnkit.experiments.graph import GIN_GIVEN_TRAIN
from gnnkit.experiments.node import GAT_TRAIN
from gnnkit.experiments.spec import Experiment
from gnnkit.train import TrainConfig

# Full attention over Cora's 2,708 nodes costs about 2,708^2 scores per head and layer: a shorter budget.
CORA_FULL_TRAIN = TrainConfig(epochs=100, lr=0.005, weight_decay=5e-4, stopping="gat", patience=30, restore_best=True)
NO_PAPER = "no paper number (architecture: Dwivedi & Bresson 2020 / Shi et al. 2021; our settings)"


def entries() -> list[Experiment]:
    mutag = {"hidden_channels": 32, "num_layers": 2, "heads": 4, "dropout": 0.1, "pe_dim": 8}
    cora = {"hidden_channels": 64, "num_layers": 2, "heads": 4, "dropout": 0.5, "input_dropout": 0.5}
    return [
        Experiment("graph-transformer-mutag", "MUTAG", "graph-transformer", {**mutag, "pe": "lap"}, GIN_GIVEN_TRAIN,
                   task="graph", protocol="given", transform="gin", batch_size=32, source=NO_PAPER,
                   notes="gin-mutag's split, optimizer and selection; full attention + Laplacian PE (k=8)"),
        Experiment("graph-transformer-rw-mutag", "MUTAG", "graph-transformer", {**mutag, "pe": "rw"}, GIN_GIVEN_TRAIN,
                   task="graph", protocol="given", transform="gin", batch_size=32, source=NO_PAPER,
                   notes="gin-mutag's split, optimizer and selection; full attention + random-walk PE (k=8)"),
        Experiment("graph-transformer-cora", "cora", "graph-transformer",
                   {**cora, "hidden_channels": 32, "pe": "lap", "pe_dim": 16}, CORA_FULL_TRAIN, transform="normalize", sparse_features=False, source=NO_PAPER,
                   notes="full attention over all nodes; the graph enters only through the Laplacian PE (k=16)"),
        Experiment("graph-transformer-sparse-cora", "cora", "transformer-conv-net",
                   {"hidden_channels": 8, "heads": 8, "dropout": 0.6}, GAT_TRAIN, transform="normalize",
                   sparse_features=False, source=NO_PAPER,
                   notes="GraphTransformerConv layers in GAT's shape (8 heads x 8, ELU, dropout 0.6), gat-cora's training"),
    ]
