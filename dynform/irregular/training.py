"""Training of the irregular-time models: full-batch Adam on each model's loss, through the shared loop."""
from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np
import torch

from ..fitting import fit
from .data import IrregularBatch
from .losses import masked_mse
from .models import IrregularModel


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


def train(model: IrregularModel, batch: IrregularBatch, epochs: int, lr: float) -> tuple[dict[str, np.ndarray], float]:
    """Full-batch Adam on ``model.loss`` scored on every point but the first of the training series.

    ``batch`` is stacked (one batch per member); the members' losses are summed, and Adam acts on each
    parameter entry separately, so every member trains as if alone. Returns the history (``loss`` and
    the model's loss terms, arrays of shape (epochs, K)) and the wall time. A NaN or infinite loss
    raises :class:`~dynform.errors.TrainingDiverged`.
    """
    score = all_but_first(batch)
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    model.train()
    record = fit(lambda: model.loss(batch, score), params, opt.step, epochs, lr, model.members)
    return record.history, record.seconds


def evaluate(model: IrregularModel, batch: IrregularBatch, mask: torch.Tensor) -> np.ndarray:
    """MSE per member of the model's prediction (decoded mean for the Latent ODE) over the points in ``mask``."""
    model.eval()
    with torch.no_grad():
        return masked_mse(model(batch), batch.y, mask).double().numpy()


