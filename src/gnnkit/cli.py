"""The ``gnnkit`` command: a thin wrapper over the Python API.

    gnnkit train                                  # GCN on Zachary's karate club (no download)
    gnnkit train --experiment gcn-cora            # a paper protocol, one seed
    gnnkit train --model gat --dataset citeseer --epochs 300
    gnnkit train --experiment gin-mutag --device auto   # on the GPU when torch sees one
    gnnkit reproduce gcn-cora gat-cora --seeds 10 --out results/
    gnnkit reproduce --list
    gnnkit data list | info NAME                  # from gnnkit.datasets.cli, when installed
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gnnkit.datasets.cli import register as register_data_commands
from gnnkit.distributed.launch import add_arguments as add_distributed_arguments
from gnnkit.wl.cli import register as register_wl_command

class UsageError(ValueError):
    """A wrong combination of flags: printed as ``gnnkit: error: ...`` with exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with gnnkit's one error style: ``gnnkit: error: <what>; see `<command> --help```, exit 2."""

    def error(self, message: str):
        self.exit(2, f"gnnkit: error: {message}; see `{self.prog} --help`\n")


def _number(kind, low: float, inclusive: bool, what: str):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} (got {text!r})") from None
        if value < low or (value == low and not inclusive) or value != value or value in (float("inf"), -float("inf")):
            raise argparse.ArgumentTypeError(f"must be {what} (got {text})")
        return value

    parse.__name__ = what   # argparse names the type in some messages
    return parse


positive_int = _number(int, 1, True, "a positive integer")
non_negative_int = _number(int, 0, True, "an integer >= 0")
positive_float = _number(float, 0.0, False, "a finite number > 0")
non_negative_float = _number(float, 0.0, True, "a finite number >= 0")


def run_numbers(text: str) -> list[int]:
    """``--runs``: comma-separated run numbers and ranges, e.g. ``0-4`` or ``0,3,7-9`` (sorted, unique)."""
    out = set()
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be run numbers such as 0-4 or 0,3,7 (got {text!r})") from None
        if a < 0 or b < a:
            raise argparse.ArgumentTypeError(f"must be run numbers >= 0, ranges low-high (got {part.strip()!r})")
        out.update(range(a, b + 1))
    return sorted(out)


def weight_decay(text: str) -> float:
    value = non_negative_float(text)
    if value >= 1:       # Adam's L2 term overflows long before; no protocol uses more than 1e-2
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (got {text})")
    return value


def probability(text: str) -> float:
    value = non_negative_float(text)
    if value >= 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1) (got {text})")
    return value


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", help="data root (default: $GNNKIT_DATA, else ~/.cache/gnnkit/data)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (default: shown on a terminal)")
    p.add_argument("--no-download", action="store_true",
                   help="never download missing datasets, as $GNNKIT_OFFLINE=1 (default: download pinned files)")


def _train_parser(sub) -> None:
    p = sub.add_parser("train", help="train one model (default: GCN on the karate club)",
                       description="Train one experiment with one seed. Without arguments: a GCN on "
                                   "Zachary's karate club, writing the learned 2-D embedding to out/.")
    p.add_argument("--experiment", "-e", help="experiment name, see `gnnkit reproduce --list` (default: gcn-karate)")
    p.add_argument("--model", help="model (gcn, cheb, mlp, gat, sage, gin, ...), with --dataset; starts from that "
                                    "model's protocol for the dataset's task (default: none)")
    p.add_argument("--dataset", help="a dataset of `gnnkit data list` (with --model), e.g. cora, MUTAG "
                                      "(default: none)")
    p.add_argument("--epochs", type=positive_int, help="most epochs (default: the protocol's)")
    p.add_argument("--lr", type=positive_float, help="learning rate (default: the protocol's)")
    p.add_argument("--weight-decay", type=weight_decay, help="L2 weight decay (default: the protocol's)")
    p.add_argument("--patience", type=positive_int, help="early-stopping patience (default: the protocol's)")
    p.add_argument("--hidden", type=positive_int, help="hidden width, per head for GAT (default: the protocol's)")
    p.add_argument("--dropout", type=probability, help="dropout rate in [0, 1) (default: the protocol's)")
    p.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default: 0)")
    p.add_argument("--deterministic", action="store_true", help="torch deterministic algorithms (default: off)")
    p.add_argument("--out", default="out", help="output folder; the run writes OUT/<experiment>/seed-<k>/ "
                                                "(default: out)")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in its folder (default: off)")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in a folder that holds an earlier run's checkpoint (default: off, refused)")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                   help="where the model and the data live; auto = cuda when available (default: cpu)")
    _add_common(p)
    add_distributed_arguments(p)   # --nproc, --nnodes, --node-rank, --rdzv-endpoint: gnnkit.distributed


def _reproduce_parser(sub) -> None:
    p = sub.add_parser("reproduce", help="run paper protocols over seeds; print the table beside the papers",
                       description="Run each experiment with seeds 0..K-1, print experiment | metric | "
                                   "ours (mean ± std) | paper | difference, and write OUT/results.json.")
    p.add_argument("names", nargs="*", help="experiment names (default: none; lists them)")
    p.add_argument("--seeds", type=positive_int, default=10,
                   help="seeds per experiment; k-fold protocols run their folds instead (default: 10)")
    p.add_argument("--out", help="folder for results.json and one folder per run; rerun the same command to "
                                 "resume an interrupted table (default: none, nothing written)")
    p.add_argument("--epochs", type=positive_int, help="override every experiment's epochs, for quick checks "
                                                       "(default: the protocols')")
    p.add_argument("--runs", type=run_numbers, help="only these runs (seeds or folds), e.g. 0-4 or 0,3,7, to split a "
                                                    "long table over processes or sittings (default: all)")
    p.add_argument("--list", action="store_true", help="list the experiments and exit (default: off)")
    _add_common(p)


def _command_line(argv: list[str]) -> str:
    """The command as typed (``gnnkit ...``), with the environment variables that change results."""
    import os
    import shlex

    env = [f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "GNNKIT_DATA") if k in os.environ]
    return " ".join(env + ["gnnkit"] + [shlex.quote(a) for a in argv])


# What task a dataset kind of the datasets registry is learned as.
_KIND_TASK = {"node": "node", "node (networkx)": "node", "node (multi-label)": "node", "graph": "graph"}


def _for_model_and_dataset(model: str, dataset: str):
    """The experiment to start from for ``--model M --dataset D``: the registry's entry for that pair,
    else the model's entry for the same task (its protocol and hyper-parameters) on dataset ``D``."""
    from dataclasses import replace

    from gnnkit.datasets.registry import find
    from gnnkit.experiments import EXPERIMENTS

    try:
        entry = find(dataset)
    except ValueError as err:
        raise UsageError(str(err)) from None
    task = _KIND_TASK.get(entry.kind)
    for_model = [e for e in EXPERIMENTS.values() if e.model == model]
    if not for_model:
        models = sorted({e.model for e in EXPERIMENTS.values()})
        raise UsageError(f"unknown model {model!r}; one of {', '.join(models)}")
    fitting = [e for e in for_model if e.task == task]
    if not fitting:
        tasks = sorted({e.task for e in for_model})
        others = sorted({e.model for e in EXPERIMENTS.values() if e.task == task})
        need = f"; models for it: {', '.join(others)}" if others else ""
        raise UsageError(f"{entry.name} is a {entry.kind} dataset ({task or 'no'} task) but {model} is a "
                         f"{'/'.join(tasks)} model{need}")
    exact = [e for e in fitting if e.dataset.lower() == entry.name.lower()]
    if exact:
        return exact[0]
    # Start from an entry on the same kind of data (the karate club counts as a citation graph: one
    # graph, single-label nodes), preferring the dataset's own split over the inductive protocol.
    kind = "node" if entry.name == "karate" else entry.kind
    same = [e for e in fitting if find(e.dataset).kind == kind] or fitting
    base = next((e for e in same if e.protocol in ("public", "given")), same[0])
    if entry.name == "karate":
        base = replace(base, protocol="public", transform=None, sparse_features=False, plot="all")
    return replace(base, name=f"{model}-{entry.name.lower()}", dataset=entry.name, paper=None, paper_std=None,
                   source="no paper number (the protocol of " + base.name + ")")


def _experiment(args):
    from gnnkit.experiments import get

    if args.experiment and (args.model or args.dataset):
        raise UsageError("pass either --experiment NAME or --model M --dataset D, not both")
    if args.model or args.dataset:
        if not (args.model and args.dataset):
            raise UsageError("--model and --dataset go together, e.g. --model gcn --dataset cora")
        exp = _for_model_and_dataset(args.model, args.dataset)
    else:
        try:
            exp = get(args.experiment or "gcn-karate")
        except ValueError as err:
            raise UsageError(str(err)) from None
    return exp.override(epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay, patience=args.patience,
                        hidden_channels=args.hidden, dropout=args.dropout)


def _writable_folder(path: Path, flag: str) -> Path:
    """``path`` made if needed; a UsageError now (before any training) when it is a file or not writable."""
    import os

    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path} is a file; pass a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"{flag} {path}: cannot create the folder ({err.strerror}); pass another {flag}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path} is not writable; pass another {flag}")
    return path


OVERRIDES = (("epochs", "epochs"), ("lr", "lr"), ("weight_decay", "weight_decay"), ("patience", "patience"),
             ("hidden", "hidden_channels"), ("dropout", "dropout"))


def config_table(exp, args) -> str:
    """The resolved configuration: protocol, model, data and every hyper-parameter, overridden ones marked."""
    given = {name for flag, name in OVERRIDES if getattr(args, flag, None) is not None}
    rows = [("experiment", exp.name), ("task / protocol", f"{exp.task} / {exp.protocol}"),
            ("dataset", f"{exp.dataset} (transform: {exp.transform or 'none'})"), ("model", exp.model)]
    rows += [(f"model.{k}", v) for k, v in exp.model_args.items()]
    rows += [(f"train.{k}", v) for k, v in exp.train.to_dict().items() if k != "quiet"]
    rows += [("seed", args.seed)]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" + ("   (overridden)" if k.split(".")[-1] in given else "") for k, v in rows]
    return "\n".join(["configuration:"] + ["  " + line for line in lines])


def device_from_flag(name: str) -> str:
    """``--device``: ``'cpu'``, ``'cuda'`` (refused when torch sees no GPU) or ``'auto'`` (cuda if available)."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device cuda: torch {torch.__version__} sees no CUDA device; use --device cpu or auto")
    return name


def _train(args) -> int:
    from gnnkit.experiments import run

    if args.nproc is not None:     # torchrun starts --nproc workers (gnnkit.distributed.worker); 0 is refused there
        from gnnkit.distributed import launch
        return launch(args)
    device = device_from_flag(args.device)   # refused before anything is printed or trained
    exp = _experiment(args)
    out = _writable_folder(Path(args.out), "--out") / exp.name / f"seed-{args.seed}"
    if (out / "checkpoint.pt").exists() and not (args.resume or args.overwrite):
        raise UsageError(f"{out} holds an earlier run's checkpoint; pass --resume to continue it or --overwrite "
                         "to start afresh")
    if args.resume and not (out / "checkpoint.pt").exists():
        raise UsageError(f"--resume: no checkpoint in {out}; run without --resume to start there")
    if args.overwrite and out.exists():
        for name in ("checkpoint.pt", "metrics.jsonl"):
            (out / name).unlink(missing_ok=True)
    print(config_table(exp, args))
    row = run(exp, seed=args.seed, root=args.root, out=out, quiet=args.quiet, resume=args.resume,
              deterministic=args.deterministic, plots=True, device=device)
    for path in row.get("plots", []):
        print(f"wrote {path}")
    val = "no validation nodes" if row["val"] is None else f"val {exp.metric}: {row['val']:.4f}"
    print(f"epochs: {row['epochs']}, {row['seconds']:.1f} s; {val}")
    name = "accuracy" if exp.metric == "acc" else exp.metric
    print(f"test {name}: {row['test']:.4f}")
    return 0


def experiment_list(root=None) -> str:
    """Every experiment as a table: name, task, dataset, protocol, metric, paper number, data status."""
    from gnnkit.datasets.registry import find
    from gnnkit.experiments import EXPERIMENTS

    rows = [("name", "task", "dataset", "protocol", "metric", "paper", "data", "source")]
    for name, e in EXPERIMENTS.items():
        paper = "—" if e.paper_value() is None else f"{100 * e.paper_value():.1f}"
        try:
            status = "present" if find(e.dataset, root).present(root) else "absent"
        except ValueError:
            status = "absent"
        rows.append((name, e.task, e.dataset, e.protocol, e.metric, paper, status, e.source))
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(f"{str(v):<{w}}" for v, w in zip(r, widths)) + "  " + r[-1] for r in rows)


def _reproduce(args) -> int:
    from gnnkit.experiments import EXPERIMENTS, reproduce

    if args.list or not args.names:
        if not args.list:
            print("name experiments to run, e.g. `gnnkit reproduce gcn-cora --seeds 10`; the experiments are:")
        print(experiment_list(args.root))
        return 0
    from gnnkit.experiments import get

    for name in args.names:       # unknown names fail now, not after the first experiments have run
        try:
            get(name)
        except ValueError as err:
            raise UsageError(str(err)) from None
    if args.out:
        _writable_folder(Path(args.out), "--out")
    if args.runs is not None:
        from gnnkit.experiments.run import check_runs

        try:
            check_runs([get(n) for n in args.names], args.seeds, args.runs)
        except ValueError as err:
            raise UsageError(f"--runs: {err}") from None
    reproduce(args.names, seeds=args.seeds, root=args.root, out=args.out, quiet=args.quiet, epochs=args.epochs,
              echo=print, command=_command_line(args.argv), only=args.runs)
    if args.out:
        print(f"wrote {Path(args.out) / 'results.json'}")
    return 0


def _results_parser(sub) -> None:
    p = sub.add_parser("results", help="regenerate docs/results.md from the results files in docs/results/",
                       description="Write docs/results.md from docs/results/*.json (the results.json files of "
                                   "`gnnkit reproduce`) and their prose docs/results/*.md.")
    p.add_argument("--dir", default="docs/results", help="folder of results files (default: docs/results)")
    p.add_argument("--out", default="docs/results.md", help="document to write (default: docs/results.md)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when --out is out of date")


def _results(args) -> int:
    from gnnkit.experiments import report

    if args.check:
        current = Path(args.out).read_text() if Path(args.out).is_file() else ""
        if current != report.render(args.dir):
            print(f"gnnkit: error: {args.out} is out of date; run `gnnkit results`", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    print(f"wrote {report.write(args.dir, args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    import gnnkit

    parser = Parser(prog="gnnkit", description="Graph neural networks on PyTorch alone. Errors print "
                                              "`gnnkit: error: ...` and exit 2 (usage) or 1 (at run time).")
    parser.add_argument("--version", action="version", version=f"gnnkit {gnnkit.__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    _train_parser(sub)
    _reproduce_parser(sub)
    _results_parser(sub)
    register_data_commands(sub)
    register_wl_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv``. Exit status: 0 done, 1 a run-time error (data absent, a broken
    checkpoint, bad data), 2 a usage error (flags), 130 interrupted; errors are one line on stderr,
    ``gnnkit: error: ...``."""
    from gnnkit.train import TrainingInterrupted

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    for token in argv:
        # argparse (CPython 3.11) reads "--lr=--" as "--lr" with an empty list, never calling the
        # option's type check: refuse it here with the usage error every other bad value gets.
        if token.startswith("--") and token.endswith("=--"):
            parser.error(f"argument {token[:-3]}: '--' is not a value; give {token[:-3]}=VALUE")
    args = parser.parse_args(argv)
    args.argv = argv
    if getattr(args, "no_download", False):
        import os

        os.environ["GNNKIT_OFFLINE"] = "1"
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "train":
            return _train(args)
        if args.command == "reproduce":
            return _reproduce(args)
        if args.command == "results":
            return _results(args)
        return args.func(args)
    except TrainingInterrupted as err:
        print(f"gnnkit: {err}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("gnnkit: interrupted", file=sys.stderr)
        return 130
    except UsageError as err:
        print(f"gnnkit: error: {err}", file=sys.stderr)
        return 2
    except (ValueError, OSError, FloatingPointError) as err:   # DataAbsent is an OSError
        print(f"gnnkit: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
