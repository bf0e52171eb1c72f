"""Neighbour sampling and METIS partitioning at Reddit size (the synthetic graph, ``gnnkit data synth``).

Sampling: ``NeighborLoader(g, [25, 10], batch_size=1024, shuffle=True)`` with and without
replacement; sampled edges per second over ``--batches`` batches, for the sampler alone (ids and
edges) and for whole batches (the ``Graph`` with its 602 features gathered). Baseline measured in
the same run: the plain per-node sampler (a Python loop calling ``numpy`` ``choice`` for each node,
what one writes without vectorising), on ``--baseline-batches`` batches; the ratio is printed.
torch_geometric's ``NeighborLoader`` is tried too: without pyg-lib or torch-sparse (neither
installs with plain pip here) it refuses, and the reason is printed.

METIS: ``ClusterData(g, 128)`` without cache: partitioning time and edge cut (PubMed's partition is
not measured: its features file ``ind.pubmed.allx`` is absent from the data root, so
``gnnkit.datasets.load('pubmed')`` raises 'data absent').

    python benchmarks/bench_sampling.py [--synth DIR] [--batches 20] [--threads 1] [--no-metis]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from gnnkit.loader import ClusterData, NeighborLoader


def python_loop_sampler(rowptr: np.ndarray, col: np.ndarray, seeds: np.ndarray, fanouts, replace: bool,
                        rng: np.random.Generator) -> int:
    """The plain reference: per node, ``rng.choice`` of its neighbours; returns the sampled edge count."""
    seen = {int(v): i for i, v in enumerate(seeds)}
    frontier, edges = [int(v) for v in seeds], 0
    for k in fanouts:
        new = []
        for v in frontier:
            nbrs = col[rowptr[v]:rowptr[v + 1]]
            if nbrs.size == 0:
                continue
            pick = rng.choice(nbrs, k, replace=True) if replace else (
                nbrs if nbrs.size <= k else rng.choice(nbrs, k, replace=False))
            for u in pick.tolist():
                if u not in seen:
                    seen[u] = len(seen)
                    new.append(u)
            edges += pick.size
        frontier = new
    return edges


def time_loader(loader: NeighborLoader, batches: int, whole: bool) -> tuple[float, int, int]:
    """``(seconds, sampled edges, nodes)`` over the first ``batches`` batches."""
    nodes = loader.input_nodes[torch.randperm(loader.input_nodes.numel())][: batches * loader.batch_size]
    edges = count = 0
    t0 = time.perf_counter()
    for i in range(batches):
        seeds = nodes[i * loader.batch_size:(i + 1) * loader.batch_size]
        if whole:
            b = loader.sample(seeds)
            edges, count = edges + b.num_edges, count + b.num_nodes
        else:
            n_id, edge_index, _ = loader.sampler.sample(seeds)
            edges, count = edges + edge_index.size(1), count + n_id.numel()
    return time.perf_counter() - t0, edges, count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--synth", help="folder written by `gnnkit data synth --size reddit` (default: generate)")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--baseline-batches", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--parts", type=int, default=128)
    p.add_argument("--no-metis", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    if args.synth:
        from gnnkit.datasets.large import load_synthetic

        g = load_synthetic(args.synth)
    else:
        from gnnkit.datasets.large import synthetic_graph

        g = synthetic_graph("reddit", seed=0)
    adj = g.adj()
    print(f"graph: {g.num_nodes:,} nodes, {g.num_edges:,} directed edges, {g.num_features} features "
          f"({time.perf_counter() - t0:.1f} s to load and index); torch threads: {args.threads}")
    rowptr, col = adj.rowptr.numpy(), adj.src.numpy()
    print(f"\n{'fan-outs [25, 10], batch 1,024':<34} {'edges/batch':>11} {'sampler edges/s':>16} "
          f"{'whole batch edges/s':>20} {'python loop edges/s':>20} {'ratio':>7}")
    for replace in (True, False):
        loader = NeighborLoader(g, [25, 10], batch_size=1024, shuffle=True, replace=replace)
        loader.sampler.sample(loader.input_nodes[:1024])                     # warm-up
        s, e, _ = time_loader(loader, args.batches, whole=False)
        sw, ew, _ = time_loader(loader, args.batches, whole=True)
        rng = np.random.default_rng(0)
        seeds = np.random.default_rng(1).choice(g.num_nodes, 1024 * args.baseline_batches, replace=False)
        tb = time.perf_counter()
        eb = sum(python_loop_sampler(rowptr, col, seeds[i * 1024:(i + 1) * 1024], [25, 10], replace, rng)
                 for i in range(args.baseline_batches))
        tb = time.perf_counter() - tb
        name = "with replacement" if replace else "without replacement"
        print(f"{name:<34} {e / args.batches:>11,.0f} {e / s:>16,.0f} {ew / sw:>20,.0f} {eb / tb:>20,.0f} "
              f"{(e / s) / (eb / tb):>6.1f}x")
    try:
        from torch_geometric.data import Data
        from torch_geometric.loader import NeighborLoader as PyGNeighborLoader

        data = Data(x=g.x, edge_index=g.edge_index, num_nodes=g.num_nodes)
        next(iter(PyGNeighborLoader(data, num_neighbors=[25, 10], batch_size=1024)))
        print("torch_geometric NeighborLoader: ran (pyg-lib or torch-sparse is installed)")
    except Exception as err:                                            # ImportError without its extensions
        print(f"torch_geometric NeighborLoader: refused: {type(err).__name__}: {str(err).splitlines()[0][:160]}")
    if args.no_metis:
        return
    t0 = time.perf_counter()
    data = ClusterData(g, args.parts, cache=False)
    total = time.perf_counter() - t0
    undirected = g.num_edges // 2
    print(f"\nMETIS {args.parts} parts: {data.seconds:.1f} s partitioning ({total:.1f} s with regrouping), "
          f"edge cut {data.edge_cut:,} of ~{undirected:,} undirected edges ({100 * data.edge_cut / undirected:.1f}%), "
          f"cluster sizes {int(data.cluster_sizes().min()):,}-{int(data.cluster_sizes().max()):,}")
    print("PubMed: not measured (data absent: ind.pubmed.allx is missing from the data root)")


if __name__ == "__main__":
    main()
