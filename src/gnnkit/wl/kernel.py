"""The Weisfeiler-Lehman subtree kernel (Shervashidze, Schweitzer, van Leeuwen, Mehlhorn &
Borgwardt, "Weisfeiler-Lehman Graph Kernels", JMLR 12, 2011), scikit-learn compatible.

.. math::
    \\phi(G) = \\big(c_0(G, \\sigma_{0,1}), \\dots, c_0(G, \\sigma_{0,|\\Sigma_0|}), \\dots,
        c_h(G, \\sigma_{h,1}), \\dots, c_h(G, \\sigma_{h,|\\Sigma_h|})\\big), \\qquad
    k_h(G, G') = \\langle \\phi(G), \\phi(G') \\rangle

:math:`c_t(G, \\sigma)` counts the nodes of :math:`G` with colour :math:`\\sigma` after :math:`t`
refinement iterations (:mod:`gnnkit.wl.refine`); the colours of iterations 0..h are distinct
features. The kernel is an inner product of count vectors, hence symmetric positive
semi-definite. With ``normalize`` it is :math:`k(G,G') / \\sqrt{k(G,G)\\,k(G',G')}`.

:class:`WLSubtreeKernel` is a scikit-learn transformer: ``fit(graphs)`` colours the training
graphs (their dictionary), ``transform(graphs)`` returns the kernel matrix against them, so it
chains with ``SVC(kernel='precomputed')`` in a ``Pipeline`` and ``GridSearchCV`` can tune
``iterations`` and ``C`` together.

Example::

    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC
    clf = make_pipeline(WLSubtreeKernel(iterations=3), SVC(kernel="precomputed", C=1.0))
    clf.fit(train_graphs, y_train).score(test_graphs, y_test)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from gnnkit.wl.refine import WLDictionary, node_labels, refine


def wl_features(graphs: Sequence, iterations: int, labels=None, dictionary: WLDictionary | None = None,
                sizes: list[int] | None = None) -> tuple[list[sp.csr_matrix], WLDictionary]:
    """``[Phi_0, ..., Phi_h]``: per iteration a sparse count matrix [G, |Sigma_t|] of the graphs'
    colours (exactly h iterations, also past stability, as the kernel's definition does).

    Args:
        graphs: ``Graph`` objects (initial colours from :func:`node_labels` unless ``labels``) or
            ``(edge_index, num_nodes)`` pairs.
        iterations: h.
        dictionary: share one (a fitted kernel's); ``sizes`` then cuts each level to the colours the
            dictionary knew at fit time (new colours cannot match a training graph).
    """
    if labels is None:
        labels = [node_labels(g).numpy() if not isinstance(g, tuple) else None for g in graphs]
        labels = None if any(lab is None for lab in labels) else labels
    dictionary = dictionary if dictionary is not None else WLDictionary()
    r = refine(graphs, labels, iterations=iterations, dictionary=dictionary)
    feats = []
    for t in range(iterations + 1):
        c = r.colours[t]
        width = dictionary.size(t)
        if sizes is not None:
            width = sizes[t]
            keep = c < width
        else:
            keep = np.ones(len(c), dtype=bool)
        m = sp.csr_matrix((np.ones(int(keep.sum())), (r.graph[keep], c[keep])), shape=(r.num_graphs, width))
        feats.append(m)
    return feats, dictionary


def kernel_matrices(feats: list[sp.csr_matrix], other: list[sp.csr_matrix] | None = None) -> list[np.ndarray]:
    """Cumulative kernels ``[K_0, K_1, ..., K_h]`` with ``K_t = sum_{s <= t} Phi_s Phi_s'^T`` (dense)."""
    other = feats if other is None else other
    out, total = [], None
    for a, b in zip(feats, other):
        k = np.asarray((a @ b.T).todense(), dtype=np.float64)
        total = k if total is None else total + k
        out.append(total.copy())
    return out


def normalize_kernel(k: np.ndarray, diag_rows: np.ndarray, diag_cols: np.ndarray) -> np.ndarray:
    """:math:`k_{ij} / \\sqrt{k_{ii} k_{jj}}` (zero where a diagonal entry is zero)."""
    scale = np.sqrt(np.outer(diag_rows, diag_cols))
    return np.divide(k, scale, out=np.zeros_like(k), where=scale > 0)


class WLSubtreeKernel(TransformerMixin, BaseEstimator):
    """The WL subtree kernel as a scikit-learn transformer (see the module docstring).

    Args:
        iterations: h, refinement iterations (default 3; the features span iterations 0..h).
        normalize: cosine-normalise the kernel (default False, the paper's plain kernel).

    ``fit(X)`` takes a list of graphs; ``transform(X)`` returns the kernel [len(X), n_fit].
    """

    def __init__(self, iterations: int = 3, normalize: bool = False):
        self.iterations = iterations
        self.normalize = normalize

    def fit(self, X, y=None):
        if not isinstance(self.iterations, (int, np.integer)) or self.iterations < 0:
            raise ValueError(f"iterations must be an int >= 0 (got {self.iterations!r})")
        self.dictionary_ = WLDictionary()
        self.features_, _ = wl_features(list(X), int(self.iterations), dictionary=self.dictionary_)
        self.sizes_ = [f.shape[1] for f in self.features_]
        self.diag_ = self._diag(self.features_)
        return self

    @staticmethod
    def _diag(feats) -> np.ndarray:
        return np.asarray(sum(f.multiply(f).sum(1) for f in feats)).reshape(-1)

    def features(self, X) -> sp.csr_matrix:
        """phi(X) in the fitted feature space: [len(X), sum_t |Sigma_t|] counts (new colours dropped)."""
        if not hasattr(self, "dictionary_"):
            raise ValueError("WLSubtreeKernel is not fitted; call fit(graphs) first")
        feats, _ = wl_features(list(X), int(self.iterations), dictionary=self.dictionary_, sizes=self.sizes_)
        return sp.hstack(feats).tocsr()

    def transform(self, X) -> np.ndarray:
        phi = self.features(X)
        k = np.asarray((phi @ sp.hstack(self.features_).tocsr().T).todense(), dtype=np.float64)
        if self.normalize:
            k = normalize_kernel(k, np.asarray(phi.multiply(phi).sum(1)).reshape(-1), self.diag_)
        return k

    def fit_transform(self, X, y=None, **fit_params) -> np.ndarray:
        self.fit(X)
        phi = sp.hstack(self.features_).tocsr()
        k = np.asarray((phi @ phi.T).todense(), dtype=np.float64)
        return normalize_kernel(k, self.diag_, self.diag_) if self.normalize else k
