"""Every layer of gnnkit.nn, forward + backward, next to torch_geometric's layer of the same name.

Two random undirected graphs, stored in both directions and coalesced like the Planetoid ones:
Cora-sized (2,708 nodes, 10,556 directed edges, 1,433 features) and PubMed-sized
(19,717 nodes, 88,648 directed edges, 500 features). Each layer is timed in four
ways, alternating inside one loop so that machine noise hits all of them alike:

- ``ours cached``: ``layer(x, adj)`` with the graph's ``SparseAdj`` built once
  (``graph.adj()``), so normalizations are cached on it: the explicit form;
- ``ours edge_index``: ``layer(x, edge_index)`` with the same tensor on every call, as in a
  training loop: ``ops.as_adj`` keeps the structure it built for that tensor (and what
  layers cache on it), so after the first call this is the cached path plus a lookup;
- ``ours new edge_index``: ``layer(x, edge_index)`` with a tensor not seen before on every
  call (a fresh clone), so everything derived from the edge list (sorting, normalization,
  Laplacian, self loops) is rebuilt each time: one-off calls, or a new sampled subgraph per batch;
- ``PyG``: torch_geometric's layer of the same name on ``edge_index`` (PyG's plain
  path: this machine has no torch_sparse / pyg_lib extensions), default arguments.

Each first layer is timed on dense random features (``torch.randn``) and, on the Cora-sized
graph, on features shaped like Cora's bag of words (0/1 at its 1.27% density) given to gnnkit
as a sparse CSR matrix. PyG is timed on the same matrix dense and, where its layer takes it
(GCNConv, GATConv; its ChebConv, SAGEConv and GINConv index ``x`` in propagation), sparse;
the faster of the two counts, and the row says which. PubMed's TF-IDF features are 10% non-zero,
where a sparse product is slower than the GEMM (gnnkit's pipeline keeps them dense), so its
dense rows are the ones that apply. With dense features a first layer is mostly the
``[N, F_in] x [F_in, 64]`` GEMM (forward and weight gradient), identical in both: the
``x @ W alone`` row times it by itself.

Times are medians of fwd+bwd in ms (``out.backward(grad)`` with a fixed random
``grad``; ``x`` itself needs no gradient, as for a first layer). The ratio columns
are PyG / ours, of the medians and (last two) of the minimum times, which a machine
shared with other work disturbs less. Layer widths: 64 outputs (GAT: 8 heads x 8), K = 3 for ChebConv
(lambda_max = 2, PyG's default for 'sym', for both), GIN's MLP Linear-ReLU-Linear
with 64 units, GatedGraphConv 3 steps on 64 channels, MPNN on 16 channels with 4
edge features (PyG: NNConv followed by a GRUCell, as in PyG's MPNN example).

    python benchmarks/bench_layers.py [--repeats 15] [--graphs cora pubmed] [--layers GCNConv ChebConv] [--dense-only]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

import gnnkit.nn as gnn
from gnnkit import ops

GRAPHS = {"cora": (2_708, 10_556, 1_433), "pubmed": (19_717, 88_648, 500)}
# Share of non-zero features in Cora's binary bag of words (49,216 of 2,708 x 1,433). PubMed's TF-IDF
# vectors are 10% non-zero (988,031 of 19,717 x 500), where gnnkit keeps features dense: no such rows.
BOW_DENSITY = {"cora": 0.0127}
HIDDEN = 64
TARGETS = {"GCNConv": 3.0, "ChebConv": 3.0, "SAGEConv (mean)": 3.0, "GINConv": 3.0}


def random_undirected_graph(num_nodes: int, num_directed: int, seed: int = 0) -> torch.Tensor:
    """``num_directed / 2`` distinct random node pairs (no self loops), stored in both directions
    and coalesced (sorted by source, then target), as the Planetoid files and PyG's datasets are."""
    gen = torch.Generator().manual_seed(seed)
    pairs = torch.randint(0, num_nodes, (2, num_directed), generator=gen)
    lo, hi = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
    keep = lo != hi
    key = torch.unique(lo[keep] * num_nodes + hi[keep])
    key = key[torch.randperm(key.numel(), generator=gen)[: num_directed // 2]]
    src, dst = key // num_nodes, key % num_nodes
    edge_index = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    return edge_index[:, torch.argsort(edge_index[0] * num_nodes + edge_index[1])]


@dataclass
class Inputs:
    """One graph and the tensors the layers read."""

    name: str
    num_nodes: int
    edge_index: torch.Tensor
    x: torch.Tensor          # [N, F] the dataset-sized features
    x64: torch.Tensor        # [N, 64] hidden-layer features
    x16: torch.Tensor        # [N, 16] for the edge network
    edge_attr: torch.Tensor  # [E, 4]
    batch: torch.Tensor      # [N] the nodes cut into 64 "graphs", for the readout


def bag_of_words(inp: Inputs) -> Inputs:
    """The same graph with features shaped like the real dataset's: 0/1 entries at its density,
    as a sparse CSR matrix (what gnnkit's Planetoid pipeline feeds the first layer)."""
    gen = torch.Generator().manual_seed(2)
    n, f = inp.x.shape
    x = (torch.rand(n, f, generator=gen) < BOW_DENSITY[inp.name]).float()
    return dataclasses.replace(inp, x=x.to_sparse_csr())


def make_inputs(name: str) -> Inputs:
    n, e, f = GRAPHS[name]
    gen = torch.Generator().manual_seed(1)
    edge_index = random_undirected_graph(n, e)
    batch = torch.div(torch.arange(n) * 64, n, rounding_mode="floor")
    return Inputs(name, n, edge_index, torch.randn(n, f, generator=gen), torch.randn(n, HIDDEN, generator=gen),
                  torch.randn(n, 16, generator=gen), torch.randn(edge_index.size(1), 4, generator=gen), batch)


def mlp(f_in: int) -> nn.Module:
    return nn.Sequential(nn.Linear(f_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN))


def edge_mlp(channels: int) -> nn.Module:
    return nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, channels * channels))


class PygMPNN(nn.Module):
    """PyG's NNConv (edge network message) then a GRUCell update, as in PyG's QM9 MPNN example."""

    def __init__(self, channels: int):
        super().__init__()
        from torch_geometric.nn import NNConv
        self.conv = NNConv(channels, channels, edge_mlp(channels), aggr="add")
        self.gru = nn.GRUCell(channels, channels)

    def forward(self, x, edge_index, edge_attr):
        return self.gru(self.conv(x, edge_index, edge_attr), x)


@dataclass
class Case:
    """A layer to time: how to build ours and PyG's, and how to call them on a graph."""

    name: str
    ours: Callable[[Inputs], nn.Module]
    call: Callable[[nn.Module, Inputs, object], torch.Tensor]          # (layer, inputs, edge_index or adj)
    pyg: Callable[[Inputs], nn.Module] | None = None
    pyg_call: Callable[[nn.Module, Inputs], torch.Tensor] | None = None
    graphs: tuple = ("cora", "pubmed")
    edge_index_mode: bool = True       # False: rebuilding per call is not a meaningful use (SpectralConv)
    requires: str | None = None        # the gnnkit.nn class this case needs
    hidden: bool = False               # also time it as a hidden layer (64 -> 64 features)
    bow: bool = False                  # also time it on sparse bag-of-words features


class DenseProduct(nn.Module):
    """``x @ W`` alone, [N, F_in] x [F_in, 64] (``ops.matmul``, as the layers run it): the GEMM
    (forward and weight gradient) that any dense-feature first layer runs, ours and PyG's alike;
    a floor under their times."""

    def __init__(self, f_in: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(f_in, HIDDEN) / f_in ** 0.5)

    def forward(self, x, graph):
        return ops.matmul(x, self.weight)


def _pyg(cls_name: str, args: Callable[[Inputs], tuple], **kwargs):
    def build(inp: Inputs) -> nn.Module:
        import torch_geometric.nn as pyg_nn
        return getattr(pyg_nn, cls_name)(*args(inp), **kwargs)
    return build


def _f(inp: Inputs) -> int:
    return inp.x.size(1)


def cases() -> list[Case]:
    plain = lambda layer, inp, graph: layer(inp.x, graph)                      # noqa: E731
    plain_pyg = lambda layer, inp: layer(inp.x, inp.edge_index)                # noqa: E731
    return [
        Case("x @ W alone (GEMM floor)", lambda i: DenseProduct(_f(i)), plain, edge_index_mode=False),
        Case("GCNConv", lambda i: gnn.GCNConv(_f(i), HIDDEN), plain,
             _pyg("GCNConv", lambda i: (_f(i), HIDDEN)), plain_pyg, requires="GCNConv", hidden=True, bow=True),
        Case("GCNConv [cached=True, both]", lambda i: gnn.GCNConv(_f(i), HIDDEN, cached=True), plain,
             _pyg("GCNConv", lambda i: (_f(i), HIDDEN), cached=True), plain_pyg, requires="GCNConv", bow=True),
        Case("ChebConv", lambda i: gnn.ChebConv(_f(i), HIDDEN, K=3, lambda_max=2.0), plain,
             _pyg("ChebConv", lambda i: (_f(i), HIDDEN, 3)), plain_pyg, requires="ChebConv", hidden=True, bow=True),
        Case("SpectralConv (k=100)", lambda i: gnn.SpectralConv(_f(i), HIDDEN, num_nodes=i.num_nodes, k=100),
             plain, graphs=("cora",), edge_index_mode=False, requires="SpectralConv"),
        Case("SAGEConv (mean)", lambda i: gnn.SAGEConv(_f(i), HIDDEN, aggr="mean"), plain,
             _pyg("SAGEConv", lambda i: (_f(i), HIDDEN), aggr="mean"), plain_pyg, requires="SAGEConv", hidden=True, bow=True),
        Case("SAGEConv (pool)", lambda i: gnn.SAGEConv(_f(i), HIDDEN, aggr="pool"), plain, requires="SAGEConv"),
        Case("GATConv (8 heads)", lambda i: gnn.GATConv(_f(i), 8, heads=8), plain,
             _pyg("GATConv", lambda i: (_f(i), 8), heads=8), plain_pyg, requires="GATConv", hidden=True, bow=True),
        Case("GINConv", lambda i: gnn.GINConv(mlp(_f(i))), plain,
             _pyg("GINConv", lambda i: (mlp(_f(i)),)), plain_pyg, requires="GINConv", hidden=True, bow=True),
        Case("GINEConv", lambda i: gnn.GINEConv(mlp(_f(i)), _f(i), edge_dim=4),
             lambda layer, inp, graph: layer(inp.x, graph, inp.edge_attr),
             _pyg("GINEConv", lambda i: (mlp(_f(i)),), edge_dim=4),
             lambda layer, inp: layer(inp.x, inp.edge_index, inp.edge_attr), requires="GINEConv"),
        Case("GatedGraphConv (3 steps)", lambda i: gnn.GatedGraphConv(HIDDEN, num_steps=3),
             lambda layer, inp, graph: layer(inp.x64, graph),
             _pyg("GatedGraphConv", lambda i: (HIDDEN, 3)), lambda layer, inp: layer(inp.x64, inp.edge_index),
             requires="GatedGraphConv"),
        Case("MPNNConv / NNConv+GRU", lambda i: gnn.MPNNConv(16, edge_dim=4, edge_hidden=64),
             lambda layer, inp, graph: layer(inp.x16, graph, inp.edge_attr),
             lambda i: PygMPNN(16), lambda layer, inp: layer(inp.x16, inp.edge_index, inp.edge_attr),
             requires="MPNNConv"),
        Case("Set2Set (3 steps, 64 graphs)", lambda i: gnn.Set2Set(HIDDEN, processing_steps=3),
             lambda layer, inp, graph: layer(inp.x64, inp.batch),
             lambda i: __import__("torch_geometric.nn.aggr", fromlist=["Set2Set"]).Set2Set(HIDDEN, 3),
             lambda layer, inp: layer(inp.x64, inp.batch), requires="Set2Set"),
        Case("RecurrentGNN (10 iterations)",
             lambda i: gnn.RecurrentGNN(_f(i), 16, max_iter=10, tol=0.0), plain, requires="RecurrentGNN"),
        Case("NN4GConv", lambda i: gnn.NN4GConv(_f(i), HIDDEN), plain, requires="NN4GConv"),
        Case("DiffusionConv (dcnn, K=2)", lambda i: gnn.DiffusionConv(_f(i), K=2), plain, requires="DiffusionConv"),
        Case("PGCConv (r=2)", lambda i: gnn.PGCConv(_f(i), HIDDEN, r=2), plain, requires="PGCConv"),
    ]


def time_fwd_bwd(fn: Callable[[], torch.Tensor], params: list, grad: torch.Tensor) -> float:
    for p in params:
        p.grad = None
    t0 = time.perf_counter()
    fn().backward(grad)
    return time.perf_counter() - t0


def run_case(case: Case, inp: Inputs, repeats: int) -> tuple[dict[str, float], dict[str, float], str]:
    """Median and minimum fwd+bwd time (ms) of each path, and a note on PyG's input."""
    torch.manual_seed(0)
    note = ""
    ours = case.ours(inp)
    adj = ops.SparseAdj(inp.edge_index, inp.num_nodes)          # what graph.adj() returns, built once
    paths = {"cached": lambda: case.call(ours, inp, adj)}
    if case.edge_index_mode:
        paths["edge_index"] = lambda: case.call(ours, inp, inp.edge_index)
        fresh = iter([inp.edge_index.clone() for _ in range(repeats + 1)])   # one unseen tensor per call
        paths["new edge_index"] = lambda: case.call(ours, inp, next(fresh))
    params = {name: list(ours.parameters()) for name in paths}
    if case.pyg is not None:
        theirs = case.pyg(inp)
        params["pyg"] = params["pyg sparse x"] = list(theirs.parameters())
        if inp.x.layout == torch.strided:
            paths["pyg"] = lambda: case.pyg_call(theirs, inp)
        else:                                                     # PyG on dense x, and on sparse x if it takes it
            dense = dataclasses.replace(inp, x=inp.x.to_dense())
            paths["pyg"] = lambda: case.pyg_call(theirs, dense)
            try:
                case.pyg_call(theirs, inp).sum().backward()
                paths["pyg sparse x"] = lambda: case.pyg_call(theirs, inp)
            except (NotImplementedError, RuntimeError):
                pass
    grad = torch.randn_like(paths["cached"]())                  # also fills the adjacency's caches
    for name, fn in paths.items():                               # warm-up (and, for edge_index, the first build)
        time_fwd_bwd(fn, params[name], grad)
    times = {name: [] for name in paths}
    for _ in range(repeats):
        for name, fn in paths.items():
            times[name].append(time_fwd_bwd(fn, params[name], grad))
    med = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    best = {name: min(t) * 1e3 for name, t in times.items()}
    if "pyg" in med and inp.x.layout != torch.strided:           # PyG's faster input format counts
        sparse_faster = med.get("pyg sparse x", float("inf")) < med["pyg"]
        if sparse_faster:
            med["pyg"], best["pyg"] = med["pyg sparse x"], best["pyg sparse x"]
        note = f"PyG's faster: {'sparse' if sparse_faster else 'dense'} x" + (
            "" if "pyg sparse x" in med else ", its only option")
    return med, best, note


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ratio(pyg: float | None, ours: float | None) -> str:
    return "" if pyg is None or ours is None else f"{pyg / ours:.2f}x"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--graphs", nargs="+", default=list(GRAPHS), choices=list(GRAPHS))
    parser.add_argument("--layers", nargs="+", default=None, help="case names to run (prefix match)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--dense-only", action="store_true", help="skip the bag-of-words rows")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import torch_geometric

    print(f"# bench_layers.py, {datetime.date.today()}, torch {torch.__version__}, torch_geometric "
          f"{torch_geometric.__version__}, {torch.get_num_threads()} threads, {args.repeats} repeats, "
          "median fwd+bwd in ms")
    print("| layer | graph | ours cached adj | ours edge_index | ours new edge_index | PyG | PyG/ours cached "
          "| PyG/ours edge_index | PyG/ours new edge_index | min: cached | min: edge_index | min: new edge_index |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    summary = {}
    selected = [c for c in cases() if not args.layers or any(c.name.startswith(p) for p in args.layers)]
    missing = [c.name for c in selected if c.requires and not hasattr(gnn, c.requires)]
    selected = [c for c in selected if c.name not in missing]
    for graph_name in args.graphs:
        first = make_inputs(graph_name)
        hidden = dataclasses.replace(first, x=first.x64)            # the same graph, 64 -> 64 features
        settings = [(first, selected, "")]
        if graph_name in BOW_DENSITY and not args.dense_only:
            settings.append((bag_of_words(first), [c for c in selected if c.bow],
                             f", bag of words {BOW_DENSITY[graph_name]:.1%}"))
        settings.append((hidden, [c for c in selected if c.hidden], ""))
        for inp, runs, kind in settings:
            label = f"{graph_name} ({inp.num_nodes} nodes, {inp.edge_index.size(1)} edges, F={inp.x.size(1)}{kind})"
            for case in runs:
                if graph_name not in case.graphs:
                    continue
                med, best, note = run_case(case, inp, args.repeats)
                modes = ("cached", "edge_index", "new edge_index")
                pyg = med.get("pyg")
                summary[(case.name, label)] = {m: pyg / med[m] for m in modes if pyg and m in med}
                print(f"| {case.name}{f' ({note})' if note else ''} | {label} | "
                      + " | ".join(_ms(med.get(m)) for m in modes) + f" | {_ms(pyg)} | "
                      + " | ".join(_ratio(pyg, med.get(m)) for m in modes) + " | "
                      + " | ".join(_ratio(best.get("pyg"), best.get(m)) for m in modes) + " |", flush=True)
    print()
    verdict = lambda r, t: f"{r:.2f}x ({'meets' if r >= t else 'misses'})"   # noqa: E731
    for (name, graph_name), ratios in summary.items():
        target = TARGETS.get(name, 1.0)
        if ratios and (name in TARGETS or min(ratios.values()) < 1.0):
            print(f"{name} on {graph_name}, target >= {target:.0f}x: "
                  + ", ".join(f"{mode} {verdict(r, target)}" for mode, r in ratios.items()))
    for name in missing:
        print(f"not timed: {name} (its gnnkit.nn class does not exist yet)")


if __name__ == "__main__":
    main()
