"""Graph and Batch: the data model every part of gnnkit passes around.

A ``Graph`` holds one graph; a ``Batch`` holds many graphs as one block-diagonal
graph plus the bookkeeping (``batch``, ``ptr``) needed to split it again.
"""
from __future__ import annotations

import operator
from typing import Iterable

import torch

from gnnkit.ops.checks import check_edge_index

# How a field is concatenated when graphs are batched:
#   node  - first dim is N, concatenated
#   edge  - first dim is E, concatenated
#   graph - one entry per graph; stacked along a new first dim if the entry
#           has no graph dim, concatenated otherwise
#   index - node indices (any shape); concatenated along the last dim with
#           each graph's node offset added
LEVELS = ("node", "edge", "graph", "index")

_BUILTIN_LEVELS = {
    "x": "node",
    "edge_index": "index",
    "edge_attr": "edge",
    "edge_weight": "edge",
    "train_mask": "node",
    "val_mask": "node",
    "test_mask": "node",
}


def _shape(t: torch.Tensor) -> str:
    return "[" + ", ".join(str(s) for s in t.shape) + "]"


class Graph:
    """One graph: node features, edges, labels, masks and extra tensors.

    Fields (all optional except ``num_nodes``, which is stored, never guessed
    from ``edge_index.max()``; when omitted it is taken from ``x`` or a
    node-level ``y``, and a graph with neither must pass it):

    - ``x``: ``[N, F]`` float node features.
    - ``edge_index``: ``[2, E]`` int64; row 0 source, row 1 target. Messages flow
      source -> target. Undirected graphs store both directions.
    - ``edge_attr``: ``[E, ...]`` edge features (or ``edge_weight``: ``[E]``).
    - ``y``: labels, node-level (``[N, ...]``) or graph-level; pass
      ``y_level='node'`` or ``'graph'``. Without it, ``y`` is node-level when its
      first dim equals ``num_nodes`` and ``num_nodes > 1``, graph-level otherwise.
    - ``train_mask``, ``val_mask``, ``test_mask``: ``[N]`` bool.
    - ``extra``: any other tensors, each with a level in ``levels``
      (one of ``'node'``, ``'edge'``, ``'graph'``, ``'index'``): this is how it
      batches. Key names play no part.

    Assignment: ``g.x = t`` and ``g['x'] = t`` go through :meth:`set` (validated; changing
    ``edge_index`` or ``edge_weight`` drops the cached adjacency), so ``g.to()``, ``Batch`` and
    ``g.adj()`` see the new tensor. A new tensor name needs its batching level:
    ``g.set('pos', t, 'node')``. ``num_nodes`` is fixed; build a new graph with
    ``g.replace(num_nodes=..., ...)``.

    Duplicated edges are kept and counted (as in PyG): an edge listed twice sends its message
    twice and adds 2 to the degree. Check with :meth:`has_duplicate_edges` and merge with
    ``ops.coalesce``.

    Non-finite features: ``x`` with NaN or inf is accepted (some data marks missing values that
    way); the trainer stops at the first non-finite loss, naming the epoch.

    Batching example: graphs with 2 and 3 nodes, edges ``[[0],[1]]`` and
    ``[[0, 2],[1, 1]]`` batch to ``edge_index = [[0, 2, 4], [1, 3, 3]]``,
    ``batch = [0, 0, 1, 1, 1]``, ``ptr = [0, 2, 5]``.

    Example::

        g = Graph(x=torch.randn(3, 2), edge_index=torch.tensor([[0, 1], [1, 2]]))
        g.num_nodes, g.num_edges   # (3, 2)
    """

    def __init__(
        self,
        x: torch.Tensor | None = None,
        edge_index: torch.Tensor | None = None,
        edge_attr: torch.Tensor | None = None,
        y: torch.Tensor | None = None,
        num_nodes: int | None = None,
        train_mask: torch.Tensor | None = None,
        val_mask: torch.Tensor | None = None,
        test_mask: torch.Tensor | None = None,
        edge_weight: torch.Tensor | None = None,
        y_level: str | None = None,
        extra: dict[str, torch.Tensor] | None = None,
        levels: dict[str, str] | None = None,
    ):
        if edge_index is None:
            device = x.device if isinstance(x, torch.Tensor) else None
            edge_index = torch.empty(2, 0, dtype=torch.long, device=device)
        self._fields: dict[str, torch.Tensor] = {}
        self._levels: dict[str, str] = {}
        self._adj = None

        num_nodes = self._infer_num_nodes(num_nodes, x, y, y_level)
        self.num_nodes = num_nodes
        self._check_edge_index(edge_index, num_nodes)
        self._set("edge_index", edge_index, "index")
        for name, value in (("x", x), ("edge_attr", edge_attr), ("edge_weight", edge_weight),
                            ("train_mask", train_mask), ("val_mask", val_mask), ("test_mask", test_mask)):
            if value is not None:
                self.set(name, value, _BUILTIN_LEVELS[name])
        if y is not None:
            if y_level is None:
                y_level = "node" if (y.dim() >= 1 and y.size(0) == num_nodes and num_nodes > 1) else "graph"
            self.set("y", y, y_level)
        extra = extra or {}
        levels = levels or {}
        for name, value in extra.items():
            if name not in levels:
                raise ValueError(
                    f"extra tensor {name!r} has no batching level; pass levels={{{name!r}: 'node'}} "
                    f"(one of {LEVELS})"
                )
            self.set(name, value, levels[name])

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _infer_num_nodes(num_nodes, x, y, y_level) -> int:
        if num_nodes is not None:
            try:
                if isinstance(num_nodes, bool):
                    raise TypeError
                num_nodes = operator.index(num_nodes)   # int, numpy integer, 0-d integer tensor; never a float
            except TypeError:
                raise TypeError(f"num_nodes must be an int (got {num_nodes!r} of type {type(num_nodes).__name__}); "
                                "a count of nodes has no fraction: pass int(n) if that is what you meant") from None
            if num_nodes < 0:
                raise ValueError(f"num_nodes must be >= 0 (got {num_nodes})")
            return num_nodes
        if x is not None:
            if not isinstance(x, torch.Tensor) or x.dim() == 0:
                raise ValueError("x must be a tensor of shape [N, F] (or [N]); got a scalar or non-tensor")
            return x.size(0)
        if y is not None and y_level == "node":
            return y.size(0)
        raise ValueError("num_nodes is unknown: pass num_nodes=N or node features x of shape [N, F]")

    @staticmethod
    def _check_edge_index(edge_index, num_nodes: int) -> None:
        check_edge_index(edge_index, num_nodes)   # the one rule, shared with every layer (gnnkit.ops.checks)

    def _check_field(self, name: str, value: torch.Tensor, level: str) -> None:
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (got {type(value).__name__})")
        if level not in LEVELS:
            raise ValueError(f"level of {name!r} must be one of {LEVELS} (got {level!r})")
        if level == "node" and (value.dim() == 0 or value.size(0) != self.num_nodes):
            raise ValueError(
                f"{name} is node-level and must have {self.num_nodes} rows (num_nodes), got shape {_shape(value)}"
            )
        if level == "edge" and (value.dim() == 0 or value.size(0) != self.num_edges):
            raise ValueError(
                f"{name} is edge-level and must have {self.num_edges} rows (one per column of edge_index), "
                f"got shape {_shape(value)}"
            )
        if name.endswith("_mask") and value.dtype != torch.bool:
            raise ValueError(f"{name} must be a bool tensor (got {value.dtype}); use mask.bool()")
        if name == "x" and not value.is_floating_point():
            raise ValueError(f"x must be a floating point tensor (got {value.dtype}); use x.float()")

    def _set(self, name: str, value: torch.Tensor, level: str) -> None:
        self._fields[name] = value
        self._levels[name] = level

    def set(self, name: str, value: torch.Tensor, level: str | None = None) -> None:
        """Add or replace tensor ``name`` with batching ``level``, validating its shape.

        ``level`` may be left out when ``name`` is already a field (its level is kept) or a
        builtin name (``x``, ``edge_attr``, masks, ...). Replacing ``edge_index`` or
        ``edge_weight`` drops the cached adjacency."""
        if level is None:
            level = self._default_level(name, value)
        if name == "edge_index":
            self._check_edge_index(value, self.num_nodes)
        else:
            self._check_field(name, value, level)
        if name in ("edge_index", "edge_weight"):
            self.__dict__["_adj"] = None
        self._set(name, value, level)

    def _default_level(self, name: str, value) -> str:
        if name in self._levels:
            return self._levels[name]
        if name in _BUILTIN_LEVELS:
            return _BUILTIN_LEVELS[name]
        if name == "y" and isinstance(value, torch.Tensor):
            return "node" if (value.dim() >= 1 and value.size(0) == self.num_nodes and self.num_nodes > 1) else "graph"
        raise ValueError(f"{name!r} is a new field and needs a batching level: g.set({name!r}, tensor, level) "
                         f"with level one of {LEVELS}")

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_") or (name == "num_nodes" and "num_nodes" not in self.__dict__):
            object.__setattr__(self, name, value)
            return
        if name == "num_nodes":
            raise AttributeError("num_nodes is fixed once a graph is built (node fields depend on it); make a new "
                                 "graph with g.replace(num_nodes=N, x=..., edge_index=...)")
        fields = self.__dict__.get("_fields", {})
        if isinstance(value, torch.Tensor):
            self.set(name, value)   # validated; a new name without a known level is refused with the fix
            return
        if name in fields or name in _BUILTIN_LEVELS or name == "y":
            what = "None" if value is None else type(value).__name__
            raise TypeError(f"{name} must be a torch.Tensor (got {what}); to drop a field, build a new graph: "
                            f"g.replace({name}=None) for a builtin field")
        if isinstance(getattr(type(self), name, None), property):
            raise AttributeError(f"{name} is computed from the graph's fields and cannot be assigned")
        object.__setattr__(self, name, value)

    def __getitem__(self, name: str) -> torch.Tensor:
        """``g['x']``: the field ``name`` (KeyError naming the fields when absent)."""
        if not isinstance(name, str):
            raise TypeError(f"a Graph is indexed by field name, e.g. g['x'] (got {type(name).__name__}); "
                            "to take a subgraph use ops.subgraph")
        if name not in self._fields:
            raise KeyError(f"graph has no field {name!r}; it has {sorted(self._fields)}")
        return self._fields[name]

    def __setitem__(self, name: str, value: torch.Tensor) -> None:
        """``g['x'] = t``: the same as ``g.set('x', t)``."""
        self.set(name, value)

    # --------------------------------------------------------------- access
    def __getattr__(self, name: str):
        fields = self.__dict__.get("_fields")
        if fields is not None and name in fields:
            return fields[name]
        if name in ("x", "edge_attr", "edge_weight", "y", "train_mask", "val_mask", "test_mask"):
            return None
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def get(self, name: str, default=None):
        """The field ``name``, or ``default`` when the graph has no such field."""
        return self._fields.get(name, default)

    def __contains__(self, name: str) -> bool:
        return name in self._fields

    def keys(self) -> list[str]:
        return list(self._fields)

    def level(self, name: str) -> str:
        return self._levels[name]

    @property
    def num_edges(self) -> int:
        return self._fields["edge_index"].size(1)

    @property
    def num_features(self) -> int:
        x = self._fields.get("x")
        return 0 if x is None else (1 if x.dim() == 1 else x.size(1))

    @property
    def num_node_features(self) -> int:
        """F, the width of ``x`` (0 without ``x``; PyG's name for :attr:`num_features`)."""
        return self.num_features

    @property
    def num_edge_features(self) -> int:
        """The width of ``edge_attr`` (0 without it; 1 for an ``[E]`` vector)."""
        e = self._fields.get("edge_attr")
        return 0 if e is None else (1 if e.dim() == 1 else e.size(1))

    def clone(self) -> "Graph":
        """A deep copy: every tensor cloned, levels and ``num_nodes`` kept."""
        return _build(type(self), self.num_nodes, {k: v.clone() for k, v in self._fields.items()}, self._levels)

    def is_undirected(self) -> bool:
        """Whether every edge ``u -> v`` has its reverse ``v -> u`` (weights not compared)."""
        from gnnkit.ops.structure import is_undirected

        return is_undirected(self.edge_index, self.num_nodes)

    def has_isolated_nodes(self) -> bool:
        """Whether some node is on no edge (neither source nor target; a self loop counts as an edge)."""
        seen = torch.zeros(self.num_nodes, dtype=torch.bool, device=self.edge_index.device)
        seen[self.edge_index.reshape(-1)] = True
        return not bool(seen.all())

    def has_self_loops(self) -> bool:
        """Whether some edge is ``v -> v``."""
        return bool((self.edge_index[0] == self.edge_index[1]).any())

    def has_duplicate_edges(self) -> bool:
        """Whether some edge ``(src, dst)`` is listed more than once. Duplicates are kept and counted
        (a message sent twice, degree counted twice), as in PyG; ``ops.coalesce`` merges them."""
        if self.num_edges < 2:
            return False
        key = self.edge_index[0] * max(self.num_nodes, 1) + self.edge_index[1]
        return torch.unique(key).numel() < key.numel()

    def adj(self):
        """The graph's sparse adjacency (CSR by target), built once and cached."""
        from gnnkit.ops.adj import SparseAdj

        if self._adj is None:
            from gnnkit.ops.checks import check_allocation

            check_allocation(8 * (self.num_nodes + 1) + 24 * self.num_edges, "the sparse adjacency (CSR row pointer "
                             f"for num_nodes={self.num_nodes:,} and {self.num_edges:,} edges)")
            self._adj = SparseAdj(self.edge_index, self.num_nodes, self._fields.get("edge_weight"))
        return self._adj

    def replace(self, **changes) -> "Graph":
        """A new graph with some fields replaced (levels kept; new names need ``levels=``).
        Passing ``num_nodes`` changes the node count (node fields must then be replaced too)."""
        num_nodes = changes.pop("num_nodes", self.num_nodes)
        levels = dict(self._levels)
        levels.update(changes.pop("levels", {}))
        fields = dict(self._fields)
        fields.update(changes)
        return _build(type(self), num_nodes, fields, levels)

    def to(self, device) -> "Graph":
        """The graph with every tensor on ``device`` (``self`` when they are all there already)."""
        if all(v.device == torch.device(device) for v in self._fields.values()):
            return self
        return _build(type(self), self.num_nodes, {k: v.to(device) for k, v in self._fields.items()}, self._levels)

    def __repr__(self) -> str:
        parts = [f"num_nodes={self.num_nodes}"] + [f"{k}={_shape(v)}" for k, v in self._fields.items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    # ----------------------------------------------------------- conversions
    def to_networkx(self):
        """A ``networkx.DiGraph``; node tensors become node attributes, edge tensors edge attributes."""
        import networkx as nx

        g = nx.DiGraph()
        for v in range(self.num_nodes):
            attrs = {k: t[v].tolist() for k, t in self._fields.items() if self._levels[k] == "node"}
            g.add_node(v, **attrs)
        src, dst = self.edge_index.tolist()
        edge_fields = {k: t for k, t in self._fields.items() if self._levels[k] == "edge"}
        for e, (s, d) in enumerate(zip(src, dst)):
            g.add_edge(s, d, **{k: t[e].tolist() for k, t in edge_fields.items()})
        for k, t in self._fields.items():
            if self._levels[k] == "graph":
                g.graph[k] = t.tolist()
        return g

    @classmethod
    def from_networkx(cls, g, node_attrs: Iterable[str] | None = None, edge_attrs: Iterable[str] | None = None) -> "Graph":
        """Build a graph from networkx. Nodes are relabelled 0..N-1 in ``g.nodes`` order;
        undirected graphs get both edge directions. Numeric attributes named in
        ``node_attrs`` / ``edge_attrs`` (default: all that every node/edge has) become tensors."""
        nodes = list(g.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        pairs = [(index[u], index[v], d) for u, v, d in g.edges(data=True)]
        if not g.is_directed():
            pairs = pairs + [(v, u, d) for u, v, d in pairs if u != v]
        if pairs:
            edge_index = torch.tensor([[p[0] for p in pairs], [p[1] for p in pairs]], dtype=torch.long)
        else:
            edge_index = torch.empty(2, 0, dtype=torch.long)

        def common(keys_per_item):
            keys = None
            for k in keys_per_item:
                keys = set(k) if keys is None else keys & set(k)
            return sorted(keys or [])

        if node_attrs is None:
            node_attrs = common(g.nodes[v].keys() for v in nodes)
        if edge_attrs is None:
            edge_attrs = common(p[2].keys() for p in pairs)
        fields, levels = {}, {}
        for k in node_attrs:
            fields[k] = _to_tensor([g.nodes[v][k] for v in nodes])
            levels[k] = "node"
        for k in edge_attrs:
            fields[k] = _to_tensor([p[2][k] for p in pairs])
            levels[k] = "edge"
        fields = {k: v for k, v in fields.items() if v is not None}
        fields["edge_index"] = edge_index
        levels["edge_index"] = "index"
        if "x" in fields and not fields["x"].is_floating_point():
            fields["x"] = fields["x"].float()
        return _build(cls, len(nodes), fields, levels)

    def to_scipy(self, weight: str | None = None):
        """The adjacency as ``scipy.sparse.coo_matrix`` with entry ``A[src, dst]``."""
        import numpy as np
        import scipy.sparse as sp

        src, dst = self.edge_index.numpy()
        values = self._fields[weight].numpy() if weight else np.ones(len(src), dtype=np.float32)
        return sp.coo_matrix((values, (src, dst)), shape=(self.num_nodes, self.num_nodes))

    @classmethod
    def from_scipy(cls, matrix, **fields) -> "Graph":
        """Edges from the non-zeros of a square scipy sparse matrix (``A[src, dst]``);
        values become ``edge_weight``."""
        coo = matrix.tocoo()
        if coo.shape[0] != coo.shape[1]:
            raise ValueError(f"adjacency matrix must be square (got shape {coo.shape})")
        edge_index = torch.stack([torch.from_numpy(coo.row).long(), torch.from_numpy(coo.col).long()])
        weight = torch.from_numpy(coo.data).float()
        return cls(edge_index=edge_index, edge_weight=weight, num_nodes=coo.shape[0], **fields)

    def to_pyg(self):
        """torch_geometric ``Data`` (needs ``pip install torch_geometric``)."""
        try:
            from torch_geometric.data import Data
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("to_pyg needs torch_geometric: pip install torch_geometric") from err
        return Data(num_nodes=self.num_nodes, **self._fields)

    @classmethod
    def from_pyg(cls, data) -> "Graph":
        """From a torch_geometric ``Data``; node/edge levels are read from its shapes."""
        fields, levels = {}, {}
        n = data.num_nodes
        for key, value in data.items():
            if not isinstance(value, torch.Tensor):
                continue
            if key == "edge_index":
                level = "index"
            elif data.is_node_attr(key):
                level = "node"
            elif data.is_edge_attr(key):
                level = "edge"
            else:
                level = "graph"
            fields[key] = value
            levels[key] = level
        fields.setdefault("edge_index", torch.empty(2, 0, dtype=torch.long))
        levels["edge_index"] = "index"
        return _build(cls, n, fields, levels)


def _to_tensor(values):
    try:
        return torch.tensor(values)
    except (TypeError, ValueError):
        return None  # non-numeric attribute: left out


def _build(cls, num_nodes, fields, levels) -> Graph:
    """Construct ``cls`` from a field dict, routing builtin names to their arguments."""
    fields = dict(fields)
    builtin = {k: fields.pop(k) for k in list(fields) if k in _BUILTIN_LEVELS}
    y_level = None
    if "y" in fields:
        builtin["y"] = fields.pop("y")
        y_level = levels.get("y")
    return cls(num_nodes=num_nodes, y_level=y_level, extra=fields,
               levels={k: levels[k] for k in fields}, **builtin)


def _batched_shape(level: str, t: torch.Tensor) -> tuple[int, ...]:
    """The part of a field's shape that must agree across a batch: all but the dim the batch joins
    (node / edge rows, index columns); the whole shape for graph-level fields, which are stacked."""
    if level in ("node", "edge"):
        return t.shape[1:]
    if level == "graph":
        return t.shape
    return t.shape[:-1]


def _check_batchable(name: str, level: str, first: torch.Tensor, other: torch.Tensor, i: int) -> None:
    """Graph ``i``'s ``name`` must concatenate with graph 0's: same trailing shape (widths)."""
    a, b = _batched_shape(level, first), _batched_shape(level, other)
    if level in ("node", "edge"):
        what = "width" if len(a) == 1 and len(b) == 1 else "shape after the first dim"
    else:
        what = "shape" if level == "graph" else "leading shape"
    if a != b:
        fmt = (lambda t: str(t[0])) if what == "width" else (lambda t: "[" + ", ".join(map(str, t)) + "]")
        raise ValueError(f"cannot batch field {name!r}: its {what} is {fmt(a)} in graph 0 but {fmt(b)} in graph {i}; "
                         "give every graph the same features (e.g. the same transform) before batching")


class Batch(Graph):
    """Many graphs as one block-diagonal graph.

    Extra fields beyond ``Graph``: ``batch`` ``[N]`` (graph id of each node),
    ``ptr`` ``[B + 1]`` (node offsets), ``num_graphs``. Node ``i`` of graph ``b``
    is node ``ptr[b] + i`` of the batch; edges keep their graph's block.

    Example::

        b = Batch.from_graphs([g1, g2])
        b.batch, b.ptr                 # tensor([0, 0, 1, 1, 1]), tensor([0, 2, 5])
        g1_again, g2_again = b.to_graphs()
    """

    @classmethod
    def from_graphs(cls, graphs: list[Graph]) -> "Batch":
        graphs = list(graphs)
        if not graphs:
            raise ValueError("Batch.from_graphs needs at least one graph (got an empty list)")
        first = graphs[0]
        keys = first.keys()
        levels = {k: first.level(k) for k in keys}
        # The checks run once per field over all graphs; only a batch that fails one is walked graph by
        # graph, to name the first graph that differs (collation is on every training step's path).
        if any(g._levels != first._levels for g in graphs):
            for i, g in enumerate(graphs):
                if set(g.keys()) != set(keys):
                    raise ValueError(
                        f"graph {i} has fields {sorted(g.keys())} but graph 0 has {sorted(keys)}; "
                        "every graph in a batch needs the same fields"
                    )
                for k in keys:
                    if g.level(k) != levels[k]:
                        raise ValueError(f"field {k!r} is {g.level(k)}-level in graph {i} but {levels[k]}-level "
                                         "in graph 0")
        parts = {k: [g._fields[k] for g in graphs] for k in keys}
        for k in keys:
            if len({_batched_shape(levels[k], p) for p in parts[k]}) > 1:
                for i, p in enumerate(parts[k]):
                    _check_batchable(k, levels[k], parts[k][0], p, i)
        device = first.edge_index.device
        sizes = torch.tensor([g.num_nodes for g in graphs], dtype=torch.long, device=device)
        ptr = torch.zeros(len(graphs) + 1, dtype=torch.long, device=device)
        ptr[1:] = torch.cumsum(sizes, 0)
        fields = {}
        index_counts = {}
        for k in keys:
            level = levels[k]
            if level in ("node", "edge"):
                fields[k] = torch.cat(parts[k], 0)
            elif level == "graph":
                fields[k] = torch.stack(parts[k], 0)
            else:  # index: shift each graph's node ids by its offset, ptr[i] for all of graph i's columns
                counts = [p.size(-1) for p in parts[k]]
                shift = torch.repeat_interleave(ptr[:-1], torch.tensor(counts, dtype=torch.long, device=device))
                fields[k] = torch.cat(parts[k], -1) + shift
                index_counts[k] = counts
        batch = torch.repeat_interleave(torch.arange(len(graphs), device=device), sizes)
        return cls._assemble(int(ptr[-1]), fields, levels, batch, ptr, index_counts)

    @classmethod
    def _assemble(cls, num_nodes, fields, levels, batch, ptr, index_counts) -> "Batch":
        plain = _build(Graph, num_nodes, fields, levels)
        out = cls.__new__(cls)
        out.__dict__.update(plain.__dict__)
        out._set("batch", batch, "node")
        out._set("ptr", ptr, "graph")
        out._index_counts = index_counts
        return out

    def _without_bookkeeping(self):
        fields = {k: v for k, v in self._fields.items() if k not in ("batch", "ptr")}
        return fields, {k: self._levels[k] for k in fields}

    def replace(self, **changes) -> "Batch":
        fields, levels = self._without_bookkeeping()
        levels.update(changes.pop("levels", {}))
        fields.update(changes)
        return self._assemble(self.num_nodes, fields, levels, self.batch, self.ptr, self._index_counts)

    def to(self, device) -> "Batch":
        """The batch with every tensor on ``device`` (``self`` when they are all there already)."""
        if all(v.device == torch.device(device) for v in self._fields.values()):
            return self
        fields, levels = self._without_bookkeeping()
        fields = {k: v.to(device) for k, v in fields.items()}
        return self._assemble(self.num_nodes, fields, levels, self.batch.to(device), self.ptr.to(device),
                              self._index_counts)

    @property
    def num_graphs(self) -> int:
        return self.ptr.numel() - 1

    def to_graphs(self) -> list[Graph]:
        """Split back into the graphs this batch was made of."""
        B = self.num_graphs
        ptr = self.ptr.tolist()
        offsets = {}
        for k, counts in self._index_counts.items():
            offsets[k] = [0]
            for c in counts:
                offsets[k].append(offsets[k][-1] + c)
        eptr = offsets["edge_index"]
        graphs = []
        for b in range(B):
            n0, n1 = ptr[b], ptr[b + 1]
            e0, e1 = eptr[b], eptr[b + 1]
            fields, levels = {}, {}
            for k, v in self._fields.items():
                level = self._levels[k]
                if k in ("batch", "ptr"):
                    continue
                if level == "node":
                    fields[k] = v[n0:n1]
                elif level == "edge":
                    fields[k] = v[e0:e1]
                elif level == "graph":
                    fields[k] = v[b]
                else:
                    fields[k] = v[..., offsets[k][b]:offsets[k][b + 1]] - n0
                levels[k] = level
            graphs.append(_build(Graph, n1 - n0, fields, levels))
        return graphs
