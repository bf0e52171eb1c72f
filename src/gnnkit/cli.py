"""The ``gnnkit`` command: a thin wrapper over the Python API.

    gnnkit train                                  # GCN on Zachary's karate club (no download)
    gnnkit train --experiment gcn-cora            # a paper protocol, one seed
    gnnkit train --model gat --dataset citeseer --epochs 300
    gnnkit reproduce gcn-cora gat-cora --seeds 10 --out results/
    gnnkit reproduce --list
    gnnkit data list | info NAME                  # from gnnkit.datasets.cli, when installed
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gnnkit.datasets.cli import register as register_data_commands

# Experiments to start from for `--model M --dataset D` (the paper's protocol for that pair).
_BASE = {"gcn": "gcn-{d}", "cheb": "cheb2-{d}", "mlp": "mlp-{d}", "gat": "gat-{d}", "sage": "sage-mean-{d}-inductive"}


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help="data root (default: $GNNKIT_DATA, else ~/.cache/gnnkit/data)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one model (default: GCN on the karate club)",
                       description="Train one experiment with one seed. Without arguments: a GCN on "
                                   "Zachary's karate club, writing the learned 2-D embedding to out/.")
    p.add_argument("--experiment", "-e", help="experiment name (see `gnnkit reproduce --list`)")
    p.add_argument("--model", choices=sorted(_BASE), help="model, with --dataset")
    p.add_argument("--dataset", help="karate, cora, citeseer, pubmed or ppi (with --model)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--patience", type=int)
    p.add_argument("--hidden", type=int, help="hidden width (per head for GAT)")
    p.add_argument("--dropout", type=float)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--deterministic", action="store_true", help="torch deterministic algorithms")
    p.add_argument("--out", default="out", help="output folder (default: out/)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    _add_common(p)


def _reproduce_parser(sub) -> None:
    p = sub.add_parser("reproduce", help="run paper protocols over seeds; print the table beside the papers",
                       description="Run each experiment with seeds 0..K-1, print experiment | metric | "
                                   "ours (mean ± std) | paper | difference, and write OUT/results.json.")
    p.add_argument("names", nargs="*", help="experiment names")
    p.add_argument("--seeds", type=int, default=10, help="seeds per experiment (default 10)")
    p.add_argument("--out", help="folder for results.json")
    p.add_argument("--epochs", type=int, help="override every experiment's epochs (quick checks)")
    p.add_argument("--list", action="store_true", help="list the experiments and exit")
    _add_common(p)


def _experiment(args):
    from gnnkit.experiments import get

    if args.experiment and (args.model or args.dataset):
        raise ValueError("pass either --experiment NAME or --model M --dataset D, not both")
    if args.model or args.dataset:
        if not (args.model and args.dataset):
            raise ValueError("--model and --dataset go together, e.g. --model gcn --dataset cora")
        if args.dataset == "karate":
            from dataclasses import replace

            base = get("gcn-karate")
            exp = replace(base, name=f"{args.model}-karate", model=args.model,
                          model_args=get(_BASE[args.model].format(d="cora")).model_args | {"dropout": 0.5})
            if args.model == "sage":
                exp = replace(exp, model_args={"hidden_channels": 16, "aggr": "mean", "dropout": 0.5})
        else:
            exp = get(_BASE[args.model].format(d=args.dataset.lower()))
    else:
        exp = get(args.experiment or "gcn-karate")
    return exp.override(epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay, patience=args.patience,
                        hidden_channels=args.hidden, dropout=args.dropout)


def _train(args) -> int:
    from gnnkit.experiments import run

    exp = _experiment(args)
    out = Path(args.out) if exp.dataset == "karate" and not (args.experiment or args.model) else Path(args.out) / exp.name
    row = run(exp, seed=args.seed, root=args.root, out=out, quiet=args.quiet, resume=args.resume,
              deterministic=args.deterministic, plots=True)
    for path in row.get("plots", []):
        print(f"wrote {path}")
    val = "no validation nodes" if row["val"] is None else f"val {exp.metric}: {row['val']:.4f}"
    print(f"epochs: {row['epochs']}, {row['seconds']:.1f} s; {val}")
    name = "accuracy" if exp.metric == "acc" else exp.metric
    print(f"test {name}: {row['test']:.4f}")
    return 0


def _reproduce(args) -> int:
    from gnnkit.experiments import EXPERIMENTS, reproduce

    if args.list or not args.names:
        if not args.list:
            print("name experiments to run, e.g. `gnnkit reproduce gcn-cora --seeds 10`; the experiments are:")
        for name, e in EXPERIMENTS.items():
            paper = "—" if e.paper_value() is None else f"{100 * e.paper_value():.1f}"
            print(f"{name:32s} {e.task:6s} {e.dataset:9s} {e.model:5s} {e.protocol:10s} {e.metric:8s} "
                  f"paper {paper:>5s}  {e.source}")
        return 0
    reproduce(args.names, seeds=args.seeds, root=args.root, out=args.out, quiet=args.quiet, epochs=args.epochs,
              echo=print)
    if args.out:
        print(f"wrote {Path(args.out) / 'results.json'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gnnkit", description="Graph neural networks on PyTorch alone.")
    sub = parser.add_subparsers(dest="command")
    _train_parser(sub)
    _reproduce_parser(sub)
    register_data_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from gnnkit.datasets import DataAbsent

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "reproduce":
            return _reproduce(args)
        return args.func(args)
    except DataAbsent as err:
        print(f"gnnkit: {err}", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"gnnkit: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
