"""Graph-classification protocols, one entry each, with the paper's numbers.

Sources:
- GIN: Xu, Hu, Leskovec & Jegelka, ICLR 2019, https://arxiv.org/abs/1810.00826 (Section 7:
  Adam lr 0.01 halved every 50 epochs, batch norm, 2-layer MLPs; node inputs as in ``gin_features``).
"""
from __future__ import annotations

from gnnkit.experiments.spec import Experiment
from gnnkit.train import TrainConfig

# The GIN paper's optimizer (lr 0.01, halved every 50 epochs); with a fixed validation split the
# model with the lowest validation loss is tested.
GIN_GIVEN_TRAIN = TrainConfig(epochs=100, lr=0.01, lr_step=50, lr_gamma=0.5, select="val_loss", restore_best=True)


def entries() -> list[Experiment]:
    return [
        # The pipeline's graph-classification check: a 3-layer GIN-0 with sum readout on MUTAG with a
        # fixed, seeded stratified 80/10/10 split (the paper itself reports 10-fold accuracy).
        Experiment("gin-mutag", "MUTAG", "gin", {"hidden_channels": 32, "num_layers": 3, "dropout": 0.5},
                   GIN_GIVEN_TRAIN, task="graph", protocol="given", transform="gin", batch_size=32,
                   source="no paper number (fixed 80/10/10 split; the paper's MUTAG number is 10-fold)"),
    ]
