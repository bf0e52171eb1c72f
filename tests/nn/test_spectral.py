"""SpectralConv, ChebConv and GCNConv: hand-computed cases, dense float64
references of the papers' equations, properties, caching and errors."""
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gnnkit import Batch, Graph, ops
from gnnkit.nn import ChebConv, GCNConv, SpectralConv
from gnnkit.nn.spectral import _graph_ptr, _node_graph
from tests.strategies import relabel, small_graphs

PATH3 = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])          # undirected path 0 - 1 - 2
S2 = 1 / math.sqrt(2)


# ---------------------------------------------------------------- dense references
def dense_laplacian(edge_index, n, weight=None, normalization="sym"):
    """L = D - A, I - D^-1/2 A D^-1/2 or I - D^-1 A with A[dst, src] (isolated nodes: L_ii = 1)."""
    a = ops.dense_adjacency(edge_index, n, weight, dtype=torch.float64)
    d = a.sum(1)
    eye = torch.eye(n, dtype=torch.float64)
    if normalization is None:
        return torch.diag(d) - a
    inv = torch.where(d > 0, d.pow(-0.5 if normalization == "sym" else -1.0), torch.zeros_like(d))
    return eye - (inv.unsqueeze(1) * a * inv.unsqueeze(0) if normalization == "sym" else inv.unsqueeze(1) * a)


def dense_cheb(conv, x, edge_index, weight=None, lambda_max=None):
    """sum_k T_k(L~) X Theta_k + b with T_0 = I, T_1 = L~, T_k = 2 L~ T_{k-1} - T_{k-2} as matrices."""
    n = x.size(0)
    L = dense_laplacian(edge_index, n, weight, conv.normalization)
    lam = lambda_max or float(torch.linalg.eigvalsh(L).max())
    lam = lam if lam > 1e-12 else 1.0                    # L = 0: any lambda gives L~ = -I
    eye = torch.eye(n, dtype=torch.float64)
    L_tilde = 2 * L / lam - eye
    T = [eye, L_tilde]
    while len(T) < conv.K:
        T.append(2 * L_tilde @ T[-1] - T[-2])
    return sum(T[k] @ x @ conv.weight[k] for k in range(conv.K)) + conv.bias


def dense_gcn(conv, x, edge_index, weight=None):
    """D~^-1/2 (A + I) D~^-1/2 X W + b, existing self loops replaced by I."""
    keep = edge_index[0] != edge_index[1]
    w = None if weight is None else weight[keep]
    a = ops.dense_adjacency(edge_index[:, keep], x.size(0), w, dtype=torch.float64)
    a = a + torch.eye(x.size(0), dtype=torch.float64)
    d = a.sum(1).pow(-0.5)
    return (d.unsqueeze(1) * a * d.unsqueeze(0)) @ x @ conv.weight + conv.bias


def weighted_undirected(n, seed, p=0.6):
    """A random undirected graph with random symmetric weights (distinct Laplacian eigenvalues)."""
    gen = torch.Generator().manual_seed(seed)
    upper = torch.triu((torch.rand(n, n, generator=gen) < p).long(), 1).nonzero().t()
    w = torch.rand(upper.size(1), generator=gen, dtype=torch.float64) + 0.2
    return torch.cat([upper, upper.flip(0)], 1), torch.cat([w, w])


def assert_gradients_reach_every_parameter(layer, loss):
    loss.backward()
    for name, p in layer.named_parameters():
        assert p.grad is not None and bool(p.grad.abs().sum() > 0), f"no gradient reached {name}"


# ---------------------------------------------------------------- GCNConv
def test_gcn_hand_computed_path():
    # path 0 - 1 - 2 with self loops: degrees 2, 3, 2; x = [1, 2, 3], W = 1, b = 0
    # out_0 = 1/2 + 2/sqrt(6), out_1 = 1/sqrt(6) + 2/3 + 3/sqrt(6), out_2 = 2/sqrt(6) + 3/2
    conv = GCNConv(1, 1).double()
    with torch.no_grad():
        conv.weight.fill_(1.0)
    out = conv(torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64), PATH3).view(-1)
    r6 = math.sqrt(6)
    expected = torch.tensor([0.5 + 2 / r6, 1 / r6 + 2 / 3 + 3 / r6, 2 / r6 + 1.5], dtype=torch.float64)
    torch.testing.assert_close(out, expected)


@given(g=small_graphs(), weighted=st.booleans(), widen=st.booleans())
def test_gcn_matches_dense_formula(g, weighted, widen):
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    conv = GCNConv(4, 6 if widen else 3).double()        # both orders: propagate x or x W
    torch.testing.assert_close(conv(g.x, g.edge_index, w), dense_gcn(conv, g.x, g.edge_index, w),
                               rtol=1e-6, atol=1e-6)     # unweighted normalization is built in float32


def test_gcn_cached_adjacency_is_reused_and_refuses_another_graph():
    conv = GCNConv(2, 2, cached=True)
    x = torch.randn(3, 2)
    first = conv(x, PATH3)
    again = conv(x, torch.tensor([[0], [1]]))            # ignored: the first graph's adjacency is kept
    torch.testing.assert_close(first, again)
    with pytest.raises(ValueError, match=r"cached=True\) saw a graph with 3 nodes"):
        conv(torch.randn(4, 2), PATH3)


def test_gcn_caches_the_normalization_on_the_graph_adjacency():
    g = Graph(x=torch.randn(3, 2), edge_index=PATH3)
    conv = GCNConv(2, 2)
    out = conv(g.x, g.adj())
    assert ("gcn_norm", True) in g.adj().cache
    torch.testing.assert_close(out, conv(g.x, g.edge_index))


def test_gcn_edge_weights_get_gradients():
    w = torch.rand(4, requires_grad=True)
    GCNConv(2, 2)(torch.randn(3, 2), PATH3, w).sum().backward()
    assert w.grad is not None and bool(w.grad.abs().sum() > 0)


# ---------------------------------------------------------------- ChebConv
def test_cheb_hand_computed_path():
    # path 0 - 1 - 2, lambda_max = 2, sym: L~ = L - I = -D^-1/2 A D^-1/2 (entries -1/sqrt(2))
    # x = e_0: T_0 = [1, 0, 0], T_1 = L~ x = [0, -1/sqrt2, 0], T_2 = 2 L~ T_1 - T_0 = [1, 0, 1] - [1, 0, 0]
    conv = ChebConv(1, 1, K=3, lambda_max=2.0, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 10.0, 100.0]).view(3, 1, 1))
    out = conv(torch.tensor([[1.0], [0.0], [0.0]], dtype=torch.float64), PATH3).view(-1)
    torch.testing.assert_close(out, torch.tensor([1.0, -10 * S2, 100.0], dtype=torch.float64))


@given(g=small_graphs(), K=st.integers(1, 4), widen=st.booleans(),
       normalization=st.sampled_from(["sym", "rw", None]), weighted=st.booleans())
def test_cheb_matches_dense_recurrence(g, K, widen, normalization, weighted):
    # widen=False takes the Clenshaw path (F_out < F_in), widen=True the forward recurrence
    w = torch.rand(g.num_edges, dtype=torch.float64) + 0.1 if weighted else None
    conv = ChebConv(4, 6 if widen else 3, K=K, normalization=normalization, lambda_max=1.7).double()
    torch.testing.assert_close(conv(g.x, g.edge_index, w), dense_cheb(conv, g.x, g.edge_index, w, 1.7))


@given(g=small_graphs(undirected=True), K=st.integers(1, 4))
def test_cheb_computes_lambda_max_of_the_laplacian(g, K):
    conv = ChebConv(4, 2, K=K).double()
    torch.testing.assert_close(conv(g.x, g.edge_index), dense_cheb(conv, g.x, g.edge_index))


def test_cheb_caches_the_scaled_laplacian_on_the_adjacency(monkeypatch):
    calls = []
    real = ops.largest_eigenvalue
    monkeypatch.setattr(ops, "largest_eigenvalue", lambda *a: calls.append(1) or real(*a))
    g = Graph(x=torch.randn(3, 2), edge_index=PATH3)
    conv = ChebConv(2, 2, K=3)
    first = conv(g.x, g.adj())
    second = conv(g.x, g.adj())
    assert len(calls) == 1
    torch.testing.assert_close(first, second)


def test_cheb_batch_uses_each_graphs_own_lambda_max():
    graphs = [Graph(x=torch.randn(n, 3, dtype=torch.float64), edge_index=weighted_undirected(n, n)[0])
              for n in (3, 5, 4)]
    b = Batch.from_graphs(graphs)
    conv = ChebConv(3, 2, K=3).double()
    out = conv(b.x, b.edge_index, batch=b.batch)
    torch.testing.assert_close(out, torch.cat([conv(g.x, g.edge_index) for g in graphs]))
    torch.testing.assert_close(conv(b.x, b.edge_index, ptr=b.ptr), out)


def test_cheb_zero_edges_and_errors():
    x = torch.randn(3, 2)
    conv = ChebConv(2, 2, K=3)
    # no edges, sym: L = I, lambda_max = 1, L~ = I, so every T_k x = x
    empty = torch.empty(2, 0, dtype=torch.long)
    torch.testing.assert_close(conv(x, empty), x @ conv.weight.sum(0) + conv.bias)
    # no edges, L = D - A = 0: L~ = -I, so T_k x = (-1)^k x
    plain = ChebConv(2, 2, K=3, normalization=None)
    torch.testing.assert_close(plain(x, empty), x @ (plain.weight[0] - plain.weight[1] + plain.weight[2]) + plain.bias)
    with pytest.raises(ValueError, match="K must be >= 1"):
        ChebConv(2, 2, K=0)
    with pytest.raises(ValueError, match="normalization must be"):
        ChebConv(2, 2, K=2, normalization="both")
    with pytest.raises(ValueError, match="lambda_max must be > 0"):
        ChebConv(2, 2, K=2, lambda_max=0.0)
    with pytest.raises(ValueError, match=r"expects x of shape \[N, 2\]"):
        conv(torch.randn(3, 5), PATH3)
    with pytest.raises(ValueError, match=r"expects floating-point x \(got torch.int64\); use x.float\(\)"):
        conv(torch.ones(3, 2, dtype=torch.long), PATH3)
    with pytest.raises(ValueError, match="an edge joins two graphs of the batch"):
        conv(torch.randn(6, 2), torch.tensor([[2], [3]]), ptr=torch.tensor([0, 3, 6]))


def test_spectral_graph_offsets_follow_the_device_of_x():
    # _graph_ptr and _node_graph build ptr and graph ids on the device they are given (x's), never
    # on the CPU by default; 'meta' stands in for a GPU (no data, but a device of its own).
    meta = torch.device("meta")
    assert _graph_ptr(None, None, 5, meta).device == meta
    assert _graph_ptr(torch.tensor([0, 0, 1]), None, 3, torch.device("cpu")).tolist() == [0, 2, 3]
    assert _node_graph(torch.tensor([0, 2, 3])).tolist() == [0, 0, 1]


# ---------------------------------------------------------------- SpectralConv
def test_spectral_hand_computed_path():
    # path 0 - 1 - 2: L_sym has eigenvalues 0, 1, 2; the first eigenvector is u_0 = (1, sqrt2, 1) / 2.
    # k = 1, theta = 2, x = e_0: u_0^T x = 1/2, out = 2 * 1/2 * u_0 = (1/2, sqrt2/2, 1/2)
    conv = SpectralConv(1, 1, num_nodes=3, k=1, bias=False).double()
    with torch.no_grad():
        conv.weight.fill_(2.0)
    out = conv(torch.tensor([[1.0], [0.0], [0.0]], dtype=torch.float64), PATH3).view(-1)
    torch.testing.assert_close(out, torch.tensor([0.5, S2, 0.5], dtype=torch.float64))


@given(n=st.integers(2, 9), seed=st.integers(0, 2**16), data=st.data())
def test_spectral_matches_dense_eigenbasis_formula(n, seed, data):
    k = data.draw(st.integers(1, n))
    ei, w = weighted_undirected(n, seed)
    eigenvalues, U = torch.linalg.eigh(dense_laplacian(ei, n, w))
    gaps = torch.diff(eigenvalues)
    if gaps.numel() and float(gaps.min()) < 1e-6:   # a repeated eigenvalue has no unique basis: skip
        return
    conv = SpectralConv(3, 2, num_nodes=n, k=k).double()
    x = torch.randn(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    Uk = U[:, :k]
    expected = sum(Uk @ torch.diag(conv.weight[:, i, o]) @ Uk.t() @ x[:, i:i + 1] @ torch.eye(2, dtype=torch.float64)[o:o + 1]
                   for i in range(3) for o in range(2)) + conv.bias
    torch.testing.assert_close(conv(x, ei, w), expected)


@given(n=st.integers(2, 9), seed=st.integers(0, 2**16))
def test_spectral_is_permutation_equivariant(n, seed):
    ei, w = weighted_undirected(n, seed)
    eigenvalues = torch.linalg.eigvalsh(dense_laplacian(ei, n, w))
    if n > 1 and float(torch.diff(eigenvalues).min()) < 1e-6:
        return
    conv = SpectralConv(3, 2, num_nodes=n, k=max(1, n - 1)).double()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, dtype=torch.float64, generator=gen)
    perm = torch.randperm(n, generator=gen)
    torch.testing.assert_close(conv(x[perm], relabel(ei, perm), w), conv(x, ei, w)[perm])


def test_spectral_batch_of_same_size_graphs_equals_one_by_one():
    graphs = []
    for seed in range(3):
        ei, w = weighted_undirected(5, seed)
        graphs.append(Graph(x=torch.randn(5, 3, dtype=torch.float64), edge_index=ei, edge_weight=w))
    b = Batch.from_graphs(graphs)
    conv = SpectralConv(3, 2, num_nodes=5, k=3).double()
    out = conv(b.x, b.edge_index, b.edge_weight, ptr=b.ptr)
    torch.testing.assert_close(out, torch.cat([conv(g.x, g.edge_index, g.edge_weight) for g in graphs]))
    torch.testing.assert_close(conv(b.x, b.edge_index, b.edge_weight, batch=b.batch), out)


def test_spectral_caches_the_eigendecomposition(monkeypatch):
    calls = []
    real = torch.linalg.eigh
    monkeypatch.setattr(torch.linalg, "eigh", lambda m: calls.append(1) or real(m))
    g = Graph(x=torch.randn(3, 2), edge_index=PATH3)
    conv = SpectralConv(2, 2, num_nodes=3)
    conv(g.x, g.adj())
    conv(g.x, g.adj())
    assert len(calls) == 1


def test_spectral_isolated_nodes_and_zero_edges():
    # no edges: L = I, every vector is an eigenvector; with k = N the filter is diag over a full basis,
    # and with equal coefficients theta it is theta * I.
    conv = SpectralConv(1, 1, num_nodes=4, bias=False)
    with torch.no_grad():
        conv.weight.fill_(3.0)
    x = torch.randn(4, 1)
    torch.testing.assert_close(conv(x, torch.empty(2, 0, dtype=torch.long)), 3 * x)


def test_spectral_refuses_a_graph_of_another_size():
    conv = SpectralConv(2, 2, num_nodes=3, k=2)
    with pytest.raises(ValueError, match=r"built for graphs of 3 nodes but got graph sizes \[4\].*do not transfer"):
        conv(torch.randn(4, 2), torch.tensor([[0, 1], [1, 0]]))
    with pytest.raises(ValueError, match="pass ptr=batch.ptr"):
        conv(torch.randn(6, 2), torch.tensor([[0, 1], [1, 0]]))


def test_spectral_errors():
    with pytest.raises(ValueError, match="k must be in"):
        SpectralConv(2, 2, num_nodes=3, k=4)
    conv = SpectralConv(2, 2, num_nodes=3)
    with pytest.raises(ValueError, match="needs an undirected graph"):
        conv(torch.randn(3, 2), torch.tensor([[0, 1], [1, 2]]))
    with pytest.raises(ValueError, match="an edge joins two graphs"):
        conv(torch.randn(6, 2), torch.tensor([[2], [3]]), ptr=torch.tensor([0, 3, 6]))
    with pytest.raises(ValueError, match=r"expects x of shape \[N, 2\]"):
        conv(torch.randn(3), PATH3)
    with pytest.raises(ValueError, match=r"ptr must be \[B \+ 1\] offsets from 0 to N = 6"):
        conv(torch.randn(6, 2), PATH3, ptr=torch.tensor([0, 3, 5]))
    with pytest.raises(ValueError, match="batch must be a sorted"):
        conv(torch.randn(6, 2), PATH3, batch=torch.tensor([1, 1, 1, 0, 0, 0]))


# ---------------------------------------------------------------- properties shared by the three
def layers():
    return {"gcn": GCNConv(4, 3).double(), "cheb": ChebConv(4, 3, K=3, lambda_max=2.0).double(),
            "cheb_wide": ChebConv(4, 6, K=2, normalization="rw", lambda_max=2.0).double()}


@given(g=small_graphs(), seed=st.integers(0, 2**16))
def test_gcn_and_cheb_are_permutation_equivariant(g, seed):
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    for layer in layers().values():
        torch.testing.assert_close(layer(g.x[perm], relabel(g.edge_index, perm)), layer(g.x, g.edge_index)[perm])


@given(gs=st.lists(small_graphs(), min_size=1, max_size=4))
def test_gcn_and_cheb_batch_equals_graph_by_graph(gs):
    b = Batch.from_graphs(gs)
    for layer in layers().values():
        torch.testing.assert_close(layer(b.x, b.edge_index), torch.cat([layer(g.x, g.edge_index) for g in gs]))


@pytest.mark.parametrize("name", ["gcn", "cheb", "cheb_wide", "spectral"])
def test_an_in_place_change_of_edge_index_gives_the_new_graphs_output(name):
    # as_adj keeps the structure (and the normalization / Laplacian / eigenvectors cached on it) per
    # edge_index tensor; an in-place edit must rebuild it, as a fresh tensor with the same edges does.
    torch.manual_seed(0)
    layer = layers()[name] if name != "spectral" else SpectralConv(4, 3, num_nodes=5, k=3).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    layer(x, edge_index)
    edge_index[:, 2:4] = torch.tensor([[1, 3], [3, 1]])             # 1 - 3 instead of 1 - 2 (undirected)
    torch.testing.assert_close(layer(x, edge_index), layer(x, edge_index.clone()))


@pytest.mark.parametrize("name", ["gcn", "cheb", "cheb_wide", "spectral"])
def test_gradients_reach_every_parameter(name):
    g = Graph(x=torch.randn(5, 4, dtype=torch.float64), edge_index=weighted_undirected(5, 0)[0])
    layer = layers()[name] if name != "spectral" else SpectralConv(4, 3, num_nodes=5, k=3).double()
    assert_gradients_reach_every_parameter(layer, layer(g.x, g.adj()).pow(2).sum())


@pytest.mark.parametrize("name", ["gcn", "cheb", "cheb_wide"])
def test_self_loops_isolated_nodes_and_zero_edges_give_finite_output(name):
    layer = layers()[name]
    x = torch.randn(4, 4, dtype=torch.float64)
    for ei in (torch.tensor([[0, 0, 1], [0, 1, 0]]), torch.empty(2, 0, dtype=torch.long)):  # node 2, 3 isolated
        out = layer(x, ei)
        assert out.shape == (4, layer.out_channels) and bool(torch.isfinite(out).all())


def test_extra_repr_shows_the_arguments():
    assert "K=3" in repr(ChebConv(2, 2, K=3))
    assert "num_nodes=5, k=2" in repr(SpectralConv(2, 2, num_nodes=5, k=2))
    assert "cached=True" in repr(GCNConv(2, 2, cached=True))


# ------------------------------------------------------------------ sizes said before allocating (issue 18)
def test_spectral_conv_on_20000_nodes_gives_the_dense_size_it_would_need():
    with pytest.raises(ValueError, match=r"SpectralConv\(num_nodes=20,000\) needs the dense 20,000 x 20,000 Laplacian "
                                         r"and its eigenvectors in float64, 6.4 GB per graph"):
        SpectralConv(2, 2, num_nodes=20_000, k=4)


def test_spectral_conv_refuses_sparse_x_with_its_dense_size():
    conv = SpectralConv(2, 2, num_nodes=3)
    x = torch.randn(3, 2).to_sparse()
    with pytest.raises(ValueError, match=r"SpectralConv needs dense x \(got layout torch.sparse_coo\).*x.to_dense\(\) "
                                         r"would take 24 B"):
        conv(x, torch.tensor([[0, 1], [1, 0]]))


def test_gcnconv_refuses_bfloat16_x_naming_the_dtypes():
    with pytest.raises(ValueError, match=r"GCNConv computes in float32 or float64 \(got x of dtype torch.bfloat16\)"):
        GCNConv(2, 2)(torch.randn(3, 2, dtype=torch.bfloat16), torch.tensor([[0, 1], [1, 2]]))
