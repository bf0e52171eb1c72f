"""Tensor-level graph operations. See ``scatter``, ``adj`` (the sparse adjacency and its cache),
``kernels`` (SpMM, multi-head SpMM, sparse-feature products) and ``structure``."""
from gnnkit.ops.checks import check_edge_index, check_node_features
from gnnkit.ops.dense import to_dense_adj, to_dense_batch
from gnnkit.ops.scatter import REDUCTIONS, edge_softmax, scatter, segment
from gnnkit.ops.adj import SparseAdj, as_adj, clear_adj_cache
from gnnkit.ops.kernels import matmul, spmm, spmm_heads
from gnnkit.ops.dropout import dropout
from gnnkit.ops.walks import WalkConfig, WalkGraph, degree_negatives, random_walk, walk_pairs
from gnnkit.ops.structure import (
    add_self_loops,
    coalesce,
    degree,
    dense_adjacency,
    dropout_edge,
    gcn_adj,
    gcn_norm,
    is_undirected,
    k_hop_subgraph,
    laplacian,
    largest_eigenvalue,
    negative_sampling,
    remove_self_loops,
    scaled_laplacian,
    subgraph,
    to_undirected,
)

__all__ = [
    "REDUCTIONS", "edge_softmax", "scatter", "segment", "SparseAdj", "as_adj", "check_edge_index", "check_node_features", "clear_adj_cache", "dropout", "matmul", "spmm", "spmm_heads",
    "add_self_loops", "coalesce", "degree", "dense_adjacency", "dropout_edge", "gcn_adj", "gcn_norm",
    "is_undirected", "k_hop_subgraph", "laplacian", "largest_eigenvalue", "negative_sampling",
    "remove_self_loops", "scaled_laplacian", "subgraph", "to_undirected",
]
__all__ += ["WalkConfig", "WalkGraph", "degree_negatives", "random_walk", "walk_pairs"]
