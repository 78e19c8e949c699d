"""ODE solvers for the Neural ODE models.

``rk4`` is the classic fourth-order Runge-Kutta method (weights 1/6, 1/3, 1/3, 1/6), written out so
that it is cheap and so that the same scheme can generate data. ``odeint:METHOD`` hands the problem to
``torchdiffeq.odeint`` (note: torchdiffeq's own ``rk4`` is the 3/8 rule, not the classic method).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
import torchdiffeq

from .errors import ParameterError

Field = Callable[[torch.Tensor], torch.Tensor]

#: torchdiffeq methods reachable as ``odeint:NAME``.
ODEINT_METHODS = ("dopri5", "dopri8", "bosh3", "adaptive_heun", "euler", "midpoint", "rk4", "explicit_adams")


def check_solver(solver: str) -> str:
    """Return ``solver`` if it names a known method, else raise :class:`ParameterError`."""
    if solver == "rk4":
        return solver
    if solver.startswith("odeint:") and solver.split(":", 1)[1] in ODEINT_METHODS:
        return solver
    choices = ", ".join(["rk4"] + [f"odeint:{m}" for m in ODEINT_METHODS])
    raise ParameterError("solver", f"unknown solver {solver!r} (choices: {choices})")


def rk4_step(f: Field, y: torch.Tensor, h: float | torch.Tensor) -> torch.Tensor:
    """One classic RK4 step of size ``h`` for the autonomous field ``f``."""
    k1 = f(y)
    k2 = f(torch.add(y, k1, alpha=0.5 * h))
    k3 = f(torch.add(y, k2, alpha=0.5 * h))
    k4 = f(torch.add(y, k3, alpha=h))
    return torch.add(y, torch.add(k1, k2 + k3, alpha=2.0) + k4, alpha=h / 6.0)


def solve(
    f: Field,
    y0: torch.Tensor,
    t: torch.Tensor,
    solver: str = "rk4",
    substeps: int = 1,
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> torch.Tensor:
    """States at the times ``t`` from ``y0`` at ``t[0]``; shape ``y0.shape[:-1] + (len(t), n)``.

    With ``rk4`` each interval ``[t_k, t_{k+1}]`` is crossed in ``substeps`` equal steps; ``rtol``
    and ``atol`` only matter for adaptive ``odeint`` methods.
    """
    check_solver(solver)
    if solver == "rk4":
        if substeps < 1:
            raise ParameterError("substeps", f"must be a positive integer, got {substeps}")
        states = [y0]
        y = y0
        steps = (t[1:] - t[:-1]).tolist()
        for dt in steps:
            h = dt / substeps
            for _ in range(substeps):
                y = rk4_step(f, y, h)
            states.append(y)
        return torch.stack(states, dim=-2)
    method = solver.split(":", 1)[1]
    out = torchdiffeq.odeint(lambda _t, y: f(y), y0, t, method=method, rtol=rtol, atol=atol)
    return out.movedim(0, -2)


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
