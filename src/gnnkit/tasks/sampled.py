"""Node classification trained on minibatches (sampled neighbourhoods or Cluster-GCN clusters),
evaluated by layer-wise inference over the whole graph.

The same semantics as :class:`gnnkit.tasks.NodeClassification` on one transductive graph (labels
per node, ``train_mask`` / ``val_mask`` / ``test_mask``); only the training batches change:

- a :class:`~gnnkit.loader.NeighborLoader` over the training nodes: the loss counts the batch's
  seeds (its first ``batch.batch_size`` rows);
- a :class:`~gnnkit.loader.ClusterLoader`: the loss counts the batch's training nodes.

Evaluation never samples: :func:`layerwise_inference` runs each layer over every node, a chunk of
target nodes at a time, so peak memory is one layer's ``[N, F]`` activations plus one chunk's
neighbourhood, not the K-hop neighbourhoods a sampled forward pass would need.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Iterable

import torch
import torch.nn.functional as F

from gnnkit.graph import Graph
from gnnkit.metrics import METRICS
from gnnkit.tasks.base import Step, check_split, evaluating


def _rows(h: torch.Tensor, fn, chunk_size: int) -> torch.Tensor:
    """``fn`` applied to ``h`` row-chunk by row-chunk (``fn`` is row-wise), concatenated."""
    return torch.cat([fn(h[i:i + chunk_size]) for i in range(0, h.size(0), chunk_size)]) if h.size(0) else fn(h)


def _gcn_layer(conv, h: torch.Tensor, graph: Graph, chunk_size: int) -> torch.Tensor:
    """``GCNConv`` over every node: :math:`\\hat A (H W) + b`, the rows of :math:`\\hat A` (the
    whole graph's normalization, built once and cached on ``graph.adj()``) a chunk at a time."""
    from gnnkit.ops import gcn_adj

    adj_hat = gcn_adj(graph.adj(), conv.add_self_loops)
    hw = _rows(h, lambda rows: rows @ conv.weight, chunk_size) if h.layout == torch.strided else (
        torch.sparse.mm(h, conv.weight))                                          # [N, F_out]
    w = adj_hat.weight.to(hw.dtype)
    out = []
    n = graph.num_nodes
    for a in range(0, n, chunk_size):
        b = min(a + chunk_size, n)
        e0, e1 = int(adj_hat.rowptr[a]), int(adj_hat.rowptr[b])
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
            rows = torch.sparse_csr_tensor(adj_hat.rowptr[a:b + 1] - e0, adj_hat.src[e0:e1], w[e0:e1], (b - a, n),
                                           check_invariants=False)
        out.append(torch.sparse.mm(rows, hw))                                     # [b - a, F_out]
    out = torch.cat(out)
    return out if conv.bias is None else out + conv.bias


def _neighbourhood_layer(conv, h: torch.Tensor, graph: Graph, chunk_size: int) -> torch.Tensor:
    """A layer whose output at ``v`` depends on ``v`` and its in-neighbours only (``SAGEConv``):
    ``conv`` on each chunk's one-hop neighbourhood (chunk first), keeping the chunk's rows."""
    from gnnkit.loader.neighbor import NeighborSampler

    adj = graph.adj()
    sampler = NeighborSampler(adj.rowptr, adj.src, [-1])
    out = []
    for a in range(0, graph.num_nodes, chunk_size):
        chunk = torch.arange(a, min(a + chunk_size, graph.num_nodes), device=adj.rowptr.device)
        n_id, edge_index, _ = sampler.sample(chunk)
        # Renumber by global id, so each node's neighbours come in the whole graph's order (the LSTM
        # aggregator reads them as a sequence).
        order = torch.argsort(n_id)
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel(), device=order.device)
        h_sub = conv(h.index_select(0, n_id[order]), rank[edge_index])                # [M, F_out]
        out.append(h_sub.index_select(0, rank[:chunk.numel()]))                        # [chunk, F_out]
    return torch.cat(out)


@torch.no_grad()
def layerwise_inference(model: torch.nn.Module, graph: Graph, chunk_size: int = 4096) -> torch.Tensor:
    """The model's output on every node of ``graph``, computed layer by layer over all nodes in
    chunks of ``chunk_size`` target nodes (no sampling): equal to ``model(graph.x, graph.adj())`` in
    eval mode, with peak memory one layer's activations plus one chunk's neighbourhood.

    Knows :class:`gnnkit.models.GCN` (each layer as the rows of the whole graph's normalized
    adjacency) and :class:`gnnkit.models.GraphSAGE` (each layer on each chunk's one-hop
    neighbourhood); a ``DistributedDataParallel`` wrapper is looked through.

    Shapes: graph.x: [N, F_in]; out: [N, C].

    Example::

        model.eval()
        logits = layerwise_inference(model, g, chunk_size=10_000)      # [N, C]
    """
    from gnnkit.models import GCN, GraphSAGE

    model = getattr(model, "module", model)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1 (got {chunk_size})")
    if model.training:
        raise ValueError("layerwise_inference runs the model in eval mode (no dropout); call model.eval() first")
    h = graph.x
    if isinstance(model, GCN):
        for i, conv in enumerate(model.convs):
            h = _gcn_layer(conv, h, graph, chunk_size)                              # [N, F_l]
            if i < len(model.convs) - 1:
                h = F.relu(h)
        return h
    if isinstance(model, GraphSAGE):
        if model.project is not None:
            h = _rows(h, model.project, chunk_size)                                 # [N, project]
        for i, conv in enumerate(model.convs):
            h = _neighbourhood_layer(conv, h, graph, chunk_size)                    # [N, hidden]
            if i < len(model.convs) - 1:
                h = F.relu(h)
        return _rows(h, lambda r: model.classifier(F.normalize(r, p=2.0, dim=-1)), chunk_size)
    raise TypeError(f"layerwise_inference knows GCN and GraphSAGE models (got {type(model).__name__}); "
                    "evaluate this model on the whole graph with SampledNodeClassification(layerwise=False)")


Item = tuple[Graph, "torch.Tensor | None"]


@dataclass
class SampledNodeClassification:
    """Node classification trained on a loader's minibatches, evaluated without sampling.

    Transductive (one graph with ``y`` and the three masks, e.g. Planetoid) by default; inductive
    multi-graph protocols (PPI) pass ``splits``. Batches count their first ``batch.batch_size`` rows
    (the seeds of a ``NeighborLoader`` batch; every node of a ``ClusterLoader`` batch) that are
    training nodes (``train_mask``, or every node when the graph has none).

    Args:
        graph: the training graph (the loader's graph).
        loader: re-iterable training batches: a ``NeighborLoader`` over the training nodes or a
            ``ClusterLoader`` (each epoch iterates it once; its shuffling draws from the global torch
            generator unless it was given its own).
        metric: ``'acc'`` (``y`` [N] class ids, cross-entropy) or ``'micro_f1'`` (``y`` [N, C] 0/1,
            binary cross-entropy).
        splits: ``{'train': [(graph, mask)], 'val': [...], 'test': [...]}`` evaluated with the
            trained model (mask ``None`` = every node); default: ``graph`` with its three masks.
        chunk_size: target nodes per chunk of the layer-wise evaluation.
        layerwise: evaluate with :func:`layerwise_inference` (``False``: one full-graph forward).

    Example::

        loader = NeighborLoader(g, [25, 10], batch_size=512, shuffle=True, input_nodes=g.train_mask)
        task = SampledNodeClassification(g, loader)
        fit(GraphSAGE(**task.model_args(), hidden_channels=128), task, TrainConfig(epochs=10))
    """

    graph: Graph
    loader: Iterable[Graph]
    metric: str = "acc"
    splits: dict[str, list[Item]] | None = None
    chunk_size: int = 4096
    layerwise: bool = True
    higher_is_better: bool = field(default=True, init=False)

    def __post_init__(self):
        if self.metric not in ("acc", "micro_f1"):
            raise ValueError(f"metric must be 'acc' or 'micro_f1' (got {self.metric!r})")
        if self.splits is None:
            for name in ("y", "train_mask", "val_mask", "test_mask"):
                if self.graph.get(name) is None:
                    raise ValueError(f"the graph has no {name}; transductive sampled node classification needs y "
                                     "and all three masks (or pass splits=)")
            self.splits = {s: [(self.graph, self.graph.get(f"{s}_mask"))] for s in ("train", "val", "test")}
        self._cache: dict[int, tuple] = {}

    def model_args(self) -> dict:
        y = self.graph.y
        out = y.size(1) if self.metric == "micro_f1" else int(max(int(g.y.max()) for items in self.splits.values()
                                                                  for g, _ in items)) + 1
        return {"in_channels": self.graph.num_features, "out_channels": out}

    def train_batches(self) -> Iterable[Graph]:
        return self.loader

    def _loss(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.metric == "micro_f1":
            return F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype))
        return F.cross_entropy(logits, y)

    def loss(self, model, batch: Graph) -> Step:
        """The loss over the batch's counted nodes (see the class docstring)."""
        size = getattr(batch, "batch_size", batch.num_nodes)
        logits = model(batch.x, batch.adj())[:size]                            # [B, C]
        y = batch.y[:size]
        mask = batch.get("train_mask")
        if mask is not None:
            logits, y = logits[mask[:size]], y[mask[:size]]
        if y.size(0) == 0:     # a batch without training nodes: a zero loss that still reaches every weight
            return Step(logits.sum() * 0.0, 0, logits.detach(), y)
        return Step(self._loss(logits, y), y.size(0), logits.detach(), y)

    def train_metrics(self, steps: list[Step]) -> dict:
        out = torch.cat([s.output for s in steps])
        y = torch.cat([s.target for s in steps])
        return {self.metric: METRICS[self.metric](out, y) if y.size(0) else None}

    def logits(self, model, graph: Graph | None = None) -> torch.Tensor:
        """Every node's logits on ``graph`` (default: the training graph), in eval mode; reused while
        the parameters hold the same values (compared by value: torch's fused Adam updates them in
        place without bumping their version counters)."""
        graph = self.graph if graph is None else graph
        params = [p.detach() for p in model.parameters()]
        hit = self._cache.get(id(graph))
        if (hit is not None and hit[0] == id(model) and len(hit[1]) == len(params)
                and all(torch.equal(a, b) for a, b in zip(hit[1], params))):
            return hit[2]
        with evaluating(model):
            out = (layerwise_inference(model, graph, self.chunk_size) if self.layerwise
                   else getattr(model, "module", model)(graph.x, graph.adj()))
        self._cache[id(graph)] = (id(model), [p.clone() for p in params], out)
        return out

    def evaluate(self, model, split: str) -> dict:
        """``{'loss': ..., metric: ...}`` over the counted nodes of ``split``'s graphs (``None`` when none)."""
        outs, ys = [], []
        for g, mask in self.splits[check_split(split)]:
            logits = self.logits(model, g)
            outs.append(logits if mask is None else logits[mask])
            ys.append(g.y if mask is None else g.y[mask])
        out, y = torch.cat(outs), torch.cat(ys)
        if y.size(0) == 0:
            return {"loss": None, self.metric: None}
        return {"loss": self._loss(out, y).item(), self.metric: METRICS[self.metric](out, y)}
