"""Crossing the per-series gaps of an irregular batch with an ODE solver.

Each series has its own gaps, so the interval ``[t_{i-1}, t_i]`` is mapped to ``s ∈ [0, 1]``:
``dh/ds = Δt_i f(h)`` (exact for the autonomous fields used here), and all series of a batch are
integrated together.
"""
from __future__ import annotations

from typing import Callable

import torch

from ..solvers import Solver


def gaps(t: torch.Tensor) -> torch.Tensor:
    """``Δt_i = t_i - t_{i-1}`` along the time axis: (..., T) -> (..., T - 1)."""
    return t[..., 1:] - t[..., :-1]


class IntervalSolver:
    """Integrates an autonomous field over per-series gaps ``dt`` (..., B), all series at once."""

    def __init__(self, solver: Solver) -> None:
        self.solver = solver
        self.grid = torch.linspace(0.0, 1.0, solver.intervals() + 1)

    def __call__(self, f: Callable[[torch.Tensor], torch.Tensor], h: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """State after crossing the gap ``dt[..., b]`` from ``h[..., b, :]`` under ``h' = f(h)`` (``dt`` may be negative)."""
        scale = dt.unsqueeze(-1)
        return self.solver(lambda x: scale * f(x), h, self.grid.to(h))[..., -1, :]


def integrate(f: Callable[[torch.Tensor], torch.Tensor], solver: IntervalSolver, h0: torch.Tensor,
              t: torch.Tensor, t0: torch.Tensor | None = None) -> torch.Tensor:
    """States at every time of ``t`` (K, B, T), gap by gap, from ``h0`` at ``t0`` (K, B), by default at
    ``t[..., 0]``: (K, B, T, d)."""
    if t0 is not None:
        return integrate(f, solver, h0, torch.cat([t0.unsqueeze(-1), t], -1))[..., 1:, :]
    states, h = [h0], h0
    for dt in gaps(t).unbind(-1):
        h = solver(f, h, dt)
        states.append(h)
    return torch.stack(states, dim=-2)
