"""Reading the committed benchmark (``benchmarks/results.json``) for the benchmark chapter."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from .. import validation as check


def load(path: Path, name: str = "results_file") -> dict[str, Any]:
    """The JSON file at ``path``; a missing file is a bad setting ``name``."""
    check.require(name, path.is_file(), f"no such file: {path}")
    return json.loads(path.read_text())


#: The engines the benchmark times, and the prefix of their columns in ``results.json``.
ENGINE_COLUMNS = {"autograd": "", "numpy": "numpy_"}


def targets_met(row: Mapping[str, Any], targets: Mapping[str, Mapping[str, float]], engine: str = "autograd") -> bool:
    """Whether one model's row reaches its speed-up targets with ``engine`` (a key of
    :data:`ENGINE_COLUMNS`): the single-model target where the model has one, and the per-member
    target."""
    prefix = ENGINE_COLUMNS[check.choice("engine", engine, ENGINE_COLUMNS)]
    single, member = targets["single"].get(row["model"]), targets["member"][row["model"]]
    return ((single is None or row[f"{prefix}single_speedup"] >= single)
            and row[f"{prefix}member_speedup"] >= member)


def has_peer(bench: Mapping[str, Any]) -> bool:
    """Whether the benchmark timed the JIT peer (JAX was installed)."""
    return bool(bench.get("jax")) and all("jax_single_s" in r for r in bench["rows"])


def chapter_times(cache: Path) -> dict[str, float]:
    """Execution seconds of each chapter of this build, from the book's jupyter-cache (written by
    :mod:`dynform.book.execute`); empty when the chapters were not executed into it."""
    if not (cache / "global.db").is_file():
        return {}
    from jupyter_cache import get_cache

    records = get_cache(str(cache)).list_cache_records()
    return {Path(r.uri).stem: float(r.data["execution_seconds"]) for r in records
            if "execution_seconds" in (r.data or {})}
