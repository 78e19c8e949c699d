"""The method, pinned by numbers that rounding cannot move: the first epochs of every Table 1 and 2 run.

Long trainings are chaotic (see the sensitivity chapter), so their last digits cannot pin the method.
The loss history of the first :data:`EPOCHS` steps in float64 can: across the math kernels it moves
by less than :data:`MEASURED` (relative), so it is compared with pytest-regressions at :data:`RTOL`.
Each change of the method below moves it far beyond that, so the stored history catches it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dynform import run
from dynform.regular import backprop
from dynform.solvers import rk4
from dynform.note.settings import stated
from dynform.regular.models import MODELS

EPOCHS = 25
#: Largest relative change of these histories between the installed math kernels and
#: ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE, measured on the reference machine.
MEASURED = 1.8e-15
RTOL = 1e-12  # about 500 times what rounding did


def fingerprint(**changes) -> dict[str, np.ndarray]:
    """Loss before each of the first EPOCHS steps and after the last, per (example, model), float64.
    Both engines give the same fingerprint within RTOL (they agree to float64 rounding)."""
    out = {}
    for example in ("spiral", "center"):
        for model in MODELS:
            r = run(stated(example, model).with_(epochs=EPOCHS, tol=None, dtype="float64", **changes))
            out[f"{example}_{model}"] = np.append(r.record.history[:, 0], r.loss)
    return out


@pytest.mark.parametrize("engine", ["autograd", "numpy"])
def test_fingerprint(engine, ndarrays_regression):
    ndarrays_regression.check(fingerprint(engine=engine), basename="test_fingerprint",
                              default_tolerance=dict(rtol=RTOL, atol=0.0))


def _three_eighths_step(f, y, h):
    """torchdiffeq's rk4 (the 3/8 rule) in place of the classic weights."""
    k1 = f(y)
    k2 = f(y + h * k1 / 3)
    k3 = f(y + h * (k2 - k1 / 3))
    k4 = f(y + h * (k1 - k2 + k3))
    return y + h * (k1 + 3 * (k2 + k3) + k4) / 8


def _no_fast_path(self, y0, t):
    return self.solver(self.g.function(), self.expand(y0), t)


CHANGES = {
    "initialisation std 0.1 -> 0.2": dict(config={"init_std": 0.2}),
    "learning rate 1e-3 -> 1.1e-3": dict(config={"lr": 1.1e-3}),
    "RK4 weights -> 3/8 rule": dict(patch=[(rk4, "rk4_step", _three_eighths_step),
                                          ("dynform.regular.models.NeuralODE._linear_rk4", None, _no_fast_path),
                                          (backprop, "rk4_step", _three_eighths_step)]),
    "loss normalised like MSELoss": dict(config={"loss": "mse"}),
    "Algorithm 1's eps outside the square root": dict(config={"optimizer": "torch-rmsprop"}),
}


@pytest.mark.parametrize("engine", ["autograd", "numpy"])
@pytest.mark.parametrize("change", CHANGES)
def test_a_changed_method_fails_the_fingerprint(change, engine, ndarrays_regression, monkeypatch):
    spec = CHANGES[change]
    for target, name, value in spec.get("patch", []):
        if name is None:
            monkeypatch.setattr(target, value)
        else:
            monkeypatch.setattr(target, name, value)
    with pytest.raises(AssertionError):
        ndarrays_regression.check(fingerprint(engine=engine, **spec.get("config", {})), basename="test_fingerprint",
                                  default_tolerance=dict(rtol=RTOL, atol=0.0))


def test_the_three_eighths_rule_is_another_fourth_order_method():
    """The RK4 change above is a real alternative, not a broken solver: fourth order, other weights.
    (On a linear field every four-stage fourth-order method is the same polynomial R(hA), so only the
    MLP-field rows of the fingerprint can see it.)"""
    f = lambda y: y**2  # noqa: E731  # y' = y^2, y(0) = 1: y(h) = 1 / (1 - h)
    y = torch.ones(1, dtype=torch.float64)
    errors = [abs(_three_eighths_step(f, y, h) - 1 / (1 - h)).item() for h in (0.02, 0.01)]
    assert 2**4.5 < errors[0] / errors[1] < 2**5.5  # local error O(h^5)
    assert abs(_three_eighths_step(f, y, 0.1) - rk4.rk4_step(f, y, 0.1)).item() > 1e-8
