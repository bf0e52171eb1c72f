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
- ``infer``: layer-wise full-graph inference of the GCN (chunks of 65,536 nodes).

    /usr/bin/time -v python benchmarks/bench_scale.py --mode full --synth /tmp/gnnkit-synth-reddit
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


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=("load", "full", "cluster", "sage", "infer"), required=True)
    p.add_argument("--synth", help="folder of `gnnkit data synth` (else generated: --size)")
    p.add_argument("--size", default="reddit")
    p.add_argument("--fraction", type=float, default=1.0,
                   help="generate the --size preset with this fraction of its nodes and edges (same features)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--steps", type=int, default=10, help="sage: batches to time")
    p.add_argument("--parts", type=int, default=1500, help="cluster: METIS parts (Cluster-GCN's Reddit: 1500)")
    p.add_argument("--clusters", type=int, default=20, help="cluster: clusters a batch (Cluster-GCN's Reddit: 20)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    from gnnkit.models import GCN, GraphSAGE

    t0 = time.perf_counter()
    if args.synth:
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
    g.adj()
    n, e, f = g.num_nodes, g.num_edges, g.num_features
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
            out = model(g.x, g.adj())                                                 # [N, C]
            F.cross_entropy(out[g.train_mask], g.y[g.train_mask]).backward()
            opt.step()
            steps, nodes, edges = 1, n, e
        elif args.mode == "cluster":
            for b in loader:
                opt.zero_grad()
                out = model(b.x, b.adj())
                F.cross_entropy(out[b.train_mask], b.y[b.train_mask]).backward()
                opt.step()
                steps, nodes, edges = steps + 1, nodes + b.num_nodes, edges + b.num_edges
        else:
            from gnnkit.loader import NeighborLoader

            loader = NeighborLoader(g, [25, 10], batch_size=1024, shuffle=True, input_nodes=g.train_mask)
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
    print(f"peak while training {gib(peak)} (resident before training {gib(base)}, training adds {gib(peak - base)})")


if __name__ == "__main__":
    main()
