"""The classic fourth-order Runge-Kutta method (weights 1/6, 1/3, 1/3, 1/6), written out so that it is
cheap and so that the same scheme can generate data, with its step matrix and growth factor."""
from __future__ import annotations

import numpy as np
import torch

from .base import Field, Solver


def rk4_step(f: Field, y: torch.Tensor, h: float | torch.Tensor) -> torch.Tensor:
    """One classic RK4 step of size ``h`` for the autonomous field ``f``."""
    k1 = f(y)
    k2 = f(torch.add(y, k1, alpha=0.5 * h))
    k3 = f(torch.add(y, k2, alpha=0.5 * h))
    k4 = f(torch.add(y, k3, alpha=h))
    return torch.add(y, torch.add(k1, k2 + k3, alpha=2.0) + k4, alpha=h / 6.0)


class ClassicRK4(Solver):
    """Classic RK4; each interval ``[t_k, t_{k+1}]`` is crossed in ``substeps`` equal steps."""

    name = "rk4"

    def __call__(self, f: Field, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        states = [y0]
        y = y0
        steps = (t[1:] - t[:-1]).tolist()
        for dt in steps:
            h = dt / self.substeps
            for _ in range(self.substeps):
                y = rk4_step(f, y, h)
            states.append(y)
        return torch.stack(states, dim=-2)


def rk4_step_matrix_torch(M: torch.Tensor, h: float) -> torch.Tensor:
    """Batched torch version of :func:`rk4_step_matrix`: R(hM) for ``M`` of shape ``(..., n, n)``."""
    Z = M * h
    Z2 = Z @ Z
    eye = torch.eye(M.shape[-1], dtype=M.dtype, device=M.device)
    return eye + Z + Z2 / 2 + Z2 @ Z / 6 + Z2 @ Z2 / 24


def rk4_amplification(z: complex | np.ndarray) -> complex | np.ndarray:
    """Classic RK4's growth factor R(z) = 1 + z + z^2/2 + z^3/6 + z^4/24 for y' = λy, z = λh."""
    return 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24


def rk4_step_matrix(A: np.ndarray, h: float) -> np.ndarray:
    """The matrix R(hA) by which one classic RK4 step of size h multiplies y for y' = A y."""
    Z = np.asarray(A, dtype=np.float64) * h
    eye = np.eye(Z.shape[0])
    Z2 = Z @ Z
    return eye + Z + Z2 / 2 + Z2 @ Z / 6 + Z2 @ Z2 / 24
