"""Irregular runs: training reduces the loss deterministically; members train as if alone."""
import numpy as np
import pytest

from dynform import ParameterError
from dynform.irregular import MODELS, IrregularConfig, run_members


def test_training_reduces_loss_and_is_deterministic():
    config = IrregularConfig(model="odernn", series=16, points=12, epochs=30)
    a, b = config.run(), config.run()
    assert a.mse == b.mse and np.array_equal(a.history["loss"], b.history["loss"])
    assert a.history["loss"][-1] < 0.5 * a.history["loss"][0]
    latent = config.with_(model="latent-ode", epochs=5).run()
    assert set(latent.history) == {"loss", "elbo", "loglik", "kl"}
    np.testing.assert_allclose(-latent.history["loss"], latent.history["elbo"], rtol=1e-6)


@pytest.mark.parametrize("kind", list(MODELS))
def test_members_train_as_if_alone(kind):
    """Tasks and seeds trained together as members of one model give each member's single run."""
    config = IrregularConfig(model=kind, series=10, points=8, epochs=4)
    configs = [config.with_(task=task, seed=seed) for task in ("interp", "extrap") for seed in (0, 5)]
    together = run_members(configs)
    alone = configs[3].run()
    assert together[3].mse == pytest.approx(alone.mse, rel=1e-5)
    np.testing.assert_allclose(together[3].history["loss"], alone.history["loss"], rtol=1e-5)
    assert len({r.mse for r in together}) == 4
    with pytest.raises(ParameterError, match="^configs: "):
        run_members([config, config.with_(epochs=5)])
