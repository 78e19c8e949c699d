"""Seed statistics: a table row as an ensemble of consecutive seeds, its spread and percentiles."""
import numpy as np
import pytest

from dynform import ParameterError
from dynform.note.seeds import percentile_of, seed_ensemble, spread
from dynform.note.settings import stated


def test_seed_ensemble_uses_consecutive_seeds_and_stated_settings():
    res = seed_ensemble("spiral", "nnm", members=4, seed=7, epochs=20)
    assert res.config.members == 4 and res.config.seed == 7
    assert res.config.lr == stated("spiral", "nnm").lr
    assert res.record.final_loss.shape == (4,)
    # zero-initialised matrix: every seed gives the same run
    assert np.ptp(res.record.final_loss) == 0.0


@pytest.mark.parametrize("bad, name", [({"example": "saddle"}, "example"), ({"members": 1}, "members")])
def test_seed_ensemble_bad_parameters(bad, name):
    args = {"example": "spiral", "model": "nn", "members": 16} | bad
    with pytest.raises(ParameterError, match=f"^{name}:"):
        seed_ensemble(**args)


def test_spread_and_percentile():
    s = spread(np.arange(1.0, 10.0))  # 1..9
    assert (s["median"], s["min"], s["max"], s["q1"], s["q3"], s["iqr"]) == (5.0, 1.0, 9.0, 3.0, 7.0, 4.0)
    sample = np.array([1.0, 2.0, 3.0, 4.0])
    assert percentile_of(0.5, sample) == 0.0
    assert percentile_of(5.0, sample) == 100.0
    assert percentile_of(2.5, sample) == 50.0
    assert percentile_of(2.0, sample) == pytest.approx(37.5)  # one below, one tie
