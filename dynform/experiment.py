"""One way to describe and run a regular-time experiment: the chapters, the CLI and the benchmark
all go through :class:`RunConfig` and :func:`run`."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch

from .data import DATA_MODES, time_grid, trajectory
from .errors import ParameterError
from .models import MATRIX_MODELS, MODEL_NAMES, TrajectoryModel, build_model
from .optim import OPTIMIZERS
from .precision import DTYPES
from .solvers import check_solver
from .systems import LinearSystem, get_system
from .training import TrainResult, train


def resolve_device(name: str) -> torch.device:
    """``cpu``, or ``cuda`` (``cuda:N``) when a GPU is present; a clear error otherwise."""
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError("device", f"{name!r} was asked for but no CUDA GPU is available; use 'cpu'")
        return torch.device(name)
    raise ParameterError("device", f"unknown device {name!r} (choices: cpu, cuda)")


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


@dataclass(frozen=True)
class RunConfig:
    """Settings of one training run; the defaults are the note's stated settings for Example 1."""

    system: str = "spiral"  #: a name (spiral, center) or a matrix "a,b;c,d"
    model: str = "nnm"  #: nn, nnm, node or nodem
    y0: tuple[float, ...] = (2.0, 0.0)
    t0: float = 0.0
    t1: float = 4.0
    points: int = 8  #: samples on linspace(t0, t1, points), y0 included
    epochs: int = 1000  #: maximum number of optimiser steps
    lr: float = 1e-3
    seed: int = 0
    tol: float | None = None  #: stop when the loss falls below tol
    optimizer: str = "algorithm1"
    solver: str = "rk4"  #: for the Neural ODE models
    substeps: int = 1  #: RK4 steps per sample interval
    data: str = "exact"  #: training data from the exact flow or from RK4
    hidden: int = 50
    init_std: float = 0.1
    device: str = "cpu"
    members: int = 1  #: ensemble size; member k starts from seed + k
    dtype: str = "float32"  #: float32 (the note's, PyTorch's default) or float64
    init_ulp: int = 0  #: nudge every initial parameter this many ulps up (rounding-sensitivity studies)
    data_ulp: int = 0  #: nudge entry ``data_ulp`` of the predicted training samples one ulp up (0: none)
    rounding: int = 4  #: replicas trained beside the run, each on data one ulp off: its rounding spread

    def validate(self) -> "RunConfig":
        """Check every field; raise :class:`ParameterError` naming the first bad one. Returns self."""
        if self.model not in MODEL_NAMES:
            raise ParameterError("model", f"unknown model {self.model!r} (choices: {', '.join(MODEL_NAMES)})")
        try:
            get_system(self.system)
        except ParameterError as err:
            if err.name != "A":
                raise
            # a bad matrix is reported under the setting that holds it
            raise ParameterError("system", f"matrix {err}") from None
        y0 = self.y0
        if len(y0) != 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in y0):
            raise ParameterError("y0", f"must be 2 finite numbers, got {list(y0)}")
        for name in ("t0", "t1"):
            if not math.isfinite(getattr(self, name)):
                raise ParameterError(name, f"must be finite, got {getattr(self, name)}")
        if not self.t1 > self.t0:
            raise ParameterError("t1", f"must be greater than t0={self.t0}, got {self.t1}")
        if not _is_int(self.points) or self.points < 2:
            raise ParameterError("points", f"must be an integer >= 2, got {self.points!r}")
        for name in ("epochs", "hidden", "substeps", "members"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ParameterError(name, f"must be a positive integer, got {value!r}")
        if not _is_int(self.seed):
            raise ParameterError("seed", f"must be an integer, got {self.seed!r}")
        for name in ("lr", "init_std"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ParameterError(name, f"must be a positive number, got {value!r}")
        if self.tol is not None and not (isinstance(self.tol, (int, float)) and self.tol > 0):
            raise ParameterError("tol", f"must be a positive number or None, got {self.tol!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ParameterError("optimizer", f"unknown optimizer {self.optimizer!r} (choices: {', '.join(OPTIMIZERS)})")
        check_solver(self.solver)
        if self.data not in DATA_MODES:
            raise ParameterError("data", f"unknown data mode {self.data!r} (choices: {', '.join(DATA_MODES)})")
        resolve_device(self.device)
        if self.dtype not in DTYPES:
            raise ParameterError("dtype", f"unknown dtype {self.dtype!r} (choices: {', '.join(DTYPES)})")
        for name in ("init_ulp", "data_ulp", "rounding"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ParameterError(name, f"must be an integer >= 0, got {value!r}")
        entries = (self.points - 1) * len(self.y0)
        if self.data_ulp > entries:
            raise ParameterError("data_ulp", f"must be at most {entries} (the predicted entries), got {self.data_ulp}")
        return self

    @property
    def torch_dtype(self) -> torch.dtype:
        """The floating-point type of parameters, data and arithmetic."""
        return DTYPES[self.dtype]

    @property
    def dt(self) -> float:
        """Sample spacing (t1 - t0) / (points - 1)."""
        return (self.t1 - self.t0) / (self.points - 1)

    def with_(self, **changes: Any) -> "RunConfig":
        """A copy with some fields changed, validated."""
        return replace(self, **changes).validate()

    def as_dict(self) -> dict[str, Any]:
        """Plain-Python settings, for JSON and tables."""
        d = asdict(self)
        d["y0"] = list(self.y0)
        return d


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
    target: torch.Tensor  #: training trajectory, shape (T, n)
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
        """What the learned matrix approximates: expm(A dt) for ``nnm``, A for ``nodem``."""
        if self.config.model == "nnm":
            return self.system.flow_map(self.config.dt)
        if self.config.model == "nodem":
            return self.system.A.copy()
        return None

    def matrix(self) -> np.ndarray | None:
        """Learned matrix of member 0 (matrix models), float64 numpy."""
        if self.config.model not in MATRIX_MODELS:
            return None
        return self.matrices()[0]

    def predict(self, y0: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Member-0 prediction from initial states ``y0`` ``(B, n)`` on ``t``: shape ``(B, len(t), n)``."""
        dev, dtype = self.t.device, self.t.dtype
        with torch.no_grad():
            out = self.model(torch.as_tensor(np.atleast_2d(y0), dtype=dtype, device=dev),
                             torch.as_tensor(t, dtype=dtype, device=dev))
        return out[0].cpu().double().numpy()

    def one_step(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted and exact states one sample step ``dt`` after each initial state ``(B, n)``."""
        pred = self.predict(states, np.array([0.0, self.config.dt]))[:, 1]
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
        if self.replicas is not None:
            out["loss_tolerance"] = _loss_tolerance(self)
        if self.config.model in MATRIX_MODELS:
            out["matrix"] = self.matrix().tolist()
            out["true_matrix"] = self.true_matrix().tolist()
            out["max_abs_error"] = float(np.abs(self.matrix() - self.true_matrix()).max())
        return out


def run(config: RunConfig, progress: bool = False) -> RunResult:
    """Generate the data, build the model, train it; everything from ``config``."""
    config.validate()
    device = resolve_device(config.device)
    system = get_system(config.system)
    t_np = time_grid(config.t0, config.t1, config.points)
    target_np = trajectory(system, np.array(config.y0), t_np, mode=config.data, substeps=config.substeps)
    torch.manual_seed(config.seed)
    seeds = [config.seed + k for k in range(config.members)] * (1 + config.rounding)
    model = build_model(config.model, system.dim, config.hidden, seeds, config.init_std,
                        config.solver, config.substeps).to(device=device, dtype=config.torch_dtype)
    if config.init_ulp:
        with torch.no_grad():
            for p in model.parameters():
                for _ in range(config.init_ulp):
                    p.copy_(_ulp_up(p))
    t = torch.as_tensor(t_np, dtype=config.torch_dtype, device=device)
    target = torch.as_tensor(target_np, dtype=config.torch_dtype, device=device)
    if config.data_ulp:
        entry = target[1:].reshape(-1)[config.data_ulp - 1:config.data_ulp]
        entry.copy_(_ulp_up(entry))
    y0 = target[0]
    data = _with_replicas(target, config.members, config.rounding)
    record = train(model, y0, t, data, config.epochs, config.lr, config.tol, config.optimizer, progress,
                   shown=config.members)
    main, replicas = _split(record, config.members, config.rounding)
    return RunResult(config, system, model, t, target, main, replicas)


def _loss_tolerance(result: RunResult) -> float:
    """The rounding tolerance of the run's loss (:func:`dynform.sensitivity.loss`)."""
    from .sensitivity import loss

    return loss(result).tol


def _with_replicas(target: torch.Tensor, members: int, rounding: int) -> torch.Tensor:
    """``target`` ``(T, n)`` as it is for no replicas, else ``(members * (1 + rounding), 1, T, n)``: the
    members' copies, then for each replica group ``r = 1..rounding`` copies whose predicted entry
    ``r`` (counted over ``target[1:]``, cycling) is one ulp larger."""
    if not rounding:
        return target
    copies = target.expand(members * (1 + rounding), *target.shape).clone()
    n = target.shape[-1]
    for r in range(1, rounding + 1):
        k, j = divmod((r - 1) % target[1:].numel(), n)
        copies[r * members:(r + 1) * members, 1 + k, j] = _ulp_up(copies[r * members:(r + 1) * members, 1 + k, j])
    return copies.unsqueeze(1)


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
