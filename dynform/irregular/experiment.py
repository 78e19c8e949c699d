"""One way to describe and run an irregular-time experiment: :class:`IrregularConfig` is the only
place its settings are checked; ``config.data()`` draws the data set and ``config.run()`` trains.
Beside it: training several settings as members of one model, the benchmark over models, datasets,
tasks and seeds, and what the chapter reads off it."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from .. import validation as check
from ..validation import setting
from ..devices import device_check, resolve_device
from ..errors import ParameterError
from ..layers import parameter_count
from ..precision import DTYPES
from ..solvers import SOLVERS, resolve
from .batches import SAMPLINGS, step_batches
from .data import DATASETS, TASKS, IrregularBatch, IrregularData, make_dataset
from .gaps import IntervalSolver
from .models import MODELS, IrregularModel, build_model
from .training import OPTIMIZERS, all_but_first, evaluate, evaluate_both, threads, train


@dataclass(frozen=True)
class IrregularConfig(check.Settings):
    """Settings of one irregular-time run: data, task, model and training. Each field carries its
    check; :meth:`validate` is the only place they run."""

    model: str = setting("odernn", "the model", check.one_of(MODELS))
    dataset: str = setting("spiral", "the data set", check.one_of(DATASETS))
    task: str = setting("interp", "the task", check.one_of(TASKS))
    seed: int = setting(0, "draws the data set and the initial parameters", check.integer)
    epochs: int = setting(100, "optimiser steps", check.positive_int)
    optimizer: str = setting("adam", "the optimiser", check.one_of(OPTIMIZERS))
    lr: float = setting(2e-2, "the learning rate", check.positive)
    lr_decay: float = setting(1.0, "factor on the learning rate after every step", check.factor)
    lr_min: float = setting(0.0, "floor of the decaying learning rate", check.non_negative)
    batch: int = setting(0, "series per step (0: all training series, the same every step)", check.non_negative_int)
    sampling: str = setting("pool", "where a step's series come from: the training series, with fresh masks "
                            "('pool'), or new series of the generator ('fresh', needs batch > 0)",
                            check.one_of(SAMPLINGS))
    kl_wait: int = setting(0, "Latent ODE: steps with weight 0 on the KL term", check.non_negative_int)
    kl_period: int = setting(0, "Latent ODE: after kl_wait the KL weight is 1 - 0.99^(steps / kl_period) "
                             "(0: weight 1)", check.non_negative_int)
    hidden: int = setting(16, "GRU state size", check.positive_int)
    width: int = setting(0, "width of the ODE fields' hidden layer (0: twice hidden)", check.non_negative_int)
    latent: int = setting(8, "z dimension of the Latent ODE; state size of the augmented Neural ODE",
                          check.positive_int)
    series: int = setting(48, "series in the data set (train and test)", check.at_least(2))
    points: int = setting(30, "time points per series", check.at_least(4))
    train_frac: float = setting(0.75, "fraction of the series used for training", check.fraction)
    obs_frac: float = setting(0.5, "interpolation: fraction of points (after the first) observed", check.fraction)
    noise: float = setting(0.01, "standard deviation of the observation noise", check.non_negative)
    solver: str = setting("rk4", "the ODE solver", check.one_of(SOLVERS))
    substeps: int = setting(2, "fixed-grid steps per gap", check.positive_int)
    gap_solver: str = setting("", "solver of the ODE-RNN's state across a gap (the ODE-RNN and the Latent "
                              "ODE's encoder), one step per gap; empty: solver and substeps",
                              check.one_of(("",) + tuple(SOLVERS)))
    obs_std: float = setting(0.05, "Latent ODE observation noise s", check.positive)
    dtype: str = setting("float32", "the precision of parameters, data and arithmetic", check.one_of(DTYPES))
    device: str = setting("cpu", "where training runs: cpu, cuda (cuda:N) or auto (a GPU when one is present); "
                          "the trained model is tested on the cpu", device_check, compare=False)

    def check_together(self) -> None:
        n_train = int(round(self.train_frac * self.series))
        check.require("train_frac", 0 < n_train < self.series,
                      f"must leave at least one train and one test series, got {self.train_frac}")
        check.require("batch", self.sampling == "pool" or self.batch > 0,
                      f"must be > 0 with sampling='fresh', got {self.batch}")
        check.require("batch", self.sampling == "fresh" or self.batch <= n_train,
                      f"must be at most the {n_train} training series, got {self.batch}")
        check.require("lr_min", self.lr_min <= self.lr, f"must be at most lr = {self.lr}, got {self.lr_min}")

    @property
    def field_width(self) -> int:
        """The ODE fields' hidden width: ``width``, or twice ``hidden`` when it is 0."""
        return self.width or 2 * self.hidden

    def kl_weight(self, step: int) -> float:
        """The Latent ODE's weight on the KL term at optimiser step ``step`` (from 0): 0 for ``kl_wait``
        steps, then ``1 - 0.99^((step - kl_wait) / kl_period)`` (latent_ode's schedule with
        ``kl_period`` steps to its epoch), or 1 with ``kl_period = 0``."""
        if step < self.kl_wait:
            return 0.0
        return 1.0 if self.kl_period == 0 else 1.0 - 0.99 ** ((step - self.kl_wait) / self.kl_period)

    def build(self, dim: int, seeds: Sequence[int]) -> IrregularModel:
        """The model these settings describe for ``dim``-dimensional data, one member per seed, in
        ``dtype``, on the cpu (its parameters are drawn there, so they are the same on every device)."""
        return build_model(self.model, dim, self.hidden, self.latent, self.field_width, solver=self.solver,
                           substeps=self.substeps, obs_std=self.obs_std, seeds=seeds,
                           gap_solver=self.gap_solver).to(DTYPES[self.dtype])

    def run(self) -> "IrregularResult":
        """Draw the data, build the model from ``seed``, train it single-threaded, test it."""
        return run_members([self])[0]

    def data(self) -> IrregularData:
        """The data set these settings describe (validated first)."""
        self.validate()
        return make_dataset(self.dataset, self.task, self.series, self.points, self.train_frac,
                            self.obs_frac, self.noise, seed=self.seed)


@dataclass
class IrregularResult:
    """One member of a trained model with its data and training record."""

    config: IrregularConfig
    model: IrregularModel  #: the trained model (all members; this result is member ``member``)
    member: int
    data: IrregularData
    history: dict[str, np.ndarray]  #: per optimiser step: ``loss`` and the model's loss parts
    seconds: float  #: wall time of training, shared equally among the members trained together
    mse: float  #: test MSE on the target points of the test series
    train_mse: float  #: MSE on all points (after the first) of the training series
    mse_all: float  #: test MSE on every point of the test series, observed ones included (latent_ode's convention)
    extra: dict[str, Any] = field(default_factory=dict)
    #: with ``track``: the test MSE during training, ``step`` (S,) and both conventions ``mse``, ``mse_all`` (S,)
    curve: dict[str, np.ndarray] = field(default_factory=dict)

    def stacked(self, batch: IrregularBatch) -> IrregularBatch:
        """``batch`` repeated for every member, so that the model can run it."""
        return IrregularBatch.stack([batch] * self.model.members).to(dtype=DTYPES[self.config.dtype])

    def predict(self, batch: IrregularBatch) -> np.ndarray:
        """This member's predictions at every point of ``batch``, shape (B, T, n), float64 numpy."""
        self.model.eval()
        with torch.no_grad(), threads(1):
            return self.model(self.stacked(batch))[self.member].double().numpy()

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: model, dataset, task, mse, seconds and the settings."""
        c = self.config
        return {"model": c.model, "dataset": c.dataset, "task": c.task, "mse": self.mse, "mse_all": self.mse_all,
                "train_mse": self.train_mse,
                "seconds": self.seconds, "parameters": parameter_count(self.model),
                "settings": asdict(c)}


def run_members(configs: Sequence[IrregularConfig], data: Sequence[IrregularData] | None = None,
                progress: bool = False, track: int = 0) -> list[IrregularResult]:
    """Train one model whose member ``k`` has the settings ``configs[k]`` and the data ``data[k]``.

    The settings may differ only in ``seed`` and ``task`` (and so in the data); member ``k`` starts from
    ``configs[k].seed``. Training runs single-threaded on ``device``; the random draws (parameters,
    minibatches, posterior noise) are made on the cpu, so a run on a GPU differs from one on the cpu
    by rounding only. The trained model is moved back to the cpu and tested there. With ``track > 0``
    the test MSE is also taken every ``track`` steps (``curve`` of each result, on ``device``); this
    draws nothing at random, so the training is the same. Returns one result per member.
    """
    check.non_negative_int("track", track)
    first = configs[0].validate()
    for c in configs:
        if replace(c.validate(), seed=first.seed, task=first.task) != first:
            raise ParameterError("configs", "members may differ only in seed and task")
    data = [c.data() for c in configs] if data is None else list(data)
    dtype, device = DTYPES[first.dtype], resolve_device(first.device)
    train_batch = IrregularBatch.stack([d.train for d in data]).to(dtype=dtype)
    test = IrregularBatch.stack([d.test for d in data]).to(dtype=dtype)
    with threads(1):
        model = first.build(train_batch.dim, [c.seed for c in configs]).to(device)
        taken: list[tuple[int, np.ndarray, np.ndarray]] = []
        watched = test.to(device=device)

        def monitor(step: int) -> None:
            if step % track == 0:
                taken.append((step, *evaluate_both(model, watched)))
                model.train()

        history, seconds = train(model, step_batches(configs, data, dtype, device), first.epochs, first.lr,
                                 first.lr_decay, first.lr_min, first.kl_weight, first.optimizer, progress,
                                 monitor if track else None)
        model.cpu()
        mse, mse_all = evaluate_both(model, test)
        train_mse = evaluate(model, train_batch, all_but_first(train_batch))
    steps = np.array([s for s, _, _ in taken], dtype=int)
    curves = [{"step": steps, "mse": np.array([m[k] for _, m, _ in taken]),
               "mse_all": np.array([a[k] for _, _, a in taken])} if taken else {} for k in range(len(configs))]
    return [IrregularResult(c, model, k, d, {key: v[:, k] for key, v in history.items()}, seconds / len(configs),
                            float(mse[k]), float(train_mse[k]), float(mse_all[k]), curve=curves[k])
            for k, (c, d) in enumerate(zip(configs, data))]


def benchmark(config: IrregularConfig, models: Sequence[str] | Mapping[str, int], datasets: Sequence[str],
              tasks: Sequence[str], seeds: Sequence[int], progress: bool = False, track: int = 0) -> list[IrregularResult]:
    """Every model on every dataset, task and seed. One data draw per (dataset, task, seed), shared by
    the models; for each model and dataset the tasks and seeds train together as members of one model
    (with a progress bar per model if ``progress``, the test MSE every ``track`` steps if ``track``).
    ``models`` may map each model to its own number of steps (``epochs``)."""
    steps = dict(models) if isinstance(models, Mapping) else {m: config.epochs for m in models}
    results = []
    for dataset in datasets:
        configs = [config.with_(dataset=dataset, task=task, seed=seed) for task in tasks for seed in seeds]
        data = [c.data() for c in configs]
        for m, epochs in steps.items():
            results += run_members([c.with_(model=m, epochs=epochs) for c in configs], data, progress, track)
    return results


def summarize(results: Sequence[IrregularResult]) -> list[dict[str, Any]]:
    """Mean and standard deviation (ddof 1) over seeds of the test MSE in both conventions (``mse``: the
    held-out points, ``mse_all``: every point), and the mean seconds, per (dataset, task, model)."""
    groups: dict[tuple[str, str, str], list[IrregularResult]] = {}
    for r in results:
        groups.setdefault((r.config.dataset, r.config.task, r.config.model), []).append(r)
    rows = []
    for (dataset, task, model), rs in groups.items():
        row = {"dataset": dataset, "task": task, "model": model, "runs": len(rs),
               "seconds_mean": float(np.mean([r.seconds for r in rs]))}
        for key in ("mse", "mse_all"):
            values = np.array([getattr(r, key) for r in rs])
            row[f"{key}_mean"] = float(values.mean())
            row[f"{key}_sd"] = float(values.std(ddof=1)) if len(rs) > 1 else 0.0
        rows.append(row)
    return rows


def solver_gap(result: IrregularResult, solver: str = "odeint:dopri5", rtol: float = 1e-7, atol: float = 1e-9) -> float:
    """Largest change of the test predictions when the trained model's ODE solves use ``solver``
    (an adaptive torchdiffeq method with tight tolerances by default); 0 for models without an ODE."""
    model = result.model
    if not hasattr(model, "solver"):
        return 0.0
    before = result.predict(result.data.test)
    original = model.solver, getattr(model, "gap_solver", None)
    try:
        model.solver = model.gap_solver = IntervalSolver(resolve(solver, rtol=rtol, atol=atol))
        after = result.predict(result.data.test)
    finally:
        model.solver, model.gap_solver = original
    return float(np.abs(after - before).max())


def latent_summary(result: IrregularResult, series: int = 3, draws: int = 20, seed: int = 0) -> dict[str, Any]:
    """A trained Latent ODE on its first ``series`` test series: ``draws`` decoded posterior samples
    (draws, B, T, n), their mean spread, and the final KL and log-likelihood terms of training."""
    test = result.data.test.subset(slice(0, series))
    with threads(1):
        samples = result.model.sample(result.stacked(test), draws, seed=seed)[:, result.member].double().numpy()
    return {"test": test, "samples": samples, "spread": float(samples.std(0).mean()),
            "kl": float(result.history["kl"][-1]), "loglik": float(result.history["loglik"][-1])}


def ranking(rows: Sequence[dict[str, Any]], dataset: str, task: str) -> list[str]:
    """Models ordered from the lowest to the highest mean test MSE on ``dataset`` and ``task``."""
    chosen = [r for r in rows if r["dataset"] == dataset and r["task"] == task]
    return [r["model"] for r in sorted(chosen, key=lambda r: r["mse_mean"])]


def verdict_decay(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Does the decay RNN beat the plain RNN? Per (dataset, task): the two mean test MSEs, and whether the
    gap exceeds the larger of the two standard deviations. Returns the cases and their counts."""
    by = {(r["dataset"], r["task"], r["model"]): r for r in rows}
    cases = []
    for (dataset, task, model), r in by.items():
        if model != "rnn" or (dataset, task, "rnn-decay") not in by:
            continue
        d = by[(dataset, task, "rnn-decay")]
        gap = r["mse_mean"] - d["mse_mean"]
        cases.append({"dataset": dataset, "task": task, "rnn": r["mse_mean"], "decay": d["mse_mean"],
                      "decay_better": gap > 0, "clear": abs(gap) > max(r["mse_sd"], d["mse_sd"])})
    return {"cases": cases, "better": sum(c["decay_better"] for c in cases),
            "clearly_better": sum(c["decay_better"] and c["clear"] for c in cases),
            "clearly_worse": sum((not c["decay_better"]) and c["clear"] for c in cases), "total": len(cases)}


def mean_baseline(results: Sequence[IrregularResult], dataset: str, task: str, points: str = "target") -> float:
    """The test MSE of predicting every point by the mean of the training values, averaged over the
    seeds of ``results`` on ``dataset`` and ``task`` (one data draw per seed): the scale a model must beat
    to have learnt more than an average curve. ``points`` is ``"target"`` (the held-out points) or
    ``"all"`` (every point, latent_ode's convention)."""
    draws = {r.config.seed: r.data for r in results if (r.config.dataset, r.config.task) == (dataset, task)}
    errs = []
    for d in draws.values():
        m = (d.test.target if points == "target" else torch.ones_like(d.test.target)).unsqueeze(-1).double()
        errs.append(float((((d.test.y.double() - d.train.y.double().mean()) ** 2) * m).sum() / (m.sum() * d.test.dim)))
    return float(np.mean(errs))
