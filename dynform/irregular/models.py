"""The irregular-time models of the note's section 4 (and a Latent ODE with an RNN encoder), by name.

Every model reads a batch of series with per-series times ``t`` (B, T), values ``y`` (B, T, n) and an
observation mask, and returns a prediction at every time point, shape (B, T, n); the first point of a
series is given, not predicted. The models, in the note's notation (``Δt_i = t_i - t_{i-1}``):

* ``rnn``: ``h_i = GRUCell(h_{i-1}, [y_{i-1}, Δt_i])``, ``ŷ_i = OutputNN(h_i)`` (section 4.1);
* ``rnn-decay``: ``h_i = GRUCell(h_{i-1} exp(-τ Δt_i), y_{i-1})`` with ``τ = softplus(ρ) >= 0`` (4.2);
* ``augmented-node``: ``h' = f_θ(h)`` from ``h(t_0) = (y_0, 0, ..., 0)``, ``ŷ(t) = `` the first n components (4.3);
* ``odernn``: ``h'_i = ODESolve(f_θ, h_{i-1}, (t_{i-1}, t_i))``, ``h_i = GRUCell(h'_i, y_{i-1})`` (4.4);
* ``latent-ode``: an ODE-RNN run backwards in time gives ``μ, σ`` of ``q(z_0)``; ``z_0 = μ + σ ε``;
  ``z(t)`` solves ``z' = f_θ(z)``; ``y_i ~ N(OutputNN(z_i), s^2)``; trained on the ELBO (4.5);
* ``latent-ode-rnn``: the same with a GRU encoder that reads ``[y_i, gap to the next observation]``
  instead of evolving its state across the gaps (the comparison of Rubanova et al.'s section 4).

The recurrent models read ``y_{i-1}`` where it is observed and their own prediction ``ŷ_{i-1}`` where
it is not, so one loop serves interpolation, extrapolation and free-running prediction. Every model
also predicts on any time grid (:meth:`IrregularModel.dense`): the Neural ODE and the Latent ODE read
their ODE's solution there, and a recurrent model predicts at ``t`` in ``(t_{i-1}, t_i]`` what it would
predict at ``t_i`` were the gap ``t - t_{i-1}``.

ODE solves go through :class:`dynform.irregular.gaps.IntervalSolver`. Each series has its own gaps, so the interval
``[t_{i-1}, t_i]`` is mapped to ``s ∈ [0, 1]``: ``dh/ds = Δt_i f(h)`` (exact for the autonomous fields
used here), and all series of a batch are integrated together. The default is the classic RK4 with
``substeps`` steps per gap; any torchdiffeq method (``odeint:dopri5`` with ``rtol``, ``atol``;
``odeint:rk4``, torchdiffeq's fixed-grid 3/8 rule) is one setting away.

Every model holds ``K`` independent members (``seeds``), as the regular-time models do: parameters
carry a leading member axis and a stacked batch gives each member its own data, so the seeds and tasks
of a benchmark train in one pass. A new model is a class (here, or in a file of its own) and one
line of :data:`MODELS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from torch import nn

from ..layers import MLP, GRUCell, Linear, generators
from ..registry import View
from ..solvers import resolve
from .data import IrregularBatch
from .gaps import IntervalSolver, gaps, integrate
from .losses import gaussian_log_likelihood, kl_standard_normal, masked_mse


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
        """One fresh generator per member, seeded from ``seeds``."""
        return generators(self.seeds)

    def forward(self, batch: IrregularBatch) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def dense(self, batch: IrregularBatch, times: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """Predictions at ``times`` (K, B, G), sorted, in ``[t_0, ∞)``, given the observed points of
        ``batch``: shape (K, B, G, n)."""
        raise NotImplementedError

    def loss(self, batch: IrregularBatch, score: torch.Tensor,
             kl_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean squared error over the points selected by ``score`` (K, B, T), per member; ``kl_weight``
        concerns only the Latent ODE."""
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

    def prepare(self) -> None:
        """Called before a pass over a batch (the ODE-RNN builds its field's closure here)."""

    def unroll(self, batch: IrregularBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predictions at every point (K, B, T, n), and at each point the state after it and the input
        read there, (K, B, T, hidden) and (K, B, T, n)."""
        self.prepare()
        y, obs, dts = batch.y, batch.observed.unsqueeze(-1), gaps(batch.t)
        h = y.new_zeros(y.shape[0], y.shape[1], self.hidden)
        x, preds, states, inputs = y[:, :, 0], [y[:, :, 0]], [h], [y[:, :, 0]]
        for i in range(1, y.shape[2]):
            h = self.step(h, x, dts[:, :, i - 1])
            pred = self.out(h)
            preds.append(pred)
            x = torch.where(obs[:, :, i], y[:, :, i], pred)
            states.append(h)
            inputs.append(x)
        return torch.stack(preds, dim=2), torch.stack(states, dim=2), torch.stack(inputs, dim=2)

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        return self.unroll(batch)[0]

    def dense(self, batch: IrregularBatch, times: torch.Tensor) -> torch.Tensor:
        _, states, inputs = self.unroll(batch)
        last = (torch.searchsorted(batch.t.contiguous(), times.contiguous()) - 1).clamp(min=0)  # (K, B, G)
        h = states.gather(2, last.unsqueeze(-1).expand(-1, -1, -1, states.shape[-1]))
        x = inputs.gather(2, last.unsqueeze(-1).expand(-1, -1, -1, inputs.shape[-1]))
        dt = times - batch.t.gather(2, last)
        pred = self.out(self.step(h.flatten(1, 2), x.flatten(1, 2), dt.flatten(1, 2))).unflatten(1, times.shape[1:])
        at_start = (times <= batch.t[..., :1]).unsqueeze(-1)
        return torch.where(at_start, batch.y[:, :, :1].expand_as(pred), pred)


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
        self.f = MLP(hidden, width, self._gens)
        self.solver = self.gap_solver = solver

    def prepare(self) -> None:
        self._f = self.f.function()

    def step(self, h: torch.Tensor, x: torch.Tensor, dt: torch.Tensor) -> torch.Tensor:
        return self.cell(x, self.gap_solver(self._f, h, dt))


class AugmentedNeuralODE(IrregularModel):
    """Section 4.3: ``h' = f_θ(h)``, ``h(t_0) = (y_0, 0, ..., 0)`` in ``state`` dimensions; ``ŷ`` = first n.

    The zero components give the field room (a one-dimensional autonomous ODE cannot oscillate);
    the model sees only the first observation.
    """

    kind = "augmented-node"

    def __init__(self, dim: int, state: int, width: int, solver: IntervalSolver, seeds: Sequence[int] = (0,)) -> None:
        super().__init__(seeds)
        self.dim, self.state = dim, state
        self.f = MLP(state, width, self.generators())
        self.solver = solver

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        return self.dense(batch, batch.t)

    def dense(self, batch: IrregularBatch, times: torch.Tensor) -> torch.Tensor:
        y0 = batch.y[:, :, 0]
        h0 = torch.cat([y0, y0.new_zeros(y0.shape[:-1] + (self.state - self.dim,))], dim=-1)
        t0 = None if times is batch.t else batch.t[..., 0]
        return integrate(self.f.function(), self.solver, h0, times, t0)[..., : self.dim]


class LatentODE(IrregularModel):
    """Section 4.5: encoder run backwards, ``q(z_0) = N(μ, σ²)``, Neural ODE decoder, Gaussian output.

    ``encoder="odernn"`` is the note's ODE-RNN encoder; ``encoder="rnn"`` a GRU that reads the gap to
    the next observation as an input instead (Rubanova et al.'s "RNN encoder").
    """

    kind = "latent-ode"

    def __init__(self, dim: int, hidden: int, latent: int, width: int, solver: IntervalSolver, obs_std: float,
                 seeds: Sequence[int] = (0,), encoder: str = "odernn") -> None:
        super().__init__(seeds)
        gens = self.generators()
        self.encoder = encoder
        self.cell = GRUCell(dim if encoder == "odernn" else dim + 1, hidden, gens)
        if encoder == "odernn":
            self.f_enc = MLP(hidden, width, gens)
        self.to_z = Linear(hidden, 2 * latent, gens)
        self.f_dec = MLP(latent, width, gens)
        self.out = Linear(latent, dim, gens)
        self.hidden, self.latent, self.solver, self.obs_std = hidden, latent, solver, obs_std
        self.gap_solver = solver
        self._noise = gens  # member k draws its z_0 samples from its own generator

    def encode(self, batch: IrregularBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """``μ, σ`` of ``q(z_0 | observed points)``: the encoder runs from ``t_N`` back to ``t_0``,
        absorbing each observed point. The ODE-RNN evolves its state across each gap backwards
        (negative ``Δt``); the RNN reads the time to the observation it absorbed last."""
        y, obs, dts = batch.y, batch.observed.unsqueeze(-1), gaps(batch.t)
        h = y.new_zeros(y.shape[0], y.shape[1], self.hidden)
        if self.encoder == "odernn":
            f = self.f_enc.function()
            for i in range(y.shape[2] - 1, -1, -1):
                h = torch.where(obs[:, :, i], self.cell(y[:, :, i], h), h)
                if i > 0:
                    h = self.gap_solver(f, h, -dts[:, :, i - 1])
        else:
            elapsed = y.new_zeros(y.shape[:2] + (1,))
            for i in range(y.shape[2] - 1, -1, -1):
                h = torch.where(obs[:, :, i], self.cell(torch.cat([y[:, :, i], elapsed], -1), h), h)
                elapsed = torch.where(obs[:, :, i], 0.0, elapsed)
                if i > 0:
                    elapsed = elapsed + dts[:, :, i - 1, None]
        mu, s = self.to_z(h).chunk(2, dim=-1)
        return mu, nn.functional.softplus(s) + 1e-4

    def decode(self, z0: torch.Tensor, t: torch.Tensor, t0: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of ``p(y | z(τ))`` at every time τ of ``t`` (K, B, G) from ``z_0`` (K, B, L) at ``t0``
        (K, B; default ``t[..., 0]``): (K, B, G, n)."""
        z = integrate(self.f_dec.function(), self.solver, z0, t, t0)
        return self.out(z.flatten(1, 2)).unflatten(1, z.shape[1:3])

    def forward(self, batch: IrregularBatch) -> torch.Tensor:
        """The decoded mean from ``z_0 = μ`` (no sampling)."""
        return self.dense(batch, batch.t)

    def dense(self, batch: IrregularBatch, times: torch.Tensor) -> torch.Tensor:
        mu, _ = self.encode(batch)
        return self.decode(mu, times, None if times is batch.t else batch.t[..., 0])

    def _eps(self, like: torch.Tensor, shape: tuple[int, ...], generators: Sequence[torch.Generator]) -> torch.Tensor:
        """Standard normal draws of ``shape`` from each generator, made on the cpu, on ``like``'s device."""
        return torch.stack([torch.randn(shape, generator=g) for g in generators]).to(like.device)

    def elbo(self, batch: IrregularBatch, score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One-sample ELBO per series with its two terms: (elbo, log-likelihood, KL), each (K, B)."""
        mu, sigma = self.encode(batch)
        z0 = mu + sigma * self._eps(mu, tuple(mu.shape[1:]), self._noise)
        loglik = gaussian_log_likelihood(self.decode(z0, batch.t), batch.y, score, self.obs_std)
        kl = kl_standard_normal(mu, sigma)
        return loglik - kl, loglik, kl

    def sample(self, batch: IrregularBatch, count: int, seed: int = 0, times: torch.Tensor | None = None,
               prior: bool = False) -> torch.Tensor:
        """Decoded means at ``times`` (K, B, G; default the batch's times) from ``count`` samples of
        ``q(z_0 | observed points)``, or of the prior ``N(0, I)`` with ``prior``: (count, K, B, G, n)."""
        gen = [torch.Generator().manual_seed(seed)]
        times = batch.t if times is None else times
        with torch.no_grad():
            mu, sigma = self.encode(batch)
            if prior:
                mu, sigma = torch.zeros_like(mu), torch.ones_like(sigma)
            t0 = None if times is batch.t else batch.t[..., 0]
            return torch.stack([self.decode(mu + sigma * self._eps(mu, tuple(mu.shape), gen)[0], times, t0)
                                for _ in range(count)])

    def loss(self, batch: IrregularBatch, score: torch.Tensor,
             kl_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``-(log-likelihood - kl_weight KL)`` averaged over series, per member; the ELBO (``kl_weight``
        1) is recorded."""
        elbo, loglik, kl = self.elbo(batch, score)
        loss = -(loglik - kl_weight * kl).mean(-1) if kl_weight != 1.0 else -elbo.mean(-1)
        return loss, {"elbo": elbo.mean(-1).detach(), "loglik": loglik.mean(-1).detach(),
                      "kl": kl.mean(-1).detach()}


Builder = Callable[[int, int, int, int, IntervalSolver, float, Sequence[int]], IrregularModel]


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its long name and how to build it."""

    title: str
    build: Builder  #: ``(dim, hidden, latent, width, solver, obs_std, seeds) -> model``
    ode: bool = False  #: whether it integrates an ODE


#: Short names (CLI, chapters, tables) -> the model.
MODELS: dict[str, ModelSpec] = {
    "rnn": ModelSpec("RNN with Δt input", lambda dim, hidden, latent, width, ivp, s, seeds: RNN(dim, hidden, seeds)),
    "rnn-decay": ModelSpec("Decay RNN", lambda dim, hidden, latent, width, ivp, s, seeds: DecayRNN(dim, hidden, seeds)),
    "augmented-node": ModelSpec("Neural ODE (state augmented with zeros)",
                                lambda dim, hidden, latent, width, ivp, s, seeds:
                                AugmentedNeuralODE(dim, max(latent, dim), width, ivp, seeds), ode=True),
    "odernn": ModelSpec("ODE-RNN", lambda dim, hidden, latent, width, ivp, s, seeds:
                        ODERNN(dim, hidden, width, ivp, seeds), ode=True),
    "latent-ode": ModelSpec("Latent ODE (ODE-RNN encoder)", lambda dim, hidden, latent, width, ivp, s, seeds:
                            LatentODE(dim, hidden, latent, width, ivp, s, seeds), ode=True),
    "latent-ode-rnn": ModelSpec("Latent ODE (RNN encoder)", lambda dim, hidden, latent, width, ivp, s, seeds:
                                LatentODE(dim, hidden, latent, width, ivp, s, seeds, encoder="rnn"), ode=True),
}
#: The long names, by short name.
TITLES = View(MODELS, lambda spec: spec.title)
#: The models that integrate an ODE.
ODE_MODELS = View(MODELS, lambda spec: spec.title, keep=lambda spec: spec.ode)


def build_model(kind: str, dim: int, hidden: int = 16, latent: int = 8, width: int | None = None,
                solver: str = "rk4", substeps: int = 1, obs_std: float = 0.05,
                seeds: Sequence[int] = (0,), gap_solver: str = "") -> IrregularModel:
    """Model ``kind`` (a key of :data:`MODELS`, validated by the config) with one member per seed;
    ``width`` of the ODE fields defaults to ``2 * hidden``. ``gap_solver``, if given, crosses the
    ODE-RNN's gaps (the ODE-RNN and the Latent ODE's encoder) in one step, ``solver`` all other solves."""
    width = 2 * hidden if width is None else width
    ivp = IntervalSolver(resolve(solver, substeps, rtol=1e-5, atol=1e-6))
    model = MODELS[kind].build(dim, hidden, latent, width, ivp, obs_std, seeds)
    if gap_solver:
        model.gap_solver = IntervalSolver(resolve(gap_solver, 1, rtol=1e-5, atol=1e-6))
    return model
