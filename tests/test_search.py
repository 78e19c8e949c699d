"""The search over readings: designs, de-duplication, parallel runs that equal serial ones, the table
file, and the note's readings with their one criterion."""
import json

import numpy as np
import pytest

from dynform import ParameterError
from dynform.cli import main
from dynform.note import readings
from dynform.note.printed import half_unit
from dynform.note.settings import stated
from dynform.regular import search

FACTORS = {"a": ({}, {"loss": "mse"}, {"loss": "norm-y0"}), "b": ({}, {"optimizer": "torch-rmsprop"})}


def test_full_factorial_and_one_at_a_time():
    full = search.full_factorial(FACTORS)
    assert len(full) == 6 and full[0] == {} and {"loss": "mse", "optimizer": "torch-rmsprop"} in full
    ofat = search.one_at_a_time(FACTORS)
    assert ofat == [{}, {"loss": "mse"}, {"loss": "norm-y0"}, {"optimizer": "torch-rmsprop"}]


def test_readings_that_train_the_same_thing_run_once():
    tasks = search.plan([stated("spiral", "nnm"), stated("spiral", "node")],
                        [{}, {"solver": "odeint:rk4"}, {"init": "torch"}])
    runs = search.configs(tasks)
    assert [(c.model, c.solver, c.init) for c, _ in runs] == [
        ("nnm", "rk4", "normal"), ("node", "rk4", "normal"), ("node", "odeint:rk4", "normal"),
        ("node", "rk4", "torch")]
    assert all(c.members == 16 and c.rounding == 0 for c, _ in runs)


def test_parallel_search_equals_serial_and_the_table_round_trips(tmp_path):
    tasks = search.plan([stated("spiral", "nnm").with_(epochs=30), stated("spiral", "nn").with_(epochs=30)],
                        [{}, {"loss": "mse"}])
    serial = search.search(tasks, members=2, jobs=1)
    parallel = search.search(tasks, members=2, jobs=2)
    assert [r.label() for r in serial] == ["stated", "loss=mse", "stated", "loss=mse"]
    for a, b in zip(serial, parallel):
        assert (a.system, a.model, a.changes, a.loss, a.iterations, a.matrices) == \
               (b.system, b.model, b.changes, b.loss, b.iterations, b.matrices)
    assert serial[0].matrices is not None and serial[2].matrices is None
    search.write(tmp_path / "t.json", serial, "test", design="ofat")
    meta, back = search.read(tmp_path / "t.json")
    assert meta["command"] == "test" and meta["design"] == "ofat" and {"date", "machine"} <= set(meta)
    # stored to 9 significant digits, where every float32 value survives
    np.testing.assert_array_equal(np.float32([r.loss for r in back]), np.float32([r.loss for r in serial]))


def test_search_arguments_are_checked():
    with pytest.raises(ParameterError, match="jobs"):
        search.search([], jobs=0)
    with pytest.raises(ParameterError, match="backend"):
        search.search([], backend="spark")
    with pytest.raises(ParameterError, match="members"):
        search.configs([(stated("spiral", "nnm"), {})], members=1)
    with pytest.raises(ParameterError, match="factors"):
        readings.factors(["nope"])


def test_half_unit_of_printed_text():
    assert half_unit("0.004210") == pytest.approx(5e-7)
    assert half_unit("0.00081") == pytest.approx(5e-6)
    assert half_unit("2.094358205795288e-05") == pytest.approx(5e-21)
    numbers = readings.printed_numbers()
    assert len(numbers) == 28  # 8 losses, 4 iteration counts, 16 matrix entries
    assert {n.text for n in numbers if n.quantity == "matrix[1,2]"} >= {"2.0000", "10.0036"}


def test_a_reading_is_judged_by_the_one_rule_on_its_samples(monkeypatch):
    monkeypatch.setattr(readings, "rounding_measured", lambda: {})  # nothing measured: its own values
    number = next(n for n in readings.printed_numbers() if n.key == ("spiral", "nn", "loss"))
    inside = search.Row("spiral", "nn", {}, [1e-3, 2e-3, 2.5e-3, 3e-3], [1000] * 4, None, 0.0)
    below = search.Row("spiral", "nn", {}, [5e-4, 6e-4, 7e-4, 8e-4], [1000] * 4, None, 0.0)
    assert readings.judge(number, inside).verdict == "consistent"
    assert readings.judge(number, below).verdict == "no"
    ranked = readings.ranked(number, [below, inside])
    assert [r for r, _ in ranked] == [inside, below]


def test_pointed_combines_the_factors_that_move_toward_the_printed_loss(monkeypatch):
    def row(changes, median):
        return search.Row("spiral", "nn", changes, [median] * 3, [1000] * 3, None, 0.0)
    rows = [row({}, 1e-2), row({"loss": "mse"}, 5e-3), row({"optimizer": "torch-rmsprop"}, 4e-3),
            row({"init": "torch"}, 2e-2)]
    plan = [p for p in readings.pointed(rows) if p[0].model == "nn" and p[0].system == "spiral"]
    assert plan[0][1] == {"optimizer": "torch-rmsprop", "loss": "mse"}


def test_cli_runs_a_small_factorial_in_parallel(tmp_path, capsys):
    out = tmp_path / "s.json"
    assert main(["search", "--factors", "loss", "--models", "nnm", "--examples", "spiral", "--members", "2",
                 "--jobs", "2", "--out", str(out)]) == 0
    assert "4 readings written" in capsys.readouterr().out
    doc = json.loads(out.read_text())
    assert doc["command"].startswith("python -m dynform search") and len(doc["rows"]) == 4
    losses = {tuple(r["changes"].items()): np.median(r["loss"]) for r in doc["rows"]}
    # RMSprop ignores the loss's scale but for eps: MSELoss halves the reported loss
    assert losses[(("loss", "mse"),)] / losses[()] == pytest.approx(0.5, rel=0.02)


def test_cli_names_a_bad_search_option(capsys):
    assert main(["search", "--models", "xyz"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dynform: error: --models: must be distinct names from nn, nnm, node, nodem, got ['xyz']")


def test_matching_plan_tries_neighbouring_epochs_and_checks_them():
    plan = readings.matching_plan(neighbours=(0.6, 1.0, 1.4))
    epochs = {(base.model, changes["epochs"]) for base, changes in plan}
    assert ("nnm", 3000) in epochs and ("nnm", 1800) in epochs and ("nodem", 7000) in epochs
    assert all(base == stated("spiral", base.model) for base, _ in plan)
    with pytest.raises(ParameterError, match="^neighbours:"):
        readings.matching_plan(neighbours=(0.0,))


def _measured(row, variants):
    """A committed rounding measurement of ``row``: ``variants`` maps a variant to its seeds' losses."""
    return {"seed": 0, "variants": list(variants), "values": {
        v: {readings.row_key(row): {"loss": loss, "iterations": [1000] * len(loss), "matrices": None}}
        for v, loss in variants.items()}}


def test_a_measured_row_gets_at_least_safety_times_its_measured_change(monkeypatch):
    row = search.Row("spiral", "nn", {"loss": "mse"}, [1e-3] * 2, [1000] * 2, None, 0.0)
    inherited = readings.member_tolerance("spiral", "nn", "loss")
    monkeypatch.setattr(readings, "rounding_measured",
                        lambda: _measured(row, {"reference": [1e-3, 1e-3], "all-kernels": [1e-3 * (1 + 10 * inherited),
                                                                                         1e-3]}))
    assert readings.member_tolerance("spiral", "nn", "loss", row) == pytest.approx(30 * inherited)
    assert readings.member_tolerance("spiral", "nn", "loss") == inherited  # no row: the stated run's


def test_measure_rounding_keeps_every_variants_values(monkeypatch, tmp_path):
    from dynform.book import sensitivity

    runs = {"reference": {"a": {"loss": [1.0, 2.0], "iterations": [10, 10], "matrices": [[[1.0]], [[2.0]]]}},
            "all-kernels": {"a": {"loss": [1.1, 2.0], "iterations": [10, 12], "matrices": [[[1.0]], [[2.5]]]}}}
    monkeypatch.setattr(sensitivity, "in_variant", lambda name, call, imports: runs.get(name, runs["reference"]))
    out = readings.measure_rounding(str(tmp_path / "r.json.gz"), jobs=1, command="test", members=2)
    assert out["values"]["all-kernels"]["a"]["loss"] == [1.1, 2.0] and out["members"] == 2
    from dynform.stored import read

    assert read(tmp_path / "r.json.gz", "test")["values"] == out["values"]
    readings.rounding_measured.cache_clear()


def test_verdicts_use_the_committed_samples_within_tolerance(monkeypatch):
    row = search.Row("spiral", "nn", {}, [1.0e-3, 2.0e-3], [1000] * 2, None, 0.0)
    monkeypatch.setattr(readings, "rounding_measured",
                        lambda: _measured(row, {"reference": [1.05e-3, 2.0e-3], "all-kernels": [3.0e-3, 1.0e-3]}))
    monkeypatch.setattr(readings, "member_tolerance", lambda *a: 0.1)
    got = readings.samples(row, "loss")
    np.testing.assert_array_equal(got[0], [1.05e-3, 2.0e-3])  # the reference's values, then each variant's
    np.testing.assert_array_equal(got[1], [3.0e-3, 1.0e-3])
    other_seed = search.Row("spiral", "nn", {}, row.loss, row.iterations, None, 0.0, seed=5)
    np.testing.assert_array_equal(readings.samples(other_seed, "loss")[0], row.loss)  # not measured: its own
    assert len(readings.samples(row, "loss", committed=False)) == 1
    far = search.Row("spiral", "nn", {}, [2.0e-3, 2.0e-3], [1000] * 2, None, 0.0)
    with pytest.raises(AssertionError, match="moved beyond their measured rounding tolerance"):
        readings.samples(far, "loss")
