"""The one training loop both halves use: stopping at tol, and a diverging loss."""
import pytest
import torch

from dynform import RunConfig, TrainingDiverged
from dynform.fitting import fit


def test_a_non_finite_loss_stops_the_loop_naming_the_epoch_and_the_members_shown():
    w = torch.nn.Parameter(torch.ones(3))
    factors = iter([1.0, 2.0, float("nan")])
    with pytest.raises(TrainingDiverged, match=r"^training diverged: the loss became \[nan, nan\] at epoch 3; "
                                               r"try a smaller lr \(was 0\.1\)$"):
        fit(lambda: (w * next(factors), {}), [w], lambda: None, epochs=5, lr=0.1, members=3, shown=2)


def test_members_below_tol_freeze_and_the_loop_ends_when_all_have():
    w = torch.nn.Parameter(torch.tensor([4.0, 1.0]))

    def step():
        with torch.no_grad():
            w.sub_(0.25 * w.grad)  # the gradient is 2w: w halves

    record = fit(lambda: (w**2, {"w": w.detach().clone()}), [w], step, epochs=50, lr=0.5, members=2, tol=0.5)
    assert record.iterations.tolist() == [3, 1]  # losses 16, 4, 1, 0.25 and 1, 0.25 (then frozen)
    assert record.history["loss"][:, 0].tolist() == [16.0, 4.0, 1.0, 0.25]
    assert record.history["w"][-1].tolist() == [0.5, 0.5]


def test_the_regular_run_reports_a_divergence_in_the_same_words():
    with pytest.raises(TrainingDiverged, match=r"^training diverged: the loss became \[(nan|inf)\] at epoch \d+; "
                                               r"try a smaller lr \(was 10\.0\)$"):
        RunConfig(model="nodem", lr=10.0, epochs=50).run()
