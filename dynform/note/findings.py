"""What the note's printed numbers come to: the one source of every verdict and every cause the book
states.

:func:`findings` judges each trained number the note prints (:func:`dynform.note.printed.printed_numbers`)
against every reading of the setup search and every hand-tuned budget of the spiral
(:mod:`dynform.note.readings`), by the one rule of :mod:`dynform.note.verdicts`, and gives it

* an *outcome* (:data:`OUTCOMES`): reproduced by the stated reading, by another reading only,
  possible in a tail only, undecided by rounding, or differs;
* its *causes* (:data:`CAUSES`), each a statement that a computation the book shows makes true:
  the seed, a factor of the setup, the step budget, the printed numbers not fitting one run, a
  second minimum of the loss, or none found.

Chapters glue what they state from here (:func:`glue`), under names that :func:`names` lists, and a
test checks that every chapter's glued verdicts and causes agree with this source.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np

from ..regular.data import DATA
from ..regular.search import Row, search
from ..regular.training import LOSSES
from ..runcache import shared
from . import landscape, readings
from .printed import EXAMPLES, MATRIX_ROWS, TABLE_ROWS, Printed, printed, printed_numbers
from .seeds import SEEDS
from .settings import stated
from .verdicts import CONSISTENT, NO, POSSIBLE, UNDECIDED, WORDS, Judgement, word

REPRODUCED, OTHER, BUDGET, TAIL, DIFFERS = "reproduced", "another reading", "another budget", "possible", "differs"
#: The outcomes of a printed number, in the order the book counts them.
OUTCOMES = (REPRODUCED, OTHER, BUDGET, TAIL, UNDECIDED, DIFFERS)
OUTCOME_WORDS = {
    REPRODUCED: "the stated reading is consistent with it",
    OTHER: "the stated reading is not consistent with it, another reading is",
    BUDGET: "no reading is consistent with it, a budget the note does not state is",
    TAIL: "no reading is consistent with it; some reading places it in a tail of its sample",
    UNDECIDED: "which of the outcomes above it has changes between the rounding variants",
    DIFFERS: "no reading trained places it inside its sample",
}
#: The causes the book states, by key; :func:`causes` says which hold for a number and why.
CAUSES = {
    "seed": "the seed",
    "training-set": "the training set",
    "loss": "the loss normalisation",
    "initialisation": "the initialisation",
    "optimiser": "the optimiser",
    "solver": "the solver",
    "data": "the data",
    "step-budget": "a budget the note does not state",
    "pace": "Algorithm 1's pace",
    "combination": "a combination of the factors",
    "one-run": "the printed numbers do not fit one run",
    "second-minimum": "the second minimum",
    "rounding": "rounding",
    "none": "none found",
}
#: The models whose seeds all train the same run (their parameters start at zero).
SEED_FREE = MATRIX_ROWS
#: The readings of the loss, data and (shared) training set under which :func:`one_run` scores a
#: printed matrix.
ONE_RUN_READINGS = tuple({"samples": s, "loss": loss, "data_mode": mode} for s in ("trajectory", "pairs")
                         for loss in LOSSES for mode in DATA)


@dataclass(frozen=True)
class Cause:
    """One cause of a printed number's outcome: its key in :data:`CAUSES` and the sentence that
    states it with the numbers that make it true."""

    key: str
    text: str

    @property
    def name(self) -> str:
        """The cause in words; a combination of factors (``training-set+loss``) names each."""
        return " and ".join(CAUSES[k] for k in self.key.split("+"))


@dataclass(frozen=True)
class Finding:
    """A printed number judged against every reading and budget."""

    number: Printed
    judged: tuple[tuple[str, Judgement], ...]  #: (reading label, judgement), most plausible first
    budgets: tuple[tuple[str, Judgement], ...]  #: the spiral's hand-tuned budgets, most plausible first
    outcome: str
    causes: tuple[Cause, ...]

    @property
    def stated(self) -> Judgement:
        return dict(self.judged)["stated"]

    @property
    def best(self) -> tuple[str, Judgement]:
        return self.judged[0]

    def readings_with(self, verdict: str) -> list[str]:
        """The readings whose verdict is ``verdict``, most plausible first."""
        return [label for label, j in self.judged if j.verdict == verdict]

    @property
    def because(self) -> str:
        """Every cause, in one sentence."""
        return "; ".join(c.text for c in self.causes)


def _outcome(words: dict[str, str], budgets: Sequence[str]) -> str:
    """The outcome when every reading's and budget's verdict is a definite word (no undecided ones)."""
    if words["stated"] == CONSISTENT:
        return REPRODUCED
    if CONSISTENT in words.values():
        return OTHER
    if CONSISTENT in budgets:
        return BUDGET
    return TAIL if POSSIBLE in words.values() else DIFFERS


def outcome(judged: Sequence[tuple[str, Judgement]], budgets: Sequence[tuple[str, Judgement]] = ()) -> str:
    """The outcome of a number from its readings' and budgets' judgements (:data:`OUTCOMES`): taken
    with every undecided one at its most plausible and at its least plausible word (those its
    rounding variants give); :data:`UNDECIDED` where the two differ, so rounding alone decides."""
    order = {w: i for i, w in enumerate(WORDS)}  # most plausible first

    def ends(j: Judgement) -> tuple[str, str]:
        choices = {j.verdict} if j.verdict != UNDECIDED else set(j.words) | {word(j.plausibility)}
        choices = sorted(choices, key=order.__getitem__)
        return choices[0], choices[-1]

    best = _outcome({label: ends(j)[0] for label, j in judged}, [ends(j)[0] for _, j in budgets])
    worst = _outcome({label: ends(j)[1] for label, j in judged}, [ends(j)[1] for _, j in budgets])
    return best if best == worst else UNDECIDED


def _factor(label: str) -> str:
    """The factors of a reading's label (keys of :data:`CAUSES`, ``+``-joined for a combination),
    in the label's order."""
    found = []
    for part in label.split(", "):
        for name, levels in readings.READINGS.items():
            if any(part in [f"{k}={v}" for k, v in level.items()] for level in levels[1:]) and name not in found:
                found.append(name)
    return "+".join(found) or "none"


def _pct(j: Judgement) -> str:
    return f"percentile {j.percentile:.0f}, plausibility {j.plausibility:.2g}"


@lru_cache(maxsize=None)
def one_run(number: Printed) -> tuple[bool, str]:
    """Whether the note's printed matrix of ``number``'s row and its printed loss can come from one
    run: the loss range that the printed matrix's digits allow (:func:`landscape.loss_range`) under
    each reading of :data:`ONE_RUN_READINGS`, against the printed loss. Returns the answer and the
    numbers in words."""
    ref = printed()[number.example]
    M = np.asarray(ref["matrices"][number.model]["predicted"], dtype=np.float64)
    loss = next(n for n in printed_numbers() if n.key == (number.example, number.model, "loss"))
    half = next(n for n in printed_numbers() if n.example == number.example and n.model == number.model
                and n.quantity.startswith("matrix")).half
    base = stated(number.example, number.model)
    ranges = [landscape.loss_range(base.with_(**r), M, half) for r in ONE_RUN_READINGS]
    fits = any(lo <= loss.high and hi >= loss.low for lo, hi in ranges)
    near = min(ranges, key=lambda r: min(abs(np.log10(max(r[0], 1e-300) / loss.value)),
                                         abs(np.log10(max(r[1], 1e-300) / loss.value))))
    words = (f"the printed matrix and loss do not fit one run: within its printed digits the matrix scores "
             f"{near[0]:.3g}–{near[1]:.3g} under the nearest of {len(ranges)} readings of the loss, the data and the "
             f"trajectory or pairs training set, against the printed loss {loss.text}") if not fits else \
        f"the printed matrix fits the printed loss {loss.text} under some reading of the training set, loss and data"
    return fits, words


def second_minimum(example: str, row: Row) -> tuple[bool, str]:
    """Whether the stated linear Neural ODE's learned matrix (seed 0 of ``row``) lies in the basin of
    a minimum other than the fit next to ``A``: where the gradient flow from it ends
    (:func:`landscape.flow`), against the flow from ``A``."""
    return _second_minimum(example, tuple(np.asarray(row.matrices[0], dtype=np.float64).ravel()))


@lru_cache(maxsize=None)
def _second_minimum(example: str, matrix: tuple[float, ...]) -> tuple[bool, str]:
    from ..systems import get_system

    config = stated(example, "nodem")
    where, end = landscape.basin(config, np.reshape(matrix, (2, 2)), get_system(example).A)
    words = f"the stated run lies in the basin of {where}: the gradient flow from its matrix ends there, at loss {end.loss:.3g}"
    return where == landscape.SECOND, words


def pace(number: Printed, row: Row) -> tuple[bool, str]:
    """Whether the stated run of a matrix row (seed 0 of ``row``) is held back by Algorithm 1's pace:
    it used every step it was allowed, and its matrix, which starts at zero, is still farther from
    what it approximates (``A`` or ``expm(A dt)``) than it has moved. The words set this against the
    pace the note's printed matrix needs over the note's steps, and the largest step Algorithm 1 can
    take, ``lr / sqrt(1 - gamma)`` per entry."""
    from ..optim import GAMMA
    from ..regular.models import MODELS
    from ..systems import get_system
    from .printed import printed

    config = stated(number.example, number.model)
    target = MODELS[number.model].approximates(get_system(number.example), config.dt)
    M = np.asarray(row.matrices[0], dtype=np.float64)
    steps, moved, left = int(row.iterations[0]), float(np.abs(M).max()), float(np.abs(M - target).max())
    ref = printed()[number.example]
    note_steps = int(ref["table"][number.model].get("iterations", config.epochs))
    note_max = float(np.abs(np.asarray(ref["matrices"][number.model]["predicted"])).max())
    held = steps == config.epochs and left > moved
    what = "A" if number.model == "nodem" else "expm(A dt)"
    words = (f"the stated run's matrix moved at most {moved:.3g} from zero in its {steps} steps "
             f"({moved / steps:.2g} per step, with lr {config.lr:g}) and is still {left:.3g} from {what}; the note's "
             f"printed matrix, {note_max:.4g} in its largest entry after {note_steps} steps, needs "
             f"{note_max / note_steps:.2g} per step, where Algorithm 1's largest step is "
             f"{config.lr / np.sqrt(1 - GAMMA):.2g}")
    return held, words


def causes(number: Printed, judged: Sequence[tuple[str, Judgement]], budgets: Sequence[tuple[str, Judgement]],
           result: str, stated_row: Row, combination: tuple[str, Judgement] | None = None) -> tuple[Cause, ...]:
    """Every cause that holds for ``number``, in the order: the seed (a reproduced number of a model
    that depends on it), a factor of the setup (another reading is consistent), a budget the note does
    not state (one is consistent), the printed matrix and loss not fitting one run, Algorithm 1's pace
    (the stated matrix run used its steps and stopped short), a second minimum (the stated linear
    Neural ODE lies in its basin), a combination of the full factorial (``combination``, its most
    plausible, where consistent), rounding (the outcome changes between the rounding variants), and
    otherwise none found."""
    verdicts = dict(judged)
    out = []
    if result == REPRODUCED:
        if number.model not in SEED_FREE:
            out.append(Cause("seed", f"one draw of the stated reading's seed distribution ({_pct(verdicts['stated'])})"))
        return tuple(out)
    for label, j in judged:
        if j.verdict == CONSISTENT and label != "stated":
            whole = " (with every entry of the printed matrix)" if number.quantity.startswith("matrix") else ""
            out.append(Cause(_factor(label), f"consistent under {label}{whole} ({_pct(j)}), where the stated "
                                             f"reading's verdict is {verdicts['stated'].verdict}"))
            break
    for label, j in budgets:
        if j.verdict == CONSISTENT:
            out.append(Cause("step-budget", f"consistent with {label} ({_pct(j)}), a budget the note does not state"))
            break
    if number.model in MATRIX_ROWS:
        fits, words = one_run(number)
        if not fits:
            out.append(Cause("one-run", words))
        held, words = pace(number, stated_row)
        if held:
            out.append(Cause("pace", words))
    if number.model == "nodem":
        second, words = second_minimum(number.example, stated_row)
        if second:
            out.append(Cause("second-minimum", words))
    if combination is not None and combination[1].verdict == CONSISTENT and result not in (OTHER, REPRODUCED):
        label, j = combination
        out.append(Cause("combination", f"the committed full factorial's {label} is consistent with it ({_pct(j)}, "
                                        f"on its own seeds, without rounding variants)"))
    if result == UNDECIDED:
        changing = [label for label, j in (*judged, *budgets) if j.verdict == UNDECIDED]
        out.append(Cause("rounding", f"the outcome changes between the rounding variants, through "
                                     f"{', '.join(changing[:3])}"))
    if not out:
        best, j = judged[0]
        trained = "reading or hand-tuned budget" if budgets else "reading"
        nearest = f" (the most plausible, {best}, places it in a tail: {_pct(j)})" if j.plausibility > 0 else \
            " (every reading's verdict is no)"
        out.append(Cause("none", f"no {trained} of the setup search is consistent with it{nearest}"))
    return tuple(out)


def whole(entries: Sequence[Judgement]) -> Judgement:
    """One reading's judgement of a printed matrix entry taken with the other entries of the same
    matrix (one run's four numbers): consistent only where the reading is consistent with every
    entry, no where it is no for any, undecided where rounding decides one of them, else possible.
    Plausibility and percentile stay the entry's own (the first of ``entries``)."""
    verdicts = {j.verdict for j in entries}
    if NO in verdicts:
        verdict = NO
    elif verdicts == {CONSISTENT}:
        verdict = CONSISTENT
    elif UNDECIDED in verdicts:
        verdict = UNDECIDED
    else:
        verdict = POSSIBLE
    words = tuple(sorted({w for j in entries for w in (j.words if j.verdict == UNDECIDED else (j.verdict,))}))
    first = entries[0]
    return Judgement(verdict, first.plausibility, first.percentile, words, first.size)


@dataclass(frozen=True)
class Findings:
    """Every printed trained number's :class:`Finding`, in the note's order, and the rows they rest on."""

    items: tuple[Finding, ...]
    rows: tuple[Row, ...]  #: the setup search's readings
    budgets: tuple[Row, ...]  #: the spiral's hand-tuned budgets
    members: int
    seed: int

    def __iter__(self):
        return iter(self.items)

    def of(self, example: str, model: str, quantity: str = "loss") -> Finding:
        return next(f for f in self.items if f.number.key == (example, model, quantity))

    def counts(self) -> dict[str, int]:
        """How many printed numbers have each outcome."""
        return {o: sum(f.outcome == o for f in self.items) for o in OUTCOMES}


def _label_budget(row: Row) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.changes.items())


def judge_all(rows: Sequence[Row], budgets: Sequence[Row], members: int, seed: int,
              factorial: Sequence[Row] = ()) -> Findings:
    """:class:`Findings` from the search's ``rows``, the spiral's budget rows ``budgets`` and the
    committed full factorial's rows ``factorial``. A printed matrix entry is judged with its matrix's
    other entries (:func:`whole`)."""
    numbers = printed_numbers()
    by_reading = judged_with_matrices(rows)
    by_budget = judged_with_matrices(budgets, _label_budget)
    best = dict(factorial_best(factorial)) if factorial else {}
    items = []
    for number in numbers:
        judged = tuple(sorted(by_reading[number].items(), key=lambda pair: pair[1].rank))
        judged_budgets = tuple(sorted(by_budget[number].items(), key=lambda pair: pair[1].rank))
        stated_row = next(r for r in readings.rows_for(rows, number.example, number.model) if not r.changes)
        combination = best.get(number)
        result = outcome(judged, judged_budgets)
        items.append(Finding(number, judged, judged_budgets, result,
                             causes(number, judged, judged_budgets, result, stated_row, combination)))
    return Findings(tuple(items), tuple(rows), tuple(budgets), members, seed)


def judged_with_matrices(rows: Sequence[Row], label=Row.label, committed: bool = True) -> dict[Printed, dict[str, Judgement]]:
    """Every printed number judged against ``rows`` of its table row (:func:`readings.judge`), by
    ``label(row)``; a printed matrix entry with the other entries of its matrix (:func:`whole`)."""
    numbers = printed_numbers()
    single = {n: {label(r): readings.judge(n, r, committed) for r in readings.rows_for(rows, n.example, n.model)}
              for n in numbers}
    out = {}
    for number in numbers:
        own = single[number]
        if number.quantity.startswith("matrix"):
            siblings = [n for n in numbers if (n.example, n.model) == (number.example, number.model)
                        and n.quantity.startswith("matrix") and n != number]
            own = {key: whole([j, *(single[n][key] for n in siblings)]) for key, j in own.items()}
        out[number] = own
    return out


@dataclass(frozen=True)
class _Key:
    """What :func:`findings` depends on besides the package's sources: the run cache's key. ``jobs``
    only says how many workers train the readings, which does not change them, so it is left out of
    the key (``__getstate__``: joblib hashes what pickling keeps)."""

    members: int
    seed: int
    jobs: int = 1

    def __getstate__(self) -> dict[str, int]:
        return {"members": self.members, "seed": self.seed}

    def __setstate__(self, state: dict[str, int]) -> None:
        object.__setattr__(self, "members", state["members"])
        object.__setattr__(self, "seed", state["seed"])
        object.__setattr__(self, "jobs", 1)


@shared
def _findings(key: _Key, progress: bool = False) -> Findings:
    rows = readings.default_search(key.members, key.seed, key.jobs)
    budgets = search(readings.matching_plan(key.seed), key.members, key.jobs)
    _, factorial = readings.stored_factorial()
    same = [r for r in factorial if r.seed == key.seed and len(r.loss) == key.members]
    return judge_all(rows, budgets, key.members, key.seed, same)


def findings(members: int = SEEDS, seed: int = 0, jobs: int = 1) -> Findings:
    """The book's findings: the setup search (:func:`dynform.note.readings.default_search`) and the
    spiral's budgets (:func:`dynform.note.readings.matching_plan`), ``members`` seeds from ``seed``
    each, judged; computed once per build (the run cache), ``jobs`` workers training the readings."""
    return _findings(_Key(members, seed, jobs))


# --- what the chapters glue ---------------------------------------------------------------------


def slug(number: Printed) -> str:
    """The glue-name part of a printed number: ``spiral_nn_loss``, ``center_nnm_matrix12``."""
    q = number.quantity.replace("matrix[", "matrix").replace(",", "").replace("]", "")
    return f"{number.example}_{number.model}_{q}"


#: Prefixes of the glue names of verdicts and causes: a test reads them in every chapter.
VERDICT, CAUSE = "verdict_", "cause_"


def names(finding: Finding) -> dict[str, str]:
    """The glued texts of one finding by glue name: its outcome and its causes."""
    s = slug(finding.number)
    return {f"{VERDICT}{s}": finding.outcome, f"{CAUSE}{s}": finding.because or "–"}


def glue(found: Findings, numbers: Sequence[tuple[str, str, str]] | None = None) -> None:
    """Glue the outcome and causes of ``numbers`` (keys ``(example, model, quantity)``; all by
    default) under :func:`names`."""
    from ..book import report

    for f in found:
        if numbers is None or f.number.key in numbers:
            for name, text in names(f).items():
                report.glue(name, text)


def summary_rows(found: Findings) -> list[list[Any]]:
    """The findings' one small table: outcome, how many printed numbers, which rows, first cause."""
    out = []
    for o in OUTCOMES:
        mine = [f for f in found if f.outcome == o]
        if not mine:
            continue
        rows = sorted({f"{f.number.example} {f.number.model}" for f in mine})
        first = sorted({f.causes[0].name for f in mine if f.causes}) or ["–"]
        out.append([o, len(mine), ", ".join(rows), "; ".join(first)])
    return out


# --- the readings chapter's tables --------------------------------------------------------------

#: How a reading's verdict is marked in the tables of medians.
MARKS = {CONSISTENT: " ✓", POSSIBLE: " ~", UNDECIDED: " ?", "no": ""}


def median_table(found: Findings, example: str, rows: Sequence[Row] | None = None) -> list[list[Any]]:
    """One line per reading of ``example`` (the setup search's, or ``rows``): its label and, per row of
    the table, the seed median of the loss marked with its verdict (:data:`MARKS`; ``–``: the
    reading does not change that model); the note's printed losses first."""
    from .printed import number

    rows = [r for r in (found.rows if rows is None else rows) if r.system == example]
    out = [["note (printed)", *(number(example, m).text for m in TABLE_ROWS)]]
    for label in dict.fromkeys(r.label() for r in rows):
        cells = {}
        for r in rows:
            if r.label() == label:
                j = readings.judge(number(example, r.model), r)
                cells[r.model] = f"{readings.quartiles(r)[0].text()}{MARKS[j.verdict]}"
        out.append([label, *(cells.get(m, "–") for m in TABLE_ROWS)])
    return out


def ranking_rows(found: Findings, shown: int = 3) -> list[list[Any]]:
    """Per printed number: the note's text, the stated reading's verdict and percentile, the
    ``shown`` most plausible readings with their verdicts and plausibilities, the outcome."""
    out = []
    for f in found:
        top = "; ".join(f"{label} ({j.verdict}, {j.plausibility:.2g})" for label, j in f.judged[:shown])
        out.append([f.number.label, f.number.text, f"{f.stated.verdict} ({f.stated.percentile:.0f})", top,
                    f.outcome])
    return out


def whole_matrices(found: Findings) -> list[list[Any]]:
    """Per printed matrix: the readings (and budgets) consistent with every one of its entries."""
    out = []
    for example in EXAMPLES:
        for model in MATRIX_ROWS:
            entries = [f for f in found if (f.number.example, f.number.model) == (example, model)
                       and f.number.quantity.startswith("matrix")]
            both = [set(f.readings_with(CONSISTENT)) | {lb for lb, j in f.budgets if j.verdict == CONSISTENT}
                    for f in entries]
            common = sorted(set.intersection(*both)) if both else []
            out.append([f"{example} {model}", "; ".join(common) or "none"])
    return out


def within_factor(found: Findings, example: str, model: str, label: str, factor: float = 2.0) -> float:
    """The share of reading ``label``'s pooled sample of row ``model`` of ``example`` whose loss lies
    within ``factor`` of the printed loss."""
    from .printed import number

    n = number(example, model)
    row = next(r for r in found.rows if (r.system, r.model, r.label()) == (example, model, label))
    pooled = np.concatenate(readings.samples(row, "loss"))
    return float(np.mean(np.abs(np.log(pooled / n.value)) <= np.log(factor)))


def judgement(found: Findings, example: str, model: str, label: str, quantity: str = "loss") -> Judgement:
    """The judgement of reading ``label`` on a printed number."""
    return dict(found.of(example, model, quantity).judged)[label]


def budget_judgement(found: Findings, example: str, model: str, changes: dict,
                     quantity: str = "loss") -> Judgement | None:
    """The judgement over the seeds of the budget ``changes`` (a dict of setting changes) of a row on
    its printed ``quantity``, as the findings take it (a matrix entry with its whole matrix); None
    where no such budget was trained."""
    row = next((r for r in found.budgets if (r.system, r.model) == (example, model) and r.changes == changes), None)
    return None if row is None else dict(found.of(example, model, quantity).budgets)[_label_budget(row)]


def budget_verdict(found: Findings, example: str, model: str, changes: dict, quantity: str = "loss") -> str:
    """:func:`budget_judgement`'s verdict; ``–`` where no such budget was trained."""
    j = budget_judgement(found, example, model, changes, quantity)
    return "–" if j is None else j.verdict


def listing(found: Findings, result: str) -> str:
    """The printed numbers with outcome ``result``, grouped by table row, each row with the first cause
    of its numbers (``none`` for none): ``spiral nnm (loss, matrix[1,2]: the step budget); ...``."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for f in found:
        if f.outcome == result:
            key = (f.number.example, f.number.model, f.causes[0].name if f.causes else "")
            groups.setdefault(key, []).append(f.number.quantity)
    parts = [f"{ex} {model} ({', '.join(qs)}{': ' + cause if cause else ''})" for (ex, model, cause), qs in groups.items()]
    return "; ".join(parts) or "none"


def variants() -> list[str]:
    """The rounding variants whose samples the verdicts pool, in words."""
    from ..book.sensitivity import VARIANTS

    return [VARIANTS[v].label for v in readings.rounding_measured()["variants"]]


def factorial_best(rows: Sequence[Row]) -> list[tuple[Printed, tuple[str, Judgement] | None]]:
    """For each printed number, the most plausible reading of a stored table (the committed full
    factorial) and its judgement, on the table's own seeds (no rounding variants), a matrix entry
    with its whole matrix; None where every reading's verdict is no."""
    judged = judged_with_matrices(rows, committed=False)
    out = []
    for n in printed_numbers():
        label, j = min(judged[n].items(), key=lambda pair: (pair[1].verdict != CONSISTENT, pair[1].rank))
        out.append((n, (label, j) if j.verdict != NO else None))
    return out
