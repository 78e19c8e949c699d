"""What every ODE solver of the package offers: states at given times from an initial state."""
from __future__ import annotations

from typing import Callable

import torch

Field = Callable[[torch.Tensor], torch.Tensor]


class Solver:
    """Integrates an autonomous field ``y' = f(y)``; built once per run from a validated name.

    ``substeps`` is the number of steps a fixed-grid method takes per output interval; ``rtol`` and
    ``atol`` are the tolerances of an adaptive method.
    """

    name: str = ""

    def __init__(self, substeps: int = 1, rtol: float = 1e-7, atol: float = 1e-9) -> None:
        self.substeps, self.rtol, self.atol = substeps, rtol, atol

    def __call__(self, f: Field, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """States at the times ``t`` from ``y0`` at ``t[0]``; shape ``y0.shape[:-1] + (len(t), n)``."""
        raise NotImplementedError

    def intervals(self) -> int:
        """Output intervals to ask for so that one gap is crossed in ``substeps`` steps (1 when the
        solver subdivides a gap itself or chooses its own steps)."""
        return 1

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, substeps={self.substeps})"
