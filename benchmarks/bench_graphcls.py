"""One training epoch of the GIN paper's network on batches of small graphs, next to torch_geometric.

For each dataset (NCI1, PROTEINS, COLLAB; GIN's node inputs) and hidden width (16, 32, 64), with
batch 128, one epoch = one shuffled pass over all graphs: collate, forward, cross-entropy,
backward, Adam step. Three programs run alternately inside one loop, so machine noise hits all:

- ``ours``: ``tasks.GraphClassification.train_batches()`` (collation included) and
  ``models.GIN`` (5 layers counting the input, 2-layer MLPs with batch norm, one linear head per
  layer's sum readout, scores summed);
- ``PyG``: torch_geometric's recipe for the same network: its ``DataLoader`` over ``Data``
  objects, ``GINConv`` with the same MLPs, ``global_add_pool``, the same heads;
- ``floor``: the same MLPs, batch norms and heads on the same batches, collated beforehand,
  with one ``torch.sparse.mm`` (CSR adjacency built beforehand) per layer and the readout as a
  CSR ``[B, N]`` pooling matrix: what any implementation must at least spend.

All three step the same optimizer, ``train.make_optimizer(model, "adam", 0.01, impl=...)``
(``train.fit`` uses its default, fused Adam), so the ratios compare the libraries, not the
optimizer; ``--optimizer loop`` gives all three torch's CPU default, one parameter at a time.

Also timed: collation alone (ours vs PyG's loader, one epoch of batches) and the WL subtree
features (3 iterations) of the whole dataset. Times are medians over ``--repeats`` epochs (ms);
ratios are PyG / ours and ours / floor.

    python benchmarks/bench_graphcls.py [--datasets NCI1 PROTEINS COLLAB] [--hidden 16 32 64] [--repeats 3] [--optimizer fused]
"""
from __future__ import annotations

import argparse
import datetime
import statistics
import time
import warnings

import torch
import torch.nn.functional as F
from torch import nn

from gnnkit import datasets
from gnnkit.experiments.data import gin_features
from gnnkit.graph import Batch
from gnnkit.models import GIN
from gnnkit.tasks import GraphClassification
from gnnkit.train import make_optimizer

BATCH = 128
LAYERS = 5


def _mlp(a: int, b: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Linear(b, b))


class PlainGIN(nn.Module):
    """The same network on prebuilt tensors: the floor (also the shape of PyG's model)."""

    def __init__(self, f_in: int, hidden: int, classes: int, conv=None):
        super().__init__()
        dims = [f_in] + [hidden] * (LAYERS - 1)
        self.mlps = nn.ModuleList(_mlp(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.convs = None if conv is None else nn.ModuleList(conv(m) for m in self.mlps)
        self.norms = nn.ModuleList(nn.BatchNorm1d(b) for b in dims[1:])
        self.heads = nn.ModuleList(nn.Linear(d, classes) for d in dims)

    def forward_floor(self, x, adj, pool):
        hs = [x]
        for mlp, norm in zip(self.mlps, self.norms):
            x = F.relu(norm(mlp(torch.sparse.mm(adj, x) + x)))                 # one SpMM per layer
            hs.append(x)
        return sum(F.dropout(head(torch.sparse.mm(pool, h)), 0.5, self.training) for head, h in zip(self.heads, hs))

    def forward_pyg(self, x, edge_index, batch, size):
        from torch_geometric.nn import global_add_pool

        hs = [x]
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(norm(conv(x, edge_index)))
            hs.append(x)
        return sum(F.dropout(head(global_add_pool(h, batch, size)), 0.5, self.training)
                   for head, h in zip(self.heads, hs))


def _epoch(step, batches, model, opt) -> float:
    t0 = time.perf_counter()
    model.train()
    for b in batches():
        opt.zero_grad()
        loss = step(b)
        loss.backward()
        opt.step()
    return 1000 * (time.perf_counter() - t0)


def _floor_batches(graphs, order_seed: int = 0):
    """Pre-collated batches with CSR adjacency (A + 0: aggregation at the target) and pooling matrices."""
    perm = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(order_seed)).tolist()
    out = []
    warnings.filterwarnings("ignore", message="Sparse (invariant checks|CSR tensor support)")
    for s in range(0, len(perm), BATCH):
        b = Batch.from_graphs([graphs[i] for i in perm[s:s + BATCH]])
        n = b.num_nodes
        src, dst = b.edge_index
        adj = torch.sparse_coo_tensor(torch.stack([dst, src]), torch.ones(src.numel()), (n, n)).coalesce().to_sparse_csr()
        pool = torch.sparse_coo_tensor(torch.stack([b.batch, torch.arange(n)]), torch.ones(n),
                                       (b.num_graphs, n)).coalesce().to_sparse_csr()
        out.append((b.x, adj, pool, b.y.view(-1)))
    return out


def bench_dataset(name: str, hiddens, repeats: int, root=None, impl: str = "fused") -> list[dict]:
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader as PygLoader
    from torch_geometric.nn import GINConv

    ds = datasets.load(name, root)
    transform = gin_features(ds)
    graphs = [transform(g) for g in ds]
    classes = int(ds.y.max()) + 1
    f_in = graphs[0].num_features
    pyg_data = [Data(x=g.x, edge_index=g.edge_index, y=g.y.view(1)) for g in graphs]
    ids = torch.arange(len(graphs))
    task = GraphClassification(graphs, ids, ids[:0], ids[:0], batch_size=BATCH, num_classes=classes)
    floor_batches = _floor_batches(graphs)
    rows = []
    for hidden in hiddens:
        torch.manual_seed(0)
        ours = GIN(f_in, hidden, classes, num_layers=LAYERS)
        pyg = PlainGIN(f_in, hidden, classes, conv=lambda m: GINConv(m, train_eps=False))
        floor = PlainGIN(f_in, hidden, classes)
        opts = {k: make_optimizer(m, "adam", 0.01, impl=impl)
                for k, m in (("ours", ours), ("pyg", pyg), ("floor", floor))}
        loader = PygLoader(pyg_data, batch_size=BATCH, shuffle=True)
        runs = {
            "ours": lambda: _epoch(lambda b: task.loss(ours, b).loss, task.train_batches, ours, opts["ours"]),
            "pyg": lambda: _epoch(lambda b: F.cross_entropy(pyg.forward_pyg(b.x, b.edge_index, b.batch, b.num_graphs),
                                                              b.y), lambda: iter(loader), pyg, opts["pyg"]),
            "floor": lambda: _epoch(lambda b: F.cross_entropy(floor.forward_floor(b[0], b[1], b[2]), b[3]),
                                    lambda: iter(floor_batches), floor, opts["floor"]),
        }
        times = {k: [] for k in runs}
        for k in runs:                       # warm-up (allocator, lazy imports)
            runs[k]()
        for _ in range(repeats):
            for k, f in runs.items():
                times[k].append(f())
        med = {k: statistics.median(v) for k, v in times.items()}
        rows.append({"dataset": name, "hidden": hidden, **med, "pyg/ours": med["pyg"] / med["ours"],
                     "ours/floor": med["ours"] / med["floor"]})
        print(f"{name:9s} h={hidden:3d}  ours {med['ours']:9.1f}  PyG {med['pyg']:9.1f}  floor {med['floor']:9.1f} ms"
              f"   PyG/ours {med['pyg'] / med['ours']:.2f}x   ours/floor {med['ours'] / med['floor']:.2f}x", flush=True)
    # collation alone, one epoch of batches each
    col = {"ours": [], "pyg": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _b in task.train_batches():
            pass
        col["ours"].append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _b in PygLoader(pyg_data, batch_size=BATCH, shuffle=True):
            pass
        col["pyg"].append(1000 * (time.perf_counter() - t0))
    c = {k: statistics.median(v) for k, v in col.items()}
    print(f"{name:9s} collation: ours {c['ours']:.1f} ms, PyG loader {c['pyg']:.1f} ms "
          f"(PyG/ours {c['pyg'] / c['ours']:.2f}x)", flush=True)
    rows.append({"dataset": name, "collation_ours": c["ours"], "collation_pyg": c["pyg"]})
    return rows


def bench_wl(name: str, iterations: int = 3, root=None) -> float:
    from gnnkit.wl import wl_features

    ds = datasets.load(name, root)
    graphs = [(g.edge_index, g.num_nodes) for g in ds]
    edges = sum(g.edge_index.size(1) for g in ds)
    t0 = time.perf_counter()
    feats, _ = wl_features(graphs, iterations)
    seconds = time.perf_counter() - t0
    print(f"{name:9s} WL subtree features, {iterations} iterations, {len(graphs)} graphs, {edges} directed edges: "
          f"{seconds:.2f} s ({', '.join(str(f.shape[1]) for f in feats)} colours per iteration)", flush=True)
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="+", default=["NCI1", "PROTEINS", "COLLAB"])
    p.add_argument("--hidden", nargs="+", type=int, default=[16, 32, 64])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--wl", nargs="*", default=["COLLAB"], help="datasets whose WL features are timed")
    p.add_argument("--optimizer", choices=["fused", "foreach", "loop"], default="fused",
                   help="how Adam runs its update, for all three programs (train.make_optimizer's impl)")
    p.add_argument("--root")
    args = p.parse_args()
    print(f"# bench_graphcls {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s), batch {BATCH}, median of {args.repeats} epochs, "
          f"Adam impl={args.optimizer}", flush=True)
    for name in args.datasets:
        bench_dataset(name, args.hidden, args.repeats, args.root, args.optimizer)
    for name in args.wl:
        bench_wl(name, root=args.root)


if __name__ == "__main__":
    main()
