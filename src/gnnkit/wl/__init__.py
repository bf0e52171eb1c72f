"""The Weisfeiler-Lehman test and what it says about graph neural networks.

- :func:`refine`: 1-WL colour refinement of many graphs at once, every iteration's colours;
  :func:`refine_reference` the plain per-node version.
- :func:`wl_test`: 'not isomorphic' / 'possibly isomorphic' and the deciding iteration.
- :class:`WLSubtreeKernel`: the WL subtree kernel, a scikit-learn transformer;
  :mod:`gnnkit.wl.svm` the C-SVM experiment with C and h chosen by inner cross-validation.
- :func:`distinguishes`: whether a model's readouts tell two graphs apart.
- ``gnnkit wl FILE1 FILE2 [--plot]``: the test from the command line (:mod:`gnnkit.wl.cli`).
"""
from gnnkit.wl.compare import NOT_ISOMORPHIC, POSSIBLY_ISOMORPHIC, WLVerdict, distinguishes, stable_colours, wl_test
from gnnkit.wl.kernel import WLSubtreeKernel, kernel_matrices, wl_features
from gnnkit.wl.refine import Refinement, WLDictionary, node_labels, refine, refine_reference

__all__ = ["refine", "refine_reference", "Refinement", "WLDictionary", "node_labels", "wl_test", "WLVerdict",
           "NOT_ISOMORPHIC", "POSSIBLY_ISOMORPHIC", "distinguishes", "stable_colours", "WLSubtreeKernel",
           "wl_features", "kernel_matrices"]
