"""First layers take bag-of-words features as a sparse matrix and give what the dense matrix gives."""
import pytest
import torch
from torch import nn

import gnnkit.nn as gnn

F_IN = 40

LAYERS = {
    "GCNConv": lambda: gnn.GCNConv(F_IN, 8),
    "GCNConv widening": lambda: gnn.GCNConv(F_IN, 64),
    "ChebConv": lambda: gnn.ChebConv(F_IN, 8, K=3),
    "ChebConv widening": lambda: gnn.ChebConv(F_IN, 64, K=3),
    "SAGEConv": lambda: gnn.SAGEConv(F_IN, 8, aggr="mean"),
    "GATConv": lambda: gnn.GATConv(F_IN, 4, heads=2),
    "GINConv": lambda: gnn.GINConv(nn.Sequential(nn.Linear(F_IN, 8), nn.ReLU(), nn.Linear(8, 8)), train_eps=True),
    # paths that need the dense features (they are densified inside the layer)
    "SAGEConv widening": lambda: gnn.SAGEConv(F_IN, 64, aggr="mean"),
    "SAGEConv gcn": lambda: gnn.SAGEConv(F_IN, 8, aggr="gcn"),
    "SAGEConv pool": lambda: gnn.SAGEConv(F_IN, 8, aggr="pool"),
    "GINConv max": lambda: gnn.GINConv(nn.Linear(F_IN, 8), aggr="max"),
    "GINConv widening": lambda: gnn.GINConv(nn.Sequential(nn.Linear(F_IN, 64), nn.ReLU())),
}


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("layout", ["csr", "coo"])
def test_sparse_features_give_the_dense_output_and_gradients(name, layout):
    gen = torch.Generator().manual_seed(0)
    n = 25
    x = (torch.rand(n, F_IN, generator=gen) < 0.1).float()           # 0/1 bag of words, ~10% non-zero
    x[0] = 0                                                          # a document with no words
    edge_index = torch.randint(0, n, (2, 80), generator=gen)
    xs = x.to_sparse_csr() if layout == "csr" else x.to_sparse()
    torch.manual_seed(1)
    layer = LAYERS[name]()
    dense_out = layer(x, edge_index)
    dense_out.square().sum().backward()
    dense_grads = [p.grad.clone() for p in layer.parameters()]
    layer.zero_grad()
    out = layer(xs, edge_index)
    out.square().sum().backward()
    torch.testing.assert_close(out, dense_out, rtol=1e-5, atol=1e-5)
    for p, expected in zip(layer.parameters(), dense_grads):
        torch.testing.assert_close(p.grad, expected, rtol=1e-4, atol=1e-5)
