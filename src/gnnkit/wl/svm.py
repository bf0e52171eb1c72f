"""The WL subtree kernel + C-SVM baseline of the GIN paper's Table 1, one fold at a time.

Xu et al. (ICLR 2019), Section 7 "Baselines": the WL subtree kernel (Shervashidze et al. 2011)
with a C-SVM, C and the number of iterations chosen by cross-validation. Here, in each outer fold:

1. the graphs' WL features are computed once for all graphs up to ``max(ITERATIONS)`` (one shared
   dictionary; a colour seen only in test graphs adds nothing to a kernel entry with a training
   graph, so this equals fitting the dictionary on the training graphs alone);
2. every ``(h, C)`` in ``ITERATIONS x CS`` is scored by stratified ``INNER_FOLDS``-fold CV on the
   outer training graphs (``SVC(kernel='precomputed')``);
3. the best pair (ties: smaller h, then smaller C) is refit on all outer training graphs and tested.

The kernel (``normalize``):

- ``'mean'`` (the experiments' setting): the plain kernel of Shervashidze et al., the inner product
  of colour counts, divided by one number per fold, the mean of k(G, G) over the fold's training
  graphs. Dividing a kernel by a constant s is the same SVM as the plain kernel with C / s, so this
  is the paper's kernel with the C grid stated relative to the kernel's size. On the raw counts
  with C itself on the grid, libsvm took over 20x longer at large C (PTC, one fold: more than
  160 s against 7 s); with the scale it takes about as long as the cosine form.
- ``'cosine'``: k(G, G') / sqrt(k(G, G) k(G', G')). Every graph's features get unit length, so
  the kernel no longer sees a graph's size; on REDDIT-BINARY (constant initial colours, sizes
  from tens to thousands of nodes) that cost 4.4 points (76.3 against 80.7 with ``'mean'``,
  docs/results/60-gin.md).
- ``None``: the raw counts, with C as given.

The initial colours are the node inputs GIN gets (:func:`gnnkit.wl.node_labels`): node labels for
the bio sets, the degree for IMDB / COLLAB (one-hot degree's argmax), a constant for REDDIT.
"""
from __future__ import annotations

import time

import numpy as np

from gnnkit.wl.kernel import kernel_matrices, normalize_kernel, wl_features

ITERATIONS = (1, 2, 3, 4, 5, 6)
CS = (1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2, 1e3)
INNER_FOLDS = 5

_CACHE: dict = {}


def dataset_kernels(graphs, iterations: int = max(ITERATIONS)) -> list[np.ndarray]:
    """``[K_0, ..., K_h]`` over all ``graphs`` (cached per graph list: the folds of one dataset share it)."""
    key = (id(graphs), iterations)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is graphs:
        return hit[1]
    feats, _ = wl_features(list(graphs), iterations)
    kernels = kernel_matrices(feats)
    _CACHE.clear()
    _CACHE[key] = (graphs, kernels)
    return kernels


NORMALIZE = ("mean", "cosine", None)


def scale_kernels(kernels: list[np.ndarray], normalize: str | None, train: np.ndarray) -> list[np.ndarray]:
    """Each ``K_h`` as ``normalize`` says (see the module docstring): ``'mean'`` divides it by the
    mean of its diagonal over the ``train`` graphs, ``'cosine'`` by sqrt(k(G, G) k(G', G')) (both new
    arrays: the cached kernels are not changed); ``None`` returns the same arrays."""
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize must be one of {NORMALIZE} (got {normalize!r})")
    if normalize == "cosine":
        return [normalize_kernel(k, np.diag(k), np.diag(k)) for k in kernels]
    if normalize == "mean":
        scales = [float(np.diag(k)[train].mean()) for k in kernels]
        return [k / s if s > 0 else np.asarray(k, dtype=np.float64) for k, s in zip(kernels, scales)]
    return list(kernels)


def select_and_test(kernels: list[np.ndarray], y: np.ndarray, train: np.ndarray, test: np.ndarray,
                    iterations=ITERATIONS, cs=CS, inner_folds: int = INNER_FOLDS, seed: int = 0) -> dict:
    """Inner CV over ``(h, C)`` on ``train``, refit, test. Returns the chosen pair, its inner CV
    accuracy, and the train / test accuracy."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import SVC

    y_tr = y[train]
    counts = np.bincount(y_tr)
    k = max(2, min(inner_folds, int(counts[counts > 0].min())))
    splits = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(len(train)), y_tr))
    scores = {}
    for h in iterations:
        kt = kernels[h][np.ix_(train, train)]
        for c in cs:
            accs = []
            for a, b in splits:
                svm = SVC(C=c, kernel="precomputed").fit(kt[np.ix_(a, a)], y_tr[a])
                accs.append(float((svm.predict(kt[np.ix_(b, a)]) == y_tr[b]).mean()))
            scores[(h, c)] = float(np.mean(accs))
    h, c = max(scores, key=lambda hc: (scores[hc], -hc[0], -hc[1]))
    svm = SVC(C=c, kernel="precomputed").fit(kernels[h][np.ix_(train, train)], y_tr)
    return {"iterations": h, "C": c, "inner_cv": scores[(h, c)],
            "train": float((svm.predict(kernels[h][np.ix_(train, train)]) == y_tr).mean()),
            "test": float((svm.predict(kernels[h][np.ix_(test, train)]) == y[test]).mean())}


def grid_test_accuracies(kernels: list[np.ndarray], y: np.ndarray, train: np.ndarray, test: np.ndarray,
                         iterations=ITERATIONS, cs=CS) -> list[float]:
    """The test accuracy of an SVM fit on all of ``train`` at every ``(h, C)`` of the grid, ``h`` outer
    and ``C`` inner (grid point ``t`` is ``h = iterations[t // len(cs)]``, ``C = cs[t % len(cs)]``): the
    curve the 'gin-paper' protocol averages over the folds to pick one grid point, as the GIN paper
    picks one epoch for its networks."""
    from sklearn.svm import SVC

    curve = []
    for h in iterations:
        k_train, k_test = kernels[h][np.ix_(train, train)], kernels[h][np.ix_(test, train)]
        for c in cs:
            svm = SVC(C=c, kernel="precomputed").fit(k_train, y[train])
            curve.append(float((svm.predict(k_test) == y[test]).mean()))
    return curve


def run_wl(exp, seed: int = 0, root=None, out=None, quiet: bool = True, resume: bool = False, task=None,
           fold: int | None = None, **_) -> dict:
    """One fold of a ``wl-*`` experiment (the ``experiments.run`` runner for ``model='wl-subtree'``):
    ``task`` is the fold's ``GraphClassification``. ``exp.model_args`` may set ``iterations`` and
    ``cs`` (the grids), ``inner_folds`` and ``normalize``. Returns the row ``run.run`` returns."""
    from gnnkit.experiments.data import load_data, make_task

    if task is None:
        task = make_task(exp, load_data(exp, root), fold or 0)
    started = time.perf_counter()
    args = dict(exp.model_args)
    iterations = tuple(args.get("iterations", ITERATIONS))
    kernels = dataset_kernels(task.graphs, max(iterations))
    train, test, cs = task.train_idx.numpy(), task.test_idx.numpy(), tuple(args.get("cs", CS))
    kernels = scale_kernels(kernels, args.get("normalize", "mean"), train)
    y = np.array([int(g.y) for g in task.graphs])
    r = select_and_test(kernels, y, train, test, iterations, cs, int(args.get("inner_folds", INNER_FOLDS)), seed)
    # 'gin-paper': also the test accuracy at every grid point, for the protocol's summary to pick the
    # point with the best 10-fold mean (the row's own test stays the inner-CV choice)
    curve = grid_test_accuracies(kernels, y, train, test, iterations, cs) if exp.protocol == "gin-paper" else None
    seconds = time.perf_counter() - started
    return {"experiment": exp.name, "seed": seed, "fold": fold, "metric": "acc", "test": r["test"],
            "val": r["inner_cv"], "train": r["train"], "test_loss": None,
            "test_metrics": {"loss": None, "acc": r["test"]}, "val_metrics": {"acc": r["inner_cv"]},
            "epochs": 0, "best_epoch": None, "seconds": round(seconds, 3), "val_curve": curve, "train_curve": None,
            "selected_overrides": {"iterations": r["iterations"], "C": r["C"]}, "model": None}
