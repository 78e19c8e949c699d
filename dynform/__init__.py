"""dynform: learning the linear ODE y' = A y from a few samples, as in "Learning dynamic form data".

The regular-time half is re-exported here (``RunConfig``, ``run``, the models and data); the
irregular half is :mod:`dynform.irregular`; the note's material :mod:`dynform.note`; the book's
helpers :mod:`dynform.book`.
"""
from .devices import resolve_device
from .errors import ParameterError, TrainingDiverged
from .layers import parameter_count
from .optim import Algorithm1, make_optimizer
from .regular import (MODELS, RunConfig, RunResult, TrainResult, build_model, initial_state_grid, run,
                      step_pairs, time_grid, train, trajectory, trajectory_loss)
from .solvers import SOLVERS, rk4_amplification, rk4_step, rk4_step_matrix, solve
from .systems import LinearSystem, get_system

__all__ = [
    "Algorithm1", "LinearSystem", "MODELS", "ParameterError", "RunConfig", "RunResult", "SOLVERS", "TrainResult",
    "TrainingDiverged", "build_model", "get_system", "initial_state_grid", "make_optimizer", "parameter_count",
    "resolve_device", "rk4_amplification", "rk4_step", "rk4_step_matrix", "run", "solve", "step_pairs",
    "time_grid", "train", "trajectory", "trajectory_loss",
]
