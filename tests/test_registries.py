"""A fifth regular model and a new solver are each one class and one registry line: every layer (the
config's validation, training, the CLI, the figures' colours and labels) picks them up from the
registry alone."""
import json

import pytest
import torch
from torch import nn

from dynform import RunConfig
from dynform.book import plots
from dynform.cli import main
from dynform.layers import MLP, generators
from dynform.regular import models
from dynform.solvers import SOLVERS, Solver


class Residual(nn.Module):
    """``g(y) = y + mlp(y)``: a residual step map (a model the note does not have)."""

    def __init__(self, mlp: MLP) -> None:
        super().__init__()
        self.mlp = mlp

    def function(self):
        f = self.mlp.function()
        return lambda y: y + f(y)


class Heun(Solver):
    """Heun's method (explicit trapezoid), one step per interval: a solver the package does not have."""

    name = "heun"

    def __call__(self, f, y0, t):
        states, y = [y0], y0
        for h in (t[1:] - t[:-1]).tolist():
            k1 = f(y)
            y = y + h / 2 * (k1 + f(y + h * k1))
            states.append(y)
        return torch.stack(states, dim=-2)


@pytest.fixture
def fifth_model(monkeypatch):
    spec = models.ModelSpec("Residual step map", lambda dim, hidden, seeds, init, solver: models.StepMap(
        Residual(MLP(dim, hidden, generators(seeds), init)), len(seeds)))
    monkeypatch.setitem(models.MODELS, "nnr", spec)  # the one registry line
    return "nnr"


def test_a_fifth_model_reaches_every_layer(fifth_model, capsys):
    result = RunConfig(model=fifth_model, epochs=20, rounding=1).run()
    assert result.record.history[-1, 0] < result.record.history[0, 0]
    assert result.true_matrix() is None and fifth_model not in models.MATRIX_MODELS
    assert models.TITLES[fifth_model] == "Residual step map"
    assert plots.COLORS[fifth_model] not in {plots.COLORS[m] for m in ("nn", "nnm", "node", "nodem")}
    assert main(["train", "--model", fifth_model, "--epochs", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == fifth_model


def test_a_new_solver_reaches_every_layer(monkeypatch, capsys):
    monkeypatch.setitem(SOLVERS, "heun", Heun)  # the one registry line
    heun = RunConfig(model="nodem", solver="heun", epochs=30, rounding=0).run()
    rk4 = RunConfig(model="nodem", epochs=30, rounding=0).run()
    assert heun.loss != rk4.loss  # a second-order method fits another field
    assert main(["train", "--model", "node", "--solver", "heun", "--epochs", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["settings"]["solver"] == "heun"
