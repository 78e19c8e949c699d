"""Where training runs: the device names the configs accept, resolved in one place."""
from __future__ import annotations

from typing import Any

import torch

from . import validation as check
from .errors import ParameterError

#: The device names: the CPU, a CUDA GPU (``cuda:N`` picks one), or ``auto`` (a GPU when one is present).
DEVICES = ("cpu", "cuda", "auto")


def resolve_device(name: str) -> torch.device:
    """``cpu``; ``cuda`` (``cuda:N``) when a GPU is present, else a clear error; ``auto``: ``cuda`` when
    a GPU is present, else ``cpu``."""
    if name == "cpu":
        return torch.device("cpu")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(name, str) and name.startswith("cuda"):
        check.require("device", torch.cuda.is_available(),
                      f"{name!r} was asked for but no CUDA GPU is available; use 'cpu' or 'auto'")
        return torch.device(name)
    raise ParameterError("device", f"unknown device {name!r} (choices: {', '.join(DEVICES)})")


def device_check(name: str, value: Any) -> str:
    """The check of a ``device`` setting: a name :func:`resolve_device` accepts."""
    resolve_device(value)
    return value


def device_name(device: torch.device) -> str:
    """The device in words: ``cpu``, or the GPU's name and index (``NVIDIA ... (cuda:0)``)."""
    if device.type != "cuda":
        return device.type
    return f"{torch.cuda.get_device_name(device)} ({device})"
