"""The note's hand-derived gradients (section 5.1), corrected, extended through time, and a training
loop that uses only them and Algorithm 1 -- float64 numpy throughout, no autograd.

The MLP step map is ``yhat(t) = W2 tanh(W1 yhat(t-1) + b1) + b2`` with ``W1`` ``(H, n)``, ``b1``
``(H,)``, ``W2`` ``(n, H)``, ``b2`` ``(n,)``; parameters travel as a dict with these four keys.

* :func:`scalar_gradients` and :func:`vector_gradients` are the note's formulas, which treat
  ``yhat(t-1)`` as a constant input; ``form`` selects the note's printed version or the corrected one.
* :func:`trajectory_gradients` is the full gradient of the multi-step trajectory loss (the loss the
  models are trained on), by backpropagation through time; ``through_time=False`` gives the note's
  one-step formula summed over the trajectory.
* :func:`algorithm1_step` and :func:`hand_train` are Algorithm 1 and a training loop built on them.
* :func:`autograd_one_step`, :func:`autograd_trajectory_gradients` and :func:`autograd_train` are the
  references: the same quantities from the book's own ``nn`` model, cast to float64, through autograd.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from .. import validation as check
from ..errors import ParameterError, diverged
from ..optim import EPS, GAMMA
from ..regular.models import TrajectoryModel, build_model
from ..regular.training import train, trajectory_loss

Params = dict[str, np.ndarray]
#: Parameter names in the order the note lists them.
NAMES = ("W1", "b1", "W2", "b2")
#: ``printed``: the formulas as the note prints them; ``corrected``: the true gradients of its loss.
FORMS = ("printed", "corrected")


def _check_params(params: Mapping[str, np.ndarray]) -> Params:
    missing = [k for k in NAMES if k not in params]
    if missing:
        raise ParameterError("params", f"missing {missing}; expected the keys {list(NAMES)}")
    p = {k: np.asarray(params[k], dtype=np.float64) for k in NAMES}
    H, n = p["W1"].shape if p["W1"].ndim == 2 else (-1, -1)
    if p["W1"].ndim != 2 or p["b1"].shape != (H,) or p["W2"].shape != (n, H) or p["b2"].shape != (n,):
        raise ParameterError("params", "expected W1 (H, n), b1 (H,), W2 (n, H), b2 (n,), got "
                             + ", ".join(f"{k} {p[k].shape}" for k in NAMES))
    return p


def random_parameters(dim: int, hidden: int, seed: int, scale: float = 1.0) -> Params:
    """Random float64 parameters, every entry N(0, scale^2), for gradient checks."""
    rng = np.random.default_rng(seed)
    return {"W1": scale * rng.standard_normal((hidden, dim)), "b1": scale * rng.standard_normal(hidden),
            "W2": scale * rng.standard_normal((dim, hidden)), "b2": scale * rng.standard_normal(dim)}


def step(params: Mapping[str, np.ndarray], y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One application of the step map to the rows of ``y`` ``(M, n)``: ``(yhat, h)`` with
    ``h = tanh(W1 y + b1)`` ``(M, H)`` and ``yhat = W2 h + b2`` ``(M, n)``."""
    p = _check_params(params)
    h = np.tanh(y @ p["W1"].T + p["b1"])
    return h @ p["W2"].T + p["b2"], h


def step_jacobian(params: Mapping[str, np.ndarray], y: np.ndarray) -> np.ndarray:
    """Jacobians ``d yhat / d y = W2 diag(1 - h^2) W1`` of one step at the rows of ``y``: ``(M, n, n)``.
    Backpropagation through time multiplies the adjoint by their transposes."""
    p = _check_params(params)
    _, h = step(p, np.atleast_2d(np.asarray(y, dtype=np.float64)))
    return np.einsum("ij,mj,jk->mik", p["W2"], 1.0 - h**2, p["W1"])


def scalar_gradients(W1: float, b1: float, W2: float, b2: float, x: float, y: float,
                     form: str = "corrected") -> dict[str, float]:
    """The note's four gradients of ``L = (y - yhat)^2`` for the scalar network
    ``yhat = W2 tanh(W1 x + b1) + b2``, ``x = yhat(t-1)`` held fixed, written as the note writes them.

    ``form="printed"`` uses the note's ``dL/dyhat = 2 (y - yhat)``; ``"corrected"`` uses
    ``-2 (y - yhat)``. Everything after that factor is the same chain rule.
    """
    h = np.tanh(W1 * x + b1)
    yhat = W2 * h + b2
    dL_dyhat = (2.0 if check.choice("form", form, FORMS) == "printed" else -2.0) * (y - yhat)
    return {
        "W1": float(dL_dyhat * W2 * (1.0 - h**2) * x),
        "b1": float(dL_dyhat * W2 * (1.0 - h**2)),
        "W2": float(dL_dyhat * h),
        "b2": float(dL_dyhat),
    }


def vector_gradients(params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray,
                     form: str = "corrected") -> Params:
    """The note's gradients for the vector network on ``M`` one-step samples: inputs ``x``
    (the rows ``yhat(t-1)``, held fixed) and targets ``y``, both ``(M, n)``.

    The note prints ``grad_W2 = 2 sum_i (yhat_i - y_i) tanh(W1 x_i + b1)^T``,
    ``grad_b2 = 2 sum_i (yhat_i - y_i)``, ``grad_W1 = 2 sum_i [(W2^T (yhat_i - y_i)) * (1 - h_i^2)] x_i^T``
    and ``grad_b1 = 2 sum_i (W2^T (yhat_i - y_i)) * (1 - h_i^2)`` (``*`` elementwise). Its sign is
    right here; ``form="printed"`` keeps its sum, which is the gradient of ``M`` times the loss
    ``L = (1/M) sum_i |y_i - yhat_i|^2``, and ``"corrected"`` divides by ``M``.
    """
    p = _check_params(params)
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    if x.shape != y.shape or x.shape[1] != p["W1"].shape[1]:
        raise ParameterError("y", f"x and y must both be (M, {p['W1'].shape[1]}), got {x.shape} and {y.shape}")
    yhat, h = step(p, x)
    scale = 2.0 if check.choice("form", form, FORMS) == "printed" else 2.0 / len(x)
    r = scale * (yhat - y)  # dL/dyhat_i, one row per sample
    delta = (r @ p["W2"]) * (1.0 - h**2)  # W2^T r_i, times tanh'
    return {"W1": delta.T @ x, "b1": delta.sum(0), "W2": r.T @ h, "b2": r.sum(0)}


def _trajectory_inputs(params: Params, y0: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y0 = np.asarray(y0, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if target.ndim == 2:
        target = target[None]
    y0 = np.broadcast_to(y0, (target.shape[0], target.shape[2])) if y0.ndim == 1 else y0
    n = params["W1"].shape[1]
    if target.ndim != 3 or target.shape[1] < 2 or target.shape[2] != n or y0.shape != (target.shape[0], n):
        raise ParameterError("target", f"expected (T, {n}) or (B, T, {n}) with T >= 2 and y0 (n,) or (B, n), "
                             f"got target {target.shape} and y0 {y0.shape}")
    return y0, target


def rollout(params: Mapping[str, np.ndarray], y0: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """States ``(B, steps + 1, n)`` from ``y0`` ``(B, n)`` and hidden activations ``(B, steps, H)``."""
    p = _check_params(params)
    states, hidden = [np.atleast_2d(np.asarray(y0, dtype=np.float64))], []
    for _ in range(steps):
        y, h = step(p, states[-1])
        states.append(y)
        hidden.append(h)
    return np.stack(states, 1), np.stack(hidden, 1)


def trajectory_loss_np(params: Mapping[str, np.ndarray], y0: np.ndarray, target: np.ndarray) -> float:
    """``dynform.regular.training.trajectory_loss`` in numpy: mean over the ``N = T - 1`` predicted samples (and
    the ``B`` trajectories) of the squared Euclidean error."""
    p = _check_params(params)
    y0, target = _trajectory_inputs(p, y0, target)
    Y, _ = rollout(p, y0, target.shape[1] - 1)
    return float(((Y[:, 1:] - target[:, 1:]) ** 2).sum(-1).mean())


def trajectory_gradients(params: Mapping[str, np.ndarray], y0: np.ndarray, target: np.ndarray,
                         through_time: bool = True) -> tuple[float, Params]:
    """Loss and gradient of the trajectory loss of the step map started at ``y0``.

    With ``N = T - 1`` and ``r_k = (2 / (B N)) (yhat_k - y_k)``, the adjoint ``a_k = dL/dyhat_k`` obeys

        ``a_N = r_N``,  ``a_k = r_k + W1^T delta_{k+1}``,  ``delta_k = (1 - h_k^2) * (W2^T a_k)``,

    and the gradients are ``sum_k a_k h_k^T`` (W2), ``sum_k a_k`` (b2), ``sum_k delta_k yhat_{k-1}^T``
    (W1), ``sum_k delta_k`` (b1). ``through_time=False`` drops the ``W1^T delta_{k+1}`` term: that is
    the note's one-step formula, which treats each ``yhat_{k-1}`` as a constant input.
    ``target`` is ``(T, n)`` or ``(B, T, n)``; ``y0`` is ``(n,)`` or ``(B, n)``.
    """
    p = _check_params(params)
    y0, target = _trajectory_inputs(p, y0, target)
    B, T, _ = target.shape
    N = T - 1
    Y, Hs = rollout(p, y0, N)
    err = Y[:, 1:] - target[:, 1:]
    loss = float((err**2).sum(-1).mean())
    r = 2.0 / (B * N) * err
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    back = np.zeros_like(y0)  # W1^T delta_{k+1}: what flows into yhat_k from the later steps
    for k in range(N, 0, -1):
        a = r[:, k - 1] + back
        h = Hs[:, k - 1]
        delta = (a @ p["W2"]) * (1.0 - h**2)
        grads["W2"] += a.T @ h
        grads["b2"] += a.sum(0)
        grads["W1"] += delta.T @ Y[:, k - 1]
        grads["b1"] += delta.sum(0)
        back = delta @ p["W1"] if through_time else np.zeros_like(back)
    return loss, grads


def algorithm1_step(params: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray],
                    G: Mapping[str, np.ndarray], lr: float = 1e-3, gamma: float = GAMMA, eps: float = EPS,
                    eps_inside: bool = True) -> tuple[Params, Params]:
    """One step of Algorithm 1 on every parameter: ``G <- gamma G + (1 - gamma) g^2`` and
    ``W <- W - lr g / sqrt(G + eps)``. ``eps_inside=False`` divides by ``sqrt(G) + eps`` instead, as
    ``torch.optim.RMSprop`` does. Returns new ``(params, G)``; the inputs are left unchanged."""
    check.require("lr", lr > 0, f"must be positive, got {lr}")
    new_G = {k: gamma * G[k] + (1.0 - gamma) * grads[k] ** 2 for k in params}
    denom = {k: np.sqrt(new_G[k] + eps) if eps_inside else np.sqrt(new_G[k]) + eps for k in params}
    return {k: params[k] - lr * grads[k] / denom[k] for k in params}, new_G


def hand_train(params: Mapping[str, np.ndarray], y0: np.ndarray, target: np.ndarray, epochs: int,
               lr: float = 1e-3, gamma: float = GAMMA, eps: float = EPS,
               through_time: bool = True) -> tuple[Params, np.ndarray, float]:
    """Full-batch training with :func:`trajectory_gradients` and :func:`algorithm1_step` only, the loop
    of ``dynform.regular.training.train``: returns the trained parameters, the loss before each step ``(epochs,)``
    and the final loss."""
    check.positive_int("epochs", epochs)
    check.require("lr", lr > 0, f"must be positive, got {lr}")
    p = _check_params(params)
    G = {k: np.zeros_like(v) for k, v in p.items()}
    history = np.empty(epochs)
    for epoch in range(epochs):
        history[epoch], grads = trajectory_gradients(p, y0, target, through_time)
        if not np.isfinite(history[epoch]):
            raise diverged(history[epoch], epoch + 1, lr)
        p, G = algorithm1_step(p, grads, G, lr, gamma, eps)
    return p, history, trajectory_loss_np(p, y0, target)


# --- autograd references: the book's own ``nn`` model in float64 -------------------------------------


def mlp_parameters(model: TrajectoryModel, member: int = 0) -> Params:
    """Float64 numpy copies of one member's ``W1, b1, W2, b2`` (models ``nn`` and ``node``)."""
    return {k: getattr(model.g, k)[member].detach().cpu().double().numpy().copy() for k in NAMES}


def float64_model(params: Mapping[str, np.ndarray]) -> TrajectoryModel:
    """The ``nn`` step-map model of :func:`dynform.build_model`, cast to float64, holding ``params``."""
    p = _check_params(params)
    H, n = p["W1"].shape
    model = build_model("nn", dim=n, hidden=H).double()
    with torch.no_grad():
        for k in NAMES:
            getattr(model.g, k).copy_(torch.as_tensor(p[k])[None])
    return model


def _grads_of(model: TrajectoryModel, loss: torch.Tensor) -> Params:
    model.zero_grad(set_to_none=True)
    loss.sum().backward()
    return {k: getattr(model.g, k).grad[0].numpy().copy() for k in NAMES}


def autograd_one_step(params: Mapping[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> Params:
    """Autograd gradient of ``(1/M) sum_i |y_i - g(x_i)|^2`` with the inputs ``x`` ``(M, n)`` held fixed."""
    model = float64_model(params)
    x = torch.as_tensor(np.atleast_2d(x), dtype=torch.float64)[None]
    y = torch.as_tensor(np.atleast_2d(y), dtype=torch.float64)[None]
    loss = (model.g(x) - y).pow(2).sum(-1).mean(-1)
    return _grads_of(model, loss)


def autograd_trajectory_gradients(params: Mapping[str, np.ndarray], y0: np.ndarray,
                                  target: np.ndarray) -> tuple[float, Params]:
    """Loss and autograd gradient of ``dynform.regular.training.trajectory_loss`` for the float64 ``nn`` model."""
    p = _check_params(params)
    y0_np, target_np = _trajectory_inputs(p, y0, target)
    model = float64_model(p)
    t = torch.arange(target_np.shape[1], dtype=torch.float64)
    pred = model(torch.tensor(y0_np), t)
    loss = trajectory_loss(pred, torch.tensor(target_np))
    return float(loss[0].detach()), _grads_of(model, loss)


def autograd_train(params: Mapping[str, np.ndarray], y0: np.ndarray, target: np.ndarray, epochs: int,
                   lr: float = 1e-3) -> tuple[Params, np.ndarray, float]:
    """The reference for :func:`hand_train`: ``dynform.regular.training.train`` (autograd + Algorithm 1) on the
    float64 ``nn`` model. Same returns as :func:`hand_train`."""
    p = _check_params(params)
    y0_np, target_np = _trajectory_inputs(p, y0, target)
    model = float64_model(p)
    t = torch.arange(target_np.shape[1], dtype=torch.float64)
    record = train(model, torch.tensor(y0_np), t, torch.tensor(target_np), epochs, lr, engine="autograd")
    return mlp_parameters(model), record.history[:, 0], float(record.final_loss[0])


def history_summary(history: np.ndarray, tail: float = 0.5) -> dict[str, float]:
    """Numbers that describe a loss curve which need not settle: the last value, the smallest, and the
    geometric mean over the last ``tail`` fraction of the steps."""
    h = np.asarray(history, dtype=np.float64).ravel()
    if not 0 < tail <= 1:
        raise ParameterError("tail", f"must be in (0, 1], got {tail}")
    last = h[-max(1, int(round(tail * len(h)))):]
    return {"final": float(h[-1]), "min": float(h.min()), "tail_geomean": float(np.exp(np.log(last).mean()))}


def max_abs_difference(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> float:
    """Largest absolute entry difference between two gradient (or parameter) dicts."""
    return max(float(np.max(np.abs(np.asarray(a[k]) - np.asarray(b[k])))) for k in NAMES)


def flat(grads: Mapping[str, np.ndarray]) -> np.ndarray:
    """All entries of a gradient dict as one vector, in the order of :data:`NAMES`."""
    return np.concatenate([np.ravel(grads[k]) for k in NAMES])
