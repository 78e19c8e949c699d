"""The four regular-time models of the note's section 2, batched over ensemble members, by name.

Every parameter has a leading dimension ``K`` (``members``): member ``k`` is an independent model
initialised from ``seeds[k]``, and one forward/backward pass serves all members. With ``K = 1`` this is
the ordinary single model. States have shape ``(K, B, n)``: ``B`` initial states per member.

Initialisation follows Algorithm 1 (:data:`INITS` ``normal``): Linear weights drawn from N(0, 0.01),
read as *variance* 0.01, i.e. standard deviation ``init_std = 0.1`` (the value torchdiffeq's
``ode_demo`` uses); biases and the matrices B and M start at zero, as the note's section 3.1 says.
``torch`` is PyTorch's ``nn.Linear`` default for the MLPs instead (the matrices still start at zero).

A new model is a builder (here, or in a file of its own) and one line of :data:`MODELS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .. import validation as check
from ..errors import ParameterError
from ..layers import MLP, Init, Matrix, generators, normal_init, uniform_init
from ..registry import View
from ..solvers import ClassicRK4, Solver, resolve, rk4_step_matrix_torch
from ..systems import LinearSystem


class TrajectoryModel(nn.Module):
    """Base class: predicts states on a time grid from initial states."""

    kind: str = ""

    def __init__(self, g: nn.Module, members: int) -> None:
        super().__init__()
        self.g = g
        self.members = members

    def expand(self, y0: torch.Tensor) -> torch.Tensor:
        """Bring ``y0`` of shape ``(n,)``, ``(B, n)`` or ``(K, B, n)`` to ``(K, B, n)``."""
        if y0.dim() == 1:
            y0 = y0.unsqueeze(0)
        if y0.dim() == 2:
            y0 = y0.unsqueeze(0).expand(self.members, -1, -1)
        if y0.dim() != 3 or y0.shape[0] != self.members:
            raise ParameterError("y0", f"expected shape (n,), (B, n) or ({self.members}, B, n), got {tuple(y0.shape)}")
        return y0

    def matrix(self) -> torch.Tensor:
        """The learned matrix, shape ``(K, n, n)`` (matrix models only)."""
        if not isinstance(self.g, Matrix):
            raise TypeError(f"model {self.kind!r} has no matrix")
        return self.g.M.detach()


class StepMap(TrajectoryModel):
    """Discrete map ``y_{k+1} = g(y_k)`` applied once per sample interval (models ``nn`` and ``nnm``).

    It learns one step of a uniform grid: only the number of times in ``t`` is used.
    """

    def forward(self, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        y = self.expand(y0)
        g = self.g.function()
        states = [y]
        for _ in range(len(t) - 1):
            y = g(y)
            states.append(y)
        return torch.stack(states, dim=-2)


class NeuralODE(TrajectoryModel):
    """Continuous model ``y' = g(y)`` integrated by an ODE solver (models ``node`` and ``nodem``)."""

    def __init__(self, g: nn.Module, members: int, solver: Solver) -> None:
        super().__init__(g, members)
        self.solver = solver

    def forward(self, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        y0 = self.expand(y0)
        if isinstance(self.g, Matrix) and isinstance(self.solver, ClassicRK4):
            return self._linear_rk4(y0, t)
        return self.solver(self.g.function(), y0, t)

    def _linear_rk4(self, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # For a linear field one classic RK4 step is the matrix polynomial R(hM) applied to y, so the
        # solve needs one small matrix product per interval instead of four field evaluations per step.
        substeps = self.solver.substeps
        steps = (t[1:] - t[:-1]).tolist()
        uniform = max(steps) - min(steps) <= 1e-6 * abs(max(steps))
        if uniform:
            steps = [(t[-1] - t[0]).item() / len(steps)] * len(steps)
        states = [y0]
        y = y0
        step_matrix = None
        for dt in steps:
            if step_matrix is None or not uniform:
                R = rk4_step_matrix_torch(self.g.M, dt / substeps)
                step_matrix = torch.linalg.matrix_power(R, substeps).mT
            y = torch.bmm(y, step_matrix)
            states.append(y)
        return torch.stack(states, dim=-2)


Builder = Callable[[int, int, Sequence[int], Init, Solver], TrajectoryModel]

#: The MLP initialisations, by name: ``init_std -> Init``.
INITS: dict[str, Callable[[float], Init]] = {
    "normal": normal_init,
    "torch": lambda std: uniform_init,
}


#: The run settings that only some models read.
MODEL_SETTINGS = ("hidden", "init", "init_std", "solver")
_MLP_SETTINGS = ("hidden", "init", "init_std")


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its long name, how to build it, (matrix models) what its learned matrix
    approximates, ``approximates(system, dt)``, and which of :data:`MODEL_SETTINGS` it reads."""

    title: str
    build: Builder  #: ``(dim, hidden, seeds, init, solver) -> model``
    approximates: Callable[[LinearSystem, float], np.ndarray] | None = None
    reads: tuple[str, ...] = MODEL_SETTINGS


def _mlp(dim: int, hidden: int, seeds: Sequence[int], init: Init) -> MLP:
    return MLP(dim, hidden, generators(seeds), init)


#: Short names used everywhere (CLI, chapters, tables) -> the model.
MODELS: dict[str, ModelSpec] = {
    "nn": ModelSpec("Neural Network Approximation (MLP step map)",
                    lambda dim, hidden, seeds, init, solver: StepMap(_mlp(dim, hidden, seeds, init), len(seeds)),
                    reads=_MLP_SETTINGS),
    "nnm": ModelSpec("Neural Network Matrix Approximation (step matrix B)",
                     lambda dim, hidden, seeds, init, solver: StepMap(Matrix(dim, len(seeds)), len(seeds)),
                     approximates=lambda system, dt: system.flow_map(dt), reads=()),
    "node": ModelSpec("NeuralODE Approximation (MLP field)",
                      lambda dim, hidden, seeds, init, solver: NeuralODE(_mlp(dim, hidden, seeds, init), len(seeds),
                                                                        solver)),
    "nodem": ModelSpec("NeuralODE Matrix Approximation (linear field M)",
                       lambda dim, hidden, seeds, init, solver: NeuralODE(Matrix(dim, len(seeds)), len(seeds), solver),
                       approximates=lambda system, dt: system.A.copy(), reads=("solver",)),
}
#: The long names, by short name.
TITLES = View(MODELS, lambda spec: spec.title)
#: The models with a learned matrix, and what it approximates.
MATRIX_MODELS = View(MODELS, lambda spec: spec.approximates, keep=lambda spec: spec.approximates is not None)


def build_model(kind: str, dim: int = 2, hidden: int = 50, seeds: Sequence[int] = (0,), init_std: float = 0.1,
                solver: str | Solver = "rk4", substeps: int = 1, init: str = "normal") -> TrajectoryModel:
    """Model ``kind`` (a key of :data:`MODELS`) with one member per seed in ``seeds``; ``solver`` is a
    name of :data:`dynform.solvers.SOLVERS` or a built solver; ``init`` a key of :data:`INITS`."""
    check.choice("model", kind, MODELS)
    model = MODELS[kind].build(dim, hidden, seeds, INITS[init](init_std), resolve(solver, substeps))
    model.kind = kind
    return model
