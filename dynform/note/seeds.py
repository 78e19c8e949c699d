"""Seed statistics: a table row trained for many seeds at once, and where one value falls among them."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import validation as check
from ..book.checks import Measured
from ..regular import RunConfig, RunResult, run
from .settings import EXAMPLES, stated


def seed_config(example: str, model: str, members: int = 16, seed: int = 0, **changes: Any) -> RunConfig:
    """Settings of row ``model`` of ``example``'s table (the note's stated settings) as an ensemble of
    the ``members`` seeds ``seed, ..., seed + members - 1``; validated, nothing trained."""
    check.choice("example", example, EXAMPLES)
    check.require("members", check.is_int(members) and members >= 2,
                  f"seed statistics need an integer >= 2, got {members!r}")
    return stated(example, model).with_(members=int(members), seed=seed, **changes)


def seed_ensemble(example: str, model: str, members: int = 16, seed: int = 0, **changes: Any) -> RunResult:
    """Row ``model`` of ``example``'s table trained for ``members`` seeds as one vectorized ensemble
    (:func:`seed_config`)."""
    return run(seed_config(example, model, members, seed, **changes))


def spread(values: np.ndarray) -> dict[str, float]:
    """Median, minimum, maximum, quartiles (numpy's linear interpolation) and interquartile range."""
    v = np.asarray(values, dtype=np.float64)
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(median), "min": float(v.min()), "max": float(v.max()),
            "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1)}


def percentile_of(value: float, sample: np.ndarray) -> float:
    """Percent of ``sample`` below ``value``, ties counted half (0: below all, 100: above all)."""
    s = np.asarray(sample, dtype=np.float64)
    return float(100.0 * (np.mean(s < value) + 0.5 * np.mean(s == value)))


def percentile_measured(value: float, sample: np.ndarray, rtol: float) -> Measured:
    """:func:`percentile_of` when every sample value may move by the fraction ``rtol`` under rounding:
    the midpoint of the percentiles at the two ends, with half their distance (and at least a tenth of
    one member's share) as its tolerance."""
    s = np.asarray(sample, dtype=np.float64)
    low = percentile_of(value, s * (1 + rtol))
    high = percentile_of(value, s * (1 - rtol))
    half = max((high - low) / 2, 10.0 / len(s))
    return Measured((low + high) / 2, half, band=half)
