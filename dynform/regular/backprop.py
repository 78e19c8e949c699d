"""Training of the regular models with hand-written backpropagation in numpy: the appendix's
gradients, through time and through the stages of classic RK4, batched over ensemble members.

The note's models are tiny (an epoch of ``nnm`` is about 300 flops), so a step of autograd costs
its per-operation overhead, not its arithmetic; numpy's overhead per operation is several times
smaller, and the backward pass written out needs no graph. This engine (``RunConfig(engine="numpy")``)
gives the same training as :func:`dynform.regular.training.train` (the reference: the gradients
and losses agree to float64 rounding, ``tests/test_regular_backprop.py``), on the CPU, with the
classic RK4 of :mod:`dynform.solvers.rk4` for the Neural ODE models; ``engine="auto"`` (the default)
uses it wherever it applies. In float32 the order of the
operations differs from autograd's, so trained numbers differ in their last digits, as they do
between CPUs (the rounding chapter).

Shapes: parameters have a leading member axis ``K``; states are ``(K, B, n)``; a field evaluation
keeps what its backward pass needs, and the parameter gradients are summed over all evaluations
at once, as one batched product.
"""
from __future__ import annotations

import math
import time
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from .. import validation as check
from ..errors import diverged
from ..layers import MLP, Matrix
from ..optim import EPS, GAMMA
from ..solvers import ClassicRK4
from .models import NeuralODE, StepMap, TrajectoryModel

#: How gradients are computed: ``RunConfig.engine``.
ENGINES: dict[str, str] = {
    "auto": "numpy where it applies (CPU; a step map, or the classic rk4 solver), autograd otherwise",
    "autograd": "torch autograd (the reference; any device and solver)",
    "numpy": "hand-written backpropagation in numpy (CPU, classic RK4; faster for the note's sizes)",
}
#: The optimisers this engine runs, by the names of :data:`dynform.optim.OPTIMIZERS`: is eps inside
#: the square root (Algorithm 1) or outside (torch.optim.RMSprop)?
EPS_INSIDE = {"algorithm1": True, "torch-rmsprop": False}


class _Field:
    """A field (or step map) ``g`` over a flat parameter buffer. ``__call__(u)`` evaluates ``g`` on
    states ``u`` (K, B, n) and keeps what the backward pass needs; ``vjp(c, i)`` is the adjoint of
    evaluation ``i`` for the cotangent ``c`` (K, B, n) and keeps the pieces of the parameter gradient;
    ``gradients()`` writes the summed parameter gradient into the gradient buffer."""

    def __init__(self, arrays: Sequence[np.ndarray]) -> None:
        sizes = [a.size for a in arrays]
        self.flat = np.concatenate([a.ravel() for a in arrays])
        self.grad = np.zeros_like(self.flat)
        offsets = np.cumsum([0, *sizes])
        self.params = [self.flat[a:b].reshape(x.shape) for a, b, x in zip(offsets, offsets[1:], arrays)]
        self.grads = [self.grad[a:b].reshape(x.shape) for a, b, x in zip(offsets, offsets[1:], arrays)]
        self.reset()

    def reset(self) -> None:
        self.tape: list[tuple[np.ndarray, ...]] = []
        self.back: list[tuple[np.ndarray, ...]] = []


class _MLPField(_Field):
    """``g(u) = W2 tanh(W1 u + b1) + b2``: W1 (K, H, n), b1 (K, H), W2 (K, n, H), b2 (K, n)."""

    def __call__(self, u: np.ndarray) -> np.ndarray:
        W1, b1, W2, b2 = self.params
        h = np.matmul(u, W1.transpose(0, 2, 1))
        h += b1[:, None, :]
        np.tanh(h, out=h)
        out = np.matmul(h, W2.transpose(0, 2, 1))
        out += b2[:, None, :]
        self.tape.append((u, h))
        return out

    def vjp(self, c: np.ndarray, i: int) -> np.ndarray:
        W1, _, W2, _ = self.params
        u, h = self.tape[i]
        delta = np.matmul(c, W2)
        delta *= 1.0 - h * h
        self.back.append((c, delta, u, h))
        return np.matmul(delta, W1)

    def gradients(self) -> None:
        gW1, gb1, gW2, gb2 = self.grads
        c, delta, u, h = (np.concatenate(x, axis=1) for x in zip(*self.back))
        np.matmul(c.transpose(0, 2, 1), h, out=gW2)
        np.sum(c, axis=1, out=gb2)
        np.matmul(delta.transpose(0, 2, 1), u, out=gW1)
        np.sum(delta, axis=1, out=gb1)


class _LinearField(_Field):
    """``g(u) = M u``: M (K, n, n)."""

    def __call__(self, u: np.ndarray) -> np.ndarray:
        (M,) = self.params
        self.tape.append((u,))
        return np.matmul(u, M.transpose(0, 2, 1))

    def vjp(self, c: np.ndarray, i: int) -> np.ndarray:
        (M,) = self.params
        self.back.append((c, self.tape[i][0]))
        return np.matmul(c, M)

    def gradients(self) -> None:
        (gM,) = self.grads
        c, u = (np.concatenate(x, axis=1) for x in zip(*self.back))
        np.matmul(c.transpose(0, 2, 1), u, out=gM)


def _field(model: TrajectoryModel, dtype: np.dtype) -> _Field:
    g = model.g
    if isinstance(g, MLP):
        return _MLPField([p.detach().cpu().numpy().astype(dtype) for p in (g.W1, g.b1, g.W2, g.b2)])
    return _LinearField([g.M.detach().cpu().numpy().astype(dtype)])


def _write_back(model: TrajectoryModel, field: _Field) -> None:
    names = ("W1", "b1", "W2", "b2") if isinstance(field, _MLPField) else ("M",)
    with torch.no_grad():
        for name, value in zip(names, field.params):
            getattr(model.g, name).copy_(torch.from_numpy(value))


def rk4_step(g: _Field, y: np.ndarray, h: float) -> np.ndarray:
    """One classic RK4 step of size ``h`` (:func:`dynform.solvers.rk4.rk4_step` in numpy); its four
    field evaluations are taped in order, which :meth:`_Rollout.backward` undoes."""
    k1 = g(y)
    k2 = g(y + (0.5 * h) * k1)
    k3 = g(y + (0.5 * h) * k2)
    k4 = g(y + h * k3)
    return y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)


def supports(model: TrajectoryModel) -> bool:
    """Whether this engine can train ``model``: an MLP or a matrix as the step map or field, a step
    map or a Neural ODE with the classic RK4, parameters on the CPU."""
    solver_ok = isinstance(model, StepMap) or (isinstance(model, NeuralODE) and isinstance(model.solver, ClassicRK4))
    return (isinstance(model.g, (MLP, Matrix)) and solver_ok
            and all(p.device.type == "cpu" for p in model.parameters()))


class _Rollout:
    """The model's forward pass on the sample grid and its adjoint: a step map applies ``g`` once per
    interval; a Neural ODE takes ``substeps`` classic RK4 steps per interval."""

    def __init__(self, model: TrajectoryModel, field: _Field, t: np.ndarray) -> None:
        self.field = field
        if isinstance(model, StepMap):
            self.steps: list[float] | None = None
            self.intervals = len(t) - 1
        else:  # a Neural ODE with the classic RK4 (supports)
            s = model.solver.substeps
            self.steps = [dt / s for dt in np.diff(t).tolist() for _ in range(s)]
            self.per_interval = s
            self.intervals = len(t) - 1

    def forward(self, y0: np.ndarray) -> np.ndarray:
        """States at the sample times after the first: (K, B, T - 1, n)."""
        g = self.field
        g.reset()
        y, out = y0, []
        if self.steps is None:
            for _ in range(self.intervals):
                y = g(y)
                out.append(y)
            return np.stack(out, axis=2)
        for j, h in enumerate(self.steps):
            y = rk4_step(g, y, h)
            if (j + 1) % self.per_interval == 0:
                out.append(y)
        return np.stack(out, axis=2)

    def backward(self, r: np.ndarray) -> None:
        """Write into the field's gradient buffer the gradient of ``sum(r * states)`` for the
        cotangent ``r`` (K, B, T - 1, n) of :meth:`forward`'s states."""
        g = self.field
        back = np.zeros_like(r[:, :, 0])
        if self.steps is None:
            for k in range(self.intervals - 1, -1, -1):
                back = g.vjp(r[:, :, k] + back, k)
            g.gradients()
            return
        evals = 4 * len(self.steps)
        for j in range(len(self.steps) - 1, -1, -1):
            h = self.steps[j]
            if (j + 1) % self.per_interval == 0:
                back = back + r[:, :, (j + 1) // self.per_interval - 1]
            a = back  # adjoint of this step's output y + h/6 (k1 + 2 k2 + 2 k3 + k4)
            c4 = (h / 6.0) * a
            c23 = (h / 3.0) * a
            evals -= 4
            u4 = g.vjp(c4, evals + 3)
            u3 = g.vjp(c23 + h * u4, evals + 2)
            u2 = g.vjp(c23 + (0.5 * h) * u3, evals + 1)
            u1 = g.vjp((h / 6.0) * a + (0.5 * h) * u2, evals)
            back = a + u4 + u3 + u2 + u1
        g.gradients()


def _normalisation(loss: str | Sequence[str], members: int, points: int, dim: int, dtype: np.dtype) -> np.ndarray:
    """Each member's factor on the mean squared norm (:data:`dynform.regular.training.LOSSES`), (K,)."""
    names = [loss] * members if isinstance(loss, str) else list(loss)
    factor = [(1.0 / dim if name.startswith("mse") else 1.0) * ((points - 1) / points if name.endswith("-y0") else 1.0)
              for name in names]
    return np.asarray(factor, dtype=dtype)


def train(model: TrajectoryModel, y0: torch.Tensor, t: torch.Tensor, target: torch.Tensor, epochs: int,
          lr: float = 1e-3, tol: float | None = None, optimizer: str = "algorithm1", progress: bool = False,
          shown: int | None = None, loss: str | Sequence[str] = "norm"):
    """:func:`dynform.regular.training.train` with this module's gradients: same arguments, same
    :class:`~dynform.regular.training.TrainResult` (members stop and freeze as
    :func:`dynform.fitting.fit` stops them); the trained parameters are written back into
    ``model``. ``target`` is ``(T, n)``, ``(B, T, n)`` or ``(K, B, T, n)``."""
    from .training import TrainResult

    check.require("engine", supports(model),
                  f"numpy has no backward pass for model {model.kind!r} ({type(model.g).__name__} "
                  f"in a {type(model).__name__}); use engine 'autograd'")
    dtype = np.dtype(str(t.dtype).removeprefix("torch."))
    K = model.members
    y0 = model.expand(y0.detach()).cpu().numpy().astype(dtype)
    series = target.detach().cpu().numpy().astype(dtype)
    while series.ndim < 4:
        series = series[None]
    goal = series[:, :, 1:]  # (K or 1, B, T - 1, n)
    B, T, n = y0.shape[1], series.shape[2], series.shape[3]
    field = _field(model, dtype)
    rollout = _Rollout(model, field, t.detach().cpu().numpy())
    norm = _normalisation(loss, K, T, n, dtype)
    scale = (norm * dtype.type(2.0 / (B * (T - 1))))[:, None, None, None]  # d loss / d state, per member

    def losses() -> tuple[np.ndarray, np.ndarray]:
        err = rollout.forward(y0) - goal
        return np.square(err).sum(-1).reshape(K, -1).mean(1) * norm, err

    inside = EPS_INSIDE[optimizer]
    G = np.zeros_like(field.flat)
    active = np.ones(K, dtype=bool)
    iterations = np.zeros(K, dtype=np.int64)
    history = []
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging loss is reported by name instead
        for epoch in tqdm(range(1, epochs + 1), disable=not progress, desc=f"train {model.kind} (numpy)",
                          leave=False):
            value, err = losses()
            if not math.isfinite(float(value.sum())):
                raise diverged(value[:shown].tolist(), epoch, lr)
            history.append(value)
            r = err * scale
            if tol is not None:
                active &= value >= tol
                if not active.any():
                    break
                r *= active[:, None, None, None]  # stopped members get zero gradient and stay frozen
                iterations += active
            rollout.backward(r)
            grad = field.grad
            G *= GAMMA
            G += (1.0 - GAMMA) * grad * grad
            field.flat -= lr * grad / (np.sqrt(G + EPS) if inside else np.sqrt(G) + EPS)
        seconds = time.perf_counter() - start
        final, _ = losses()
    if tol is None:
        iterations += epochs
    if not np.isfinite(final).all():
        raise diverged(final[:shown].tolist(), epochs, lr)
    _write_back(model, field)
    return TrainResult(np.stack(history) if history else np.zeros((0, K), dtype), final, iterations, seconds)
