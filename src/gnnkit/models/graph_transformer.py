"""Graph transformers: Transformer encoder blocks over a graph's nodes, with positional encodings.

- ``attention='full'``: every node attends to every node of its graph (the Transformer encoder of
  ``nn.transformer`` on the complete graph); the structure enters only through the positional
  encodings: Laplacian eigenvectors (Dwivedi & Bresson 2020, https://arxiv.org/abs/2012.09699;
  Kreuzer et al. 2021 for full attention) and/or random-walk return probabilities (Dwivedi et al.
  2022, https://arxiv.org/abs/2110.07875), see ``transforms.laplacian_pe`` / ``random_walk_pe``.
- ``attention='sparse'``: attention restricted to neighbours, ``nn.GraphTransformerConv``
  (Shi et al. 2021, https://arxiv.org/abs/2009.03509), each layer followed by LayerNorm, ReLU, dropout.

.. code-block:: text

    h0 = Linear(x) + Linear(pe)              pe = lap (signs flipped at random in training) | rw | both
    h  = L x TransformerEncoderBlock(h, valid_lens = nodes per graph)     (full)
       | L x [GraphTransformerConv -> LayerNorm -> ReLU -> dropout]       (sparse)
    node task:  Linear(h)                    graph task: MLP(mean_v h_v)
"""
from __future__ import annotations

import torch
from torch import nn

from gnnkit import ops
from gnnkit.nn.graph_transformer import GraphTransformerConv
from gnnkit.nn.transformer import TransformerEncoderBlock
from gnnkit.transforms import laplacian_pe, random_walk_pe

PES = (None, "lap", "rw", "lap+rw")
ATTENTIONS = ("full", "sparse")


def _per_graph(edge_index: torch.Tensor, ptr: torch.Tensor, fn, k: int) -> torch.Tensor:
    """``fn(edge_index_b, n_b, k)`` for each graph ``b`` of a batch (edges relabelled to 0..n_b-1), stacked."""
    src_graph = torch.bucketize(edge_index[0], ptr[1:], right=True)              # graph of each edge
    out = []
    for b in range(ptr.numel() - 1):
        lo, hi = int(ptr[b]), int(ptr[b + 1])
        e = edge_index[:, src_graph == b] - lo
        out.append(fn(e, hi - lo, k))
    return torch.cat(out) if out else torch.zeros(0, k, device=edge_index.device)


class GraphTransformer(nn.Module):
    """A graph transformer for node classification (``model(x, adj)``) or graph classification
    (``model(batch)``, mean readout).

    Args:
        in_channels, out_channels: F_in, classes; hidden_channels: d (default 64);
        num_layers: blocks (default 2); heads: H (default 4); dropout: default 0.1;
        pe: ``'lap'`` (default), ``'rw'``, ``'lap+rw'`` or ``None``; pe_dim: k columns of each
        encoding (default 8); attention: ``'full'`` (default) or ``'sparse'``;
        sign_flip: flip each Laplacian eigenvector's sign at random, per graph, in training
        (default ``True``; the eigenvectors' signs are arbitrary).

    Positional encodings are read from node fields ``lap_pe`` / ``rw_pe`` of a batch when present
    (``transforms.LaplacianPE`` / ``RandomWalkPE``), otherwise computed from the edges (for
    ``model(x, adj)`` once per adjacency, cached on it).

    Shapes: ``x`` [N, F_in]; node task out [N, C]; graph task out [B, C].

    Example::

        model = GraphTransformer(1433, 7, hidden_channels=64, pe="lap")
        logits = model(g.x, g.adj())                      # [2708, 7]
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int = 64, num_layers: int = 2,
                 heads: int = 4, dropout: float = 0.1, pe: str | None = "lap", pe_dim: int = 8,
                 attention: str = "full", sign_flip: bool = True, input_dropout: float = 0.0):
        super().__init__()
        if pe not in PES:
            raise ValueError(f"pe must be one of {PES} (got {pe!r})")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS} (got {attention!r})")
        self.pe, self.pe_dim, self.attention, self.sign_flip = pe, pe_dim, attention, sign_flip
        self.input_dropout = nn.Dropout(input_dropout)
        self.lin_in = nn.Linear(in_channels, hidden_channels)
        self.lin_lap = nn.Linear(pe_dim, hidden_channels, bias=False) if pe in ("lap", "lap+rw") else None
        self.lin_rw = nn.Linear(pe_dim, hidden_channels, bias=False) if pe in ("rw", "lap+rw") else None
        if attention == "full":
            self.blocks = nn.ModuleList([TransformerEncoderBlock(hidden_channels, 2 * hidden_channels, heads, dropout,
                                                                 use_bias=True) for _ in range(num_layers)])
        else:
            self.blocks = nn.ModuleList([GraphTransformerConv(hidden_channels, hidden_channels // heads, heads,
                                                              dropout=dropout, beta=True) for _ in range(num_layers)])
            self.norms = nn.ModuleList([nn.LayerNorm(hidden_channels) for _ in range(num_layers)])
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Sequential(nn.Linear(hidden_channels, hidden_channels), nn.ReLU(),
                                  nn.Linear(hidden_channels, out_channels))

    # ---------------------------------------------------------------- positional encodings
    def encodings(self, source, edge_index: torch.Tensor, ptr: torch.Tensor, name: str) -> torch.Tensor:
        """Node field ``name`` of ``source`` (a Batch) when present, else computed from ``edge_index``."""
        if source is not None and hasattr(source, "get") and source.get(name) is not None:
            return source.get(name)
        fn = laplacian_pe if name == "lap_pe" else random_walk_pe
        adj = source if isinstance(source, ops.SparseAdj) else None
        if adj is not None:
            return adj.cached(f"{name}_{self.pe_dim}", lambda a: fn(a.edge_index, a.num_nodes, self.pe_dim))
        return _per_graph(edge_index, ptr, fn, self.pe_dim)

    def flip_signs(self, pe: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
        """Multiply each graph's eigenvector columns by independent random signs (training only)."""
        if not (self.training and self.sign_flip):
            return pe
        signs = torch.randint(0, 2, (num_graphs, pe.size(1)), device=pe.device) * 2 - 1      # [B, k]
        return pe * signs[batch].to(pe.dtype)

    # ---------------------------------------------------------------- forward
    def embed(self, data, adj=None) -> torch.Tensor:
        """Node representations after the last block, ``[N, d]``."""
        if adj is None:      # a Batch (graph classification)
            x, edge_index, batch, ptr, source = data.x, data.edge_index, data.batch, data.ptr, data
        else:                # x and the graph's adjacency (node classification)
            adj = ops.as_adj(adj, data.size(0))
            x, edge_index, source = data, adj.edge_index, adj
            batch = torch.zeros(x.size(0), dtype=torch.long, device=x.device)
            ptr = torch.tensor([0, x.size(0)], device=x.device)
        num_graphs = ptr.numel() - 1
        h = self.lin_in(self.input_dropout(x))                                          # [N, d]
        if self.lin_lap is not None:
            lap = self.encodings(source, edge_index, ptr, "lap_pe").to(h.dtype)          # [N, k]
            h = h + self.lin_lap(self.flip_signs(lap, batch, num_graphs))
        if self.lin_rw is not None:
            h = h + self.lin_rw(self.encodings(source, edge_index, ptr, "rw_pe").to(h.dtype))
        if self.attention == "sparse":
            for conv, norm in zip(self.blocks, self.norms):
                h = self.dropout(torch.relu(norm(conv(h, edge_index))))                  # [N, d]
            return h
        counts = ptr[1:] - ptr[:-1]                                                      # [B]
        pos = torch.arange(x.size(0), device=x.device) - ptr[batch]                      # position in its graph
        dense = h.new_zeros(num_graphs, int(counts.max()) if num_graphs else 0, h.size(1))   # [B, N_max, d]
        dense[batch, pos] = h
        for blk in self.blocks:
            dense = blk(dense, counts)                                                   # keys past n_b masked
        return dense[batch, pos]                                                         # [N, d]

    def forward(self, data, adj=None) -> torch.Tensor:
        h = self.embed(data, adj)
        if adj is not None:
            return self.head(h)                                                          # [N, C]
        pooled = ops.scatter(h, data.batch, data.num_graphs, "mean")                     # [B, d]
        return self.head(pooled)                                                         # [B, C]


class TransformerConvNet(nn.Module):
    """``nn.GraphTransformerConv`` layers (Shi et al., "Masked Label Prediction", IJCAI 2021,
    https://arxiv.org/abs/2009.03509, without the label masking) stacked as GAT's transductive network
    (Veličković et al. 2018): attention over each node's neighbours, heads concatenated, ELU, dropout on
    every layer's input and on the attention coefficients, a one-head output layer:

    .. math::
        h^{(l+1)}_i = \\mathrm{ELU}\\Big(\\Big\\Vert_{k=1}^{H} \\big(W^{(k)}_1 \\tilde h_i
            + \\sum_{j \\in N(i)} \\alpha^{(k)}_{ij} W^{(k)}_2 \\tilde h_j\\big)\\Big), \\qquad
        \\tilde h = \\mathrm{dropout}(h^{(l)})

    with :math:`\\alpha^{(k)}_{ij} = \\mathrm{softmax}_j\\big((W^{(k)}_3 h_i)^\\top (W^{(k)}_4 h_j) / \\sqrt d\\big)`.
    This is the model of ``graph-transformer-sparse-cora``: :class:`GraphTransformer` with
    ``attention='sparse'`` (an input projection, LayerNorm blocks and an MLP head) reached only
    54-70 % on Cora's public split (3 seeds), the same layers in GAT's shape 80.5 ± 0.8 (docs/results.md).

    Args:
        in_channels, hidden_channels, out_channels: F_in, features per head, classes.
        heads: H of each hidden layer (default 8); num_layers: layers incl. the output one (default 2);
        dropout: on layer inputs and attention coefficients (default 0.6);
        beta: the gated residual of Shi et al. (default ``False``: plain root term).

    Shapes: x: [N, F_in]; adj: ``SparseAdj`` or edge_index [2, E]; out: [N, C].

    Example::

        model = TransformerConvNet(16, 8, 3)
        out = model(torch.randn(5, 16), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]]))   # [5, 3]
    """

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, heads: int = 8,
                 num_layers: int = 2, dropout: float = 0.6, beta: bool = False):
        super().__init__()
        if num_layers < 2:
            raise ValueError(f"num_layers must be >= 2: hidden layers and the output layer (got {num_layers})")
        dims = [in_channels] + [heads * hidden_channels] * (num_layers - 2)    # inputs of the hidden layers
        self.convs = nn.ModuleList(GraphTransformerConv(d, hidden_channels, heads, dropout=dropout, beta=beta)
                                   for d in dims)
        self.out = GraphTransformerConv(heads * hidden_channels, out_channels, 1, dropout=dropout, beta=beta)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, adj) -> torch.Tensor:
        h = x
        for conv in self.convs:
            h = torch.nn.functional.elu(conv(self.dropout(h), adj))          # [N, H * hidden]
        return self.out(self.dropout(h), adj)                                  # [N, C]
