"""The readings of its setup that the note's text allows, and how plausible each makes every number
the note prints.

:data:`READINGS` lists the factors, each with the stated reading first (the book's reading of the
text) and the passage that allows the others. :func:`default_design` is what the book trains:
one factor at a time away from the stated settings (the adaptive solver on request, for its cost).
:func:`pointed` adds the combinations the single changes point to. :func:`judge` applies the book's
one rule (:mod:`dynform.note.verdicts`) to a reading, on the samples :func:`samples` gives: its
seeds under every rounding variant of the committed measurement (:func:`measure_rounding`).
"""
from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np

from .. import validation as check
from ..book import sensitivity
from ..regular.experiment import RunConfig
from ..regular.search import Factors, Plan, Row, one_at_a_time
from ..stored import compact
from . import verdicts
from .printed import Printed, printed_numbers
from .seeds import SEEDS
from .settings import EXAMPLES, TABLE_ROWS, stated
from .verdicts import Judgement

#: factor -> levels; a level is a dict of setting changes, the stated reading ({}) first.
READINGS: dict[str, tuple[dict[str, Any], ...]] = {
    "training-set": ({}, {"samples": "pairs"}, {"samples": "random-pairs"}, {"samples": "random-rollouts"}),
    "loss": ({}, {"loss": "mse"}, {"loss": "norm-y0"}, {"loss": "mse-y0"}),
    "initialisation": ({}, {"init_std": 0.01}, {"init": "torch"}),
    "optimiser": ({}, {"optimizer": "torch-rmsprop"}),
    "solver": ({}, {"solver": "odeint:rk4"}, {"solver": "odeint:dopri5"}),
    "data": ({}, {"data_mode": "rk4"}),
}
#: Where the note allows each factor's other levels.
WHERE: dict[str, str] = {
    "training-set": "section 3 opens with pairs of initial and evolved states from sampled points; Figure 1 "
                    "shows one trajectory of 8 points",
    "loss": "section 2 writes the loss as a mean of squared norms over N samples and calls it the MSE, "
            "without saying whether N counts y(0) or the components",
    "initialisation": "Algorithm 1 draws weights from N(0, 0.01), variance or standard deviation; section 3.1 "
                      "says 'initialized randomly from Gaussian distributions' and trains with PyTorch, whose "
                      "default (uniform) a run that kept it would have used",
    "optimiser": "Algorithm 1 puts ε inside the square root; torch.optim.RMSprop puts it outside",
    "solver": "the note names no solver; torchdiffeq's odeint offers rk4 (the 3/8 rule) and, by default, dopri5",
    "data": "section 3.2 says its data were made with the same RK4; section 3.1 does not say",
}
#: The adaptive reading, left out of the default build for its cost (see :func:`default_design`).
ADAPTIVE = {"solver": "odeint:dopri5"}

def factors(names: Sequence[str] | None = None, adaptive: bool = False) -> Factors:
    """The factors ``names`` of :data:`READINGS` (all by default), without the adaptive solver unless
    ``adaptive``."""
    names = check.choices("factors", list(READINGS) if names is None else names, READINGS)
    return {name: tuple(lv for lv in READINGS[name] if adaptive or lv != ADAPTIVE) for name in names}


def default_design(adaptive: bool = False) -> list[dict[str, Any]]:
    """The stated reading, then one factor at a time away from it (:func:`factors`)."""
    return one_at_a_time(factors(adaptive=adaptive))


def bases(examples: Sequence[str] = EXAMPLES, models: Sequence[str] = TABLE_ROWS, seed: int = 0,
          **rounding: int) -> list[RunConfig]:
    """The stated settings of the rows ``models`` of the tables of ``examples``, example outermost;
    their ensembles start at ``seed``; ``rounding`` (``data_ulp``, ``init_ulp``) nudges them."""
    examples = check.choices("examples", examples, EXAMPLES)
    models = check.choices("models", models, TABLE_ROWS)
    return [stated(example, model).with_(seed=seed, **rounding) for example in examples for model in models]


# --- the samples a reading is judged on ----------------------------------------------------------


def values(row: Row, quantity: str) -> np.ndarray:
    """A row's values of ``quantity`` over its seeds, (members,)."""
    if quantity.startswith("matrix"):
        i, j = (int(c) - 1 for c in quantity[7:-1].split(","))
        return np.asarray(row.matrices, dtype=np.float64)[:, i, j]
    return np.asarray(getattr(row, quantity), dtype=np.float64)


def row_key(row: Row) -> str:
    """A row's name in the rounding measurement: ``example/model/label``."""
    return f"{row.system}/{row.model}/{row.label()}"


def _committed(row: Row) -> dict[str, dict[str, Any]]:
    """The committed measurement's values of ``row`` by variant (reference first), where it covers this
    run: the same reading, first seed and number of seeds; else empty."""
    data = rounding_measured()
    if row.seed != data.get("seed", 0):
        return {}
    out = {}
    for variant in data.get("variants", []):
        found = data.get("values", {}).get(variant, {}).get(row_key(row))
        if found is not None and len(found["loss"]) == len(row.loss):
            out[variant] = found
    return out if data.get("variants") and data["variants"][0] in out else {}


def _as_row(row: Row, found: Mapping[str, Any]) -> Row:
    return Row(row.system, row.model, row.changes, found["loss"], found["iterations"], found["matrices"], 0.0,
               row.seed)


def deviation(row: Row, quantity: str) -> float:
    """The largest change rounding made to one seed's ``quantity`` of ``row`` in the committed
    measurement (relative for a loss, absolute otherwise; 0 where it does not cover the run)."""
    found = _committed(row)
    if not found:
        return 0.0
    ref, *others = (values(_as_row(row, v), quantity) for v in found.values())
    out = 0.0
    for other in others:
        d = np.abs(other - ref)
        out = max(out, float(np.max(d / np.maximum(np.abs(ref), 1e-300) if quantity == "loss" else d)))
    return out


def member_tolerance(example: str, model: str, quantity: str, row: Row | None = None) -> float:
    """The rounding tolerance of one seed's ``quantity`` (relative for a loss, absolute otherwise):
    the larger of the one measured for the stated reading's run of its table row
    (:mod:`dynform.book.sensitivity`; at least half a step for iterations) and :data:`SAFETY` times
    the largest change of ``row``'s seeds in the committed measurement of the search's own runs
    (:func:`deviation`), where ``row`` is one of them."""
    name = f"{example}/{model}/{quantity}"
    if quantity == "loss":
        inherited = sensitivity.relative_tolerance(name)
    elif quantity == "iterations":
        inherited = max(sensitivity.tolerance(name), 0.5)
    else:
        inherited = sensitivity.tolerance(name)
    return max(inherited, sensitivity.SAFETY * deviation(row, quantity)) if row else inherited


def samples(row: Row, quantity: str, committed: bool = True) -> list[np.ndarray]:
    """The samples a verdict on ``row``'s ``quantity`` uses, one per rounding variant, (members,) each.

    For a run the committed rounding measurement covers (same reading, first seed and number of
    seeds): that measurement's values under each of its variants, the reference first, so that every
    machine reaches the same verdict; this run's own values must then lie within their rounding
    tolerance of the reference, or the run stops with a message naming it. For any other run, or
    with ``committed=False`` (a stored table judged as it is), its own values alone."""
    mine = values(row, quantity)
    found = _committed(row) if committed else {}
    if not found:
        return [mine]
    out = [values(_as_row(row, v), quantity) for v in found.values()]
    tol = member_tolerance(row.system, row.model, quantity, row)
    allowed = tol * np.abs(out[0]) if quantity == "loss" else np.full_like(out[0], tol)
    if not np.all(np.abs(mine - out[0]) <= allowed + 1e-300):
        raise AssertionError(f"{row_key(row)} {quantity}: this run's seeds moved beyond their measured rounding "
                             f"tolerance from the committed reference; re-run `python -m dynform sensitivity --readings`")
    return out


def judge(number: Printed, row: Row, committed: bool = True) -> Judgement:
    """``number`` judged against ``row`` by the book's one rule (:mod:`dynform.note.verdicts`), on
    :func:`samples`."""
    return verdicts.judge(number.low, number.high, samples(row, number.quantity, committed))


def distance(number: Printed, row: Row) -> float:
    """How far the printed value lies from the row's seed median: ``|log10(printed / median)|`` for a
    loss, the absolute difference otherwise. The median is the committed measurement's reference where
    it covers the row, so that the combinations :func:`pointed` chooses are the same on every machine."""
    found = _committed(row)
    reference = _as_row(row, next(iter(found.values()))) if found else row
    median = float(np.median(values(reference, number.quantity)))
    if number.quantity == "loss":
        return abs(math.log10(number.value / median)) if median > 0 else math.inf
    return abs(number.value - median)


def rows_for(rows: Sequence[Row], example: str, model: str) -> list[Row]:
    """The rows of one table row (example, model), in the order trained."""
    return [r for r in rows if r.system == example and r.model == model]


def ranked(number: Printed, rows: Sequence[Row], committed: bool = True) -> list[tuple[Row, Judgement]]:
    """The rows of ``number``'s table row with their judgements (:func:`judge`), most plausible first
    (ties: the percentile nearest 50, then the order trained)."""
    judged = [(row, judge(number, row, committed)) for row in rows_for(rows, number.example, number.model)]
    return sorted(judged, key=lambda pair: pair[1].rank)


def pointed(rows: Sequence[Row], limit: int = 2, seed: int = 0, **rounding: int) -> Plan:
    """The combinations the single changes point to: for every table row, the merged changes of its
    single-change readings that bring the seed median of the loss nearer the printed loss than the
    stated reading does (at most the ``limit`` nearest, one per factor), when there are two or more;
    a plan for :func:`dynform.regular.search.search`."""
    check.positive_int("limit", limit)
    loss = {(n.example, n.model): n for n in printed_numbers() if n.quantity == "loss"}
    out = []
    for base in bases(seed=seed, **rounding):
        number = loss[(base.system, base.model)]
        mine = rows_for(rows, base.system, base.model)
        stated_row = next((r for r in mine if not r.changes), None)
        if stated_row is None:
            continue
        best: dict[str, tuple[float, Mapping[str, Any]]] = {}
        for row in mine:
            factor = _factor(row.changes)
            d = distance(number, row)
            if factor and d < distance(number, stated_row) and d < best.get(factor, (math.inf, {}))[0]:
                best[factor] = (d, row.changes)
        chosen = sorted(best.values(), key=lambda pair: pair[0])[:limit]
        if len(chosen) >= 2:
            merged: dict[str, Any] = {}
            for _, changes in chosen:
                merged.update(changes)
            out.append((base, merged))
    return out


def _factor(changes: Mapping[str, Any]) -> str | None:
    """The factor of :data:`READINGS` a single-change reading belongs to (None: the stated reading,
    or a combination)."""
    for name, levels in READINGS.items():
        if any(dict(changes) == level for level in levels[1:]):
            return name
    return None


# --- what the chapter and the ledger show -------------------------------------------------------

#: The committed full factorial (package data) and the command that makes it.
FULL_FACTORIAL = "readings_full.json.gz"
FULL_COMMAND = f"python -m dynform search --design full --members {SEEDS} --jobs 2 --out dynform/note/{FULL_FACTORIAL}"


def default_search(members: int = SEEDS, seed: int = 0, jobs: int = 1, adaptive: bool = False,
                   **rounding: int) -> list[Row]:
    """The book's search: :func:`default_design` for every row of Tables 1 and 2, then the
    combinations it points to (:func:`pointed`), ``members`` seeds from ``seed`` each. ``rounding``
    (``data_ulp``, ``init_ulp``) nudges every run, for :func:`measure_rounding`."""
    from ..regular.search import plan, search

    rows = search(plan(bases(seed=seed, **rounding), default_design(adaptive)), members, jobs)
    return rows + search(pointed(rows, seed=seed, **rounding), members, jobs)


#: The spiral's matching settings are also tried at these multiples of their number of epochs.
NEIGHBOURS = (0.6, 1.0, 1.4)


def matching_plan(seed: int = 0, neighbours: Sequence[float] = NEIGHBOURS, **rounding: int) -> Plan:
    """The spiral's matching settings (:data:`dynform.note.settings.SPIRAL_MATCHING`) as changes from
    the stated settings, at ``neighbours`` times their number of epochs (rounded to 100)."""
    from .settings import SPIRAL_MATCHING

    check.require("neighbours", len(neighbours) > 0 and all(check.is_number(f) and f > 0 for f in neighbours),
                  f"must be positive numbers, got {list(neighbours)!r}")
    out = []
    for model, changes in SPIRAL_MATCHING.items():
        if not changes:
            continue
        base = stated("spiral", model).with_(seed=seed, **rounding)
        epochs = base.with_(**changes).epochs
        for e in sorted({max(100, round(epochs * f / 100) * 100) for f in neighbours}):
            out.append((base, {**changes, "epochs": e}))
    return out


#: The statistics of a reading's seeds that the book shows, as numpy percentiles.
QUARTILES = {"median": 50, "q1": 25, "q3": 75}


def quartiles(row: Row, quantity: str = "loss"):
    """The seed median and quartiles of ``quantity`` (three :class:`~dynform.book.checks.Measured`),
    each with the tolerance rounding leaves that statistic itself: :data:`SAFETY` times the largest
    change of the statistic over the committed measurement's variants, where it covers ``row``
    (at least the floor of the tolerance rule); otherwise that of one seed (:func:`member_tolerance`: if every seed moves by at most
    that much, so does the statistic)."""
    from ..book.checks import Measured

    found = _committed(row)
    mine = values(row, quantity)
    out = []
    for stat, q in QUARTILES.items():
        value = float(np.percentile(mine, q))
        if found:
            stats = [float(np.percentile(values(_as_row(row, v), quantity), q)) for v in found.values()]
            tol = max(sensitivity.SAFETY * max(abs(x - stats[0]) for x in stats), _headline(row, quantity, stat, value))
        else:
            tol = member_tolerance(row.system, row.model, quantity, row)
            tol = tol * abs(value) if quantity == "loss" else tol
        out.append(Measured(value, max(tol, sensitivity.computed(value).tol)))
    return tuple(out)


def _headline(row: Row, quantity: str, stat: str, value: float) -> float:
    """For the stated reading at the book's number of seeds, the tolerance the headline measurement
    (more variants than the search's own) gives the same statistic, as an absolute amount at
    ``value``: the seed statistic where it was measured (the loss's median and quartiles, the
    iterations' median), else the single run's (which every seed of a seed-free row shares). 0 for
    any other reading."""
    if row.changes or len(row.loss) != SEEDS:
        return 0.0
    prefix = f"{row.system}/{row.model}"
    name = {"loss": f"seeds/{prefix}/{stat}", "iterations": f"seeds/{prefix}/iterations-{stat}"}.get(quantity, "")
    if name and sensitivity.is_measured(name):
        return sensitivity.relative_tolerance(name) * abs(value) if quantity == "loss" else sensitivity.tolerance(name)
    single = f"{prefix}/{quantity}"
    if not sensitivity.is_measured(single):
        return 0.0
    return sensitivity.relative_tolerance(single) * abs(value) if quantity == "loss" else sensitivity.tolerance(single)


def stored_factorial() -> tuple[dict[str, Any], list[Row]]:
    """The committed full factorial's metadata and rows."""
    from ..regular.search import read

    return read(str(resources.files(__package__).joinpath(FULL_FACTORIAL)), FULL_COMMAND)


# --- how far rounding moves the search's own runs -------------------------------------------------

#: The committed measurement of :func:`measure_rounding` (package data).
ROUNDING_FILE = "readings_rounding.json.gz"
#: The rounding variants it runs (names of :data:`dynform.book.sensitivity.VARIANTS`).
ROUNDING_VARIANTS = ("reference", "all-kernels", "openblas-sandybridge", "openblas-haswell", "openblas-skylakex",
                     "data-ulp-1")


def rounding_values(members: int = SEEDS, seed: int = 0, data_ulp: int = 0) -> dict[str, dict[str, Any]]:
    """Every run of the book's search (:func:`default_search`, :func:`matching_plan`) in this process:
    ``row_key -> {"loss", "iterations", "matrices"}``, one value per seed."""
    from ..regular.search import search

    rounding = {"data_ulp": data_ulp} if data_ulp else {}
    rows = default_search(members, seed, **rounding) + search(matching_plan(seed, **rounding), members)
    return {row_key(r): {"loss": compact(r.loss), "iterations": r.iterations, "matrices": compact(r.matrices)}
            for r in rows}


#: The command that remakes :data:`ROUNDING_FILE`.
ROUNDING_COMMAND = "python -m dynform sensitivity --readings"


def measure_rounding(path: str | None = None, jobs: int = 2, command: str = ROUNDING_COMMAND,
                     members: int = SEEDS) -> dict[str, Any]:
    """Run the book's search (``members`` seeds per reading) under each of :data:`ROUNDING_VARIANTS`
    in its own process and keep every run's values under every variant (``values[variant][row_key]``):
    the samples the verdicts use (:func:`samples`)."""
    from concurrent.futures import ThreadPoolExecutor

    from ..book.sensitivity import VARIANTS, here, in_variant
    from ..provenance import stamp
    from ..stored import write

    def one(name: str) -> dict[str, Any]:
        ulp = VARIANTS[name].data_ulp
        return in_variant(name, f"rounding_values({members}, data_ulp={ulp})",
                          "from dynform.note.readings import rounding_values")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        variants = here(ROUNDING_VARIANTS)
        done = dict(zip(variants, pool.map(one, variants)))
    result = {"provenance": stamp(command), "variants": variants, "seed": 0, "members": members, "values": done}
    target = path or str(resources.files(__package__).joinpath(ROUNDING_FILE))
    out = write(target, result, lines="values")
    rounding_measured.cache_clear()
    return out


@lru_cache(maxsize=1)
def rounding_measured() -> dict[str, Any]:
    """The committed :func:`measure_rounding`, checked as it is read (:func:`dynform.stored.read`)."""
    from ..stored import read

    return read(str(resources.files(__package__).joinpath(ROUNDING_FILE)), ROUNDING_COMMAND)


# --- the cost of the adaptive reading ------------------------------------------------------------


def dopri5_evaluations(seed: int = 0) -> dict[str, int]:
    """Field evaluations of one forward pass of the center's ``node`` row (one member from ``seed``):
    with RK4 (``rk4``), and with dopri5 at torchdiffeq's default tolerances for the field after one
    training step (``initial``) and after the stated training with RK4 (``trained``, which took
    ``steps`` steps). JSON-ready, for :func:`dynform.book.sensitivity.in_variant`."""
    import torch

    from ..solvers import resolve

    def evaluations(result, solver: str) -> int:
        g, count = result.model.g.function(), [0]

        def field(y):
            count[0] += 1
            return g(y)

        with torch.no_grad():
            resolve(solver)(field, result.model.expand(result.target[..., 0, :]), result.t)
        return count[0]

    base = bases(["center"], ["node"], seed)[0].with_(members=1, rounding=0)
    trained, initial = base.run(), base.with_(epochs=1).run()
    return {"rk4": evaluations(trained, "rk4"), "initial": evaluations(initial, "odeint:dopri5"),
            "trained": evaluations(trained, "odeint:dopri5"), "steps": int(trained.iterations)}
