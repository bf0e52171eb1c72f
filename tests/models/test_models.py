import pytest
import torch

from gnnkit import ops
from gnnkit.models import GAT, GCN, MLP, ChebNet, GraphSAGE, build_model, feature_dropout
from tests.train.graphs import community_graph


def dense_gcn_adj(g):
    A = ops.dense_adjacency(g.edge_index, g.num_nodes).double() + torch.eye(g.num_nodes, dtype=torch.float64)
    d = A.sum(1).pow(-0.5)
    return d[:, None] * A * d[None, :]


def test_gcn_matches_dense_formula():
    # Z = A_hat relu(A_hat X W0) W1 (eval mode: no dropout), in float64.
    g = community_graph()
    model = GCN(8, 5, 3).double().eval()
    A_hat = dense_gcn_adj(g)
    x = g.x.double()
    expected = A_hat @ torch.relu(A_hat @ x @ model.convs[0].weight) @ model.convs[1].weight
    torch.testing.assert_close(model(x, g.adj()), expected)
    torch.testing.assert_close(model.embed(x, g.adj()), torch.relu(A_hat @ x @ model.convs[0].weight))


@pytest.mark.parametrize("name, kwargs", [
    ("gcn", {}), ("cheb", {"K": 2}), ("mlp", {}), ("gat", {"heads": 2}),
    ("sage", {"aggr": "mean"}), ("sage", {"aggr": "gcn"}), ("sage", {"aggr": "pool", "project": 6}),
])
def test_sparse_features_give_the_same_output_as_dense(name, kwargs):
    g = community_graph()
    x = g.x.clone()
    x[x.abs() < 1.0] = 0.0            # bag-of-words-like: mostly zeros
    torch.manual_seed(0)
    model = build_model(name, in_channels=8, out_channels=3, hidden_channels=4, **kwargs).eval()
    dense = model(x, g.adj())
    assert dense.shape == (g.num_nodes, 3)
    for sparse_x in (x.to_sparse(), x.to_sparse_csr()):
        torch.testing.assert_close(model(sparse_x, g.adj()), dense, rtol=1e-5, atol=1e-5)


def test_sparse_gradients_equal_dense_gradients():
    g = community_graph()
    x = torch.relu(g.x)
    torch.manual_seed(0)
    model = GCN(8, 4, 3, dropout=0.0)
    model(x, g.adj()).pow(2).sum().backward()
    dense = [p.grad.clone() for p in model.parameters()]
    for sparse_x in (x.to_sparse(), x.to_sparse_csr()):
        model.zero_grad()
        model(sparse_x, g.adj()).pow(2).sum().backward()
        for a, b in zip(dense, model.parameters()):
            torch.testing.assert_close(b.grad, a, rtol=1e-5, atol=1e-5)


def test_feature_dropout_on_sparse_keeps_zeros_and_scales_survivors():
    torch.manual_seed(0)
    x = torch.zeros(50, 40)
    x[torch.rand(50, 40) < 0.1] = 2.0
    for sparse_x in (x.to_sparse(), x.to_sparse_csr()):
        out = feature_dropout(sparse_x, 0.5, training=True).to_dense()
        assert torch.all(out[x == 0] == 0)
        assert set(out[x != 0].unique().tolist()) <= {0.0, 4.0}
        assert 0.3 < (out[x != 0] == 0).float().mean() < 0.7
        assert feature_dropout(sparse_x, 0.5, training=False).to_dense().equal(x)


def test_models_expose_last_hidden_layer():
    g = community_graph()
    shapes = {GCN(8, 5, 3): 5, ChebNet(8, 5, 3, K=3): 5, MLP(8, 5, 3): 5, GAT(8, 5, 3, heads=2): 10,
              GraphSAGE(8, 5, 3, aggr="lstm"): 5, GAT(8, 4, 3, heads=2, num_layers=3, residual=True): 8}
    for model, width in shapes.items():
        model.eval()
        assert model.embed(g.x, g.adj()).shape == (g.num_nodes, width), type(model).__name__
        assert model(g.x, g.adj()).shape == (g.num_nodes, 3)


def test_gat_has_num_layers_attention_layers():
    # The paper's transductive GAT: one 8-head hidden layer and the output layer, nothing more.
    model = GAT(1433, 8, 7, heads=8)
    assert len(model.convs) == 1 and model.convs[0].in_channels == 1433 and model.out.in_channels == 64
    assert sum(p.numel() for p in model.parameters()) == 1433 * 64 + 2 * 64 + 64 + 64 * 7 + 2 * 7 + 7
    ppi = GAT(50, 256, 121, heads=4, out_heads=6, num_layers=3, residual=True)
    assert [c.in_channels for c in ppi.convs] == [50, 1024] and ppi.out.in_channels == 1024
    with pytest.raises(ValueError, match="num_layers must be >= 2"):
        GAT(4, 2, 2, num_layers=1)


@pytest.mark.parametrize("K", [1, 2])
def test_chebnet_degree_is_the_papers_K(K):
    # The GCN paper's K is the polynomial degree: a degree-K filter reaches K hops, so two layers
    # reach 2K hops. On a 12-node path a change at node 0 moves the outputs of nodes 0..2K only.
    path = torch.stack([torch.arange(11), torch.arange(1, 12)])
    edge_index = torch.cat([path, path.flip(0)], 1)
    torch.manual_seed(0)
    model = ChebNet(3, 4, 2, K=K, dropout=0.0).double().eval()
    x = torch.randn(12, 3, dtype=torch.float64)
    x_changed = x.clone()
    x_changed[0] += 1.0
    moved = (model(x_changed, edge_index) - model(x, edge_index)).abs().sum(1) > 1e-12
    assert moved.nonzero().view(-1).tolist() == list(range(2 * K + 1))


def test_build_model_rejects_unknown_name():
    with pytest.raises(ValueError, match="model must be one of"):
        build_model("gin-x", in_channels=4, out_channels=2)
