"""The loss of a matrix model as a function of its matrix: where the surface leads from a start,
whether that is a minimum, and the loss along a straight path between two matrices.

:func:`flow` follows the gradient flow ``dM/ds = -grad L(M)`` from a start (scipy's stiff
integrator on the float64 loss of :func:`dynform.regular.experiment.matrix_objective`, with its
exact gradient from autograd) and polishes its end with BFGS: it answers which basin a start lies
in, independently of any optimiser's step size. :func:`descend` is BFGS alone, whose line searches
may cross from one basin into another. The curvature is the eigenvalues of the exact Hessian at the
end.
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


def _value_and_gradient(config: RunConfig, n: int):
    objective = matrix_objective(config)

    def value_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        M = torch.tensor(x.reshape(n, n), dtype=torch.float64, requires_grad=True)
        loss = objective(M)
        (grad,) = torch.autograd.grad(loss, M)
        return float(loss.detach()), grad.numpy().ravel()

    return objective, value_and_gradient


def descend(config: RunConfig, start: np.ndarray, gtol: float = 1e-9) -> Stationary:
    """Where BFGS from ``start`` (n, n) ends on the float64 loss of ``config``'s matrix model."""
    n = int(np.sqrt(np.size(start)))
    objective, value_and_gradient = _value_and_gradient(config, n)
    res = scipy.optimize.minimize(value_and_gradient, np.asarray(start, dtype=np.float64).ravel(), jac=True,
                                  method="BFGS", options={"gtol": gtol, "maxiter": 10_000})
    loss, grad = value_and_gradient(res.x)
    H = torch.autograd.functional.hessian(lambda m: objective(m.reshape(n, n)), torch.as_tensor(res.x))
    return Stationary(res.x.reshape(n, n), loss, float(np.abs(grad).max()),
                      np.linalg.eigvalsh(0.5 * (H + H.T).numpy()))


#: How long :func:`flow` follows the gradient flow, in its own time ``s``: long against the slowest
#: curvature of the minima it finds (about 3e-3, a time scale of a few hundred).
FLOW_TIME = 1e6


def flow(config: RunConfig, start: np.ndarray, time: float = FLOW_TIME) -> Stationary:
    """Where the gradient flow ``dM/ds = -grad L(M)`` from ``start`` (n, n) leads on the float64 loss
    of ``config``'s matrix model: integrated to ``time`` with scipy's stiff LSODA (tolerances 1e-10),
    then polished by :func:`descend` from its end, which lies deep inside the basin it reached."""
    import scipy.integrate

    n = int(np.sqrt(np.size(start)))
    _, value_and_gradient = _value_and_gradient(config, n)
    sol = scipy.integrate.solve_ivp(lambda s, x: -value_and_gradient(x)[1], (0.0, time),
                                    np.asarray(start, dtype=np.float64).ravel(), method="LSODA", rtol=1e-10,
                                    atol=1e-10)
    if not sol.success:
        raise RuntimeError(f"the gradient flow from {np.asarray(start).tolist()} failed: {sol.message}")
    return descend(config, sol.y[:, -1].reshape(n, n))


def along(config: RunConfig, start: np.ndarray, end: np.ndarray, points: int = 41) -> tuple[np.ndarray, np.ndarray]:
    """The fractions ``s`` (points,) and the loss at ``(1 - s) start + s end`` for each."""
    objective = matrix_objective(config)
    s = np.linspace(0.0, 1.0, points)
    with torch.no_grad():
        losses = [float(objective(torch.as_tensor((1 - f) * np.asarray(start) + f * np.asarray(end),
                                                  dtype=torch.float64))) for f in s]
    return s, np.array(losses)


def loss_range(config: RunConfig, M: np.ndarray, half: float) -> tuple[float, float]:
    """The smallest and largest float64 loss of ``config``'s matrix model over the matrices within
    ``half`` of ``M`` (n, n) in every entry: what a matrix printed as ``M`` to a last digit of
    ``2 half`` can score (scipy's L-BFGS-B on the box, from its center, for both ends)."""
    n = int(np.sqrt(np.size(M)))
    _, value_and_gradient = _value_and_gradient(config, n)
    x0 = np.asarray(M, dtype=np.float64).ravel()
    box = [(v - half, v + half) for v in x0]
    ends = []
    for sign in (1.0, -1.0):
        def signed(x: np.ndarray, sign: float = sign) -> tuple[float, np.ndarray]:
            value, grad = value_and_gradient(x)
            return sign * value, sign * grad

        res = scipy.optimize.minimize(signed, x0, jac=True, method="L-BFGS-B", bounds=box)
        ends.append(float(value_and_gradient(res.x)[0]))
    return min(ends[0], value_and_gradient(x0)[0]), max(ends[1], value_and_gradient(x0)[0])


#: Where a gradient flow can end, in words.
SECOND, FIT = "a second minimum", "the fit next to A"


def basin(config: RunConfig, start: np.ndarray, A: np.ndarray) -> tuple[str, Stationary]:
    """Which basin ``start`` (n, n) lies in: :data:`FIT` when the gradient flow from it (:func:`flow`)
    ends where the flow from ``A`` ends (to 1e-6 in every entry), else :data:`SECOND`; with the end."""
    end, fit = flow(config, start), flow(config, A)
    return (FIT if np.abs(end.M - fit.M).max() <= 1e-6 else SECOND), end
