import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from dynform.cli import main
from dynform.errors import ParameterError
from dynform.irregular import MODELS, IrregularConfig, build_model, run_members
from dynform.irregular.data import IrregularBatch, make_dataset
from dynform.irregular.gaps import IntervalSolver
from dynform.irregular.losses import gaussian_log_likelihood, kl_standard_normal
from dynform.irregular.models import AugmentedNeuralODE, DecayRNN, LatentODE, ODERNN, RNN
from dynform.solvers import resolve

RK4 = IntervalSolver(resolve("rk4"))


def run_irregular(config):
    """One run of ``config``."""
    return config.run()

SMALL = dict(series=12, points=10)


@pytest.fixture(scope="module")
def spiral_data():
    return make_dataset("spiral", "interp", **SMALL, seed=3)


def one(batch):
    """A batch for a one-member model."""
    return IrregularBatch.stack([batch])


class Fn:
    """A stand-in ODE field with a fixed function."""

    def __init__(self, fn):
        self.fn = fn

    def function(self):
        return self.fn


@pytest.mark.parametrize("dataset, dim", [("spiral", 2), ("center", 2), ("periodic", 1)])
@pytest.mark.parametrize("kind", list(MODELS))
def test_shapes(kind, dataset, dim):
    data = make_dataset(dataset, "extrap", **SMALL)
    assert data.train.y.shape == (9, 10, dim) and data.test.y.shape == (3, 10, dim)
    torch.manual_seed(0)
    model = build_model(kind, dim, hidden=6, latent=4)
    pred = model(one(data.test))
    assert pred.shape == (1,) + data.test.y.shape
    if kind != "latent-ode":  # the first point is given, not predicted
        torch.testing.assert_close(pred[0, :, 0], data.test.y[:, 0])


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


def _share_cell(src, *dst):
    for d in dst:
        d.cell.load_state_dict(src.cell.state_dict())
        d.out.load_state_dict(src.out.state_dict())


def test_odernn_with_zero_field_is_the_rnn(spiral_data):
    torch.manual_seed(0)
    decay, odernn, rnn = DecayRNN(2, 5), ODERNN(2, 5, 7, RK4), RNN(2, 5)
    _share_cell(decay, odernn)
    with torch.no_grad():
        decay.rho.fill_(-float("inf"))  # τ = softplus(-inf) = 0
        odernn.f.W2.zero_()
        odernn.f.b2.zero_()  # f ≡ 0
        rnn.cell.weight_ih.copy_(torch.cat([decay.cell.weight_ih, torch.zeros(1, 15, 1)], dim=-1))  # Δt weights 0
        for name in ("weight_hh", "bias_ih", "bias_hh"):
            getattr(rnn.cell, name).copy_(getattr(decay.cell, name))
        rnn.out.load_state_dict(decay.out.state_dict())
    assert decay.tau.item() == 0.0
    batch = one(spiral_data.train)
    torch.testing.assert_close(odernn(batch), decay(batch), rtol=0, atol=0)
    torch.testing.assert_close(rnn(batch), decay(batch), rtol=0, atol=1e-7)


def test_decay_with_tau_zero_is_no_decay_and_tau_decays(spiral_data):
    torch.manual_seed(1)
    model = DecayRNN(2, 4)
    batch = one(spiral_data.test)
    with torch.no_grad():
        model.rho.fill_(-float("inf"))
        pred = model(batch)
        h = torch.zeros(1, len(batch), 4)
        expected = [batch.y[:, :, 0]]
        x = batch.y[:, :, 0]
        for i in range(1, batch.y.shape[2]):
            h = model.cell(x, h)  # no decay
            expected.append(model.out(h))
            x = torch.where(batch.observed[:, :, i, None], batch.y[:, :, i], expected[-1])
        torch.testing.assert_close(pred, torch.stack(expected, 2), rtol=0, atol=0)
        # with τ > 0 the decay RNN is the ODE-RNN whose field is dh/dt = -τ h (the note's section 4.4)
        model.rho.fill_(0.3)
        tau = model.tau.item()
        odernn = ODERNN(2, 4, 3, IntervalSolver(resolve("rk4", 4)))
        _share_cell(model, odernn)
        del odernn.f
        odernn.f = Fn(lambda h: -tau * h)
        torch.testing.assert_close(odernn(batch), model(batch), rtol=0, atol=1e-6)
        assert not torch.allclose(model(batch), pred, atol=1e-3)


def test_odernn_hand_computed():
    """GRU with zero weights halves the state, h_i = h'_i / 2; a constant field c moves it by c Δt_i
    (exact for RK4). So h_i = (h_{i-1} + c Δt_i) / 2 from h_0 = 0, integrated over [t_{i-1}, t_i]."""
    t = torch.tensor([[0.0, 0.5, 0.7, 1.5, 1.6]])
    y = torch.randn(1, 5, 1)
    model = ODERNN(1, 2, 3, IntervalSolver(resolve("odeint:rk4")))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.f.b2.copy_(torch.tensor([[1.0, -2.0]]))
        model.out.weight.copy_(torch.tensor([[[1.0, 0.0]]]))
    observed = torch.ones(1, 5, dtype=torch.bool)
    pred = model(one(IrregularBatch(t, y, observed, ~observed)))[0, 0, :, 0]
    h, expected = 0.0, []
    for dt in (0.5, 0.2, 0.8, 0.1):
        h = (h + 1.0 * dt) / 2
        expected.append(h)
    assert pred[0] == y[0, 0, 0]
    torch.testing.assert_close(pred[1:], torch.tensor(expected), rtol=0, atol=1e-6)


@pytest.mark.parametrize("solver", ["rk4", "odeint:rk4", "odeint:dopri5"])
def test_interval_solver_per_series_gaps(solver):
    """h' = -h over gaps of different lengths per series: h0 exp(-dt), forwards and backwards."""
    s = IntervalSolver(resolve(solver, 4, rtol=1e-5, atol=1e-6))
    h0 = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    dt = torch.tensor([0.1, 0.7, -0.4])
    torch.testing.assert_close(s(lambda h: -h, h0, dt), h0 * torch.exp(-dt)[:, None], rtol=2e-5, atol=2e-5)


def test_neural_ode_zero_field_and_first_observation_only(spiral_data):
    model = AugmentedNeuralODE(2, 5, 6, RK4)
    batch = one(spiral_data.test)
    with torch.no_grad():
        model.f.W2.zero_()
        model.f.b2.zero_()
        torch.testing.assert_close(model(batch), batch.y[:, :, :1].expand_as(batch.y))


def test_kl_matches_closed_form_and_torch():
    torch.manual_seed(0)
    mu, sigma = torch.randn(7, 4, dtype=torch.float64), torch.rand(7, 4, dtype=torch.float64) + 0.1
    ours = kl_standard_normal(mu, sigma)
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(sigma))).sum(-1)
    torch.testing.assert_close(ours, ref)
    hand = 0.5 * (sigma**2 + mu**2 - torch.log(sigma**2) - 1).sum(-1)
    torch.testing.assert_close(ours, hand)
    assert torch.all(kl_standard_normal(torch.zeros(3, 2), torch.ones(3, 2)) == 0)


def test_gaussian_log_likelihood_and_elbo(spiral_data):
    torch.manual_seed(0)
    pred, y = torch.randn(3, 5, 2), torch.randn(3, 5, 2)
    mask = torch.rand(3, 5) > 0.4
    ref = (torch.distributions.Normal(pred, 0.3).log_prob(y) * mask[..., None]).sum((1, 2))
    torch.testing.assert_close(gaussian_log_likelihood(pred, y, mask, 0.3), ref)
    model = LatentODE(2, 5, 3, 6, RK4, obs_std=0.1)
    batch = one(spiral_data.train)
    elbo, loglik, kl = model.elbo(batch, torch.ones_like(batch.observed))
    torch.testing.assert_close(elbo, loglik - kl)
    assert elbo.shape == (1, len(spiral_data.train)) and torch.all(kl >= 0)
    samples = model.sample(batch, 4)
    assert samples.shape == (4,) + batch.y.shape and samples.std(0).mean() > 0


def test_encoders_see_only_observed_points_and_are_causal(spiral_data):
    torch.manual_seed(0)
    batch = one(spiral_data.test)
    changed = IrregularBatch(batch.t, torch.where(batch.observed[..., None], batch.y, batch.y + 5.0),
                             batch.observed, batch.target)
    latent = LatentODE(2, 5, 3, 6, RK4, obs_std=0.1)
    with torch.no_grad():
        for a, b in zip(latent.encode(batch), latent.encode(changed)):
            torch.testing.assert_close(a, b)
        odernn = ODERNN(2, 5, 6, RK4)
        torch.testing.assert_close(odernn(batch), odernn(changed))
        later = IrregularBatch(batch.t, torch.cat([batch.y[:, :, :4], batch.y[:, :, 4:] + 3.0], 2), batch.observed,
                               batch.target)
        torch.testing.assert_close(odernn(later)[:, :, :5], odernn(batch)[:, :, :5])  # ŷ_i uses y_0..y_{i-1} only


def test_training_reduces_loss_and_is_deterministic():
    config = IrregularConfig(model="odernn", series=16, points=12, epochs=30)
    a, b = run_irregular(config), run_irregular(config)
    assert a.mse == b.mse and np.array_equal(a.history["loss"], b.history["loss"])
    assert a.history["loss"][-1] < 0.5 * a.history["loss"][0]
    latent = run_irregular(config.with_(model="latent-ode", epochs=5))
    assert set(latent.history) == {"loss", "elbo", "loglik", "kl"}
    np.testing.assert_allclose(-latent.history["loss"], latent.history["elbo"], rtol=1e-6)


@pytest.mark.parametrize("kind", list(MODELS))
def test_members_train_as_if_alone(kind):
    """Tasks and seeds trained together as members of one model give each member's single run."""
    config = IrregularConfig(model=kind, series=10, points=8, epochs=4)
    configs = [config.with_(task=task, seed=seed) for task in ("interp", "extrap") for seed in (0, 5)]
    together = run_members(configs)
    alone = run_irregular(configs[3])
    assert together[3].mse == pytest.approx(alone.mse, rel=1e-5)
    np.testing.assert_allclose(together[3].history["loss"], alone.history["loss"], rtol=1e-5)
    assert len({r.mse for r in together}) == 4
    with pytest.raises(ParameterError, match="^configs: "):
        run_members([config, config.with_(epochs=5)])


@pytest.mark.parametrize("field, value", [
    ("model", "lstm"), ("dataset", "saddle"), ("task", "forecast"), ("epochs", 0), ("hidden", 0),
    ("points", 3), ("obs_frac", 1.0), ("lr", -1.0), ("noise", -0.1), ("solver", "rk5"), ("seed", 1.5),
])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ParameterError, match=f"^{field}: "):
        IrregularConfig(**{field: value}).validate()


@pytest.mark.parametrize("model", list(MODELS))
def test_cli_answers_for_each_model(capsys, model):
    dataset = "periodic" if model in ("augmented-node", "latent-ode") else "spiral"
    assert main(["irregular", "--model", model, "--dataset", dataset, "--task", "extrap", "--epochs", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"model", "dataset", "task", "mse", "seconds"} <= set(out)
    assert (out["model"], out["dataset"], out["task"]) == (model, dataset, "extrap")
    assert np.isfinite(out["mse"]) and out["mse"] > 0 and out["settings"]["epochs"] == 2


def test_cli_plain_output(capsys):
    assert main(["irregular", "--model", "rnn", "--dataset", "center", "--epochs", "1", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "model: rnn" in out and "dataset: center" in out and "mse:" in out


def test_cli_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "dynform", "irregular", "--model", "gru"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("dynform: error: --model: unknown model 'gru'")
