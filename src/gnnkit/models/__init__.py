"""Paper networks composed from ``gnnkit.nn`` layers. Every one is called as
``model(x, adj)`` and has ``embed(x, adj)``, its last hidden layer."""
from __future__ import annotations

from torch import nn

from gnnkit.models.cheb import ChebNet
from gnnkit.models.dropout import feature_dropout
from gnnkit.models.gat import GAT
from gnnkit.models.gcn import GCN
from gnnkit.models.mlp import MLP
from gnnkit.models.sage import GraphSAGE

MODELS = {"gcn": GCN, "cheb": ChebNet, "mlp": MLP, "gat": GAT, "sage": GraphSAGE}


def build_model(name: str, in_channels: int, out_channels: int, **kwargs) -> nn.Module:
    """``MODELS[name](in_channels, out_channels=out_channels, **kwargs)``."""
    if name not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)} (got {name!r})")
    return MODELS[name](in_channels=in_channels, out_channels=out_channels, **kwargs)


__all__ = ["ChebNet", "GAT", "GCN", "MLP", "GraphSAGE", "MODELS", "build_model", "feature_dropout"]
