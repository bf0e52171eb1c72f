"""``gnnkit wl FILE1 FILE2 [--plot PATH]``: the 1-WL test on two edge-list files.

An edge-list file has one edge per line, ``u v`` (integers; whitespace or comma separated; lines
starting with ``#`` are comments). Edges are undirected (both directions are used). Node ids are
0-based unless ``--one-based``; a node that appears in no edge can be declared with
``--nodes1 N`` / ``--nodes2 N``. Optional labels: ``--labels1 FILE`` with one integer per node.

Prints the verdict, the deciding iteration and every iteration's colour histograms of both
graphs; ``--plot PATH`` draws both graphs with nodes coloured by their stable WL colour.
"""
from __future__ import annotations


import re
from pathlib import Path

import numpy as np
import torch


def read_edge_list(path: str | Path, num_nodes: int | None = None, one_based: bool = False):
    """``(edge_index [2, 2E] both directions, num_nodes)`` from an edge-list file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; give an edge list with one 'u v' pair per line")
    pairs = []
    for no, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(r"[\s,]+", line)
        if len(parts) < 2 or not all(re.fullmatch(r"-?\d+", p) for p in parts[:2]):
            raise ValueError(f"{path}, line {no}: expected two integer node ids 'u v' (got {line!r})")
        pairs.append((int(parts[0]), int(parts[1])))
    e = torch.tensor(pairs, dtype=torch.long).view(-1, 2).t() - (1 if one_based else 0)
    if e.numel() and int(e.min()) < 0:
        raise ValueError(f"{path}: node id {int(e.min()) + (1 if one_based else 0)} is below the first id "
                         f"({1 if one_based else 0}); pass --one-based for 1-based files")
    n = (int(e.max()) + 1 if e.numel() else 0) if num_nodes is None else num_nodes
    if e.numel() and int(e.max()) >= n:
        raise ValueError(f"{path}: node id {int(e.max())} but --nodes says {n} nodes")
    return torch.cat([e, e.flip(0)], 1), n


def _read_labels(path, n: int):
    if path is None:
        return None
    values = np.array([int(v) for v in Path(path).read_text().split()], dtype=np.int64)
    if len(values) != n:
        raise ValueError(f"{path}: {len(values)} labels for {n} nodes; give one integer per node")
    return values


def plot_wl(g1, g2, colours1, colours2, path, titles=("graph 1", "graph 2")) -> Path:
    """Both graphs side by side (spring layout), nodes coloured by their stable WL colour: the same
    colour in both panels is the same WL colour."""
    import networkx as nx

    from gnnkit.viz.plots import _pyplot, _save

    plt = _pyplot()

    palette = plt.get_cmap("tab20")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, (edge_index, n), colours, title in zip(axes, (g1, g2), (colours1, colours2), titles):
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(edge_index.t().tolist())
        pos = nx.spring_layout(g, seed=0)
        nx.draw_networkx(g, pos, ax=ax, node_color=[palette(int(c) % 20) for c in colours], with_labels=True,
                         font_size=8, node_size=260, edgecolors="black")
        ax.set_title(title)
        ax.axis("off")
    return _save(plt, fig, path)


def _wl(args) -> int:
    from gnnkit.wl.compare import wl_test

    g1 = read_edge_list(args.file1, args.nodes1, args.one_based)
    g2 = read_edge_list(args.file2, args.nodes2, args.one_based)
    l1, l2 = _read_labels(args.labels1, g1[1]), _read_labels(args.labels2, g2[1])
    if (l1 is None) != (l2 is None):
        raise ValueError("give --labels1 and --labels2 together, or neither")
    v = wl_test(g1, g2, l1, l2, iterations=args.iterations)
    print(f"{args.file1} vs {args.file2}: {v}")
    r = v.refinement
    for t in range(r.iterations + 1):
        h1 = " ".join(f"{c}:{k}" for c, k in sorted(r.histogram(0, t).items()))
        h2 = " ".join(f"{c}:{k}" for c, k in sorted(r.histogram(1, t).items()))
        mark = "  <- differ" if t == v.iteration else ""
        print(f"iteration {t}: graph 1 {{{h1}}}  graph 2 {{{h2}}}{mark}")
    if args.plot:
        path = plot_wl(g1, g2, r.of_graph(0), r.of_graph(1), args.plot,
                       titles=(f"{Path(args.file1).name} ({v.verdict})", Path(args.file2).name))
        print(f"wrote {path}")
    return 0


def register(sub) -> None:
    """Add ``gnnkit wl`` to the CLI's subparsers."""
    p = sub.add_parser("wl", help="1-WL test of two graphs (edge-list files)",
                       description="Run 1-WL colour refinement on two graphs with a shared dictionary; print "
                                   "'not isomorphic' (with the iteration whose colour histograms differ) or "
                                   "'possibly isomorphic', and the histograms per iteration.")
    p.add_argument("file1")
    p.add_argument("file2")
    p.add_argument("--plot", metavar="PATH", help="draw both graphs coloured by stable WL colour (PNG; default: no picture)")
    p.add_argument("--iterations", type=int, help="iterations to run (default: until stable)")
    p.add_argument("--nodes1", type=int, help="node count of graph 1 (default: largest id + 1)")
    p.add_argument("--nodes2", type=int, help="node count of graph 2 (default: largest id + 1)")
    p.add_argument("--labels1", help="initial node labels of graph 1: one integer per node (default: all alike)")
    p.add_argument("--labels2", help="initial node labels of graph 2 (default: all alike)")
    p.add_argument("--one-based", action="store_true", help="node ids start at 1 (default: 0)")
    p.set_defaults(func=_wl)


__all__ = ["read_edge_list", "plot_wl", "register"]

