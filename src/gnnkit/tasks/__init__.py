"""Tasks: what is learned, how the model is called, the loss and the metrics (see ``tasks.base``).

- ``NodeClassification``: labels per node, masks per split (Planetoid, PPI, karate club).
- ``GraphClassification``: a label per graph, batches of small graphs (TU datasets).
- ``Forecasting``: sliding windows of a sensor signal, errors per horizon (traffic speeds).
"""
from gnnkit.tasks.base import SPLITS, Step, Task, evaluating
from gnnkit.tasks.forecast import Forecasting
from gnnkit.tasks.graph import GraphClassification
from gnnkit.tasks.link import LinkPrediction
from gnnkit.tasks.node import NodeClassification
from gnnkit.tasks.seq2seq import Seq2Seq

__all__ = ["SPLITS", "Step", "Task", "evaluating", "GraphClassification", "NodeClassification"]
__all__ += ["LinkPrediction"]
__all__ += ["Forecasting"]
__all__ += ["Seq2Seq"]
