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
    """Inner-product decoder: an edge's probability is the sigmoid of its end points' dot product.

    Kipf & Welling, "Variational Graph Auto-Encoders", NIPS Bayesian Deep Learning workshop 2016,
    https://arxiv.org/abs/1611.07308 (Eq. 2)

    .. math::
        p(A_{ij} = 1 \\mid z_i, z_j) = \\sigma(z_i^\\top z_j)

    :math:`z_i \\in \\mathbb{R}^{F}` is node :math:`i`'s embedding (row :math:`i` of :math:`Z`),
    :math:`\\sigma` the logistic sigmoid. ``forward`` scores the pairs listed in ``edge_index``
    (row 0 holds :math:`i`, row 1 :math:`j`); ``forward_all`` scores every pair,
    :math:`\\sigma(Z Z^\\top)`. No parameters.

    Args:
        sigmoid: (of ``forward`` and ``forward_all``) return probabilities (default ``True``) or
            the logits :math:`z_i^\\top z_j` (``False``, for a loss with logits).

    Shapes:
        z: [N, F]; edge_index: [2, P], P node pairs (edges or non-edges);
        ``forward`` out: [P]; ``forward_all`` out: [N, N].

    Example::

        dec, z = InnerProductDecoder(), torch.randn(4, 2)
        dec(z, torch.tensor([[0, 1], [2, 3]])).shape        # [2]: p(A_02), p(A_13)
        dec.forward_all(z).shape                           # [4, 4]
    """

    def forward(self, z: torch.Tensor, edge_index: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        src, dst = edge_index                                          # [P], [P]
        logits = (z[src] * z[dst]).sum(-1)                             # [P]
        return torch.sigmoid(logits) if sigmoid else logits

    def forward_all(self, z: torch.Tensor, sigmoid: bool = True) -> torch.Tensor:
        """:math:`\\sigma(Z Z^\\top)` (or the logits :math:`Z Z^\\top`): every pair, [N, N]."""
        logits = z @ z.t()                                             # [N, N]
        return torch.sigmoid(logits) if sigmoid else logits


def _check_positives(positives: float, n: int) -> None:
    if positives == 0:
        raise ValueError("the reconstruction target has no positive entry; pass the training edges (and self loops)")
    if positives == n * n:
        raise ValueError(f"every one of the {n} x {n} pairs is a positive: the re-weighted loss needs non-edges")


def dense_recon_loss(logits: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """The paper's re-weighted reconstruction loss (:class:`GAE`'s :math:`\\mathcal L_{\\text{dense}}`)
    from dense logits and the positive entries ``edge_index`` of the target :math:`A + I`
    (duplicates count once): ``norm * binary_cross_entropy_with_logits(logits, A, pos_weight)``
    with the authors' ``pos_weight`` :math:`(N^2 - |A|) / |A|` and ``norm``
    :math:`N^2 / (2 (N^2 - |A|))`. :math:`O(N^2)` memory.

    Shapes: logits: [N, N]; edge_index: [2, E]; out: a scalar.

    Example::

        z, edge_index = torch.randn(3, 2), torch.tensor([[0, 1, 0, 1, 2], [1, 0, 0, 1, 2]])
        dense_recon_loss(z @ z.t(), edge_index)           # scalar; A + I of the edge 0-1
    """
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
    ``docs/benchmarks.md``.

    Shapes: z: [N, F]; out: a scalar.

    Example::

        z = torch.randn(5, 2)
        all_pairs_softplus(z, block=2)                    # == F.softplus(z @ z.t()).sum()
    """
    return _AllPairsSoftplus.apply(z, block)


def inner_product_recon_loss(z: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """:func:`dense_recon_loss` of the inner-product decoder's logits :math:`ZZ^\\top` without
    forming them: with :math:`x_{ij} = z_i^\\top z_j`, each entry's weighted cross-entropy is
    :math:`w_+ \\mathrm{softplus}(-x)` for a positive and :math:`\\mathrm{softplus}(x)` for a negative, so

    .. math::
        \\sum_{ij} \\ell_{ij} = \\sum_{ij} \\mathrm{softplus}(x_{ij})
            + \\sum_{(i,j) \\in E^+} \\big(w_+ \\mathrm{softplus}(-x_{ij}) - \\mathrm{softplus}(x_{ij})\\big)

    (:func:`all_pairs_softplus` for the first sum). Equal to ``dense_recon_loss(z @ z.t(), edge_index)``,
    gradients included (tested).

    Shapes: z: [N, F]; edge_index: [2, E], the positive entries; out: a scalar.

    Example::

        z, edge_index = torch.randn(3, 2), torch.tensor([[0, 1, 0, 1, 2], [1, 0, 0, 1, 2]])
        inner_product_recon_loss(z, edge_index)           # == dense_recon_loss(z @ z.t(), edge_index)
    """
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
    """Negative-sampling reconstruction loss (:class:`GAE`'s :math:`\\mathcal L_{\\text{sampled}}`):
    mean binary cross-entropy of the positives' logits against 1 plus that of the negatives' against 0,

    .. math::
        -\\frac1P \\sum_{p=1}^{P} \\log \\sigma(x^+_p) - \\frac1Q \\sum_{q=1}^{Q} \\log(1 - \\sigma(x^-_q))

    Shapes: pos_logits: [P]; neg_logits: [Q]; out: a scalar.

    Example::

        sampled_recon_loss(torch.tensor([2.0, 1.0]), torch.tensor([-1.0]))   # scalar
    """
    pos = F.binary_cross_entropy_with_logits(pos_logits, torch.ones_like(pos_logits))
    neg = F.binary_cross_entropy_with_logits(neg_logits, torch.zeros_like(neg_logits))
    return pos + neg


def gaussian_kl(mu: torch.Tensor, logstd: torch.Tensor) -> torch.Tensor:
    """Mean over nodes of the KL divergence of each node's Gaussian from the standard normal prior,

    .. math::
        \\frac1N \\sum_i \\mathrm{KL}[\\mathcal N(\\mu_i, \\mathrm{diag}(\\sigma_i^2)) \\| \\mathcal N(0, I)] =
        \\frac1N \\sum_i -\\frac12 \\sum_{d=1}^{F} (1 + 2 \\log\\sigma_{id} - \\mu_{id}^2 - \\sigma_{id}^2)

    with :math:`\\log\\sigma` clamped at ``MAX_LOGSTD`` = 10 first.

    Shapes: mu, logstd: [N, F]; out: a scalar.

    Example::

        gaussian_kl(torch.zeros(4, 2), torch.zeros(4, 2))   # 0: q is the prior itself
    """
    logstd = logstd.clamp(max=MAX_LOGSTD)
    return -0.5 * (1 + 2 * logstd - mu.pow(2) - logstd.exp().pow(2)).sum(-1).mean()


class GAE(nn.Module):
    """Graph auto-encoder: an encoder to node embeddings ``Z`` and a decoder of node pairs.

    Kipf & Welling, "Variational Graph Auto-Encoders", NIPS Bayesian Deep Learning workshop 2016,
    https://arxiv.org/abs/1611.07308 (the non-probabilistic GAE, Eq. 4)

    .. math::
        Z = \\mathrm{enc}(X, A), \\qquad \\hat A_{ij} = \\sigma(z_i^\\top z_j)

        \\mathcal L_{\\text{dense}} = \\frac{n_A}{N^2} \\sum_{i,j} \\big( -w_+ A_{ij} \\log \\hat A_{ij}
            - (1 - A_{ij}) \\log(1 - \\hat A_{ij}) \\big), \\qquad
        \\mathcal L_{\\text{sampled}} = -\\frac1P \\sum_{(i,j) \\in E^+} \\log \\hat A_{ij}
            - \\frac1Q \\sum_{(i,j) \\in E^-} \\log(1 - \\hat A_{ij})

    :math:`X` the node features, :math:`A` the graph the encoder reads (``SparseAdj`` or
    edge_index), :math:`z_i` row :math:`i` of :math:`Z`, :math:`\\sigma` the sigmoid (the default
    :class:`InnerProductDecoder`; another ``decoder`` replaces :math:`\\hat A_{ij}`).
    ``recon_loss`` without ``neg_edge_index`` is :math:`\\mathcal L_{\\text{dense}}` over all
    :math:`N^2` pairs: :math:`A_{ij} = 1` at the entries ``pos_edge_index`` lists, :math:`|A|` of
    them (duplicates count once), :math:`w_+ = (N^2 - |A|) / |A|` and
    :math:`n_A = N^2 / (2 (N^2 - |A|))` (the authors' ``pos_weight`` and ``norm``). With
    ``neg_edge_index`` it is :math:`\\mathcal L_{\\text{sampled}}` over the :math:`P` pairs
    :math:`E^+` of ``pos_edge_index`` and the :math:`Q` pairs :math:`E^-` of ``neg_edge_index``.

    Args:
        encoder: any module; ``encode(*args)`` returns ``encoder(*args)`` ([N, F]), e.g.
            ``gnnkit.models.GCNEncoder`` (the paper's two-layer GCN).
        decoder: pair scores from ``Z`` (default ``None``: :class:`InnerProductDecoder`).

    Shapes:
        z: [N, F]; pos_edge_index: [2, P]; neg_edge_index: [2, Q]; ``decode`` out: [P]
        probabilities; ``recon_loss`` out: a scalar.

    Example::

        model, edge_index = GAE(nn.Linear(3, 2)), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        z = model.encode(torch.randn(4, 3))                                # [4, 2]
        loss = model.recon_loss(z, edge_index, torch.tensor([[0, 3], [3, 2]]))   # scalar
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
    """Variational graph auto-encoder: a Gaussian per node, sampled by the reparameterization trick.

    Kipf & Welling, "Variational Graph Auto-Encoders", NIPS Bayesian Deep Learning workshop 2016,
    https://arxiv.org/abs/1611.07308 (Eq. 1-3)

    .. math::
        (\\mu, \\log\\sigma) = \\mathrm{enc}(X, A), \\qquad
        z_i = \\mu_i + \\sigma_i \\odot \\epsilon_i \\;\\text{(training)}, \\quad z_i = \\mu_i \\;\\text{(eval)}

        \\mathrm{KL} = \\frac1N \\sum_i -\\frac12 \\sum_{d=1}^{F} \\big(1 + 2 \\log\\sigma_{id}
            - \\mu_{id}^2 - \\sigma_{id}^2\\big)

    :math:`\\mu_i, \\sigma_i \\in \\mathbb{R}^F` the mean and standard deviation of node :math:`i`'s
    posterior :math:`q(z_i \\mid X, A)`, :math:`\\log\\sigma` clamped at ``MAX_LOGSTD`` = 10 before
    use, :math:`\\epsilon_i \\sim \\mathcal N(0, I)` drawn from the global torch generator, and
    KL (``kl_loss()``) the mean over nodes of :math:`\\mathrm{KL}[q(z_i) \\| \\mathcal N(0, I)]`
    for the last ``encode``. Decoder and reconstruction loss are :class:`GAE`'s. The paper's
    objective (Eq. 3, negated) is ``recon_loss(...) + kl_loss() / N``; the authors' code subtracts
    ``(0.5 / N) * mean_i sum_d (1 + 2 log sigma - mu^2 - sigma^2)``, the same term.

    Args:
        encoder: a module returning ``(mu, logstd)``, e.g. ``gnnkit.models.GCNEncoder(...,
            variational=True)``; anything else is refused at ``encode``.
        decoder: as :class:`GAE` (default ``None``: :class:`InnerProductDecoder`).

    Shapes:
        mu, logstd, z: [N, F]; ``kl_loss()`` out: a scalar; the rest as :class:`GAE`.

    Example::

        from gnnkit.models import GCNEncoder
        model, edge_index = VGAE(GCNEncoder(3, 8, 2, variational=True)), torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
        z = model.encode(torch.randn(4, 3), edge_index)                    # [4, 2], sampled
        loss = model.recon_loss(z, edge_index, torch.tensor([[0, 3], [3, 2]])) + model.kl_loss() / 4
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
