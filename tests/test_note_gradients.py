import numpy as np
import pytest
import torch

import dynform
from dynform import ParameterError
from dynform.note import gradients as gr
from dynform.optim import Algorithm1


def _spiral_problem():
    system = dynform.get_system("spiral")
    target = dynform.trajectory(system, np.array([2.0, 0.0]), dynform.time_grid(0.0, 4.0, 8))
    params = gr.mlp_parameters(dynform.build_model("nn", seeds=(0,)))
    return params, target[0], target


def _scalar_loss(p, x, y):
    return (y - (p["W2"] * np.tanh(p["W1"] * x + p["b1"]) + p["b2"])) ** 2


@pytest.mark.parametrize("seed", range(6))
def test_scalar_gradients_match_autograd(seed):
    rng = np.random.default_rng(100 + seed)
    p = gr.random_parameters(1, 1, seed)
    x, y = rng.standard_normal(2) * 2
    auto = gr.autograd_one_step(p, np.array([[x]]), np.array([[y]]))
    scalars = dict(W1=p["W1"][0, 0], b1=p["b1"][0], W2=p["W2"][0, 0], b2=p["b2"][0])
    corrected = gr.scalar_gradients(**scalars, x=x, y=y)
    printed = gr.scalar_gradients(**scalars, x=x, y=y, form="printed")
    for k in gr.NAMES:
        assert corrected[k] == pytest.approx(float(auto[k].item()), rel=1e-12, abs=1e-13)
        assert printed[k] == -corrected[k]  # the sign slip is the only difference
    assert abs(corrected["b2"]) > 1e-3  # a non-trivial check


@pytest.mark.parametrize("dim,hidden,samples,seed",
                         [(1, 1, 1, 0), (2, 3, 1, 1), (2, 50, 7, 2), (3, 8, 5, 3), (2, 1, 4, 4)])
def test_vector_gradients_match_autograd(dim, hidden, samples, seed):
    rng = np.random.default_rng(seed)
    p = gr.random_parameters(dim, hidden, seed, scale=0.7)
    x, y = rng.standard_normal((samples, dim)), rng.standard_normal((samples, dim))
    auto = gr.autograd_one_step(p, x, y)
    corrected = gr.vector_gradients(p, x, y)
    printed = gr.vector_gradients(p, x, y, form="printed")
    assert gr.max_abs_difference(corrected, auto) <= 1e-12
    for k in gr.NAMES:
        assert corrected[k].shape == p[k].shape
        np.testing.assert_allclose(printed[k], samples * corrected[k], rtol=1e-12, atol=1e-14)


def test_vector_formula_reduces_to_scalar_formula():
    p = gr.random_parameters(1, 1, 7)
    g = gr.vector_gradients(p, np.array([[0.4]]), np.array([[1.3]]))
    s = gr.scalar_gradients(p["W1"][0, 0], p["b1"][0], p["W2"][0, 0], p["b2"][0], 0.4, 1.3)
    for k in gr.NAMES:
        assert float(g[k].item()) == pytest.approx(s[k], rel=1e-14)


@pytest.mark.parametrize("dim,hidden,T,B,seed",
                         [(2, 50, 8, 1, 0), (2, 3, 2, 1, 1), (1, 4, 5, 2, 2), (3, 6, 6, 3, 3), (2, 1, 4, 1, 4)])
def test_bptt_matches_autograd(dim, hidden, T, B, seed):
    rng = np.random.default_rng(seed)
    p = gr.random_parameters(dim, hidden, seed, scale=0.6)
    target = rng.standard_normal((B, T, dim))
    y0 = target[:, 0]
    loss, g = gr.trajectory_gradients(p, y0, target)
    loss_a, g_a = gr.autograd_trajectory_gradients(p, y0, target)
    assert loss == pytest.approx(loss_a, rel=1e-13)
    assert loss == pytest.approx(gr.trajectory_loss_np(p, y0, target), rel=1e-14)
    assert gr.max_abs_difference(g, g_a) <= 1e-12


@pytest.mark.parametrize("T", [2, 8])
def test_one_step_formula_is_bptt_without_the_recursion(T):
    rng = np.random.default_rng(T)
    p = gr.random_parameters(2, 5, T, scale=0.8)
    target = rng.standard_normal((T, 2))
    _, g1 = gr.trajectory_gradients(p, target[0], target, through_time=False)
    states, _ = gr.rollout(p, target[:1], T - 1)
    # the note's formula: predicted previous states as fixed inputs, one row per predicted sample
    g_note = gr.vector_gradients(p, states[0, :-1], target[1:])
    assert gr.max_abs_difference(g1, g_note) <= 1e-13
    _, g = gr.trajectory_gradients(p, target[0], target)
    if T == 2:  # one step: nothing flows through time
        assert gr.max_abs_difference(g, g1) <= 1e-15
    else:
        assert gr.max_abs_difference(g, g1) > 1e-3


def test_bptt_on_the_spiral():
    p, y0, target = _spiral_problem()
    loss, g = gr.trajectory_gradients(p, y0, target)
    loss_a, g_a = gr.autograd_trajectory_gradients(p, y0, target)
    assert loss == pytest.approx(loss_a, rel=1e-14)
    assert gr.max_abs_difference(g, g_a) <= 1e-12


@pytest.mark.parametrize("seed", range(8))
def test_printed_sign_points_uphill(seed):
    rng = np.random.default_rng(seed)
    p = {k: float(v.item()) for k, v in gr.random_parameters(1, 1, seed).items()}
    x, y = rng.standard_normal(2) * 2
    before = _scalar_loss(p, x, y)
    for form, rises in (("printed", True), ("corrected", False)):
        g = gr.scalar_gradients(**p, x=x, y=y, form=form)
        after = _scalar_loss({k: p[k] - 1e-4 * g[k] for k in p}, x, y)
        assert (after > before) == rises


def test_algorithm1_step_against_formula_and_torch():
    p = gr.random_parameters(2, 4, 0)
    grads = [gr.random_parameters(2, 4, s, scale=10.0 ** -s) for s in (1, 3)]
    lr, gamma, eps = 1e-3, 0.99, 1e-8
    for eps_inside, opt_cls in ((True, lambda ps: Algorithm1(ps, lr=lr, gamma=gamma, eps=eps)),
                                (False, lambda ps: torch.optim.RMSprop(ps, lr=lr, alpha=gamma, eps=eps))):
        tensors = [torch.nn.Parameter(torch.tensor(p[k])) for k in gr.NAMES]
        opt = opt_cls(tensors)
        ours, G = p, {k: np.zeros_like(v) for k, v in p.items()}
        G_hand = {k: np.zeros_like(v) for k, v in p.items()}
        W_hand = dict(p)
        for g in grads:
            ours, G = gr.algorithm1_step(ours, g, G, lr, gamma, eps, eps_inside)
            for tns, k in zip(tensors, gr.NAMES):
                tns.grad = torch.tensor(g[k])
            opt.step()
            for k in gr.NAMES:  # the formula, written out
                G_hand[k] = gamma * G_hand[k] + (1 - gamma) * g[k] ** 2
                denom = np.sqrt(G_hand[k] + eps) if eps_inside else np.sqrt(G_hand[k]) + eps
                W_hand[k] = W_hand[k] - lr * g[k] / denom
        assert gr.max_abs_difference(ours, W_hand) == 0.0
        assert gr.max_abs_difference(ours, {k: t.detach().numpy() for k, t in zip(gr.NAMES, tensors)}) <= 1e-15
    # first entry by hand: G = 0.01 g^2, W - lr g / sqrt(G + eps)
    g0 = grads[0]["W1"][0, 0]
    first, _ = gr.algorithm1_step(p, grads[0], {k: np.zeros_like(v) for k, v in p.items()})
    assert first["W1"][0, 0] == pytest.approx(p["W1"][0, 0] - lr * g0 / np.sqrt(0.01 * g0**2 + eps), rel=1e-15)


def test_eps_placement_matters_for_small_gradients():
    p = {k: np.zeros_like(v) for k, v in gr.random_parameters(1, 1, 0).items()}
    G = {k: np.zeros_like(v) for k, v in p.items()}
    # one step from G = 0: inside sqrt(0.01 g^2 + eps), outside 0.1 |g| + eps
    for g, ratio in ((1.0, 1.0), (1e-5, np.sqrt(1e-12 + 1e-8) / (1e-6 + 1e-8))):
        grads = {k: np.full_like(v, g) for k, v in p.items()}
        inside, _ = gr.algorithm1_step(p, grads, G)
        outside, _ = gr.algorithm1_step(p, grads, G, eps_inside=False)
        assert outside["b2"][0] / inside["b2"][0] == pytest.approx(ratio, rel=1e-6)


def test_float64_model_trains_with_the_shared_loop():
    model = dynform.build_model("nn", seeds=(0,)).double()
    t = torch.arange(4, dtype=torch.float64)
    target = torch.randn(4, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    record = dynform.train(model, target[0], t, target, 3)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert record.history.dtype == np.float64 and np.isfinite(record.final_loss).all()


def test_hand_training_reproduces_autograd_training():
    p, y0, target = _spiral_problem()
    hand, hist, final = gr.hand_train(p, y0, target, 100)
    auto, hist_a, final_a = gr.autograd_train(p, y0, target, 100)
    assert gr.max_abs_difference(hand, auto) <= 1e-8
    np.testing.assert_allclose(hist, hist_a, rtol=1e-9, atol=0)
    assert final == pytest.approx(final_a, rel=1e-9)
    assert final < hist[0] / 100  # it trained


def test_bad_parameters():
    p = gr.random_parameters(2, 3, 0)
    with pytest.raises(ParameterError, match="^form: unknown form 'note'"):
        gr.vector_gradients(p, np.zeros((1, 2)), np.zeros((1, 2)), form="note")
    with pytest.raises(ParameterError, match="^form:"):
        gr.scalar_gradients(1.0, 0.0, 1.0, 0.0, 1.0, 1.0, form="")
    with pytest.raises(ParameterError, match="^params: missing"):
        gr.trajectory_gradients({"W1": p["W1"]}, np.zeros(2), np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="^params: expected"):
        gr.trajectory_gradients({**p, "b1": np.zeros(4)}, np.zeros(2), np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="^target:"):
        gr.trajectory_gradients(p, np.zeros(2), np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="^y:"):
        gr.vector_gradients(p, np.zeros((2, 2)), np.zeros((3, 2)))
    with pytest.raises(ParameterError, match="^epochs:"):
        gr.hand_train(p, np.zeros(2), np.zeros((3, 2)), 0)
    with pytest.raises(ParameterError, match="^lr:"):
        gr.hand_train(p, np.zeros(2), np.zeros((3, 2)), 1, lr=0.0)


def test_step_jacobian_matches_autograd():
    p = gr.random_parameters(2, 6, 3, scale=0.8)
    ys = np.random.default_rng(3).standard_normal((4, 2))
    J = gr.step_jacobian(p, ys)
    model = gr.float64_model(p)
    for m, y in enumerate(ys):
        J_auto = torch.autograd.functional.jacobian(lambda v: model.g(v.reshape(1, 1, 2)).reshape(2),
                                                    torch.tensor(y))
        np.testing.assert_allclose(J[m], J_auto.numpy(), rtol=0, atol=1e-14)
    # the BPTT back-propagation term W1^T [(1 - h^2) * (W2^T a)] is J^T a
    a = np.array([0.3, -1.1])
    _, h = gr.step(p, ys[:1])
    np.testing.assert_allclose(J[0].T @ a, p["W1"].T @ ((1 - h[0] ** 2) * (p["W2"].T @ a)), rtol=0, atol=1e-14)


def test_history_summary():
    s = gr.history_summary(np.array([4.0, 1.0, 2.0, 8.0]))
    assert s == {"final": 8.0, "min": 1.0, "tail_geomean": pytest.approx(4.0, rel=1e-15)}
    with pytest.raises(ParameterError, match="^tail:"):
        gr.history_summary(np.ones(3), tail=0.0)
