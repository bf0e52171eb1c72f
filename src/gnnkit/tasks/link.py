"""Link prediction: which node pairs are edges, scored by the embeddings' inner products.

Kipf & Welling, "Variational Graph Auto-Encoders", 2016, https://arxiv.org/abs/1611.07308,
Section 3: train on the graph without the validation and test edges (:func:`link_split`, 85 / 5 /
10), score each held-out edge and an equal number of non-edges by :math:`\\sigma(z_u^\\top z_v)`,
report the ROC AUC and average precision.

The task holds one graph and its :class:`LinkSplit`. Every model is encoded on the training graph
only, ``z = model.encode(x, adj_train)``, and scored with ``model.decode(z, pairs)``; the training
loss depends on what the model declares (``model.objective``):

- ``'reconstruction'`` (GAE, VGAE; the default): ``model.recon_loss(z, positives)`` with the paper's
  re-weighted dense loss over :math:`A_{train} + I` (``negatives='dense'``), or with as many
  non-edges as training edges drawn anew every epoch (``negatives='sampled'``); a variational model
  adds ``model.kl_loss() / N``.
- ``'walks'`` (DeepWalk, node2vec, unsupervised GraphSAGE): skip-gram with negative sampling on
  pairs that co-occur on random walks over the training graph (``walks``, the model's ``walk_config``):

  .. math::
      \\mathcal L = \\frac1P \\Big(\\sum_{\\{u,v\\}} c_{uv}\\,\\mathrm{softplus}(-z_u^\\top z_v)
          + K \\sum_u c_u \\frac1M \\sum_{m=1}^{M} \\mathrm{softplus}(z_u^\\top z_{n_{um}})\\Big),
      \\qquad n_{um} \\sim P_n \\propto \\deg^{0.75}

  with :math:`c_{uv}` how often the step's walks gave the pair (each distinct pair is scored once),
  :math:`c_u` the pairs centred at :math:`u`, :math:`P` all pairs, :math:`M` = ``draws_per_node``. Its
  expectation is the per-pair loss with K fresh negatives per pair; measured on Cora's walks (10 per
  node, length 20, window 5) the 2.4 M pairs of an epoch hold 156 k distinct ones.

Negatives, walks and VGAE's noise come from the global torch generator (checkpointed by the trainer).
``evaluate(split)`` reports ``loss`` (binary cross-entropy of the split's positives and negatives),
``auc`` and ``ap``; on ``'test'`` it also reports ``probe_micro_f1``: a logistic-regression classifier
trained on the frozen embeddings of the public training nodes, tested on the public test nodes
(labels are used there only).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from gnnkit.datasets.link_split import LinkSplit, sample_non_edges
from gnnkit.graph import Graph
from gnnkit.metrics import average_precision, roc_auc
from gnnkit.ops.walks import WalkConfig, WalkGraph, degree_negatives, random_walk, walk_pairs
from gnnkit.tasks.base import Step, check_split, evaluating

NEGATIVES = ("dense", "sampled")
INPUTS = ("features", "nodes")


@dataclass
class LinkPrediction:
    """Args:
        graph: the full graph (``x``; ``y`` and ``train_mask`` / ``test_mask`` for the probe).
        split: its :class:`LinkSplit` (``link_split(g.edge_index, g.num_nodes, seed=...)``).
        negatives: ``'dense'`` (the paper's re-weighted loss over all pairs) or ``'sampled'``
            (negative sampling, one non-edge per training edge per epoch) for reconstruction models.
        inputs: what the model is built from: ``'features'`` (``in_channels``) or ``'nodes'``
            (``num_nodes``, free embeddings).
        walks: the walk objective's settings for models with ``objective = 'walks'``
            (``model.walk_config``); ``None`` for reconstruction models.
        probe: report the logistic-regression probe's micro-F1 on ``'test'`` (needs labels and masks).

    Example::

        g = karate_club()
        task = LinkPrediction(g, link_split(g.edge_index, g.num_nodes))
        model = gcn_gae(**task.model_args())
        fit(model, task, TrainConfig(epochs=200)).test["auc"]
    """

    graph: Graph
    split: LinkSplit
    negatives: str = "dense"
    inputs: str = "features"
    walks: WalkConfig | None = None
    probe: bool = True
    metric: str = field(default="auc", init=False)
    higher_is_better: bool = field(default=True, init=False)

    def __post_init__(self):
        if self.negatives not in NEGATIVES:
            raise ValueError(f"negatives must be one of {NEGATIVES} (got {self.negatives!r})")
        if self.inputs not in INPUTS:
            raise ValueError(f"inputs must be one of {INPUTS} (got {self.inputs!r})")
        if self.split.num_nodes != self.graph.num_nodes:
            raise ValueError(f"the split has {self.split.num_nodes} nodes but the graph {self.graph.num_nodes}; "
                             "split this graph's edge_index")
        n = self.graph.num_nodes
        self.train_graph = self.graph.replace(edge_index=self.split.train_edge_index)
        self.adj = self.train_graph.adj()                                     # message passing: train edges only
        loops = torch.arange(n, device=self.split.train_edge_index.device).repeat(2, 1)
        self.recon_target = torch.cat([self.split.train_edge_index, loops], 1)  # A_train + I, [2, 2 P + N]
        self.walk_graph = WalkGraph(self.split.train_edge_index, n)
        # sorted keys u * N + v of the training edges (both directions), for negatives='sampled'
        te = self.split.train_edge_index
        self.train_keys = torch.unique(te[0] * n + te[1])
        # fixed non-edges for evaluate('train'), from the split's own generator (not the global one)
        pairs = torch.cat([self.split.train_pos, self.split.val_pos, self.split.test_pos], 1)
        self.train_neg = sample_non_edges(n, torch.sort(pairs[0] * n + pairs[1]).values,
                                          self.split.train_pos.size(1), torch.Generator().manual_seed(1))

    # -------------------------------------------------------------- the protocol
    def model_args(self) -> dict:
        if self.inputs == "nodes":
            return {"num_nodes": self.graph.num_nodes}
        return {"in_channels": self.graph.num_features}

    def train_batches(self) -> list:
        """Reconstruction: one full-graph step. Walks: every node with a training edge, shuffled (global
        generator), in chunks of ``batch_size`` nodes, each node of a chunk walked ``walks_per_node`` times
        (PyG's ``Node2Vec`` loader does the same)."""
        if self.walks is None:
            return [None]
        nodes = (self.walk_graph.degree > 0).nonzero().view(-1)
        nodes = nodes[torch.randperm(nodes.numel())]
        chunks = nodes.split(self.walks.batch_size or max(nodes.numel(), 1))
        return [chunk.repeat(self.walks.walks_per_node) for chunk in chunks]

    def loss(self, model, batch) -> Step:
        if getattr(model, "objective", "reconstruction") == "walks":
            return self._walk_loss(model, batch)
        z = model.encode(self.graph.x, self.adj)                             # [N, D]
        if self.negatives == "dense":
            loss = model.recon_loss(z, self.recon_target)
        else:
            pos = self.split.train_pos                                          # each edge once, [2, P]
            loss = model.recon_loss(z, pos, self.sample_negatives(pos.size(1)))
        if getattr(model, "variational", False):
            loss = loss + model.kl_loss() / self.graph.num_nodes
        return Step(loss, self.split.train_pos.size(1))

    def sample_negatives(self, count: int) -> torch.Tensor:
        """``count`` ordered pairs ``(u, v)``, ``u != v``, drawn uniformly with replacement (global
        generator) from the pairs that are not training edges: the training negatives of
        ``negatives='sampled'`` (PyG's ``recon_loss`` recipe). Membership is one binary search in the
        sorted training keys (:func:`gnnkit.ops.negative_sampling`, the general sampler, also makes the
        pairs distinct, which the loss does not need). ``[2, count]``."""
        n, keys = self.graph.num_nodes, self.train_keys   # the constructor already refused a graph without non-edges
        chosen = torch.empty(0, dtype=torch.long, device=keys.device)
        while chosen.numel() < count:
            cand = torch.randint(0, n * n, (count + count // 4 + 16,), device=keys.device)
            is_edge = torch.zeros_like(cand, dtype=torch.bool)
            if keys.numel():
                slot = torch.searchsorted(keys, cand).clamp_(max=keys.numel() - 1)
                is_edge = keys[slot] == cand
            cand = cand[~is_edge & (cand // n != cand % n)]
            chosen = torch.cat([chosen, cand[:count - chosen.numel()]])
        return torch.stack([chosen // n, chosen % n])                          # [2, count]

    def _walk_loss(self, model, start: torch.Tensor) -> Step:
        cfg = self.walks
        if cfg is None or start is None:
            raise ValueError("a model trained on walks needs the task's walk settings: "
                             "LinkPrediction(..., walks=model.walk_config)")
        if getattr(model, "walk_config", cfg) != cfg:
            raise ValueError(f"the model's walk_config {model.walk_config} differs from the task's {cfg}; "
                             "build the task with walks=model.walk_config")
        n = self.graph.num_nodes
        walks = random_walk(self.walk_graph, start, cfg.walk_length, cfg.p, cfg.q)   # [W, L + 1]
        pairs = walk_pairs(walks, cfg.window, both_directions=False)                # [2, P], score symmetric
        pairs = pairs[:, pairs[0] != pairs[1]]
        total = pairs.size(1)
        # each distinct unordered pair once, weighted by how often the walks gave it
        lo, hi = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
        key, count = torch.unique(lo * n + hi, return_counts=True)                  # [U]
        pos = torch.stack([key // n, key % n])                                       # [2, U]
        # the K negatives of each of a center's pairs: the mean over draws_per_node draws for that center
        centers = torch.bincount(pairs[0], minlength=n)                              # [N] pairs per center
        u = centers.nonzero().view(-1)                                               # [C]
        neg = degree_negatives(self.walk_graph.degree, u.numel() * cfg.draws_per_node).view(-1, cfg.draws_per_node)
        z = model.encode(self.graph.x, self.adj)                                     # [N, D]
        pos_logits = model.decode(z, pos, sigmoid=False)                             # [U]
        neg_logits = (z[u].unsqueeze(1) * z[neg]).sum(-1)                            # [C, draws]
        loss = ((count * F.softplus(-pos_logits)).sum()
                + cfg.num_negatives * (centers[u] * F.softplus(neg_logits).mean(1)).sum()) / max(total, 1)
        return Step(loss, total)

    def train_metrics(self, steps: list[Step]) -> dict:
        return {}

    def pairs(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(positives, negatives)`` of ``split`` ([2, P] each; 'train' uses fixed sampled non-edges)."""
        pos, neg = self.split.pairs(check_split(split))
        return pos, (self.train_neg if neg is None else neg)

    def scores(self, model, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """``(probabilities [P + Q], labels [P + Q])`` of the split's positives then negatives."""
        pos, neg = self.pairs(split)
        with evaluating(model):
            z = model.encode(self.graph.x, self.adj)
            score = torch.cat([model.decode(z, pos), model.decode(z, neg)])
        y = torch.cat([score.new_ones(pos.size(1)), score.new_zeros(neg.size(1))])
        return score, y

    def evaluate(self, model, split: str) -> dict:
        pos, neg = self.pairs(split)
        if pos.size(1) == 0 or neg.size(1) == 0:
            return {"loss": None, "auc": None, "ap": None}
        score, y = self.scores(model, split)
        loss = F.binary_cross_entropy(score.clamp(1e-7, 1 - 1e-7), y).item()
        out = {"loss": loss, "auc": roc_auc(score, y), "ap": average_precision(score, y)}
        if split == "test" and self.probe and self._has_labels():
            out["probe_micro_f1"] = self.probe_micro_f1(model)
        return out

    # -------------------------------------------------------------- embeddings
    def _has_labels(self) -> bool:
        g = self.graph
        return g.get("y") is not None and g.get("train_mask") is not None and g.get("test_mask") is not None

    def embeddings(self, model, split: str = "test", mask: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The embeddings ``z`` (VGAE: the means) of the public ``split`` nodes (every node with
        ``mask=False``) and their labels, for the t-SNE picture and the probe."""
        with evaluating(model):
            z = model.encode(self.graph.x, self.adj).detach()
        if not mask:
            return z, self.graph.y
        m = self.graph.get(f"{check_split(split)}_mask")
        return z[m], self.graph.y[m]

    def probe_micro_f1(self, model) -> float:
        """Micro-F1 (= accuracy for one label per node) of scikit-learn's logistic regression fitted
        on the training nodes' frozen embeddings, on the test nodes."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score

        z_train, y_train = self.embeddings(model, "train")
        z_test, y_test = self.embeddings(model, "test")
        clf = LogisticRegression(max_iter=2000)
        clf.fit(z_train.double().numpy(), y_train.numpy())
        return float(f1_score(y_test.numpy(), clf.predict(z_test.double().numpy()), average="micro"))
