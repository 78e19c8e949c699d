"""Layers with one independent copy per ensemble member, shared by both halves of the package.

Every parameter has a leading member axis ``K``; inputs are ``(K, B, features)``. Member ``k`` draws
its initial parameters from its own generator, so a member trains exactly as a single model would.
Two initialisations: the note's Algorithm 1 (:func:`normal_init`: weights N(0, std^2), biases zero)
and PyTorch's ``nn.Linear`` default (:func:`uniform_init`: U(-1/sqrt(in), 1/sqrt(in)) for both).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

#: ``(inputs, outputs, generators) -> (weight (K, out, in), bias (K, out))``
Init = Callable[[int, int, Sequence[torch.Generator]], tuple[torch.Tensor, torch.Tensor]]


def generators(seeds: Sequence[int]) -> list[torch.Generator]:
    """One seeded torch generator per member."""
    return [torch.Generator().manual_seed(int(s)) for s in seeds]


def _uniform(shape: tuple[int, ...], bound: float, gens: Sequence[torch.Generator]) -> torch.Tensor:
    """One U(-bound, bound) draw of ``shape`` per member, each from that member's generator."""
    return torch.stack([(torch.rand(shape, generator=g) * 2 - 1) * bound for g in gens])


def _normal(shape: tuple[int, ...], std: float, gens: Sequence[torch.Generator]) -> torch.Tensor:
    """One N(0, std^2) draw of ``shape`` per member (drawn in float64, stored in float32)."""
    return torch.stack([torch.randn(shape, generator=g, dtype=torch.float64) * std for g in gens]).float()


def uniform_init(inputs: int, outputs: int, gens: Sequence[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
    """PyTorch's default for ``nn.Linear`` and ``nn.GRUCell``: weight, then bias, U(±1/sqrt(inputs))."""
    bound = 1.0 / math.sqrt(inputs)
    return _uniform((outputs, inputs), bound, gens), _uniform((outputs,), bound, gens)


def normal_init(std: float) -> Init:
    """Algorithm 1's initialisation: weights N(0, std^2), biases zero."""
    def init(inputs: int, outputs: int, gens: Sequence[torch.Generator]) -> tuple[torch.Tensor, torch.Tensor]:
        return _normal((outputs, inputs), std, gens), torch.zeros(len(gens), outputs)
    return init


class Linear(nn.Module):
    """``x W^T + b`` per member: ``x`` (K, B, in) -> (K, B, out)."""

    def __init__(self, inputs: int, outputs: int, gens: Sequence[torch.Generator], init: Init = uniform_init) -> None:
        super().__init__()
        weight, bias = init(inputs, outputs, gens)
        self.weight, self.bias = nn.Parameter(weight), nn.Parameter(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.mT)


class MLP(nn.Module):
    """``g(y) = W2 tanh(W1 y + b1) + b2`` with ``width`` hidden units, per member: (K, B, dim) -> (K, B, dim).

    The step map and field of the regular models and the ODE fields of the irregular ones.
    """

    def __init__(self, dim: int, width: int, gens: Sequence[torch.Generator], init: Init = uniform_init) -> None:
        super().__init__()
        W1, b1 = init(dim, width, gens)
        W2, b2 = init(width, dim, gens)
        self.W1, self.b1, self.W2, self.b2 = (nn.Parameter(p) for p in (W1, b1, W2, b2))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.function()(y)

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g`` as a plain closure over the current parameters: cheaper than calling the module inside
        a solver loop, where it runs 4 times per RK4 step."""
        W1t, b1, W2t, b2 = self.W1.mT, self.b1.unsqueeze(1), self.W2.mT, self.b2.unsqueeze(1)
        return lambda y: torch.baddbmm(b2, torch.tanh(torch.baddbmm(b1, y, W1t)), W2t)


class Matrix(nn.Module):
    """``g(y) = M y`` with a learnable square matrix per member, zero at the start: (K, B, n) -> (K, B, n)."""

    def __init__(self, dim: int, members: int) -> None:
        super().__init__()
        self.M = nn.Parameter(torch.zeros(members, dim, dim))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.function()(y)

    def function(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """``g`` as a plain closure over the current matrix."""
        Mt = self.M.mT
        return lambda y: torch.bmm(y, Mt)


class GRUCell(nn.Module):
    """``torch.nn.GRUCell`` (same gates, same initialisation) per member: x (K, B, in), h (K, B, hidden)."""

    def __init__(self, inputs: int, hidden: int, gens: Sequence[torch.Generator]) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(hidden)
        self.weight_ih = nn.Parameter(_uniform((3 * hidden, inputs), bound, gens))
        self.weight_hh = nn.Parameter(_uniform((3 * hidden, hidden), bound, gens))
        self.bias_ih = nn.Parameter(_uniform((3 * hidden,), bound, gens))
        self.bias_hh = nn.Parameter(_uniform((3 * hidden,), bound, gens))

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        gi = torch.baddbmm(self.bias_ih.unsqueeze(1), x, self.weight_ih.mT)
        gh = torch.baddbmm(self.bias_hh.unsqueeze(1), h, self.weight_hh.mT)
        i_r, i_z, i_n = gi.chunk(3, -1)
        h_r, h_z, h_n = gh.chunk(3, -1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        return n + z * (h - n)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters of one member."""
    return sum(p[0].numel() for p in model.parameters() if p.requires_grad)
