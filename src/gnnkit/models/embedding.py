"""Unsupervised node embeddings trained on random walks: DeepWalk, node2vec (a free embedding per
node, skip-gram with negative sampling) and GraphSAGE's unsupervised loss (the embedding is a
GraphSAGE encoder of the features).

All three share one objective, which the link-prediction task computes from ``walk_config``
(``gnnkit.tasks.link``) with :mod:`gnnkit.ops.walks`:

.. math::
    J(z_u) = -\\log \\sigma(z_u^\\top z_v) - \\sum_{k=1}^{K} \\log \\sigma(-z_u^\\top z_{v_k}),
    \\qquad v_k \\sim P_n \\propto \\deg^{0.75}

over the pairs ``(u, v)`` that co-occur within ``window`` steps of a random walk (Hamilton et al.
2017, Eq. 1; Mikolov et al.'s skip-gram with negative sampling, which node2vec optimizes and which
replaces DeepWalk's hierarchical softmax here).

- Perozzi, Al-Rfou & Skiena, "DeepWalk", KDD 2014, https://arxiv.org/abs/1403.6652 (uniform walks).
- Grover & Leskovec, "node2vec", KDD 2016, https://arxiv.org/abs/1607.00653 (p/q-biased walks).
- Hamilton, Ying & Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017,
  https://arxiv.org/abs/1706.02216 (Section 3.2, unsupervised loss; walks of length 5).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import ops
from gnnkit.nn import SAGEConv
from gnnkit.nn.autoencoder import InnerProductDecoder
from gnnkit.ops.walks import WalkConfig


class NodeEmbedding(nn.Module):
    """A free embedding per node, :math:`z_v = E[v]` (DeepWalk with ``p = q = 1``, node2vec
    otherwise), trained by the walk objective of the module docstring. One table serves as both
    center and context vectors (as PyG's ``Node2Vec``), so that the link score
    :math:`\\sigma(z_u^\\top z_v)` is symmetric.

    Args:
        num_nodes: N.
        embedding_dim: D (128 in both papers).
        walk_length, window, walks_per_node, p, q, num_negatives, batch_size: the :class:`WalkConfig`.

    Shapes: encode(x, adj) ignores its inputs and returns [N, D].

    Example::

        model = NodeEmbedding(2708, 128, p=1.0, q=0.5)
        z = model.encode()          # [2708, 128]
    """

    objective = "walks"

    def __init__(self, num_nodes: int, embedding_dim: int = 128, walk_length: int = 20, window: int = 10,
                 walks_per_node: int = 10, p: float = 1.0, q: float = 1.0, num_negatives: int = 1,
                 batch_size: int | None = 128):
        super().__init__()
        self.embedding = nn.Embedding(num_nodes, embedding_dim)
        nn.init.normal_(self.embedding.weight, std=embedding_dim ** -0.5)
        self.walk_config = WalkConfig(walk_length, window, walks_per_node, p, q, num_negatives, batch_size)
        self.decoder = InnerProductDecoder()

    def encode(self, x=None, adj=None) -> torch.Tensor:
        return self.embedding.weight                                   # [N, D]

    forward = embed = encode

    def decode(self, z: torch.Tensor, edge_index: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        return self.decoder(z, edge_index, sigmoid=sigmoid)            # [P]

    def extra_repr(self) -> str:
        return str(self.walk_config)


class UnsupervisedSAGE(nn.Module):
    """GraphSAGE trained without labels (Hamilton et al. 2017, Section 3.2): ``num_layers``
    ``SAGEConv`` layers (ReLU between them), the output L2-normalized as in the paper's code,
    trained with the walk objective (the module docstring; walks of length 5 as the paper).

    .. math::
        h_v^{k} = \\sigma(W^k [h_v^{k-1} \\Vert \\mathrm{AGG}_k(\\{h_u^{k-1}: u \\in N(v)\\})]),\\qquad
        z_v = h_v^K / \\lVert h_v^K \\rVert_2

    Args:
        in_channels: F_in.
        hidden_channels: width of every layer and of z (D).
        aggr: ``'mean'``, ``'gcn'``, ``'lstm'`` or ``'pool'``.
        num_layers: K (2).
        project: a linear map of the (sparse) features to this width first (``None``: none); the
            LSTM and pool aggregators work at their input width, so on bag-of-words features they
            need it to stay affordable.
        walk_length, window, walks_per_node, num_negatives, batch_size: the :class:`WalkConfig`.

    Shapes: x: [N, F_in] (dense or sparse); adj: ``SparseAdj`` or edge_index; out: [N, D].

    Example::

        model = UnsupervisedSAGE(1433, 128, aggr="mean")
        z = model.encode(g.x, g.adj())      # [N, 128], unit rows
    """

    objective = "walks"

    def __init__(self, in_channels: int, hidden_channels: int = 128, aggr: str = "mean", num_layers: int = 2,
                 project: int | None = None, walk_length: int = 5, window: int = 5, walks_per_node: int = 1,
                 num_negatives: int = 5, batch_size: int | None = None):
        super().__init__()
        self.project = None if project is None else nn.Parameter(
            nn.init.xavier_uniform_(torch.empty(in_channels, project)))
        dims = [in_channels if project is None else project] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(SAGEConv(a, b, aggr=aggr) for a, b in zip(dims[:-1], dims[1:]))
        self.walk_config = WalkConfig(walk_length, window, walks_per_node, 1.0, 1.0, num_negatives, batch_size)
        self.decoder = InnerProductDecoder()

    def encode(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = x if self.project is None else ops.matmul(x, self.project)   # [N, project]
        for i, conv in enumerate(self.convs):
            h = conv(h, adj)                                               # [N, D]
            if i < len(self.convs) - 1:
                h = F.relu(h)
        return F.normalize(h, p=2.0, dim=-1)

    forward = embed = encode

    def decode(self, z: torch.Tensor, edge_index: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        return self.decoder(z, edge_index, sigmoid=sigmoid)                # [P]


def deepwalk(num_nodes: int, embedding_dim: int = 128, **walk) -> NodeEmbedding:
    """DeepWalk: :class:`NodeEmbedding` with uniform walks (``p = q = 1``)."""
    if walk.get("p", 1.0) != 1.0 or walk.get("q", 1.0) != 1.0:
        raise ValueError("DeepWalk's walks are uniform; use node2vec for p, q != 1")
    return NodeEmbedding(num_nodes, embedding_dim, **walk)


def node2vec(num_nodes: int, embedding_dim: int = 128, p: float = 1.0, q: float = 1.0, **walk) -> NodeEmbedding:
    """node2vec: :class:`NodeEmbedding` with p/q-biased second-order walks."""
    return NodeEmbedding(num_nodes, embedding_dim, p=p, q=q, **walk)
