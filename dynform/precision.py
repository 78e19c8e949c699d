"""Floating-point precisions a run can train in (``dtype`` of the regular and irregular configs).

float32 is the note's (PyTorch's default); float64 is the other choice. The sensitivity chapter
measures what each carries.
"""
from __future__ import annotations

import torch

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
