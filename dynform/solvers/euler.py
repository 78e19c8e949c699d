"""The explicit Euler method: the step latent_ode's ODE-RNN takes across gaps shorter than a
fiftieth of the window, written out so that it is cheap inside a recurrent loop."""
from __future__ import annotations

import torch

from .base import Field, Solver


class Euler(Solver):
    """``y_{k+1} = y_k + h f(y_k)``; each interval ``[t_k, t_{k+1}]`` is crossed in ``substeps`` equal steps."""

    name = "euler"

    def __call__(self, f: Field, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        states, y = [y0], y0
        for dt in (t[1:] - t[:-1]).tolist():
            h = dt / self.substeps
            for _ in range(self.substeps):
                y = torch.add(y, f(y), alpha=h)
            states.append(y)
        return torch.stack(states, dim=-2)
