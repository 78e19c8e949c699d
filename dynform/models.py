"""The four regular-time models of the note's section 2, batched over ensemble members.

Every parameter has a leading dimension ``K`` (``members``): member ``k`` is an independent model
initialised from ``seeds[k]``, and one forward/backward pass serves all members. With ``K = 1`` this is
the ordinary single model. States have shape ``(K, B, n)``: ``B`` initial states per member.

Initialisation follows Algorithm 1: Linear weights drawn from N(0, 0.01), read as *variance* 0.01,
i.e. standard deviation ``init_std = 0.1`` (the value torchdiffeq's ``ode_demo`` uses); biases and
the matrices B and M start at zero.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from .errors import ParameterError
from .solvers import check_solver, rk4_step_matrix_torch, solve

#: Short names used everywhere (CLI, chapters, tables) and the note's long names.
MODEL_NAMES: dict[str, str] = {
    "nn": "Neural Network Approximation (MLP step map)",
    "nnm": "Neural Network Matrix Approximation (step matrix B)",
    "node": "NeuralODE Approximation (MLP field)",
    "nodem": "NeuralODE Matrix Approximation (linear field M)",
}
MATRIX_MODELS = ("nnm", "nodem")


def _normal(shape: tuple[int, ...], std: float, generators: list[torch.Generator]) -> torch.Tensor:
    """One N(0, std^2) draw of ``shape`` per member, each from that member's own generator."""
    return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) * std for g in generators])


class MLP(nn.Module):
    """``g(y) = W2 tanh(W1 y + b1) + b2`` with hidden width ``hidden``, one per member."""

    def __init__(self, dim: int, hidden: int, seeds: Sequence[int], init_std: float = 0.1) -> None:
        super().__init__()
        if hidden < 1:
            raise ParameterError("hidden", f"must be a positive integer, got {hidden}")
        if not init_std > 0:
            raise ParameterError("init_std", f"must be positive, got {init_std}")
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        K = len(seeds)
        self.W1 = nn.Parameter(_normal((hidden, dim), init_std, gens).float())
        self.b1 = nn.Parameter(torch.zeros(K, hidden))
        self.W2 = nn.Parameter(_normal((dim, hidden), init_std, gens).float())
        self.b2 = nn.Parameter(torch.zeros(K, dim))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.function()(y)

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g`` as a plain closure over the current parameters: cheaper than calling the module
        inside a solver loop, where it runs 4 times per RK4 step."""
        W1t, b1, W2t, b2 = self.W1.mT, self.b1.unsqueeze(1), self.W2.mT, self.b2.unsqueeze(1)

        def g(y: torch.Tensor) -> torch.Tensor:
            return torch.baddbmm(b2, torch.tanh(torch.baddbmm(b1, y, W1t)), W2t)

        return g


class Matrix(nn.Module):
    """``g(y) = M y`` with a learnable square matrix per member, zero at the start."""

    def __init__(self, dim: int, members: int) -> None:
        super().__init__()
        self.M = nn.Parameter(torch.zeros(members, dim, dim))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.function()(y)

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g`` as a plain closure over the current matrix."""
        Mt = self.M.mT
        return lambda y: torch.bmm(y, Mt)


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

    def __init__(self, g: nn.Module, members: int, solver: str = "rk4", substeps: int = 1) -> None:
        super().__init__(g, members)
        self.solver = check_solver(solver)
        self.substeps = substeps

    def forward(self, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        y0 = self.expand(y0)
        if isinstance(self.g, Matrix) and self.solver == "rk4":
            return self._linear_rk4(y0, t)
        return solve(self.g.function(), y0, t, solver=self.solver, substeps=self.substeps)

    def _linear_rk4(self, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        # For a linear field one classic RK4 step is the matrix polynomial R(hM) applied to y, so the
        # solve needs one small matrix product per interval instead of four field evaluations per step.
        steps = (t[1:] - t[:-1]).tolist()
        uniform = max(steps) - min(steps) <= 1e-6 * abs(max(steps))
        if uniform:
            steps = [(t[-1] - t[0]).item() / len(steps)] * len(steps)
        states = [y0]
        y = y0
        step_matrix = None
        for dt in steps:
            if step_matrix is None or not uniform:
                R = rk4_step_matrix_torch(self.g.M, dt / self.substeps)
                step_matrix = torch.linalg.matrix_power(R, self.substeps).mT
            y = torch.bmm(y, step_matrix)
            states.append(y)
        return torch.stack(states, dim=-2)


def build_model(
    kind: str,
    dim: int = 2,
    hidden: int = 50,
    seeds: Sequence[int] = (0,),
    init_std: float = 0.1,
    solver: str = "rk4",
    substeps: int = 1,
) -> TrajectoryModel:
    """Model ``kind`` (one of :data:`MODEL_NAMES`) with one member per seed in ``seeds``."""
    if kind not in MODEL_NAMES:
        raise ParameterError("model", f"unknown model {kind!r} (choices: {', '.join(MODEL_NAMES)})")
    members = len(seeds)
    g = MLP(dim, hidden, seeds, init_std) if kind in ("nn", "node") else Matrix(dim, members)
    model = StepMap(g, members) if kind in ("nn", "nnm") else NeuralODE(g, members, solver, substeps)
    model.kind = kind
    return model


def parameter_count(model: TrajectoryModel) -> int:
    """Number of trainable parameters of one member."""
    return sum(p[0].numel() for p in model.parameters())
