"""Whole training epochs of 2-layer models, gnnkit against torch_geometric, beside the floor.

An epoch is forward + backward + Adam step of a 2-layer model called with ``edge_index`` (as a user
calls it), full batch, dropout on, the loss over every node. Cases (issue 17):

- GCN (16 hidden), GraphSAGE-mean (64) and GAT (8 heads x 8) on Cora (real features) and on a
  PubMed-sized random graph (19,717 nodes, 88,648 directed edges, 500 dense features, 3 classes);
- GIN (64) on the PubMed-sized graph;
- GCN (128 hidden) on the Reddit-sized synthetic graph (``gnnkit data synth --size reddit``: 232,965
  nodes, 23.2M directed edges, 602 features, 41 classes), read from ``--synth`` (generated there if absent).

What is measured:

- Time: the sides alternate in one process, ``--epochs`` timed epochs each after warm-up epochs; the
  median is reported. torch_geometric runs twice: its default ``edge_index`` path and fed a
  ``torch.sparse`` CSR adjacency (its fastest pip-installable path); the faster one is compared.
  Where the default path cannot run (Reddit size), a child process under an address-space limit
  records the allocation it asked for: 'does not fit'.
- Floor: the model's dense products alone (``X W`` forward, its input and weight gradients, per
  layer) plus one raw CSR SpMM per layer forward and its transpose backward, plain kernel calls
  without autograd, timed in the same run.
- Memory: each side in its own process, started with ``LIVE_RSS`` (glibc returns every freed block of
  64 KiB or more at once, so the peak is of the memory held, not of glibc's cache): peak RSS
  (``VmHWM``, reset by ``/proc/self/clear_refs``) above the process's resident set once the data
  exists and after two warm-up epochs of the same model on a 64-node graph (which fault in either
  library's code and BLAS buffers, ~30 MB whatever the data).
- Page faults: minor faults per timed epoch, each side; and every case but the Reddit-sized one
  re-timed in a child process started with ``KEEP_FREED`` (glibc keeps what it frees), so the
  report shows what the faults cost each side (``--no-kept-memory`` skips it).
- Threads: every case at each of ``--threads`` (memory at the first only).

``--write docs/benchmarks.md`` replaces the file's header and its section between the
``bench_epochs`` markers with this run (re-reading the file just before writing); the other sections
are kept as they are, each under the command that wrote it. ``make bench`` runs:

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_epochs.py --threads 1 2 --write docs/benchmarks.md

    .venv/bin/python benchmarks/bench_epochs.py [--quick] [--epochs 10] [--threads 1 2] [--no-memory]
        [--cases gcn/cora gin/pubmed-sized] [--synth /tmp/gnnkit-synth-reddit] [--write docs/benchmarks.md]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench_layers import random_undirected_graph

PUBMED_SIZED = (19_717, 88_648, 500, 3)
SYNTH_DEFAULT = "/tmp/gnnkit-synth-reddit"
MARK_BEGIN, MARK_END = "<!-- bench_epochs: begin -->", "<!-- bench_epochs: end -->"


@dataclass(frozen=True)
class Case:
    model: str        # gcn | sage | gat | gin
    hidden: int       # hidden width (GAT: heads x 8)
    graph: str        # cora | pubmed-sized | reddit-sized

    @property
    def key(self) -> str:
        return f"{self.model}{self.hidden if self.model == 'gcn' and self.hidden != 16 else ''}/{self.graph}"

    @property
    def label(self) -> str:
        return {"gcn": f"GCN {self.hidden}", "sage": f"SAGE-mean {self.hidden}", "gat": "GAT 8x8",
                "gin": f"GIN {self.hidden}"}[self.model]

    @property
    def large(self) -> bool:
        return self.graph == "reddit-sized"


CASES = [Case("gcn", 16, "cora"), Case("sage", 64, "cora"), Case("gat", 64, "cora"),
         Case("gcn", 16, "pubmed-sized"), Case("sage", 64, "pubmed-sized"), Case("gat", 64, "pubmed-sized"),
         Case("gin", 64, "pubmed-sized"), Case("gcn", 128, "reddit-sized")]
QUICK = [c for c in CASES if c.graph == "cora"]


def load_graph(name: str, synth: str = SYNTH_DEFAULT):
    """``(x, edge_index, y, num_classes)``: Cora's real (row-normalized, dense) features, the
    PubMed-sized random graph, or the Reddit-sized synthetic graph (generated into ``synth`` if absent)."""
    if name == "cora":
        from gnnkit import datasets
        from gnnkit.transforms import NormalizeFeatures

        g = NormalizeFeatures()(datasets.load("cora")[0])
        return g.x.contiguous(), g.edge_index, g.y.clamp(min=0), int(g.y.max()) + 1
    if name == "reddit-sized":
        from gnnkit.datasets.large import load_synthetic, write_synthetic

        if not (Path(synth) / "meta.json").is_file():
            print(f"  generating the Reddit-sized graph into {synth} (about 35 s, 1 GiB)", file=sys.stderr)
            write_synthetic("reddit", synth)
        g = load_synthetic(synth)
        return g.x, g.edge_index, g.y, int(g.y.max()) + 1
    n, e, f, c = PUBMED_SIZED
    gen = torch.Generator().manual_seed(0)
    return (torch.randn(n, f, generator=gen), random_undirected_graph(n, e), torch.randint(0, c, (n,), generator=gen),
            c)


class TwoLayer(nn.Module):
    """conv1 -> activation -> dropout -> conv2, the same on both sides; ``lib`` picks the layer classes and
    the dropout: ``gnnkit.ops.dropout`` on ours (a uniform draw and a compare, where torch's CPU
    ``F.dropout`` draws its Bernoulli mask element by element: ~12% of a GCN or SAGE epoch here),
    ``F.dropout`` on torch_geometric's, which has no dropout of its own."""

    def __init__(self, lib: str, case: Case, f_in: int, classes: int):
        super().__init__()
        if lib == "gnnkit":
            from gnnkit.nn import GATConv, GCNConv, GINConv, SAGEConv
            from gnnkit.ops import dropout
        else:
            from torch_geometric.nn import GATConv, GCNConv, GINConv, SAGEConv
            dropout = F.dropout
        self.dropout = dropout
        h = case.hidden
        if case.model == "gcn":
            self.conv1, self.conv2 = GCNConv(f_in, h), GCNConv(h, classes)
        elif case.model == "sage":
            self.conv1, self.conv2 = SAGEConv(f_in, h, aggr="mean"), SAGEConv(h, classes, aggr="mean")
        elif case.model == "gat":
            self.conv1 = GATConv(f_in, h // 8, heads=8, dropout=0.6)
            self.conv2 = GATConv(h, classes, heads=1, dropout=0.6)
        else:
            def mlp(a, b):
                return nn.Sequential(nn.Linear(a, h), nn.ReLU(), nn.Linear(h, b))

            self.conv1, self.conv2 = GINConv(mlp(f_in, h)), GINConv(mlp(h, classes))
        self.act = F.elu if case.model == "gat" else F.relu

    def forward(self, x, graph):
        h = self.act(self.conv1(x, graph))
        h = self.dropout(h, 0.5, self.training)
        return self.conv2(h, graph)


def pyg_csr(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    """The transposed adjacency (row = target) as a torch.sparse CSR tensor, as PyG's ``adj_t``."""
    values = torch.ones(edge_index.size(1))
    with torch.sparse.check_sparse_tensor_invariants(False):
        return torch.sparse_coo_tensor(edge_index.flip(0), values, (n, n)).coalesce().to_sparse_csr()


def make_step(model: nn.Module, x, graph, y):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x, graph), y)
        loss.backward()
        opt.step()

    return step


def floor_widths(case: Case, f_in: int, classes: int):
    """Per layer: the dense products ``[(F_a, F_b), ...]`` and the width of its one SpMM."""
    h = case.hidden
    if case.model == "gcn":
        return [([(f_in, h)], h), ([(h, classes)], classes)]
    if case.model == "sage":                                  # W_self and W_neigh as one product
        return [([(f_in, 2 * h)], h), ([(h, 2 * classes)], classes)]
    if case.model == "gat":                                   # the 8 heads' products, one SpMM of width 8 x 8
        return [([(f_in, h)], h), ([(h, classes)], classes)]
    return [([(f_in, h), (h, h)], h), ([(h, h), (h, classes)], h)]          # GIN: SpMM on the narrow side


def floor_step(case: Case, x, adj: torch.Tensor, classes: int):
    """The model's dense products and one CSR SpMM per layer, as plain kernel calls on tensors of the
    shapes an epoch multiplies (no autograd, no elementwise work): forward ``H W`` and ``A S``; backward
    ``A^T G``, the weight gradients ``H^T G`` and the input gradients ``G W^T`` (none for the input
    features). ``adj`` is the CSR adjacency (GCN, GAT: with a self loop per node, as the layers use it)."""
    adj_t = adj.t().to_sparse_csr()
    n, gen = x.size(0), torch.Generator().manual_seed(0)
    kernels = []                                              # (forward calls, backward calls) per layer
    for i, (gemms, width) in enumerate(floor_widths(case, x.size(1), classes)):
        s, g = torch.randn(n, width, generator=gen), torch.randn(n, width, generator=gen)
        fwd, bwd = [lambda s=s: adj @ s], [lambda g=g: adj_t @ g]
        for j, (a, b) in enumerate(gemms):
            h_in = x if i == j == 0 else torch.randn(n, a, generator=gen)
            w, g_out = torch.randn(a, b, generator=gen), torch.randn(n, b, generator=gen)
            fwd.append(lambda h_in=h_in, w=w: h_in @ w)
            bwd.append(lambda h_in=h_in, g_out=g_out: h_in.t() @ g_out)
            if not i == j == 0:
                bwd.append(lambda g_out=g_out, w=w: g_out @ w.t())
        kernels.append((fwd, bwd))

    def step():
        for fwd, _ in kernels:
            for call in fwd:
                call()
        for _, bwd in reversed(kernels):
            for call in bwd:
                call()
    return step


def median_ms(fn, epochs: int) -> float:
    times = []
    for _ in range(epochs):
        t = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t))
    return statistics.median(times)


def with_self_loops(edge_index: torch.Tensor, n: int) -> torch.Tensor:
    loop = torch.arange(n)
    return torch.cat([edge_index[:, edge_index[0] != edge_index[1]], torch.stack([loop, loop])], 1)


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_case(case: Case, epochs: int, synth: str, pyg: bool = True) -> tuple[dict, dict]:
    """``(ms, faults)``: per side, the median epoch time and the median count of minor page faults in
    an epoch (pages the process touched for the first time since the allocator last returned them)."""
    x, edge_index, y, classes = load_graph(case.graph, synth)
    n = x.size(0)
    torch.manual_seed(0)
    csr = pyg_csr(edge_index, n)
    sides = {"gnnkit": make_step(TwoLayer("gnnkit", case, x.size(1), classes).train(), x, edge_index, y)}
    if pyg and not case.large:     # the default path does not fit at Reddit size: see fit_child
        sides["pyg"] = make_step(TwoLayer("pyg", case, x.size(1), classes).train(), x, edge_index, y)
    if pyg:
        sides["pyg-csr"] = make_step(TwoLayer("pyg", case, x.size(1), classes).train(), x, csr, y)
    looped = pyg_csr(with_self_loops(edge_index, n), n) if case.model in ("gcn", "gat") else csr
    sides["floor"] = floor_step(case, x, looped, classes)
    for fn in sides.values():       # warm-up: caches, allocator
        for _ in range(1 if case.large else 2):
            fn()
    times, faults = {k: [] for k in sides}, {k: [] for k in sides}
    for i in range(epochs):         # alternate, so drifting machine load hits every side alike
        for k, fn in sides.items():
            if k == "floor" and case.large and i >= 3:      # plain kernels vary little: 3 repeats at Reddit size
                continue
            f0 = _minor_faults()
            times[k].append(median_ms(fn, 1))
            faults[k].append(_minor_faults() - f0)
    return ({k: statistics.median(v) for k, v in times.items()},
            {k: statistics.median(v) for k, v in faults.items()})


# glibc maps every block of 64 KiB or more on its own and unmaps it when freed, so a process's peak RSS
# follows the memory the library holds, not glibc's cache of freed blocks (the memory children run so)
LIVE_RSS = {"MALLOC_MMAP_THRESHOLD_": "65536"}

# glibc keeps freed memory instead of returning it to the system (environment tunables, read at start)
KEEP_FREED = {"MALLOC_TRIM_THRESHOLD_": str(2**40), "MALLOC_MMAP_THRESHOLD_": str(2**30)}


def time_child(case: Case, epochs: int, synth: str) -> None:
    """``time_case`` in a child process (``main`` starts it with ``KEEP_FREED``; the SIDE argument of
    ``--time-child`` is not used: every side is timed)."""
    ms, faults = time_case(case, epochs, synth)
    print(json.dumps({"ms": ms, "faults": faults}))


def _status_kb(field: str) -> int:
    """A field of ``/proc/self/status`` in kB (Linux): ``VmRSS`` (now), ``VmHWM`` (peak since the last
    reset), ``VmSize``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _child_step(case: Case, side: str, synth: str):
    """Load the data, warm the library up on a 64-node graph, and return ``(build, n, e)``: ``build()``
    makes ``side``'s epoch function."""
    x, edge_index, y, classes = load_graph(case.graph, synth)
    lib = "pyg" if side.startswith("pyg") else "gnnkit"

    def graph_of(ei, n):
        return pyg_csr(ei, n) if side == "pyg-csr" else ei

    tiny = make_step(TwoLayer(lib, case, x.size(1), classes).train(), x[:64].clone(),
                     graph_of(random_undirected_graph(64, 256), 64), y[:64])
    tiny()
    tiny()
    del tiny
    def build():     # the epoch function; PyG's CSR adjacency is built here, as ours is in the first epoch
        torch.manual_seed(0)
        return make_step(TwoLayer(lib, case, x.size(1), classes).train(), x, graph_of(edge_index, x.size(0)), y)
    return build, x.size(0), edge_index.size(1)


def memory_child(case: Case, side: str, synth: str) -> None:
    """Peak RSS above the footprint once the data exists (and the library is warm): the peak counter is
    reset (Linux's ``clear_refs``) after loading, so loading's own transient peak is not counted. Each
    side builds its adjacency structures after the reset (ours in the first epoch, PyG's CSR tensor just
    before it), so both hold and count them."""
    build, _, _ = _child_step(case, side, synth)
    Path("/proc/self/clear_refs").write_text("5")
    base = _status_kb("VmRSS")
    step = build()
    for _ in range(1 if case.large else 5):     # at Reddit size the first epoch (structures built) is the peak
        step()
    print(json.dumps({"peak_mb": (_status_kb("VmHWM") - base) / 1024}))


def fit_child(case: Case, side: str, synth: str, budget_gib: float) -> None:
    """One epoch under an address-space limit of ``budget_gib`` above the loaded process: the first
    allocation that does not fit is reported (bytes asked for), instead of exhausting the machine."""
    build, n, e = _child_step(case, side, synth)
    step = build()
    loaded_gib = _status_kb("VmRSS") / 2**20
    limit = _status_kb("VmSize") * 1024 + int(budget_gib * 2**30)
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        step()
    except (RuntimeError, MemoryError) as err:
        asked = re.search(r"allocate (\d+) bytes", str(err))
        print(json.dumps({"fits": False, "asked_bytes": int(asked.group(1)) if asked else None,
                          "budget_gib": budget_gib, "nodes": n, "edges": e, "loaded_gib": loaded_gib}))
        return
    print(json.dumps({"fits": True, "budget_gib": budget_gib}))


def _child(flag: str, case: Case, side: str, threads: int, synth: str, extra=(), env=None) -> dict | None:
    cmd = [sys.executable, __file__, flag, case.model, str(case.hidden), case.graph, side,
           "--threads", str(threads), "--synth", synth, *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).parent,
                          env=None if env is None else {**os.environ, **env})
    if proc.returncode != 0:
        print(f"  {flag} {case.key} {side} failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------- the report
def machine_line(threads: list[int]) -> str:
    import torch_geometric

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores; torch {torch.__version__}, torch_geometric {torch_geometric.__version__}; "
            f"torch threads {' and '.join(map(str, threads))} (default {threads[0]}: OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}); load average at the start {load}")


def _meminfo_gib(field: str) -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def fmt(v, spec=".1f", none="—"):
    return none if v is None else format(v, spec)


def fmt_x(v):
    """A ratio as ``1.23x``, or a dash."""
    return "—" if v is None else f"{v:.2f}x"


def fmt_mb(v):
    return "—" if v is None else f"{v:.1f}" if v < 10 else f"{v:.0f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def case_row(case: Case, t: dict, mem: dict, fit: dict | None) -> str:
    best = min((t[k], k) for k in ("pyg", "pyg-csr") if k in t)
    pyg = fmt(t.get("pyg"))
    if "pyg" not in t and fit is not None and not fit.get("fits", True):
        pyg = f"does not fit ({fit['asked_bytes'] / 2**30:.1f} GiB asked)" if fit.get("asked_bytes") else "does not fit"
    mem_pyg = mem.get("pyg")
    if mem_pyg is None and fit is not None and not fit.get("fits", True):
        mem_pyg_cell = "does not fit"
    else:
        mem_pyg_cell = fmt_mb(mem_pyg)
    return (f"| {case.label} | {case.graph} | {t['gnnkit']:.1f} | {pyg} | {fmt(t.get('pyg-csr'))} | "
            f"{fmt_x(ratio(t.get('pyg'), t['gnnkit']))} | {best[0] / t['gnnkit']:.2f}x | {t['floor']:.1f} | "
            f"{t['gnnkit'] / t['floor']:.2f}x | {fmt_mb(mem.get('gnnkit'))} | {mem_pyg_cell} | "
            f"{fmt_mb(mem.get('pyg-csr'))} | {fmt_x(ratio(mem.get('gnnkit'), mem_pyg))} | "
            f"{fmt_x(ratio(mem.get('gnnkit'), mem.get('pyg-csr')))} |")


def targets(results: dict) -> list[str]:
    """The issue's targets, checked on this run's numbers (the first thread count)."""
    lines = []

    def get(key):
        return results.get(key)

    r = get("gcn/pubmed-sized")
    if r:
        v = r["t"]["gnnkit"] / r["t"]["floor"]
        lines.append(f"- GCN within 1.25x of its floor (PubMed-sized): {v:.2f}x: {'holds' if v <= 1.25 else 'does not hold'}")
    for key, name, goal in (("sage/pubmed-sized", "SAGE-mean", 3.0), ("gin/pubmed-sized", "GIN", 3.0),
                            ("gat/pubmed-sized", "GAT", 2.5)):
        r = get(key)
        if r and "pyg" in r["t"]:
            v = r["t"]["pyg"] / r["t"]["gnnkit"]
            lines.append(f"- {name} at least {goal:g}x torch_geometric's default path (PubMed-sized): {v:.2f}x: "
                         f"{'holds' if v >= goal else 'does not hold'}")
    slow = [f"{results[k]['case'].label} on {results[k]['case'].graph} {v:.2f}x" for k, v in
            ((k, min(r["t"].get("pyg", 1e30), r["t"]["pyg-csr"]) / r["t"]["gnnkit"]) for k, r in results.items())
            if v < 1.0]
    lines.append("- every case at least 1x torch_geometric's faster path: "
                 + ("holds" if not slow else "does not hold for " + "; ".join(slow)))
    for other, name in (("pyg", "default path"), ("pyg-csr", "CSR path")):
        over = [f"{r['case'].label} on {r['case'].graph} {ratio(r['mem'].get('gnnkit'), r['mem'].get(other)):.2f}x"
                for r in results.values()
                if ratio(r["mem"].get("gnnkit"), r["mem"].get(other)) and
                ratio(r["mem"].get("gnnkit"), r["mem"].get(other)) > 0.6]
        measured = [r for r in results.values() if ratio(r["mem"].get("gnnkit"), r["mem"].get(other))]
        if measured:
            lines.append(f"- peak memory above the data at most 0.6x torch_geometric's {name}, every case: "
                         + ("holds" if not over else "does not hold for " + "; ".join(over)))
    return lines


def churn_section(results: dict) -> list[str]:
    """Minor page faults per epoch, and the same cases re-timed with glibc keeping freed memory."""
    rows = [r for r in results.values() if r.get("kept")]
    if not rows:
        return []
    env = " ".join(f"{k}={v}" for k, v in KEEP_FREED.items())
    out = ["", "### Allocation churn: page faults per epoch", "",
           "A minor page fault is a page the process touches for the first time since the allocator returned it "
           "to the system. With glibc's defaults, the large blocks an epoch frees go back to the kernel (at its "
           "trim threshold, or as separate mappings) and the next epoch faults them in again as fresh zeroed pages. "
           "The left columns count faults in the timed epochs above (median per epoch). The right columns re-time "
           f"the same cases in a child process started with `{env}` (glibc keeps what is freed, for both "
           "libraries alike), so the difference is what the faults cost each side on this machine.",
           "", "| case | graph | faults ours | PyG | PyG CSR | floor | kept: ours ms | PyG ms | PyG CSR ms | "
           "PyG / ours | PyG best / ours | ours / floor |", "|---|---|" + "---:|" * 10]
    for r in rows:
        f, k = r["faults"], r["kept"]["ms"]
        best = min(v for key, v in k.items() if key in ("pyg", "pyg-csr"))
        out.append(f"| {r['case'].label} | {r['case'].graph} | {f['gnnkit']:,.0f} | {fmt(f.get('pyg'), ',.0f')} | "
                   f"{fmt(f.get('pyg-csr'), ',.0f')} | {f['floor']:,.0f} | {k['gnnkit']:.1f} | {fmt(k.get('pyg'))} | "
                   f"{fmt(k.get('pyg-csr'))} | {fmt_x(ratio(k.get('pyg'), k['gnnkit']))} | "
                   f"{best / k['gnnkit']:.2f}x | {k['gnnkit'] / k['floor']:.2f}x |")
    return out


def render(args, results: dict, scaling: dict, started: datetime, seconds: float, command: str) -> str:
    first = args.threads[0]
    out = [MARK_BEGIN,
           "## Whole training epochs against torch_geometric (issue 17)",
           "",
           f"`{command}` ({started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} min{', --quick: Cora only' if args.quick else ''})",
           "",
           f"Machine: {machine_line(args.threads)}.",
           "",
           "Each case is a whole training epoch (forward, backward, Adam step) of a 2-layer model called with "
           "`edge_index`, dropout on (each library's own: `gnnkit.ops.dropout` on ours, torch's `F.dropout` on "
           "torch_geometric's, which has none; torch's CPU Bernoulli draw alone was ~12% of a GCN or SAGE epoch "
           "here), the loss over every node; median of "
           f"{args.epochs} epochs per side, the sides alternating in one process. torch_geometric runs its default "
           "`edge_index` path and, fed a `torch.sparse` CSR adjacency, its fastest pip path; **best** is the "
           "faster. The **floor** is the model's dense products (`X W` forward, input and weight gradients) plus "
           "one raw CSR SpMM per layer forward and backward, timed alone in the same run (3 repeats at Reddit size). **Peak MB** is each side "
           "in its own process, started with `MALLOC_MMAP_THRESHOLD_=65536` (glibc maps each block of 64 KiB or more "
           "on its own and returns it when freed, so the peak follows the memory each library holds; with glibc's "
           "defaults the peaks also hold its cache of freed blocks, a few MB to 3x the held memory, varying from "
           "process to process): peak RSS above the resident set once the data exists and the library is warm "
           "(two epochs on a 64-node graph first), over 5 epochs (1 at Reddit size: its first epoch, which builds the structures, is the peak), the median of "
           f"{args.memory_repeats} such processes (1 at Reddit size); each side's adjacency "
           "structures (ours built from `edge_index` in the first epoch, PyG's CSR tensor) are counted. The script is "
           "`benchmarks/bench_epochs.py`.",
           "",
           f"### {first} thread{'s' if first > 1 else ''} (the default)",
           "",
           "| case | graph | ours ms | PyG ms | PyG CSR ms | PyG / ours | PyG best / ours | floor ms | ours / floor "
           "| peak MB ours | PyG | PyG CSR | memory ours / PyG | ours / PyG CSR |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    out += [case_row(r["case"], r["t"], r["mem"], r["fit"]) for r in results.values()]
    fits = [r for r in results.values() if r["fit"] is not None]
    for r in fits:
        f = r["fit"]
        if f.get("fits"):
            out.append(f"\n{r['case'].label} on {r['case'].graph}: torch_geometric's default path ran one epoch within "
                       f"a {f['budget_gib']:g} GiB budget but was not timed.")
        elif f.get("asked_bytes"):
            per = f["asked_bytes"] / (f["edges"] + f["nodes"]) / 4
            two = 2 * f["asked_bytes"] / 2**30
            total = _meminfo_gib("MemTotal")
            out.append(f"\n'does not fit': {r['case'].label} on {r['case'].graph}, torch_geometric's default path was run "
                       f"for one epoch in a child process limited to {f['budget_gib']:g} GiB above its loaded state; "
                       f"its first allocation beyond that asked for {f['asked_bytes']:,} bytes "
                       f"({f['asked_bytes'] / 2**30:.1f} GiB: a float tensor of (E + N) x {per:.0f}, the per-edge messages "
                       f"of {f['edges']:,} edges and {f['nodes']:,} self loops). Its message step (gather, then scale "
                       f"by the edge weight) holds two such tensors at once: {two:.1f} GiB beside the "
                       f"{f['loaded_gib']:.1f} GiB process holding the data, "
                       + (f"more than this machine's {total:.1f} GiB." if two + f["loaded_gib"] > total else
                          f"within this machine's {total:.1f} GiB, but not within the budget given."))
    out += ["", "Targets (issue 17), at the default thread count:", ""] + targets(results)
    out += churn_section(results)
    if scaling:
        other = [t for t in args.threads if t != first]
        out += ["", f"### Thread scaling: {first} and {' and '.join(map(str, other))} threads", "",
                f"Time only, median of {args.scaling_epochs} epochs per side (at Reddit size {min(3, args.scaling_epochs)} "
                f"epochs, ours and the floor only, to keep the suite under 20 minutes; memory is measured at {first} thread). "
                f"Load average when the "
                f"{other[-1]}-thread runs started: {scaling['_load']}."
                + (f" The machine was busy (load average at least its {os.cpu_count()} cores): "
                   f"{other[-1]} threads then wait on each other, so these times measure contention, not scaling."
                   if float(scaling["_load"].split(",")[0]) >= os.cpu_count() else ""), "",
                "| case | graph | " + " | ".join(f"ours ms ({t})" for t in args.threads)
                + " | ours speed-up | " + " | ".join(f"PyG best ms ({t})" for t in args.threads)
                + f" | PyG best / ours ({other[-1]}) | ours / floor ({other[-1]}) |",
                "|---|---|" + "---:|" * (2 * len(args.threads) + 3)]
        for key, r in results.items():
            ts = [r["t"]] + [scaling[t][key] for t in other]
            bests = [min((v for k, v in t.items() if k in ("pyg", "pyg-csr")), default=None) for t in ts]
            out.append(f"| {r['case'].label} | {r['case'].graph} | " + " | ".join(f"{t['gnnkit']:.1f}" for t in ts)
                       + f" | {ts[0]['gnnkit'] / ts[-1]['gnnkit']:.2f}x | " + " | ".join(fmt(b) for b in bests)
                       + f" | {fmt_x(ratio(bests[-1], ts[-1]['gnnkit']))} | {ts[-1]['gnnkit'] / ts[-1]['floor']:.2f}x |")
    out.append(MARK_END)
    return "\n".join(out) + "\n"


HEADER_END = "<!-- header: end -->"


def write_doc(path: Path, section: str, started: datetime, command: str) -> None:
    """Replace the header and the marked section of ``path`` (re-read now: others may have added sections);
    every other section stays as it is. The file is written to a temp name, then renamed."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    header = (f"# Benchmarks\n\nRegenerated by `make bench` ({started:%Y-%m-%d %H:%M} UTC: `{command}`): this header "
              "and the first section, whole training epochs against torch_geometric. Every other section is written "
              "by the command above it, with its own date. Medians over repeated, alternating runs on this machine; "
              "ratios compare against a baseline measured in the same run.\n" + HEADER_END + "\n")
    if HEADER_END in text:
        rest = text.split(HEADER_END + "\n", 1)[1]
    else:                            # the hand-written intro: everything before the first section
        cut = text.find("\n## ")
        rest = text[cut + 1:] if cut >= 0 else ""
    if MARK_BEGIN in rest and MARK_END in rest:
        before, tail = rest.split(MARK_BEGIN, 1)
        rest = before + tail.split(MARK_END + "\n", 1)[1]
    body = header + "\n" + section + "\n" + rest.lstrip("\n")
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(body)
    os.replace(tmp, path)


def parse_case(text: str) -> Case:
    for c in CASES:
        if c.key == text:
            return c
    raise argparse.ArgumentTypeError(f"unknown case {text!r}; one of {', '.join(c.key for c in CASES)}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the Cora cases only, for a check in under 3 minutes")
    p.add_argument("--cases", type=parse_case, nargs="+", help="a subset, e.g. gcn/cora gat/pubmed-sized gcn128/reddit-sized")
    p.add_argument("--epochs", type=int, default=10, help="timed epochs per side (default 10)")
    p.add_argument("--threads", type=int, nargs="+", default=[1], help="torch threads, each timed (default 1)")
    p.add_argument("--scaling-epochs", type=int, default=5, help="timed epochs per side at the other thread counts (default 5)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--memory-repeats", type=int, help="memory processes per side, median (default 3, --quick 1; 1 at Reddit size)")
    p.add_argument("--synth", default=SYNTH_DEFAULT, help=f"folder of the Reddit-sized graph (default {SYNTH_DEFAULT})")
    p.add_argument("--fit-budget", type=float, default=6.0, help="GiB a 'does it fit' child may allocate (default 6)")
    p.add_argument("--write", type=Path, help="regenerate this file's header and epoch section (docs/benchmarks.md)")
    p.add_argument("--memory-child", nargs=4, metavar=("MODEL", "HIDDEN", "GRAPH", "SIDE"), help=argparse.SUPPRESS)
    p.add_argument("--fit-child", nargs=4, metavar=("MODEL", "HIDDEN", "GRAPH", "SIDE"), help=argparse.SUPPRESS)
    p.add_argument("--time-child", nargs=4, metavar=("MODEL", "HIDDEN", "GRAPH", "SIDE"), help=argparse.SUPPRESS)
    p.add_argument("--no-kept-memory", action="store_true",
                   help="skip the re-timing with glibc keeping freed memory (the page-fault section)")
    args = p.parse_args(argv)
    if args.memory_repeats is None:
        args.memory_repeats = 1 if args.quick else 3
    torch.set_num_threads(args.threads[0])
    for flag, fn in ((args.memory_child, memory_child), (args.fit_child, fit_child), (args.time_child, time_child)):
        if flag:
            model, hidden, graph, side = flag
            case = Case(model, int(hidden), graph)
            if fn is time_child:
                time_child(case, args.epochs, args.synth)
            else:
                fn(case, side, args.synth, *((args.fit_budget,) if fn is fit_child else ()))
            return 0

    started, t0 = datetime.now(timezone.utc), time.perf_counter()
    env = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} " if "OMP_NUM_THREADS" in os.environ else ""
    command = env + ".venv/bin/python benchmarks/bench_epochs.py " + " ".join(sys.argv[1:] if argv is None else argv)
    cases = args.cases or (QUICK if args.quick else CASES)
    print(f"# {command.strip()}\n# {machine_line(args.threads)}", flush=True)
    results, scaling = {}, {}
    first = args.threads[0]
    for case in cases:
        t, faults = time_case(case, args.epochs, args.synth)
        mem, fit, kept = {}, None, None
        if not args.no_memory:      # the median of --memory-repeats processes per side (RSS peaks vary by a few MB)
            for side in ("gnnkit", "pyg-csr") if case.large else ("gnnkit", "pyg", "pyg-csr"):
                runs = [_child("--memory-child", case, side, first, args.synth, env=LIVE_RSS)
                        for _ in range(1 if case.large else args.memory_repeats)]
                peaks = [m["peak_mb"] for m in runs if m]
                mem[side] = statistics.median(peaks) if peaks else None
        if case.large:
            fit = _child("--fit-child", case, "pyg", first, args.synth, ("--fit-budget", str(args.fit_budget)))
        if not args.no_kept_memory and not case.large:
            kept = _child("--time-child", case, "all", first, args.synth, ("--epochs", str(args.epochs)), KEEP_FREED)
        results[case.key] = {"case": case, "t": t, "mem": mem, "fit": fit, "faults": faults, "kept": kept}
        print(case_row(case, t, mem, fit), flush=True)
    for threads in args.threads[1:]:
        scaling["_load"] = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        torch.set_num_threads(threads)
        scaling[threads] = {}
        for case in cases:
            # at Reddit size ours and the floor only, 3 epochs (PyG's CSR epoch alone is ~25 s at 2 threads)
            epochs = min(3, args.scaling_epochs) if case.large else args.scaling_epochs
            scaling[threads][case.key] = time_case(case, epochs, args.synth, pyg=not case.large)[0]
            t = scaling[threads][case.key]
            print(f"  {threads} threads: {case.key}: ours {t['gnnkit']:.1f} ms, "
                  + ", ".join(f"{k} {v:.1f}" for k, v in t.items() if k != "gnnkit"), flush=True)
    torch.set_num_threads(first)
    section = render(args, results, scaling, started, time.perf_counter() - t0, command.strip())
    print(section)
    if args.write:
        write_doc(args.write, section, started, command.strip())
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
