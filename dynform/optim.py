"""Optimisers: the note's Algorithm 1 and PyTorch's RMSprop."""
from __future__ import annotations

from typing import Callable, Iterable

import torch

#: Algorithm 1's constants: the decay of the squared-gradient average and the ε under the root.
GAMMA = 0.99
EPS = 1e-8


class Algorithm1(torch.optim.Optimizer):
    """RMSprop exactly as the note's Algorithm 1 writes it, elementwise for every parameter:

    ``G <- gamma G + (1 - gamma) g^2``,  ``W <- W - eta g / sqrt(G + eps)``.

    The only difference from ``torch.optim.RMSprop(alpha=gamma)`` is where ``eps`` sits: PyTorch
    divides by ``sqrt(G) + eps``.
    """

    def __init__(self, params: Iterable[torch.Tensor], lr: float = 1e-3, gamma: float = GAMMA, eps: float = EPS) -> None:
        super().__init__(params, dict(lr=lr, gamma=gamma, eps=eps))

    @torch.no_grad()
    def step(self, closure=None):  # noqa: D102 (torch's signature)
        self.update()

    @torch.no_grad()
    def update(self) -> None:
        """The update of :meth:`step` without torch's optimiser hooks and profiler wrapper, which cost
        more than the update itself for the note's tiny models; :func:`dynform.regular.training.train` calls it
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


#: name -> builder ``(params, lr) -> optimiser``; ``torch-rmsprop`` uses Algorithm 1's constants.
OPTIMIZERS: dict[str, Callable[[Iterable[torch.Tensor], float], torch.optim.Optimizer]] = {
    "algorithm1": lambda params, lr: Algorithm1(params, lr=lr),
    "torch-rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr, alpha=GAMMA, eps=EPS),
}


def make_optimizer(name: str, params: Iterable[torch.Tensor], lr: float) -> torch.optim.Optimizer:
    """The optimiser ``name`` (a key of :data:`OPTIMIZERS`, validated by the config) over ``params``."""
    return OPTIMIZERS[name](params, lr)
