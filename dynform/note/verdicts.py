"""The one rule by which the book judges a printed number against a trained distribution.

A trained number at the note's settings is a draw from a distribution: over seeds, and over the
rounding of the machine that trains it. The book therefore judges a printed number, read as the
interval ``[low, high]`` its last printed digit allows, against a *sample* of our values: a reading's
seeds, pooled over the rounding variants that the committed measurement ran.

* :func:`plausibility` is the measure: the two-sided tail probability of the interval in the
  sample, ``min(1, 2 min(P(X <= high), P(X >= low)))``. It is 1 when the interval meets the sample's
  median, shrinks toward 0 as the interval moves into a tail, and is 0 when the interval lies
  outside the sample. It needs no model of the distribution's shape, and it is the same for a loss
  and for its logarithm (any monotone change of scale), which matters for losses that spread over
  decades.
* :func:`word` turns it into a verdict: :data:`CONSISTENT` inside the central :data:`CENTRAL` of the
  sample, :data:`POSSIBLE` inside its range but in a tail, :data:`NO` outside.
* :func:`judge` applies the rule to the pooled sample and to each rounding variant's sample: the
  verdict is their common word, or :data:`UNDECIDED` when the word changes between them. (Where
  every seed trains the same run, each variant's sample is one value repeated; a printed value that
  rounding straddles then lies inside the pooled sample though no variant produces it: undecided.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

CONSISTENT, POSSIBLE, NO, UNDECIDED = "consistent", "possible", "no", "undecided by rounding"
#: The central share of a sample inside which a printed value is consistent with it.
CENTRAL = 0.90
#: The verdict words, most plausible first.
WORDS = (CONSISTENT, POSSIBLE, NO)

RULE = (f"a printed number, read as the interval its last printed digit allows, is placed in the sample of "
        f"our values: the reading's seeds under each rounding variant of the committed measurement, pooled. "
        f"Its plausibility is the two-sided tail probability of the interval in that sample, "
        f"min(1, 2 min(P(X ≤ high), P(X ≥ low))): 1 at the median, 0 outside the sample. The verdict is "
        f"'{CONSISTENT}' inside the central {CENTRAL:.0%} (plausibility at least {1 - CENTRAL:.2g}), "
        f"'{POSSIBLE}' inside the sample's range but in a tail, '{NO}' outside it; where the same rule, applied "
        f"to each rounding variant's seeds alone, gives another verdict for any of them, it is '{UNDECIDED}'")


def plausibility(low: float, high: float, sample: Sequence[float]) -> float:
    """Two-sided tail probability of the interval ``[low, high]`` in ``sample`` (n,):
    ``min(1, 2 min(P(X <= high), P(X >= low)))``, the probabilities being the sample's shares."""
    s = np.asarray(sample, dtype=np.float64)
    if s.size == 0 or low > high:
        raise ValueError(f"need a non-empty sample and low <= high, got {s.size} values and [{low}, {high}]")
    return float(min(1.0, 2.0 * min(np.mean(s <= high), np.mean(s >= low))))


def word(p: float) -> str:
    """The verdict of plausibility ``p``: :data:`CONSISTENT`, :data:`POSSIBLE` or :data:`NO`."""
    if p >= 1.0 - CENTRAL - 1e-12:
        return CONSISTENT
    return POSSIBLE if p > 0.0 else NO


def percentile(value: float, sample: Sequence[float]) -> float:
    """Percent of ``sample`` below ``value``, ties counted half (0: below all, 100: above all)."""
    s = np.asarray(sample, dtype=np.float64)
    return float(100.0 * (np.mean(s < value) + 0.5 * np.mean(s == value)))


@dataclass(frozen=True)
class Judgement:
    """A printed interval judged against one reading's samples."""

    verdict: str  #: :data:`CONSISTENT`, :data:`POSSIBLE`, :data:`NO` or :data:`UNDECIDED`
    plausibility: float  #: in the pooled sample
    percentile: float  #: of the printed value in the pooled sample
    words: tuple[str, ...]  #: the verdict of each variant's sample, in the order given
    size: int  #: values in the pooled sample

    @property
    def rank(self) -> tuple[float, float]:
        """Sort key, most plausible first: plausibility, then closeness of the percentile to 50."""
        return -self.plausibility, abs(self.percentile - 50.0)


def judge(low: float, high: float, samples: Sequence[Sequence[float]]) -> Judgement:
    """The rule applied to one reading: ``samples`` holds one sample per rounding variant (the
    reference first; a single sample where no variants were measured)."""
    check = [np.asarray(s, dtype=np.float64).ravel() for s in samples]
    if not check:
        raise ValueError("need at least one sample")
    words = tuple(word(plausibility(low, high, s)) for s in check)
    pooled = np.concatenate(check)
    p = plausibility(low, high, pooled)
    verdict = word(p) if set(words) == {word(p)} else UNDECIDED
    return Judgement(verdict, p, percentile(0.5 * (low + high), pooled), words, int(pooled.size))
