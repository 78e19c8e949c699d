"""Regular-time half (the note's sections 2 and 3): data, models, training, experiment."""
from .data import DATA, initial_state_grid, step_pairs, time_grid, trajectory
from .experiment import RunConfig, RunData, RunResult, run
from .models import MATRIX_MODELS, MODELS, TrajectoryModel, build_model
from .training import TrainResult, train, trajectory_loss

__all__ = ["DATA", "MATRIX_MODELS", "MODELS", "RunConfig", "RunData", "RunResult", "TrainResult", "TrajectoryModel",
           "build_model", "initial_state_grid", "run", "step_pairs", "time_grid", "train",
           "trajectory", "trajectory_loss"]
