"""Any ``torchdiffeq.odeint`` method as a solver (``odeint:dopri5`` and so on).

torchdiffeq's own ``rk4`` is the 3/8 rule, not the classic method of :mod:`dynform.solvers.rk4`.
"""
from __future__ import annotations

import torch
import torchdiffeq

from .base import Field, Solver

#: torchdiffeq methods reachable as ``odeint:NAME``.
METHODS = ("dopri5", "dopri8", "bosh3", "adaptive_heun", "euler", "midpoint", "rk4", "explicit_adams")
#: The fixed-grid ones among them: they step once per interval of the output grid.
FIXED_GRID = ("euler", "midpoint", "rk4")


class Odeint(Solver):
    """``torchdiffeq.odeint(..., method=method, rtol=rtol, atol=atol)``; the tolerances only matter
    for the adaptive methods."""

    def __init__(self, method: str, substeps: int = 1, rtol: float = 1e-7, atol: float = 1e-9) -> None:
        super().__init__(substeps, rtol, atol)
        self.method = method
        self.name = f"odeint:{method}"

    def __call__(self, f: Field, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = torchdiffeq.odeint(lambda _t, y: f(y), y0, t, method=self.method, rtol=self.rtol, atol=self.atol)
        return out.movedim(0, -2)

    def intervals(self) -> int:
        return self.substeps if self.method in FIXED_GRID else 1
