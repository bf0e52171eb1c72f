"""Dropout on node features that works on sparse bag-of-words features too."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def feature_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout`` for dense ``x``; for a sparse (CSR or COO) ``x`` dropout on the
    stored non-zeros only, as in Kipf & Welling's code (``sparse_dropout``). Zeros
    stay zero either way, so the two are the same random function; the sparse one
    draws ~1% of the masks on Planetoid features.

    Example::

        x = torch.eye(4).to_sparse_csr()
        feature_dropout(x, 0.5, training=True)   # sparse, surviving entries scaled by 2
    """
    if x.layout == torch.strided:
        return F.dropout(x, p, training)
    if not training or p == 0.0:
        return x
    if x.layout == torch.sparse_csr:
        return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), F.dropout(x.values(), p, True), x.shape,
                                       check_invariants=False)
    x = x.coalesce()
    return torch.sparse_coo_tensor(x.indices(), F.dropout(x.values(), p, True), x.shape, is_coalesced=True,
                                   check_invariants=False)
