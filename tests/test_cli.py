import json
import re
import subprocess
import sys

import numpy as np
import pytest

from dynform.cli import main
from dynform.irregular import MODELS


def test_train_json_has_matrices(capsys):
    assert main(["train", "--system", "spiral", "--model", "nnm", "--epochs", "50", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"model", "loss", "seconds", "iterations", "matrix", "true_matrix"} <= set(out)
    assert out["iterations"] == 50
    np.testing.assert_allclose(out["true_matrix"], [[0.39194743, 0.85929056], [-0.85929056, 0.39194743]], atol=1e-8)


def test_nodem_true_matrix_is_A(capsys):
    assert main(["train", "--A=-0.1,2;-2,-0.1", "--model", "nodem", "--epochs", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["true_matrix"] == [[-0.1, 2.0], [-2.0, -0.1]]


def test_center_with_tolerance(capsys):
    assert main(["train", "--system", "center", "--model", "nnm", "--tol", "1e-3", "--epochs", "20", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["iterations"] <= 20


@pytest.mark.parametrize("command, args, option", [
    ("train", ["--epochs", "0"], "--epochs"),
    ("train", ["--epochs=-3"], "--epochs"),
    ("train", ["--lr", "0"], "--lr"),
    ("train", ["--lr=-1e-3"], "--lr"),
    ("train", ["--system", "saddle-node"], "--system"),
    ("train", ["--A", "1,2;3,4;5,6"], "--A"),
    ("train", ["--A", "1,a;3,4"], "--A"),
    ("train", ["--points", "1"], "--points"),
    ("train", ["--t1", "0"], "--t1"),
    ("train", ["--model", "lstm"], "--model"),
    ("train", ["--hidden", "0"], "--hidden"),
    ("train", ["--y0", "nan,0"], "--y0"),
    ("train", ["--solver", "rk5"], "--solver"),
    ("train", ["--device", "tpu"], "--device"),
    ("irregular", ["--model", "lstm"], "--model"),
    ("irregular", ["--dataset", "saddle"], "--dataset"),
    ("irregular", ["--task", "forecast"], "--task"),
    ("irregular", ["--epochs", "0"], "--epochs"),
    ("irregular", ["--epochs=-2"], "--epochs"),
])
def test_bad_arguments_one_line_naming_the_option(capsys, command, args, option):
    assert main([command, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"dynform: error: {option}: "), err


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "dynform", "train", "--epochs", "x"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "dynform: error: argument --epochs: invalid int value: 'x'"


def test_cuda_without_gpu_one_line(capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is present: --device cuda is valid here")
    assert main(["train", "--device", "cuda", "--epochs", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "dynform: error: --device: 'cuda' was asked for but no CUDA GPU is available; use 'cpu' or 'auto'"


def test_divergence_exit_3_names_epoch_and_smaller_lr(capsys):
    assert main(["train", "--model", "nodem", "--lr", "10", "--epochs", "50", "--json"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""  # no JSON with NaN in it
    err = captured.err.strip()
    assert "\n" not in err
    assert re.fullmatch(r"dynform: error: training diverged: the loss became \[(inf|nan)\] at epoch \d+; "
                        r"try a smaller lr \(was 10\.0\)", err), err


def test_sensitivity_refuses_unknown_variants(capsys):
    assert main(["sensitivity", "--variants", "reference,fast-math"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dynform: error: --variants: ") and "fast-math" in err and "\n" not in err.rstrip("\n")


def test_values_may_begin_with_a_minus(capsys):
    assert main(["train", "--A", "-0.5,1;0,-1", "--y0", "-1,2", "--model", "nnm", "--epochs", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["true_matrix"] != [[-0.5, 1.0], [0.0, -1.0]]  # nnm approximates expm(A dt), not A
    assert out["settings"]["system"] == "-0.5,1;0,-1" and out["settings"]["y0"] == [-1.0, 2.0]
    assert main(["train", "--A", "-0.5,1;0,-1", "--model", "nodem", "--epochs", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["true_matrix"] == [[-0.5, 1.0], [0.0, -1.0]]


def test_irregular_offers_every_setting_of_its_config(capsys):
    from dynform.irregular import IrregularConfig

    parser_help = subprocess.run([sys.executable, "-m", "dynform", "irregular", "--help"], capture_output=True,
                                 text=True).stdout
    for name in IrregularConfig.settings():
        assert "--" + name.replace("_", "-") in parser_help
    assert main(["irregular", "--model", "rnn", "--series", "8", "--points", "6", "--lr", "1e-2", "--hidden", "4",
                 "--epochs", "2", "--json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert (settings["series"], settings["points"], settings["lr"], settings["hidden"]) == (8, 6, 1e-2, 4)


def test_a_bad_matrix_is_named_under_the_option_that_gave_it(capsys):
    assert main(["train", "--A", "1,2;3"]) == 2
    assert capsys.readouterr().err.strip() == "dynform: error: --A: rows have different lengths in '1,2;3'"
    assert main(["train", "--system", "1,2;3"]) == 2
    assert capsys.readouterr().err.strip() == "dynform: error: --system: matrix A: rows have different lengths in '1,2;3'"


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


def test_cli_center_with_the_notes_flags(capsys):
    args = ["train", "--system", "center", "--model", "nnm", "--y0", "2,2", "--tol", "1e-3", "--epochs", "2000", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["iterations"] <= 2000
    assert out["settings"]["tol"] == 1e-3 and out["settings"]["epochs"] == 2000
    if out["iterations"] < 2000:
        assert out["loss"] < 1e-3


def test_irregular_preset_sets_defaults_that_options_override(capsys):
    assert main(["irregular", "--preset", "anchor", "--model", "rnn", "--series", "20", "--points", "8",
                 "--batch", "4", "--epochs", "2", "--width", "6", "--json"]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert (settings["optimizer"], settings["lr_decay"], settings["gap_solver"]) == ("adamax", 0.999, "euler")
    assert (settings["series"], settings["batch"], settings["width"], settings["epochs"]) == (20, 4, 6, 2)
    assert main(["irregular", "--preset", "anchor", "--series", "20", "--batch", "40", "--epochs", "1"]) == 2
    assert "--batch: must be at most" in capsys.readouterr().err


def test_irregular_members_and_stored_record(capsys, tmp_path):
    out = tmp_path / "run.json"
    assert main(["irregular", "--model", "odernn", "--series", "10", "--points", "6", "--epochs", "2",
                 "--seeds", "0,3", "--tasks", "interp,extrap", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and lines[0].startswith("seed   0  interp") and lines[-1].startswith("4 members")
    record = json.loads(out.read_text())
    assert record["command"].startswith("python -m dynform irregular --model odernn") and out.with_suffix(".pt").exists()
    assert main(["irregular", "--seeds", "0,x", "--epochs", "1"]) == 2
    assert "--seeds: must be comma-separated integers" in capsys.readouterr().err


def test_irregular_track_keeps_the_test_error_along_training(capsys):
    assert main(["irregular", "--model", "rnn", "--series", "10", "--points", "6", "--epochs", "4", "--track", "2",
                 "--json"]) == 0
    run = json.loads(capsys.readouterr().out)["runs"][0]
    assert run["curve"]["step"] == [2, 4] and run["curve"]["mse"][-1] == run["mse"]
    assert run["history"]["every"] == 2 and len(run["history"]["loss"]) == 2
    assert main(["irregular", "--model", "rnn", "--epochs", "2", "--track", "-1"]) == 2
    assert capsys.readouterr().err.strip().endswith("--track: must be an integer >= 0, got -1")
