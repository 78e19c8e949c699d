"""ODE solvers, by name: ``rk4`` (classic, :mod:`.rk4`), ``euler`` (:mod:`.euler`) and ``odeint:METHOD``
(torchdiffeq, :mod:`.odeint`).

A config validates a solver's name against :data:`SOLVERS`; :func:`resolve` then builds the solver
once per run, and models call it without checking again. A new solver is a file with a
:class:`Solver` subclass and one line here.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import torch

from .base import Field, Solver
from .euler import Euler
from .odeint import METHODS as ODEINT_METHODS, Odeint
from .rk4 import ClassicRK4, rk4_amplification, rk4_step, rk4_step_matrix, rk4_step_matrix_torch

#: name -> builder ``(substeps, rtol, atol) -> Solver``.
SOLVERS: dict[str, Callable[..., Solver]] = {
    "rk4": ClassicRK4,
    "euler": Euler,
    **{f"odeint:{m}": partial(Odeint, m) for m in ODEINT_METHODS},
}


def resolve(name: str | Solver, substeps: int = 1, rtol: float = 1e-7, atol: float = 1e-9) -> Solver:
    """The solver ``name`` (a key of :data:`SOLVERS`, already validated) with these settings; a
    :class:`Solver` is returned as it is."""
    if isinstance(name, Solver):
        return name
    return SOLVERS[name](substeps=substeps, rtol=rtol, atol=atol)


def solve(f: Field, y0: torch.Tensor, t: torch.Tensor, solver: str | Solver = "rk4", substeps: int = 1,
          rtol: float = 1e-7, atol: float = 1e-9) -> torch.Tensor:
    """States at the times ``t`` from ``y0`` at ``t[0]``, shape ``y0.shape[:-1] + (len(t), n)``: a
    one-call form of ``resolve(solver, substeps, rtol, atol)(f, y0, t)``."""
    return resolve(solver, substeps, rtol, atol)(f, y0, t)


__all__ = ["ClassicRK4", "Euler", "Field", "ODEINT_METHODS", "Odeint", "SOLVERS", "Solver", "resolve", "rk4_amplification",
           "rk4_step", "rk4_step_matrix", "rk4_step_matrix_torch", "solve"]
