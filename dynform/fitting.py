"""The one training loop: full-batch gradient steps on a per-member loss, for both halves.

The regular models train with :func:`dynform.regular.training.train`, the irregular ones with
:func:`dynform.irregular.training.train`; both hand their objective to :func:`fit`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from tqdm import tqdm

from .errors import diverged

#: ``() -> (loss per member (K,), extra per-member terms to record)``
Objective = Callable[[], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class Fit:
    """What :func:`fit` returns; arrays have one column per member."""

    history: dict[str, np.ndarray]  #: ``loss`` and the objective's terms before each step, (steps, K)
    iterations: np.ndarray  #: optimiser steps each member took, (K,)
    seconds: float  #: wall time of the loop


def check_finite(loss: torch.Tensor, epoch: int, lr: float, shown: int | None = None) -> None:
    """Raise :class:`~dynform.errors.TrainingDiverged` if any entry of ``loss`` (K,) is not finite; the
    message lists the first ``shown`` members (all by default)."""
    if not torch.isfinite(loss).all():
        raise diverged(loss[:shown].detach().cpu().tolist(), epoch, lr)


def fit(objective: Objective, params: Sequence[torch.Tensor], step: Callable[[], None], epochs: int, lr: float,
        members: int, tol: float | None = None, shown: int | None = None, progress: bool = False,
        desc: str = "train", monitor: Callable[[int], None] | None = None) -> Fit:
    """At most ``epochs`` steps of ``step`` (an optimiser update) on the summed member losses.

    With ``tol``, a member stops (its loss is masked, so its parameters freeze) at its first loss below
    ``tol``, and the loop ends when all have stopped. A NaN or infinite loss raises
    :class:`~dynform.errors.TrainingDiverged` naming the epoch and the losses of the first ``shown`` members.
    ``monitor(k)``, if given, is called after the ``k``-th step (from 1); it must not touch the parameters.
    """
    active = torch.ones(members, dtype=torch.bool)
    iterations = torch.zeros(members, dtype=torch.long)
    history: dict[str, list[torch.Tensor]] = {}
    start = time.perf_counter()
    for epoch in tqdm(range(1, epochs + 1), disable=not progress, desc=desc, leave=False):
        loss, terms = objective()
        value = loss.detach()
        # the losses are >= 0 or finite sums: a finite total means every member's loss is finite
        if not math.isfinite(value.sum().item()):
            check_finite(value, epoch, lr, shown)
        for key, v in {"loss": value, **terms}.items():
            history.setdefault(key, []).append(v)
        if tol is not None:
            active &= (value >= tol).cpu()
            if not active.any():
                break
            loss = loss * active.to(loss.device)  # stopped members get zero gradient and stay frozen
            iterations += active
        for p in params:  # fresh gradients each step: backward writes them instead of adding to zeros
            p.grad = None
        loss.sum().backward()
        step()
        if monitor is not None:
            monitor(epoch)
    if tol is None:
        iterations += epochs
    return Fit({k: torch.stack(v).cpu().numpy() for k, v in history.items()}, iterations.numpy(),
               time.perf_counter() - start)
