"""A regular run from its config: ensemble members train as if alone, rounding replicas leave the run
alone, and the loss at a given matrix."""
import numpy as np
import pytest
import scipy.linalg
import torch

from dynform import get_system, run
from dynform.note import analysis
from dynform.note.settings import stated
from dynform.regular.experiment import matrix_loss
from dynform.regular.models import MODELS


#: The issue's bound on |member k - alone with seed k| after 1000 epochs, float32.
BOUND = 1e-6


@pytest.mark.parametrize("model", list(MODELS))
def test_member_k_follows_the_run_alone_with_seed_k(model):
    cfg = stated("spiral", model)  # 1000 epochs, float32
    ens = run(cfg.with_(members=3, seed=4))
    k = 2
    alone = run(cfg.with_(seed=4 + k))
    assert ens.record.history.shape == (1000, 3)
    history_gap = np.abs(ens.record.history[:, k] - alone.record.history[:, 0]).max()
    params_gap = max(float((p[k] - q[0]).detach().abs().max())
                     for p, q in zip(ens.model.parameters(), alone.model.parameters()))
    assert history_gap <= BOUND
    assert params_gap <= BOUND
    assert abs(ens.record.final_loss[k] - alone.loss) <= BOUND
    # the members really are different models (for the MLPs: different seeds)
    if model in ("nn", "node"):
        assert abs(ens.record.final_loss[0] - ens.record.final_loss[k]) > 1e-4


def test_member_with_early_stopping_matches_alone():
    # center, stated settings: tol 1e-3, at most 2000 iterations; members stop at their own step
    cfg = stated("center", "nn").with_(epochs=600, tol=2e-2)
    ens = run(cfg.with_(members=3, seed=0))
    for k in (0, 2):
        alone = run(cfg.with_(seed=k))
        assert ens.record.iterations[k] == alone.iterations
        assert abs(ens.record.final_loss[k] - alone.loss) <= BOUND


def test_rounding_replicas_leave_the_run_alone_and_measure_its_spread():
    """The replicas trained beside a run do not change it; each sees data one ulp off in one entry."""
    from dynform.regular.experiment import _with_replicas

    cfg = stated("spiral", "nnm").with_(epochs=200)
    with_replicas, alone = run(cfg.with_(rounding=3)), run(cfg.with_(rounding=0))
    assert with_replicas.loss == alone.loss and alone.replicas is None
    assert with_replicas.replicas.final_loss.shape == (3, 1)
    assert with_replicas.replica_matrices().shape == (3, 1, 2, 2)
    target = alone.target
    data = _with_replicas(target, 2, 3)
    assert data.shape == (8, 1, *target.shape)
    assert torch.equal(data[:2, 0], target.expand(2, *target.shape))
    for r in range(1, 4):
        changed = (data[2 * r:2 * r + 2, 0] != target).nonzero()
        assert len(changed) == 2 and (changed[:, 1] >= 1).all()  # one entry per member, never y0
        assert torch.equal(torch.nextafter(target[changed[0, 1], changed[0, 2]], torch.tensor(np.inf)),
                           data[2 * r, 0, changed[0, 1], changed[0, 2]])


def test_matrix_loss_zero_for_the_matrix_that_generated_the_data():
    A = get_system("center").A
    cfg = stated("center", "nodem")
    assert matrix_loss(cfg.with_(data_mode="rk4"), A) < 1e-20
    assert matrix_loss(cfg, analysis.rk4_bias_matrix(A, cfg.dt)) < 1e-20
    assert matrix_loss(cfg, A) > 1e-6  # the solver bias
    step = stated("center", "nnm")
    assert matrix_loss(step, scipy.linalg.expm(A * step.dt)) < 1e-20
