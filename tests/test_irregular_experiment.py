"""Irregular runs: training reduces the loss deterministically; members train as if alone."""
from pathlib import Path

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


def test_step_batches_pool_and_fresh():
    import torch

    from dynform.irregular.batches import step_batches

    config = IrregularConfig(dataset="periodic", series=40, points=12, batch=6)
    data = [config.with_(seed=s).data() for s in (0, 1)]
    configs = [config.with_(seed=s) for s in (0, 1)]
    pool = step_batches(configs, data, torch.float32)
    a, b = pool(0), pool(1)
    assert a.y.shape == (2, 6, 12, 1) and torch.all(a.observed[..., 0]) and torch.equal(a.target, ~a.observed)
    train = data[0].train.y[:, :, 0]
    assert all(any(torch.equal(row, r) for r in train) for row in a.y[0, :, :, 0])  # series of the training set
    assert not torch.equal(a.observed, b.observed)  # masks drawn anew
    assert int(a.observed[0, 0].sum()) == 1 + round(0.5 * 11)
    fresh = step_batches([c.with_(sampling="fresh") for c in configs], data, torch.float32)
    f0 = fresh(0)
    assert torch.equal(f0.t[0], data[0].train.t[:6])  # the periodic set's one grid
    assert not any(torch.equal(row, r) for row in f0.y[0, :, :, 0] for r in train)
    again = step_batches([c.with_(sampling="fresh") for c in configs], data, torch.float32)(0)
    assert torch.equal(again.y, f0.y)  # seeded
    whole = step_batches([c.with_(batch=0) for c in configs], data, torch.float32)
    assert whole(0) is whole(7) and whole(0).y.shape[1] == len(data[0].train)


def test_schedule_settings_are_checked_and_change_training():
    with pytest.raises(ParameterError, match="^batch: "):
        IrregularConfig(sampling="fresh").validate()
    with pytest.raises(ParameterError, match="^batch: "):
        IrregularConfig(series=20, batch=16).validate()
    with pytest.raises(ParameterError, match="^lr_min: "):
        IrregularConfig(lr=1e-3, lr_min=1e-2).validate()
    with pytest.raises(ParameterError, match="^lr_decay: "):
        IrregularConfig(lr_decay=1.5).validate()
    with pytest.raises(ParameterError, match="^gap_solver: "):
        IrregularConfig(gap_solver="leapfrog").validate()
    config = IrregularConfig(kl_wait=3, kl_period=2)
    assert [config.kl_weight(k) for k in (0, 2)] == [0.0, 0.0]
    assert config.kl_weight(5) == pytest.approx(1 - 0.99)
    assert IrregularConfig().kl_weight(0) == 1.0 and IrregularConfig(width=0, hidden=7).field_width == 14
    base = IrregularConfig(model="latent-ode", series=16, points=10, epochs=6)
    plain = base.run()
    for change in (dict(lr_decay=0.5), dict(kl_wait=4), dict(optimizer="adamax"), dict(batch=6),
                   dict(gap_solver="euler"), dict(width=5)):
        assert base.with_(**change).run().mse != plain.mse, change
    assert base.with_(lr_decay=1.0, kl_period=0).run().mse == plain.mse


def test_both_test_conventions():
    result = IrregularConfig(model="odernn", series=16, points=12, epochs=5).run()
    import torch

    from dynform.irregular.losses import masked_mse

    test = result.stacked(result.data.test)
    pred = torch.as_tensor(result.predict(result.data.test))[None].float()
    assert result.mse == pytest.approx(float(masked_mse(pred, test.y, test.target)[0]), rel=1e-6)
    assert result.mse_all == pytest.approx(float(masked_mse(pred, test.y, torch.ones_like(test.target))[0]), rel=1e-6)


def test_a_stored_study_loads_and_evaluates_again(tmp_path):
    from dynform.irregular.study import load_study, run_study

    config = IrregularConfig(model="latent-ode-rnn", dataset="periodic", series=20, points=10, epochs=3, batch=4)
    found = run_study(config, "0,1", "interp,extrap", str(tmp_path / "run.json"), "test")
    assert [(r["seed"], r["task"]) for r in found["runs"]] == [(0, "interp"), (1, "interp"), (0, "extrap"), (1, "extrap")]
    again, results = load_study(tmp_path / "run.json")
    assert again == found
    assert [r.mse for r in results] == [r["mse"] for r in found["runs"]]
    assert [r.mse_all for r in results] == [r["mse_all"] for r in found["runs"]]
    with pytest.raises(ParameterError, match="^tasks: "):
        run_study(config, tasks="interp,forecast")


def test_probes_of_a_trained_model():
    from dynform.irregular import probes

    config = IrregularConfig(model="latent-ode", dataset="periodic", series=16, points=12, epochs=3)
    result = config.run()
    test = result.data.test.subset(slice(0, 2))
    times, pred = probes.dense_predictions(result, test, until=7.5, count=40)
    assert times.shape == (2, 40) and pred.shape == (2, 40, 1) and times[0, -1] == 7.5
    sparse = probes.observe(result.data.test, 0.1, seed=1)
    assert torch_sum(sparse.observed[0]) == 1 + round(0.1 * 11) and not sparse.observed.equal(result.data.test.observed)
    results = run_members([config.with_(seed=s) for s in (0, 1)])
    curve = probes.mse_by_fraction(results[::-1], [0.1, 0.5])
    assert curve.shape == (2, 2) and np.all(curve > 0)
    assert curve[1, 1] == pytest.approx(probes.mse_by_fraction(results[:1], [0.5])[0, 0], rel=1e-12)
    with pytest.raises(ValueError):
        probes.mse_by_fraction([results[0], result], [0.5])
    times, samples = probes.posterior_samples(result, test, until=5.0, draws=4, count=30)
    _, prior = probes.posterior_samples(result, test, until=5.0, draws=4, count=30, prior=True)
    assert samples.shape == prior.shape == (4, 2, 30, 1) and not np.array_equal(samples, prior)
    band = probes.posterior_band(result, test, 0.3, draws=20)
    low, high = np.quantile(band["samples"], [0.05, 0.95], axis=0)
    assert band["width"] == pytest.approx((high - low).mean()) and 0.0 <= band["coverage"] <= 1.0
    assert band["samples"].shape == (20, 200) and int(band["seen"].observed.sum()) == 1 + round(0.3 * 11)


def torch_sum(mask) -> int:
    return int(mask.sum())


def test_the_stored_anchor_runs_are_the_anchor_protocol_and_evaluate_again():
    """Every model has a stored run at the anchor preset (3 seeds x 2 tasks), and evaluating the stored
    parameters again gives the stored test errors, within the tolerance measured for them."""
    from dataclasses import asdict

    from dynform.book import sensitivity
    from dynform.irregular import summarize
    from dynform.irregular.presets import PRESETS
    from dynform.irregular.study import STORED, load_study

    for model in MODELS:
        record, results = load_study(STORED / f"{model}.json")
        anchor = {**PRESETS["anchor"], "model": model}
        assert {k: v for k, v in record["settings"].items() if k != "device"} == \
            {k: v for k, v in asdict(IrregularConfig(**anchor)).items() if k != "device"}
        assert record["settings"].get("device", "cpu") == "cpu"  # trained on the cpu, where its tolerance was measured
        assert sorted((r["task"], r["seed"]) for r in record["runs"]) == [(t, s) for t in ("extrap", "interp")
                                                                           for s in (0, 1, 2)]
        assert record["command"].startswith("python -m dynform irregular --preset anchor")
        for row in summarize(results):
            stored = np.mean([r["mse"] for r in record["runs"] if r["task"] == row["task"]])
            tol = sensitivity.tolerance(f"irregular/periodic-anchor/{row['task']}/{model}/mse")
            assert abs(row["mse_mean"] - stored) <= tol, (model, row["task"])


def test_stored_runs_refuse_a_folder_without_the_anchor_protocol(tmp_path):
    from dynform.irregular.study import run_study, stored_runs

    with pytest.raises(ParameterError, match="^anchor_runs: has no stored run of rnn"):
        stored_runs(["rnn"], folder=tmp_path)
    run_study(IrregularConfig(model="rnn", series=10, points=6, epochs=1), "0", "interp", str(tmp_path / "rnn.json"))
    with pytest.raises(ParameterError, match="^anchor_runs: holds a run of rnn with other settings"):
        stored_runs(["rnn"], folder=tmp_path)


def test_tracking_the_test_error_leaves_the_training_unchanged(tmp_path):
    """``track`` takes the test MSE along training without changing it; the record keeps the curve and
    the training terms per block, and a loaded study gives them back."""
    from dynform.irregular.study import blocks, curve_at, first_below, load_study, run_study

    config = IrregularConfig(model="latent-ode", dataset="periodic", series=20, points=10, epochs=6, batch=4)
    plain = run_members([config.with_(seed=s) for s in (0, 1)])
    tracked = run_members([config.with_(seed=s) for s in (0, 1)], track=3)
    assert [r.mse for r in tracked] == [r.mse for r in plain] and not plain[0].curve
    assert list(tracked[1].curve["step"]) == [3, 6] and tracked[1].curve["mse"][-1] == tracked[1].mse
    assert tracked[1].curve["mse_all"][-1] == tracked[1].mse_all
    found = run_study(config, "0,1", "interp", str(tmp_path / "run.json"), "test", track=3)
    _, loaded = load_study(tmp_path / "run.json")
    for a, b in zip(loaded, tracked):
        assert np.array_equal(a.curve["mse"], b.curve["mse"])
        assert np.allclose(blocks(a)["kl"], blocks(b, 3)["kl"], rtol=1e-6) and list(blocks(a)["step"]) == [1.5, 4.5]
    assert np.allclose(blocks(tracked[0], 3)["elbo"], tracked[0].history["elbo"].reshape(2, 3).mean(1))
    assert found["runs"][0]["history"]["every"] == 3
    curve = {"step": np.array([100, 200, 300]), "mse": np.array([0.5, 0.08, 0.01])}
    assert first_below(curve, 0.1) == 200 and np.isnan(first_below(curve, 0.001))
    assert curve_at(curve, 300) == 0.01 and np.isnan(curve_at(curve, 250))
    with pytest.raises(ParameterError, match="^track: must be an integer >= 0"):
        run_members([config], track=-1)


def test_the_build_preset_is_the_first_steps_of_the_anchor_and_matches_the_stored_curves():
    """The build's periodic runs are the first steps of the stored tracked runs: the same settings but
    for the steps, and the reference values measured for the build lie on the stored curves."""
    from dynform.book import sensitivity
    from dynform.irregular.presets import PRESETS
    from dynform.irregular.study import STORED, TRACK, curve_at, load_study

    assert {k: v for k, v in PRESETS["build"].items() if k not in ("epochs", "device")} == \
        {k: v for k, v in PRESETS["anchor"].items() if k not in ("epochs", "device")}
    assert PRESETS["build"]["device"] == "cpu" and PRESETS["anchor"]["device"] == "auto"
    reference = sensitivity.measured()["values"]["reference"]
    for model, steps in sensitivity.PERIODIC_BUILD_STEPS.items():
        assert steps % TRACK == 0
        record, results = load_study(STORED / f"{model}.json")
        for r, run in zip(results, record["runs"]):
            assert r.curve["step"][-1] == PRESETS["anchor"]["epochs"] and r.curve["mse"][-1] == run["mse"]
        for task in ("interp", "extrap"):
            at = np.mean([curve_at(r.curve, steps) for r in results if r.config.task == task])
            key = f"irregular/periodic/{task}/{model}/mse"
            assert abs(reference[key] - at) <= sensitivity.tolerance(key), (model, task)


def test_the_chapter_trains_the_measured_build_steps():
    import ast

    import jupytext

    nb = jupytext.read(Path(__file__).parents[1] / "chapters" / "04_irregular.md")
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assigned = {n.targets[0].id: n.value for n in ast.parse(cell.source).body if isinstance(n, ast.Assign)}
    from dynform.book.sensitivity import PERIODIC_BUILD_STEPS

    assert ast.literal_eval(assigned["build_steps"]) == PERIODIC_BUILD_STEPS


def test_step_flops_counts_every_matrix_product_of_the_latent_ode():
    """The forward count is the Latent ODE's matrix products written out (GRU encoder at every point,
    one Euler step per gap, the posterior map, four RK4 field calls per gap, the output map), the
    gradient adds at most twice that, and the count scales with the batch."""
    from dynform.irregular.cost import step_flops

    config = IrregularConfig(model="latent-ode", dataset="periodic", series=10, points=7, batch=4, hidden=3,
                             latent=2, width=5, substeps=1, gap_solver="euler")
    K, B, T, n, H, L, W = 2, 4, 7, 1, 3, 2, 5
    found = step_flops([config.with_(seed=s) for s in range(K)])
    encoder = T * 2 * K * B * (n + H) * 3 * H + (T - 1) * 2 * K * B * 2 * H * W + 2 * K * B * H * 2 * L
    decoder = (T - 1) * 4 * 2 * K * B * 2 * L * W + 2 * K * B * T * L * n
    assert found["forward"] == encoder + decoder
    assert 2 * found["forward"] < found["step"] <= 3 * found["forward"]
    assert step_flops([config.with_(seed=s, batch=8) for s in range(K)])["step"] == 2 * found["step"]


def test_every_stored_anchor_run_carries_its_learning_curve():
    """Each stored model was trained with ``--track``: its curve ends at the last step with the stored
    final test error, and its training terms cover every block of steps."""
    import json

    from dynform.irregular.presets import PRESETS
    from dynform.irregular.study import STORED, TRACK

    for model in MODELS:
        record = json.loads((STORED / f"{model}.json").read_text())
        assert f"--track {TRACK} " in record["command"], model
        for run in record["runs"]:
            assert run["curve"]["step"] == list(range(TRACK, PRESETS["anchor"]["epochs"] + 1, TRACK))
            assert run["curve"]["mse"][-1] == run["mse"] and run["curve"]["mse_all"][-1] == run["mse_all"]
            assert run["history"]["every"] == TRACK and len(run["history"]["loss"]) == len(run["curve"]["step"])
