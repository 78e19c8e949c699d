"""The loss of a matrix model as a function of its matrix: where descent from a start ends, whether
that is a minimum, and the loss along a straight path between two matrices.

Descent is scipy's BFGS on the float64 loss of :func:`dynform.regular.experiment.matrix_objective`,
with its exact gradient (autograd); the curvature is the eigenvalues of the exact Hessian there. It
answers where the loss surface leads from a start, independently of any optimiser's step size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.optimize
import torch

from ..regular.experiment import RunConfig, matrix_objective


@dataclass(frozen=True)
class Stationary:
    """Where descent stopped: the matrix ``M`` (n, n), its loss, the largest gradient entry and the
    Hessian's eigenvalues (ascending, n*n of them)."""

    M: np.ndarray
    loss: float
    gradient: float
    curvature: np.ndarray

    @property
    def is_minimum(self) -> bool:
        """All curvatures positive: a strict local minimum."""
        return bool(self.curvature[0] > 0)

    @property
    def distance_bound(self) -> float:
        """How far the exact minimum can lie from ``M`` (largest entry), for a loss quadratic near it:
        ``|gradient|_2 / smallest curvature`` (infinite where that is not positive)."""
        if not self.is_minimum:
            return float("inf")
        return float(np.sqrt(self.M.size) * self.gradient / self.curvature[0])


def descend(config: RunConfig, start: np.ndarray, gtol: float = 1e-9) -> Stationary:
    """Where BFGS from ``start`` (n, n) ends on the float64 loss of ``config``'s matrix model."""
    objective = matrix_objective(config)
    n = int(np.sqrt(np.size(start)))

    def value_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        M = torch.tensor(x.reshape(n, n), dtype=torch.float64, requires_grad=True)
        loss = objective(M)
        (grad,) = torch.autograd.grad(loss, M)
        return float(loss.detach()), grad.numpy().ravel()

    res = scipy.optimize.minimize(value_and_gradient, np.asarray(start, dtype=np.float64).ravel(), jac=True,
                                  method="BFGS", options={"gtol": gtol, "maxiter": 10_000})
    loss, grad = value_and_gradient(res.x)
    H = torch.autograd.functional.hessian(lambda m: objective(m.reshape(n, n)), torch.as_tensor(res.x))
    return Stationary(res.x.reshape(n, n), loss, float(np.abs(grad).max()),
                      np.linalg.eigvalsh(0.5 * (H + H.T).numpy()))


def along(config: RunConfig, start: np.ndarray, end: np.ndarray, points: int = 41) -> tuple[np.ndarray, np.ndarray]:
    """The fractions ``s`` (points,) and the loss at ``(1 - s) start + s end`` for each."""
    objective = matrix_objective(config)
    s = np.linspace(0.0, 1.0, points)
    with torch.no_grad():
        losses = [float(objective(torch.as_tensor((1 - f) * np.asarray(start) + f * np.asarray(end),
                                                  dtype=torch.float64))) for f in s]
    return s, np.array(losses)
