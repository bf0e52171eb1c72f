"""Sum aggregation, forward + backward: the SpMM path vs gather-scatter.

A PubMed-sized random graph (19,717 nodes, 88,648 undirected edges stored in
both directions, 64 features). Both paths compute the same ``out_i = sum_{j->i} x_j``;
the gather-scatter path is ``index_select`` + ``index_add`` (an E x F tensor),
the SpMM path is ``gnnkit.ops.spmm`` on a cached ``SparseAdj``. Timings alternate
in one run; the printed numbers are medians.

    python benchmarks/bench_ops.py [--repeats 30] [--threads N]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from gnnkit import ops


def pubmed_sized_graph(num_nodes=19_717, num_undirected=88_648, seed=0):
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, num_nodes, (2, int(num_undirected * 1.1)), generator=gen)
    pairs = pairs[:, pairs[0] != pairs[1]]
    lo, hi = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
    key = torch.unique(lo * num_nodes + hi)[:num_undirected]
    src, dst = key // num_nodes, key % num_nodes
    return torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]), num_nodes


def gather_scatter(edge_index, x):
    src, dst = edge_index
    return torch.zeros_like(x).index_add_(0, dst, x.index_select(0, src))


def time_once(fn, x, grad):
    x.grad = None
    t0 = time.perf_counter()
    fn(x).backward(grad)
    return time.perf_counter() - t0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    edge_index, n = pubmed_sized_graph()
    adj = ops.SparseAdj(edge_index, n)
    x = torch.randn(n, args.features, requires_grad=True)
    grad = torch.randn(n, args.features)

    paths = {"spmm": lambda x: ops.spmm(adj, x), "gather-scatter": lambda x: gather_scatter(edge_index, x)}
    # same answer, same gradient
    outs = {name: fn(x) for name, fn in paths.items()}
    torch.testing.assert_close(outs["spmm"], outs["gather-scatter"], rtol=1e-4, atol=1e-4)

    for fn in paths.values():  # warm-up (also builds the CSR caches)
        for _ in range(3):
            time_once(fn, x, grad)
    times = {name: [] for name in paths}
    for _ in range(args.repeats):
        for name, fn in paths.items():
            times[name].append(time_once(fn, x, grad))
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}

    print(f"graph: {n} nodes, {edge_index.size(1)} directed edges ({edge_index.size(1) // 2} undirected), "
          f"{args.features} features, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.repeats} repeats")
    print(f"{'path':<16} {'median fwd+bwd (ms)':>20}")
    for name, ms in med.items():
        print(f"{name:<16} {ms:>20.2f}")
    print(f"ratio gather-scatter / spmm: {med['gather-scatter'] / med['spmm']:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
