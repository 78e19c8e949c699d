"""The comparison point of the benchmark: the four models trained the way torchdiffeq's ``ode_demo``
trains its example.

Each model is an ``nn.Module`` field or map built from ``nn.Linear`` layers; the Neural ODE models call
``torchdiffeq.odeint(func, y0, t, method='rk4')`` every epoch, the step maps apply the module once per
sample interval in a Python loop; the optimiser is ``torch.optim.RMSprop`` and one model is trained at
a time. Initialisation and loss are the note's (weights N(0, 0.1^2), zero biases and matrices; mean
squared Euclidean error over the predicted samples), so the work per epoch is the same as dynform's.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torchdiffeq
from torch import nn


class ODEFunc(nn.Module):
    """``ode_demo``'s field: ``Linear(2, 50) -> Tanh -> Linear(50, 2)``, or one bias-free ``Linear(2, 2)``."""

    def __init__(self, matrix: bool, hidden: int = 50, init_std: float = 0.1) -> None:
        super().__init__()
        if matrix:
            self.net = nn.Linear(2, 2, bias=False)
            nn.init.zeros_(self.net.weight)
        else:
            self.net = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2))
            for m in self.net.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, mean=0, std=init_std)
                    nn.init.constant_(m.bias, val=0)

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


def predict(kind: str, func: ODEFunc, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Trajectory on ``t`` from ``y0``: ``odeint`` for ``node``/``nodem``, repeated steps for ``nn``/``nnm``."""
    if kind in ("node", "nodem"):
        return torchdiffeq.odeint(func, y0, t, method="rk4")
    states = [y0]
    for _ in range(len(t) - 1):
        states.append(func(t[0], states[-1]))
    return torch.stack(states)


def train_baseline(kind: str, y0: np.ndarray, t: np.ndarray, target: np.ndarray, epochs: int,
                   lr: float = 1e-3, seed: int = 0) -> tuple[float, float]:
    """Train one ``kind`` model on one trajectory; returns ``(final loss, seconds)``."""
    torch.manual_seed(seed)
    func = ODEFunc(matrix=kind in ("nnm", "nodem"))
    y0_t = torch.as_tensor(y0, dtype=torch.float32)
    t_t = torch.as_tensor(t, dtype=torch.float32)
    true_y = torch.as_tensor(target, dtype=torch.float32)
    optimizer = torch.optim.RMSprop(func.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(epochs):
        optimizer.zero_grad()
        pred_y = predict(kind, func, y0_t, t_t)
        loss = (pred_y[1:] - true_y[1:]).pow(2).sum(-1).mean()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        final = float((predict(kind, func, y0_t, t_t)[1:] - true_y[1:]).pow(2).sum(-1).mean())
    return final, time.perf_counter() - start
