"""The numpy engine (dynform/regular/backprop.py) trains as autograd does: in float64 the two agree
to rounding for every model, training set, loss normalisation, substep count, rounding replica and
early stop; in float32 its trained model predicts what its record says."""
import numpy as np
import pytest

from dynform import TrainingDiverged
from dynform.note.settings import stated
from dynform.regular.packing import run_pack
from dynform.regular.training import trajectory_loss

#: float64 histories of the two engines over 40 epochs differ by about 1e-12 relative at most
#: (measured over 60 epochs: 6e-14 to 1e-12 for the MLP step map, whose loss grows rounding fastest; 1e-16 to
#: 2e-15 for the others); a wrong gradient term moves them by far more than 1e-9.
AGREE = 1e-9


@pytest.mark.parametrize("example", ["spiral", "center"])
@pytest.mark.parametrize("model", ["nn", "nnm", "node", "nodem"])
@pytest.mark.parametrize("samples", ["trajectory", "random-rollouts"])
def test_float64_training_equals_autograd(example, model, samples):
    config = stated(example, model).with_(epochs=40, dtype="float64", members=2, rounding=1, samples=samples,
                                          substeps=2, loss="mse-y0")
    ref, mine = config.with_(engine="autograd").run(), config.with_(engine="numpy").run()
    for a, b in ((ref.record, mine.record), (ref.replicas, mine.replicas)):
        np.testing.assert_allclose(b.history, a.history, rtol=AGREE, atol=0)
        np.testing.assert_allclose(b.final_loss, a.final_loss, rtol=AGREE, atol=0)
        np.testing.assert_array_equal(b.iterations, a.iterations)
    if ref.matrix() is not None:
        np.testing.assert_allclose(mine.matrices(), ref.matrices(), rtol=AGREE, atol=1e-12)


def test_early_stop_and_torch_rmsprop_and_a_pack_of_loss_normalisations():
    # the center's stated tolerance stops members at different steps
    config = stated("center", "nnm").with_(dtype="float64", members=3, rounding=0, optimizer="torch-rmsprop",
                                           engine="autograd")
    configs = (config.with_(engine="numpy"), config.with_(engine="numpy", loss="mse"))
    refs = run_pack((config, config.with_(loss="mse")))
    for ref, mine in zip(refs, run_pack(configs)):
        assert 0 < ref.iterations < config.epochs
        np.testing.assert_array_equal(mine.record.iterations, ref.record.iterations)
        np.testing.assert_allclose(mine.record.final_loss, ref.record.final_loss, rtol=AGREE)


def test_the_trained_parameters_are_written_back_into_the_model():
    result = stated("spiral", "node").with_(epochs=200, members=2, rounding=0, engine="numpy").run()
    pred = result.model(result.target[0], result.t)
    again = trajectory_loss(pred, result.target).detach().numpy()
    np.testing.assert_allclose(again, result.record.final_loss, rtol=1e-5)  # float32 rounding of two orders


def test_auto_is_numpy_where_it_applies():
    from dynform.regular.backprop import supports
    from dynform.regular.models import build_model

    assert stated("spiral", "node").engine == "auto"
    assert supports(build_model("node")) and supports(build_model("nnm", solver="odeint:rk4"))
    assert not supports(build_model("node", solver="odeint:rk4"))
    auto = stated("spiral", "node").with_(epochs=30, rounding=0, dtype="float64")
    np.testing.assert_array_equal(auto.run().record.history, auto.with_(engine="numpy").run().record.history)


def test_a_diverging_run_stops_with_the_same_message():
    with pytest.raises(TrainingDiverged, match=r"training diverged: the loss became \[.*\] at epoch \d+; "
                                               r"try a smaller lr \(was 1000.0\)"):
        stated("spiral", "nnm").with_(lr=1000.0, epochs=400, rounding=0, engine="numpy").run()
