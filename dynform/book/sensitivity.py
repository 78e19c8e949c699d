"""How far the book's trained numbers move under rounding alone, and the tolerances that follow.

At the note's settings training is chaotic: a rounding difference in the first step can grow until it
changes the leading digits of a trained number. This module measures that growth for every headline
number of the book (Tables 1 and 2, the learned matrices, the irregular test MSEs):

* :data:`VARIANTS` are the ways rounding can change without the method changing: the math kernels
  (``ATEN_CPU_CAPABILITY``, ``MKL_CBWR``, numpy's SIMD functions and each of OpenBLAS's x86 kernel
  families), the thread count, a one-ulp nudge of the initial
  parameters, and the precision (float32 against float64). Each variant runs in a fresh process,
  because the kernel choice is read when torch starts.
* :func:`headline_numbers` computes every headline number in the current process.
* :func:`measure` runs every variant and writes one JSON file (``sensitivity.json`` beside this
  module), with the date, machine and command that made it; ``python -m dynform sensitivity`` calls it.
* :func:`tolerance` turns the measured spread of a number into the tolerance its checks use. The rule
  is stated once, in :data:`TOLERANCE_RULE`.
* :func:`loss`, :func:`matrix`, :func:`matrix_error`, :func:`iterations` and :func:`statistic` give a
  run's numbers as :class:`~dynform.book.checks.Measured`, with the larger of the run's own rounding
  replicas' spread (``RunConfig.rounding``) and the tolerance of the nearest headline number.
* :func:`measure_figures` re-executes the chapters under other math kernels and records how far each
  glued figure moves; :func:`figure_tolerance` is the RMS tolerance that follows.
"""
from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..provenance import machine
from ..stored import read, write

#: Where the committed measurement lives (package data).
DATA_FILE = "sensitivity.json"

#: Environment of the reference process: one thread, as the Makefile sets.
BASE_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


@dataclass(frozen=True)
class Variant:
    """One way of changing rounding only: extra environment variables and run settings."""

    label: str  #: words for the table
    env: Mapping[str, str] = field(default_factory=dict)
    dtype: str = "float32"
    init_ulp: int = 0
    data_ulp: int = 0  #: regular runs only: one training sample one ulp up
    cpu_flag: str = ""  #: an instruction set the variant's kernels need (a flag of /proc/cpuinfo)

    def runs_here(self) -> bool:
        """Whether this CPU can run the variant's kernels (a variant without ``cpu_flag`` always can)."""
        return not self.cpu_flag or self.cpu_flag in cpu_flags()


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The instruction-set flags of this CPU (empty where /proc/cpuinfo cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return frozenset(line.partition(":")[2].split())


#: numpy's dispatched x86 SIMD levels above its baseline: disabled, numpy computes tanh and the other
#: functions it vectorises with the baseline code another CPU would run (unknown names are ignored).
NUMPY_SIMD = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"

#: The rounding variants, keyed by a short name. ``reference`` is the book's own setting.
VARIANTS: dict[str, Variant] = {
    "reference": Variant("as installed, 1 thread"),
    "aten-avx2": Variant("ATEN_CPU_CAPABILITY=avx2", {"ATEN_CPU_CAPABILITY": "avx2"}),
    "aten-default": Variant("ATEN_CPU_CAPABILITY=default", {"ATEN_CPU_CAPABILITY": "default"}),
    "mkl-compatible": Variant("MKL_CBWR=COMPATIBLE", {"MKL_CBWR": "COMPATIBLE"}),
    "both": Variant("ATEN_CPU_CAPABILITY=default and MKL_CBWR=COMPATIBLE",
                    {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}),
    "openblas-generic": Variant("OPENBLAS_CORETYPE=Prescott (numpy's BLAS)", {"OPENBLAS_CORETYPE": "Prescott"}),
    # OpenBLAS's other x86 kernel families (numpy's matrix products): every x86 CPU gets one of these
    # four (Zen uses the Haswell kernels; Cooperlake and Sapphire Rapids give SkylakeX's numbers)
    "openblas-sandybridge": Variant("OPENBLAS_CORETYPE=Sandybridge (AVX)", {"OPENBLAS_CORETYPE": "Sandybridge"},
                                    cpu_flag="avx"),
    "openblas-haswell": Variant("OPENBLAS_CORETYPE=Haswell (AVX2; also Zen)", {"OPENBLAS_CORETYPE": "Haswell"},
                                cpu_flag="avx2"),
    "openblas-skylakex": Variant("OPENBLAS_CORETYPE=SkylakeX (AVX-512)", {"OPENBLAS_CORETYPE": "SkylakeX"},
                                 cpu_flag="avx512f"),
    "numpy-baseline": Variant(f"NPY_DISABLE_CPU_FEATURES={NUMPY_SIMD} (numpy's SIMD functions)",
                              {"NPY_DISABLE_CPU_FEATURES": NUMPY_SIMD}),
    "all-kernels": Variant("all four kernel changes", {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE",
                                                       "OPENBLAS_CORETYPE": "Prescott",
                                                       "NPY_DISABLE_CPU_FEATURES": NUMPY_SIMD}),
    "threads-2": Variant("2 threads", {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}),
    "ulp": Variant("initial parameters + 1 ulp", init_ulp=1),
    **{f"data-ulp-{k}": Variant(f"training sample entry {k} + 1 ulp", data_ulp=k) for k in (1, 4, 9, 14)},
    "float64": Variant("float64", dtype="float64"),
    "float64-both": Variant("float64, all four kernel changes",
                            {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OPENBLAS_CORETYPE": "Prescott",
                             "NPY_DISABLE_CPU_FEATURES": NUMPY_SIMD}, dtype="float64"),
    "float64-ulp": Variant("float64, initial parameters + 1 ulp", dtype="float64", init_ulp=1),
    **{f"float64-data-ulp-{k}": Variant(f"float64, training sample entry {k} + 1 ulp", dtype="float64", data_ulp=k)
       for k in (1, 4, 9, 14)},
}


#: Every HISTORY_STRIDE-th loss of the spiral runs is kept, to show how a rounding difference grows.
HISTORY_STRIDE = 10


def headline_numbers(dtype: str = "float32", init_ulp: int = 0, data_ulp: int = 0,
                     irregular: bool = True, histories: dict[str, list[float]] | None = None) -> dict[str, float]:
    """Every headline trained number of the book, computed here: name -> value.

    Names read ``example/model/quantity``: ``spiral/nn/loss``, ``center/nnm/iterations``,
    ``spiral/nodem/matrix[1,2]``, ``irregular/periodic/interp/odernn/mse`` (mean over the chapter's
    seeds). The runs are the ones the chapters make, with their default parameters. ``data_ulp``
    applies to the regular runs only; with it the irregular numbers are left out.
    """
    from ..note.settings import TABLE_ROWS, matching, stated
    from ..regular.experiment import run
    from ..regular.models import MATRIX_MODELS

    out: dict[str, float] = {}
    for example in ("spiral", "center"):
        for model in TABLE_ROWS:
            r = run(stated(example, model).with_(dtype=dtype, init_ulp=init_ulp, data_ulp=data_ulp, rounding=0))
            if histories is not None and example == "spiral":
                histories[model] = r.record.history[::HISTORY_STRIDE, 0].tolist()
            out[f"{example}/{model}/loss"] = r.loss
            out[f"{example}/{model}/iterations"] = float(r.iterations)
            if model in MATRIX_MODELS:
                for (i, j), v in np.ndenumerate(r.matrix()):
                    out[f"{example}/{model}/matrix[{i + 1},{j + 1}]"] = float(v)
    for model in TABLE_ROWS:
        r = run(matching(model).with_(dtype=dtype, init_ulp=init_ulp, data_ulp=data_ulp, rounding=0))
        out[f"spiral-matching/{model}/loss"] = r.loss
        if model in MATRIX_MODELS:
            for (i, j), v in np.ndenumerate(r.matrix()):
                out[f"spiral-matching/{model}/matrix[{i + 1},{j + 1}]"] = float(v)
    out.update(_seed_statistics(dtype, init_ulp, data_ulp))
    out.update(_gradient_chapter_numbers(dtype, init_ulp, data_ulp))
    if irregular and not data_ulp:
        out.update(_irregular_numbers(dtype))
    return out


#: The seed statistics of the seeds chapter: name -> function of the members' final losses.
SEED_STATISTICS = {
    "median": np.median, "min": np.min, "max": np.max,
    "q1": lambda v: np.percentile(v, 25), "q3": lambda v: np.percentile(v, 75),
    "ratio": lambda v: v.max() / v.min(), "below-1e-2": lambda v: float((v < 1e-2).sum()),
}


def _seed_statistics(dtype: str, init_ulp: int, data_ulp: int) -> dict[str, float]:
    """The seeds chapter's statistics over :data:`dynform.note.seeds.SEEDS` seeds of every row of
    Tables 1 and 2, and in float32 the median and interquartile range over each size of
    :data:`dynform.note.seeds.ENSEMBLE_SIZES` (one ensemble of the largest size: its first ``N``
    members are an ensemble of ``N``), from which the number of seeds is chosen."""
    from ..note.seeds import ENSEMBLE_SIZES, SEEDS, size_statistics
    from ..note.settings import TABLE_ROWS, stated
    from ..regular.experiment import run

    members = max(SEEDS, *ENSEMBLE_SIZES) if dtype == "float32" else SEEDS
    out = {}
    for example in ("spiral", "center"):
        for model in TABLE_ROWS:
            r = run(stated(example, model).with_(members=members, dtype=dtype, init_ulp=init_ulp,
                                                 data_ulp=data_ulp, rounding=0))
            losses, iterations = r.record.final_loss[:SEEDS], r.record.iterations[:SEEDS]
            for stat, fn in SEED_STATISTICS.items():
                out[f"seeds/{example}/{model}/{stat}"] = float(fn(losses))
            for stat in ("median", "min", "max"):
                out[f"seeds/{example}/{model}/iterations-{stat}"] = float(SEED_STATISTICS[stat](iterations))
            if dtype == "float32":
                for stat, value in size_statistics(r.record.final_loss).items():
                    out[f"seeds/{example}/{model}/{stat}"] = value
    return out


def _gradient_chapter_numbers(dtype: str, init_ulp: int, data_ulp: int) -> dict[str, float]:
    """The trained numbers of the gradient appendix: the spiral's MLP step map trained by torch's RMSprop
    (where its loss curve leaves Algorithm 1's), and by the hand gradients in float64 numpy (100 and 1000
    steps, full and one-step gradients). The nudges act on the numpy arrays in their own precision."""
    from ..note import gradients as gr
    from ..regular.data import time_grid, trajectory
    from ..note.settings import stated
    from ..regular.experiment import run
    from ..regular.models import build_model
    from ..note.printed import printed
    from ..systems import get_system

    out: dict[str, float] = {}
    config = stated("spiral", "nn").with_(dtype=dtype, init_ulp=init_ulp, data_ulp=data_ulp, rounding=0)
    curves = {name: run(config.with_(optimizer=name)) for name in ("algorithm1", "torch-rmsprop")}
    h = {k: np.append(r.record.history[:, 0], r.loss) for k, r in curves.items()}
    for name, curve in h.items():
        for stat, value in gr.history_summary(curve).items():
            out[f"gradients/{name}/{stat}"] = value
    ratio = h["torch-rmsprop"] / h["algorithm1"]
    for key, apart in (("1pc", np.abs(ratio - 1) > 0.01), ("x2", np.abs(np.log(ratio)) > np.log(2))):
        out[f"gradients/curves-apart-{key}/step"] = float(apart.argmax() if apart.any() else len(apart))
    alg1 = printed()["algorithm1"]
    init = gr.mlp_parameters(build_model("nn", hidden=config.hidden, seeds=(config.seed,), init_std=config.init_std))
    for _ in range(init_ulp):
        init = {k: np.nextafter(v, np.inf) for k, v in init.items()}
    target = trajectory(get_system("spiral"), np.array(config.y0), time_grid(config.t0, config.t1, config.points))
    if data_ulp:
        flat = target[1:].reshape(-1)
        flat[data_ulp - 1] = np.nextafter(flat[data_ulp - 1], np.inf)
    for epochs in (100, config.epochs):
        for key, through_time in (("bptt", True), ("onestep", False)):
            _, history, final = gr.hand_train(init, target[0], target, epochs, alg1["lr"], alg1["gamma"], alg1["eps"],
                                              through_time)
            for stat, value in gr.history_summary(np.append(history, final)).items():
                out[f"gradients/hand-{key}-{epochs}/{stat}"] = value
    return out


#: Seeds of the irregular chapter's default runs (``seed = 0``, ``n_seeds = 3``).
IRREGULAR_SEEDS = (0, 1, 2)
#: The periodic study's models the irregular chapter trains itself by default, and their steps (``build_steps``).
PERIODIC_BUILD_STEPS = {"odernn": 500}
#: The irregular chapter's default fractions of points observed (``fractions``).
PERIODIC_FRACTIONS = (0.1, 0.2, 0.3, 0.5)


def _irregular_numbers(dtype: str) -> dict[str, float]:
    """The irregular chapter's trained numbers, from its default runs: the spiral study
    (``irregular/spiral/...``), the periodic study at the build's scale (``irregular/periodic/...``)
    and the stored runs at the anchor's scale, evaluated again (``irregular/periodic-anchor/...``)."""
    from .. import irregular as irr
    from ..irregular.experiment import latent_summary
    from ..irregular.presets import PRESETS
    from ..irregular.study import stored_runs

    out: dict[str, float] = {}
    spiral = irr.benchmark(irr.IrregularConfig(dtype=dtype), tuple(irr.MODELS), ("spiral",), ("interp", "extrap"),
                           IRREGULAR_SEEDS)
    periodic = irr.benchmark(irr.IrregularConfig(**PRESETS["build"], dtype=dtype), PERIODIC_BUILD_STEPS,
                             ("periodic",), ("interp", "extrap"), IRREGULAR_SEEDS)
    _, anchor = stored_runs(tuple(irr.MODELS), dtype)
    for prefix, results in (("irregular", spiral + periodic), ("irregular/periodic-anchor", anchor)):
        for row in irr.summarize(results):
            name = f"{prefix}/{row['task']}/{row['model']}" if "anchor" in prefix else \
                f"{prefix}/{row['dataset']}/{row['task']}/{row['model']}"
            for stat in ("mse", "mse_sd", "mse_all", "mse_all_sd"):
                out[f"{name}/{stat}"] = row[stat + "_mean" if stat in ("mse", "mse_all") else stat]
    from ..irregular import probes

    for m in irr.MODELS:
        runs = [r for r in anchor if (r.config.model, r.config.task) == (m, "interp")]
        curves = probes.mse_by_fraction(runs, PERIODIC_FRACTIONS, seed=2).mean(0)
        for f, v in zip(PERIODIC_FRACTIONS, curves):
            out[f"irregular/periodic-anchor/interp/{m}/mse@{round(100 * f)}"] = float(v)
    lat_anchor = next(r for r in anchor if (r.config.model, r.config.task, r.config.seed)
                      == ("latent-ode", "interp", IRREGULAR_SEEDS[0]))
    for name, frac in (("few", PERIODIC_FRACTIONS[0]), ("many", PERIODIC_FRACTIONS[-1])):
        band = probes.posterior_band(lat_anchor, lat_anchor.data.test, frac)
        for stat in ("width", "coverage"):
            out[f"irregular/periodic-anchor/interp/latent-ode/band-{stat}-{name}"] = band[stat]
    lat = next(r for r in spiral if (r.config.model, r.config.task, r.config.seed)
               == ("latent-ode", "extrap", IRREGULAR_SEEDS[0]))
    summary = latent_summary(lat)
    for stat in ("kl", "loglik", "spread"):
        out[f"irregular/spiral/extrap/latent-ode/{stat}"] = summary[stat]
    return out


def seed_spread() -> dict[str, dict[str, float]]:
    """Median and quartiles over :data:`dynform.note.seeds.SEEDS` seeds of every regular headline
    number (stated settings)."""
    from ..note.seeds import SEEDS, spread
    from ..note.settings import TABLE_ROWS, stated
    from ..regular.experiment import run
    from ..regular.models import MATRIX_MODELS

    out: dict[str, dict[str, float]] = {}
    for example in ("spiral", "center"):
        for model in TABLE_ROWS:
            r = run(stated(example, model).with_(members=SEEDS, rounding=0))
            out[f"{example}/{model}/loss"] = spread(r.record.final_loss)
            out[f"{example}/{model}/iterations"] = spread(r.record.iterations)
            if model in MATRIX_MODELS:
                M = r.matrices()
                for i in range(M.shape[1]):
                    for j in range(M.shape[2]):
                        out[f"{example}/{model}/matrix[{i + 1},{j + 1}]"] = spread(M[:, i, j])
    return out


def here(names: Sequence[str]) -> list[str]:
    """The variants of ``names`` this CPU can run; the others are named on stderr, left out."""
    kept = [n for n in names if VARIANTS[n].runs_here()]
    if len(kept) < len(names):
        print(f"left out (this CPU lacks their instructions): {', '.join(n for n in names if n not in kept)}",
              file=sys.stderr)
    return kept


def in_variant(name: str, call: str, imports: str) -> Any:
    """The JSON value of the Python expression ``call`` (after ``imports``), computed in a fresh process
    with the environment of variant ``name`` (the kernel choice is read when torch starts)."""
    env = {**os.environ, **BASE_ENV, **VARIANTS[name].env}
    code = f"import json, sys; {imports}; json.dump({call}, sys.stdout)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"variant {name!r} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout)


def _run_variant(name: str, irregular: bool) -> dict[str, Any]:
    v = VARIANTS[name]
    return in_variant(name, "{'values': v, 'histories': h}",
                      "from dynform.book.sensitivity import headline_numbers; h = {}; "
                      f"v = headline_numbers({v.dtype!r}, {v.init_ulp}, {v.data_ulp}, {irregular}, h)")


def measure(path: Path | None = None, variants: Sequence[str] | None = None, irregular: bool = True,
            jobs: int = 2, command: str = "python -m dynform sensitivity", progress: bool = False) -> dict[str, Any]:
    """Run every variant in its own process (``jobs`` at a time), add the seed spread, write JSON.

    Returns what it wrote: ``values[variant][name]``, ``seed_spread[name]``, the variants' settings and
    the provenance (date, machine, torch version, command).
    """
    import torch
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    variants = here(VARIANTS) if variants is None else list(variants)
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown or "reference" not in variants:
        from ..errors import ParameterError

        raise ParameterError("variants", f"must include 'reference' and only known names "
                                         f"({', '.join(VARIANTS)}), got {list(variants)}")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {v: pool.submit(_run_variant, v, irregular) for v in variants}
        done = {v: f.result() for v, f in tqdm(futures.items(), disable=not progress, desc="variants")}
    os.environ.update(BASE_ENV)
    torch.set_num_threads(1)
    result = {
        "provenance": {"date": datetime.date.today().isoformat(), "machine": machine(),
                       "torch": torch.__version__, "python": platform.python_version(), "command": command},
        "variants": {v: {"label": VARIANTS[v].label, "env": dict(VARIANTS[v].env), "dtype": VARIANTS[v].dtype,
                         "init_ulp": VARIANTS[v].init_ulp, "data_ulp": VARIANTS[v].data_ulp} for v in variants},
        "values": {v: d["values"] for v, d in done.items()},
        "histories": {v: d["histories"] for v, d in done.items()},
        "history_stride": HISTORY_STRIDE,
        "seed_spread": seed_spread(),
    }
    path = Path(path) if path is not None else Path(str(resources.files(__package__).joinpath(DATA_FILE)))
    if path.exists():  # the figure measurement is made separately (measure_figures) and kept
        result["figures"] = read(path, COMMAND).get("figures", {})
    out = write(path, result)
    measured.cache_clear()
    return out


#: The command that remakes :data:`DATA_FILE`.
COMMAND = "python -m dynform sensitivity"


@lru_cache(maxsize=1)
def measured() -> dict[str, Any]:
    """The committed measurement (``sensitivity.json``), checked as it is read (:func:`dynform.stored.read`)."""
    return read(str(resources.files(__package__).joinpath(DATA_FILE)), COMMAND)


#: The tolerance rule, stated once: a trained number's tolerance is :data:`SAFETY` times the largest
#: deviation from the reference that rounding alone produced among the variants of the book's
#: precision, and never less than :data:`FLOOR_ULPS` units in the last place of that precision.
SAFETY = 3.0
FLOOR_ULPS = 16
TOLERANCE_RULE = (f"{SAFETY:g} × the largest deviation from the reference among the rounding variants of the "
                  f"same precision, and at least {FLOOR_ULPS} ulps of the value")


def rounding_variants(dtype: str) -> list[str]:
    """The measured variants that compute in ``dtype``, the reference of that precision first."""
    data = measured()
    same = [v for v, s in data["variants"].items() if s["dtype"] == dtype]
    ref = "reference" if dtype == "float32" else "float64"
    return [ref] + [v for v in same if v != ref]


def deviations(name: str, dtype: str = "float32") -> dict[str, float]:
    """``|value(variant) - value(reference)|`` of headline number ``name`` for every rounding variant
    of precision ``dtype`` (the reference itself left out)."""
    data = measured()["values"]
    variants = rounding_variants(dtype)
    ref = data[variants[0]][name]
    return {v: abs(data[v][name] - ref) for v in variants[1:] if name in data[v]}


def tolerance(name: str, dtype: str = "float32") -> float:
    """The absolute tolerance of headline number ``name`` by :data:`TOLERANCE_RULE`."""
    ref = measured()["values"][rounding_variants(dtype)[0]][name]
    return max(SAFETY * max(deviations(name, dtype).values()), _floor(ref, dtype))


def _floor(value: float, dtype: str) -> float:
    """The smallest tolerance of :data:`TOLERANCE_RULE`: FLOOR_ULPS units in the last place of ``value``."""
    import torch

    return FLOOR_ULPS * float(torch.finfo(getattr(torch, dtype)).eps) * max(abs(value), 1e-30)


def is_measured(name: str, dtype: str = "float32") -> bool:
    """Whether headline number ``name`` was measured (for ``dtype``'s rounding variants)."""
    return name in measured()["values"][rounding_variants(dtype)[0]]


def measured_name(name: str, dtype: str = "float32", *stand_ins: str) -> str:
    """``name`` if it was measured, else the first measured of ``stand_ins``: the headline number whose
    tolerance a run at settings the measurement did not cover borrows (a reader's other parameters)."""
    for candidate in (name, *stand_ins):
        if is_measured(candidate, dtype):
            return candidate
    raise KeyError(f"no rounding tolerance was measured for {name!r} (nor for {', '.join(stand_ins) or 'a stand-in'})")


def relative_tolerance(name: str, dtype: str = "float32") -> float:
    """:func:`tolerance` of ``name`` as a fraction of its reference value."""
    ref = measured()["values"][rounding_variants(dtype)[0]][name]
    return tolerance(name, dtype) / abs(ref) if ref else math.inf


def trained(value: float, like: str, dtype: str = "float32", relative: bool = True):
    """``value`` as a :class:`~dynform.book.checks.Measured` with the tolerance of headline number ``like``:
    the same fraction of ``value`` (``relative``) or the same absolute amount (matrix entries, and a
    ``like`` whose reference is 0, which has no fraction to carry over: then at least the floor of
    :data:`TOLERANCE_RULE` for ``value`` itself)."""
    from .checks import Measured

    share = relative_tolerance(like, dtype) if relative else math.nan
    if math.isfinite(share):
        tol = share * abs(float(value))
    elif relative:  # a reference of 0
        tol = max(tolerance(like, dtype), _floor(float(value), dtype))
    else:
        tol = tolerance(like, dtype)
    return Measured(float(value), tol if tol > 0 else tolerance(like, dtype))


def _example(system: str) -> str:
    """The measured example whose tolerances a run on ``system`` inherits (a custom matrix: the spiral's)."""
    return system if system in ("spiral", "center") else "spiral"


def _row(config) -> str:
    """The headline prefix whose tolerances a regular run inherits: its own, if it is one of the
    measured runs (``spiral/nn``, ``spiral-matching/nodem``, ...), else its example's row."""
    from dataclasses import replace

    from ..note.settings import SPIRAL_MATCHING, matching

    example = _example(config.system)
    plain = replace(config, members=1, rounding=0)
    if example == "spiral" and config.model in SPIRAL_MATCHING and plain == replace(
            matching(config.model), rounding=0, dtype=config.dtype):
        return f"spiral-matching/{config.model}"
    return f"{example}/{config.model}"


def _inherited(name: str, dtype: str, relative: bool = False) -> float:
    """The (relative) tolerance of headline number ``name``; 0 for a number that was not measured
    (a model outside the note's tables), whose tolerance then comes from its replicas alone."""
    if name not in measured()["values"][rounding_variants(dtype)[0]]:
        return 0.0
    return relative_tolerance(name, dtype) if relative else tolerance(name, dtype)


def _measured(value: float, replicas: np.ndarray | None, inherited: float, dtype: str):
    """``value`` with the larger of two tolerances: :data:`SAFETY` times its largest deviation among the
    run's own rounding replicas, and the tolerance ``inherited`` from the headline measurement."""
    from .checks import Measured

    own = SAFETY * float(np.max(np.abs(np.asarray(replicas, dtype=np.float64) - value))) if replicas is not None else 0.0
    band = max(inherited, _floor(value, dtype))
    return Measured(float(value), max(own, band), band=band)


def computed(value: float, dtype: str = "float32"):
    """A number computed without training (a loss at the initial parameters, say): rounding moves it
    only by a few ulps, so its tolerance is the floor of :data:`TOLERANCE_RULE`."""
    return _measured(float(value), None, 0.0, dtype)


def loss(result, member: int = 0):
    """The final loss of a regular run's ``member``: its tolerance is the larger of what the run's own
    rounding replicas show and the relative tolerance of its row of Table 1 or 2."""
    c = result.config
    value = float(result.record.final_loss[member])
    reps = result.replicas.final_loss[:, member] if result.replicas is not None else None
    return _measured(value, reps, _inherited(f"{_row(c)}/loss", c.dtype, relative=True) * abs(value), c.dtype)


def iterations(result, member: int = 0):
    """The optimiser steps a regular run's ``member`` took, with the tolerance of its replicas and row."""
    c = result.config
    value = float(result.record.iterations[member])
    reps = result.replicas.iterations[:, member] if result.replicas is not None else None
    return _measured(value, reps, _inherited(f"{_row(c)}/iterations", c.dtype), c.dtype)


def matrix(result, member: int = 0) -> np.ndarray:
    """The learned matrix of a regular matrix-model run's ``member``, entry by entry with the larger of
    the replicas' and the row's tolerance (an object array of :class:`~dynform.book.checks.Measured`)."""
    c = result.config
    M = result.matrices()[member]
    reps = result.replica_matrices()[:, member] if result.replicas is not None else None
    out = np.empty(M.shape, dtype=object)
    for (i, j), v in np.ndenumerate(M):
        inherited = _inherited(f"{_row(c)}/matrix[{i + 1},{j + 1}]", c.dtype)
        out[i, j] = _measured(float(v), None if reps is None else reps[:, i, j], inherited, c.dtype)
    return out


def matrix_error(result, reference: np.ndarray, member: int = 0):
    """``max |M - reference|`` of a matrix-model run, with the tolerance its replicas and row give it."""
    c = result.config
    err = float(np.abs(result.matrices()[member] - reference).max())
    reps = None
    if result.replicas is not None:
        reps = np.abs(result.replica_matrices()[:, member] - reference).max(axis=(1, 2))
    n = reference.shape[0]
    inherited = max(_inherited(f"{_row(c)}/matrix[{i + 1},{j + 1}]", c.dtype) for i in range(n) for j in range(n))
    return _measured(err, reps, inherited, c.dtype)


def prediction(result, fn, like: str | None = None):
    """A number read off a regular run's trained model, ``fn(member)`` (a function of the model's
    member index, e.g. through ``result.one_step(states, member)``), for member 0: its tolerance is
    :data:`SAFETY` times its largest change over member 0's rounding replicas, and at least the
    relative tolerance of headline number ``like`` (default: the row's loss)."""
    c = result.config
    value = float(fn(0))
    reps = np.array([fn(r * c.members) for r in range(1, c.rounding + 1)]) if c.rounding else None
    name = like or f"{_row(c)}/loss"
    return _measured(value, reps, _inherited(name, c.dtype, relative=True) * abs(value), c.dtype)


def statistic(result, fn, quantity: str = "loss", like: str | None = None):
    """``fn`` of the members' final losses (or ``iterations``), with the tolerance its values over the
    rounding replica groups give it, and at least the relative tolerance of headline number ``like``
    (default: the row's ``quantity`` for one run)."""
    c = result.config
    values = getattr(result.record, "final_loss" if quantity == "loss" else "iterations")
    value = float(fn(values))
    reps = None
    if result.replicas is not None:
        rows = getattr(result.replicas, "final_loss" if quantity == "loss" else "iterations")
        reps = np.array([fn(row) for row in rows])
    name = like or f"{_row(c)}/{quantity}"
    inherited = relative_tolerance(name, c.dtype) * abs(value) if value else tolerance(name, c.dtype)
    return _measured(value, reps, inherited, c.dtype)


# --- what the sensitivity chapter shows ------------------------------------------------------------

#: Rounding variants of float32 grouped as the chapter's table shows them.
GROUPS: dict[str, tuple[str, ...]] = {
    "math kernels": ("aten-avx2", "aten-default", "mkl-compatible", "both", "openblas-generic",
                     "openblas-sandybridge", "openblas-haswell", "openblas-skylakex", "numpy-baseline",
                     "all-kernels"),
    "2 threads": ("threads-2",),
    "parameters + 1 ulp": ("ulp",),
    "data + 1 ulp": ("data-ulp-1", "data-ulp-4", "data-ulp-9", "data-ulp-14"),
}


def names(prefix: str = "") -> list[str]:
    """The measured headline numbers whose name starts with ``prefix``, in the measurement's order."""
    return [n for n in measured()["values"]["reference"] if n.startswith(prefix)]


def group_deviation(name: str, group: str) -> float | None:
    """Largest relative deviation from the float32 reference of ``name`` over the variants of ``group``
    (``None`` where no variant of the group computed it)."""
    data = measured()["values"]
    ref = data["reference"][name]
    devs = [abs(data[v][name] - ref) for v in GROUPS[group] if v in data and name in data[v]]
    return max(devs) / max(abs(ref), 1e-300) if devs else None


def carried(name: str, dtype: str = "float32") -> int:
    """Significant digits headline number ``name`` carries in ``dtype`` under :data:`TOLERANCE_RULE`."""
    from .checks import carried_digits

    ref = measured()["values"][rounding_variants(dtype)[0]][name]
    return carried_digits(ref, tolerance(name, dtype))


def table_rows(prefix: str = "") -> list[list[Any]]:
    """One row per headline number: name, float32 value, the relative deviation of each group, the
    float64 value and its largest relative deviation, the seed spread (IQR / median), and the
    tolerance and digits in each precision."""
    data = measured()
    rows = []
    for n in names(prefix):
        v32 = data["values"]["reference"][n]
        seeds = data["seed_spread"].get(n)
        iqr = seeds["iqr"] / abs(seeds["median"]) if seeds and seeds["median"] else None
        if is_measured(n, "float64"):  # the ensemble sizes' statistics are measured in float32 only
            v64 = data["values"]["float64"][n]
            dev64 = max(deviations(n, "float64").values()) / max(abs(v64), 1e-300)
            in64 = [abs(v64 - v32) / max(abs(v32), 1e-300), dev64]
            digits64 = carried(n, "float64")
        else:
            in64, digits64 = [None, None], None
        rows.append([f"`{n}`", f"{v32:.6g}", *[group_deviation(n, g) for g in GROUPS], *in64, iqr,
                     relative_tolerance(n, "float32"), carried(n, "float32"), digits64])
    return rows


def precision_comparison() -> dict[str, Any]:
    """Which precision lets more headline numbers carry more digits: per number, the digits carried in
    float32 and float64, and the counts of numbers each precision serves better."""
    both = [n for n in names() if all(n in measured()["values"][v] for v in rounding_variants("float64"))]
    digits = {n: (carried(n, "float32"), carried(n, "float64")) for n in both}
    return {"digits": digits,
            "float64_better": sorted(n for n, (a, b) in digits.items() if b > a),
            "float32_better": sorted(n for n, (a, b) in digits.items() if a > b),
            "same": sorted(n for n, (a, b) in digits.items() if a == b)}


def growth(model: str) -> dict[str, np.ndarray]:
    """Relative difference of the spiral's loss history of ``model`` from its reference, per variant:
    the float32 variants against float32, the float64 ones against float64. Returns the epochs too."""
    data = measured()
    out: dict[str, np.ndarray] = {}
    for dtype in ("float32", "float64"):
        ref_name, *others = rounding_variants(dtype)
        ref = np.asarray(data["histories"][ref_name][model])
        for v in others:
            if model in data["histories"].get(v, {}):
                out[v] = np.abs(np.asarray(data["histories"][v][model]) - ref) / ref
    out["epoch"] = np.arange(len(ref)) * data["history_stride"] + 1
    return out


# --- figures ----------------------------------------------------------------------------------------

#: Figures are compared as images: RMS pixel difference (0-255) at most FIGURE_SAFETY times the most
#: that the math kernels of other CPUs (:data:`FIGURE_VARIANTS`) produced, and at least FIGURE_FLOOR
#: (antialiasing of identical data).
FIGURE_SAFETY = 3.0
FIGURE_FLOOR = 1.0


def figure_rms(stored: Path, fresh: Path) -> dict[str, float]:
    """RMS pixel difference of every glued figure between two executions of one chapter: name -> RMS."""
    import nbformat

    from .checks import rms_difference

    def figures(path: Path) -> dict[str, str]:
        out = {}
        for cell in nbformat.read(path, as_version=4).cells:
            for o in cell.get("outputs", []):
                name = o.get("metadata", {}).get("scrapbook", {}).get("name")
                png = next((v for k, v in o.get("data", {}).items() if k.endswith("image/png")), None)
                if name and png:
                    out[name] = png
        return out

    a, b = figures(stored), figures(fresh)
    return {name: rms_difference(a[name], b[name]) for name in sorted(set(a) & set(b))}


#: The variants the figures are re-executed under: every change of the math kernels at once, and
#: each of OpenBLAS's other x86 kernel families.
FIGURE_VARIANTS = ("all-kernels", "openblas-sandybridge", "openblas-haswell", "openblas-skylakex")


def measure_figures(chapters: Sequence[Path], variants: Sequence[str] = FIGURE_VARIANTS,
                    jobs: int = 2) -> dict[str, float]:
    """Execute each chapter's stored notebook again under each of ``variants`` (those this CPU can
    run) and record, per glued figure, the largest RMS difference from the stored one; merged into the
    committed measurement (the figures of chapters not given keep their recorded values)."""
    from concurrent.futures import ThreadPoolExecutor

    import tempfile

    from ..runcache import ENV as RUN_CACHE

    variants = here(variants)
    # the chapters of one variant share their repeated runs (the setup search's findings among them)
    # through a run cache of that variant's own: a run under one variant's kernels is never served to another
    caches = {v: tempfile.mkdtemp(prefix=f"dynform-figures-{v}-") for v in variants}

    def one(task: tuple[str, Path]) -> dict[str, float]:
        variant, md = task
        env = {**os.environ, **BASE_ENV, **VARIANTS[variant].env, RUN_CACHE: caches[variant]}
        stored = md.with_suffix(".ipynb")
        fresh = stored.with_name(f"_rounding_{variant}_{stored.name}")
        try:
            subprocess.run([sys.executable, "-m", "jupyter", "execute", "--timeout=900", f"--output={fresh.stem}",
                            str(stored)], env=env, check=True, capture_output=True, text=True)
            return figure_rms(stored, fresh)
        finally:
            fresh.unlink(missing_ok=True)

    import shutil

    try:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            found: dict[str, float] = {}
            for part in pool.map(one, [(v, md) for v in variants for md in chapters]):
                for name, rms in part.items():
                    found[name] = max(found.get(name, 0.0), rms)
    finally:
        for folder in caches.values():
            shutil.rmtree(folder, ignore_errors=True)
    path = Path(str(resources.files(__package__).joinpath(DATA_FILE)))
    data = read(path, COMMAND)
    previous = data.get("figures", {})
    if previous.get("variants") != list(variants):
        previous = {}
    data["figures"] = {"variants": list(variants), "rms": {**previous.get("rms", {}), **found}}
    write(path, data)
    measured.cache_clear()
    return found


def figure_tolerance(name: str) -> float:
    """The RMS tolerance of glued figure ``name``: FIGURE_SAFETY times its measured RMS difference
    under another CPU's kernels, at least FIGURE_FLOOR. A figure not yet measured gets the floor."""
    rms = measured().get("figures", {}).get("rms", {}).get(name, 0.0)
    return max(FIGURE_SAFETY * rms, FIGURE_FLOOR)
