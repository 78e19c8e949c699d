"""The JIT peer of the benchmark: the four models trained in JAX, the whole training loop compiled once.

Same mathematics as dynform: the MLP ``W2 tanh(W1 y + b1) + b2`` (width 50) or the matrix ``M y`` as
step map or as the field of classic RK4 (one step per sample interval), the note's loss (mean over the
predicted samples of the squared Euclidean error), Algorithm 1 (``G <- 0.99 G + 0.01 g^2``,
``W <- W - lr g / sqrt(G + 1e-8)``), float32, weights N(0, 0.1^2), biases and matrices zero. The
epochs run inside one ``jax.lax.scan`` under ``jax.jit``; an ensemble is ``jax.vmap`` of the same
function over the members' initial parameters. JAX's random numbers differ from torch's, so the MLP
models start elsewhere; the peer is a measure of speed, not of the book's numbers.

JAX is an optional, benchmark-only dependency (``benchmarks/requirements-jax.txt``); nothing in the
book needs it.
"""
from __future__ import annotations

import os
import time
from functools import partial

os.environ.setdefault("JAX_PLATFORMS", "cpu")
# one thread, as torch has in the benchmark and the book's build
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

GAMMA, EPS = 0.99, 1e-8


def _mlp(p, y):
    return jnp.tanh(y @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]


def _linear(p, y):
    return y @ p["M"].T


def _rk4(f, y, h):
    k1 = f(y)
    k2 = f(y + 0.5 * h * k1)
    k3 = f(y + 0.5 * h * k2)
    k4 = f(y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _trajectory(kind: str, p, y0, h, steps: int):
    f = (lambda y: _mlp(p, y)) if kind in ("nn", "node") else (lambda y: _linear(p, y))
    step = f if kind in ("nn", "nnm") else (lambda y: _rk4(f, y, h))

    def advance(y, _):
        y = step(y)
        return y, y

    _, ys = jax.lax.scan(advance, y0, None, length=steps)
    return ys  # the predicted samples y_1 .. y_N


def _loss(kind: str, p, y0, h, target):
    pred = _trajectory(kind, p, y0, h, target.shape[0] - 1)
    return jnp.mean(jnp.sum((pred - target[1:]) ** 2, axis=-1))


@partial(jax.jit, static_argnums=(0, 5))
def _train(kind: str, p, y0, h, target, epochs: int, lr):
    grad = jax.value_and_grad(partial(_loss, kind))

    def epoch(carry, _):
        params, G = carry
        loss, g = grad(params, y0, h, target)
        G = jax.tree_util.tree_map(lambda G, g: GAMMA * G + (1 - GAMMA) * g * g, G, g)
        params = jax.tree_util.tree_map(lambda w, g, G: w - lr * g / jnp.sqrt(G + EPS), params, g, G)
        return (params, G), loss

    zeros = jax.tree_util.tree_map(jnp.zeros_like, p)
    (p, _), history = jax.lax.scan(epoch, (p, zeros), None, length=epochs)
    return p, history, _loss(kind, p, y0, h, target)


_train_members = jax.jit(jax.vmap(_train.__wrapped__, in_axes=(None, 0, None, None, None, None, None)),
                         static_argnums=(0, 5))


def _init(kind: str, key, members: int | None, hidden: int = 50, dim: int = 2):
    shape = () if members is None else (members,)
    if kind in ("nnm", "nodem"):
        return {"M": jnp.zeros(shape + (dim, dim), jnp.float32)}
    k1, k2 = jax.random.split(key)
    return {"W1": 0.1 * jax.random.normal(k1, shape + (hidden, dim), jnp.float32),
            "b1": jnp.zeros(shape + (hidden,), jnp.float32),
            "W2": 0.1 * jax.random.normal(k2, shape + (dim, hidden), jnp.float32),
            "b2": jnp.zeros(shape + (dim,), jnp.float32)}


def time_training(kind: str, t: np.ndarray, target: np.ndarray, epochs: int, lr: float = 1e-3,
                  members: int | None = None, repeats: int = 3) -> dict[str, float]:
    """Seconds of ``epochs`` epochs of one model (``members=None``) or of an ensemble: the first call
    (compile and run) and the fastest of ``repeats`` calls after it; and the final loss (member 0)."""
    y0 = jnp.asarray(target[0], jnp.float32)
    y = jnp.asarray(target, jnp.float32)
    h = jnp.float32(t[1] - t[0])
    p0 = _init(kind, jax.random.PRNGKey(0), members)
    fn = _train if members is None else _train_members

    def once():
        start = time.perf_counter()
        out = fn(kind, p0, y0, h, y, epochs, jnp.float32(lr))
        jax.block_until_ready(out)
        return time.perf_counter() - start, out

    first, _ = once()
    runs = [once() for _ in range(repeats)]
    best, out = min(runs, key=lambda r: r[0])
    final = np.asarray(out[2]).reshape(-1)[0]
    return {"first_call_s": first, "steady_s": best, "final_loss": float(final)}
