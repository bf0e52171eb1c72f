"""Loading time of every dataset in the data root: parse + build the Graph objects.

Each dataset is loaded from scratch ``--repeats`` times (no cache between runs);
the printed time is the median. COLLAB (5,000 graphs, 12.3M undirected edges stored
as 24.6M directed entries, read from the gzipped GIN text file) is the largest; the
goal is well under 30 s. (PyG's ``TUDataset`` reads only the TU raw format, which
COLLAB lacks here, so no side-by-side is printed.)

    python benchmarks/bench_datasets.py [--root DIR] [--repeats 1] [--only COLLAB]
"""
from __future__ import annotations

import argparse
import statistics
import time

from gnnkit.datasets import registry
from gnnkit.datasets.base import resolve_root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=None, help="data root (default: $GNNKIT_DATA, else the user cache)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="dataset names (default: every present dataset)")
    args = parser.parse_args()
    root = resolve_root(args.root)
    entries = [e for e in registry.entries(root) if e.present(root)]
    if args.only:
        wanted = {registry.tu.canonical(n) for n in args.only}
        entries = [e for e in entries if registry.tu.canonical(e.name) in wanted]
    print(f"data root: {root}")
    print(f"{'dataset':<15} {'items':>7} {'nodes':>10} {'edges (directed)':>17} {'load s (median)':>16}")
    for e in entries:
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            obj = e.loader(root)
            times.append(time.perf_counter() - t0)
        s = obj.stats()
        print(f"{e.name:<15} {s.get('graphs', s.get('pairs', 1)):>7,} {s.get('nodes', 0):>10,} "
              f"{s.get('edges', 0):>17,} {statistics.median(times):>16.2f}")


if __name__ == "__main__":
    main()
