"""Whole training epochs of 2-layer models, gnnkit against torch_geometric, beside the floor.

An epoch is forward + backward + Adam step of a 2-layer model called with ``edge_index`` (as a user
calls it), full batch, dropout on. Cases (issue 17): GCN (16 hidden) and GraphSAGE-mean (64) and
GAT (8 heads x 8) on Cora (real features) and on a PubMed-sized random graph (19,717 nodes, 88,648
directed edges, 500 dense features, 3 classes); GIN (64) on the PubMed-sized graph.

- Time: ours and PyG alternate in one process, ``--epochs`` timed epochs each after two warm-up
  epochs; the median is reported. torch_geometric runs twice: its default ``edge_index`` path and fed a
  ``torch.sparse`` CSR adjacency (its fastest pip-installable path); the faster one is compared.
- Floor: the model's dense products alone (``X W`` forward, its input and weight gradients, per
  layer) plus one raw CSR SpMM per layer forward and backward, timed in the same run.
- Memory: each side in its own process (``--memory-child``): peak RSS (``ru_maxrss``) above the
  process's footprint once the data exists, over 5 epochs.

    .venv/bin/python benchmarks/bench_epochs.py [--quick] [--epochs 10] [--threads 1 2] [--no-memory]
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench_layers import random_undirected_graph

GRAPHS = {"cora": None, "pubmed-sized": (19_717, 88_648, 500, 3)}
CASES = [("gcn", "cora"), ("sage", "cora"), ("gat", "cora"), ("gcn", "pubmed-sized"), ("sage", "pubmed-sized"),
         ("gat", "pubmed-sized"), ("gin", "pubmed-sized")]
QUICK = [("gcn", "cora"), ("gat", "cora"), ("gin", "pubmed-sized")]


def load_graph(name: str):
    """``(x, edge_index, y, num_classes)``: Cora's real (row-normalized, dense) features, or the random graph."""
    if name == "cora":
        from gnnkit import datasets
        from gnnkit.transforms import NormalizeFeatures

        g = NormalizeFeatures()(datasets.load("cora")[0])
        return g.x.contiguous(), g.edge_index, g.y.clamp(min=0), int(g.y.max()) + 1
    n, e, f, c = GRAPHS[name]
    gen = torch.Generator().manual_seed(0)
    return (torch.randn(n, f, generator=gen), random_undirected_graph(n, e), torch.randint(0, c, (n,), generator=gen),
            c)


def hidden_of(model: str) -> int:
    return {"gcn": 16, "sage": 64, "gat": 64, "gin": 64}[model]


class TwoLayer(nn.Module):
    """conv1 -> activation -> dropout -> conv2, the same on both sides; ``lib`` picks the layer classes."""

    def __init__(self, lib: str, model: str, f_in: int, classes: int):
        super().__init__()
        if lib == "gnnkit":
            from gnnkit.nn import GATConv, GCNConv, GINConv, SAGEConv
        else:
            from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv
        if model == "gcn":
            self.conv1, self.conv2 = GCNConv(f_in, 16), GCNConv(16, classes)
        elif model == "sage":
            self.conv1, self.conv2 = SAGEConv(f_in, 64, aggr="mean"), SAGEConv(64, classes, aggr="mean")
        elif model == "gat":
            self.conv1 = GATConv(f_in, 8, heads=8, dropout=0.6)
            self.conv2 = GATConv(64, classes, heads=1, dropout=0.6)
        else:
            def mlp(a, b):
                return nn.Sequential(nn.Linear(a, 64), nn.ReLU(), nn.Linear(64, b))

            self.conv1, self.conv2 = GINConv(mlp(f_in, 64)), GINConv(mlp(64, classes))
        self.act = F.elu if model == "gat" else F.relu

    def forward(self, x, graph):
        h = self.act(self.conv1(x, graph))
        h = F.dropout(h, 0.5, self.training)
        return self.conv2(h, graph)


def pyg_csr(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """The transposed adjacency (row = target) as a torch.sparse CSR tensor, as PyG's ``adj_t``."""
    values = torch.ones(edge_index.size(1))
    return torch.sparse_coo_tensor(edge_index.flip(0), values, (n, n)).coalesce().to_sparse_csr()


def make_step(model: nn.Module, x, graph, y):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x, graph), y)
        loss.backward()
        opt.step()

    return step


def floor_step(model_name: str, x, edge_index, classes: int):
    """The dense products of the model's two layers (forward, input and weight gradients) plus one raw
    CSR SpMM per layer forward and backward."""
    n, f = x.shape
    h = hidden_of(model_name)
    widths = [(f, h), (h, classes)] if model_name != "gin" else [(f, 64), (64, 64), (64, 64), (64, classes)]
    ws = [torch.randn(a, b, requires_grad=True) for a, b in widths]
    adj = pyg_csr(edge_index, n)

    def step():
        out = x
        for i, w in enumerate(ws):
            if i == 0:
                out = out @ w
            else:
                out = torch.relu(out) @ w
            if model_name != "gin" or i % 2 == 1:
                out = torch.sparse.mm(adj, out) if out.requires_grad else out
        out.sum().backward()

    return step


def median_ms(fn, epochs: int) -> float:
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def time_case(model_name: str, graph_name: str, epochs: int) -> dict:
    x, edge_index, y, classes = load_graph(graph_name)
    torch.manual_seed(0)
    sides = {"gnnkit": make_step(TwoLayer("gnnkit", model_name, x.size(1), classes).train(), x, edge_index, y),
             "pyg": make_step(TwoLayer("pyg", model_name, x.size(1), classes).train(), x, edge_index, y)}
    try:
        sides["pyg-csr"] = make_step(TwoLayer("pyg", model_name, x.size(1), classes).train(), x,
                                     pyg_csr(edge_index, x.size(0)), y)
        sides["pyg-csr"]()
    except Exception as err:       # a PyG layer without torch.sparse support
        sides.pop("pyg-csr")
        print(f"  {model_name}/{graph_name}: PyG with a torch.sparse adjacency not timed ({type(err).__name__})")
    sides["floor"] = floor_step(model_name, x, edge_index, classes)
    for fn in sides.values():       # warm-up: caches, allocator
        fn()
        fn()
    times = {k: [] for k in sides}
    for _ in range(epochs):         # alternate, so drifting machine load hits every side alike
        for k, fn in sides.items():
            times[k].append(median_ms(fn, 1))
    return {k: statistics.median(v) for k, v in times.items()}


def _rss_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process, in kB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(model_name: str, graph_name: str, side: str) -> None:
    """Peak RSS above the footprint once the data exists: the peak counter is reset (Linux's
    ``clear_refs``) after loading, so loading's own transient peak is not counted."""
    x, edge_index, y, classes = load_graph(graph_name)
    graph = pyg_csr(edge_index, x.size(0)) if side == "pyg-csr" else edge_index
    Path("/proc/self/clear_refs").write_text("5")
    base = _rss_kb("VmRSS")
    torch.manual_seed(0)
    step = make_step(TwoLayer("pyg" if side.startswith("pyg") else "gnnkit", model_name, x.size(1), classes).train(),
                     x, graph, y)
    for _ in range(5):
        step()
    print(json.dumps({"peak_mb": (_rss_kb("VmHWM") - base) / 1024}))


def peak_mb(model_name: str, graph_name: str, side: str, threads: int) -> float | None:
    cmd = [sys.executable, __file__, "--memory-child", model_name, graph_name, side, "--threads", str(threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parent)
    if proc.returncode != 0:
        print(f"  memory of {model_name}/{graph_name}/{side} not measured: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_mb"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="three cases, for a check in under 3 minutes")
    p.add_argument("--epochs", type=int, default=10, help="timed epochs per side (default 10)")
    p.add_argument("--threads", type=int, nargs="+", default=[1], help="torch threads, each timed (default 1)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--memory-child", nargs=3, metavar=("MODEL", "GRAPH", "SIDE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads[0])
    if args.memory_child:
        memory_child(*args.memory_child)
        return 0
    import torch_geometric

    cases = QUICK if args.quick else CASES
    print(f"# whole 2-layer training epochs, {date.today()}: {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, torch_geometric {torch_geometric.__version__}")
    print("| model | graph | threads | ours ms | PyG ms | PyG CSR ms | PyG best / ours | floor ms | ours / floor "
          "| peak MB ours | peak MB PyG best | memory ours / PyG |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        for model_name, graph_name in cases:
            t = time_case(model_name, graph_name, args.epochs)
            best_key = "pyg-csr" if t.get("pyg-csr", float("inf")) < t["pyg"] else "pyg"
            mem = {} if args.no_memory else {s: peak_mb(model_name, graph_name, s, threads)
                                              for s in ("gnnkit", best_key)}
            mem_ratio = (f"{mem['gnnkit'] / mem[best_key]:.2f}x" if mem and mem.get(best_key) and
                         mem.get("gnnkit") is not None else "—")
            csr = f"{t['pyg-csr']:.1f}" if "pyg-csr" in t else "—"
            mem_cells = ("— | —" if not mem else
                         f"{mem['gnnkit']:.0f} | {mem[best_key]:.0f}" if mem[best_key] else f"{mem['gnnkit']:.0f} | —")
            print(f"| {model_name} | {graph_name} | {threads} | {t['gnnkit']:.1f} | {t['pyg']:.1f} | {csr} | "
                  f"{t[best_key] / t['gnnkit']:.2f}x | {t['floor']:.1f} | {t['gnnkit'] / t['floor']:.2f}x | "
                  f"{mem_cells} | {mem_ratio} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
