"""The readings of its setup that the note's text allows, and which of them account for each number
it prints.

:data:`READINGS` lists the factors, each with the stated reading first (the book's reading of the
text) and the passage that allows the others. :func:`default_design` is what the book trains:
one factor at a time away from the stated settings (the adaptive solver on request, for its cost).
:func:`pointed` adds the combinations the single changes point to. :func:`accounts` is the one
criterion, :data:`CRITERION` its words.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping, Sequence

import numpy as np

from .. import validation as check
from ..book import sensitivity
from ..regular.experiment import RunConfig
from ..regular.models import MATRIX_MODELS
from ..regular.search import Factors, Plan, Row, one_at_a_time
from .printed import printed
from .settings import EXAMPLES, TABLE_ROWS, stated

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
                      "says 'initialized randomly from Gaussian distributions', which PyTorch's default is not",
    "optimiser": "Algorithm 1 puts ε inside the square root; torch.optim.RMSprop puts it outside",
    "solver": "the note names no solver; torchdiffeq's odeint offers rk4 (the 3/8 rule) and, by default, dopri5",
    "data": "section 3.2 says its data were made with the same RK4; section 3.1 does not say",
}
#: The adaptive reading, left out of the default build for its cost (see :func:`default_design`).
ADAPTIVE = {"solver": "odeint:dopri5"}

YES, NO, UNDECIDED = "yes", "no", "undecided by rounding"
#: The criterion, stated once for every chapter.
CRITERION = (f"a reading accounts for a printed number when the printed value, read as the interval its last "
             "printed digit allows, meets the range of that number over the reading's seeds. Each seed's "
             f"value carries a rounding tolerance (a factor for a loss): {sensitivity.SAFETY:g} times the largest change rounding "
             "alone made to that run's seeds (other math kernels, one training sample one ulp off), and at least "
             "the tolerance of its table row's stated run; where the verdict depends on where inside those "
             "tolerances the seeds fall, it is 'undecided by rounding'")


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


# --- the printed numbers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Printed:
    """One number the note prints for a trained model, with the half-width its last digit allows."""

    example: str
    model: str
    quantity: str  #: ``loss``, ``iterations`` or ``matrix[i,j]``
    value: float
    half: float  #: half a unit of the last printed digit
    text: str  #: as printed

    @property
    def label(self) -> str:
        return f"{self.example} {self.model} {self.quantity}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.example, self.model, self.quantity


def half_unit(text: str) -> float:
    """Half a unit of the last digit of a printed decimal ``text`` (``0.004210`` -> 5e-7)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


def printed_numbers() -> list[Printed]:
    """Every trained number of Tables 1 and 2 and of the printed matrices, in the note's order."""
    out = []
    for example in EXAMPLES:
        ref = printed()[example]
        texts = ref["printed_text"]
        for model in TABLE_ROWS:
            row = ref["table"][model]
            text = texts["loss"][model]
            out.append(Printed(example, model, "loss", row["loss"], half_unit(text), text))
            if "iterations" in row:
                out.append(Printed(example, model, "iterations", row["iterations"], 0.5, str(row["iterations"])))
        decimals = texts["matrix_decimals"]
        for model in MATRIX_MODELS:
            for (i, j), v in np.ndenumerate(np.asarray(ref["matrices"][model]["predicted"], dtype=np.float64)):
                out.append(Printed(example, model, f"matrix[{i + 1},{j + 1}]", float(v), 0.5 * 10.0 ** -decimals,
                                   f"{v:.{decimals}f}"))
    return out


# --- the criterion ------------------------------------------------------------------------------


def values(row: Row, quantity: str) -> np.ndarray:
    """A row's values of ``quantity`` over its seeds, (members,)."""
    if quantity.startswith("matrix"):
        i, j = (int(c) - 1 for c in quantity[7:-1].split(","))
        return np.asarray(row.matrices, dtype=np.float64)[:, i, j]
    return np.asarray(getattr(row, quantity), dtype=np.float64)


def row_key(row: Row) -> str:
    """A row's name in the rounding measurement: ``example/model/label``."""
    return f"{row.system}/{row.model}/{row.label()}"


def member_tolerance(example: str, model: str, quantity: str, row: Row | None = None) -> float:
    """The rounding tolerance of one seed's ``quantity`` (relative for a loss, absolute otherwise):
    the larger of the one measured for the stated reading's run of its table row
    (:mod:`dynform.book.sensitivity`; at least half a step for iterations) and :data:`SAFETY` times
    the largest change of that row's seeds in the committed measurement of the search's own runs
    (:func:`measure_rounding`), where ``row`` is one of them."""
    name = f"{example}/{model}/{quantity}"
    if quantity == "loss":
        inherited = sensitivity.relative_tolerance(name)
    elif quantity == "iterations":
        inherited = max(sensitivity.tolerance(name), 0.5)
    else:
        inherited = sensitivity.tolerance(name)
    own = rounding_measured().get("deviations", {}).get(row_key(row), {}).get(quantity, 0.0) if row else 0.0
    return max(inherited, sensitivity.SAFETY * own)


def judged(row: Row, quantity: str) -> np.ndarray:
    """The seeds' values of ``quantity`` that verdicts use, (members,).

    For a run of the committed rounding measurement (same reading, first seed and number of seeds)
    these are the measurement's reference values, so that every machine reaches the same verdict;
    this run's own values must then lie within their rounding tolerance of them, or the run stops
    with a message naming the run. For any other run, its own values."""
    mine = values(row, quantity)
    ref = rounding_measured().get("reference", {}).get(row_key(row))
    if ref is None or row.seed != rounding_measured().get("seed", 0) or len(ref["loss"]) != len(mine):
        return mine
    theirs = values(Row(row.system, row.model, row.changes, ref["loss"], ref["iterations"], ref["matrices"], 0.0),
                    quantity)
    tol = member_tolerance(row.system, row.model, quantity, row)
    allowed = tol * np.abs(theirs) if quantity == "loss" else np.full_like(theirs, tol)
    if not np.all(np.abs(mine - theirs) <= allowed + 1e-300):
        raise AssertionError(f"{row_key(row)} {quantity}: this run's seeds moved beyond their measured rounding "
                             f"tolerance from the committed reference; re-run `python -m dynform sensitivity --readings`")
    return theirs


def accounts(number: Printed, row: Row) -> str:
    """:data:`YES`, :data:`NO` or :data:`UNDECIDED` by :data:`CRITERION`: does ``row`` account for
    ``number``? Each seed's value (:func:`judged`) may lie anywhere within its rounding tolerance
    (:func:`member_tolerance`; a factor ``1 + tol`` for a loss): ``yes`` when some seed lies at or
    below the printed interval's top and some seed at or above its bottom wherever they fall,
    ``no`` when that holds nowhere."""
    v = judged(row, number.quantity)
    tol = member_tolerance(number.example, number.model, number.quantity, row)
    low, high = (v / (1 + tol), v * (1 + tol)) if number.quantity == "loss" else (v - tol, v + tol)
    top, bottom = number.value + number.half, number.value - number.half
    if (high <= top).any() and (low >= bottom).any():
        return YES
    if (low <= top).any() and (high >= bottom).any():
        return UNDECIDED
    return NO


def distance(number: Printed, row: Row) -> float:
    """How far the printed value lies from the row's seed median: ``|log10(printed / median)|`` for a
    loss, the absolute difference otherwise."""
    median = float(np.median(values(row, number.quantity)))
    if number.quantity == "loss":
        return abs(math.log10(number.value / median)) if median > 0 else math.inf
    return abs(number.value - median)


def rows_for(rows: Sequence[Row], example: str, model: str) -> list[Row]:
    """The rows of one table row (example, model), in the order trained."""
    return [r for r in rows if r.system == example and r.model == model]


def explaining(rows: Sequence[Row], numbers: Sequence[Printed] | None = None) -> dict[Printed, dict[str, list[str]]]:
    """For each printed number, the rows' labels by verdict (:func:`accounts`)."""
    out = {}
    for number in numbers or printed_numbers():
        verdicts: dict[str, list[str]] = {YES: [], UNDECIDED: [], NO: []}
        for row in rows_for(rows, number.example, number.model):
            verdicts[accounts(number, row)].append(row.label())
        out[number] = verdicts
    return out


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

#: The committed full factorial (package data), made by ``python -m dynform search --design full``.
FULL_FACTORIAL = "readings_full.json"


def default_search(members: int = 16, seed: int = 0, jobs: int = 1, adaptive: bool = False,
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


def median(row: Row, quantity: str = "loss"):
    """The seed median of ``quantity``, with the tolerance of one seed (:func:`member_tolerance`): if
    every seed moves by at most that much, so does the median."""
    from ..book.checks import Measured

    value = float(np.median(values(row, quantity)))
    tol = member_tolerance(row.system, row.model, quantity, row)
    absolute = tol * abs(value) if quantity == "loss" else tol
    floor = sensitivity.computed(value).tol
    return Measured(value, max(absolute, floor))


def median_loss(row: Row):
    """:func:`median` of the final loss."""
    return median(row, "loss")


STATED = "stated"


def count(found: Mapping[Printed, Mapping[str, list[str]]]) -> dict[str, int]:
    """How many printed numbers the stated reading accounts for (``stated``), another reading only
    (``other``), rounding alone decides (``undecided``), or none does (``none``)."""
    out = {"stated": 0, "other": 0, "undecided": 0, "none": 0}
    for verdicts in found.values():
        if STATED in verdicts[YES]:
            out["stated"] += 1
        elif verdicts[YES]:
            out["other"] += 1
        elif verdicts[UNDECIDED]:
            out["undecided"] += 1
        else:
            out["none"] += 1
    return out


def shortlist(labels: Sequence[str], shown: int = 3) -> str:
    """The first ``shown`` labels and how many there are in all (``none`` for none)."""
    if not labels:
        return "none"
    head = "; ".join(labels[:shown])
    return head if len(labels) <= shown else f"{head}; … ({len(labels)} in all)"


def stored_factorial() -> tuple[dict[str, Any], list[Row]] | None:
    """The committed full factorial's metadata and rows, or None if none is committed."""
    from importlib import resources

    from ..regular.search import read

    path = resources.files(__package__).joinpath(FULL_FACTORIAL)
    return read(path) if path.is_file() else None


# --- how far rounding moves the search's own runs -------------------------------------------------

#: The committed measurement of :func:`measure_rounding` (package data).
ROUNDING_FILE = "readings_rounding.json"
#: The rounding variants it runs (names of :data:`dynform.book.sensitivity.VARIANTS`).
ROUNDING_VARIANTS = ("reference", "all-kernels", "openblas-sandybridge", "openblas-haswell", "openblas-skylakex",
                     "data-ulp-1")


def rounding_values(members: int = 16, seed: int = 0, data_ulp: int = 0) -> dict[str, dict[str, Any]]:
    """Every run of the book's search (:func:`default_search`, :func:`matching_plan`) in this process:
    ``row_key -> {"loss", "iterations", "matrices"}``."""
    from ..regular.search import search

    rounding = {"data_ulp": data_ulp} if data_ulp else {}
    rows = default_search(members, seed, **rounding) + search(matching_plan(seed, **rounding), members)
    return {row_key(r): {"loss": r.loss, "iterations": r.iterations, "matrices": r.matrices} for r in rows}


def measure_rounding(path: str | None = None, jobs: int = 2, command: str = "") -> dict[str, Any]:
    """Run the book's search under each of :data:`ROUNDING_VARIANTS` in its own process and keep, for
    every run, the largest change of a seed's loss (relative), iterations and matrix entries from
    the reference (``deviations[row_key][quantity]``), and the reference values themselves, which
    the verdicts use (:func:`judged`)."""
    from concurrent.futures import ThreadPoolExecutor
    from pathlib import Path

    from ..book.sensitivity import VARIANTS, here, in_variant
    from ..provenance import stamp

    def one(name: str) -> dict[str, Any]:
        ulp = VARIANTS[name].data_ulp
        return in_variant(name, f"rounding_values(data_ulp={ulp})", "from dynform.note.readings import rounding_values")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        variants = here(ROUNDING_VARIANTS)
        done = dict(zip(variants, pool.map(one, variants)))
    ref = done["reference"]
    deviations: dict[str, dict[str, float]] = {}
    for key, base in ref.items():
        out = deviations.setdefault(key, {"loss": 0.0, "iterations": 0.0})
        for name in variants[1:]:
            other = done[name].get(key)
            if other is None:  # a combination the nudged run did not point to
                continue
            b, o = np.asarray(base["loss"]), np.asarray(other["loss"])
            out["loss"] = max(out["loss"], float(np.max(np.abs(o - b) / np.maximum(np.abs(b), 1e-300))))
            out["iterations"] = max(out["iterations"], float(np.max(np.abs(np.subtract(other["iterations"],
                                                                                       base["iterations"])))))
            if base["matrices"] is not None:
                diff = np.abs(np.asarray(other["matrices"]) - np.asarray(base["matrices"])).max(axis=0)
                for (i, j), d in np.ndenumerate(diff):
                    q = f"matrix[{i + 1},{j + 1}]"
                    out[q] = max(out.get(q, 0.0), float(d))
    result = {"provenance": stamp(command), "variants": variants, "seed": 0, "deviations": deviations,
              "reference": ref}
    target = Path(path) if path else Path(str(resources.files(__package__).joinpath(ROUNDING_FILE)))
    target.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    rounding_measured.cache_clear()
    return result


@lru_cache(maxsize=1)
def rounding_measured() -> dict[str, Any]:
    """The committed :func:`measure_rounding` (empty where none is committed)."""
    path = resources.files(__package__).joinpath(ROUNDING_FILE)
    return json.loads(path.read_text()) if path.is_file() else {}


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
