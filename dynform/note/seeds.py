"""Seed statistics: a table row trained for many seeds at once, its spread, and how many seeds the
book's distributions need.

The number of seeds, :data:`SEEDS`, is chosen from a measurement (:func:`chosen_size`): the
committed rounding measurement (:mod:`dynform.book.sensitivity`) records, for every row of Tables 1
and 2, the median over the first 16, 64 and 256 seeds (:data:`ENSEMBLE_SIZES`) under every
rounding variant. A median that rounding moves by a large share of the seed spread cannot place the
note's value inside that spread; more seeds steady it, at a cost that grows with their number.
:data:`SIZE_RULE` states where the book stops.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .. import validation as check
from ..regular import RunConfig, RunResult, run
from .settings import EXAMPLES, stated

#: The ensemble sizes the measurement compares.
ENSEMBLE_SIZES = (16, 64, 256)
#: The seeds of every trained distribution the book shows (the seed ensembles, the setup search):
#: the size :func:`chosen_size` picks from the committed measurement.
SEEDS = 64
#: What quadrupling the seeds would do to a median that only sampling moved: halve its movement.
SAMPLING_GAIN = 2.0
SIZE_RULE = (f"the smallest of {', '.join(map(str, ENSEMBLE_SIZES))} seeds after which quadrupling the seeds "
             f"no longer shrinks the largest movement of a row's median under rounding (over the rows of Tables 1 "
             f"and 2 whose loss depends on the seed, as a share of their interquartile range) by the factor "
             f"{SAMPLING_GAIN:g} that sampling alone would give: beyond it, more seeds cost more than they steady "
             f"the median")


def seed_config(example: str, model: str, members: int = SEEDS, seed: int = 0, **changes: Any) -> RunConfig:
    """Settings of row ``model`` of ``example``'s table (the note's stated settings) as an ensemble of
    the ``members`` seeds ``seed, ..., seed + members - 1``; validated, nothing trained."""
    check.choice("example", example, EXAMPLES)
    check.require("members", check.is_int(members) and members >= 2,
                  f"seed statistics need an integer >= 2, got {members!r}")
    return stated(example, model).with_(members=int(members), seed=seed, **changes)


def seed_ensemble(example: str, model: str, members: int = SEEDS, seed: int = 0, **changes: Any) -> RunResult:
    """Row ``model`` of ``example``'s table trained for ``members`` seeds as one vectorized ensemble
    (:func:`seed_config`)."""
    return run(seed_config(example, model, members, seed, **changes))


def spread(values: np.ndarray) -> dict[str, float]:
    """Median, minimum, maximum, quartiles (numpy's linear interpolation) and interquartile range."""
    v = np.asarray(values, dtype=np.float64)
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    return {"median": float(median), "min": float(v.min()), "max": float(v.max()),
            "q1": float(q1), "q3": float(q3), "iqr": float(q3 - q1)}


def size_statistics(losses: np.ndarray) -> dict[str, float]:
    """``median@N`` and ``iqr@N`` of the first ``N`` of ``losses`` (members,) for every ``N`` of
    :data:`ENSEMBLE_SIZES` (members are independent, so the first ``N`` are an ensemble of ``N``)."""
    out = {}
    for n in ENSEMBLE_SIZES:
        s = spread(np.asarray(losses)[:n])
        out[f"median@{n}"], out[f"iqr@{n}"] = s["median"], s["iqr"]
    return out


def median_shares(values: Mapping[str, Mapping[str, float]], reference: str = "reference") -> dict[str, dict[int, float]]:
    """From a rounding measurement's ``values[variant][name]``: for every row ``example/model`` whose
    loss spreads over seeds, the largest change of the median of ``N`` seeds over the variants, as a
    share of the reference's interquartile range: ``row -> {N: share}``."""
    ref = values[reference]
    out: dict[str, dict[int, float]] = {}
    for name in ref:
        if not (name.startswith("seeds/") and name.endswith(f"/median@{ENSEMBLE_SIZES[0]}")):
            continue
        row = name[len("seeds/"):-len(f"/median@{ENSEMBLE_SIZES[0]}")]
        if ref[f"seeds/{row}/iqr@{ENSEMBLE_SIZES[-1]}"] <= 0:
            continue  # the matrix models: every seed trains the same run
        shares = {}
        for n in ENSEMBLE_SIZES:
            key, iqr = f"seeds/{row}/median@{n}", ref[f"seeds/{row}/iqr@{n}"]
            moved = max(abs(v[key] - ref[key]) for v in values.values() if key in v)
            shares[n] = moved / iqr if iqr > 0 else float("inf")
        out[row] = shares
    return out


def worst_shares(values: Mapping[str, Mapping[str, float]]) -> dict[int, float]:
    """The largest of :func:`median_shares` over the rows, for every size."""
    shares = median_shares(values)
    return {n: max(s[n] for s in shares.values()) for n in ENSEMBLE_SIZES}


def chosen_size(values: Mapping[str, Mapping[str, float]]) -> int:
    """The ensemble size :data:`SIZE_RULE` picks from ``values`` (the largest size if quadrupling pays
    at every step)."""
    worst = worst_shares(values)
    for small, large in zip(ENSEMBLE_SIZES, ENSEMBLE_SIZES[1:]):
        if worst[large] * SAMPLING_GAIN > worst[small]:
            return small
    return ENSEMBLE_SIZES[-1]
