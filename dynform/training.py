"""Training loop shared by every regular-time model and ensemble size."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from .errors import ParameterError, TrainingDiverged
from .models import TrajectoryModel
from .optim import Algorithm1, make_optimizer


def trajectory_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The note's loss ``L = (1/N) sum_i |y_i - yhat_i|^2`` per member.

    ``pred`` has shape ``(K, B, T, n)``, ``target`` ``(B, T, n)`` or ``(T, n)``. The norm is Euclidean
    (summed over the n components); the mean runs over the ``N = T - 1`` predicted samples (the
    initial state is given, not predicted) and over the ``B`` trajectories. Returns shape ``(K,)``.
    """
    err = (pred[..., 1:, :] - target[..., 1:, :]).pow(2).sum(-1)
    return err.flatten(1).mean(1)


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
) -> TrainResult:
    """Full-batch training of ``model`` on the trajectory ``target`` sampled at ``t`` from ``y0``.

    Runs at most ``epochs`` optimiser steps. With ``tol``, a member stops (its parameters freeze) at the
    first loss evaluation below ``tol``; ``iterations`` counts the steps it took before that. A NaN or
    infinite loss raises :class:`TrainingDiverged` naming the epoch; its message lists the losses of
    the first ``shown`` members (all by default: the others are helpers, such as rounding replicas).
    """
    if not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ParameterError("epochs", f"must be a positive integer, got {epochs!r}")
    if tol is not None and not tol > 0:
        raise ParameterError("tol", f"must be positive, got {tol}")
    opt = make_optimizer(optimizer, model.parameters(), lr)
    # Algorithm 1's own update skips torch's per-step optimiser hooks (same arithmetic as opt.step()).
    step = opt.update if isinstance(opt, Algorithm1) else opt.step
    params = [p for p in model.parameters() if p.requires_grad]
    K = model.members
    active = torch.ones(K, dtype=torch.bool, device=target.device)
    iterations = torch.zeros(K, dtype=torch.long, device=target.device)
    history = []
    start = time.perf_counter()
    for epoch in tqdm(range(1, epochs + 1), disable=not progress, desc=f"train {model.kind}", leave=False):
        loss = trajectory_loss(model(y0, t), target)
        value = loss.detach()
        # the losses are >= 0: a finite sum means every member's loss is finite (else check each)
        if not math.isfinite(value.sum().item()):
            _check_finite(value, epoch, lr, shown)
        history.append(value)
        if tol is not None:
            active &= value >= tol
            if not active.any():
                break
            loss = loss * active  # stopped members get zero gradient and stay frozen
            iterations += active
        for p in params:  # fresh gradients each step: backward writes them instead of adding to zeros
            p.grad = None
        loss.sum().backward()
        step()
    if tol is None:
        iterations += epochs
    with torch.no_grad():
        final = trajectory_loss(model(y0, t), target)
    _check_finite(final, epochs, lr, shown)
    seconds = time.perf_counter() - start
    return TrainResult(
        history=torch.stack(history).cpu().numpy(),
        final_loss=final.cpu().numpy(),
        iterations=iterations.cpu().numpy(),
        seconds=seconds,
    )


def _check_finite(loss: torch.Tensor, epoch: int, lr: float, shown: int | None = None) -> None:
    if not torch.isfinite(loss).all():
        raise TrainingDiverged(
            f"training diverged: the loss became {loss[:shown].detach().cpu().numpy().tolist()} at epoch {epoch}; "
            f"try a smaller lr (was {lr})"
        )
