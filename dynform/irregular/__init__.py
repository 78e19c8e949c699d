"""Irregular-time half (the note's section 4): data, models, training, experiment."""
from .data import DATASETS, TASKS, WINDOWS, IrregularBatch, IrregularData, make_dataset
from .experiment import IrregularConfig, IrregularResult, benchmark, run_members, summarize
from .models import MODELS, ODE_MODELS, TITLES, IrregularModel, build_model
from .training import train

__all__ = ["DATASETS", "IrregularBatch", "IrregularConfig", "IrregularData", "IrregularModel", "IrregularResult",
           "MODELS", "ODE_MODELS", "TASKS", "TITLES", "WINDOWS", "benchmark", "build_model", "make_dataset",
           "run_members", "summarize", "train"]
