"""One irregular-time study as the CLI runs it: a config trained over several seeds and tasks at once,
and its record (settings, test errors in both conventions, date, machine, command) with the trained
parameters, which a chapter can load and evaluate again without retraining."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .. import validation as check
from ..errors import ParameterError
from ..precision import DTYPES
from ..provenance import stamp
from .data import TASKS, IrregularBatch
from .experiment import IrregularConfig, IrregularResult, mean_baseline, run_members
from .presets import PRESETS
from .training import evaluate_both, threads


def _names(option: str, text: str | None, default: Any, kind=str) -> list:
    if text is None:
        return [default]
    try:
        return [kind(x) for x in text.split(",")]
    except ValueError:
        raise ParameterError(option, f"must be comma-separated integers, got {text!r}") from None


def block_means(history: dict[str, np.ndarray], size: int) -> dict[str, list[float]]:
    """Each training term (steps,) averaged over consecutive blocks of ``size`` steps (the last block
    may be shorter)."""
    return {key: [float(v[i:i + size].mean()) for i in range(0, len(v), size)] for key, v in history.items()}


def record(results: Sequence[IrregularResult], command: str) -> dict[str, Any]:
    """The JSON record of members trained together: the first member's settings, each member's
    seed, task and test errors, and the mean predictor's errors on each member's data; with a tracked
    run (``curve``), each member's test MSE along training and its training terms averaged over the
    same blocks of steps."""
    runs = []
    for r in results:
        run = {"seed": r.config.seed, "task": r.config.task, "mse": r.mse, "mse_all": r.mse_all,
               "train_mse": r.train_mse, "mean_predictor": mean_baseline([r], r.config.dataset, r.config.task),
               "mean_predictor_all": mean_baseline([r], r.config.dataset, r.config.task, points="all")}
        if r.curve:
            every = int(r.curve["step"][0])
            run["curve"] = {key: v.tolist() for key, v in r.curve.items()}
            run["history"] = {"every": every, **block_means(r.history, every)}
        runs.append(run)
    return {**stamp(command, results[0].config.device), "settings": asdict(results[0].config),
            "seconds": sum(r.seconds for r in results), "runs": runs}


def run_study(config: IrregularConfig, seeds: str | None = None, tasks: str | None = None, out: str | None = None,
              command: str = "", progress: bool = False, track: int = 0) -> dict[str, Any]:
    """Train ``config`` for every seed and task of the comma-separated lists (defaults: the config's
    own) as members of one model, taking the test MSE every ``track`` steps if ``track > 0``. One
    member returns its summary; several (or a tracked run) return their record. With ``out`` the
    record is written there and the parameters beside it (same name, ``.pt``)."""
    seed_list = _names("seeds", seeds, config.seed, int)
    task_list = check.choices("tasks", _names("tasks", tasks, config.task), TASKS)
    configs = [config.with_(seed=s, task=t) for t in task_list for s in seed_list]
    results = run_members(configs, progress=progress, track=track)
    if len(results) == 1 and out is None and not track:
        return results[0].summary()
    found = record(results, command)
    if out is not None:
        path = Path(out)
        path.write_text(json.dumps(found, indent=1) + "\n")
        torch.save(results[0].model.state_dict(), path.with_suffix(".pt"))
    return found


#: The stored runs took the test MSE every ``TRACK`` steps (``--track``).
TRACK = 100


def blocks(result: IrregularResult, every: int = TRACK) -> dict[str, np.ndarray]:
    """The training terms of ``result`` averaged over blocks of ``every`` steps, with ``step`` (the
    middle of each block): the stored ones for a run read by :func:`load_study`, else from its history."""
    stored = result.extra.get("blocks")
    terms = {k: np.asarray(v) for k, v in stored.items() if k != "every"} if stored else \
        {k: np.asarray(v) for k, v in block_means(result.history, every).items()}
    every = stored["every"] if stored else every
    size = len(next(iter(terms.values())))
    return {"step": every * (np.arange(size) + 0.5), **terms}


def curve_at(curve: dict[str, np.ndarray], step: int) -> float:
    """The tracked test MSE of ``curve`` at ``step``; NaN if that step was not tracked."""
    hit = np.flatnonzero(np.asarray(curve["step"]) == step)
    return float(curve["mse"][hit[0]]) if hit.size else float("nan")


def first_below(curve: dict[str, np.ndarray], level: float) -> float:
    """The first tracked step at which the test MSE of ``curve`` is below ``level``; NaN if none is."""
    below = np.flatnonzero(np.asarray(curve["mse"]) < level)
    return float(curve["step"][below[0]]) if below.size else float("nan")


#: The stored runs of the periodic study at the anchor's scale, one record (``MODEL.json``) and its
#: parameters (``MODEL.pt``) per model, written by ``python -m dynform irregular --preset anchor
#: --model MODEL --seeds 0,1,2 --tasks interp,extrap --track 100 --out dynform/irregular/anchor/MODEL.json``.
STORED = Path(__file__).parent / "anchor"


def load_study(path: str | Path, dtype: str | None = None) -> tuple[dict[str, Any], list[IrregularResult]]:
    """A stored study: its record, and its members rebuilt from the stored parameters and evaluated
    again on their test series (drawn again from their seeds), in ``dtype`` (default: the stored one).
    The training error, the tracked test error (``curve``) and the training terms per block of steps
    (``extra["blocks"]``, see :func:`blocks`) are the stored ones."""
    path = Path(path)
    found = json.loads(path.read_text())
    config = IrregularConfig(**{**found["settings"], "device": "cpu"}).validate()  # tested on the cpu
    if dtype is not None:
        config = config.with_(dtype=dtype)
    configs = [config.with_(seed=r["seed"], task=r["task"]) for r in found["runs"]]
    data = [c.data() for c in configs]
    torch_dtype = DTYPES[config.dtype]
    test = IrregularBatch.stack([d.test for d in data]).to(dtype=torch_dtype)
    with threads(1):
        model = config.build(test.dim, [c.seed for c in configs])
        model.load_state_dict({k: v.to(torch_dtype) for k, v in torch.load(path.with_suffix(".pt")).items()})
        mse, mse_all = evaluate_both(model, test)
    return found, [IrregularResult(c, model, k, d, {}, found["seconds"] / len(configs), float(mse[k]),
                                   run["train_mse"], float(mse_all[k]),
                                   extra={"blocks": run["history"]} if "history" in run else {},
                                   curve={key: np.asarray(v) for key, v in run.get("curve", {}).items()})
                   for k, (c, d, run) in enumerate(zip(configs, data, found["runs"]))]


def stored_runs(models: Sequence[str], dtype: str | None = None,
                folder: str | Path | None = None) -> tuple[dict[str, dict[str, Any]], list[IrregularResult]]:
    """The stored anchor-scale runs of ``models`` in ``folder`` (default :data:`STORED`): their records
    by model, and all their members evaluated again. Each must have been trained at the anchor preset."""
    folder = STORED if folder is None else Path(folder)
    records, results = {}, []
    for model in models:
        path = folder / f"{model}.json"
        if not path.exists():
            raise ParameterError("anchor_runs", f"has no stored run of {model} ({path})")
        records[model], found = load_study(path, dtype)
        anchor = IrregularConfig(**PRESETS["anchor"], model=model, dtype=found[0].config.dtype)
        if any(r.config.with_(seed=anchor.seed, task=anchor.task) != anchor for r in found):
            raise ParameterError("anchor_runs", f"holds a run of {model} with other settings than the anchor preset")
        results += found
    return records, results
