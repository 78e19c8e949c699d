"""The committed rounding measurement and the tolerances that follow from it."""
from __future__ import annotations

import numpy as np
import pytest

from dynform import run
from dynform.book import sensitivity
from dynform.note.settings import matching, stated


def test_every_variant_measured_every_headline_number():
    data = sensitivity.measured()
    assert set(data["variants"]) == set(sensitivity.VARIANTS)
    names = set(data["values"]["reference"])
    sizes = {n for n in names if n.startswith("seeds/") and "@" in n}  # the ensemble sizes': float32 only
    assert sizes
    for variant, values in data["values"].items():
        expected = {n for n in names if not n.startswith("irregular/")} if sensitivity.VARIANTS[variant].data_ulp else names
        if sensitivity.VARIANTS[variant].dtype == "float64":
            expected = expected - sizes
        assert set(values) == expected, variant
    assert {"date", "machine", "torch", "command"} <= set(data["provenance"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_tolerance_covers_what_rounding_did(dtype):
    """The rule gives each number SAFETY times its largest measured deviation, so every variant is inside."""
    for name in sensitivity.names():
        devs = sensitivity.deviations(name, dtype) if sensitivity.is_measured(name, dtype) else {}
        if devs:
            assert sensitivity.tolerance(name, dtype) >= sensitivity.SAFETY * max(devs.values()) * (1 - 1e-12)


def test_runs_inherit_the_tolerance_of_their_row():
    assert sensitivity._row(stated("spiral", "nnm")) == "spiral/nnm"
    assert sensitivity._row(matching("nodem")) == "spiral-matching/nodem"
    assert sensitivity._row(stated("center", "nn").with_(members=4)) == "center/nn"
    assert sensitivity._row(stated("spiral", "nn").with_(system="1,0;0,1")) == "spiral/nn"


def test_a_run_is_measured_by_its_replicas_and_its_row():
    r = run(stated("spiral", "nnm").with_(epochs=300))
    m = sensitivity.loss(r)
    own = sensitivity.SAFETY * np.abs(r.replicas.final_loss[:, 0] - r.loss).max()
    inherited = sensitivity.relative_tolerance("spiral/nnm/loss") * r.loss
    assert m.value == r.loss and m.tol == pytest.approx(max(own, inherited))
    assert m.verdict_tol == pytest.approx(inherited)  # verdicts and digits use the committed part only
    alone = sensitivity.loss(run(stated("spiral", "nnm").with_(epochs=300, rounding=0)))
    assert alone.tol == pytest.approx(inherited)


def test_figures_have_measured_tolerances():
    rms = sensitivity.measured()["figures"]["rms"]
    assert rms and all(sensitivity.figure_tolerance(n) >= max(sensitivity.FIGURE_SAFETY * v, 1.0) for n, v in rms.items())
    assert sensitivity.figure_tolerance("a figure nobody measured") == sensitivity.FIGURE_FLOOR


def test_a_number_read_off_the_model_carries_its_replicas_spread():
    r = run(stated("spiral", "nnm").with_(epochs=300))
    probe = np.array([[1.0, 0.5]])
    fn = lambda m: r.one_step(probe, m)[0][0, 0]  # noqa: E731
    m = sensitivity.prediction(r, fn)
    own = sensitivity.SAFETY * max(abs(fn(k * r.config.members) - fn(0)) for k in range(1, r.config.rounding + 1))
    assert m.value == fn(0) and m.tol >= own and m.tol > 0
    alone = run(stated("spiral", "nnm").with_(epochs=300, rounding=0))
    assert sensitivity.prediction(alone, lambda k: alone.one_step(probe, k)[0][0, 0]).tol == pytest.approx(
        sensitivity.relative_tolerance("spiral/nnm/loss") * abs(fn(0)), rel=1e-6)


def test_every_openblas_kernel_family_is_measured_and_a_variant_this_cpu_cannot_run_is_left_out(monkeypatch, capsys):
    """The measurement forces each of OpenBLAS's x86 kernel families, for the headline numbers and for
    the readings search; a variant whose instructions the CPU lacks is left out, with its name said."""
    from dynform.note.readings import ROUNDING_VARIANTS, rounding_measured

    families = {v.env.get("OPENBLAS_CORETYPE") for v in sensitivity.VARIANTS.values()}
    assert {"Prescott", "Sandybridge", "Haswell", "SkylakeX"} <= families
    assert {"openblas-sandybridge", "openblas-haswell", "openblas-skylakex"} <= set(ROUNDING_VARIANTS)
    assert set(rounding_measured()["variants"]) == set(ROUNDING_VARIANTS)
    monkeypatch.setattr(sensitivity, "cpu_flags", lambda: frozenset({"avx", "avx2"}))
    assert sensitivity.here(["reference", "openblas-haswell", "openblas-skylakex"]) == ["reference", "openblas-haswell"]
    assert "openblas-skylakex" in capsys.readouterr().err


def test_a_number_outside_the_measurement_borrows_a_named_stand_in_and_a_zero_reference_an_absolute_tolerance():
    """A reader's other parameters make numbers the measurement never took: they carry the tolerance of
    the first measured stand-in, and none measured stops with the name; a reference of 0 has no
    fraction to carry over, so its absolute tolerance is used."""
    own = "irregular/periodic/interp/odernn/mse"
    assert sensitivity.measured_name(own) == own
    assert sensitivity.measured_name("irregular/periodic/interp/rnn/mse", "float32", "no/such", own) == own
    with pytest.raises(KeyError, match="no rounding tolerance was measured for 'no/such'"):
        sensitivity.measured_name("no/such", "float32", "nor/this")
    values = sensitivity.measured()["values"][sensitivity.rounding_variants("float32")[0]]
    zero = next(k for k, v in values.items() if v == 0)
    assert sensitivity.trained(0.25, zero).tol == max(sensitivity.tolerance(zero), sensitivity._floor(0.25, "float32"))
    assert sensitivity.trained(0.0, zero).tol == sensitivity.tolerance(zero)
    assert sensitivity.trained(0.25, own).tol == pytest.approx(sensitivity.relative_tolerance(own) * 0.25)
