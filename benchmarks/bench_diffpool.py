"""DiffPool: a PROTEINS training epoch against torch_geometric's dense recipe, and the peak memory
of one training step against batch size and the largest graph's node count.

1. ``--epoch``: one training epoch of PROTEINS (all 1,113 graphs, batches of 20 in one fixed
   shuffled order, collated once outside the timed region) with gnnkit's ``DiffPoolNet`` and with
   the same network written with torch_geometric's dense parts (``to_dense_batch``,
   ``to_dense_adj``, ``DenseSAGEConv``, ``dense_diff_pool``; batch norm over all padded rows as in
   PyG's examples/proteins_diff_pool.py). Both: 3 SAGE layers per block (hidden 30, L2-normalised,
   ReLU + batch norm), 155 clusters (25% of 620), one pooling level, max readouts, MLP 50, Adam,
   link loss ``||A - S S^T||_F`` normalised by the entries (``link_loss='frobenius'`` on our side)
   plus entropy. Alternating, ``--repeats`` times each; the ratio is ours / PyG. Ours twice: the padded
   first level (the released code's form) and ``first_level='sparse'`` (unpadded nodes, sparse adjacency).
2. ``--memory``: one training step (forward, backward, Adam step) of ``DiffPoolNet`` (one pooling
   level, K = N/4 clusters, 3 input features, hidden 30, the released code's BCE link loss) on B
   random graphs of N nodes each (average degree 5, like D&D), run in a fresh subprocess per
   point; the peak is the growth of the process's maximum resident set size over the step
   (``ru_maxrss``), beside the formula in docs/benchmarks.md.

    .venv/bin/python benchmarks/bench_diffpool.py --epoch --memory [--threads 1]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date

import torch
import torch.nn.functional as F
from torch import nn

N_F, HIDDEN = 3, 30


# ------------------------------------------------------------------ the PyG side
def pyg_diffpool(in_channels: int, out_channels: int, clusters: int):
    from torch_geometric.nn import DenseSAGEConv, dense_diff_pool
    from torch_geometric.utils import to_dense_adj, to_dense_batch

    class Block(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.convs = nn.ModuleList([DenseSAGEConv(c_in, HIDDEN, normalize=True),
                                        DenseSAGEConv(HIDDEN, HIDDEN, normalize=True),
                                        DenseSAGEConv(HIDDEN, c_out, normalize=True)])
            self.bns = nn.ModuleList([nn.BatchNorm1d(HIDDEN), nn.BatchNorm1d(HIDDEN)])
            self.out_channels = 2 * HIDDEN + c_out

        def forward(self, x, adj, mask=None):
            hs = []
            for i, conv in enumerate(self.convs):
                x = conv(x, adj, mask)
                if i < 2:
                    B, N, C = x.shape
                    x = self.bns[i](F.relu(x).view(-1, C)).view(B, N, C)
                hs.append(x)
            return torch.cat(hs, -1)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed0 = Block(in_channels, HIDDEN)
            d = self.embed0.out_channels
            self.pool0 = Block(in_channels, clusters)
            self.assign = nn.Linear(self.pool0.out_channels, clusters)
            self.embed1 = Block(d, HIDDEN)
            self.lin1, self.lin2 = nn.Linear(2 * d, 50), nn.Linear(50, out_channels)

        def forward(self, x, edge_index, batch):
            x, mask = to_dense_batch(x, batch)
            adj = to_dense_adj(edge_index, batch, max_num_nodes=x.size(1))
            z = self.embed0(x, adj, mask)
            r0 = z.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(1).values
            s = self.assign(self.pool0(x, adj, mask))
            x, adj, l1, e1 = dense_diff_pool(z, adj, s, mask)
            r1 = self.embed1(x, adj).max(1).values
            return self.lin2(F.relu(self.lin1(torch.cat([r0, r1], -1)))), l1 + e1

    return Net()


def epoch_time(model, batches, pyg: bool) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    model.train()
    start = time.perf_counter()
    for b in batches:
        opt.zero_grad()
        logits, aux = model(b.x, b.edge_index, b.batch) if pyg else model(b)
        loss = F.cross_entropy(logits, b.y.view(-1)) + aux
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def bench_epoch(root, repeats: int) -> dict:
    from gnnkit import datasets
    from gnnkit.experiments.data import gin_features
    from gnnkit.graph import Batch
    from gnnkit.models import DiffPoolNet

    ds = datasets.load("PROTEINS", root)
    tf = gin_features(ds)
    graphs = [tf(g) for g in ds]
    max_nodes = max(g.num_nodes for g in graphs)
    order = torch.randperm(len(graphs), generator=torch.Generator().manual_seed(0)).tolist()
    batches = [Batch.from_graphs([graphs[i] for i in order[s:s + 20]]) for s in range(0, len(order), 20)]
    f_in, classes, k = graphs[0].num_features, int(ds.y.max()) + 1, int(max_nodes * 0.25)
    ours_t, sparse_t, pyg_t = [], [], []
    for r in range(repeats):
        sides = {}
        for first_level in ("dense", "sparse"):     # the padded first level, and the unpadded sparse one
            torch.manual_seed(r)
            sides[first_level] = DiffPoolNet(f_in, classes, max_nodes, hidden_channels=HIDDEN, embed_channels=HIDDEN,
                                             link_loss="frobenius", entropy=True, first_level=first_level)
        torch.manual_seed(r)
        pyg = pyg_diffpool(f_in, classes, k)
        assert sides["dense"].clusters == [k]
        ours_t.append(epoch_time(sides["dense"], batches, pyg=False))
        sparse_t.append(epoch_time(sides["sparse"], batches, pyg=False))
        pyg_t.append(epoch_time(pyg, batches, pyg=True))
        print(f"repeat {r}: gnnkit {ours_t[-1]:.2f} s (sparse first level {sparse_t[-1]:.2f} s), "
              f"torch_geometric {pyg_t[-1]:.2f} s", flush=True)
    best_o, best_s, best_p = min(ours_t), min(sparse_t), min(pyg_t)
    return {"graphs": len(graphs), "batches": len(batches), "clusters": k, "gnnkit_s": best_o, "pyg_s": best_p,
            "ratio": best_o / best_p, "sparse_s": best_s, "sparse_ratio": best_s / best_p,
            "all_gnnkit_s": ours_t, "all_sparse_s": sparse_t, "all_pyg_s": pyg_t}


# ------------------------------------------------------------------ memory
def one_step_peak(B: int, N: int) -> dict:
    """Runs in a fresh process: the growth of the max RSS over one training step."""
    import resource

    from gnnkit import Graph
    from gnnkit.graph import Batch
    from gnnkit.models import DiffPoolNet

    gen = torch.Generator().manual_seed(0)
    graphs = []
    for _ in range(B):
        m = 5 * N // 2                                     # average degree 5
        src = torch.randint(0, N, (m,), generator=gen)
        dst = torch.randint(0, N, (m,), generator=gen)
        ei = torch.cat([torch.stack([src, dst]), torch.stack([dst, src])], 1)
        graphs.append(Graph(x=torch.randn(N, N_F, generator=gen), edge_index=ei, y=torch.tensor(0), num_nodes=N))
    batch = Batch.from_graphs(graphs)
    model = DiffPoolNet(N_F, 2, N, hidden_channels=HIDDEN, embed_channels=HIDDEN, link_loss="bce")
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    logits, aux = model(batch)
    (F.cross_entropy(logits, batch.y.view(-1)) + aux).backward()
    opt.step()
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"B": B, "N": N, "K": model.clusters[0], "peak_bytes": after - before, "seconds": seconds}


def formula_bytes(B: int, N: int, K: int) -> int:
    """float32 bytes of the dense tensors alive at a step's peak (docs/benchmarks.md, "DiffPool memory"):
    ``4 B (14 N^2 + 5 N K)``. Autograd keeps 7 tensors of B N^2 (A, S S^T, its clamp, the BCE's logs,
    products and pair mask) and 5 of B N K (the assignment's logits, softmax and masked copies),
    counted with ``torch.autograd.graph.saved_tensors_hooks`` at B=2, N=400; the backward of the
    link-prediction chain holds about 7 more B N^2 gradients at its peak (inferred from the measured
    table, not counted). Tensors of size N F or K^2 are left out (under 2% at N >= 500)."""
    return 4 * B * (14 * N * N + 5 * N * K)


def bench_memory(points) -> list[dict]:
    rows = []
    for B, N in points:
        cmd = [sys.executable, __file__, "--one-step", f"{B},{N}"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
        if out.returncode != 0:
            print(out.stderr[-2000:])
            raise SystemExit(f"the step B={B} N={N} failed")
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["formula_bytes"] = formula_bytes(B, N, row["K"])
        rows.append(row)
        print(f"B={B:3d} N={N:5d} K={row['K']:4d}: measured {row['peak_bytes'] / 2**20:9.1f} MiB, "
              f"formula {row['formula_bytes'] / 2**20:9.1f} MiB, step {row['seconds']:.2f} s", flush=True)
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--epoch", action="store_true")
    p.add_argument("--memory", action="store_true")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--root", default=os.environ.get("GNNKIT_DATA"))
    p.add_argument("--points", default="1x500,4x500,16x500,1x1000,4x1000,1x2000,2x2000,1x3000",
                   help="BxN points of the memory table")
    p.add_argument("--one-step", help=argparse.SUPPRESS)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.one_step:
        B, N = (int(v) for v in args.one_step.split(","))
        print(json.dumps(one_step_peak(B, N)))
        return
    print(f"bench_diffpool {date.today()} torch {torch.__version__} threads {args.threads}")
    if args.epoch:
        r = bench_epoch(args.root, args.repeats)
        print(f"PROTEINS epoch ({r['batches']} batches of 20, {r['clusters']} clusters): gnnkit {r['gnnkit_s']:.2f} s, "
              f"torch_geometric {r['pyg_s']:.2f} s, ratio {r['ratio']:.2f}; first_level='sparse' {r['sparse_s']:.2f} s, "
              f"ratio {r['sparse_ratio']:.2f} (best of {args.repeats})")
    if args.memory:
        points = [tuple(int(v) for v in pt.split("x")) for pt in args.points.split(",")]
        bench_memory(points)


if __name__ == "__main__":
    main()
