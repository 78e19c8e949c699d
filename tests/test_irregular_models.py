"""The irregular-time models: shapes, the relations between them, hand-computed cases, causality,
predictions on a dense grid."""
import pytest
import torch

from dynform.irregular import MODELS, build_model
from dynform.irregular.data import IrregularBatch, make_dataset
from dynform.irregular.gaps import IntervalSolver
from dynform.irregular.losses import gaussian_log_likelihood
from dynform.irregular.models import AugmentedNeuralODE, DecayRNN, LatentODE, ODERNN, RNN, Recurrent
from dynform.solvers import resolve

from problems import RK4, SMALL, Fn, one


@pytest.mark.parametrize("dataset, dim", [("spiral", 2), ("center", 2), ("periodic", 1)])
@pytest.mark.parametrize("kind", list(MODELS))
def test_shapes(kind, dataset, dim):
    data = make_dataset(dataset, "extrap", **SMALL)
    assert data.train.y.shape == (9, 10, dim) and data.test.y.shape == (3, 10, dim)
    torch.manual_seed(0)
    model = build_model(kind, dim, hidden=6, latent=4)
    pred = model(one(data.test))
    assert pred.shape == (1,) + data.test.y.shape
    if not kind.startswith("latent-ode"):  # the first point is given, not predicted
        torch.testing.assert_close(pred[0, :, 0], data.test.y[:, 0])


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
    with torch.no_grad():
        for encoder in ("odernn", "rnn"):
            latent = LatentODE(2, 5, 3, 6, RK4, obs_std=0.1, encoder=encoder)
            for a, b in zip(latent.encode(batch), latent.encode(changed)):
                torch.testing.assert_close(a, b)
        odernn = ODERNN(2, 5, 6, RK4)
        torch.testing.assert_close(odernn(batch), odernn(changed))
        later = IrregularBatch(batch.t, torch.cat([batch.y[:, :, :4], batch.y[:, :, 4:] + 3.0], 2), batch.observed,
                               batch.target)
        torch.testing.assert_close(odernn(later)[:, :, :5], odernn(batch)[:, :, :5])  # ŷ_i uses y_0..y_{i-1} only


@pytest.mark.parametrize("kind", list(MODELS))
def test_dense_predictions_at_the_sample_times_are_the_predictions(kind, spiral_data):
    """On a grid that is the batch's own times, the dense predictions are the model's predictions; on a
    finer grid a recurrent model's pass through them (an ODE model's solver takes other steps there)."""
    torch.manual_seed(0)
    model = build_model(kind, 2, hidden=5, latent=4, width=6)
    batch = one(spiral_data.test)
    with torch.no_grad():
        pred = model(batch)
        torch.testing.assert_close(model.dense(batch, batch.t.clone()), pred, rtol=0, atol=1e-6)
        fine = torch.sort(torch.cat([batch.t, batch.t[..., 1:] - 0.3 * torch.diff(batch.t)], -1), -1).values
        dense = model.dense(batch, fine)
        assert dense.shape == (1, len(batch), fine.shape[-1], 2) and torch.isfinite(dense).all()
        if not isinstance(model, Recurrent):
            return
        at_samples = torch.searchsorted(fine[0].contiguous(), batch.t[0].contiguous())
        torch.testing.assert_close(dense[0].gather(1, at_samples[..., None].expand(-1, -1, 2)), pred[0], atol=1e-6, rtol=0)


def test_recurrent_dense_prediction_is_the_prediction_with_a_shorter_gap(spiral_data):
    """Between t_{i-1} and t_i a recurrent model predicts what it would at t_i with the gap t - t_{i-1}."""
    torch.manual_seed(2)
    model = ODERNN(2, 5, 6, RK4)
    batch = one(spiral_data.test)
    i = 4
    tau = batch.t[..., i - 1] + 0.4 * (batch.t[..., i] - batch.t[..., i - 1])
    moved = IrregularBatch(batch.t.clone(), batch.y, batch.observed, batch.target)
    moved.t[..., i] = tau
    with torch.no_grad():
        torch.testing.assert_close(model.dense(batch, tau[..., None])[..., 0, :], model(moved)[..., i, :])


def test_kl_weight_and_prior_samples(spiral_data):
    torch.manual_seed(0)
    model = LatentODE(2, 5, 3, 6, RK4, obs_std=0.1, encoder="rnn")
    batch = one(spiral_data.train)
    score = torch.ones_like(batch.observed)
    torch.manual_seed(1)
    model._noise = [torch.Generator().manual_seed(3)]
    full, terms = model.loss(batch, score)
    model._noise = [torch.Generator().manual_seed(3)]
    none, _ = model.loss(batch, score, kl_weight=0.0)
    torch.testing.assert_close(full, -terms["elbo"])
    torch.testing.assert_close(none, -terms["loglik"])
    times = torch.linspace(0, 5, 30).expand(1, len(batch), 30)
    prior = model.sample(batch, 7, prior=True, times=times)
    posterior = model.sample(batch, 7, times=times)
    assert prior.shape == posterior.shape == (7, 1, len(batch), 30, 2) and not torch.equal(prior, posterior)
