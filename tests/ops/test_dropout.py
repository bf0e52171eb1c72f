"""ops.dropout against its reference (torch's F.dropout): the same rule and distribution, the
gradient of the mask it drew."""
import math

import pytest
import torch

from gnnkit import ops
from gnnkit.ops.dropout import dropout_reference


def test_dropout_is_the_identity_when_not_training_or_p_is_zero():
    x = torch.randn(5, 3)
    assert ops.dropout(x, 0.5, training=False) is x
    assert ops.dropout(x, 0.0) is x


@pytest.mark.parametrize("p", [0.2, 0.5, 0.6])
def test_dropout_keeps_or_scales_each_entry_and_its_gradient_is_the_mask(p):
    torch.manual_seed(0)
    x = (torch.rand(300, 8, dtype=torch.float64) + 0.5).requires_grad_()   # no zeros: the mask is out != 0
    out = ops.dropout(x, p)
    keep = out != 0
    torch.testing.assert_close(out, torch.where(keep, x / (1 - p), torch.zeros_like(x)))
    upstream = torch.randn_like(x)
    (grad,) = torch.autograd.grad(out, x, upstream)
    torch.testing.assert_close(grad, upstream * keep / (1 - p))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.6])
def test_dropout_drops_with_probability_p_like_its_reference(p):
    torch.manual_seed(1)
    n = 200_000
    sigma = math.sqrt(p * (1 - p) / n)
    x = torch.ones(n)
    for fn in (ops.dropout, dropout_reference):
        dropped = (fn(x, p) == 0).double().mean().item()
        assert abs(dropped - p) < 5 * sigma, (fn.__name__, dropped, p)
        torch.testing.assert_close(fn(x, p).mean(), torch.tensor(1.0), atol=0.02, rtol=0)   # unbiased


def test_dropout_refuses_a_probability_outside_0_1():
    with pytest.raises(ValueError, match=r"dropout probability must be in \[0, 1\) \(got 1.0\)"):
        ops.dropout(torch.ones(3), 1.0)
    with pytest.raises(ValueError, match=r"\(got -0.1\)"):
        ops.dropout(torch.ones(3), -0.1)


def test_dropout_draws_as_a_float_scale_would_and_keeps_a_boolean_mask_for_the_backward():
    # the same numbers, bit for bit, as x * (m / (1 - p)) with the mask from the same uniform draw
    x = torch.randn(400, 8).requires_grad_()
    upstream = torch.randn(400, 8)
    torch.manual_seed(3)
    scale = torch.rand_like(x).ge_(0.6).mul_(1.0 / 0.4)
    torch.manual_seed(3)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        out = ops.dropout(x, 0.6)
    assert torch.equal(out, x.detach() * scale)
    (grad,) = torch.autograd.grad(out, x, upstream)
    assert torch.equal(grad, upstream * scale)
    assert [t.dtype for t in saved] == [torch.bool]                   # 1 byte an entry, not a float scale
