import math

import pytest
import torch

from dynform import Algorithm1, ParameterError, RunConfig, make_optimizer
from dynform.optim import EPS, GAMMA


def test_one_algorithm1_step_equals_formula():
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    g = torch.tensor([0.3, -0.01, 0.0], dtype=torch.float64)
    opt = Algorithm1([w], lr=1e-3, gamma=0.99, eps=1e-8)
    w.grad = g.clone()
    opt.step()
    G = 0.01 * g**2
    expected = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) - 1e-3 * g / torch.sqrt(G + 1e-8)
    torch.testing.assert_close(w.detach(), expected, rtol=0, atol=1e-15)
    # hand value of the first entry: 1 - 1e-3 * 0.3 / sqrt(0.01 * 0.09 + 1e-8)
    assert math.isclose(w[0].item(), 1 - 1e-3 * 0.3 / math.sqrt(0.0009 + 1e-8), rel_tol=0, abs_tol=1e-15)
    # second step uses the running average
    w.grad = g.clone()
    opt.step()
    G2 = 0.99 * G + 0.01 * g**2
    torch.testing.assert_close(w.detach(), expected - 1e-3 * g / torch.sqrt(G2 + 1e-8), rtol=0, atol=1e-15)


def test_eps_placement_differs_from_torch():
    g = torch.tensor([1e-5], dtype=torch.float64)
    out = {}
    for name in ("algorithm1", "torch-rmsprop"):
        w = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = make_optimizer(name, [w], 1e-3)
        w.grad = g.clone()
        opt.step()
        out[name] = w.item()
    assert out["algorithm1"] == pytest.approx(-1e-3 * 1e-5 / math.sqrt(1e-12 + 1e-8), rel=1e-12)
    assert out["torch-rmsprop"] == pytest.approx(-1e-3 * 1e-5 / (1e-6 + 1e-8), rel=1e-12)


def test_bad_optimizer_settings():
    with pytest.raises(ParameterError, match="^lr: must be a positive number"):
        RunConfig(lr=0.0).validate()
    with pytest.raises(ParameterError, match="^optimizer: unknown optimizer 'adam'"):
        RunConfig(optimizer="adam").validate()


def test_algorithm1_constants_are_the_notes():
    from dynform.note.printed import printed

    alg1 = printed()["algorithm1"]
    assert (GAMMA, EPS) == (alg1["gamma"], alg1["eps"])
    assert RunConfig().lr == alg1["lr"]
