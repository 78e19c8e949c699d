"""Benchmark: the four models of the note, 1000 epochs on the spiral's stated settings, trained

(a) the way torchdiffeq's ``ode_demo`` trains (``benchmarks/baseline.py``), one model at a time;
(b) by dynform, one model (``RunConfig(members=1)``), with each engine of
    ``dynform.regular.backprop.ENGINES``: autograd (the book's reference) and numpy (hand-written
    backpropagation);
(c) by dynform, an ensemble of 32 members in one batched run, reported per member, with each engine;
(d) by the JIT peer (``benchmarks/jax_peer.py``: JAX, the training loop compiled with ``jit`` and
    ``lax.scan``, ensembles with ``vmap``), single and per member, when JAX is installed
    (``.venv/bin/pip install -r benchmarks/requirements-jax.txt -c requirements.txt``); its compile
    time (the first call) is recorded apart from its steady time.

Run from the repository root::

    .venv/bin/python benchmarks/run.py

It prints a table of seconds and the ratios baseline/dynform and writes ``benchmarks/results.json``
(date, machine, settings and the table), which the book's benchmark page shows. The three variants
of a model run back to back, ``--repeats`` times, and the fastest time of each is kept: on a shared
machine the minimum is the least disturbed measurement. The JSON also holds the process CPU times
and the ratios computed from them, which other processes on the machine disturb less.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baseline import train_baseline  # noqa: E402

try:
    import jax_peer  # noqa: E402
except ImportError:  # the peer is optional
    jax_peer = None

import dynform  # noqa: E402
from dynform.note.settings import stated  # noqa: E402
from dynform.regular.models import MODELS  # noqa: E402

#: Targets of the project: speed-up of dynform's single model and of one ensemble member over the
#: baseline, for every model.
TARGETS = {"single": {key: 5.0 for key in MODELS}, "member": {key: 100.0 for key in MODELS}}


def machine() -> dict:
    """Where the benchmark ran."""
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }


def bench_model(key: str, epochs: int, members: int, repeats: int) -> dict:
    """Time baseline, single model and ensemble (each engine) for model ``key``; fastest of
    ``repeats`` runs each. The autograd rows keep their old names (``single_s``, ...); the numpy
    engine's carry the prefix ``numpy_``."""
    # the training alone, no rounding replicas; "single" and "ensemble" are autograd's
    cfg = stated("spiral", key).with_(epochs=epochs, rounding=0, engine="autograd")
    data = cfg.data()
    t, y = data.t, data.target
    variants = ("baseline", "single", "ensemble", "numpy_single", "numpy_ensemble")
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    dynform.run(cfg.with_(engine="numpy", epochs=2))  # the first numpy run pays for imports
    for _ in range(repeats):
        c0 = time.process_time()
        base_loss, base_s = train_baseline(key, np.array(cfg.y0), t, y, epochs, cfg.lr, cfg.seed)
        c1 = time.process_time()
        times["baseline"].append(base_s)
        cpu["baseline"].append(c1 - c0)
        results = {}
        for name, config in (("single", cfg), ("ensemble", cfg.with_(members=members)),
                             ("numpy_single", cfg.with_(engine="numpy")),
                             ("numpy_ensemble", cfg.with_(engine="numpy", members=members))):
            c0 = time.process_time()
            results[name] = dynform.run(config)
            cpu[name].append(time.process_time() - c0)
            times[name].append(results[name].seconds)
    single, ens, single_np = results["single"], results["ensemble"], results["numpy_single"]
    peer = {}
    if jax_peer is not None:
        single_jax = jax_peer.time_training(key, t, y, epochs, cfg.lr, repeats=repeats)
        member_jax = jax_peer.time_training(key, t, y, epochs, cfg.lr, members=members, repeats=repeats)
        peer = {"jax_single_s": single_jax["steady_s"], "jax_first_call_s": single_jax["first_call_s"],
                "jax_per_member_s": member_jax["steady_s"] / members,
                "jax_ensemble_first_call_s": member_jax["first_call_s"], "jax_loss": single_jax["final_loss"]}
    best = {k: min(v) for k, v in times.items()}
    best_cpu = {k: min(v) for k, v in cpu.items()}
    per_member = best["ensemble"] / members
    return {
        "model": key,
        "baseline_s": best["baseline"],
        "single_s": best["single"],
        "ensemble_s": best["ensemble"],
        "per_member_s": per_member,
        "single_speedup": best["baseline"] / best["single"],
        "member_speedup": best["baseline"] / per_member,
        "baseline_loss": base_loss,
        "single_loss": single.loss,
        "ensemble_member0_loss": float(ens.record.final_loss[0]),
        "member0_vs_single_abs_diff": abs(float(ens.record.final_loss[0]) - single.loss),
        "cpu_single_speedup": best_cpu["baseline"] / best_cpu["single"],
        "cpu_member_speedup": best_cpu["baseline"] / (best_cpu["ensemble"] / members),
        "numpy_single_s": best["numpy_single"],
        "numpy_ensemble_s": best["numpy_ensemble"],
        "numpy_per_member_s": best["numpy_ensemble"] / members,
        "numpy_single_speedup": best["baseline"] / best["numpy_single"],
        "numpy_member_speedup": best["baseline"] / (best["numpy_ensemble"] / members),
        "numpy_cpu_single_speedup": best_cpu["baseline"] / best_cpu["numpy_single"],
        "numpy_cpu_member_speedup": best_cpu["baseline"] / (best_cpu["numpy_ensemble"] / members),
        "numpy_loss": single_np.loss,
        "numpy_vs_autograd_rel_diff": abs(single_np.loss - single.loss) / single.loss,
        "all_times_s": times,
        "all_cpu_s": cpu,
        **peer,
        **({"jax_speedup": best["baseline"] / peer["jax_single_s"],
            "jax_member_speedup": best["baseline"] / peer["jax_per_member_s"],
            "single_vs_jax": best["single"] / peer["jax_single_s"],
            "member_vs_jax": per_member / peer["jax_per_member_s"],
            "numpy_single_vs_jax": best["numpy_single"] / peer["jax_single_s"],
            "numpy_member_vs_jax": best["numpy_ensemble"] / members / peer["jax_per_member_s"]} if peer else {}),
    }


def table(rows: list[dict], members: int) -> str:
    """The result as a fixed-width text table."""
    head = (f"{'model':6} {'baseline':>9} {'single':>8} {'ens/' + str(members):>8} {'/member':>8} "
            f"{'x single':>8} {'x member':>8} {'|dloss|':>8} {'np x1':>7} {'np x/m':>7} {'jax':>8} {'jax/mem':>8} "
            f"{'x jax':>7} {'x jax/m':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        jax = (f" {r['jax_single_s']:7.4f}s {r['jax_per_member_s']:7.5f}s {r['jax_speedup']:7.1f} "
               f"{r['jax_member_speedup']:8.1f}" if "jax_single_s" in r else "  (JAX not installed)")
        lines.append(f"{r['model']:6} {r['baseline_s']:8.3f}s {r['single_s']:7.3f}s {r['ensemble_s']:7.3f}s "
                     f"{r['per_member_s']:7.4f}s {r['single_speedup']:8.1f} {r['member_speedup']:8.1f} "
                     f"{r['member0_vs_single_abs_diff']:8.1e} {r['numpy_single_speedup']:7.1f} "
                     f"{r['numpy_member_speedup']:7.1f}" + jax)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=1000)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for both baseline and dynform (default 1, as the book's build)")
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = []
    for key in args.models:
        rows.append(bench_model(key, args.epochs, args.members, args.repeats))
        print(f"{key}: done", file=sys.stderr, flush=True)
    result = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python benchmarks/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "settings": {"example": "spiral", "seed": 0, "epochs": args.epochs, "members": args.members,
                     "repeats": args.repeats, "statistic": "minimum over repeats"},
        "targets": TARGETS,
        "jax": None if jax_peer is None else {"version": jax_peer.jax.__version__,
                                              "devices": [str(d) for d in jax_peer.jax.devices()]},
        "rows": rows,
        "total_s": time.perf_counter() - start,
    }
    print(table(rows, args.members))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")
    return result


if __name__ == "__main__":
    main()
