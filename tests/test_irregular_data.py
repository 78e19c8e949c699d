"""The irregular data sets: times, values, the periodic set, the task masks."""
import numpy as np
import pytest
import torch

from dynform.irregular.data import make_dataset


def test_times_irregular_sorted_and_split_by_series():
    data = make_dataset("spiral", "interp", series=40, points=30, seed=1)
    t = torch.cat([data.train.t, data.test.t]).numpy()
    assert np.all(t[:, 0] == 0.0) and np.all(np.diff(t, axis=1) > 0) and t.max() <= 5.0
    gaps = np.diff(t, axis=1)
    assert gaps.std(axis=1).min() > 0.2 * gaps.mean()  # irregular within each series
    assert len({tuple(row) for row in t}) == 40  # and every series has its own times
    train0 = data.train.y[:, 0].numpy()
    test0 = data.test.y[:, 0].numpy()
    assert not any(np.allclose(a, b) for a in train0 for b in test0)
    periodic = make_dataset("periodic", "interp", series=10, points=30)
    tp = torch.cat([periodic.train.t, periodic.test.t])
    assert torch.equal(tp, tp[:1].expand_as(tp)) and np.diff(tp[0].numpy()).std() > 0


def test_values_follow_the_exact_flow():
    data = make_dataset("center", "interp", series=4, points=8, noise=0.0)
    from dynform import get_system

    system = get_system("center")
    for t, y in zip(data.train.t.double().numpy(), data.train.y.double().numpy()):
        np.testing.assert_allclose(y, system.solution(y[0], t), atol=1e-5)


def test_periodic_set_matches_its_definition():
    data = make_dataset("periodic", "interp", series=200, points=50, noise=0.0)
    y = torch.cat([data.train.y, data.test.y])[..., 0].numpy()
    z0 = y[:, 0]  # sin(0) = 0
    assert abs(z0.mean() - 1.0) < 0.03 and abs(z0.std() - 0.1) < 0.02
    assert np.all(np.abs(y - z0[:, None]) <= 1.0 + 1e-6)


@pytest.mark.parametrize("task", ["interp", "extrap"])
def test_task_masks(task):
    data = make_dataset("spiral", task, series=20, points=21, obs_frac=0.3, seed=2)
    for part in (data.train, data.test):
        assert part.observed[:, 0].all()
        assert torch.equal(part.target, ~part.observed)
        if task == "interp":
            assert (part.observed.sum(1) == 1 + 6).all()
        else:
            assert torch.equal(part.observed, part.t <= data.window / 2)
