"""The WL subtree kernel and its SVM experiment (gnnkit/wl/kernel.py, gnnkit/wl/svm.py)."""
import numpy as np
import pytest
import torch

from gnnkit import Graph
from gnnkit.wl import WLSubtreeKernel, kernel_matrices, wl_features
from gnnkit.wl.svm import grid_test_accuracies, scale_kernels, select_and_test


def graph(pairs, n, labels=None):
    e = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t()
    x = torch.nn.functional.one_hot(torch.tensor(labels or [0] * n), 3).float()
    return Graph(x=x, edge_index=torch.cat([e, e.flip(0)], 1), num_nodes=n)


PATH3 = graph([(0, 1), (1, 2)], 3)
TRIANGLE = graph([(0, 1), (1, 2), (2, 0)], 3)
STAR4 = graph([(0, 1), (0, 2), (0, 3)], 4)


def test_kernel_hand_computed():
    # h = 1. Iteration 0: every node colour 0 -> phi_0 = node count: path 3, triangle 3.
    # Iteration 1: path {deg1: 2, deg2: 1}, triangle {deg2: 3} -> <,> = 1 * 3 = 3. k = 3*3 + 3 = 12.
    k = WLSubtreeKernel(iterations=1).fit_transform([PATH3, TRIANGLE])
    assert k.tolist() == [[9 + 5, 12], [12, 9 + 9]]


def test_kernel_is_symmetric_positive_semidefinite():
    gen = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(30):
        n = int(torch.randint(2, 9, (1,), generator=gen))
        pairs = [(int(a), int(b)) for a, b in torch.randint(0, n, (n + 2, 2), generator=gen) if a != b]
        graphs.append(graph(pairs or [(0, 1)], n, torch.randint(0, 3, (n,), generator=gen).tolist()))
    for h in (0, 2, 4):
        k = WLSubtreeKernel(iterations=h).fit_transform(graphs)
        assert np.array_equal(k, k.T)
        assert np.linalg.eigvalsh(k).min() > -1e-8 * np.abs(k).max()
    kn = WLSubtreeKernel(iterations=3, normalize=True).fit_transform(graphs)
    np.testing.assert_allclose(np.diag(kn), 1.0)
    assert np.linalg.eigvalsh(kn).min() > -1e-8


def test_transform_against_fitted_graphs_matches_the_joint_kernel():
    graphs = [PATH3, TRIANGLE, STAR4, graph([(0, 1), (1, 2), (2, 3)], 4)]
    joint = kernel_matrices(wl_features(graphs, 2)[0])[2]
    wl = WLSubtreeKernel(iterations=2).fit(graphs[:2])
    np.testing.assert_array_equal(wl.transform(graphs[2:]), joint[2:, :2])   # unseen colours add nothing


def test_sklearn_pipeline_and_grid_search_tune_iterations_and_c():
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    # class 0: paths, class 1: stars; told apart by the degree histogram (iteration 1)
    graphs, y = [], []
    for n in range(4, 14):          # (a 3-node path is a 2-leaf star)
        graphs.append(graph([(i, i + 1) for i in range(n - 1)], n)); y.append(0)
        graphs.append(graph([(0, i) for i in range(1, n)], n)); y.append(1)
    clf = make_pipeline(WLSubtreeKernel(), SVC(kernel="precomputed"))
    search = GridSearchCV(clf, {"wlsubtreekernel__iterations": [0, 1, 2], "svc__C": [0.1, 1.0]}, cv=2)
    search.fit(graphs, np.array(y))
    assert search.best_params_["wlsubtreekernel__iterations"] >= 1 and search.best_score_ >= 0.9
    assert search.score(graphs, np.array(y)) >= 0.9


def test_select_and_test_picks_by_inner_cv_only():
    y = np.array([0, 1] * 20)
    # K_0 carries no information, K_1 separates the classes perfectly
    k0 = np.ones((40, 40))
    k1 = k0 + 5 * np.equal.outer(y, y)
    r = select_and_test([k0, k1], y, np.arange(30), np.arange(30, 40), iterations=(0, 1), cs=(1.0,), inner_folds=3)
    assert r["iterations"] == 1 and r["test"] == 1.0 and r["inner_cv"] == 1.0


def test_scale_kernels_mean_divides_by_the_training_graphs_mean_self_similarity():
    k = np.array([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [3.0, 4.0, 100.0]])
    (out,) = scale_kernels([k], "mean", np.array([0, 1]))          # diagonal over train: (1 + 3) / 2 = 2
    assert out.tolist() == (k / 2).tolist() and k[0, 0] == 1.0      # a new array; the input is kept
    (cos,) = scale_kernels([k], "cosine", np.array([0, 1]))
    assert cos[0, 1] == pytest.approx(2 / np.sqrt(3)) and np.diag(cos).tolist() == [1.0, 1.0, 1.0]
    assert scale_kernels([k], None, np.array([0]))[0] is k
    with pytest.raises(ValueError, match="normalize must be one of"):
        scale_kernels([k], True, np.array([0]))


def test_cosine_kernel_cannot_see_graph_size_and_mean_scaling_can():
    # a path and two disjoint copies of it: same colour proportions, twice the counts
    double = graph([(0, 1), (1, 2), (3, 4), (4, 5)], 6)
    (k,) = kernel_matrices(wl_features([PATH3, double], 1)[0])[1:]
    cos, = scale_kernels([k], "cosine", np.array([0, 1]))
    assert cos.tolist() == [[1.0, 1.0], [1.0, 1.0]]                 # identical: the size is gone
    mean, = scale_kernels([k], "mean", np.array([0, 1]))
    assert mean[1, 1] == pytest.approx(4 * mean[0, 0])               # the size stays


def test_mean_scaling_is_the_plain_kernel_with_c_over_the_scale():
    # SVM(K / s, C) solves the same problem as SVM(K, C / s): the same predictions and decision values
    from sklearn.svm import SVC

    rng = np.random.default_rng(0)
    feats = rng.poisson(3.0, size=(60, 8)).astype(float)
    y = (feats[:, 0] + rng.normal(0, 1, 60) > 3).astype(int)
    k = feats @ feats.T
    train, test = np.arange(45), np.arange(45, 60)
    (ks,) = scale_kernels([k], "mean", train)
    s = float(np.diag(k)[train].mean())
    for c in (0.1, 1.0, 10.0):
        a = SVC(C=c, kernel="precomputed", tol=1e-8).fit(ks[np.ix_(train, train)], y[train])
        b = SVC(C=c / s, kernel="precomputed", tol=1e-8).fit(k[np.ix_(train, train)], y[train])
        np.testing.assert_allclose(a.decision_function(ks[np.ix_(test, train)]),
                                   b.decision_function(k[np.ix_(test, train)]), rtol=1e-4, atol=1e-5)


def test_grid_test_accuracies_walk_h_outer_and_c_inner():
    y = np.array([0, 1] * 20)
    k0 = np.ones((40, 40))                                   # no information: the majority class, 50 %
    k1 = k0 + 5 * np.equal.outer(y, y)                       # separates the classes
    curve = grid_test_accuracies([k0, k1], y, np.arange(30), np.arange(30, 40), iterations=(0, 1), cs=(0.1, 1.0))
    assert curve[2:] == [1.0, 1.0] and max(curve[:2]) <= 0.6


def test_wl_paper_picks_the_grid_point_with_the_best_mean_over_folds(data_root):
    # 'gin-paper' on WL: each fold returns its grid curve, the summary averages them and picks one point
    from gnnkit.experiments import get
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.experiments.protocols import gin_paper_summary
    from gnnkit.wl.svm import run_wl

    exp = get("wl-paper-mutag")
    assert exp.protocol == "gin-paper"
    small = exp.__class__(**{**exp.__dict__, "model_args": {"iterations": (1, 2), "cs": (0.01, 1.0), "inner_folds": 3}})
    data = load_data(small, data_root)
    rows = [run_wl(small, task=make_task(small, data, k), fold=k) for k in (0, 1)]
    assert all(len(r["val_curve"]) == 4 for r in rows)
    summary = gin_paper_summary(small, rows)
    means = [(a + b) / 2 for a, b in zip(rows[0]["val_curve"], rows[1]["val_curve"])]
    assert summary["mean"] == pytest.approx(max(means)) and summary["best_epoch"] == means.index(max(means)) + 1


def test_kernel_errors():
    with pytest.raises(ValueError, match="iterations must be an int >= 0"):
        WLSubtreeKernel(iterations=-1).fit([PATH3])
    with pytest.raises(ValueError, match="not fitted"):
        WLSubtreeKernel().transform([PATH3])


def test_wl_on_mutag_through_reproduce(data_root):
    from gnnkit.experiments import get
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.wl.svm import run_wl

    exp = get("wl-mutag")
    data = load_data(exp, data_root)
    small = exp.__class__(**{**exp.__dict__, "model_args": {"iterations": (1, 2), "cs": (1.0,), "inner_folds": 3}})
    row = run_wl(small, task=make_task(small, data, 0), fold=0)
    assert 0.6 <= row["test"] <= 1.0 and row["selected_overrides"]["iterations"] in (1, 2)
