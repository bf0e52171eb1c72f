"""Time and memory of full-batch, Cluster-GCN and sampled training on a synthetic large graph.

Wall and CPU (process) time are both printed: on a shared machine the CPU time is the better
measure of the work. Run each mode in its own process under ``/usr/bin/time -v`` (its "Maximum resident set size" is the
whole process's peak); the script also samples its own resident set every 5 ms and prints the peak
of the training phase alone and the resident set after loading the graph, so per-node and per-edge
costs can be separated (docs/scale.md).

Modes (the model widths of the issue's Reddit measurement: 602 -> 128 -> 41):
- ``load``: read the graph and build its CSR index only;
- ``full``: full-batch 2-layer GCN (hidden 128), forward + backward + Adam, ``--epochs`` epochs;
- ``cluster``: Cluster-GCN, ``--parts`` METIS parts (cached; the first run also times METIS),
  ``--clusters`` per batch, the same GCN, ``--epochs`` epochs over every cluster;
- ``sage``: GraphSAGE-mean (hidden 128), fan-outs [25, 10], 1,024 seeds a batch, ``--steps`` batches
  (the epoch time is extrapolated to all training seeds and said so);
- ``infer``: layer-wise full-graph inference of the GCN (chunks of 65,536 nodes);
- ``partition``: ``DiskClusterData`` alone (METIS on the int32 CSR, the partition cache and the
  regrouped CSR written beside it), for ``--disk`` training to find in the cache.

``--disk`` (``cluster``): train from ``DiskClusterData`` (``--synth`` only): no ``Graph`` is built,
only the regrouped CSR's row pointer, labels and masks stay in memory, each batch reads its
clusters' columns and feature rows from disk. ``--csr`` (``sage``): sample the written int32 CSR
(``load_synthetic_nodes``) instead of the ``Graph``'s int64 ``SparseAdj``; (``full``): train over
``SparseAdj.from_csr`` of it (int32 index, float32 GCN weights, ``A^T = A`` in the backward: no
int64 edge array).

    /usr/bin/time -v python benchmarks/bench_scale.py --mode full --synth /tmp/gnnkit-synth-reddit
    /usr/bin/time -v python benchmarks/bench_scale.py --mode full --csr --synth /tmp/gnnkit-synth-products
    /usr/bin/time -v python benchmarks/bench_scale.py --mode partition --synth /tmp/gnnkit-synth-products --parts 15000
    /usr/bin/time -v python benchmarks/bench_scale.py --mode cluster --disk --synth /tmp/gnnkit-synth-products --parts 15000 --clusters 32
"""
from __future__ import annotations

import argparse
import os
import threading
import time

import torch
import torch.nn.functional as F

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakRSS:
    """The largest resident set seen by a 5 ms sampling thread between ``start()`` and ``stop()``."""

    def __init__(self):
        self.peak, self._run = 0, False

    def _loop(self):
        while self._run:
            self.peak = max(self.peak, rss())
            time.sleep(0.005)

    def start(self):
        self.peak, self._run = rss(), True
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> int:
        self._run = False
        self._thread.join()
        return max(self.peak, rss())


def watchdog(limit_gib: float) -> None:
    """Stop the process (exit 3, with a line saying so) when its resident set passes ``limit_gib``:
    a run that would crowd out the other work on a shared machine ends instead."""
    def loop():
        while True:
            if rss() > limit_gib * 2**30:
                print(f"stopped: the resident set passed --max-rss-gib {limit_gib} ({gib(rss())})", flush=True)
                os._exit(3)
            time.sleep(0.02)

    threading.Thread(target=loop, daemon=True).start()


def max_rss() -> int:
    """The process's high-water resident set (the kernel's ``ru_maxrss``), what ``/usr/bin/time -v`` reports."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def cluster_epoch(model, opt, loader) -> tuple[int, int, int]:
    """One Cluster-GCN epoch: ``(steps, nodes, edges)`` summed over its batches."""
    steps = nodes = edges = 0
    for b in loader:
        opt.zero_grad()
        out = model(b.x, b.adj())                                                     # [M, C]
        F.cross_entropy(out[b.train_mask], b.y[b.train_mask]).backward()
        opt.step()
        steps, nodes, edges = steps + 1, nodes + b.num_nodes, edges + b.num_edges
    return steps, nodes, edges


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("load", "full", "cluster", "sage", "infer", "partition"), required=True)
    p.add_argument("--synth", help="folder of `gnnkit data synth` (else generated: --size)")
    p.add_argument("--size", default="reddit")
    p.add_argument("--fraction", type=float, default=1.0,
                   help="generate the --size preset with this fraction of its nodes and edges (same features)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=10, help="sage: batches to time")
    p.add_argument("--parts", type=int, default=1500, help="cluster: METIS parts (Cluster-GCN's Reddit: 1500)")
    p.add_argument("--clusters", type=int, default=20, help="cluster: clusters a batch (Cluster-GCN's Reddit: 20)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--disk", action="store_true", help="cluster / partition: DiskClusterData (needs --synth)")
    p.add_argument("--csr", action="store_true",
                   help="sage: sample the int32 CSR; full: train over SparseAdj.from_csr of it (needs --synth)")
    p.add_argument("--max-rss-gib", type=float, default=None, help="exit (code 3) when the resident set passes this")
    args = p.parse_args()
    if args.max_rss_gib:
        watchdog(args.max_rss_gib)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from gnnkit.models import GCN, GraphSAGE

    if (args.disk or args.csr or args.mode == "partition") and not args.synth:
        p.error("--disk, --csr and --mode partition read a written graph: pass --synth FOLDER")
    if args.mode == "partition" or (args.mode == "cluster" and args.disk):
        return lean_cluster(args)
    t0 = time.perf_counter()
    if args.csr:
        from gnnkit.datasets.large import load_synthetic_nodes

        g, rowptr, col = load_synthetic_nodes(args.synth)
        if args.mode == "full":                 # the int32 CSR as the adjacency: no int64 edge arrays
            from gnnkit.ops import SparseAdj

            lean_adj = SparseAdj.from_csr(rowptr, col, g.num_nodes, symmetric=True)
    elif args.synth:
        from gnnkit.datasets.large import load_synthetic

        g = load_synthetic(args.synth)
    else:
        from dataclasses import replace

        from gnnkit.datasets.large import spec_of, synthetic_graph

        spec = spec_of(args.size)
        if args.fraction != 1.0:
            spec = replace(spec, num_nodes=int(spec.num_nodes * args.fraction),
                           num_edges=int(spec.num_edges * args.fraction),
                           split=tuple(int(s * args.fraction) for s in spec.split))
        g = synthetic_graph(spec, seed=0)
    if not args.csr:
        g.adj()
    n, e, f = g.num_nodes, (col.numel() if args.csr else g.num_edges), g.num_features
    classes = int(g.y.max()) + 1
    print(f"graph: {n:,} nodes, {e:,} directed edges, {f} features, {classes} classes; loaded and indexed in "
          f"{time.perf_counter() - t0:.1f} s; resident after loading {gib(rss())}; torch threads {args.threads}")
    if args.mode == "load":
        return
    base = rss()
    if args.mode in ("full", "cluster", "infer"):
        model = GCN(f, 128, classes, dropout=0.5, bias=True)
    else:
        model = GraphSAGE(f, 128, classes, aggr="mean")
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    if args.mode == "cluster":
        from gnnkit.loader import ClusterData, ClusterLoader

        meter = PeakRSS().start()
        t0, c0 = time.perf_counter(), time.process_time()
        data = ClusterData(g, args.parts)
        peak = meter.stop()
        metis = "from the cache" if data.cache_status == "hit" else f"METIS {data.seconds:.1f} s"
        size = data.cache_path.stat().st_size if data.cache_path else 0
        print(f"ClusterData({args.parts}): {time.perf_counter() - t0:.1f} s, {time.process_time() - c0:.1f} s of CPU "
              f"({metis}, edge cut {data.edge_cut:,}); "
              f"peak while partitioning {gib(peak)} (+{gib(peak - base)}); cache file {size / 2**20:.1f} MiB")
        base = rss()
        loader = ClusterLoader(data, batch_size=args.clusters, shuffle=True)
    if args.mode == "infer":
        from gnnkit.tasks.sampled import layerwise_inference

        model.eval()
        meter = PeakRSS().start()
        t0, c0 = time.perf_counter(), time.process_time()
        out = layerwise_inference(model, g, chunk_size=65_536)
        print(f"layer-wise inference: {time.perf_counter() - t0:.1f} s ({time.process_time() - c0:.1f} s of CPU), "
              f"out {tuple(out.shape)}; peak "
              f"{gib(meter.stop())} (+{gib(rss() - base)} kept)")
        return
    meter = PeakRSS().start()
    for epoch in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        steps = nodes = edges = 0
        if args.mode == "full":
            opt.zero_grad()
            out = model(g.x, lean_adj if args.csr else g.adj())                       # [N, C]
            F.cross_entropy(out[g.train_mask], g.y[g.train_mask]).backward()
            opt.step()
            steps, nodes, edges = 1, n, e
        elif args.mode == "cluster":
            steps, nodes, edges = cluster_epoch(model, opt, loader)
        else:
            from gnnkit.loader import NeighborLoader

            loader = NeighborLoader(g, [25, 10], batch_size=1024, shuffle=True, input_nodes=g.train_mask,
                                    csr=(rowptr, col) if args.csr else None)
            for b in loader:
                opt.zero_grad()
                out = model(b.x, b.adj())[:b.batch_size]
                F.cross_entropy(out, b.y[:b.batch_size]).backward()
                opt.step()
                steps, nodes, edges = steps + 1, nodes + b.num_nodes, edges + b.num_edges
                if steps == args.steps:
                    break
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        line = (f"epoch {epoch + 1}: {seconds:.2f} s ({cpu:.2f} s of CPU), {steps} steps, {nodes / max(steps, 1):,.0f} nodes and "
                f"{edges / max(steps, 1):,.0f} edges a step")
        if args.mode == "sage":
            total = len(loader)
            line += (f"; {seconds / steps:.2f} s ({cpu / steps:.2f} s of CPU) a step, a whole epoch ({total} steps) "
                     f"extrapolated: {seconds / steps * total:.0f} s ({cpu / steps * total:.0f} s of CPU)")
        print(line, flush=True)
    peak = meter.stop()
    print(f"peak while training {gib(peak)} (resident before training {gib(base)}, training adds {gib(peak - base)}); "
          f"the process's maximum RSS {gib(max_rss())}")


def lean_cluster(args) -> None:
    """``--mode partition`` and ``--mode cluster --disk``: Cluster-GCN from ``DiskClusterData``."""
    import numpy as np

    from gnnkit.loader import ClusterLoader, DiskClusterData
    from gnnkit.models import GCN

    base = rss()
    meter = PeakRSS().start()
    t0, c0 = time.perf_counter(), time.process_time()
    data = DiskClusterData(args.synth, args.parts)
    peak = meter.stop()
    metis = "partition from the cache" if data.seconds is None else f"METIS {data.seconds:.1f} s"
    part_size = data.cache_path.stat().st_size
    store_size = sum(f.stat().st_size for f in data.store.iterdir())
    print(f"DiskClusterData({args.parts}): {time.perf_counter() - t0:.1f} s, {time.process_time() - c0:.1f} s of CPU "
          f"({metis}, edge cut {data.edge_cut:,}; partition {data.cache_status}, regrouped CSR {data.store_status}); "
          f"peak {gib(peak)} (+{gib(peak - base)} over the interpreter; METIS holds the GIL, so the sampling thread "
          f"misses it: the process's maximum RSS so far is {gib(max_rss())}); cache: partition file "
          f"{part_size / 2**20:.1f} MiB, regrouped CSR {store_size / 2**30:.2f} GiB; resident after {gib(rss())}",
          flush=True)
    if args.mode == "partition":
        return
    f = np.load(f"{args.synth}/x.npy", mmap_mode="r").shape[1]
    classes = int(data.y.max()) + 1
    model = GCN(f, 128, classes, dropout=0.5, bias=True)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loader = ClusterLoader(data, batch_size=args.clusters, shuffle=True)
    base = rss()
    meter = PeakRSS().start()
    for epoch in range(args.epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        steps, nodes, edges = cluster_epoch(model, opt, loader)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"epoch {epoch + 1}: {seconds:.2f} s ({cpu:.2f} s of CPU), {steps} steps, {nodes / max(steps, 1):,.0f} "
              f"nodes and {edges / max(steps, 1):,.0f} edges a step", flush=True)
    peak = meter.stop()
    print(f"peak while training {gib(peak)} (resident before training {gib(base)}, training adds {gib(peak - base)}); "
          f"the process's maximum RSS {gib(max_rss())}")


if __name__ == "__main__":
    main()
