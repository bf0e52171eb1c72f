"""``gnnkit data list`` and ``gnnkit data info NAME``: what is on disk, and what it holds.

``register(subparsers)`` adds the ``data`` command to the main ``gnnkit``
parser; ``main(argv)`` runs it alone (``python -m gnnkit.datasets list``).
"""
from __future__ import annotations

import argparse
import sys

from gnnkit.datasets import registry
from gnnkit.datasets.base import resolve_root

_ORDER = ("nodes", "edges", "features", "classes", "train", "val", "test", "graphs", "avg_nodes", "avg_edges",
          "class_counts", "node_labels", "gin_features", "folds", "steps", "signal_mean", "pairs", "src_vocab",
          "tgt_vocab", "format")


def register(subparsers) -> argparse.ArgumentParser:
    data = subparsers.add_parser("data", help="list datasets and show their statistics")
    sub = data.add_subparsers(dest="data_command", required=True)
    for name, help_text in (("list", "datasets, where they are found, present or missing"),
                            ("info", "nodes, edges, features, classes, splits / graph counts")):
        p = sub.add_parser(name, help=help_text)
        if name == "info":
            p.add_argument("name", help="dataset name, e.g. cora, MUTAG, IMDB-BINARY, los-loop")
        p.add_argument("--root", default=None, help="data root (default: $GNNKIT_DATA, else the user cache)")
    data.set_defaults(func=run)
    return data


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def list_datasets(root, out=None) -> int:
    out = out or sys.stdout
    root = resolve_root(root)
    print(f"data root: {root}", file=out)
    print(f"{'name':<15} {'kind':<16} {'status':<8} location / missing files", file=out)
    for e in registry.entries(root):
        missing = e.missing(root)
        status = "present" if not missing else "missing"
        where = e.location(root) if not missing else "missing " + ", ".join(missing)
        print(f"{e.name:<15} {e.kind:<16} {status:<8} {where}", file=out)
    return 0


def info(name: str, root, out=None) -> int:
    out = out or sys.stdout
    entry = registry.find(name, root)
    obj = entry.loader(resolve_root(root))
    stats = obj.stats()
    if hasattr(obj, "folds"):
        stats["folds"] = len(obj.folds())
    print(f"{stats.get('name', entry.name)} ({entry.kind}) from {entry.location(root)}", file=out)
    single = stats.get("graphs", 1) == 1
    for key in _ORDER:
        hidden = (single and key in ("graphs", "avg_nodes", "avg_edges")) or (
            key == "features" and stats[key] == 0 and "gin_features" in stats)
        if key in stats and not hidden:
            label = {"edges": "edges (directed)", "avg_edges": "avg edges (directed)"}.get(key, key.replace("_", " "))
            print(f"  {label:<22} {_fmt(stats[key])}", file=out)
    return 0


def run(args) -> int:
    try:
        if args.data_command == "list":
            return list_datasets(args.root)
        return info(args.name, args.root)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gnnkit")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data"] + list(sys.argv[1:] if argv is None else argv))
    return args.func(args)
