"""Training of the regular-time models: the note's loss and Algorithm 1 through the shared loop."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ..fitting import check_finite, fit
from ..optim import Algorithm1, make_optimizer
from .models import TrajectoryModel


#: The normalisations of the note's loss its text allows: ``norm`` is its formula read literally.
LOSSES: dict[str, str] = {
    "norm": "squared Euclidean norm, averaged over the predicted points",
    "mse": "torch.nn.MSELoss: also averaged over the components",
    "norm-y0": "squared norm, averaged over all points, the given y(0) counted as a sample",
    "mse-y0": "MSELoss over all points, y(0) counted",
}


def trajectory_loss(pred: torch.Tensor, target: torch.Tensor, loss: str | Sequence[str] = "norm") -> torch.Tensor:
    """The note's loss ``L = (1/N) sum_i |y_i - yhat_i|^2`` per member, normalised as ``loss`` (a key
    of :data:`LOSSES`, or one key per member) says.

    ``pred`` has shape ``(K, B, T, n)``, ``target`` ``(K, B, T, n)``, ``(B, T, n)`` or ``(T, n)``.
    ``norm``: the norm is Euclidean (summed over the n components); the mean runs over the
    ``N = T - 1`` predicted samples (the initial state is given, not predicted) and over the ``B``
    trajectories. ``mse`` also divides by n; ``-y0`` counts the initial state as a sample (its error is
    zero: N = T). Returns ``(K,)``; a member's value does not depend on the other members.
    """
    err = (pred[..., 1:, :] - target[..., 1:, :]).pow(2).sum(-1)
    value = err.flatten(1).mean(1)
    if isinstance(loss, str):
        return _normalised(value, loss, *pred.shape[-2:])
    # consecutive members with one normalisation are normalised together, as in a run of their own
    parts, start = [], 0
    for name, group in itertools.groupby(loss):
        stop = start + len(list(group))
        parts.append(_normalised(value[start:stop], name, *pred.shape[-2:]))
        start = stop
    return torch.cat(parts)


def _normalised(value: torch.Tensor, loss: str, points: int, dim: int) -> torch.Tensor:
    """The mean squared norm ``value`` (K,) normalised as ``loss`` says, for ``points`` samples of
    ``dim`` components."""
    if loss.startswith("mse"):
        value = value / dim
    if loss.endswith("-y0"):
        value = value * ((points - 1) / points)
    return value


@dataclass
class TrainResult:
    """What training returns; arrays have one entry per ensemble member."""

    history: np.ndarray  #: loss before each optimiser step, shape (steps, K)
    final_loss: np.ndarray  #: loss of the trained parameters, shape (K,)
    iterations: np.ndarray  #: optimiser steps each member took, shape (K,)
    seconds: float  #: wall time of the whole loop


def train(
    model: TrajectoryModel,
    y0: torch.Tensor,
    t: torch.Tensor,
    target: torch.Tensor,
    epochs: int,
    lr: float = 1e-3,
    tol: float | None = None,
    optimizer: str = "algorithm1",
    progress: bool = False,
    shown: int | None = None,
    loss: str | Sequence[str] = "norm",
    engine: str = "auto",
) -> TrainResult:
    """Full-batch training of ``model`` on the trajectory ``target`` sampled at ``t`` from ``y0``.

    Settings come validated from :class:`~dynform.regular.experiment.RunConfig`. Runs at most
    ``epochs`` optimiser steps. With ``tol``, a member stops (its parameters freeze) at the first loss
    evaluation below ``tol``; ``iterations`` counts the steps it took before that. A NaN or infinite
    loss raises :class:`~dynform.errors.TrainingDiverged` naming the epoch; its message lists the
    losses of the first ``shown`` members (all by default: the others are helpers, such as rounding
    replicas). ``loss`` is the normalisation of :func:`trajectory_loss` (one, or one per member).
    ``engine`` (:data:`dynform.regular.backprop.ENGINES`) says how the gradients are computed;
    ``auto`` is ``numpy`` where :func:`dynform.regular.backprop.supports` the model.
    """
    from . import backprop

    if engine == "numpy" or (engine == "auto" and backprop.supports(model)):
        return backprop.train(model, y0, t, target, epochs, lr, tol, optimizer, progress, shown, loss)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    # Algorithm 1's own update skips torch's per-step optimiser hooks (same arithmetic as opt.step()).
    step = opt.update if isinstance(opt, Algorithm1) else opt.step
    params = [p for p in model.parameters() if p.requires_grad]
    record = fit(lambda: (trajectory_loss(model(y0, t), target, loss), {}), params, step, epochs, lr, model.members,
                 tol, shown, progress, desc=f"train {model.kind}")
    with torch.no_grad():
        final = trajectory_loss(model(y0, t), target, loss)
    check_finite(final, epochs, lr, shown)
    return TrainResult(record.history["loss"], final.cpu().numpy(), record.iterations, record.seconds)
