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
          "class_counts", "node_labels", "default_features", "gin_features", "folds", "steps", "signal_mean", "pairs", "src_vocab",
          "tgt_vocab", "format")


def register(subparsers) -> argparse.ArgumentParser:
    data = subparsers.add_parser("data", help="list datasets and show their statistics")
    sub = data.add_subparsers(dest="data_command", required=True)
    for name, help_text in (("list", "datasets, where they are found, present or missing, and their source"),
                            ("info", "nodes, edges, features, classes, splits / graph counts"),
                            ("download", "fetch a dataset's missing files ahead of time (pinned checksums)")):
        p = sub.add_parser(name, help=help_text)
        if name in ("info", "download"):
            p.add_argument("name", help="dataset name, e.g. cora, MUTAG, IMDB-BINARY, los-loop")
        p.add_argument("--root", default=None, help="data root (default: $GNNKIT_DATA, else the user cache)")
    synth = sub.add_parser("synth", help="generate a synthetic large graph (Reddit / ogbn-products sized)")
    synth.add_argument("--size", default="reddit", help="reddit, products or small (default reddit)")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--out", required=True, help="folder for the .npy files (not the repository)")
    data.set_defaults(func=run)
    return data


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _source(entry) -> str:
    """Where a dataset's files come from and how they are checked."""
    pins = entry.pinned()
    if not pins:
        return f"manual ({entry.source})" if entry.source else ("built in" if not entry.files else "manual, no pin")
    kinds = {"sha256" if r.sha256 else "git blob" for r in pins.values()}
    host = next(iter(pins.values())).url.split("/")[2]
    return f"{host}, {len(pins)} file(s) pinned by {'/'.join(sorted(kinds))}"


def list_datasets(root, out=None) -> int:
    out = out or sys.stdout
    root = resolve_root(root)
    print(f"data root: {root}", file=out)
    print(f"{'name':<15} {'kind':<18} {'status':<8} {'size':>9}  {'source':<55} location / missing files", file=out)
    for e in registry.entries(root):
        missing = e.missing(root)
        status = "present" if not missing else "missing"
        where = e.location(root) if not missing else "missing " + ", ".join(missing)
        size = sum((root / a).stat().st_size for alts in e.files for a in alts if (root / a).is_file())
        shown = f"{size / 2**20:.1f} MiB" if size else "—"
        print(f"{e.name:<15} {e.kind:<18} {status:<8} {shown:>9}  {_source(e):<55} {where}", file=out)
    return 0


def download(name: str, root, out=None) -> int:
    """Fetch ``name``'s missing files now (downloads allowed even under ``$GNNKIT_OFFLINE``)."""
    out = out or sys.stdout
    entry = registry.find(name, root)
    if not entry.missing(root):
        print(f"{entry.name}: every file is present in {entry.location(root)}", file=out)
        return 0
    fetched = entry.fetch_missing(root)
    entry.require(root, download=False)       # what could not be fetched: the one-line DataAbsent
    print(f"{entry.name}: fetched {len(fetched)} file(s), checksums verified, into {entry.location(root)}", file=out)
    return 0


def info(name: str, root, out=None) -> int:
    out = out or sys.stdout
    entry = registry.find(name, root)
    obj = registry.load(entry.name, root)
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


def synth(size: str, seed: int, out_dir, out=None) -> int:
    from gnnkit.datasets.large import write_synthetic

    meta = write_synthetic(size, out_dir, seed=seed)
    spec = meta["spec"]
    print(f"wrote {out_dir}: {spec['num_nodes']:,} nodes, {meta['directed_edges']:,} directed edges "
          f"({meta['repeated_directed_entries']:,} repeated), {spec['num_features']} features, "
          f"{spec['num_classes']} classes", file=out or sys.stdout)
    return 0


def run(args) -> int:
    """Exit status as the rest of ``gnnkit``: 2 for a name that is not a dataset, 1 for a run-time
    error (absent or unreadable files), each one line ``gnnkit: error: ...``."""
    if getattr(args, "name", None) is not None:
        try:
            registry.find(args.name, args.root)
        except ValueError as err:
            print(f"gnnkit: error: {err}", file=sys.stderr)
            return 2
    try:
        if args.data_command == "list":
            return list_datasets(args.root)
        if args.data_command == "download":
            return download(args.name, args.root)
        if args.data_command == "synth":
            return synth(args.size, args.seed, args.out)
        return info(args.name, args.root)
    except (OSError, ValueError) as err:
        print(f"gnnkit: error: {err}", file=sys.stderr)
        return 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="gnnkit")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["data"] + list(sys.argv[1:] if argv is None else argv))
    return args.func(args)
