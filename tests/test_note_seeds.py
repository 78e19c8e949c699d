"""Seed statistics: a table row as an ensemble of consecutive seeds, its spread, and the rule that
chooses the number of seeds from a rounding measurement."""
import numpy as np
import pytest

from dynform import ParameterError
from dynform.note import seeds
from dynform.note.seeds import seed_ensemble, spread
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


def test_spread():
    s = spread(np.arange(1.0, 10.0))  # 1..9
    assert (s["median"], s["min"], s["max"], s["q1"], s["q3"], s["iqr"]) == (5.0, 1.0, 9.0, 3.0, 7.0, 4.0)
    stats = seeds.size_statistics(np.arange(256.0))
    assert stats["median@16"] == 7.5 and stats["median@256"] == 127.5 and stats["iqr@64"] == 31.5


def _values(moved: dict[int, float]) -> dict[str, dict[str, float]]:
    """A measurement of one seed-dependent row (IQR 1 at every size) whose median a variant moves by
    ``moved[N]``, and of one seed-free row."""
    ref = {**{f"seeds/spiral/nn/median@{n}": 1.0 for n in seeds.ENSEMBLE_SIZES},
           **{f"seeds/spiral/nn/iqr@{n}": 1.0 for n in seeds.ENSEMBLE_SIZES},
           **{f"seeds/spiral/nnm/median@{n}": 1.0 for n in seeds.ENSEMBLE_SIZES},
           **{f"seeds/spiral/nnm/iqr@{n}": 0.0 for n in seeds.ENSEMBLE_SIZES}}
    other = {**ref, **{f"seeds/spiral/nn/median@{n}": 1.0 + d for n, d in moved.items()}}
    return {"reference": ref, "all-kernels": other}


def test_the_number_of_seeds_is_where_quadrupling_stops_halving_the_movement():
    assert seeds.chosen_size(_values({16: 0.8, 64: 0.2, 256: 0.17})) == 64  # 64 -> 256 buys little
    assert seeds.chosen_size(_values({16: 0.8, 64: 0.5, 256: 0.1})) == 16  # 16 -> 64 buys little
    assert seeds.chosen_size(_values({16: 0.8, 64: 0.4, 256: 0.2})) == 256  # every step pays
    assert seeds.worst_shares(_values({16: 0.8, 64: 0.2, 256: 0.17})) == pytest.approx({16: 0.8, 64: 0.2, 256: 0.17})
    assert set(seeds.median_shares(_values({16: 0, 64: 0, 256: 0}))) == {"spiral/nn"}  # seed-free rows left out
