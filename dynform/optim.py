"""Optimisers: the note's Algorithm 1 and PyTorch's RMSprop."""
from __future__ import annotations

from typing import Iterable

import torch

from .errors import ParameterError

OPTIMIZERS = ("algorithm1", "torch-rmsprop")


class Algorithm1(torch.optim.Optimizer):
    """RMSprop exactly as the note's Algorithm 1 writes it, elementwise for every parameter:

    ``G <- gamma G + (1 - gamma) g^2``,  ``W <- W - eta g / sqrt(G + eps)``.

    The only difference from ``torch.optim.RMSprop(alpha=gamma)`` is where ``eps`` sits: PyTorch
    divides by ``sqrt(G) + eps``.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, gamma: float = 0.99, eps: float = 1e-8) -> None:
        if not lr > 0:
            raise ParameterError("lr", f"must be positive, got {lr}")
        super().__init__(params, dict(lr=lr, gamma=gamma, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch's signature)
        self.update()

    @torch.no_grad()
    def update(self) -> None:
        """The update of :meth:`step` without torch's optimiser hooks and profiler wrapper, which cost
        more than the update itself for the note's tiny models; :func:`dynform.training.train` calls it
        once per epoch. Parameters without a gradient are skipped, as in :meth:`step`."""
        for group in self.param_groups:
            params, grads, squares = [], [], []
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "G" not in state:
                    state["G"] = torch.zeros_like(p)
                params.append(p)
                grads.append(p.grad)
                squares.append(state["G"])
            if not params:
                continue
            torch._foreach_mul_(squares, group["gamma"])
            torch._foreach_addcmul_(squares, grads, grads, value=1 - group["gamma"])
            denom = torch._foreach_add(squares, group["eps"])
            torch._foreach_sqrt_(denom)
            torch._foreach_addcdiv_(params, grads, denom, value=-group["lr"])


def make_optimizer(name: str, params: Iterable[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """``algorithm1`` (the note's) or ``torch-rmsprop`` (``alpha = 0.99``, ``eps = 1e-8``, as Algorithm 1)."""
    if not lr > 0:
        raise ParameterError("lr", f"must be positive, got {lr}")
    if name == "algorithm1":
        return Algorithm1(params, lr=lr)
    if name == "torch-rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=1e-8)
    raise ParameterError("optimizer", f"unknown optimizer {name!r} (choices: {', '.join(OPTIMIZERS)})")
