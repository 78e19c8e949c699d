"""Test problems with known solutions, shared by the test files (torchdiffeq's ``tests/problems.py`` habit).

* Linear systems whose flow is known in closed form: a rotation, a diagonal decay, the note's spiral.
* Small irregular data sets and the one-member batch the irregular models read.
"""
from __future__ import annotations

import numpy as np
import torch

from dynform import get_system
from dynform.irregular.data import IrregularBatch, make_dataset
from dynform.irregular.gaps import IntervalSolver
from dynform.solvers import resolve

#: name -> (matrix A, closed-form solution ``y(t)`` from ``y0``, shape (len(t), 2)).
LINEAR = {
    # y' = [[0, 1], [-1, 0]] y: a rotation by -t
    "rotation": (np.array([[0.0, 1.0], [-1.0, 0.0]]),
                 lambda y0, t: np.stack([y0[0] * np.cos(t) + y0[1] * np.sin(t),
                                         -y0[0] * np.sin(t) + y0[1] * np.cos(t)], axis=1)),
    # y' = diag(-1, -2) y
    "decay": (np.diag([-1.0, -2.0]), lambda y0, t: np.stack([y0[0] * np.exp(-t), y0[1] * np.exp(-2 * t)], axis=1)),
    # the note's spiral, y' = [[-0.1, 2], [-2, -0.1]] y: exp(-0.1 t) times a rotation by -2t
    "spiral": (get_system("spiral").A,
               lambda y0, t: np.exp(-0.1 * t)[:, None] * np.stack(
                   [y0[0] * np.cos(2 * t) + y0[1] * np.sin(2 * t), -y0[0] * np.sin(2 * t) + y0[1] * np.cos(2 * t)],
                   axis=1)),
}

#: A small irregular data set: 12 series of 10 points.
SMALL = dict(series=12, points=10)
#: Classic RK4 across each gap in one step.
RK4 = IntervalSolver(resolve("rk4"))


def spiral_series(seed: int = 3):
    """The small spiral interpolation set."""
    return make_dataset("spiral", "interp", **SMALL, seed=seed)


def one(batch: IrregularBatch) -> IrregularBatch:
    """A batch for a one-member model."""
    return IrregularBatch.stack([batch])


class Fn:
    """A stand-in ODE field with a fixed function."""

    def __init__(self, fn):
        self.fn = fn

    def function(self):
        return self.fn


def as_tensor(x: np.ndarray) -> torch.Tensor:
    """float64 tensor of ``x``."""
    return torch.tensor(np.array(x), dtype=torch.float64)
