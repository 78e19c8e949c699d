"""What the chapter reads off a trained irregular-time model beyond its test error: predictions on a
dense time grid, the test error against the fraction of points observed, and the Latent ODE's
posterior and prior samples. Each takes one member (:class:`~dynform.irregular.IrregularResult`)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import numpy as np
import torch

from .data import IrregularBatch, task_masks
from .experiment import IrregularResult
from .losses import masked_mse
from .training import threads


def dense_times(batch: IrregularBatch, until: float, count: int = 200) -> torch.Tensor:
    """``count`` equally spaced times on ``[0, until]`` for every series of ``batch``: (B, count)."""
    grid = torch.linspace(0.0, until, count, dtype=batch.t.dtype)
    return grid.expand(batch.t.shape[0], count).contiguous()


def dense_predictions(result: IrregularResult, batch: IrregularBatch, until: float,
                      count: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """The member's predictions on a dense grid of ``[0, until]`` given the observed points of
    ``batch``: times (B, count) and values (B, count, n), float64."""
    times = dense_times(batch, until, count)
    stacked = result.stacked(batch)
    result.model.eval()
    with torch.no_grad(), threads(1):
        pred = result.model.dense(stacked, times.expand(result.model.members, -1, -1).to(stacked.t.dtype))
    return times.double().numpy(), pred[result.member].double().numpy()


def observe(batch: IrregularBatch, fraction: float, seed: int = 0) -> IrregularBatch:
    """``batch`` with the first point and ``round(fraction (T - 1))`` others of each series observed
    (drawn with ``seed``), the rest held out: the interpolation task at another fraction."""
    rng = np.random.default_rng(seed)
    observed = torch.as_tensor(task_masks(batch.t.double().numpy(), "interp", rng, fraction, 0.0))
    return replace(batch, observed=observed, target=~observed)


def mse_by_fraction(results: Sequence[IrregularResult], fractions: Sequence[float], seed: int = 0) -> np.ndarray:
    """Test MSE over the held-out points of each member's test series with each fraction of points
    observed (the models trained at their own fraction), for members of one model: shape
    (len(results), len(fractions)). All members run in one pass per fraction."""
    model = results[0].model
    if any(r.model is not model for r in results):
        raise ValueError("results must be members of one model")
    data = {r.member: r.data.test for r in results}
    tests = [data.get(k, results[0].data.test) for k in range(model.members)]
    out = np.zeros((len(results), len(fractions)))
    model.eval()
    for j, fraction in enumerate(fractions):
        batch = IrregularBatch.stack([observe(t, fraction, seed) for t in tests]).to(dtype=next(model.parameters()).dtype)
        with torch.no_grad(), threads(1):
            err = masked_mse(model(batch), batch.y, batch.target).double().numpy()
        out[:, j] = [err[r.member] for r in results]
    return out


def posterior_samples(result: IrregularResult, batch: IrregularBatch, until: float, draws: int = 50,
                      seed: int = 0, prior: bool = False, count: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """A Latent ODE member's decoded trajectories on a dense grid of ``[0, until]`` from ``draws``
    samples of ``q(z_0 | observed points of batch)``, or of the prior with ``prior``: times (B, count)
    and values (draws, B, count, n)."""
    times = dense_times(batch, until, count)
    stacked = result.stacked(batch)
    with threads(1):
        samples = result.model.sample(stacked, draws, seed=seed, prior=prior,
                                      times=times.expand(result.model.members, -1, -1).to(stacked.t.dtype))
    return times.double().numpy(), samples[:, result.member].double().numpy()


def posterior_band(result: IrregularResult, batch: IrregularBatch, fraction: float, draws: int = 100,
                   seed: int = 0, observe_seed: int = 1) -> dict[str, Any]:
    """The 5-95% band of a Latent ODE member's posterior trajectories on the first series of ``batch``
    with ``fraction`` of its points observed (:func:`observe` with ``observe_seed``), on a dense grid
    of the window: its mean ``width``, the share of the held-out points inside it (``coverage``), the
    grid ``times`` (G,), the ``samples`` (draws, G) and the series as observed (``seen``)."""
    seen = observe(batch.subset(slice(0, 1)), fraction, observe_seed)
    times, samples = posterior_samples(result, seen, until=result.data.window, draws=draws, seed=seed)
    times, samples = times[0], samples[:, 0, :, 0]
    low, high = np.quantile(samples, [0.05, 0.95], axis=0)
    t, y, held = seen.t[0].double().numpy(), seen.y[0, :, 0].double().numpy(), seen.target[0].numpy()
    inside = (y >= np.interp(t, times, low)) & (y <= np.interp(t, times, high))
    return {"width": float((high - low).mean()), "coverage": float(inside[held].mean()), "times": times,
            "samples": samples, "seen": seen}
