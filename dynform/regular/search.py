"""A search over readings of a run's settings: each reading trained for many seeds as one ensemble,
the readings in parallel through joblib.

A *factor* is a named list of *levels*; a level is a dict of setting changes (``{"loss": "mse"}``)
and the first level of every factor is the base's own reading (usually ``{}``). A *design* is a
list of readings (merged changes): :func:`full_factorial` or :func:`one_at_a_time`; :func:`plan`
applies one to a list of base settings. :func:`search` trains the plan and returns one
:class:`Row` per distinct run; :func:`write` and :func:`read`
keep a table as JSON.

joblib runs the readings on the local cores (its ``loky`` backend) and, unchanged, on a cluster
when a cluster backend is registered: ``dask`` (``distributed``'s ``Client``, which reads the
scheduler address from ``DASK_SCHEDULER_ADDRESS``) or ``ray`` (``ray.util.joblib``). joblib is
already the run cache's engine, so the search needs no other dependency.
"""
from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from tqdm import tqdm

from .. import validation as check
from ..provenance import stamp
from .experiment import RunConfig, RunResult
from .models import MATRIX_MODELS
from .packing import packs, run_pack

#: factor name -> levels; a level is a dict of setting changes, the first is the base's reading.
Factors = Mapping[str, Sequence[Mapping[str, Any]]]
#: The engines :func:`search` can hand the readings to (joblib backends).
BACKENDS = ("loky", "threading", "sequential", "dask", "ray")


def full_factorial(factors: Factors) -> list[dict[str, Any]]:
    """Every combination of one level per factor, as merged changes, the base's reading first."""
    return [_merge(levels) for levels in itertools.product(*factors.values())]


def one_at_a_time(factors: Factors) -> list[dict[str, Any]]:
    """The base's reading (every factor at its first level), then each other level of each factor
    alone."""
    base = _merge(levels[0] for levels in factors.values())
    out = [base]
    for name, levels in factors.items():
        others = [lv[0] for n, lv in factors.items() if n != name]
        out += [_merge([*others, level]) for level in levels[1:]]
    return out


def _merge(levels: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for level in levels:
        out.update(level)
    return out


#: What :func:`search` trains: ``(base, changes)`` pairs.
Plan = Sequence[tuple[RunConfig, Mapping[str, Any]]]


def plan(bases: Sequence[RunConfig], design: Sequence[Mapping[str, Any]]) -> list[tuple[RunConfig, dict[str, Any]]]:
    """Every reading of ``design`` from every base, bases outermost."""
    return [(base, dict(changes)) for base in bases for changes in design]


def configs(tasks: Plan, members: int = 16) -> list[tuple[RunConfig, RunConfig]]:
    """The runs of ``tasks`` as ``(config, base)``: each an ensemble of ``members`` seeds without
    rounding replicas. A reading that trains the same thing as an earlier one
    (:meth:`RunConfig.canonical`: a solver change for a step map, say) is dropped."""
    check.require("members", check.is_int(members) and members >= 2,
                  f"seed statistics need an integer >= 2, got {members!r}")
    seen, out = set(), []
    for base, changes in tasks:
        config = base.with_(**changes, members=int(members), rounding=0)
        key = config.canonical()
        if key not in seen:
            seen.add(key)
            out.append((config, base))
    return out


@dataclass(frozen=True)
class Row:
    """One reading trained for ``members`` seeds: its changes from the base and every member's result."""

    system: str
    model: str
    changes: dict[str, Any]  #: the settings in which this reading differs from the base
    loss: list[float]  #: final loss per seed, (members,)
    iterations: list[int]  #: optimiser steps per seed, (members,)
    matrices: list | None  #: learned matrix per seed, (members, n, n), matrix models only
    seconds: float  #: wall time of the ensemble's training
    seed: int = 0  #: the first seed; the others follow it

    def label(self) -> str:
        """The changes as ``setting=value`` words (``stated`` for none)."""
        return ", ".join(f"{k}={v}" for k, v in self.changes.items()) or "stated"


def row_of(result: RunResult, base: RunConfig | None = None) -> Row:
    """A trained ensemble as a :class:`Row` of its changes from ``base`` (none: from itself)."""
    config = result.config
    mine = config.canonical().as_dict()
    theirs = (base or config).canonical().as_dict()
    changes = {k: v for k, v in mine.items() if v != theirs[k] and k not in ("members", "rounding")}
    return Row(config.system, config.model, changes, result.record.final_loss.astype(float).tolist(),
               result.record.iterations.astype(int).tolist(),
               result.matrices().tolist() if config.model in MATRIX_MODELS else None, result.seconds, config.seed)


def train_rows(runs: Sequence[tuple[RunConfig, RunConfig]]) -> list[Row]:
    """Train the configs of ``runs`` (``(config, base)`` pairs of one pack,
    :func:`dynform.regular.packing.packs`) as one ensemble and summarise each as a :class:`Row` of
    changes from its base."""
    results = run_pack(tuple(config for config, _ in runs))
    return [row_of(result, base) for result, (_, base) in zip(results, runs)]


def search(tasks: Plan, members: int = 16, jobs: int = 1, backend: str = "loky",
           progress: bool = False) -> list[Row]:
    """Train the readings of ``tasks`` (:func:`plan`, :func:`configs`) on ``jobs`` workers of the
    joblib ``backend`` (:data:`BACKENDS`); one :class:`Row` per distinct run, in the order of
    ``tasks``. Readings that differ only in settings a member carries alone are trained as one
    ensemble (:mod:`dynform.regular.packing`; the numbers are those of separate runs), the packs
    with the most member-steps first. ``progress`` shows a bar as packs finish."""
    import joblib

    check.choice("backend", backend, BACKENDS)
    check.require("jobs", check.is_int(jobs) and (jobs >= 1 or jobs == -1),
                  f"must be a positive integer or -1 (all cores), got {jobs!r}")
    runs = configs(tasks, members)
    if backend == "dask":  # the cluster's scheduler, from dask's configuration
        from dask.distributed import Client
        Client()
    elif backend == "ray":
        from ray.util.joblib import register_ray
        register_ray()
    # the most member-steps first, so that the short packs fill the workers at the end
    groups = sorted(packs([config for config, _ in runs]),
                    key=lambda group: sum(runs[i][0].members * runs[i][0].epochs for i in group), reverse=True)
    with joblib.parallel_config(backend=backend, n_jobs=jobs):
        results = joblib.Parallel(return_as="generator")(joblib.delayed(train_rows)([runs[i] for i in group])
                                                         for group in groups)
        rows: dict[int, Row] = {}
        for group, done in zip(groups, tqdm(results, total=len(groups), disable=not progress, desc="readings")):
            rows.update(zip(group, done))
    return [rows[i] for i in range(len(runs))]


def write(path: str | Path, rows: Sequence[Row], command: str, **meta: Any) -> None:
    """Keep ``rows`` as a JSON table (one row per line; gzip-compressed for a ``.gz`` path) with the
    date, machine and ``command`` that made it, written atomically (:func:`dynform.stored.write`)."""
    from ..stored import compact, write as store

    store(path, {**stamp(command), **meta, "rows": [{k: compact(v) for k, v in asdict(r).items()} for r in rows]},
          lines="rows")


def read(path: str | Path, remake: str = "python -m dynform search") -> tuple[dict[str, Any], list[Row]]:
    """A table kept by :func:`write`: its metadata and its rows, checked as they are read
    (:func:`dynform.stored.read`; ``remake`` is the command named if the file is missing or broken)."""
    from ..stored import read as stored

    doc = stored(path, remake)
    return {k: v for k, v in doc.items() if k != "rows"}, [Row(**r) for r in doc["rows"]]
