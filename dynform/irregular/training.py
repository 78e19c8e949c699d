"""Training of the irregular-time models: Adam on each model's loss, through the shared loop, with an
optional decaying learning rate and KL schedule."""
from __future__ import annotations

import contextlib
import itertools
from typing import Callable, Iterator

import numpy as np
import torch

from ..fitting import fit
from .data import IrregularBatch
from .losses import masked_mse
from .models import IrregularModel


#: The optimisers by name: Adam (the chapters' default) and Adamax (latent_ode's).
OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {"adam": torch.optim.Adam, "adamax": torch.optim.Adamax}


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """Run torch with ``n`` intra-op threads inside the block (one thread: deterministic and cheap)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def all_but_first(batch: IrregularBatch) -> torch.Tensor:
    """Mask of every point except the first of each series (the first is given, not predicted)."""
    score = torch.ones_like(batch.observed)
    score[..., 0] = False
    return score


def train(model: IrregularModel, batches: Callable[[int], IrregularBatch], epochs: int, lr: float,
          lr_decay: float = 1.0, lr_min: float = 0.0, kl_weight: Callable[[int], float] = lambda step: 1.0,
          optimizer: str = "adam", progress: bool = False,
          monitor: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], float]:
    """``epochs`` steps of ``optimizer`` (a key of :data:`OPTIMIZERS`) on ``model.loss``, step ``k`` on the stacked batch ``batches(k)`` scored on
    every point but the first of each series.

    The members' losses are summed, and the optimiser acts on each parameter entry separately, so every member
    trains as if alone. The learning rate is ``max(lr * lr_decay^k, lr_min)`` at step ``k``; the Latent
    ODE's KL term has weight ``kl_weight(k)``; ``monitor(k)`` is called after step ``k`` (from 1).
    Returns the history (``loss`` and the model's loss terms, arrays of shape (epochs, K)) and the
    wall time. A NaN or infinite loss raises
    :class:`~dynform.errors.TrainingDiverged`.
    """
    params = list(model.parameters())
    opt = OPTIMIZERS[optimizer](params, lr=lr)
    steps = itertools.count()
    decay = None if lr_decay == 1.0 else torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: max(lr_decay**k, lr_min / lr))

    def objective() -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        k = next(steps)
        batch = batches(k)
        return model.loss(batch, all_but_first(batch), kl_weight(k))

    def step() -> None:
        opt.step()
        if decay is not None:
            decay.step()

    model.train()
    record = fit(objective, params, step, epochs, lr, model.members, progress=progress, desc=model.kind,
                 monitor=monitor)
    return record.history, record.seconds


def evaluate(model: IrregularModel, batch: IrregularBatch, mask: torch.Tensor) -> np.ndarray:
    """MSE per member of the model's prediction (decoded mean for the Latent ODE) over the points in
    ``mask``, as float64 numpy (K,) whatever the device."""
    model.eval()
    with torch.no_grad():
        return masked_mse(model(batch), batch.y, mask).double().cpu().numpy()




def evaluate_both(model: IrregularModel, test: IrregularBatch) -> tuple[np.ndarray, np.ndarray]:
    """Test MSE per member in both conventions: over the held-out points, and over every point."""
    return evaluate(model, test, test.target), evaluate(model, test, torch.ones_like(test.target))
