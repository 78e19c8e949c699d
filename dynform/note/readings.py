"""The readings of its setup that the note's text allows, and which of them account for each number
it prints.

:data:`READINGS` lists the factors, each with the stated reading first (the book's reading of the
text) and the passage that allows the others. :func:`default_design` is what the book trains:
one factor at a time away from the stated settings (the adaptive solver on request, for its cost).
:func:`pointed` adds the combinations the single changes point to. :func:`accounts` is the one
criterion, :data:`CRITERION` its words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
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
CRITERION = ("a reading accounts for a printed number when the printed value, read as the interval its last "
             "printed digit allows, meets the range of that number over the reading's seeds. Each seed's "
             "value carries the rounding tolerance measured for its table row (a factor for a loss); where "
             "the verdict depends on where inside those tolerances the seeds fall, it is 'undecided by rounding'")


def factors(names: Sequence[str] | None = None, adaptive: bool = False) -> Factors:
    """The factors ``names`` of :data:`READINGS` (all by default), without the adaptive solver unless
    ``adaptive``."""
    names = check.choices("factors", list(READINGS) if names is None else names, READINGS)
    return {name: tuple(lv for lv in READINGS[name] if adaptive or lv != ADAPTIVE) for name in names}


def default_design(adaptive: bool = False) -> list[dict[str, Any]]:
    """The stated reading, then one factor at a time away from it (:func:`factors`)."""
    return one_at_a_time(factors(adaptive=adaptive))


def bases(examples: Sequence[str] = EXAMPLES, models: Sequence[str] = TABLE_ROWS, seed: int = 0) -> list[RunConfig]:
    """The stated settings of the rows ``models`` of the tables of ``examples``, example outermost;
    their ensembles start at ``seed``."""
    examples = check.choices("examples", examples, EXAMPLES)
    models = check.choices("models", models, TABLE_ROWS)
    return [stated(example, model).with_(seed=seed) for example in examples for model in models]


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


def member_tolerance(example: str, model: str, quantity: str) -> float:
    """The rounding tolerance of one seed's ``quantity``, measured for the stated reading's run of
    its table row (:mod:`dynform.book.sensitivity`): relative for a loss, absolute (at least half a
    step) for iterations, absolute for a matrix entry."""
    name = f"{example}/{model}/{quantity}"
    if quantity == "loss":
        return sensitivity.relative_tolerance(name)
    if quantity == "iterations":
        return max(sensitivity.tolerance(name), 0.5)
    return sensitivity.tolerance(name)


def accounts(number: Printed, row: Row) -> str:
    """:data:`YES`, :data:`NO` or :data:`UNDECIDED` by :data:`CRITERION`: does ``row`` account for
    ``number``? Each seed's value may lie anywhere within its rounding tolerance
    (:func:`member_tolerance`; a factor ``1 + tol`` for a loss): ``yes`` when some seed lies at or
    below the printed interval's top and some seed at or above its bottom wherever they fall,
    ``no`` when that holds nowhere."""
    v = values(row, number.quantity)
    tol = member_tolerance(number.example, number.model, number.quantity)
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


def pointed(rows: Sequence[Row], limit: int = 2, seed: int = 0) -> Plan:
    """The combinations the single changes point to: for every table row, the merged changes of its
    single-change readings that bring the seed median of the loss nearer the printed loss than the
    stated reading does (at most the ``limit`` nearest, one per factor), when there are two or more;
    a plan for :func:`dynform.regular.search.search`."""
    check.positive_int("limit", limit)
    loss = {(n.example, n.model): n for n in printed_numbers() if n.quantity == "loss"}
    out = []
    for base in bases(seed=seed):
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


def default_search(members: int = 16, seed: int = 0, jobs: int = 1, adaptive: bool = False) -> list[Row]:
    """The book's search: :func:`default_design` for every row of Tables 1 and 2, then the
    combinations it points to (:func:`pointed`), ``members`` seeds from ``seed`` each."""
    from ..regular.search import plan, search

    rows = search(plan(bases(seed=seed), default_design(adaptive)), members, jobs)
    return rows + search(pointed(rows, seed=seed), members, jobs)


def median(row: Row, quantity: str = "loss"):
    """The seed median of ``quantity``, with the rounding tolerance of its table row's seed median (a
    loss, iterations) or of its single run (a matrix entry)."""
    value = float(np.median(values(row, quantity)))
    example = row.system
    if quantity == "loss":
        return sensitivity.trained(value, f"seeds/{example}/{row.model}/median")
    if quantity == "iterations":
        return sensitivity.trained(value, f"seeds/{example}/{row.model}/iterations-median", relative=False)
    return sensitivity.trained(value, f"{example}/{row.model}/{quantity}", relative=False)


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
