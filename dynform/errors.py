"""Errors that name what went wrong, for chapters, the CLI and the library alike."""
from __future__ import annotations

from typing import Sequence


class ParameterError(ValueError):
    """A bad setting; the message starts with the parameter's name."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training."""


def diverged(losses: float | Sequence[float], epoch: int, lr: float) -> TrainingDiverged:
    """The error every training loop raises when the loss (a number, or a list with one per member
    shown) stops being finite at ``epoch``."""
    return TrainingDiverged(f"training diverged: the loss became {losses} at epoch {epoch}; "
                            f"try a smaller lr (was {lr})")
