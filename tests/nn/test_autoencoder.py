"""GAE / VGAE pieces (nn/autoencoder.py): decoder, reconstruction losses, KL."""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given
from hypothesis import strategies as st

from gnnkit.nn.autoencoder import (GAE, VGAE, InnerProductDecoder, all_pairs_softplus, dense_recon_loss,
                                   gaussian_kl, inner_product_recon_loss, sampled_recon_loss)


class Fixed(torch.nn.Module):
    """An encoder that returns given tensors (to test the wrappers alone)."""

    def __init__(self, *out):
        super().__init__()
        self.out = out

    def forward(self, *args):
        return self.out[0] if len(self.out) == 1 else self.out


def test_decoder_hand_computed():
    # z0 = (1, 0), z1 = (1, 1), z2 = (0, -2): z0.z1 = 1, z1.z2 = -2, z0.z0 = 1
    z = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, -2.0]])
    out = InnerProductDecoder()(z, torch.tensor([[0, 1, 0], [1, 2, 0]]), sigmoid=False)
    torch.testing.assert_close(out, torch.tensor([1.0, -2.0, 1.0]))


def test_decoder_equals_dense_z_zt_on_a_small_graph():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    dec = InnerProductDecoder()
    dense = torch.sigmoid(z @ z.t())                                       # [6, 6]
    torch.testing.assert_close(dec.forward_all(z), dense)
    src, dst = torch.meshgrid(torch.arange(6), torch.arange(6), indexing="ij")
    pairs = torch.stack([src.reshape(-1), dst.reshape(-1)])
    torch.testing.assert_close(dec(z, pairs), dense.reshape(-1))


def test_dense_recon_loss_hand_computed():
    # N = 2, target A + I = [[1, 1], [1, 0]]: 3 positives of 4 -> pos_weight 1/3, norm 4 / (2 * 1) = 2;
    # logits 0 everywhere -> every entry's BCE is log 2 (positives weighted 1/3): mean = (3 * log2 / 3 + log2) / 4
    logits = torch.zeros(2, 2, dtype=torch.float64)
    loss = dense_recon_loss(logits, torch.tensor([[0, 0, 1], [0, 1, 0]]))
    torch.testing.assert_close(loss, torch.tensor(2 * (math.log(2) + math.log(2)) / 4, dtype=torch.float64))


@given(n=st.integers(2, 9), d=st.integers(1, 4), m=st.integers(1, 20), seed=st.integers(0, 10**6),
       block=st.integers(1, 5))
def test_blockwise_inner_product_loss_equals_dense_loss_with_gradients(n, d, m, seed, block):
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, d, generator=gen, dtype=torch.float64)
    pos = torch.randint(0, n, (2, m), generator=gen)                      # duplicates count once
    assume(torch.unique(pos[0] * n + pos[1]).numel() < n * n)
    a, b = z.clone().requires_grad_(), z.clone().requires_grad_()
    dense = dense_recon_loss(a @ a.t(), pos)
    dense.backward()
    fast = inner_product_recon_loss(b, pos)
    fast.backward()
    torch.testing.assert_close(fast, dense)
    torch.testing.assert_close(b.grad, a.grad)
    c = z.clone().requires_grad_()
    all_pairs_softplus(c, block=block).backward()
    torch.testing.assert_close(c.grad, 2 * torch.sigmoid(z @ z.t()) @ z)


def test_sampled_recon_loss_is_mean_bce_of_each_side():
    pos, neg = torch.tensor([0.0, 2.0]), torch.tensor([-1.0])
    expected = -(F.logsigmoid(pos)).mean() - F.logsigmoid(-neg).mean()
    torch.testing.assert_close(sampled_recon_loss(pos, neg), expected)
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    model = GAE(Fixed(z))
    loss = model.recon_loss(model.encode(), torch.tensor([[0], [2]]), torch.tensor([[0], [1]]))
    torch.testing.assert_close(loss, -F.logsigmoid(torch.tensor(1.0)) - F.logsigmoid(torch.tensor(0.0)))


def test_gae_dense_option_matches_plain_dense_loss():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    pos = torch.tensor([[0, 1, 2, 0], [1, 0, 3, 0]])
    model = GAE(Fixed(z))
    torch.testing.assert_close(model.recon_loss(z, pos), dense_recon_loss(z @ z.t(), pos))


def test_kl_equals_closed_form():
    gen = torch.Generator().manual_seed(0)
    mu = torch.randn(7, 3, generator=gen, dtype=torch.float64)
    logstd = 0.5 * torch.randn(7, 3, generator=gen, dtype=torch.float64)
    q = torch.distributions.Normal(mu, logstd.exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    closed = torch.distributions.kl_divergence(q, p).sum(-1).mean()     # per node, summed over D, mean
    torch.testing.assert_close(gaussian_kl(mu, logstd), closed)
    model = VGAE(Fixed(mu, logstd))
    model.encode()
    torch.testing.assert_close(model.kl_loss(), closed)
    # hand value: mu = 1, sigma = 1 in one dimension: KL = 0.5 * mu^2 = 0.5
    torch.testing.assert_close(gaussian_kl(torch.ones(1, 1), torch.zeros(1, 1)), torch.tensor(0.5))


def test_vgae_samples_in_training_and_returns_mu_in_eval():
    mu, logstd = torch.zeros(4, 2), torch.full((4, 2), -1.0)
    model = VGAE(Fixed(mu, logstd))
    torch.manual_seed(0)
    z = model.encode()
    torch.manual_seed(0)
    torch.testing.assert_close(z, mu + torch.randn_like(mu) * math.exp(-1.0))
    model.eval()
    torch.testing.assert_close(model.encode(), mu)


def test_errors_say_what_was_wrong():
    with pytest.raises(TypeError, match=r"\(mu, logstd\)"):
        VGAE(Fixed(torch.zeros(2, 2))).encode()
    with pytest.raises(ValueError, match="call encode"):
        VGAE(Fixed(torch.zeros(2, 2), torch.zeros(2, 2))).kl_loss()
    with pytest.raises(ValueError, match=r"shape \[2, P\]"):
        GAE(Fixed(torch.zeros(2, 2))).recon_loss(torch.zeros(2, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="needs non-edges"):
        dense_recon_loss(torch.zeros(1, 1), torch.zeros(2, 1, dtype=torch.long))
    with pytest.raises(ValueError, match="no positive entry"):
        inner_product_recon_loss(torch.zeros(2, 2), torch.empty(2, 0, dtype=torch.long))
