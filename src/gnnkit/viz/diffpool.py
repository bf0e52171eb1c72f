"""DiffPool's learned cluster assignments drawn as in Ying et al. (2018), Figure 2.

For each graph: left, the input graph with every node coloured by its argmax cluster at pooling
level 1 (:math:`\\arg\\max_k S_{ik}`); right, the pooled graph :math:`A' = S^T A S` with one node
per cluster that holds any node (size: the cluster's mass :math:`\\sum_i S_{ik}`, same colour),
edge widths proportional to :math:`A'_{kl}` (self loops left out).
"""
from __future__ import annotations

from pathlib import Path

import torch

from gnnkit.graph import Batch, Graph
from gnnkit.viz.plots import _pyplot, _save


@torch.no_grad()
def assignment_of(model, graph: Graph) -> tuple[torch.Tensor, torch.Tensor]:
    """``(S [n, K], A' [K, K])`` of ``graph`` at pooling level 1, from a ``DiffPoolNet`` in eval mode."""
    was_training = model.training
    model.eval()
    try:
        _, assigns, adjs, _ = model.levels(Batch.from_graphs([graph]))
    finally:
        model.train(was_training)
    return assigns[0][0, :graph.num_nodes], adjs[0][0]


def plot_assignments(model, graphs: list[Graph], path: str | Path, titles: list[str] | None = None,
                     seed: int = 0) -> Path:
    """One row per graph: the input coloured by argmax cluster, and the pooled graph beside it.

    Args:
        model: a trained :class:`gnnkit.models.DiffPoolNet` (learned or METIS assignment).
        graphs: a few graphs (e.g. test graphs of one fold).
        path: the PNG to write.
        titles: one caption per graph (default ``graph i``).
        seed: the spring layout's seed (the drawing is reproducible).

    Example::

        plot_assignments(model, [task.graphs[i] for i in task.test_idx[:3]], "out/assign.png")
    """
    import networkx as nx

    if not graphs:
        raise ValueError("plot_assignments needs at least one graph")
    plt = _pyplot()
    cmap = plt.get_cmap("tab20")
    fig, axes = plt.subplots(len(graphs), 2, figsize=(9, 4 * len(graphs)), squeeze=False)
    for row, g in enumerate(graphs):
        s, adj_p = assignment_of(model, g)
        cluster = s.argmax(-1).tolist()
        used = sorted(set(cluster))
        colour = {k: cmap(i % 20) for i, k in enumerate(used)}
        G = nx.Graph()
        G.add_nodes_from(range(g.num_nodes))
        G.add_edges_from((a, b) for a, b in g.edge_index.t().tolist() if a != b)
        pos = nx.spring_layout(G, seed=seed)
        ax = axes[row][0]
        nx.draw_networkx(G, pos, ax=ax, node_color=[colour[c] for c in cluster], node_size=60,
                         with_labels=False, edge_color="grey", width=0.6)
        ax.set_title((titles[row] if titles else f"graph {row}") + f": {g.num_nodes} nodes, {len(used)} clusters",
                     fontsize=9)
        ax.axis("off")
        P = nx.Graph()
        P.add_nodes_from(used)
        w_max = max((float(adj_p[a, b]) for a in used for b in used if a != b), default=0.0)
        for i, a in enumerate(used):
            for b in used[i + 1:]:
                w = float(adj_p[a, b] + adj_p[b, a]) / 2
                if w > 1e-3 * max(w_max, 1e-12):
                    P.add_edge(a, b, weight=w)
        mass = s.sum(0)
        ppos = nx.spring_layout(P, seed=seed, weight="weight")
        ax = axes[row][1]
        widths = [4.0 * d["weight"] / max(w_max, 1e-12) for _, _, d in P.edges(data=True)]
        nx.draw_networkx(P, ppos, ax=ax, node_color=[colour[k] for k in P.nodes],
                         node_size=[80 + 40 * float(mass[k]) for k in P.nodes], width=widths,
                         edge_color="black", with_labels=False)
        ax.set_title("pooled graph A' = S^T A S (edge width ~ A')", fontsize=9)
        ax.axis("off")
    return _save(plt, fig, path)


def plot_run(exp_name: str, run_dir: str | Path, path: str | Path, fold: int = 0, count: int = 3,
             root=None) -> Path:
    """Draw ``count`` test graphs of ``fold`` with the model of a finished run of ``exp_name``
    (its ``checkpoint.pt`` in ``run_dir``, read with ``weights_only=True``).

    Example (the picture in docs/results/40-diffpool.md)::

        python -m gnnkit.viz.diffpool diffpool-enzymes OUT/diffpool-enzymes/fold-0 docs/results/diffpool-enzymes.png
    """
    from gnnkit.experiments.data import load_data, make_task
    from gnnkit.experiments.registry import get
    from gnnkit.models import build_model
    from gnnkit.train.checkpoint import load_checkpoint

    exp = get(exp_name)
    task = make_task(exp, load_data(exp, root), fold)
    model = build_model(exp.model, **task.model_args(), **exp.model_args)
    state = load_checkpoint(Path(run_dir) / "checkpoint.pt")
    model.load_state_dict(state["model"])
    ids = task.test_idx[:count].tolist()
    titles = [f"{exp.dataset} #{i} (class {int(task.graphs[i].y)})" for i in ids]
    return plot_assignments(model, [task.graphs[i] for i in ids], path, titles)


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 4:
        raise SystemExit("usage: python -m gnnkit.viz.diffpool EXPERIMENT RUN_DIR OUT.png")
    print(plot_run(sys.argv[1], sys.argv[2], sys.argv[3]))
