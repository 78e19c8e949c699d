"""The book's one verdict rule on samples with known answers."""
import numpy as np
import pytest

from dynform.note import verdicts
from dynform.note.verdicts import CONSISTENT, NO, POSSIBLE, UNDECIDED, judge, plausibility, word

#: 0, 1, ..., 99: P(X <= k) = (k + 1) / 100
SAMPLE = np.arange(100.0)


@pytest.mark.parametrize("low, high, p", [
    (49.5, 49.5, 1.0),          # at the median
    (4.5, 4.5, 0.10),           # 5 values at or below: the edge of the central 90 %
    (3.5, 3.5, 0.08),           # 4 values below: in the tail
    (-5.0, -1.0, 0.0),          # below every value
    (99.5, 120.0, 0.0),         # above every value
    (-5.0, 0.0, 0.02),          # meets the lowest value
    (-1.0, 200.0, 1.0),         # an interval around the whole sample
])
def test_plausibility_is_the_two_sided_tail_probability_of_the_interval(low, high, p):
    assert plausibility(low, high, SAMPLE) == pytest.approx(p)


def test_verdict_words_follow_the_central_ninety_percent():
    assert word(1.0) == CONSISTENT and word(0.10) == CONSISTENT
    assert word(0.08) == POSSIBLE and word(0.02) == POSSIBLE
    assert word(0.0) == NO


def test_plausibility_does_not_depend_on_the_scale():
    rng = np.random.default_rng(0)
    sample = rng.lognormal(-6.0, 1.5, 200)
    for low, high in ((1e-3, 1.1e-3), (1e-4, 1e-4), (5e-2, 6e-2)):
        assert plausibility(low, high, sample) == plausibility(np.log(low), np.log(high), np.log(sample))


def test_a_value_inside_the_seeds_and_one_below_them_get_different_verdicts():
    """The two cases a per-seed widening could not tell apart: a printed value inside a chaotic
    spread, and one below every seed of another reading (seeds three times too low)."""
    rng = np.random.default_rng(1)
    stated = rng.lognormal(np.log(2.3e-3), 0.6, 64)
    pairs = rng.lognormal(np.log(2.3e-3 / 3), 0.15, 64)
    printed = (2.3385e-3, 2.3395e-3)
    assert judge(*printed, [stated]).verdict == CONSISTENT
    assert judge(*printed, [pairs]).verdict == NO


def test_undecided_only_where_the_variants_disagree():
    ref = np.full(16, 0.3919)
    other = np.full(16, 0.3925)
    assert judge(0.39185, 0.39195, [ref, ref]).verdict == CONSISTENT
    j = judge(0.39185, 0.39195, [ref, other])
    assert j.verdict == UNDECIDED and j.words == (CONSISTENT, NO) and j.size == 32
    assert j.plausibility == pytest.approx(1.0)  # half the pooled sample is the printed value
    assert judge(0.5, 0.6, [ref, other]).verdict == NO  # every variant says no: no
    # a seed-free run that rounding moves across the printed interval: the printed value lies inside
    # the pooled sample, but no variant produces it; rounding decides
    straddled = judge(0.39185, 0.39195, [np.full(8, 0.3914), np.full(8, 0.3925)])
    assert straddled.words == (NO, NO) and straddled.plausibility == 1.0 and straddled.verdict == UNDECIDED


def test_percentile_and_ranking():
    j = judge(24.5, 24.5, [SAMPLE])
    assert j.percentile == pytest.approx(25.0) and j.plausibility == pytest.approx(0.5)
    k = judge(49.5, 49.5, [SAMPLE])
    assert sorted([j, k], key=lambda x: x.rank) == [k, j]
    assert verdicts.percentile(3.0, [1.0, 3.0, 5.0, 7.0]) == pytest.approx(37.5)  # one below, one tie


def test_bad_samples_are_refused():
    with pytest.raises(ValueError):
        plausibility(0.0, 1.0, [])
    with pytest.raises(ValueError):
        plausibility(2.0, 1.0, [1.0])
    with pytest.raises(ValueError):
        judge(0.0, 1.0, [])
