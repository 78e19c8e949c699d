"""The irregular models' losses: masked squared error, the Gaussian log-likelihood and the KL term."""
from __future__ import annotations

import math

import torch


def masked_mse(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``(pred - y)^2`` per member over the points where ``mask`` (K, B, T) holds and over the
    components: shape (K,)."""
    m = mask.unsqueeze(-1).to(pred.dtype)
    return ((pred - y) ** 2 * m).sum((1, 2, 3)) / (m.sum((1, 2, 3)) * y.shape[-1])


def kl_standard_normal(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The note's ``KL[N(μ, σ²) || N(0, I)] = ½ Σ_i (σ_i² + μ_i² - log σ_i² - 1)``, summed over the last axis."""
    var = sigma**2
    return 0.5 * (var + mu**2 - torch.log(var) - 1.0).sum(-1)


def gaussian_log_likelihood(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, std: float) -> torch.Tensor:
    """``Σ log N(y | pred, std²)`` over the masked points (last-but-one axis) and components, per series."""
    logp = -0.5 * ((y - pred) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)
    return (logp * mask.unsqueeze(-1).to(pred.dtype)).sum((-2, -1))
