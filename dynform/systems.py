"""Linear systems y' = A y: matrices, exact flow maps, eigen-structure and phase-portrait type.

Convention: states are column vectors and the system is ``y' = A y``. (torchdiffeq's ``ode_demo``
writes ``y @ A`` with row vectors, i.e. it integrates ``y' = A^T y``.)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from .errors import ParameterError

#: The note's two examples: Example 1 (section 3.1) and Example 2 (section 3.2).
NAMED_MATRICES: dict[str, list[list[float]]] = {
    "spiral": [[-0.1, 2.0], [-2.0, -0.1]],
    "center": [[-0.1, 10.0], [-10.0, 0.1]],
}


@dataclass(frozen=True)
class LinearSystem:
    """The linear ODE ``y' = A y`` for a square float64 matrix ``A``."""

    A: np.ndarray
    name: str = "custom"
    _A: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        A = np.array(self.A, dtype=np.float64)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise ParameterError("A", f"must be a square matrix, got shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise ParameterError("A", "must contain finite numbers only")
        A.setflags(write=False)
        object.__setattr__(self, "A", A)

    @property
    def dim(self) -> int:
        """Dimension n of the state."""
        return self.A.shape[0]

    def flow_map(self, dt: float) -> np.ndarray:
        """Exact one-step map ``B = expm(A dt)``, so that ``y(t + dt) = B y(t)``."""
        return scipy.linalg.expm(self.A * dt)

    def solution(self, y0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Exact trajectory ``y(t_k) = expm(A (t_k - t_0)) y0``, shape ``(len(t), n)``."""
        y0 = np.asarray(y0, dtype=np.float64)
        t = np.asarray(t, dtype=np.float64)
        return np.stack([self.flow_map(tk - t[0]) @ y0 for tk in t])

    def eigen(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues and unit eigenvectors (columns), as numpy's ``eig`` returns them."""
        return np.linalg.eig(self.A)

    def classify(self, rtol: float = 1e-12) -> str:
        """Phase-portrait type of the origin from the eigenvalues.

        One of ``stable spiral``, ``unstable spiral``, ``center``, ``stable node``,
        ``unstable node``, ``saddle`` or ``degenerate``.
        """
        values = np.linalg.eigvals(self.A)
        scale = max(np.abs(values).max(), 1.0)
        re = np.where(np.abs(values.real) <= rtol * scale, 0.0, values.real)
        rotating = np.any(np.abs(values.imag) > rtol * scale)
        if np.any(re == 0.0) and not rotating:
            return "degenerate"
        if np.any(re > 0) and np.any(re < 0):
            return "saddle"
        if rotating:
            if np.all(re == 0.0):
                return "center"
            return "stable spiral" if np.all(re < 0) else "unstable spiral"
        return "stable node" if np.all(re < 0) else "unstable node"


def parse_matrix(text: str) -> np.ndarray:
    """Parse ``"a,b;c,d"`` (rows separated by ``;``) into a float64 matrix."""
    try:
        rows = [[float(x) for x in row.split(",")] for row in text.split(";")]
    except ValueError:
        raise ParameterError("A", f"must be numbers written 'a,b;c,d', got {text!r}") from None
    if len({len(r) for r in rows}) != 1:
        raise ParameterError("A", f"rows have different lengths in {text!r}")
    return np.array(rows, dtype=np.float64)


def get_system(spec: str | np.ndarray | LinearSystem, dim: int | None = 2) -> LinearSystem:
    """A system from a name in :data:`NAMED_MATRICES`, a matrix string ``"a,b;c,d"`` or an array.

    ``dim`` (2 by default, ``None`` for any) is the size the matrix must have.
    """
    if isinstance(spec, LinearSystem):
        system = spec
    elif isinstance(spec, str) and spec in NAMED_MATRICES:
        system = LinearSystem(np.array(NAMED_MATRICES[spec]), name=spec)
    elif isinstance(spec, str):
        if not any(c.isdigit() for c in spec):
            known = ", ".join(NAMED_MATRICES)
            raise ParameterError("system", f"unknown system {spec!r} (known: {known}, or a matrix 'a,b;c,d')")
        system = LinearSystem(parse_matrix(spec))
    else:
        system = LinearSystem(np.asarray(spec, dtype=np.float64))
    if dim is not None and system.A.shape != (dim, dim):
        raise ParameterError("A", f"must be {dim}x{dim}, got {system.A.shape[0]}x{system.A.shape[1]}")
    return system
