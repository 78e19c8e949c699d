"""Irregularly sampled time series for section 4 of the note, with interpolation and extrapolation tasks.

Two sources:

* ``spiral`` and ``center``: trajectories of the note's two linear systems (:func:`dynform.get_system`)
  from random initial states in a box, each observed at its own random sorted times on ``[0, T]``
  (the first at ``t = 0``, so the initial state is always an observation).
* ``periodic``: the toy set of the public ``latent_ode`` code (Rubanova, Chen & Duvenaud, 2019),
  ``y = sin(2 pi f t) + z0`` with ``f ~ U[0.4, 0.8]`` and ``z0 = 1 + N(0, 0.1)``, one set of irregular
  times on ``[0, 5]`` shared by all series.

Every series has the same number of points, so a batch is three rectangular tensors: times ``(B, T)``,
values ``(B, T, n)`` and an observation mask ``(B, T)``. A task decides which points a model is given
(``observed``) and which it is scored on at test time (``target``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import torch

from ..systems import get_system

DATASETS: dict[str, str] = {
    "spiral": "note's Example 1, y' = A y, random initial states in [-2, 2]^2",
    "center": "note's Example 2, y' = A y, random initial states in [-2, 2]^2",
    "periodic": "latent_ode toy set, y = sin(2 pi f t) + z0",
}
TASKS: dict[str, str] = {
    "interp": "observe a random fraction of the points, predict the held-out points",
    "extrap": "observe the first half of the window, predict the second half",
}
#: Default window length T per dataset: about 1.6 turns of the spiral (period pi) and of the center
#: (period 2 pi / 10), and the latent_ode window [0, 5] for the periodic set.
WINDOWS: dict[str, float] = {"spiral": 5.0, "center": 1.0, "periodic": 5.0}


@dataclass
class IrregularBatch:
    """Series with per-series times; the first point of every series is observed.

    The shapes below may carry a leading member axis ``K`` (see :meth:`stack`): the models train ``K``
    independent members, each on its own batch, in one pass.
    """

    t: torch.Tensor  #: times, shape (B, T), sorted along T, t[:, 0] = 0
    y: torch.Tensor  #: values, shape (B, T, n)
    observed: torch.Tensor  #: bool (B, T): points the model is given as input
    target: torch.Tensor  #: bool (B, T): points scored at test time (the complement of ``observed``)

    def __len__(self) -> int:
        return self.t.shape[-2]

    @staticmethod
    def stack(batches: "list[IrregularBatch]") -> "IrregularBatch":
        """One batch with a leading member axis from batches of equal shapes."""
        return IrregularBatch(*(torch.stack([getattr(b, k) for b in batches]) for k in ("t", "y", "observed", "target")))

    def member(self, k: int) -> "IrregularBatch":
        """Member ``k`` of a stacked batch."""
        return IrregularBatch(self.t[k], self.y[k], self.observed[k], self.target[k])

    @property
    def dim(self) -> int:
        return self.y.shape[-1]

    def subset(self, index: slice | torch.Tensor) -> "IrregularBatch":
        """The series selected by ``index``."""
        return IrregularBatch(self.t[index], self.y[index], self.observed[index], self.target[index])

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "IrregularBatch":
        """The batch on ``device``, with times and values in ``dtype`` (masks stay boolean)."""
        return IrregularBatch(self.t.to(device, dtype), self.y.to(device, dtype), self.observed.to(device),
                              self.target.to(device))


@dataclass
class IrregularData:
    """A train/test split by series of one dataset under one task."""

    name: str
    task: str
    train: IrregularBatch
    test: IrregularBatch
    window: float  #: T, the length of the time window


def irregular_times(rng: np.random.Generator, count: int, points: int, window: float) -> np.ndarray:
    """``count`` rows of ``points`` sorted times: 0, then ``points - 1`` uniform draws on (0, window]."""
    draws = np.sort(rng.uniform(0.0, window, size=(count, points - 1)), axis=1)
    return np.concatenate([np.zeros((count, 1)), draws], axis=1)


def linear_series(system: str, t: np.ndarray, rng: np.random.Generator, box: float = 2.0) -> np.ndarray:
    """Exact trajectories ``expm(A t) y0`` of ``system`` at times ``t`` (B, T) from y0 uniform in the box."""
    A = get_system(system).A
    y0 = rng.uniform(-box, box, size=(t.shape[0], A.shape[0]))
    flows = scipy.linalg.expm(A[None, None] * t[..., None, None])  # (B, T, n, n)
    return np.einsum("btij,bj->bti", flows, y0)


def periodic_series(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The latent_ode periodic set at times ``t`` (B, T): sin(2 pi f t) + z0, shape (B, T, 1)."""
    f = rng.uniform(0.4, 0.8, size=(t.shape[0], 1))
    z0 = 1.0 + rng.normal(0.0, 0.1, size=(t.shape[0], 1))
    return (np.sin(2 * np.pi * f * t) + z0)[..., None]


def task_masks(t: np.ndarray, task: str, rng: np.random.Generator, obs_frac: float, window: float) -> np.ndarray:
    """Boolean observation mask (B, T) for ``task``; the first point is always observed.

    ``interp``: besides the first point, ``round(obs_frac * (T - 1))`` points chosen at random in each
    series. ``extrap``: the points with ``t <= window / 2``.
    """
    B, T = t.shape
    if task == "interp":
        keep = int(round(obs_frac * (T - 1)))
        order = np.argsort(rng.uniform(size=(B, T - 1)), axis=1)[:, :keep] + 1
        mask = np.zeros((B, T), dtype=bool)
        np.put_along_axis(mask, order, True, axis=1)
    else:
        mask = t <= window / 2
    mask[:, 0] = True
    return mask


def draw_values(name: str, task: str, t: np.ndarray, rng: np.random.Generator, obs_frac: float, noise: float,
                window: float) -> IrregularBatch:
    """Series of ``name`` at the times ``t`` (B, T) with noise of standard deviation ``noise`` and the
    observation mask of ``task``, drawn from ``rng`` in that order."""
    y = periodic_series(t, rng) if name == "periodic" else linear_series(name, t, rng)
    y = y + noise * rng.normal(size=y.shape)
    observed = task_masks(t, task, rng, obs_frac, window)
    return IrregularBatch(
        t=torch.as_tensor(t, dtype=torch.float32),
        y=torch.as_tensor(y, dtype=torch.float32),
        observed=torch.as_tensor(observed),
        target=torch.as_tensor(~observed),
    )


def draw_times(name: str, rng: np.random.Generator, count: int, points: int, window: float) -> np.ndarray:
    """Times (count, points) of ``count`` series: one set shared by all series for the periodic set (as
    latent_ode draws it), one set per series otherwise."""
    if name == "periodic":
        return np.repeat(irregular_times(rng, 1, points, window), count, axis=0)
    return irregular_times(rng, count, points, window)


def make_dataset(
    name: str = "spiral",
    task: str = "interp",
    series: int = 80,
    points: int = 40,
    train_frac: float = 0.75,
    obs_frac: float = 0.5,
    noise: float = 0.01,
    window: float | None = None,
    seed: int = 0,
) -> IrregularData:
    """Draw ``series`` irregular series of ``points`` points, mask them for ``task`` and split them.

    The first ``round(train_frac * series)`` series train, the rest test (a split by series, so no
    test trajectory is seen in training). Gaussian noise of standard deviation ``noise`` is added to
    every value. The periodic set uses one set of times for all series, as latent_ode does. The
    settings come validated from :class:`~dynform.irregular.IrregularConfig`.
    """
    n_train = int(round(train_frac * series))
    window = WINDOWS[name] if window is None else window
    rng = np.random.default_rng(seed)
    batch = draw_values(name, task, draw_times(name, rng, series, points, window), rng, obs_frac, noise, window)
    return IrregularData(name, task, batch.subset(slice(0, n_train)), batch.subset(slice(n_train, series)), window)
