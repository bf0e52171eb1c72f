"""Paper networks composed from ``gnnkit.nn`` layers. Node models are called as
``model(x, adj)`` and have ``embed(x, adj)``, their last hidden layer; graph models
are called as ``model(batch)`` on a ``Batch`` and have ``embed(batch)``."""
from __future__ import annotations

from torch import nn

from gnnkit.models.cheb import ChebNet
from gnnkit.models.embedding import NodeEmbedding, UnsupervisedSAGE, deepwalk, node2vec
from gnnkit.models.dropout import feature_dropout
from gnnkit.models.gae import GCNEncoder, gcn_gae, gcn_vgae
from gnnkit.models.gat import GAT
from gnnkit.models.gcn import GCN
from gnnkit.models.gin import GIN, GraphMLP
from gnnkit.models.mlp import MLP
from gnnkit.models.sage import GraphSAGE
from gnnkit.models.diffpool import DiffPoolNet, SAGEMeanPool
from gnnkit.models.graph_transformer import GraphTransformer, TransformerConvNet
from gnnkit.models.transformer import Transformer
from gnnkit.models.forecast_baselines import HistoricalAverage, LastValue
from gnnkit.models.stgcn import STGCN, GraphOnlyGCN
from gnnkit.models.tgcn import TGCN, NodeGRU

MODELS = {"gcn": GCN, "cheb": ChebNet, "mlp": MLP, "gat": GAT, "sage": GraphSAGE, "gin": GIN,
          "graph-mlp": GraphMLP,
          "gae": gcn_gae, "vgae": gcn_vgae, "deepwalk": deepwalk, "node2vec": node2vec, "sage_unsup": UnsupervisedSAGE}

MODELS.update({"diffpool": DiffPoolNet, "sage-meanpool": SAGEMeanPool})
MODELS.update({"transformer": Transformer, "graph-transformer": GraphTransformer,
               "transformer-conv-net": TransformerConvNet})
MODELS.update({"stgcn": STGCN, "gcn_only": GraphOnlyGCN, "tgcn": TGCN, "node_gru": NodeGRU, "historical_average": HistoricalAverage, "last_value": LastValue})


def build_model(name: str, **kwargs) -> nn.Module:
    """``MODELS[name](**kwargs)``: the experiment's hyper-parameters plus what the task fixes
    (``task.model_args()``, e.g. ``in_channels`` and ``out_channels``)."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)} (got {name!r})")
    return MODELS[name](**kwargs)


__all__ = ["ChebNet", "GAT", "GCN", "GIN", "GraphMLP", "MLP", "GraphSAGE", "MODELS", "build_model", "feature_dropout"]
__all__ += ["GCNEncoder", "gcn_gae", "gcn_vgae", "NodeEmbedding", "UnsupervisedSAGE", "deepwalk", "node2vec"]
__all__ += ["STGCN", "GraphOnlyGCN", "TGCN", "NodeGRU", "HistoricalAverage", "LastValue"]
__all__ += ["Transformer", "GraphTransformer", "TransformerConvNet"]
