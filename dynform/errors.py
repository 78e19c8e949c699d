"""Errors that name what went wrong, for chapters, the CLI and the library alike."""
from __future__ import annotations


class ParameterError(ValueError):
    """A bad setting; the message starts with the parameter's name."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        super().__init__(f"{name}: {problem}")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite during training."""
