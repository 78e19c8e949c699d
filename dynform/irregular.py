"""The five irregular-time models of the note's section 4, their training and a small benchmark.

Every model reads a batch of series with per-series times ``t`` (B, T), values ``y`` (B, T, n) and an
observation mask, and returns a prediction at every time point, shape (B, T, n); the first point of a
series is given, not predicted. The models, in the note's notation (``Δt_i = t_i - t_{i-1}``):

* ``rnn``: ``h_i = GRUCell(h_{i-1}, [y_{i-1}, Δt_i])``, ``ŷ_i = OutputNN(h_i)`` (section 4.1);
* ``rnn-decay``: ``h_i = GRUCell(h_{i-1} exp(-τ Δt_i), y_{i-1})`` with ``τ = softplus(ρ) >= 0`` (4.2);
* ``node``: ``h' = f_θ(h)`` from ``h(t_0) = (y_0, 0, ..., 0)``, ``ŷ(t) = `` the first n components (4.3);
* ``odernn``: ``h'_i = ODESolve(f_θ, h_{i-1}, (t_{i-1}, t_i))``, ``h_i = GRUCell(h'_i, y_{i-1})`` (4.4);
* ``latent-ode``: an ODE-RNN run backwards in time gives ``μ, σ`` of ``q(z_0)``; ``z_0 = μ + σ ε``;
  ``z(t)`` solves ``z' = f_θ(z)``; ``y_i ~ N(OutputNN(z_i), s^2)``; trained on the ELBO (4.5).

The recurrent models read ``y_{i-1}`` where it is observed and their own prediction ``ŷ_{i-1}`` where
it is not, so one loop serves interpolation, extrapolation and free-running prediction.

ODE solves go through :func:`dynform.solvers.solve`. Each series has its own gaps, so the interval
``[t_{i-1}, t_i]`` is mapped to ``s ∈ [0, 1]``: ``dh/ds = Δt_i f(h)`` (exact for the autonomous fields
used here), and all series of a batch are integrated together. The default is the classic RK4 with
``substeps`` steps per gap; any torchdiffeq method (``odeint:dopri5`` with ``rtol``, ``atol``;
``odeint:rk4``, torchdiffeq's fixed-grid 3/8 rule) is one setting away.

Every model holds ``K`` independent members (``seeds``), as the regular-time models do: parameters
carry a leading member axis and a stacked batch gives each member its own data, so the seeds and tasks
of a benchmark train in one pass.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from .errors import ParameterError, TrainingDiverged
from .irregular_data import DATASETS, TASKS, IrregularBatch, IrregularData, make_dataset
from .precision import DTYPES
from .solvers import check_solver, solve

#: Short names (CLI, chapters, tables) and long names of the five models.
IRREGULAR_MODELS: dict[str, str] = {
    "rnn": "RNN with Δt input",
    "rnn-decay": "Decay RNN",
    "node": "Neural ODE",
    "odernn": "ODE-RNN",
    "latent-ode": "Latent ODE (ODE-RNN encoder)",
}
FIXED_GRID = ("rk4", "odeint:rk4", "odeint:euler", "odeint:midpoint")


class IntervalSolver:
    """Integrates an autonomous field over per-series gaps ``dt`` (..., B), all series at once."""

    def __init__(self, solver: str = "rk4", substeps: int = 1, rtol: float = 1e-5, atol: float = 1e-6) -> None:
        self.solver = check_solver(solver)
        if not isinstance(substeps, (int, np.integer)) or substeps < 1:
            raise ParameterError("substeps", f"must be a positive integer, got {substeps!r}")
        self.substeps, self.rtol, self.atol = int(substeps), rtol, atol
        # A fixed-grid torchdiffeq method steps once per interval of the output grid.
        n = substeps if solver in FIXED_GRID and solver != "rk4" else 1
        self.grid = torch.linspace(0.0, 1.0, n + 1)

    def __call__(self, f: Callable[[torch.Tensor], torch.Tensor], h: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        """State after crossing the gap ``dt[..., b]`` from ``h[..., b, :]`` under ``h' = f(h)`` (``dt`` may be negative)."""
        scale = dt.unsqueeze(-1)
        out = solve(lambda x: scale * f(x), h, self.grid.to(h), solver=self.solver,
                    substeps=self.substeps, rtol=self.rtol, atol=self.atol)
        return out[..., -1, :]


def _uniform(shape: tuple[int, ...], bound: float, generators: Sequence[torch.Generator]) -> torch.Tensor:
    """One U(-bound, bound) draw of ``shape`` per member, each from that member's generator."""
    return torch.stack([(torch.rand(shape, generator=g) * 2 - 1) * bound for g in generators])


class Linear(nn.Module):
    """``x W^T + b`` with one weight per member: ``x`` (K, B, in) -> (K, B, out); PyTorch's default init."""

    def __init__(self, inputs: int, outputs: int, generators: Sequence[torch.Generator]) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(inputs)
        self.weight = nn.Parameter(_uniform((outputs, inputs), bound, generators))
        self.bias = nn.Parameter(_uniform((outputs,), bound, generators))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.mT)


class GRUCell(nn.Module):
    """``torch.nn.GRUCell`` (same gates, same initialisation) with one cell per member."""

    def __init__(self, inputs: int, hidden: int, generators: Sequence[torch.Generator]) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(hidden)
        self.weight_ih = nn.Parameter(_uniform((3 * hidden, inputs), bound, generators))
        self.weight_hh = nn.Parameter(_uniform((3 * hidden, hidden), bound, generators))
        self.bias_ih = nn.Parameter(_uniform((3 * hidden,), bound, generators))
        self.bias_hh = nn.Parameter(_uniform((3 * hidden,), bound, generators))

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        gi = torch.baddbmm(self.bias_ih.unsqueeze(1), x, self.weight_ih.mT)
        gh = torch.baddbmm(self.bias_hh.unsqueeze(1), h, self.weight_hh.mT)
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return n + z * (h - n)


class Field(nn.Module):
    """The ODE field ``f_θ(h) = W_2 tanh(W_1 h + b_1) + b_2``, one per member."""

    def __init__(self, dim: int, width: int, generators: Sequence[torch.Generator]) -> None:
        super().__init__()
        self.inner = Linear(dim, width, generators)
        self.outer = Linear(width, dim, generators)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.function()(h)

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``f_θ`` as a closure over the current parameters (cheap inside a solver loop)."""
        W1t, b1 = self.inner.weight.mT, self.inner.bias.unsqueeze(1)
        W2t, b2 = self.outer.weight.mT, self.outer.bias.unsqueeze(1)
        return lambda h: torch.baddbmm(b2, torch.tanh(torch.baddbmm(b1, h, W1t)), W2t)


def gaps(t: torch.Tensor) -> torch.Tensor:
    """``Δt_i = t_i - t_{i-1}`` along the time axis: (..., T) -> (..., T - 1)."""
    return t[..., 1:] - t[..., :-1]


def masked_mse(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``(pred - y)^2`` per member over the points where ``mask`` (K, B, T) holds and over the
    components: shape (K,)."""
    m = mask.unsqueeze(-1).to(pred.dtype)
    return ((pred - y) ** 2 * m).sum((1, 2, 3)) / (m.sum((1, 2, 3)) * y.shape[-1])


class IrregularModel(nn.Module):
    """Base class: ``K`` independent members, member ``k`` initialised from ``seeds[k]``.

    ``forward(batch)`` takes a stacked batch (leading axis ``K``) and predicts every point, shape
    (K, B, T, n); ``loss(batch, score)`` is the training loss per member, shape (K,).
    """

    kind: str = ""

    def __init__(self, seeds: Sequence[int]) -> None:
        super().__init__()
        self.seeds = [int(s) for s in seeds]
        self.members = len(self.seeds)

    def generators(self) -> list[torch.Generator]:
        return [torch.Generator().manual_seed(s) for s in self.seeds]

    def forward(self, batch: IrregularBatch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def loss(self, batch: IrregularBatch, score: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error over the points selected by ``score`` (K, B, T), per member."""
        err = masked_mse(self(batch), batch.y, score)
        return err, {"mse": err.detach()}


class Recurrent(IrregularModel):
    """Autoregressive recurrence ``h_i = step(h_{i-1}, x_{i-1}, Δt_i)``, ``ŷ_i = OutputNN(h_i)``, ``h_0 = 0``.

    ``x_{i-1}`` is the observation where there is one, else the model's own prediction.
    """

    def __init__(self, dim: int, hidden: int, inputs: int, seeds: Sequence[int]) -> None:
        super().__init__(seeds)
        gens = self.generators()
        self.hidden = hidden
        self.cell = GRUCell(inputs, hidden, gens)
        self.out = Linear(hidden, dim, gens)
        self._gens = gens

    def step(self, h: torch.Tensor, x: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        y, obs, dts = batch.y, batch.observed.unsqueeze(-1), gaps(batch.t)
        h = y.new_zeros(y.shape[0], y.shape[1], self.hidden)
        x, preds = y[:, :, 0], [y[:, :, 0]]
        for i in range(1, y.shape[2]):
            h = self.step(h, x, dts[:, :, i - 1])
            pred = self.out(h)
            preds.append(pred)
            x = torch.where(obs[:, :, i], y[:, :, i], pred)
        return torch.stack(preds, dim=2)


class RNN(Recurrent):
    """Section 4.1: the gap enters as an input, ``h_i = GRUCell(h_{i-1}, [y_{i-1}, Δt_i])``."""

    kind = "rnn"

    def __init__(self, dim: int, hidden: int, seeds: Sequence[int] = (0,)) -> None:
        super().__init__(dim, hidden, dim + 1, seeds)

    def step(self, h: torch.Tensor, x: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        return self.cell(torch.cat([x, dt.unsqueeze(-1)], dim=-1), h)


class DecayRNN(Recurrent):
    """Section 4.2: ``h_i = GRUCell(h_{i-1} exp(-τ Δt_i), y_{i-1})`` with ``τ = softplus(ρ) >= 0`` learned, ρ = 0 at the start."""

    kind = "rnn-decay"

    def __init__(self, dim: int, hidden: int, seeds: Sequence[int] = (0,)) -> None:
        super().__init__(dim, hidden, dim, seeds)
        self.rho = nn.Parameter(torch.zeros(self.members))

    @property
    def tau(self) -> torch.Tensor:
        """The decay rates τ = softplus(ρ), one per member."""
        return nn.functional.softplus(self.rho)

    def step(self, h: torch.Tensor, x: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        return self.cell(x, h * torch.exp(-self.tau[:, None] * dt).unsqueeze(-1))


class ODERNN(Recurrent):
    """Section 4.4: ``h'_i = ODESolve(f_θ, h_{i-1}, (t_{i-1}, t_i))``, ``h_i = GRUCell(h'_i, y_{i-1})``."""

    kind = "odernn"

    def __init__(self, dim: int, hidden: int, width: int, solver: IntervalSolver, seeds: Sequence[int] = (0,)) -> None:
        super().__init__(dim, hidden, dim, seeds)
        self.f = Field(hidden, width, self._gens)
        self.solver = solver

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        self._f = self.f.function()
        return super().forward(batch)

    def step(self, h: torch.Tensor, x: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        return self.cell(x, self.solver(self._f, h, dt))


class NeuralODE(IrregularModel):
    """Section 4.3: ``h' = f_θ(h)``, ``h(t_0) = (y_0, 0, ..., 0)`` in ``state`` dimensions; ``ŷ`` = first n.

    The zero components give the field room (a one-dimensional autonomous ODE cannot oscillate);
    the model sees only the first observation.
    """

    kind = "node"

    def __init__(self, dim: int, state: int, width: int, solver: IntervalSolver, seeds: Sequence[int] = (0,)) -> None:
        super().__init__(seeds)
        if state < dim:
            raise ParameterError("latent", f"the Neural ODE state ({state}) must have at least the data dimension {dim}")
        self.dim, self.state = dim, state
        self.f = Field(state, width, self.generators())
        self.solver = solver

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        y0 = batch.y[:, :, 0]
        h0 = torch.cat([y0, y0.new_zeros(y0.shape[:-1] + (self.state - self.dim,))], dim=-1)
        return integrate(self.f.function(), self.solver, h0, batch.t)[..., : self.dim]


def integrate(f: Callable[[torch.Tensor], torch.Tensor], solver: IntervalSolver, h0: torch.Tensor,
              t: torch.Tensor) -> torch.Tensor:
    """States at every time of ``t`` (K, B, T) from ``h0`` at ``t[..., 0]``, gap by gap: (K, B, T, d)."""
    states, h = [h0], h0
    for dt in gaps(t).unbind(-1):
        h = solver(f, h, dt)
        states.append(h)
    return torch.stack(states, dim=-2)


def kl_standard_normal(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """The note's ``KL[N(μ, σ²) || N(0, I)] = ½ Σ_i (σ_i² + μ_i² - log σ_i² - 1)``, summed over the last axis."""
    var = sigma**2
    return 0.5 * (var + mu**2 - torch.log(var) - 1.0).sum(-1)


def gaussian_log_likelihood(pred: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, std: float) -> torch.Tensor:
    """``Σ log N(y | pred, std²)`` over the masked points (last-but-one axis) and components, per series."""
    logp = -0.5 * ((y - pred) / std) ** 2 - math.log(std) - 0.5 * math.log(2 * math.pi)
    return (logp * mask.unsqueeze(-1).to(pred.dtype)).sum((-2, -1))


class LatentODE(IrregularModel):
    """Section 4.5: ODE-RNN encoder run backwards, ``q(z_0) = N(μ, σ²)``, Neural ODE decoder, Gaussian output."""

    kind = "latent-ode"

    def __init__(self, dim: int, hidden: int, latent: int, width: int, solver: IntervalSolver, obs_std: float,
                 seeds: Sequence[int] = (0,)) -> None:
        super().__init__(seeds)
        gens = self.generators()
        self.cell = GRUCell(dim, hidden, gens)
        self.f_enc = Field(hidden, width, gens)
        self.to_z = Linear(hidden, 2 * latent, gens)
        self.f_dec = Field(latent, width, gens)
        self.out = Linear(latent, dim, gens)
        self.hidden, self.latent, self.solver, self.obs_std = hidden, latent, solver, obs_std
        self._noise = gens  # member k draws its z_0 samples from its own generator

    def encode(self, batch: IrregularBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``μ, σ`` of ``q(z_0 | observed points)``: the ODE-RNN runs from ``t_N`` back to ``t_0``,
        absorbing each observed point and evolving across each gap backwards (negative ``Δt``)."""
        y, obs, dts = batch.y, batch.observed.unsqueeze(-1), gaps(batch.t)
        f = self.f_enc.function()
        h = y.new_zeros(y.shape[0], y.shape[1], self.hidden)
        for i in range(y.shape[2] - 1, -1, -1):
            h = torch.where(obs[:, :, i], self.cell(y[:, :, i], h), h)
            if i > 0:
                h = self.solver(f, h, -dts[:, :, i - 1])
        mu, s = self.to_z(h).chunk(2, dim=-1)
        return mu, nn.functional.softplus(s) + 1e-4

    def decode(self, z0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Mean of ``p(y_i | z_i)`` at every time of ``t`` (K, B, T) from ``z_0`` (K, B, L): (K, B, T, n)."""
        z = integrate(self.f_dec.function(), self.solver, z0, t)
        return self.out(z.flatten(1, 2)).unflatten(1, z.shape[1:3])

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        """The decoded mean from ``z_0 = μ`` (no sampling)."""
        mu, _ = self.encode(batch)
        return self.decode(mu, batch.t)

    def _eps(self, shape: tuple[int, ...], generators: Sequence[torch.Generator]) -> torch.Tensor:
        return torch.stack([torch.randn(shape, generator=g) for g in generators])

    def elbo(self, batch: IrregularBatch, score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-sample ELBO per series with its two terms: (elbo, log-likelihood, KL), each (K, B)."""
        mu, sigma = self.encode(batch)
        z0 = mu + sigma * self._eps(tuple(mu.shape[1:]), self._noise)
        loglik = gaussian_log_likelihood(self.decode(z0, batch.t), batch.y, score, self.obs_std)
        kl = kl_standard_normal(mu, sigma)
        return loglik - kl, loglik, kl

    def sample(self, batch: IrregularBatch, count: int, seed: int = 0) -> torch.Tensor:
        """Decoded means from ``count`` samples ``z_0 ~ q(z_0 | observed points)``: (count, K, B, T, n)."""
        gen = [torch.Generator().manual_seed(seed)]
        with torch.no_grad(), threads(1):
            mu, sigma = self.encode(batch)
            return torch.stack([self.decode(mu + sigma * self._eps(tuple(mu.shape), gen)[0], batch.t)
                                for _ in range(count)])

    def loss(self, batch: IrregularBatch, score: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``-ELBO`` averaged over series, per member."""
        elbo, loglik, kl = self.elbo(batch, score)
        return -elbo.mean(-1), {"elbo": elbo.mean(-1).detach(), "loglik": loglik.mean(-1).detach(),
                                "kl": kl.mean(-1).detach()}


def build_irregular(kind: str, dim: int, hidden: int = 16, latent: int = 8, width: int | None = None,
                    solver: str = "rk4", substeps: int = 1, obs_std: float = 0.05,
                    seeds: Sequence[int] = (0,)) -> IrregularModel:
    """Model ``kind`` (one of :data:`IRREGULAR_MODELS`) with one member per seed; ``width`` of the ODE
    fields defaults to ``2 * hidden``."""
    if kind not in IRREGULAR_MODELS:
        raise ParameterError("model", f"unknown model {kind!r} (choices: {', '.join(IRREGULAR_MODELS)})")
    width = 2 * hidden if width is None else width
    ivp = IntervalSolver(solver, substeps)
    if kind == "rnn":
        return RNN(dim, hidden, seeds)
    if kind == "rnn-decay":
        return DecayRNN(dim, hidden, seeds)
    if kind == "odernn":
        return ODERNN(dim, hidden, width, ivp, seeds)
    if kind == "node":
        return NeuralODE(dim, max(latent, dim), width, ivp, seeds)
    return LatentODE(dim, hidden, latent, width, ivp, obs_std, seeds)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads inside the block (one thread: deterministic and cheap)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


@dataclass(frozen=True)
class IrregularConfig:
    """Settings of one irregular-time run: data, task, model and training."""

    model: str = "odernn"
    dataset: str = "spiral"
    task: str = "interp"
    seed: int = 0  #: draws the data set and the initial parameters
    epochs: int = 100  #: full-batch Adam steps
    lr: float = 2e-2
    hidden: int = 16  #: GRU state size (and half the ODE fields' width)
    latent: int = 8  #: z dimension of the Latent ODE; state size of the Neural ODE
    series: int = 48
    points: int = 30
    train_frac: float = 0.75
    obs_frac: float = 0.5  #: interpolation: fraction of points (after the first) observed
    noise: float = 0.01
    solver: str = "rk4"
    substeps: int = 2  #: fixed-grid steps per gap
    obs_std: float = 0.05  #: Latent ODE observation noise s
    dtype: str = "float32"  #: float32 or float64, for parameters, data and arithmetic

    def validate(self) -> "IrregularConfig":
        """Check every field; raise :class:`ParameterError` naming the first bad one. Returns self."""
        if self.model not in IRREGULAR_MODELS:
            raise ParameterError("model", f"unknown model {self.model!r} (choices: {', '.join(IRREGULAR_MODELS)})")
        if self.dataset not in DATASETS:
            raise ParameterError("dataset", f"unknown dataset {self.dataset!r} (choices: {', '.join(DATASETS)})")
        if self.task not in TASKS:
            raise ParameterError("task", f"unknown task {self.task!r} (choices: {', '.join(TASKS)})")
        if not _is_int(self.seed):
            raise ParameterError("seed", f"must be an integer, got {self.seed!r}")
        for name in ("epochs", "hidden", "latent", "substeps"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ParameterError(name, f"must be a positive integer, got {value!r}")
        if not _is_int(self.series) or self.series < 2:
            raise ParameterError("series", f"must be an integer >= 2, got {self.series!r}")
        if not _is_int(self.points) or self.points < 4:
            raise ParameterError("points", f"must be an integer >= 4, got {self.points!r}")
        for name in ("lr", "obs_std"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ParameterError(name, f"must be a positive number, got {value!r}")
        for name in ("train_frac", "obs_frac"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0 < value < 1):
                raise ParameterError(name, f"must be a number in (0, 1), got {value!r}")
        if not (isinstance(self.noise, (int, float)) and math.isfinite(self.noise) and self.noise >= 0):
            raise ParameterError("noise", f"must be a finite number >= 0, got {self.noise!r}")
        check_solver(self.solver)
        if self.dtype not in DTYPES:
            raise ParameterError("dtype", f"unknown dtype {self.dtype!r} (choices: {', '.join(DTYPES)})")
        return self

    def with_(self, **changes: Any) -> "IrregularConfig":
        """A copy with some fields changed, validated."""
        return replace(self, **changes).validate()

    def data(self) -> IrregularData:
        """The data set these settings describe."""
        return make_dataset(self.dataset, self.task, self.series, self.points, self.train_frac,
                            self.obs_frac, self.noise, seed=self.seed)


@dataclass
class IrregularResult:
    """One member of a trained model with its data and training record."""

    config: IrregularConfig
    model: IrregularModel  #: the trained model (all members; this result is member ``member``)
    member: int
    data: IrregularData
    history: dict[str, np.ndarray]  #: per optimiser step: ``loss`` and the model's loss parts
    seconds: float  #: wall time of training, shared equally among the members trained together
    mse: float  #: test MSE on the target points of the test series
    train_mse: float  #: MSE on all points (after the first) of the training series
    extra: dict[str, Any] = field(default_factory=dict)

    def stacked(self, batch: IrregularBatch) -> IrregularBatch:
        """``batch`` repeated for every member, so that the model can run it."""
        return IrregularBatch.stack([batch] * self.model.members).to(dtype=DTYPES[self.config.dtype])

    def predict(self, batch: IrregularBatch) -> np.ndarray:
        """This member's predictions at every point of ``batch``, shape (B, T, n), float64 numpy."""
        self.model.eval()
        with torch.no_grad(), threads(1):
            return self.model(self.stacked(batch))[self.member].double().numpy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: model, dataset, task, mse, seconds and the settings."""
        c = self.config
        return {"model": c.model, "dataset": c.dataset, "task": c.task, "mse": self.mse, "train_mse": self.train_mse,
                "seconds": self.seconds, "parameters": count_parameters(self.model) // self.model.members,
                "settings": asdict(c)}


def all_but_first(batch: IrregularBatch) -> torch.Tensor:
    """Mask of every point except the first of each series (the first is given, not predicted)."""
    score = torch.ones_like(batch.observed)
    score[..., 0] = False
    return score


def train_irregular(model: IrregularModel, batch: IrregularBatch, epochs: int, lr: float) -> tuple[dict[str, np.ndarray], float]:
    """Full-batch Adam on ``model.loss`` scored on every point but the first of the training series.

    ``batch`` is stacked (one batch per member); the members' losses are summed, and Adam acts on each
    parameter entry separately, so every member trains as if alone. Returns the history (arrays of
    shape (epochs, K)) and the wall time. A NaN or infinite loss raises :class:`TrainingDiverged`.
    """
    score = all_but_first(batch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history: dict[str, list[torch.Tensor]] = {}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        loss, parts = model.loss(batch, score)
        if not torch.isfinite(loss).all():
            raise TrainingDiverged(f"training diverged: the loss became {loss.detach().tolist()} at epoch {epoch}; "
                                   f"try a smaller lr (was {lr})")
        for key, value in {"loss": loss.detach(), **parts}.items():
            history.setdefault(key, []).append(value)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    seconds = time.perf_counter() - start
    return {k: torch.stack(v).numpy() for k, v in history.items()}, seconds


def evaluate(model: IrregularModel, batch: IrregularBatch, mask: torch.Tensor) -> np.ndarray:
    """MSE per member of the model's prediction (decoded mean for the Latent ODE) over the points in ``mask``."""
    model.eval()
    with torch.no_grad():
        return masked_mse(model(batch), batch.y, mask).double().numpy()


def run_members(configs: Sequence[IrregularConfig], data: Sequence[IrregularData] | None = None) -> list[IrregularResult]:
    """Train one model whose member ``k`` has the settings ``configs[k]`` and the data ``data[k]``.

    The settings may differ only in ``seed`` and ``task`` (and so in the data); member ``k`` starts from
    ``configs[k].seed``. Training runs single-threaded. Returns one result per member.
    """
    first = configs[0].validate()
    for c in configs:
        if replace(c.validate(), seed=first.seed, task=first.task) != first:
            raise ParameterError("configs", "members may differ only in seed and task")
    data = [c.data() for c in configs] if data is None else list(data)
    dtype = DTYPES[first.dtype]
    train = IrregularBatch.stack([d.train for d in data]).to(dtype=dtype)
    test = IrregularBatch.stack([d.test for d in data]).to(dtype=dtype)
    with threads(1):
        model = build_irregular(first.model, train.dim, first.hidden, first.latent, solver=first.solver,
                                substeps=first.substeps, obs_std=first.obs_std,
                                seeds=[c.seed for c in configs]).to(dtype)
        history, seconds = train_irregular(model, train, first.epochs, first.lr)
        mse = evaluate(model, test, test.target)
        train_mse = evaluate(model, train, all_but_first(train))
    return [IrregularResult(c, model, k, d, {key: v[:, k] for key, v in history.items()}, seconds / len(configs),
                            float(mse[k]), float(train_mse[k])) for k, (c, d) in enumerate(zip(configs, data))]


def run_irregular(config: IrregularConfig, data: IrregularData | None = None) -> IrregularResult:
    """Draw the data (unless given), build the model from ``seed``, train it single-threaded, test it."""
    return run_members([config], None if data is None else [data])[0]


def benchmark(config: IrregularConfig, models: Sequence[str], datasets: Sequence[str], tasks: Sequence[str],
              seeds: Sequence[int]) -> list[IrregularResult]:
    """Every model on every dataset, task and seed. One data draw per (dataset, task, seed), shared by
    the models; for each model and dataset the tasks and seeds train together as members of one model."""
    results = []
    for dataset in datasets:
        configs = [config.with_(dataset=dataset, task=task, seed=seed) for task in tasks for seed in seeds]
        data = [c.data() for c in configs]
        for m in models:
            results += run_members([c.with_(model=m) for c in configs], data)
    return results


def summarize(results: Sequence[IrregularResult]) -> list[dict[str, Any]]:
    """Mean and standard deviation (ddof 1) over seeds of test MSE and seconds, per (dataset, task, model)."""
    groups: dict[tuple[str, str, str], list[IrregularResult]] = {}
    for r in results:
        groups.setdefault((r.config.dataset, r.config.task, r.config.model), []).append(r)
    rows = []
    for (dataset, task, model), rs in groups.items():
        mse = np.array([r.mse for r in rs])
        secs = np.array([r.seconds for r in rs])
        rows.append({"dataset": dataset, "task": task, "model": model, "runs": len(rs),
                     "mse_mean": float(mse.mean()), "mse_sd": float(mse.std(ddof=1)) if len(rs) > 1 else 0.0,
                     "seconds_mean": float(secs.mean())})
    return rows


def solver_gap(result: IrregularResult, solver: str = "odeint:dopri5", rtol: float = 1e-7, atol: float = 1e-9) -> float:
    """Largest change of the test predictions when the trained model's ODE solves use ``solver``
    (an adaptive torchdiffeq method with tight tolerances by default); 0 for models without an ODE."""
    model = result.model
    if not hasattr(model, "solver"):
        return 0.0
    before = result.predict(result.data.test)
    original = model.solver
    try:
        model.solver = IntervalSolver(solver, rtol=rtol, atol=atol)
        after = result.predict(result.data.test)
    finally:
        model.solver = original
    return float(np.abs(after - before).max())


def latent_summary(result: IrregularResult, series: int = 3, draws: int = 20, seed: int = 0) -> dict[str, Any]:
    """A trained Latent ODE on its first ``series`` test series: ``draws`` decoded posterior samples
    (draws, B, T, n), their mean spread, and the final KL and log-likelihood terms of training."""
    test = result.data.test.subset(slice(0, series))
    samples = result.model.sample(result.stacked(test), draws, seed=seed)[:, result.member].double().numpy()
    return {"test": test, "samples": samples, "spread": float(samples.std(0).mean()),
            "kl": float(result.history["kl"][-1]), "loglik": float(result.history["loglik"][-1])}


def ranking(rows: Sequence[dict[str, Any]], dataset: str, task: str) -> list[str]:
    """Models ordered from the lowest to the highest mean test MSE on ``dataset`` and ``task``."""
    chosen = [r for r in rows if r["dataset"] == dataset and r["task"] == task]
    return [r["model"] for r in sorted(chosen, key=lambda r: r["mse_mean"])]


def check_choices(name: str, values: Sequence[str], known: Sequence[str] | dict[str, str]) -> list[str]:
    """``values`` as a list if it is a non-empty list of distinct names from ``known``; else :class:`ParameterError`."""
    values = [values] if isinstance(values, str) else list(values)
    if not values or len(set(values)) != len(values) or any(v not in known for v in values):
        raise ParameterError(name, f"must be distinct names from {', '.join(known)}, got {values!r}")
    return values


def verdict_decay(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Does the decay RNN beat the plain RNN? Per (dataset, task): the two mean test MSEs, and whether the
    gap exceeds the larger of the two standard deviations. Returns the cases and their counts."""
    by = {(r["dataset"], r["task"], r["model"]): r for r in rows}
    cases = []
    for (dataset, task, model), r in by.items():
        if model != "rnn" or (dataset, task, "rnn-decay") not in by:
            continue
        d = by[(dataset, task, "rnn-decay")]
        gap = r["mse_mean"] - d["mse_mean"]
        cases.append({"dataset": dataset, "task": task, "rnn": r["mse_mean"], "decay": d["mse_mean"],
                      "decay_better": gap > 0, "clear": abs(gap) > max(r["mse_sd"], d["mse_sd"])})
    return {"cases": cases, "better": sum(c["decay_better"] for c in cases),
            "clearly_better": sum(c["decay_better"] and c["clear"] for c in cases),
            "clearly_worse": sum((not c["decay_better"]) and c["clear"] for c in cases), "total": len(cases)}
