"""Graph auto-encoders: the inner-product decoder, GAE and VGAE as encoder + decoder + losses.

Kipf & Welling, "Variational Graph Auto-Encoders", NIPS Bayesian Deep Learning workshop 2016,
https://arxiv.org/abs/1611.07308.

.. math::
    \\text{GAE:}\\quad Z = \\mathrm{GCN}(X, A), \\qquad
    \\text{VGAE:}\\quad q(z_i \\mid X, A) = \\mathcal N(\\mu_i, \\mathrm{diag}(\\sigma_i^2)),\\;
        \\mu = \\mathrm{GCN}_\\mu(X, A),\\; \\log\\sigma = \\mathrm{GCN}_\\sigma(X, A)

    p(A_{ij} = 1 \\mid z_i, z_j) = \\sigma(z_i^\\top z_j) \\qquad \\text{(inner-product decoder, Eq. 2)}

    \\mathcal L = \\mathbb E_q[\\log p(A \\mid Z)] - \\mathrm{KL}[q(Z \\mid X, A) \\,\\|\\, p(Z)],\\qquad
    p(Z) = \\prod_i \\mathcal N(z_i \\mid 0, I) \\qquad \\text{(Eq. 3)}

``encode``, ``decode``, ``recon_loss`` and ``kl_loss`` are separate calls so that a training step
composes them (the link-prediction task does: ``z = model.encode(x, adj)``, then
``model.recon_loss(z, pos)`` plus ``model.kl_loss() / N`` for VGAE).

The reconstruction loss comes in two forms:

- ``neg_edge_index=None`` (the paper's): binary cross-entropy over all :math:`N^2` entries of
  :math:`A + I`, the positives re-weighted by :math:`w_+ = (N^2 - |A|) / |A|` and the sum scaled by
  :math:`(N^2 / (2 (N^2 - |A|))) / N^2` (the authors' code, ``gae/optimizer.py``: ``norm *
  mean(weighted_cross_entropy_with_logits(..., pos_weight))``). :math:`O(N^2)` memory.
- ``neg_edge_index`` given (negative sampling, PyG's and GraphSAGE's choice):
  :math:`-\\frac1P \\sum_{(i,j) \\in E^+} \\log \\sigma(z_i^\\top z_j) - \\frac1Q \\sum_{(i,j) \\in E^-}
  \\log(1 - \\sigma(z_i^\\top z_j))`. :math:`O(E)` memory.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["InnerProductDecoder", "GAE", "VGAE", "dense_recon_loss", "inner_product_recon_loss", "all_pairs_softplus", "sampled_recon_loss", "gaussian_kl"]

# log sigma is clamped before exp (as PyG's VGAE): a run-away log-std would otherwise overflow.
MAX_LOGSTD = 10.0


class InnerProductDecoder(nn.Module):
    """:math:`p(A_{ij} = 1) = \\sigma(z_i^\\top z_j)` (Kipf & Welling 2016, Eq. 2); no parameters.

    Shapes: z: [N, D]; edge_index: [2, P]; ``forward`` out: [P]; ``forward_all`` out: [N, N].

    Example::

        dec = InnerProductDecoder()
        p = dec(torch.randn(4, 2), torch.tensor([[0, 1], [2, 3]]))   # [2]
    """

    def forward(self, z: torch.Tensor, edge_index: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        src, dst = edge_index                                          # [P], [P]
        logits = (z[src] * z[dst]).sum(-1)                             # [P]
        return torch.sigmoid(logits) if sigmoid else logits

    def forward_all(self, z: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        logits = z @ z.t()                                             # [N, N]
        return torch.sigmoid(logits) if sigmoid else logits


def _check_positives(positives: float, n: int) -> None:
    if positives == 0:
        raise ValueError("the reconstruction target has no positive entry; pass the training edges (and self loops)")
    if positives == n * n:
        raise ValueError(f"every one of the {n} x {n} pairs is a positive: the re-weighted loss needs non-edges")


def dense_recon_loss(logits: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """The paper's re-weighted reconstruction loss from dense logits ``[N, N]`` and the positive
    entries ``edge_index`` ``[2, E]`` of the target :math:`A + I` (duplicates count once)."""
    n = logits.size(0)
    target = torch.zeros(n, n, dtype=logits.dtype, device=logits.device)
    target[edge_index[0], edge_index[1]] = 1.0                         # [N, N]
    positives = float(target.sum())
    _check_positives(positives, n)
    pos_weight = (n * n - positives) / positives
    norm = n * n / (2.0 * (n * n - positives))
    pw = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return norm * F.binary_cross_entropy_with_logits(logits, target, pos_weight=pw)


class _AllPairsSoftplus(torch.autograd.Function):
    """:math:`\\sum_{i,j} \\mathrm{softplus}(z_i^\\top z_j)` and its gradient :math:`2\\,\\sigma(ZZ^\\top)Z`,
    computed in blocks of rows so that no :math:`N \\times N` matrix is kept."""

    @staticmethod
    def forward(ctx, z: torch.Tensor, block: int):
        # x is symmetric: each block of rows [s, e) takes columns s.. only; its square diagonal
        # block holds both (i, j) and (j, i), the columns right of it stand for their mirror too.
        total = torch.zeros((), dtype=z.dtype, device=z.device)
        grad = torch.zeros_like(z)
        for s in range(0, z.size(0), block):
            e = min(s + block, z.size(0))
            x = z[s:e] @ z[s:].t()                                          # [b, N - s] logits
            diag, off = x[:, :e - s], x[:, e - s:]
            total += F.softplus(diag).sum() + 2.0 * F.softplus(off).sum()
            torch.sigmoid_(x)
            grad[s:e] += 2.0 * (diag @ z[s:e] + off @ z[e:])               # [b, D]
            grad[e:] += 2.0 * (off.t() @ z[s:e])                            # [N - e, D]
        ctx.save_for_backward(grad)
        return total

    @staticmethod
    def backward(ctx, grad_out):
        (grad,) = ctx.saved_tensors
        return grad_out * grad, None


def all_pairs_softplus(z: torch.Tensor, block: int = 512) -> torch.Tensor:
    """:math:`\\sum_{i,j} \\mathrm{softplus}(z_i^\\top z_j) = -\\sum_{i,j} \\log(1 - \\sigma(z_i^\\top z_j))`,
    the all-negatives part of the inner-product decoder's dense loss, with its gradient
    :math:`2\\,\\sigma(ZZ^\\top) Z` formed in the same pass over blocks of ``block`` rows (O(block N)
    memory instead of the O(N^2) logits, probabilities and targets of :func:`dense_recon_loss`).
    Measured on Cora (N = 2,708, D = 16), forward + backward, one thread: 0.28 s through autograd on
    the dense logits, 0.55 s through :func:`dense_recon_loss`, against this function's time in
    ``docs/benchmarks.md``. z: [N, D]; out: scalar."""
    return _AllPairsSoftplus.apply(z, block)


def inner_product_recon_loss(z: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """:func:`dense_recon_loss` of the inner-product decoder's logits :math:`ZZ^\\top` without
    forming them: with :math:`x_{ij} = z_i^\\top z_j`, each entry's weighted cross-entropy is
    :math:`w_+ \\mathrm{softplus}(-x)` for a positive and :math:`\\mathrm{softplus}(x)` for a negative, so

    .. math::
        \\sum_{ij} \\ell_{ij} = \\sum_{ij} \\mathrm{softplus}(x_{ij})
            + \\sum_{(i,j) \\in E^+} \\big(w_+ \\mathrm{softplus}(-x_{ij}) - \\mathrm{softplus}(x_{ij})\\big)

    (:func:`all_pairs_softplus` for the first sum). Equal to ``dense_recon_loss(z @ z.t(), edge_index)``,
    gradients included (tested). z: [N, D]; edge_index: [2, E] positive entries."""
    n = z.size(0)
    key = torch.unique(edge_index[0] * n + edge_index[1])                     # duplicates count once
    _check_positives(key.numel(), n)
    src, dst = key // n, key % n
    positives = key.numel()
    pos_weight = (n * n - positives) / positives
    norm = n * n / (2.0 * (n * n - positives))
    x = (z[src] * z[dst]).sum(-1)                                             # [E+]
    total = all_pairs_softplus(z) + (pos_weight * F.softplus(-x) - F.softplus(x)).sum()
    return norm * total / (n * n)


def sampled_recon_loss(pos_logits: torch.Tensor, neg_logits: torch.Tensor) -> torch.Tensor:
    """Negative-sampling reconstruction loss: mean BCE of positives plus mean BCE of negatives."""
    pos = F.binary_cross_entropy_with_logits(pos_logits, torch.ones_like(pos_logits))
    neg = F.binary_cross_entropy_with_logits(neg_logits, torch.zeros_like(neg_logits))
    return pos + neg


def gaussian_kl(mu: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
    """Mean over nodes of :math:`\\mathrm{KL}[\\mathcal N(\\mu_i, \\sigma_i^2) \\| \\mathcal N(0, I)] =
    -\\frac12 \\sum_d (1 + 2 \\log\\sigma_{id} - \\mu_{id}^2 - \\sigma_{id}^2)`. mu, logstd: [N, D]."""
    logstd = logstd.clamp(max=MAX_LOGSTD)
    return -0.5 * (1 + 2 * logstd - mu.pow(2) - logstd.exp().pow(2)).sum(-1).mean()


class GAE(nn.Module):
    """Graph auto-encoder: an encoder to node embeddings ``Z`` and a decoder of node pairs
    (Kipf & Welling 2016; equations in the module docstring).

    Args:
        encoder: any module; ``encode(*args)`` returns ``encoder(*args)`` ([N, D]).
        decoder: pair scores from ``Z``; default :class:`InnerProductDecoder`.

    Shapes: z: [N, D]; pair edge_index: [2, P]; decode out: [P] probabilities.

    Example::

        model = GAE(GCNEncoder(1433, 32, 16))
        z = model.encode(g.x, g.adj())                               # [N, 16]
        loss = model.recon_loss(z, pos_edge_index, neg_edge_index)
    """

    variational = False

    def __init__(self, encoder: nn.Module, decoder: nn.Module | None = None):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder if decoder is not None else InnerProductDecoder()

    def encode(self, *args, **kwargs) -> torch.Tensor:
        return self.encoder(*args, **kwargs)                          # [N, D]

    def forward(self, *args, **kwargs) -> torch.Tensor:
        return self.encode(*args, **kwargs)

    def embed(self, *args, **kwargs) -> torch.Tensor:
        """The embeddings ``Z`` (for a probe or a t-SNE picture)."""
        return self.encode(*args, **kwargs)

    def decode(self, z: torch.Tensor, edge_index: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        """Edge probabilities (logits with ``sigmoid=False``) of the pairs ``edge_index`` [2, P]."""
        return self.decoder(z, edge_index, sigmoid=sigmoid)            # [P]

    def recon_loss(self, z: torch.Tensor, pos_edge_index: torch.Tensor,
                   neg_edge_index: torch.Tensor | None = None) -> torch.Tensor:
        """Reconstruction loss: the paper's re-weighted dense loss over all pairs when
        ``neg_edge_index`` is ``None`` (``pos_edge_index`` then lists every positive entry of the
        target, both directions and self loops), else the negative-sampling loss."""
        if pos_edge_index.dim() != 2 or pos_edge_index.size(0) != 2:
            raise ValueError(f"pos_edge_index must have shape [2, P] (got {list(pos_edge_index.shape)})")
        if neg_edge_index is None:
            if type(self.decoder) is InnerProductDecoder:                 # the same loss, blockwise
                return inner_product_recon_loss(z, pos_edge_index)
            return dense_recon_loss(self.decoder.forward_all(z, sigmoid=False), pos_edge_index)
        return sampled_recon_loss(self.decode(z, pos_edge_index, sigmoid=False),
                                  self.decode(z, neg_edge_index, sigmoid=False))


class VGAE(GAE):
    """Variational graph auto-encoder (Kipf & Welling 2016): the encoder returns ``(mu, logstd)``;
    in training ``encode`` samples :math:`z = \\mu + \\sigma \\odot \\epsilon`,
    :math:`\\epsilon \\sim \\mathcal N(0, I)` (the reparameterization trick, from the global torch
    generator), in eval mode it returns :math:`\\mu`. ``kl_loss()`` is the mean per-node KL of the
    last encoding to the prior :math:`\\mathcal N(0, I)`; the paper's objective adds ``kl_loss() / N``
    to the reconstruction loss (the authors' code scales the KL by ``0.5 / N``).

    Shapes: mu, logstd, z: [N, D].

    Example::

        model = VGAE(GCNEncoder(1433, 32, 16, variational=True))
        z = model.encode(g.x, g.adj())
        loss = model.recon_loss(z, pos) + model.kl_loss() / g.num_nodes
    """

    variational = True

    def encode(self, *args, **kwargs) -> torch.Tensor:
        out = self.encoder(*args, **kwargs)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError("a VGAE encoder must return (mu, logstd); build it with variational=True")
        self.mu, self.logstd = out                                     # [N, D], [N, D]
        self.logstd = self.logstd.clamp(max=MAX_LOGSTD)
        if not self.training:
            return self.mu
        return self.mu + torch.randn_like(self.mu) * self.logstd.exp()  # [N, D]

    def kl_loss(self, mu: torch.Tensor | None = None, logstd: torch.Tensor | None = None) -> torch.Tensor:
        """Mean over nodes of KL(q(z_i) || N(0, I)); defaults to the last ``encode``'s mu and logstd."""
        if mu is None or logstd is None:
            if not hasattr(self, "mu"):
                raise ValueError("kl_loss() needs mu and logstd: call encode(...) first or pass them")
            mu, logstd = self.mu, self.logstd
        return gaussian_kl(mu, logstd)
