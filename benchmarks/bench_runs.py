"""Whole training runs: gnnkit's gcn-cora, gcn-citeseer and gat-cora protocols against
torch_geometric's standard examples (examples/gcn.py, examples/gat.py) run under the
same protocol, alternating in one process; the link entries (``--only gae-ns-cora vgae-ns-cora gae-cora
vgae-cora``) against PyG's examples/autoencoder.py recipe (``GAE`` / ``VGAE``, ``RandomLinkSplit``, negative
sampling) for the same 200 epochs, each side on its own 85/5/10 split of Cora, test AUC compared:
``gae-ns-cora`` / ``vgae-ns-cora`` train with the recipe's own loss (one sampled non-edge per training
edge, like for like), ``gae-cora`` / ``vgae-cora`` with the paper's dense loss over all N^2 pairs.

Both sides get the same tensors (our Planetoid loader + NormalizeFeatures; PyG's
Planetoid class would download), the same hyper-parameters, the same early-stopping
rule (gnnkit.train's GCNStopping / GATStopping, fed each side's validation loss and
accuracy; for the GCN protocols that loss includes conv1's L2 term, as in the authors'
code) and best-model restore for GAT. A run is: build the model, train until the
rule stops it, test. Data loading is outside the timed region on both sides.

The PyG side is its example as written: dense features with dropout over all of them,
``GCNConv(cached=True)``, ``GATConv(heads=8, dropout=0.6)``, Adam with weight decay on
conv1 only (GCN) or on everything (GAT); one training step and one evaluation forward
(under no_grad) per epoch.

    .venv/bin/python benchmarks/bench_runs.py [--seeds 3] [--threads 1] [--only gcn-cora]
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time
from dataclasses import replace
from datetime import date

import torch
import torch.nn.functional as F

from gnnkit.experiments import get, load_task, run
from gnnkit.train import make_stopping


def pyg_models():
    from torch_geometric.nn import GATConv, GCNConv

    class GCN(torch.nn.Module):   # torch_geometric examples/gcn.py
        def __init__(self, in_channels, hidden_channels, out_channels):
            super().__init__()
            self.conv1 = GCNConv(in_channels, hidden_channels, cached=True, normalize=True)
            self.conv2 = GCNConv(hidden_channels, out_channels, cached=True, normalize=True)

        def forward(self, x, edge_index):
            x = F.dropout(x, p=0.5, training=self.training)
            x = self.conv1(x, edge_index).relu()
            x = F.dropout(x, p=0.5, training=self.training)
            return self.conv2(x, edge_index)

    class GAT(torch.nn.Module):   # torch_geometric examples/gat.py
        def __init__(self, in_channels, hidden_channels, out_channels, heads):
            super().__init__()
            self.conv1 = GATConv(in_channels, hidden_channels, heads, dropout=0.6)
            self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=1, concat=False, dropout=0.6)

        def forward(self, x, edge_index):
            x = F.dropout(x, p=0.6, training=self.training)
            x = F.elu(self.conv1(x, edge_index))
            x = F.dropout(x, p=0.6, training=self.training)
            return self.conv2(x, edge_index)

    return GCN, GAT


def pyg_run(name: str, g, seed: int) -> dict:
    """PyG's example model trained under ``name``'s protocol (epochs, optimizer, stopping)."""
    exp = get(name)
    GCN, GAT = pyg_models()
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    x, edge_index, y = g.x, g.edge_index, g.y
    num_classes = int(y.max()) + 1
    if exp.model == "gcn":
        model = GCN(x.size(1), 16, num_classes)
        optimizer = torch.optim.Adam([dict(params=model.conv1.parameters(), weight_decay=5e-4),
                                      dict(params=model.conv2.parameters(), weight_decay=0)], lr=0.01)
    else:
        model = GAT(x.size(1), 8, num_classes, heads=8)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.005, weight_decay=5e-4)
    stopping = make_stopping(exp.train.stopping, exp.train.patience)
    best, epochs = None, 0
    for epoch in range(exp.train.epochs):
        model.train()
        optimizer.zero_grad()
        out = model(x, edge_index)
        F.cross_entropy(out[g.train_mask], y[g.train_mask]).backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            out = model(x, edge_index)
            val_loss = F.cross_entropy(out[g.val_mask], y[g.val_mask]).item()
            if exp.train.val_loss_l2:       # the rule sees the decayed layer's L2 term too, as ours does
                val_loss += exp.train.weight_decay / 2 * sum(float((p ** 2).sum()) for p in model.conv1.parameters())
            val_acc = (out[g.val_mask].argmax(-1) == y[g.val_mask]).float().mean().item()
        epochs += 1
        improved, done = stopping.step(val_loss, val_acc)
        if improved and exp.train.restore_best:
            best = copy.deepcopy(model.state_dict())
        if done:
            break
    if best is not None:
        model.load_state_dict(best)
    model.eval()
    with torch.no_grad():
        test_acc = (model(x, edge_index)[g.test_mask].argmax(-1) == y[g.test_mask]).float().mean().item()
    return {"seconds": time.perf_counter() - t0, "epochs": epochs, "test": test_acc}


def pyg_link_data(g):
    """PyG's own link split of the graph (examples/autoencoder.py): ``RandomLinkSplit`` 85/5/10,
    undirected, labels split into positive / negative pairs, no training negatives (the GAE samples its own)."""
    import torch_geometric.transforms as T
    from torch_geometric.data import Data

    split = T.RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True, split_labels=True,
                              add_negative_train_samples=False)
    return split(Data(x=g.x, edge_index=g.edge_index, num_nodes=g.num_nodes))


def pyg_link_run(name: str, data, seed: int) -> dict:
    """torch_geometric's GAE / VGAE recipe (examples/autoencoder.py: GCNEncoder 32 -> 16 with
    ``cached=True``, ``GAE.recon_loss`` with negative sampling, ``+ kl_loss() / N`` for VGAE, ``test`` for
    AUC / AP) for ``name``'s epochs and learning rate, validated every epoch as our loop does."""
    from torch_geometric.nn import GAE, VGAE, GCNConv

    exp = get(name)
    train, val, test = data
    variational = exp.model == "vgae"

    class GCNEncoder(torch.nn.Module):
        def __init__(self, in_channels, out_channels):
            super().__init__()
            self.conv1 = GCNConv(in_channels, 2 * out_channels, cached=True)
            self.conv_mu = GCNConv(2 * out_channels, out_channels, cached=True)
            self.conv_logstd = GCNConv(2 * out_channels, out_channels, cached=True) if variational else None

        def forward(self, x, edge_index):
            x = self.conv1(x, edge_index).relu()
            if self.conv_logstd is None:
                return self.conv_mu(x, edge_index)
            return self.conv_mu(x, edge_index), self.conv_logstd(x, edge_index)

    torch.manual_seed(seed)
    t0 = time.perf_counter()
    model = (VGAE if variational else GAE)(GCNEncoder(train.num_features, exp.model_args["out_channels"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=exp.train.lr)
    for _ in range(exp.train.epochs):
        model.train()
        optimizer.zero_grad()
        z = model.encode(train.x, train.edge_index)
        loss = model.recon_loss(z, train.pos_edge_label_index)
        if variational:
            loss = loss + (1 / train.num_nodes) * model.kl_loss()
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            z = model.encode(val.x, val.edge_index)
            model.test(z, val.pos_edge_label_index, val.neg_edge_label_index)
    model.eval()
    with torch.no_grad():
        z = model.encode(test.x, test.edge_index)
        auc, _ = model.test(z, test.pos_edge_label_index, test.neg_edge_label_index)
    return {"seconds": time.perf_counter() - t0, "epochs": exp.train.epochs, "test": float(auc)}


def ours_run(name: str, task, seed: int) -> dict:
    t0 = time.perf_counter()
    row = run(get(name), seed, task=task, quiet=True)
    return {"seconds": time.perf_counter() - t0, "epochs": row["epochs"], "test": row["test"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--only", nargs="*", default=["gcn-cora", "gcn-citeseer", "gat-cora"])
    parser.add_argument("--root", default=None, help="data root (default $GNNKIT_DATA)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    import torch_geometric

    print(f"bench_runs.py, {date.today()}, torch {torch.__version__}, torch_geometric {torch_geometric.__version__}, "
          f"{torch.get_num_threads()} threads, {args.seeds} seeds per side, alternating")
    rows = []
    for name in args.only:
        exp = get(name)
        task = load_task(exp, args.root)                                      # sparse features (gnnkit)
        if exp.task == "link":   # GAE / VGAE: PyG's recipe on its own split of the same graph (dense x)
            data = pyg_link_data(load_task(replace(exp, sparse_features=False), args.root).graph)
            pyg_side = lambda seed: pyg_link_run(name, data, seed)   # noqa: E731
        else:
            g = load_task(replace(exp, sparse_features=False), args.root).train[0][0]   # the same graph, dense x
            pyg_side = lambda seed: pyg_run(name, g, seed)   # noqa: E731
        ours, pyg = [], []
        for seed in range(args.seeds):
            pair = [("ours", lambda: ours_run(name, task, seed)), ("pyg", lambda: pyg_side(seed))]
            for side, fn in (pair if seed % 2 == 0 else pair[::-1]):
                (ours if side == "ours" else pyg).append(fn())
        rows.append((name, ours, pyg))

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    print("| protocol | gnnkit s/run | PyG s/run | speed-up (run) | gnnkit ms/epoch | PyG ms/epoch | speed-up (epoch) "
          "| gnnkit epochs | PyG epochs | gnnkit test acc (AUC for gae/vgae) | PyG test acc (AUC) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, ours, pyg in rows:
        per_epoch = [1000 * statistics.median(r["seconds"] / r["epochs"] for r in side) for side in (ours, pyg)]
        acc = [100 * statistics.fmean(r["test"] for r in side) for side in (ours, pyg)]
        print(f"| {name} | {med(ours, 'seconds'):.2f} | {med(pyg, 'seconds'):.2f} | "
              f"{med(pyg, 'seconds') / med(ours, 'seconds'):.1f}x | {per_epoch[0]:.1f} | {per_epoch[1]:.1f} | "
              f"{per_epoch[1] / per_epoch[0]:.1f}x | {med(ours, 'epochs'):.0f} | {med(pyg, 'epochs'):.0f} | "
              f"{acc[0]:.1f} | {acc[1]:.1f} |")


if __name__ == "__main__":
    main()
