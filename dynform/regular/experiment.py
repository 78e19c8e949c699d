"""One way to describe and run a regular-time experiment: :class:`RunConfig` is the only place its
settings are checked; ``config.data()`` makes the training data and ``config.run()`` trains. The
chapters, the CLI and the benchmark all go through it."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

import numpy as np
import torch

from .. import validation as check
from ..validation import setting
from ..devices import device_check, resolve_device
from ..errors import ParameterError
from ..optim import OPTIMIZERS
from ..precision import DTYPES
from ..runcache import shared
from ..solvers import SOLVERS
from ..systems import LinearSystem, get_system
from .backprop import ENGINES
from .data import DATA, SAMPLES, time_grid, training_set
from .models import INITS, MATRIX_MODELS, MODEL_SETTINGS, MODELS, TrajectoryModel, build_model
from .training import LOSSES, TrainResult, train, trajectory_loss

@dataclass(frozen=True)
class RunData:
    """A run's training data in float64: the system, the sample times ``t`` (T,) and the samples,
    ``(T, n)`` for one trajectory, ``(B, T, n)`` for ``B`` series (``RunConfig.samples``), or
    ``(K, B, T, n)`` where each of ``K`` members draws its own random states."""

    system: LinearSystem
    t: np.ndarray
    target: np.ndarray

    @property
    def initial(self) -> np.ndarray:
        """The given initial states, ``(n,)`` or ``(B, n)``."""
        return self.target[..., 0, :]


def _system(name: str, spec: str) -> None:
    """A system name or matrix; a bad matrix is reported under the setting that holds it (the CLI
    reports the cause under ``--A``)."""
    try:
        get_system(spec)
    except ParameterError as err:
        if err.name != "A":
            raise
        raise ParameterError(name, f"matrix {err}") from err


def _state(name: str, y0: tuple[float, ...]) -> None:
    check.require(name, len(y0) == 2 and all(check.is_number(v) and math.isfinite(v) for v in y0),
                  f"must be 2 finite numbers, got {list(y0)}")


@dataclass(frozen=True)
class RunConfig(check.Settings):
    """Settings of one training run; the defaults are the note's stated settings for Example 1.
    Each field carries its check; :meth:`validate` is the only place they run."""

    system: str = setting("spiral", "a name (spiral, center) or a matrix 'a,b;c,d'", _system)
    model: str = setting("nnm", "the model", check.one_of(MODELS))
    y0: tuple[float, ...] = setting((2.0, 0.0), "initial state, e.g. 2,0", _state)
    t0: float = setting(0.0, "first sample time", check.finite)
    t1: float = setting(4.0, "last sample time", check.finite)
    points: int = setting(8, "samples on linspace(t0, t1, points), y0 included", check.at_least(2))
    epochs: int = setting(1000, "maximum number of optimiser steps", check.positive_int)
    lr: float = setting(1e-3, "learning rate", check.positive)
    seed: int = setting(0, "seed of the initial parameters", check.integer)
    tol: float | None = setting(None, "stop when the loss falls below this", check.positive_or_none)
    optimizer: str = setting("algorithm1", "the optimiser", check.one_of(OPTIMIZERS))
    solver: str = setting("rk4", "the ODE solver of the Neural ODE models", check.one_of(SOLVERS))
    substeps: int = setting(1, "RK4 steps per sample interval", check.positive_int)
    data_mode: str = setting("exact", "how the training samples are made", check.one_of(DATA, "data mode"))
    samples: str = setting("trajectory", "what the training set is", check.one_of(SAMPLES, "training set"))
    states: int = setting(8, "random initial states of the random-pairs and random-rollouts sets",
                          check.positive_int)
    box: float = setting(2.0, "random initial states are uniform in [-box, box]^n", check.positive)
    loss: str = setting("norm", "the normalisation of the loss", check.one_of(LOSSES, "loss"))
    hidden: int = setting(50, "hidden width of the MLP models", check.positive_int)
    init: str = setting("normal", "initialisation of the MLP models", check.one_of(INITS, "initialisation"))
    init_std: float = setting(0.1, "standard deviation of the initial weights (init normal)", check.positive)
    device: str = setting("cpu", "cpu, cuda (cuda:N) or auto (a GPU when one is present)", device_check)
    members: int = setting(1, "ensemble size; member k starts from seed + k", check.positive_int)
    dtype: str = setting("float32", "the precision (float32 is the note's, PyTorch's default)",
                         check.one_of(DTYPES))
    init_ulp: int = setting(0, "nudge every initial parameter this many ulps up (rounding studies)",
                            check.at_least(0))
    data_ulp: int = setting(0, "nudge this entry of the predicted training samples one ulp up (0: none)",
                            check.at_least(0))
    rounding: int = setting(4, "rounding replicas trained beside the run, each on data one ulp off",
                            check.at_least(0))
    engine: str = setting("auto", "how gradients are computed", check.one_of(ENGINES, "engine"))

    def check_together(self) -> None:
        check.require("t1", self.t1 > self.t0, f"must be greater than t0={self.t0}, got {self.t1}")
        entries = self.predicted_entries
        check.require("data_ulp", self.data_ulp <= entries,
                      f"must be at most {entries} (the predicted entries), got {self.data_ulp}")
        if self.engine == "numpy":
            check.require("engine", resolve_device(self.device).type == "cpu",
                          f"numpy runs on the cpu, not on device {self.device!r}")
            check.require("engine", "solver" not in MODELS[self.model].reads or self.solver == "rk4",
                          f"numpy integrates with the classic rk4 solver only, got solver {self.solver!r}")

    @property
    def predicted_entries(self) -> int:
        """How many numbers the training set asks the model to predict."""
        n = len(self.y0)
        return {"trajectory": self.points - 1, "pairs": self.points - 1, "random-pairs": self.states,
                "random-rollouts": self.states * (self.points - 1)}[self.samples] * n

    def canonical(self) -> "RunConfig":
        """These settings with the ones this run does not read (another model's, the random states'
        for a set without them) at their defaults: two configs with the same canonical form train
        the same thing."""
        spec = MODELS[self.model]
        unused = [name for name in MODEL_SETTINGS if name not in spec.reads]
        if not self.samples.startswith("random"):
            unused += ["states", "box"]
        return self.with_(**{name: DEFAULTS[name] for name in unused})

    @property
    def torch_dtype(self) -> torch.dtype:
        """The floating-point type of parameters, data and arithmetic."""
        return DTYPES[self.dtype]

    @property
    def dt(self) -> float:
        """Sample spacing (t1 - t0) / (points - 1)."""
        return (self.t1 - self.t0) / (self.points - 1)

    def as_dict(self) -> dict[str, Any]:
        """Plain-Python settings, for JSON and tables."""
        d = asdict(self)
        d["y0"] = list(self.y0)
        return d

    @property
    def drawn(self) -> bool:
        """Whether the training set is drawn at random (``random-pairs``, ``random-rollouts``): then
        member ``k`` draws its own states from seed ``seed + k``, as a run of its own with that seed."""
        return self.samples.startswith("random")

    def data(self, member: int | None = 0) -> RunData:
        """The training data these settings describe (validated first): those of ``member`` (0: the
        run's own seed), or with ``member=None`` every member's, ``(members, B, T, n)`` for a drawn
        training set (:attr:`drawn`) and the one shared set otherwise."""
        self.validate()
        system = get_system(self.system)
        grid = time_grid(self.t0, self.t1, self.points)

        def drawn_from(seed: int) -> tuple[np.ndarray, np.ndarray]:
            return training_set(system, np.array(self.y0), grid, self.samples, self.data_mode, self.substeps,
                                self.states, self.box, seed)

        if member is None and self.drawn:
            sets = [drawn_from(self.seed + k) for k in range(self.members)]
            return RunData(system, sets[0][0], np.stack([target for _, target in sets]))
        t, target = drawn_from(self.seed + (member or 0))
        return RunData(system, t, target)

    def run(self, progress: bool = False) -> "RunResult":
        """Generate the data, build the model, train it (:func:`run`)."""
        return run(self, progress)


#: Every setting's default value, by name.
DEFAULTS = {f.name: f.default for f in fields(RunConfig)}


@dataclass
class RunResult:
    """A trained model with its data and the training record.

    The model holds ``members`` runs and, after them, ``rounding`` groups of replicas: replica group
    ``r`` trains the same members on data whose entry ``r`` is one ulp larger. ``record`` describes the
    members, ``replicas`` the replica groups (arrays with a leading axis of ``rounding``).
    """

    config: RunConfig
    system: LinearSystem
    model: TrajectoryModel
    t: torch.Tensor
    target: torch.Tensor  #: training samples, (T, n), (B, T, n) or (members, B, T, n) (:class:`RunData`)
    record: TrainResult
    replicas: TrainResult | None = None  #: final_loss, iterations (rounding, members); history (steps, rounding, members)
    extra: dict[str, Any] = field(default_factory=dict)

    def matrices(self) -> np.ndarray:
        """Learned matrices of the members, shape ``(members, n, n)``, float64 numpy (matrix models)."""
        return self.model.matrix()[:self.config.members].cpu().double().numpy()

    def replica_matrices(self) -> np.ndarray:
        """Learned matrices of the replicas, shape ``(rounding, members, n, n)``."""
        M = self.model.matrix()[self.config.members:].cpu().double().numpy()
        return M.reshape(self.config.rounding, self.config.members, *M.shape[1:])

    @property
    def loss(self) -> float:
        """Final loss of member 0, as a plain float."""
        return float(self.record.final_loss[0])

    @property
    def iterations(self) -> int:
        return int(self.record.iterations[0])

    @property
    def seconds(self) -> float:
        return float(self.record.seconds)

    def true_matrix(self) -> np.ndarray | None:
        """What the learned matrix approximates (``MODELS[model].approximates``): expm(A dt) for
        ``nnm``, A for ``nodem``; None for the other models."""
        approximates = MODELS[self.config.model].approximates
        return None if approximates is None else approximates(self.system, self.config.dt)

    def matrix(self) -> np.ndarray | None:
        """Learned matrix of member 0 (matrix models), float64 numpy."""
        if self.config.model not in MATRIX_MODELS:
            return None
        return self.matrices()[0]

    def predict(self, y0: np.ndarray, t: np.ndarray, member: int = 0) -> np.ndarray:
        """The prediction of the model's ``member`` (0: the run's first seed; the rounding replicas of
        seed ``k`` are ``k + r * members``) from initial states ``y0`` ``(B, n)`` on ``t``: shape
        ``(B, len(t), n)``."""
        dev, dtype = self.t.device, self.t.dtype
        with torch.no_grad():
            out = self.model(torch.as_tensor(np.atleast_2d(y0), dtype=dtype, device=dev),
                             torch.as_tensor(t, dtype=dtype, device=dev))
        return out[member].cpu().double().numpy()

    def one_step(self, states: np.ndarray, member: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Predicted (by ``member``, as in :meth:`predict`) and exact states one sample step ``dt``
        after each initial state ``(B, n)``."""
        pred = self.predict(states, np.array([0.0, self.config.dt]), member)[:, 1]
        return pred, np.asarray(states) @ self.system.flow_map(self.config.dt).T

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary: model, loss, seconds, iterations and, for matrix models, both matrices."""
        out: dict[str, Any] = {
            "model": self.config.model,
            "system": self.config.system,
            "loss": self.loss,
            "seconds": self.seconds,
            "iterations": self.iterations,
            "settings": self.config.as_dict(),
        }
        if self.config.model in MATRIX_MODELS:
            out["matrix"] = self.matrix().tolist()
            out["true_matrix"] = self.true_matrix().tolist()
            out["max_abs_error"] = float(np.abs(self.matrix() - self.true_matrix()).max())
        return out


@shared
def run(config: RunConfig, progress: bool = False) -> RunResult:
    """Generate the data, build the model, train it; everything from ``config`` (read from the run
    cache of :mod:`dynform.runcache` when that is on)."""
    data = config.data(member=None)
    device = resolve_device(config.device)
    torch.manual_seed(config.seed)
    seeds = [config.seed + k for k in range(config.members)] * (1 + config.rounding)
    model = build_model(config.model, data.system.dim, config.hidden, seeds, config.init_std,
                        config.solver, config.substeps, config.init).to(device=device, dtype=config.torch_dtype)
    nudge_parameters(model, config.init_ulp)
    t = torch.as_tensor(data.t, dtype=config.torch_dtype, device=device)
    target = nudge_sample(torch.as_tensor(data.target, dtype=config.torch_dtype, device=device), config.data_ulp)
    replicated = _with_replicas(target, config.members, config.rounding)
    y0 = (replicated if target.dim() == 4 else target)[..., 0, :]  # every member's own y0 for drawn sets
    record = train(model, y0, t, replicated, config.epochs, config.lr, config.tol, config.optimizer, progress,
                   shown=config.members, loss=config.loss, engine=config.engine)
    main, replicas = _split(record, config.members, config.rounding)
    return RunResult(config, data.system, model, t, target, main, replicas)


def nudge_parameters(model: TrajectoryModel, ulps: int) -> None:
    """Move every parameter of ``model`` ``ulps`` units in the last place up, in place (``init_ulp``)."""
    with torch.no_grad():
        for p in model.parameters():
            for _ in range(ulps):
                p.copy_(_ulp_up(p))


def nudge_sample(target: torch.Tensor, entry: int) -> torch.Tensor:
    """``target`` ``(T, n)``, ``(B, T, n)`` or ``(K, B, T, n)`` with its predicted entry ``entry``
    (1-based, counted as :func:`_predicted_index` counts, in every member's set; 0: none) one ulp up,
    in place (``data_ulp``)."""
    if entry:
        index = _predicted_index(target, entry - 1)
        target[index] = _ulp_up(target[index])
    return target


def _predicted_index(target: torch.Tensor, entry: int) -> tuple:
    """Index of predicted entry ``entry`` (0-based, counted over ``target[..., 1:, :]`` of one
    member's set in C order) of ``target`` ``(T, n)``, ``(B, T, n)`` or, in every member's set,
    ``(K, B, T, n)``."""
    *batch, T, n = target.shape
    b, rest = divmod(entry, (T - 1) * n)
    k, j = divmod(rest, n)
    return {0: (1 + k, j), 1: (b, 1 + k, j)}.get(len(batch), (slice(None), b, 1 + k, j))


def _with_replicas(target: torch.Tensor, members: int, rounding: int) -> torch.Tensor:
    """``target`` ``(T, n)``, ``(B, T, n)`` or ``(members, B, T, n)`` as it is for no replicas, else
    ``(members * (1 + rounding), B, T, n)``: the members' sets, then for each replica group
    ``r = 1..rounding`` copies whose predicted entry ``r`` (:func:`_predicted_index`, cycling) is one
    ulp larger."""
    if not rounding:
        return target
    if target.dim() == 4:
        copies = target.repeat(1 + rounding, 1, 1, 1)
    else:
        series = target if target.dim() == 3 else target.unsqueeze(0)
        copies = series.expand(members * (1 + rounding), *series.shape).clone()
    entries = copies[0, :, 1:].numel()
    for r in range(1, rounding + 1):
        index = (slice(r * members, (r + 1) * members), *_predicted_index(copies[0], (r - 1) % entries))
        copies[index] = _ulp_up(copies[index])
    return copies


def _ulp_up(x: torch.Tensor) -> torch.Tensor:
    """``x`` one unit in the last place larger, entry by entry."""
    return torch.nextafter(x, torch.full_like(x, math.inf))


def _split(record: TrainResult, members: int, rounding: int) -> tuple[TrainResult, TrainResult | None]:
    """The members' record, and the replicas' with a leading replica axis."""
    main = TrainResult(record.history[:, :members], record.final_loss[:members], record.iterations[:members],
                       record.seconds)
    if not rounding:
        return main, None
    shape = (rounding, members)
    return main, TrainResult(record.history[:, members:].reshape(-1, *shape), record.final_loss[members:].reshape(shape),
                             record.iterations[members:].reshape(shape), record.seconds)


def matrix_objective(config: RunConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    """The training loss of the matrix model ``config.model`` (``nnm`` or ``nodem``) as a
    differentiable float64 function of its matrix ``(n, n)``, on the data ``config`` describes
    (grid, initial state, training set, data mode, loss normalisation)."""
    data = config.data()
    check.require("model", config.model in MATRIX_MODELS,
                  f"must be a matrix model ({', '.join(MATRIX_MODELS)}), got {config.model!r}")
    n = data.system.dim
    model = build_model(config.model, n, config.hidden, (config.seed,), config.init_std,
                        config.solver, config.substeps).double()
    target, t = torch.as_tensor(data.target), torch.as_tensor(data.t)

    def loss(M: torch.Tensor) -> torch.Tensor:
        check.require("M", tuple(M.shape) == (n, n) and bool(torch.isfinite(M).all()),
                      f"must be {n}x{n} finite numbers, got shape {tuple(M.shape)}")
        pred = torch.func.functional_call(model, {"g.M": M[None]}, (target[..., 0, :], t))
        return trajectory_loss(pred, target, config.loss)[0]

    return loss


def matrix_loss(config: RunConfig, M: np.ndarray) -> float:
    """The training loss of the matrix model ``config.model`` with its matrix set to ``M`` ``(n, n)``
    (:func:`matrix_objective`), in float64."""
    objective = matrix_objective(config)
    with torch.no_grad():
        return float(objective(torch.as_tensor(np.array(M, dtype=np.float64))))
