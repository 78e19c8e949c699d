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


def targets_met(row: Mapping[str, Any], targets: Mapping[str, Mapping[str, float]]) -> bool:
    """Whether one model's row reaches its speed-up targets: the single-model target where the model
    has one, and the per-member target."""
    single, member = targets["single"].get(row["model"]), targets["member"][row["model"]]
    return (single is None or row["single_speedup"] >= single) and row["member_speedup"] >= member
