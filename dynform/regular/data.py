"""Training data from a linear system: regular trajectories and one-step pairs, and the four shapes of
training set the note's text allows (:data:`SAMPLES`)."""
from __future__ import annotations

import numpy as np

from ..solvers import rk4_step_matrix
from ..systems import LinearSystem

#: How training samples are made: the exact flow, or the classic RK4 the models use.
DATA: dict[str, str] = {"exact": "the matrix exponential", "rk4": "classic RK4 with the run's substeps"}

#: What the training set is: the note's Figure 1 shows one trajectory of 8 points; its section 3
#: opening describes pairs of initial and evolved states.
SAMPLES: dict[str, str] = {
    "trajectory": "one rollout of the points from y0 (Figure 1)",
    "pairs": "the one-step pairs along that rollout",
    "random-pairs": "one-step pairs from `states` random initial states in the box [-box, box]^n",
    "random-rollouts": "rollouts of the points from `states` random initial states in the box",
}


def time_grid(t0: float, t1: float, points: int) -> np.ndarray:
    """``points`` equally spaced times on ``[t0, t1]`` (the note's ``torch.linspace(t0, t1, points)``)."""
    return np.linspace(t0, t1, points)


def trajectory(
    system: LinearSystem, y0: np.ndarray, t: np.ndarray, mode: str = "exact", substeps: int = 1
) -> np.ndarray:
    """Samples ``y(t_k)``, shape ``(len(t), n)``, in float64.

    ``mode`` is a key of :data:`DATA` (validated by the config): ``exact`` uses the matrix exponential;
    ``rk4`` the same classic RK4 the models use (``substeps`` steps per interval), as the note does
    for Example 2.
    """
    y0 = np.asarray(y0, dtype=np.float64)
    if mode == "exact":
        return system.solution(y0, t)
    states = [y0]
    for dt in np.diff(t):
        R = np.linalg.matrix_power(rk4_step_matrix(system.A, dt / substeps), substeps)
        states.append(R @ states[-1])
    return np.stack(states)


def training_set(system: LinearSystem, y0: np.ndarray, t: np.ndarray, samples: str = "trajectory",
                 mode: str = "exact", substeps: int = 1, states: int = 8, box: float = 2.0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The times ``t_used`` (T,) and samples of the training set ``samples`` (a key of :data:`SAMPLES`,
    validated by the config), in float64.

    ``trajectory`` gives ``(len(t), n)``, as :func:`trajectory`; the others ``(B, T, n)``: ``B``
    series whose first point is given and whose later points are predicted. The pairs have ``T = 2``
    on ``t[:2]``. Random initial states are uniform in ``[-box, box]^n``, drawn from ``seed``.
    """
    if samples == "trajectory":
        return t, trajectory(system, y0, t, mode, substeps)
    if samples == "pairs":
        path = trajectory(system, y0, t, mode, substeps)
        return t[:2], np.stack([path[:-1], path[1:]], axis=1)
    starts = np.random.default_rng(seed).uniform(-box, box, size=(states, system.dim))
    grid = t[:2] if samples == "random-pairs" else t
    return grid, np.stack([trajectory(system, s, grid, mode, substeps) for s in starts])


def step_pairs(
    system: LinearSystem, count: int, dt: float, low: float = -2.0, high: float = 2.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random initial states, uniform in the box ``[low, high]^n``, and their exact images
    ``expm(A dt) y0`` one step later (the pair data of the note's section 3 opening)."""
    rng = np.random.default_rng(seed)
    y0 = rng.uniform(low, high, size=(count, system.dim))
    return y0, y0 @ system.flow_map(dt).T


def initial_state_grid(low: float, high: float, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``size x size`` grid of 2-d initial states: the two coordinate arrays and the states ``(size*size, 2)``."""
    axis = np.linspace(low, high, size)
    Y1, Y2 = np.meshgrid(axis, axis)
    return Y1, Y2, np.stack([Y1.ravel(), Y2.ravel()], axis=1)
