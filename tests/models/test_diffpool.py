import pytest
import torch
from hypothesis import given, settings, strategies as st

from gnnkit import Batch, Graph
from gnnkit.models import DiffPoolNet, SAGEMeanPool, build_model
from tests.strategies import small_graphs


def _graphs(sizes, f=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for n in sizes:
        a = (torch.rand(n, n, generator=gen) < 0.4).triu(1)
        a = a | a.t()
        out.append(Graph(x=torch.randn(n, f, generator=gen), edge_index=a.nonzero().t(), y=torch.tensor(n % 2),
                         num_nodes=n))
    return out


@pytest.mark.parametrize("args", [{}, {"link_loss": None}, {"link_loss": "frobenius", "num_pools": 2},
                                  {"assignment": "metis"}, {"assignment": "metis", "num_pools": 2}])
def test_diffpool_net_shapes_and_gradients(args):
    torch.manual_seed(0)
    b = Batch.from_graphs(_graphs([5, 9, 3, 12]))
    model = DiffPoolNet(3, 2, max_nodes=16, hidden_channels=8, embed_channels=8, **args)
    out = model(b)
    logits, aux = out if isinstance(out, tuple) else (out, torch.zeros(()))
    assert logits.shape == (4, 2) and aux.dim() == 0
    (logits.sum() + aux).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert model.clusters == ([4, 1] if args.get("num_pools") == 2 else [4])


@pytest.mark.parametrize("first_level", ["dense", "sparse"])
def test_bce_link_loss_is_taken_on_the_input_level_only_and_frobenius_at_every_level(first_level):
    # the pooled A' = S^T A S has weights above 1, where BCE's -(1 - A) log(1 - P) is negative and
    # unbounded in A: the released code takes its BCE once, on the input's 0/1 adjacency
    from gnnkit.nn.diffpool import entropy_loss, link_prediction_loss
    gs = [Graph(x=g.x.double(), edge_index=g.edge_index, y=g.y, num_nodes=g.num_nodes)
          for g in _graphs([5, 9, 3, 12, 14])]
    b = Batch.from_graphs(gs)
    for kind in ("bce", "frobenius"):
        torch.manual_seed(1)
        model = DiffPoolNet(3, 2, max_nodes=32, hidden_channels=8, embed_channels=8, num_pools=2,
                            link_loss=kind, first_level=first_level).double().eval()
        _, adj0, mask = model.dense(b)
        _, (s0, s1), (adj1, _), aux = model.levels(b)
        assert model.clusters == [8, 2] and adj1.max() > 1                   # a weighted pooled graph
        expected = link_prediction_loss(adj0, s0, mask, kind) + entropy_loss(s0, mask) + entropy_loss(s1)
        if kind == "frobenius":
            expected = expected + link_prediction_loss(adj1, s1, None, kind)
        assert torch.allclose(aux, expected), (kind, aux.item(), expected.item())
    # on weights above 1 the BCE term rewards P = 1 without bound in A: two nodes joined by weight 3,
    # pooled into one cluster, give (2 (3 - 1) log(eps) - 2 log(eps)) / 4 = log(eps) / 2 < 0
    weighted = link_prediction_loss(torch.tensor([[[0.0, 3.0], [3.0, 0.0]]]), torch.ones(1, 2, 1), None, "bce")
    assert torch.isclose(weighted, torch.log(torch.tensor(1e-7)) / 2, rtol=1e-3)


def test_det_and_nolp_carry_no_link_loss_and_det_no_entropy():
    assert DiffPoolNet(3, 2, 16, assignment="metis").link_loss is None
    assert not DiffPoolNet(3, 2, 16, assignment="metis").entropy
    b = Batch.from_graphs(_graphs([4, 6]))
    assert isinstance(DiffPoolNet(3, 2, 8, assignment="metis")(b), torch.Tensor)   # logits only


def test_the_padded_batch_gives_each_graph_its_own_answer():
    torch.manual_seed(0)
    gs = _graphs([4, 11, 7])
    model = DiffPoolNet(3, 2, 12, hidden_channels=8, embed_channels=8).double().eval()
    gs = [g.replace(x=g.x.double()) for g in gs]
    together, _ = model(Batch.from_graphs(gs))
    alone = torch.cat([model(Batch.from_graphs([g]))[0] for g in gs])
    torch.testing.assert_close(together, alone)


@settings(max_examples=15)
@given(g=small_graphs(min_nodes=2, max_nodes=9, undirected=True, num_features=3, dtype=torch.float32),
       seed=st.integers(0, 2**16))
def test_diffpool_net_is_permutation_invariant(g, seed):
    torch.manual_seed(0)
    model = DiffPoolNet(3, 2, 10, hidden_channels=8, embed_channels=8, num_pools=2, ratio=0.5).double().eval()
    perm = torch.randperm(g.num_nodes, generator=torch.Generator().manual_seed(seed))
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(perm.numel())
    g = Graph(x=g.x.double(), edge_index=g.edge_index, num_nodes=g.num_nodes)
    gp = Graph(x=g.x[perm], edge_index=inv[g.edge_index], num_nodes=g.num_nodes)
    a, la = model(Batch.from_graphs([g]))
    b, lb = model(Batch.from_graphs([gp]))
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(la, lb)


def _with_duplicate_edge_and_loop(g: Graph) -> Graph:
    extra = torch.tensor([[0, 0], [1, 0]])                 # 0 -> 1 once more (an A entry of 2), a self loop
    return g.replace(edge_index=torch.cat([g.edge_index, extra], 1))


@pytest.mark.parametrize("args", [{}, {"link_loss": "frobenius"}, {"link_loss": None, "entropy": False},
                                  {"num_pools": 2}, {"assignment": "metis"}])
def test_the_sparse_first_level_equals_the_padded_one_with_gradients(args):
    # the fast path (unpadded nodes, sparse adjacency) against its reference (the padded dense form):
    # the same parameters give the same logits, auxiliary loss, assignments and gradients
    torch.manual_seed(0)
    gs = _graphs([5, 13, 3, 9], seed=1)
    gs[1] = _with_duplicate_edge_and_loop(gs[1])
    gs = [g.replace(x=g.x.double()) for g in gs]
    b = Batch.from_graphs(gs)
    dense = DiffPoolNet(3, 2, max_nodes=16, hidden_channels=8, embed_channels=8, **args).double()
    sparse = DiffPoolNet(3, 2, max_nodes=16, hidden_channels=8, embed_channels=8, first_level="sparse", **args).double()
    sparse.load_state_dict(dense.state_dict())
    results = []
    for model in (dense, sparse):
        out = model(b)
        logits, aux = out if isinstance(out, tuple) else (out, torch.zeros((), dtype=torch.float64))
        (logits.square().sum() + aux).backward()
        readouts, assigns, adjs, _ = model.levels(b)
        results.append((logits, aux, readouts, assigns, adjs, {k: p.grad for k, p in model.named_parameters()}))
    (l0, a0, r0, s0, g0, p0), (l1, a1, r1, s1, g1, p1) = results
    torch.testing.assert_close(l1, l0)
    torch.testing.assert_close(a1, a0)
    for got, expected in zip(r1 + s1 + g1, r0 + s0 + g0):
        torch.testing.assert_close(got, expected)
    assert p1.keys() == p0.keys()
    for name in p0:
        if p0[name] is None:
            assert p1[name] is None, name
        else:
            torch.testing.assert_close(p1[name], p0[name], msg=name)


def test_diff_pool_flat_equals_diff_pool_on_the_padded_form():
    from gnnkit import ops
    from gnnkit.nn.diffpool import diff_pool, diff_pool_flat

    gs = _graphs([4, 7, 2], seed=3)
    gs[0] = _with_duplicate_edge_and_loop(gs[0])
    b = Batch.from_graphs(gs)
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(b.num_nodes, 5, generator=gen, dtype=torch.float64)
    s = torch.softmax(torch.randn(b.num_nodes, 3, generator=gen, dtype=torch.float64), -1)
    zd, mask = ops.to_dense_batch(z, b.batch)
    sd, _ = ops.to_dense_batch(s, b.batch)
    adj = ops.to_dense_adj(b.edge_index, b.batch, dtype=torch.float64)
    for kind in ("bce", "frobenius", None):
        flat = diff_pool_flat(z, ops.as_adj(b.edge_index, b.num_nodes), s, [4, 7, 2], kind, True)
        for got, expected in zip(flat, diff_pool(zd, adj, sd, mask, kind, True)):
            torch.testing.assert_close(got, expected)
    with pytest.raises(ValueError, match="counts must add up to the batch's 13 nodes"):
        diff_pool_flat(z, ops.as_adj(b.edge_index, b.num_nodes), s, [4, 7], "bce")


def test_sage_meanpool_baseline_and_registry():
    b = Batch.from_graphs(_graphs([5, 8]))
    assert SAGEMeanPool(3, 4, hidden_channels=8)(b).shape == (2, 4)
    assert isinstance(build_model("diffpool", in_channels=3, out_channels=2, max_nodes=8), DiffPoolNet)


def test_diffpool_net_errors():
    with pytest.raises(ValueError, match="assignment must be one of"):
        DiffPoolNet(3, 2, 10, assignment="graclus")
    with pytest.raises(ValueError, match="leaves no cluster at level 2"):
        DiffPoolNet(3, 2, 8, num_pools=2)
    with pytest.raises(ValueError, match="use SAGEMeanPool"):
        DiffPoolNet(3, 2, 8, num_pools=0)
    with pytest.raises(ValueError, match=r"first_level must be one of \('dense', 'sparse'\)"):
        DiffPoolNet(3, 2, 8, first_level="flat")
