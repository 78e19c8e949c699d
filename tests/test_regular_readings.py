"""The readings a run's settings can take: training sets, loss normalisations, initialisations, and
which settings a model reads."""
import numpy as np
import pytest
import torch

from dynform import run
from dynform.note.settings import stated
from dynform.regular.data import SAMPLES, time_grid, training_set, trajectory
from dynform.regular.experiment import RunConfig, _predicted_index, _with_replicas
from dynform.regular.models import build_model
from dynform.regular.training import LOSSES, trajectory_loss


@pytest.fixture
def grid():
    return time_grid(0.0, 4.0, 8)


def test_trajectory_set_is_the_rollout(spiral, grid):
    t, target = training_set(spiral, np.array([2.0, 0.0]), grid)
    np.testing.assert_array_equal(t, grid)
    np.testing.assert_array_equal(target, trajectory(spiral, np.array([2.0, 0.0]), grid))


def test_pairs_are_consecutive_points_of_the_rollout(spiral, grid):
    path = trajectory(spiral, np.array([2.0, 0.0]), grid)
    t, pairs = training_set(spiral, np.array([2.0, 0.0]), grid, "pairs")
    assert pairs.shape == (7, 2, 2)
    np.testing.assert_array_equal(t, grid[:2])
    np.testing.assert_array_equal(pairs[:, 0], path[:-1])
    np.testing.assert_array_equal(pairs[:, 1], path[1:])


@pytest.mark.parametrize("samples, T", [("random-pairs", 2), ("random-rollouts", 8)])
def test_random_sets_start_in_the_box_and_follow_the_flow(spiral, grid, samples, T):
    t, series = training_set(spiral, np.array([2.0, 0.0]), grid, samples, states=5, box=1.5, seed=3)
    assert series.shape == (5, T, 2)
    assert np.abs(series[:, 0]).max() <= 1.5
    B = spiral.flow_map(grid[1] - grid[0])
    np.testing.assert_allclose(series[:, 1], series[:, 0] @ B.T, atol=1e-12)
    again = training_set(spiral, np.array([2.0, 0.0]), grid, samples, states=5, box=1.5, seed=3)[1]
    np.testing.assert_array_equal(series, again)  # the draw is the seed's


def test_every_training_set_trains(grid):
    for samples in SAMPLES:
        r = run(stated("spiral", "nnm").with_(samples=samples, epochs=20, states=4, rounding=1))
        assert np.isfinite(r.loss) and r.replicas is not None


def test_loss_normalisations():
    pred = torch.randn(3, 2, 8, 2, dtype=torch.float64)
    target = torch.randn(2, 8, 2, dtype=torch.float64)
    norm = trajectory_loss(pred, target)
    manual = ((pred[..., 1:, :] - target[..., 1:, :]) ** 2).sum(-1).mean((1, 2))
    torch.testing.assert_close(norm, manual)
    torch.testing.assert_close(trajectory_loss(pred, target, "mse"), norm / 2)
    torch.testing.assert_close(trajectory_loss(pred, target, "norm-y0"), norm * 7 / 8)
    torch.testing.assert_close(trajectory_loss(pred, target, "mse-y0"), norm * 7 / 16)
    # MSELoss itself, over the predicted points and then over all points with y(0) predicted exactly
    mse = torch.nn.functional.mse_loss(pred[0, :, 1:], target[:, 1:])
    torch.testing.assert_close(trajectory_loss(pred, target, "mse")[0], mse)
    exact_start = torch.cat([target[None, :, :1].expand(3, -1, -1, -1), pred[..., 1:, :]], dim=-2)
    torch.testing.assert_close(trajectory_loss(exact_start, target, "mse-y0")[0],
                               torch.nn.functional.mse_loss(exact_start[0], target))
    assert set(LOSSES) == {"norm", "mse", "norm-y0", "mse-y0"}


def test_torch_init_is_pytorchs_linear_default_and_matrices_start_at_zero():
    mlp = build_model("nn", 2, 50, (0, 1), init="torch").g
    assert mlp.W1.abs().max() <= 1 / np.sqrt(2) and mlp.W2.abs().max() <= 1 / np.sqrt(50)
    assert mlp.b1.abs().min() > 0  # biases drawn too, unlike Algorithm 1
    normal = build_model("nn", 2, 50, (0,), init_std=0.01).g
    assert float(normal.W1.detach().std()) == pytest.approx(0.01, rel=0.3) and not normal.b1.any()
    assert not build_model("nnm", 2, 50, (0,), init="torch").g.M.any()


def test_canonical_drops_what_a_model_does_not_read():
    base = stated("spiral", "nnm")
    assert base.with_(solver="odeint:rk4", init="torch", hidden=7).canonical() == base.canonical()
    assert base.with_(states=3).canonical() == base.canonical()  # no random states in a trajectory
    assert base.with_(samples="random-pairs", states=3).canonical() != base.with_(samples="random-pairs").canonical()
    node = stated("spiral", "node")
    assert node.with_(solver="odeint:rk4").canonical() != node.canonical()
    assert stated("spiral", "nodem").with_(init_std=0.5).canonical() == stated("spiral", "nodem").canonical()


def test_replicas_nudge_one_predicted_entry_of_a_batched_set():
    target = torch.arange(2 * 3 * 2, dtype=torch.float32).reshape(2, 3, 2) + 1
    copies = _with_replicas(target, members=2, rounding=5)
    assert copies.shape == (12, 2, 3, 2)
    assert torch.equal(copies[:2], target.expand(2, -1, -1, -1))
    for r in range(1, 6):
        changed = (copies[2 * r:2 * r + 2] != target).nonzero()
        b, k, j = _predicted_index(target, r - 1)
        assert k >= 1 and {tuple(c[1:].tolist()) for c in changed} == {(b, k, j)}


def test_data_ulp_counts_the_entries_of_the_set():
    cfg = RunConfig(samples="random-pairs", states=3)
    assert cfg.predicted_entries == 6
    assert RunConfig().predicted_entries == 14


@pytest.mark.parametrize("samples", ["random-pairs", "random-rollouts"])
def test_each_member_draws_its_own_random_set_as_a_run_of_its_own(samples):
    """Member k of an ensemble from seed s trains on the states drawn from seed s + k, to the last
    bit as the run with seed s + k alone, replicas and packs included."""
    from dynform.regular.packing import run_pack

    cfg = stated("spiral", "nnm").with_(samples=samples, members=3, rounding=2, epochs=40)
    data = cfg.data(member=None).target
    assert data.shape[0] == 3 and not np.array_equal(data[0], data[1])
    np.testing.assert_array_equal(data[2], cfg.with_(seed=2).data().target)
    ens = cfg.run()
    for k in range(3):
        alone = cfg.with_(seed=k, members=1).run()
        assert ens.record.final_loss[k] == alone.record.final_loss[0]
        np.testing.assert_array_equal(ens.replicas.final_loss[:, k], alone.replicas.final_loss[:, 0])
    plain = cfg.with_(rounding=0)
    packed = run_pack((plain, plain.with_(loss="mse", members=2)))
    np.testing.assert_array_equal(packed[0].record.final_loss, plain.run().record.final_loss)
    np.testing.assert_array_equal(packed[1].record.final_loss, plain.with_(loss="mse", members=2).run().record.final_loss)
