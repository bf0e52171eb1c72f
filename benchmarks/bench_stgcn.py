"""One STGCN(Cheb) training epoch on Los-loop: gnnkit against the same model with torch_geometric's ChebConv.

The baseline the issue asks for first, torch_geometric_temporal's ``STConv``, does not install
here: its wheel (0.56.2) needs ``torch-sparse`` and ``torch-scatter``, which have no wheels for
torch 2.13 on PyPI and whose source builds fail in pip's isolated build; installed without them
its package ``__init__`` stops at ``from torch_sparse import SparseTensor``. So the baseline is
the same network written with torch_geometric's ``ChebConv`` in the usual PyG way: every window
and time step as one graph of a block-diagonal batch (``edge_index`` repeated with node offsets,
built once per batch shape), ``lambda_max`` given (the Los-loop Laplacian's, 1.706, so both
filter with the same scaled Laplacian). Everything else (temporal gated convolutions, layer
norms, output layer, loss, optimizer, batches) is gnnkit's and identical on both sides; the
two models start from the same weights.

Both sides train on the same shuffled batches of the Los-loop task (``stgcn-cheb-losloop``:
12 steps in, horizons 15/30/45/60 min, batches of 25), alternating batch by batch so that
machine noise hits both alike (after one warm-up step per batch shape, which builds the
block-diagonal graphs and gnnkit's cached Laplacians). Printed: seconds per epoch and the ratio PyG / gnnkit, for the
whole step and for the graph convolutions alone (timed forward + backward on the block inputs
of the first batch).

    python benchmarks/bench_stgcn.py [--batches N] [--threads 1] [--root DIR]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import statistics
import time

import torch
from torch import nn


class PygCheb(nn.Module):
    """torch_geometric's ChebConv over every window and step of ``x`` [B, T, N, C]."""

    def __init__(self, conv, edge_index, edge_weight, num_nodes, lambda_max):
        super().__init__()
        self.conv, self.num_nodes, self.lambda_max = conv, num_nodes, lambda_max
        self.edge_index, self.edge_weight = edge_index, edge_weight
        self._batched = {}

    def batched(self, copies):
        if copies not in self._batched:
            E = self.edge_index.size(1)
            offset = (torch.arange(copies) * self.num_nodes).repeat_interleave(E)
            self._batched[copies] = (self.edge_index.repeat(1, copies) + offset, self.edge_weight.repeat(copies),
                                     torch.arange(copies).repeat_interleave(self.num_nodes))
        return self._batched[copies]

    def forward(self, x, adj=None):
        """x: [B T N, C] from ``graph_conv_over_time``; its block adjacency is ignored for PyG's own."""
        copies = x.size(0) // self.num_nodes
        ei, w, batch = self.batched(copies)
        return self.conv(x, ei, w, batch=batch, lambda_max=torch.full((copies,), self.lambda_max))


def pyg_stgcn(model, graph, lambda_max):
    """A copy of gnnkit's STGCN whose graph convolutions are torch_geometric's ChebConv (same weights)."""
    from torch_geometric.nn import ChebConv as PygChebConv

    twin = copy.deepcopy(model)
    for block in twin.blocks:
        ours = block.graph_conv
        theirs = PygChebConv(ours.in_channels, ours.out_channels, K=ours.K, normalization="sym")
        with torch.no_grad():
            for k in range(ours.K):
                theirs.lins[k].weight.copy_(ours.weight[k].t())
            theirs.bias.copy_(ours.bias)
        block.graph_conv = PygCheb(theirs, graph.edge_index, graph.edge_weight, graph.num_nodes, lambda_max)
    return twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=None, help="batches per epoch (default: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--root", default=None, help="data root (default $GNNKIT_DATA)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import torch_geometric

    from gnnkit import ops
    from gnnkit.experiments import get, load_task
    from gnnkit.models import build_model
    from gnnkit.nn.temporal import graph_conv_over_time

    exp = get("stgcn-cheb-losloop")
    task = load_task(exp, args.root)
    graph = task.data.graph
    ei, w = ops.laplacian(graph.edge_index, graph.num_nodes, graph.edge_weight.double(), "sym")
    lambda_max = ops.largest_eigenvalue(ei, w, graph.num_nodes)
    torch.manual_seed(0)
    ours = build_model(exp.model, **task.model_args(), **exp.model_args)
    theirs = pyg_stgcn(ours, graph, lambda_max)
    opt_ours = torch.optim.Adam(ours.parameters(), lr=exp.train.lr)
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=exp.train.lr)

    batches = task.train_batches()[: args.batches]
    x0, y0 = batches[0]
    with torch.no_grad():                          # same outputs before training
        out_ours, out_theirs = ours.eval()(x0, task.adj), theirs.eval()(x0, task.adj)
    max_diff = float((out_ours - out_theirs).abs().max())
    ours.train(), theirs.train()

    def step(model, opt, batch):
        t = time.perf_counter()
        opt.zero_grad()
        task.loss(model, batch).loss.backward()
        opt.step()
        return time.perf_counter() - t

    for b in {tuple(b[0].shape): b for b in batches}.values():     # warm-up: caches for every batch shape
        step(ours, opt_ours, b), step(theirs, opt_theirs, b)
    t_ours, t_theirs = [], []
    for b in batches:
        t_ours.append(step(ours, opt_ours, b))
        t_theirs.append(step(theirs, opt_theirs, b))

    # the graph convolution alone: fwd + bwd on the first block's input of the first batch
    h = ours.blocks[0].temporal0(x0.unsqueeze(-1)).detach().requires_grad_()   # [B, T', N, 64]
    grad = torch.randn(h.shape[:-1] + (ours.blocks[0].graph_conv.out_channels,))
    conv_times = {"ours": [], "theirs": []}
    for _ in range(7):
        for name, model in (("ours", ours), ("theirs", theirs)):
            t = time.perf_counter()
            graph_conv_over_time(model.blocks[0].graph_conv, h, task.adj).backward(grad)
            conv_times[name].append(time.perf_counter() - t)

    print(f"bench_stgcn.py, {datetime.date.today()}, torch {torch.__version__}, torch_geometric "
          f"{torch_geometric.__version__}, {args.threads} threads, Los-loop {graph.num_nodes} sensors, "
          f"STGCN {exp.model_args['hidden_channels']}/{exp.model_args['spatial_channels']}/"
          f"{exp.model_args['hidden_channels']} channels, K = {exp.model_args['K']}, "
          f"{len(batches)} batches of {task.batch_size} windows, alternating; outputs before training differ by "
          f"{max_diff:.1e}")
    print()
    print("| what | gnnkit | PyG ChebConv | PyG / gnnkit |")
    print("|---|---:|---:|---:|")
    n_all = len(task.train_batches())
    what = "training epoch (s)" if len(batches) == n_all else f"{len(batches)} of the epoch's {n_all} training steps (s)"
    print(f"| {what} | {sum(t_ours):.1f} | {sum(t_theirs):.1f} | {sum(t_theirs) / sum(t_ours):.2f}x |")
    print(f"| step, median (ms) | {1e3 * statistics.median(t_ours):.0f} | {1e3 * statistics.median(t_theirs):.0f} | "
          f"{statistics.median(t_theirs) / statistics.median(t_ours):.2f}x |")
    mo, mt = statistics.median(conv_times["ours"]), statistics.median(conv_times["theirs"])
    print(f"| Cheb graph conv over {h.size(0)} x {h.size(1)} steps, fwd+bwd, median (ms) | {1e3 * mo:.0f} | "
          f"{1e3 * mt:.0f} | {mt / mo:.2f}x |")


if __name__ == "__main__":
    main()
