"""Random walks per second (gnnkit.ops.walks): DeepWalk's uniform walks and node2vec's p/q-biased
walks, on Cora (training graph of the link split) and on a PubMed-sized synthetic graph
(stochastic block model, 19,717 nodes, ~44k undirected edges, 3 blocks), against the plain
per-walker Python loop (one ``random.choice`` per step over a neighbour list) measured in the same
run on the first ``--reference`` walkers. torch_geometric's ``Node2Vec`` is tried too: it needs
pyg-lib or torch-cluster, which pip cannot install here, and then reports why it cannot run.

    .venv/bin/python benchmarks/bench_walks.py [--walks 20000] [--length 20] [--threads 1]
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import date

import torch

from gnnkit.datasets.link_split import link_split
from gnnkit.ops.walks import WalkGraph, random_walk


def python_walks(nbrs: list[list[int]], sets: list[set[int]], start: list[int], length: int, p: float, q: float,
                 rng: random.Random):
    """The reference: one walker at a time over neighbour lists, node2vec's weights normalized explicitly."""
    out = []
    for s in start:
        walk = [s]
        for step in range(length):
            cur = walk[-1]
            if not nbrs[cur]:
                walk.append(cur)
                continue
            if step == 0 or (p == 1.0 and q == 1.0):
                walk.append(rng.choice(nbrs[cur]))
                continue
            prev = walk[-2]
            w = [1 / p if x == prev else (1.0 if x in sets[prev] else 1 / q) for x in nbrs[cur]]
            walk.append(rng.choices(nbrs[cur], weights=w)[0])
        out.append(walk)
    return out


def timed(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=20000)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--reference", type=int, default=1000, help="walkers for the Python loop")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--root", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from gnnkit import datasets
    from gnnkit.datasets.synthetic import stochastic_block_model

    cora = datasets.load("cora", args.root)[0]
    graphs = {"Cora (link-split training graph)": link_split(cora.edge_index, cora.num_nodes).train_edge_index,
              "PubMed-sized SBM": None}
    sbm = stochastic_block_model([6573, 6572, 6572], 5.0e-4, 0.9e-4, num_features=1, seed=0)
    graphs["PubMed-sized SBM"] = sbm.edge_index
    sizes = {"Cora (link-split training graph)": cora.num_nodes, "PubMed-sized SBM": sbm.num_nodes}
    try:
        from torch_geometric.nn import Node2Vec

        Node2Vec(torch.tensor([[0, 1], [1, 0]]), 8, 5, 3).loader(batch_size=2).__iter__().__next__()
        pyg = "torch_geometric's Node2Vec runs here (not timed)"
    except Exception as err:   # ImportError: 'Node2Vec' requires 'pyg-lib>=0.6.0' (or torch-cluster)
        pyg = f"torch_geometric's Node2Vec cannot run here: {type(err).__name__}: {err}"
    print(f"bench_walks.py, {date.today()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.walks} walks of length {args.length}, median of {args.repeats}; {pyg}")
    print("| graph | nodes | directed edges | walk | gnnkit walks/s | Python loop walks/s | speed-up |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for name, edge_index in graphs.items():
        n = sizes[name]
        wg = WalkGraph(edge_index, n)
        nbrs = [wg.col[wg.rowptr[v]:wg.rowptr[v + 1]].tolist() for v in range(n)]   # the loop's lists, untimed
        sets = [set(a) for a in nbrs]
        start = torch.arange(n)[wg.degree > 0]
        start = start[torch.randint(0, start.numel(), (args.walks,), generator=torch.Generator().manual_seed(0))]
        for label, p, q in (("uniform (DeepWalk)", 1.0, 1.0), ("node2vec p=1, q=0.5", 1.0, 0.5),
                            ("node2vec p=0.25, q=4", 0.25, 4.0)):
            ours = timed(lambda: random_walk(wg, start, args.length, p, q), args.repeats)
            ref_start = start[:args.reference].tolist()
            ref = timed(lambda: python_walks(nbrs, sets, ref_start, args.length, p, q, random.Random(0)), 1)
            ours_rate, ref_rate = args.walks / ours, len(ref_start) / ref
            print(f"| {name} | {n:,} | {wg.key.numel():,} | {label} | {ours_rate:,.0f} | {ref_rate:,.0f} | "
                  f"{ours_rate / ref_rate:.0f}x |")


if __name__ == "__main__":
    main()
