"""What sampling and the RK4 solver do to a linear system y' = A y: aliasing, stability, solver bias.

* Aliasing: samples ``dt`` apart only see the one-step map ``expm(A dt)``; the rate that map reveals
  is its principal logarithm ``logm(expm(A dt)) / dt``, which equals ``A`` only when the rotation per
  sample is below half a turn.
* Stability: one classic RK4 step multiplies an eigen-component by ``R(lambda h)``; on the imaginary
  axis ``|R(iy)| <= 1`` exactly for ``|y|`` up to a limit computed here from ``R`` itself.
* Solver bias: with exact data, a linear Neural ODE solved by RK4 fits the field ``M`` with
  ``R(hM) = expm(hA)``, not ``A``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .. import validation as check
from ..errors import ParameterError
from ..solvers import rk4_amplification

#: Degree of the classic RK4 stability polynomial R(z).
RK4_DEGREE = 4


def _square(A: np.ndarray) -> np.ndarray:
    A = np.array(A, dtype=np.float64)  # a writable copy
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.all(np.isfinite(A)):
        raise ParameterError("A", f"must be a finite square matrix, got shape {A.shape}")
    return A


def _real_if_close(X: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """``X.real`` when the imaginary part is negligible, else ``X`` unchanged (complex)."""
    X = np.asarray(X)
    if np.iscomplexobj(X) and np.abs(X.imag).max() <= rtol * max(np.abs(X).max(), 1.0):
        return X.real.copy()
    return X


@dataclass(frozen=True)
class Aliasing:
    """How a rotating linear system looks when sampled every ``dt``."""

    omega: float  #: angular frequency, the largest |Im lambda| of A (rad per unit time)
    dt: float  #: sample spacing
    angle: float  #: rotation per sample, omega * dt (rad)
    turns: float  #: the same as a fraction of a full turn, angle / (2 pi)
    apparent_angle: float  #: angle wrapped into (-pi, pi]: the rotation the samples show
    apparent_omega: float  #: apparent_angle / dt, the frequency the samples show
    rate: np.ndarray  #: principal matrix logarithm logm(expm(A dt)) / dt

    @property
    def aliased(self) -> bool:
        """True when the samples show a different rotation than A has (more than half a turn per sample)."""
        return abs(self.angle - self.apparent_angle) > 1e-12


def aliasing(A: np.ndarray, dt: float) -> Aliasing:
    """Rotation per sample of ``y' = A y`` sampled every ``dt`` and the rate the samples reveal."""
    A = _square(A)
    dt = check.positive("dt", dt)
    omega = float(np.abs(np.linalg.eigvals(A).imag).max())
    angle = omega * dt
    apparent = math.remainder(angle, 2 * math.pi)  # nearest-integer rounding: result in [-pi, pi]
    rate = _real_if_close(scipy.linalg.logm(scipy.linalg.expm(A * dt))) / dt
    return Aliasing(omega, dt, angle, angle / (2 * math.pi), apparent, apparent / dt, rate)


def _rk4_coefficients() -> np.ndarray:
    """Coefficients c_0..c_4 of R(z) = sum c_k z^k, read off :func:`rk4_amplification` by
    interpolation at 5 points (exact for a polynomial of degree 4, up to rounding)."""
    z = np.arange(RK4_DEGREE + 1, dtype=np.float64) - RK4_DEGREE / 2
    V = np.vander(z, RK4_DEGREE + 1, increasing=True)
    return np.linalg.solve(V, np.asarray(rk4_amplification(z), dtype=np.float64))


def rk4_imaginary_limit() -> float:
    """The largest y with |R(iy')| <= 1 for all |y'| <= y: RK4's stability interval on the imaginary axis.

    Computed as the smallest positive root of the real polynomial |R(iy)|^2 - 1 = R(iy) R(-iy) - 1.
    """
    c = _rk4_coefficients()
    k = np.arange(len(c))
    plus, minus = c * (1j) ** k, c * (-1j) ** k
    P = np.polynomial.polynomial.polymul(plus, minus).real
    P[0] -= 1.0
    P[np.abs(P) < 1e-12] = 0.0  # the constant and odd terms cancel exactly; drop rounding noise
    roots = np.polynomial.polynomial.polyroots(np.trim_zeros(P, "b"))
    positive = roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 1e-6)].real
    return float(positive.min())


def rk4_growth(A: np.ndarray, h: float) -> np.ndarray:
    """|R(lambda h)| for each eigenvalue lambda of ``A``: the factor one RK4 step of size ``h`` applies
    to that eigen-component (the exact flow applies |exp(lambda h)|)."""
    A = _square(A)
    h = check.positive("h", h)
    return np.abs(rk4_amplification(np.linalg.eigvals(A) * h))


def rk4_bias_matrix(A: np.ndarray, h: float) -> np.ndarray:
    """The field ``M`` whose one RK4 step equals the exact flow: ``R(hM) = expm(hA)``.

    For each eigenvalue lambda of ``A`` the quartic ``R(z) = exp(h lambda)`` is solved and the root
    nearest ``h lambda`` kept; then ``M = V diag(z / h) V^{-1}`` with the eigenvectors ``V`` of ``A``.
    ``A`` must be diagonalizable. Returns a real matrix when ``A`` is real.
    """
    A = _square(A)
    h = check.positive("h", h)
    values, V = np.linalg.eig(A)
    if np.linalg.cond(V) > 1e8:
        raise ParameterError("A", "must be diagonalizable (its eigenvectors are nearly dependent)")
    c = _rk4_coefficients().astype(complex)
    z = np.empty_like(values, dtype=complex)
    for i, lam in enumerate(values):
        poly = c.copy()
        poly[0] -= np.exp(h * lam)
        roots = np.polynomial.polynomial.polyroots(poly)
        z[i] = roots[np.argmin(np.abs(roots - h * lam))]
    M = V @ np.diag(z / h) @ np.linalg.inv(V)
    return _real_if_close(M)
