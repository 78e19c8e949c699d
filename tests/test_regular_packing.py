"""Runs trained as one ensemble (dynform/regular/packing.py) give the numbers of separate runs, to
the last bit, and only runs that may share a pass are packed together."""
import numpy as np
import pytest

from dynform import ParameterError
from dynform.note.settings import stated
from dynform.regular.packing import pack_key, packs, run_pack


def _variants(model: str, example: str = "spiral"):
    base = stated(example, model).with_(members=3, rounding=0, epochs=40)
    out = [base, base.with_(loss="mse"), base.with_(loss="mse-y0"), base.with_(data_mode="rk4"),
           base.with_(loss="norm-y0", seed=5), base.with_(data_ulp=3), base.with_(init_ulp=1, loss="mse")]
    if model in ("nn", "node"):
        out += [base.with_(init_std=0.01), base.with_(init="torch", members=2)]
    return out


@pytest.mark.parametrize("engine", ["autograd", "numpy"])
@pytest.mark.parametrize("example, model", [("spiral", "nn"), ("spiral", "nodem"), ("center", "node"),
                                            ("center", "nnm")])
def test_a_pack_gives_every_run_its_own_numbers(example, model, engine):
    configs = [c.with_(engine=engine) for c in _variants(model, example)]
    assert len(packs(configs)) == 1
    for alone, packed in zip((c.run() for c in configs), run_pack(tuple(configs))):
        assert packed.config == alone.config
        np.testing.assert_array_equal(packed.record.history, alone.record.history)
        np.testing.assert_array_equal(packed.record.final_loss, alone.record.final_loss)
        np.testing.assert_array_equal(packed.record.iterations, alone.record.iterations)
        y0 = np.array([[1.0, -0.5]])
        np.testing.assert_array_equal(packed.predict(y0, np.linspace(0, 1, 3)), alone.predict(y0, np.linspace(0, 1, 3)))
        if alone.matrix() is not None:
            np.testing.assert_array_equal(packed.matrices(), alone.matrices())


def test_only_runs_that_can_share_a_pass_are_packed():
    base = stated("spiral", "node").with_(members=2, rounding=0)
    configs = [base, base.with_(loss="mse"), base.with_(optimizer="torch-rmsprop"), base.with_(epochs=10),
               base.with_(init="torch"), base.with_(samples="pairs"), base.with_(model="nn")]
    assert packs(configs) == [[0, 1, 4], [2], [3], [5], [6]]
    assert pack_key(base.with_(data_mode="rk4", init_std=0.01)) == pack_key(base)


def test_a_pack_of_runs_that_differ_elsewhere_is_refused():
    base = stated("spiral", "nnm").with_(members=2, rounding=0, epochs=5)
    with pytest.raises(ParameterError, match="configs: the runs of a pack may differ only in loss, init, init_std, data_mode, seed, members, init_ulp, "
                                                   "data_ulp"):
        run_pack((base, base.with_(lr=1e-2)))
    with pytest.raises(ParameterError, match="configs: the runs of a pack train no rounding replicas$"):
        run_pack((base.with_(rounding=1),))
