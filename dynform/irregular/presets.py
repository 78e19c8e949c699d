"""Settings of the periodic-set study at two scales: the chapter's ``scale`` and the CLI's ``--preset``.

``anchor`` is the protocol of the public ``latent_ode`` code (Rubanova, Chen & Duvenaud, 2019) for its
periodic toy set, as far as this package's models express it; ``build`` is the same protocol, the same
data and the same minibatches, stopped after far fewer steps to fit the whole book's build on two
cores: a build run is the first steps of the anchor-scale run of the same model and seeds. What the
anchor protocol differs in from latent_ode's code is listed in :data:`DIFFERENCES`.
"""
from __future__ import annotations

import math
from typing import Any

#: The anchor: 1000 series of 100 points, 80% training, batches of 50 (16 per epoch) for 500 epochs,
#: Adamax at 1e-2 times 0.999 per step down to 1e-3, KL weight 0 for 10 epochs, then
#: 1 - 0.99^epoch, GRU state 20, latent 10, ODE fields 100 wide, one Euler step per encoder gap.
ANCHOR: dict[str, Any] = {
    "dataset": "periodic", "series": 1000, "points": 100, "train_frac": 0.8, "obs_frac": 0.5, "noise": 0.01,
    "batch": 50, "sampling": "pool", "epochs": 500 * 16, "optimizer": "adamax", "lr": 1e-2, "lr_decay": 0.999,
    "lr_min": 1e-3, "kl_wait": 10 * 16, "kl_period": 16, "hidden": 20, "latent": 10, "width": 100,
    "solver": "rk4", "substeps": 1, "gap_solver": "euler",
    # latent_ode averages the log-likelihood over the N points and the KL term over the L latent
    # dimensions, with s = 0.01; the package sums both, which weighs them alike when
    # s = 0.01 * sqrt(N / L).
    "obs_std": 0.01 * math.sqrt(100 / 10),
    "device": "auto",  # a GPU when one is present; the trained model is tested on the cpu
}

#: Scales by name.
PRESETS: dict[str, dict[str, Any]] = {
    "anchor": ANCHOR,
    "build": {**ANCHOR, "epochs": 100, "device": "cpu"},  # the cpu: its rounding tolerances are measured there
}

#: How the package's run of the anchor protocol differs from latent_ode's own.
DIFFERENCES: tuple[str, ...] = (
    "observation noise N(0, 0.01^2) on every point, where latent_ode adds U[0, 0.01) to every point but the first",
    "ODE fields with one hidden layer of `width` tanh units (latent_ode: two)",
    "a GRU cell of PyTorch's form (latent_ode: gates that are small MLPs of 100 units, and a state standard deviation)",
    "the posterior's mean and standard deviation a linear map of the encoder's state, the standard deviation "
    "through a softplus (latent_ode: an MLP of 100 units, and the absolute value)",
    "an RNN encoder that reads the observed points only, each with the time to the one it read before "
    "(latent_ode's reads every point with its mask and the gap)",
    "one posterior sample per series (latent_ode: 3, combined IWAE-style)",
    "classic RK4, one step per gap, in the decoder (latent_ode: dopri5 at rtol 1e-3, atol 1e-4)",
    "the log-likelihood summed over points with s = 0.01 sqrt(N / L) (latent_ode: averaged, with s = 0.01)",
)
