"""DiffPool's graph classifier and the baselines of its Table 1 (Ying et al., NeurIPS 2018).

Ying, You, Morris, Ren, Hamilton & Leskovec, "Hierarchical Graph Representation Learning with
Differentiable Pooling", https://arxiv.org/abs/1806.08804, Section 4.1 ("GraphSAGE-mean GNNs,
batch norm after every layer, L2-normalised embeddings, clusters = 25% of the nodes before
pooling, one DiffPool layer for ENZYMES/PROTEINS, two for D&D, REDDIT-MULTI-12K and COLLAB").
Layer layout as in the released code (https://github.com/RexYing/diffpool, ``encoders.py``,
``SoftPoolingGcnEncoder``): every GNN block is ``num_layers`` graph convolutions, each but the last
followed by ReLU and batch norm, its output the concatenation of all its layers; each level is
read out by a max over its nodes, and a 2-layer MLP (hidden 50) classifies the concatenated
readouts of all levels. The assignment GNN has the same layout and ends in a linear layer to K.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import ops
from gnnkit.nn import SAGEConv, global_mean_pool
from gnnkit.nn.diffpool import DenseSAGEConv, diff_pool, diff_pool_flat, metis_assignment

ASSIGNMENTS = ("learned", "metis")
FIRST_LEVELS = ("dense", "sparse")


def masked_batch_norm(norm: nn.BatchNorm1d, h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Batch norm of the real nodes' rows of a padded ``[B, N, F]`` tensor (padded rows stay 0)."""
    if mask is None:
        return norm(h.reshape(-1, h.size(-1))).view_as(h)
    out = torch.zeros_like(h)
    out[mask] = norm(h[mask])
    return out


class DenseSAGEBlock(nn.Module):
    """``num_layers`` :class:`DenseSAGEConv` (L2-normalised), ReLU + batch norm after all but the
    last; returns the concatenation of every layer's output, ``[B, N, hidden * (L - 1) + out]``."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, num_layers: int = 3):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [out_channels]
        self.convs = nn.ModuleList(DenseSAGEConv(a, b, normalize=True) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(num_layers - 1))
        self.out_channels = hidden_channels * (num_layers - 1) + out_channels

    def forward(self, x, adj, mask=None) -> torch.Tensor:
        hs = []
        for i, conv in enumerate(self.convs):
            x = conv(x, adj, mask)                                           # [B, N, F_i]
            if i < len(self.norms):
                x = masked_batch_norm(self.norms[i], F.relu(x), mask)
            hs.append(x)
        return torch.cat(hs, dim=-1)                                         # [B, N, out_channels]

    def forward_flat(self, x, adj) -> torch.Tensor:
        """:meth:`forward` on a batch's unpadded nodes ``x [N, F]`` and sparse adjacency (each layer's
        ``DenseSAGEConv.forward_flat``; batch norm over the same real rows): ``[N, out_channels]``."""
        hs = []
        for i, conv in enumerate(self.convs):
            x = conv.forward_flat(x, adj)                                    # [N, F_i]
            if i < len(self.norms):
                x = self.norms[i](F.relu(x))
            hs.append(x)
        return torch.cat(hs, dim=-1)                                         # [N, out_channels]


def _max_readout(h: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is not None:
        h = h.masked_fill(~mask.unsqueeze(-1), float("-inf"))
    return h.max(dim=1).values                                               # [B, F]


class DiffPoolNet(nn.Module):
    """DiffPool graph classifier (Ying et al. 2018, Eq. 3-5 per pooling level):

    .. math::
        Z^{(l)} = \\mathrm{GNN}^{(l)}_{embed}(A^{(l)}, X^{(l)}), \\quad
        S^{(l)} = \\mathrm{softmax}(\\mathrm{GNN}^{(l)}_{pool}(A^{(l)}, X^{(l)})), \\quad
        X^{(l+1)} = S^{(l)T} Z^{(l)}, \\quad A^{(l+1)} = S^{(l)T} A^{(l)} S^{(l)}

    and :math:`\\hat y = \\mathrm{MLP}([\\max_v Z^{(0)}_v \\| \\dots \\| \\max_v Z^{(L)}_v])`.
    Level ``l`` has :math:`K_l = \\lfloor r K_{l-1} \\rfloor` clusters, :math:`K_0` = ``max_nodes``
    (the released code: ``assign_dim = int(max_num_nodes * assign_ratio)``, then times the ratio again).

    Args:
        in_channels, out_channels: F_in and the number of classes.
        max_nodes: the dataset's largest graph (fixes the cluster counts).
        hidden_channels, embed_channels: width of the hidden and last layer of each GNN block.
        num_layers: graph convolutions per block (code default 3).
        num_pools: DiffPool levels (1 for small sets, 2 for D&D / COLLAB).
        ratio: clusters per node, 0.25 in the paper.
        link_loss: ``'bce'`` (the released code: on the first level only, whose adjacency is 0/1),
            ``'frobenius'`` (the paper's equation, at every level) or ``None`` (DiffPool-NOLP);
            entropy: add the entropy term at every level (the paper; the released code has none).
        assignment: ``'learned'`` (DiffPool) or ``'metis'`` (DiffPool-DET: a fixed one-hot S from a
            METIS partition of each graph; no auxiliary loss).
        pred_hidden: the classifier MLP's hidden width (code: ``pred_hidden_dims=[50]``).
        first_level: ``'dense'`` runs the first level on the padded ``[B, N_max, N_max]`` form, as
            the released code; ``'sparse'`` runs it on the unpadded nodes and the batch's sparse
            adjacency (``DenseSAGEConv.forward_flat``, :func:`gnnkit.nn.diffpool.diff_pool_flat`):
            the same function of the same parameters (tested equal, to rounding), much cheaper when
            graphs differ in size (D&D). The default stays ``'dense'``: the ENZYMES and PROTEINS
            tables were made with it.

    Shapes: called on a ``Batch`` of B graphs with ``x`` [N, F_in]; returns ``(logits [B, C], aux [])``
    (``aux`` the summed auxiliary terms), or just the logits when no auxiliary term is on.

    Example::

        model = DiffPoolNet(b.num_features, 2, max_nodes=40)
        logits, aux = model(b)                        # [B, 2], []
    """

    def __init__(self, in_channels: int, out_channels: int, max_nodes: int, hidden_channels: int = 30,
                 embed_channels: int = 30, num_layers: int = 3, num_pools: int = 1, ratio: float = 0.25,
                 link_loss: str | None = "bce", entropy: bool = True, assignment: str = "learned",
                 pred_hidden: int = 50, first_level: str = "dense"):
        super().__init__()
        if assignment not in ASSIGNMENTS:
            raise ValueError(f"assignment must be one of {ASSIGNMENTS} (got {assignment!r})")
        if first_level not in FIRST_LEVELS:
            raise ValueError(f"first_level must be one of {FIRST_LEVELS} (got {first_level!r})")
        self.first_level = first_level
        if num_pools < 1:
            raise ValueError(f"num_pools must be >= 1 (got {num_pools}); for no pooling use SAGEMeanPool")
        self.clusters = []
        k = max_nodes
        for _ in range(num_pools):
            k = int(k * ratio)
            if k < 1:
                raise ValueError(f"max_nodes={max_nodes} with ratio={ratio} leaves no cluster at level "
                                 f"{len(self.clusters) + 1}; raise ratio or use fewer num_pools")
            self.clusters.append(k)
        self.assignment, self.max_nodes = assignment, max_nodes
        self.link_loss = link_loss if assignment == "learned" else None
        self.entropy = entropy and assignment == "learned"
        self.embeds = nn.ModuleList([DenseSAGEBlock(in_channels, hidden_channels, embed_channels, num_layers)])
        d = self.embeds[0].out_channels
        for _ in range(num_pools):
            self.embeds.append(DenseSAGEBlock(d, hidden_channels, embed_channels, num_layers))
        self.pools = nn.ModuleList()
        self.assign_lins = nn.ModuleList()
        if assignment == "learned":
            a_in = in_channels
            for k in self.clusters:
                block = DenseSAGEBlock(a_in, hidden_channels, k, num_layers)
                self.pools.append(block)
                self.assign_lins.append(nn.Linear(block.out_channels, k))
                a_in = d
        self.lin1 = nn.Linear(d * (num_pools + 1), pred_hidden)
        self.lin2 = nn.Linear(pred_hidden, out_channels)

    def extra_repr(self) -> str:
        return (f"clusters={self.clusters}, assignment={self.assignment!r}, link_loss={self.link_loss!r}, "
                f"entropy={self.entropy}, first_level={self.first_level!r}")

    def dense(self, batch):
        """``(x [B, N, F], adj [B, N, N], mask [B, N])`` of a ``Batch``."""
        x, mask = ops.to_dense_batch(batch.x, batch.batch, batch.num_graphs)
        adj = ops.to_dense_adj(batch.edge_index, batch.batch, batch.num_graphs, x.size(1), dtype=x.dtype)
        return x, adj, mask

    def _first_level_flat(self, batch):
        """Level 0 on the unpadded nodes: ``(readout [B, d], s [B, N_max, K] padded, x' [B, K, d],
        adj' [B, K, K], aux)``, the values :meth:`levels` computes on the padded form."""
        adj = ops.as_adj(batch.edge_index, batch.num_nodes)                  # unweighted, as to_dense_adj
        counts = torch.bincount(batch.batch, minlength=batch.num_graphs)     # [B]
        z = self.embeds[0].forward_flat(batch.x, adj)                        # [N, d]
        # max over each graph's nodes on the padded form: torch.max's gradient goes to one of tied
        # entries (a graph whose nodes all sit at ReLU's 0); segment_reduce would split it between them
        padded, _ = ops.to_dense_batch(z, batch.batch, batch.num_graphs, fill_value=float("-inf"))   # [B, N_max, d]
        readout = padded.max(dim=1).values                                   # [B, d] (padding is -inf already)
        if self.assignment == "learned":
            s = torch.softmax(self.assign_lins[0](self.pools[0].forward_flat(batch.x, adj)), dim=-1)   # [N, K]
        else:
            _, dense_adj, mask = self.dense(batch)
            s = metis_assignment(dense_adj, mask, self.clusters[0])[mask]   # [N, K] one-hot
        x, adj_out, aux = diff_pool_flat(z, adj, s, counts.tolist(), self.link_loss, self.entropy)
        return readout, ops.to_dense_batch(s, batch.batch, batch.num_graphs)[0], x, adj_out, aux

    def levels(self, batch):
        """Run the network up to its readouts: ``(readouts [B, d] per level, assignments [B, N_l, K_l]
        per level, pooled adjacencies [B, K_l, K_l] per level, aux)``."""
        if self.first_level == "sparse":
            readout, s, x, adj, aux = self._first_level_flat(batch)
            readouts, assigns, adjs = [readout], [s], [adj]
            z = self.embeds[1](x, adj)                                       # [B, K, d]
            readouts.append(_max_readout(z, None))
            return self._coarser_levels(x, z, adj, readouts, assigns, adjs, aux, start=1)
        x, adj, mask = self.dense(batch)
        z = self.embeds[0](x, adj, mask)                                     # [B, N, d]
        return self._coarser_levels(x, z, adj, [_max_readout(z, mask)], [], [], z.new_zeros(()), start=0, mask=mask)

    def _link_loss_at(self, level: int) -> str | None:
        """The link term of pooling level ``level`` (0 = the input graph). ``'bce'`` is the released
        code's, which computes it once, on the input's 0/1 adjacency; a pooled ``A' = S^T A S`` has
        weights above 1, where ``-(1 - A) log(1 - P)`` turns negative and the term has no lower bound
        in ``A``, so the coarser levels get none. ``'frobenius'`` (the paper's ``||A - S S^T||_F`` at
        every level) is defined for any weights and applies at each level."""
        return self.link_loss if level == 0 or self.link_loss != "bce" else None

    def _coarser_levels(self, x, z, adj, readouts, assigns, adjs, aux, start: int, mask=None):
        """Pool levels ``start, start + 1, ...`` of the padded form (``x`` the assignment GNN's input,
        the released code's ``assign_x``; ``z`` the embedding at level ``start``)."""
        x_a = x
        for i in range(start, len(self.clusters)):
            k = self.clusters[i]
            if self.assignment == "learned":
                s = torch.softmax(self.assign_lins[i](self.pools[i](x_a, adj, mask)), dim=-1)   # [B, N, K]
            else:
                s = metis_assignment(adj, mask, k)                           # [B, N, K] one-hot
            x, adj, a = diff_pool(z, adj, s, mask, self._link_loss_at(i), self.entropy)   # [B, K, d], [B, K, K]
            aux = aux + a
            assigns.append(s * mask.unsqueeze(-1).to(s.dtype) if mask is not None else s)
            adjs.append(adj)
            mask, x_a = None, x
            z = self.embeds[i + 1](x, adj)                                   # [B, K, d]
            readouts.append(_max_readout(z, None))
        return readouts, assigns, adjs, aux

    def embed(self, batch) -> torch.Tensor:
        """The graph vectors: all levels' readouts concatenated, [B, d * (num_pools + 1)]."""
        return torch.cat(self.levels(batch)[0], dim=-1)

    def forward(self, batch):
        readouts, _, _, aux = self.levels(batch)
        h = F.relu(self.lin1(torch.cat(readouts, dim=-1)))                   # [B, pred_hidden]
        logits = self.lin2(h)                                                # [B, C]
        if self.link_loss is None and not self.entropy:
            return logits
        return logits, aux


class SAGEMeanPool(nn.Module):
    """The GraphSAGE baseline of DiffPool's Table 1: GraphSAGE-mean layers (L2-normalised, ReLU + batch
    norm after all but the last, as in :class:`DenseSAGEBlock`) on the sparse graph, the
    concatenation of all layers read out by a global mean, and the same 2-layer MLP classifier.

    .. math::
        h_v^{(k)} = \\mathrm{BN}(\\mathrm{ReLU}(\\mathrm{SAGE}^{(k)}(h^{(k-1)})_v)), \\qquad
        \\hat y = \\mathrm{MLP}\\big(\\tfrac{1}{n}\\textstyle\\sum_v [h_v^{(1)} \\| \\dots \\| h_v^{(K)}]\\big)

    Args: as :class:`DiffPoolNet` (``hidden_channels``, ``embed_channels``, ``num_layers``, ``pred_hidden``).

    Shapes: called on a ``Batch``; out [B, C].

    Example::

        logits = SAGEMeanPool(b.num_features, 2)(b)    # [B, 2]
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 30, embed_channels: int = 30,
                 num_layers: int = 3, pred_hidden: int = 50):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1 (got {num_layers})")
        dims = [in_channels] + [hidden_channels] * (num_layers - 1) + [embed_channels]
        self.convs = nn.ModuleList(SAGEConv(a, b, aggr="mean", normalize=True) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden_channels) for _ in range(num_layers - 1))
        d = hidden_channels * (num_layers - 1) + embed_channels
        self.lin1 = nn.Linear(d, pred_hidden)
        self.lin2 = nn.Linear(pred_hidden, out_channels)

    def embed(self, batch) -> torch.Tensor:
        h, adj, hs = batch.x, batch.adj(), []
        for i, conv in enumerate(self.convs):
            h = conv(h, adj)                                                 # [N, F_i]
            if i < len(self.norms):
                h = self.norms[i](F.relu(h))
            hs.append(h)
        return global_mean_pool(torch.cat(hs, dim=-1), batch.batch, batch.num_graphs)   # [B, d]

    def forward(self, batch) -> torch.Tensor:
        return self.lin2(F.relu(self.lin1(self.embed(batch))))              # [B, C]
