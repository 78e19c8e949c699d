"""The note's loss and the regular training: stopping at tol, divergence, determinism."""
import numpy as np
import pytest
import torch

from dynform import ParameterError, RunConfig, TrainingDiverged, build_model, run, train, trajectory_loss
from dynform.note.settings import stated


def test_loss_is_mean_of_squared_norms_over_predicted_samples():
    target = torch.zeros(4, 2)
    pred = torch.zeros(1, 1, 4, 2)
    pred[0, 0, 0] = 100.0  # the given initial state does not count
    pred[0, 0, 1] = torch.tensor([1.0, 2.0])
    pred[0, 0, 3] = torch.tensor([0.0, 3.0])
    assert trajectory_loss(pred, target).item() == pytest.approx((5.0 + 9.0) / 3)


def test_step_matrix_learns_the_flow_map_on_the_spiral():
    # the settings the spiral chapter documents: stated settings with 3000 epochs
    result = run(RunConfig(model="nnm", epochs=3000))
    assert np.abs(result.matrix() - result.true_matrix()).max() < 1e-2
    assert result.iterations == 3000


def test_early_stopping_at_first_loss_below_tol():
    full = run(RunConfig(model="nnm", epochs=400))
    history = full.record.history[:, 0]
    tol = float(history[150])  # the loss first falls below this after step 150
    first_below = int(np.argmax(history < tol))
    stopped = run(RunConfig(model="nnm", epochs=400, tol=tol))
    assert stopped.iterations == first_below
    assert stopped.loss < tol
    assert len(stopped.record.history) == first_below + 1
    assert np.all(stopped.record.history[:-1, 0] >= tol)


def test_iterations_never_exceed_the_maximum():
    result = run(RunConfig(model="nnm", epochs=50, tol=1e-12))
    assert result.iterations == 50


def test_members_stop_independently():
    cfg = RunConfig(model="nn", epochs=300, members=3)
    tol = float(np.median(run(cfg).record.final_loss)) * 1.0001
    res = run(cfg.with_(tol=tol))
    assert (res.record.iterations < 300).any() and res.record.iterations.max() <= 300
    for k in range(3):
        alone = run(RunConfig(model="nn", epochs=300, seed=k, tol=tol))
        assert alone.iterations == res.record.iterations[k]


def test_nan_loss_stops_with_epoch_and_advice():
    model = build_model("nnm")
    with torch.no_grad():
        model.g.M.fill_(float("nan"))
    t = torch.linspace(0, 1, 4)
    with pytest.raises(TrainingDiverged, match=r"at epoch 1; try a smaller lr \(was 0.001\)"):
        train(model, torch.ones(2), t, torch.ones(4, 2), epochs=5)


def test_bad_epochs():
    with pytest.raises(ParameterError, match="^epochs:"):
        RunConfig(epochs=0).validate()


def test_two_runs_give_identical_numbers():
    a = run(RunConfig(model="node", epochs=30, seed=3))
    b = run(RunConfig(model="node", epochs=30, seed=3))
    np.testing.assert_array_equal(a.record.history, b.record.history)


def test_center_stops_at_the_first_loss_below_tol():
    result = run(stated("center", "nnm"))
    history = result.record.history[:, 0]
    assert result.iterations < result.config.epochs
    assert history[-1] < result.config.tol and np.all(history[:-1] >= result.config.tol)
    assert result.iterations == len(history) - 1
