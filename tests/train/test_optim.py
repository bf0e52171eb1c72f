import pytest
import torch

from gnnkit.models import GCN
from gnnkit.train import l2_penalty, make_optimizer, param_groups


def test_gcn_decays_first_layer_only():
    model = GCN(6, 4, 3)
    groups = param_groups(model, 5e-4, decay=("convs.0",))
    assert [g["weight_decay"] for g in groups] == [5e-4, 0.0]
    assert groups[0]["params"] == list(model.convs[0].parameters())
    assert groups[1]["params"] == list(model.convs[1].parameters())


def test_weight_decay_moves_only_decayed_parameters():
    # With zero gradients the L2 term (grad += wd * p) is all there is: plain SGD
    # gives p <- p (1 - lr * wd) = 0.95 p on the decayed weights, the others stay.
    torch.manual_seed(0)
    model = GCN(6, 4, 3)
    before = [p.detach().clone() for p in model.parameters()]
    opt = make_optimizer(model, "sgd", lr=0.1, weight_decay=0.5, decay=("convs.0",))
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    opt.step()
    first, second = model.convs[0].weight, model.convs[1].weight
    torch.testing.assert_close(first.detach(), 0.95 * before[0])
    assert torch.equal(second, before[1])


def test_decay_none_decays_everything():
    model = GCN(6, 4, 3, bias=True)
    (group,) = param_groups(model, 1e-3)
    assert len(group["params"]) == 4 and group["weight_decay"] == 1e-3


def test_unknown_decay_prefix_is_an_error():
    with pytest.raises(ValueError, match=r"decay prefixes \['conv1'\] match no parameter"):
        param_groups(GCN(6, 4, 3), 5e-4, decay=("conv1",))
    with pytest.raises(ValueError, match="optimizer must be one of"):
        make_optimizer(GCN(6, 4, 3), "adagrad")


def test_l2_penalty_is_half_decay_times_squared_norm_of_decayed_parameters():
    # tf.nn.l2_loss(w) = sum(w ** 2) / 2. First layer all 0.5 ([6, 4] -> 24 entries):
    # 0.1 * 24 * 0.25 / 2 = 0.3; the second layer (all 3.0) is not decayed.
    model = GCN(6, 4, 3)
    with torch.no_grad():
        model.convs[0].weight.fill_(0.5)
        model.convs[1].weight.fill_(3.0)
    assert l2_penalty(model, 0.1, decay=("convs.0",)) == pytest.approx(0.3)
    assert l2_penalty(model, 0.1) == pytest.approx(0.3 + 0.1 * 12 * 9.0 / 2)
    assert l2_penalty(model, 0.0, decay=("convs.0",)) == 0.0


@pytest.mark.parametrize("impl", ["fused", "foreach"])
@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
def test_fast_optimizers_take_the_same_steps_as_the_plain_loop(name, impl):
    # impl="loop" (one parameter at a time, in Python) is the reference; "fused" (the default)
    # and "foreach" must move every parameter the same way, with per-group weight decay.
    start = []

    def run(impl: str) -> list[torch.Tensor]:
        torch.manual_seed(0)
        model = GCN(6, 4, 3, bias=True).eval()          # no dropout: the same loss both times
        start.append([p.detach().clone() for p in model.parameters()])
        opt = make_optimizer(model, name, lr=0.05, weight_decay=5e-4, decay=("convs.0",), impl=impl)
        x = torch.randn(5, 6)
        edge_index = torch.tensor([[0, 1, 2, 3, 4, 0], [1, 2, 3, 4, 0, 0]])
        for _ in range(5):
            opt.zero_grad()
            model(x, edge_index).square().sum().backward()
            opt.step()
        return [p.detach() for p in model.parameters()]

    plain, fast = run("loop"), run(impl)
    torch.testing.assert_close(start[0], start[1])
    for a, b, s in zip(fast, plain, start[0]):
        assert not torch.equal(b, s)                                   # every parameter moved
        torch.testing.assert_close(a, b)


def test_make_optimizer_defaults_to_fused_and_names_its_choices():
    opt = make_optimizer(GCN(6, 4, 3))
    assert opt.defaults["fused"] is True
    assert make_optimizer(GCN(6, 4, 3), impl="foreach").defaults["foreach"] is True
    assert make_optimizer(GCN(6, 4, 3), impl="loop").defaults["foreach"] is False
    with pytest.raises(ValueError, match=r"impl must be one of \['foreach', 'fused', 'loop'\] \(got 'fast'\)"):
        make_optimizer(GCN(6, 4, 3), impl="fast")
