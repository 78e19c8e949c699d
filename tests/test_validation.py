"""Every bad setting is refused by its config with the message the book and the CLI have always given.

The messages are kept word for word (two fields were renamed with the layout: ``data`` is
``data_mode``, and the irregular ``node`` is ``augmented-node``)."""
import math

import pytest

from dynform import ParameterError, RunConfig
from dynform.cli import main
from dynform.irregular import IrregularConfig

RUN = [
    ('model', 'lstm', "model: unknown model 'lstm' (choices: nn, nnm, node, nodem)"),
    ('system', 'saddle', "system: unknown system 'saddle' (known: spiral, center, or a matrix 'a,b;c,d')"),
    ('system', '1,2;3', "system: matrix A: rows have different lengths in '1,2;3'"),
    ('system', '1,a;3,4', "system: matrix A: must be numbers written 'a,b;c,d', got '1,a;3,4'"),
    ('system', '1,2;3,4;5,6', 'system: matrix A: must be a square matrix, got shape (3, 2)'),
    ('system', '1,2,3;4,5,6;7,8,9', 'system: matrix A: must be 2x2, got 3x3'),
    ('y0', (1.0,), 'y0: must be 2 finite numbers, got [1.0]'),
    ('y0', (math.nan, 0.0), 'y0: must be 2 finite numbers, got [nan, 0.0]'),
    ('t0', math.inf, 't0: must be finite, got inf'),
    ('t1', 0.0, 't1: must be greater than t0=0.0, got 0.0'),
    ('points', 1, 'points: must be an integer >= 2, got 1'),
    ('points', 2.5, 'points: must be an integer >= 2, got 2.5'),
    ('epochs', 0, 'epochs: must be a positive integer, got 0'),
    ('hidden', 0, 'hidden: must be a positive integer, got 0'),
    ('substeps', 0, 'substeps: must be a positive integer, got 0'),
    ('members', 0, 'members: must be a positive integer, got 0'),
    ('seed', 1.5, 'seed: must be an integer, got 1.5'),
    ('lr', 0.0, 'lr: must be a positive number, got 0.0'),
    ('lr', -0.001, 'lr: must be a positive number, got -0.001'),
    ('init_std', 0.0, 'init_std: must be a positive number, got 0.0'),
    ('tol', -1.0, 'tol: must be a positive number or None, got -1.0'),
    ('optimizer', 'adam', "optimizer: unknown optimizer 'adam' (choices: algorithm1, torch-rmsprop)"),
    ('solver', 'rk5', "solver: unknown solver 'rk5' (choices: rk4, euler, odeint:dopri5, odeint:dopri8, odeint:bosh3, odeint:adaptive_heun, odeint:euler, odeint:midpoint, odeint:rk4, odeint:explicit_adams)"),
    ('data_mode', 'euler', "data_mode: unknown data mode 'euler' (choices: exact, rk4)"),
    ('device', 'tpu', "device: unknown device 'tpu' (choices: cpu, cuda, auto)"),
    ('dtype', 'float16', "dtype: unknown dtype 'float16' (choices: float32, float64)"),
    ('init_ulp', -1, 'init_ulp: must be an integer >= 0, got -1'),
    ('data_ulp', 15, 'data_ulp: must be at most 14 (the predicted entries), got 15'),
    ('rounding', -1, 'rounding: must be an integer >= 0, got -1'),
    ('engine', 'jax', "engine: unknown engine 'jax' (choices: auto, autograd, numpy)"),
]
IRREGULAR = [
    ('model', 'lstm', "model: unknown model 'lstm' (choices: rnn, rnn-decay, augmented-node, odernn, latent-ode, latent-ode-rnn)"),
    ('optimizer', 'sgd', "optimizer: unknown optimizer 'sgd' (choices: adam, adamax)"),
    ('lr_decay', 0.0, "lr_decay: must be a number in (0, 1], got 0.0"),
    ('batch', -1, "batch: must be an integer >= 0, got -1"),
    ('sampling', 'stream', "sampling: unknown sampling 'stream' (choices: pool, fresh)"),
    ('kl_wait', 1.5, "kl_wait: must be an integer >= 0, got 1.5"),
    ('dataset', 'saddle', "dataset: unknown dataset 'saddle' (choices: spiral, center, periodic)"),
    ('task', 'forecast', "task: unknown task 'forecast' (choices: interp, extrap)"),
    ('seed', 1.5, 'seed: must be an integer, got 1.5'),
    ('epochs', 0, 'epochs: must be a positive integer, got 0'),
    ('hidden', 0, 'hidden: must be a positive integer, got 0'),
    ('latent', 0, 'latent: must be a positive integer, got 0'),
    ('substeps', 0, 'substeps: must be a positive integer, got 0'),
    ('series', 1, 'series: must be an integer >= 2, got 1'),
    ('points', 3, 'points: must be an integer >= 4, got 3'),
    ('lr', -1.0, 'lr: must be a positive number, got -1.0'),
    ('obs_std', 0.0, 'obs_std: must be a positive number, got 0.0'),
    ('train_frac', 1.0, 'train_frac: must be a number in (0, 1), got 1.0'),
    ('obs_frac', 0.0, 'obs_frac: must be a number in (0, 1), got 0.0'),
    ('noise', -0.1, 'noise: must be a finite number >= 0, got -0.1'),
    ('solver', 'rk5', "solver: unknown solver 'rk5' (choices: rk4, euler, odeint:dopri5, odeint:dopri8, odeint:bosh3, odeint:adaptive_heun, odeint:euler, odeint:midpoint, odeint:rk4, odeint:explicit_adams)"),
    ('dtype', 'half', "dtype: unknown dtype 'half' (choices: float32, float64)"),
]


@pytest.mark.parametrize("field, value, message", RUN)
def test_run_config_refuses_with_the_same_words(field, value, message):
    with pytest.raises(ParameterError) as err:
        RunConfig(**{field: value}).validate()
    assert str(err.value) == message and err.value.name == field


def test_the_numpy_engine_refuses_a_solver_it_has_no_backward_pass_for():
    with pytest.raises(ParameterError) as err:
        RunConfig(model="node", engine="numpy", solver="odeint:rk4").validate()
    assert str(err.value) == "engine: numpy integrates with the classic rk4 solver only, got solver 'odeint:rk4'"
    RunConfig(model="nnm", engine="numpy", solver="odeint:rk4").validate()  # a step map reads no solver


@pytest.mark.parametrize("field, value, message", IRREGULAR)
def test_irregular_config_refuses_with_the_same_words(field, value, message):
    with pytest.raises(ParameterError) as err:
        IrregularConfig(**{field: value}).validate()
    assert str(err.value) == message and err.value.name == field


@pytest.mark.parametrize("args, message", [
    (["train", "--epochs", "0"], "--epochs: must be a positive integer, got 0"),
    (["train", "--lr", "-1e-3"], "--lr: must be a positive number, got -0.001"),
    (["train", "--A", "1,a;3,4"], "--A: must be numbers written 'a,b;c,d', got '1,a;3,4'"),
    (["train", "--A", "saddle-node"], "--A: unknown system 'saddle-node' (known: spiral, center, or a matrix 'a,b;c,d')"),
    (["train", "--init-std", "0"], "--init-std: must be a positive number, got 0.0"),
    (["train", "--data-mode", "euler"], "--data-mode: unknown data mode 'euler' (choices: exact, rk4)"),
    (["irregular", "--obs-frac", "1.0"], "--obs-frac: must be a number in (0, 1), got 1.0"),
    (["irregular", "--series", "1"], "--series: must be an integer >= 2, got 1"),
])
def test_cli_names_the_option_with_the_configs_words(capsys, args, message):
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == f"dynform: error: {message}"


@pytest.mark.parametrize("value, message", [
    ([100], "build_steps: must map names to positive integers, got [100]"),
    ({}, "build_steps: must be distinct names from rnn, odernn, got []"),
    ({"lstm": 100}, "build_steps: must be distinct names from rnn, odernn, got ['lstm']"),
    ({"odernn": 0}, "build_steps['odernn']: must be a positive integer, got 0"),
])
def test_a_mapping_of_counts_refuses_with_one_line(value, message):
    from dynform import validation

    with pytest.raises(ParameterError) as err:
        validation.counts("build_steps", value, ["rnn", "odernn"])
    assert str(err.value) == message
    assert validation.counts("build_steps", {"odernn": 5}, ["rnn", "odernn"]) == {"odernn": 5}
