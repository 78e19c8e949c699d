"""dynform: learning the linear ODE y' = A y from a few samples, as in "Learning dynamic form data"."""
from .data import initial_state_grid, step_pairs, time_grid, trajectory
from .errors import ParameterError, TrainingDiverged
from .experiment import RunConfig, RunResult, resolve_device, run
from .models import MODEL_NAMES, build_model, parameter_count
from .optim import Algorithm1, make_optimizer
from .solvers import rk4_amplification, rk4_step, rk4_step_matrix, solve
from .systems import LinearSystem, get_system
from .training import TrainResult, train, trajectory_loss

__all__ = [
    "Algorithm1", "LinearSystem", "MODEL_NAMES", "ParameterError", "RunConfig", "RunResult",
    "TrainResult", "TrainingDiverged", "build_model", "get_system", "initial_state_grid",
    "make_optimizer", "parameter_count", "resolve_device", "rk4_amplification", "rk4_step",
    "rk4_step_matrix", "run", "solve", "step_pairs", "time_grid", "train", "trajectory",
    "trajectory_loss",
]
