"""The note's KL formula against PyTorch's closed form."""
import torch

from dynform.irregular.losses import kl_standard_normal


def test_kl_matches_closed_form_and_torch():
    torch.manual_seed(0)
    mu, sigma = torch.randn(7, 4, dtype=torch.float64), torch.rand(7, 4, dtype=torch.float64) + 0.1
    ours = kl_standard_normal(mu, sigma)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(sigma))).sum(-1)
    torch.testing.assert_close(ours, ref)
    hand = 0.5 * (sigma**2 + mu**2 - torch.log(sigma**2) - 1).sum(-1)
    torch.testing.assert_close(ours, hand)
    assert torch.all(kl_standard_normal(torch.zeros(3, 2), torch.ones(3, 2)) == 0)
