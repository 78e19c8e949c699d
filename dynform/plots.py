"""Figure helpers: one plot style for the whole book.

Every helper returns a matplotlib ``Figure``; chapters glue it (myst-nb) or let it display.
"""
from __future__ import annotations

from typing import Mapping

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .systems import LinearSystem

#: Colours for truth and the four models, used in every figure.
COLORS: dict[str, str] = {
    "true": "#222222",
    "nn": "#1f77b4",
    "nnm": "#2ca02c",
    "node": "#d62728",
    "nodem": "#9467bd",
    "data": "#ff7f0e",
}
STYLE: dict[str, object] = {
    "figure.figsize": (7.0, 3.2),
    "figure.dpi": 110,
    "figure.facecolor": "white",  # opaque: readable on light and dark themes alike
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's style to matplotlib's global settings."""
    matplotlib.rcParams.update(STYLE)


def _figure(ncols: int = 1, nrows: int = 1, **kw) -> tuple[Figure, np.ndarray]:
    use_style()
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained", **kw)
    plt.close(fig)  # returned, not shown twice by the inline backend
    return fig, axes.ravel()


def training_data(t: np.ndarray, y: np.ndarray, fine_t: np.ndarray, fine_y: np.ndarray, title: str = "") -> Figure:
    """Samples (markers) on the exact trajectory (line): components over time and the phase plane."""
    fig, (ax1, ax2) = _figure(2)
    for i, ls in enumerate(("-", "--")):
        ax1.plot(fine_t, fine_y[:, i], ls, color=COLORS["true"], label=f"$y_{i + 1}(t)$")
        ax1.plot(t, y[:, i], "o", color=COLORS["data"], ms=5, label="samples" if i == 0 else None)
    ax1.set(xlabel="t", ylabel="y", title="components")
    ax1.legend()
    ax2.plot(fine_y[:, 0], fine_y[:, 1], color=COLORS["true"])
    ax2.plot(y[:, 0], y[:, 1], "o", color=COLORS["data"], ms=5)
    ax2.plot(*y[0], "s", color=COLORS["data"], ms=7, label="$y_0$")
    ax2.set(xlabel="$y_1$", ylabel="$y_2$", title="phase plane", aspect="equal")
    ax2.legend()
    if title:
        fig.suptitle(title)
    return fig


def loss_grid(Y1: np.ndarray, Y2: np.ndarray, losses: Mapping[str, np.ndarray], labels: Mapping[str, str]) -> Figure:
    """One-step loss over a grid of initial values, one panel per model, shared colour scale."""
    fig, axes = _figure(len(losses), figsize=(3.6 * len(losses), 3.2))
    vmax = max(float(v.max()) for v in losses.values())
    for ax, (key, L) in zip(axes, losses.items()):
        im = ax.contourf(Y1, Y2, L, levels=20, vmin=0.0, vmax=vmax)
        ax.set(xlabel="$y_1(0)$", ylabel="$y_2(0)$", title=labels[key], aspect="equal")
        ax.grid(False)
    fig.colorbar(im, ax=list(axes), label="one-step squared error")
    return fig


def eigen_portrait(system: LinearSystem, y: np.ndarray, scale: float = 2.0) -> Figure:
    """Trajectory in the phase plane with the real and imaginary parts of the eigenvectors."""
    fig, (ax,) = _figure(1, figsize=(4.2, 4.0))
    ax.plot(y[:, 0], y[:, 1], color=COLORS["true"], label="true trajectory")
    ax.plot(*y[0], "s", color=COLORS["data"], label="$y_0$")
    _, vecs = system.eigen()
    v = vecs[:, 0]
    for part, name, color in ((v.real, r"$\mathbf{p}=\Re\,\mathbf{v}$", COLORS["nn"]),
                              (v.imag, r"$\mathbf{q}=\Im\,\mathbf{v}$", COLORS["node"])):
        if np.linalg.norm(part) > 0:
            d = scale * part / np.linalg.norm(part)
            ax.annotate("", xy=d, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=color, lw=2))
            ax.plot([], [], color=color, lw=2, label=name)
    ax.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal", title="trajectory and eigenvectors")
    ax.legend(loc="upper right")
    return fig


def step_relationship(s: np.ndarray, true_next: np.ndarray, predictions: Mapping[str, np.ndarray],
                      labels: Mapping[str, str], xlabel: str = "$y_1(0)$") -> Figure:
    """Each component of y(dt) against the initial value: truth (line) and model predictions (dashed)."""
    fig, axes = _figure(true_next.shape[1])
    for i, ax in enumerate(axes):
        ax.plot(s, true_next[:, i], color=COLORS["true"], label="true")
        for key, pred in predictions.items():
            ax.plot(s, pred[:, i], "--", color=COLORS[key], label=labels[key])
        ax.set(xlabel=xlabel, ylabel=rf"$y_{i + 1}(\Delta t)$")
    axes[0].legend()
    return fig


def trajectories(t: np.ndarray, true: np.ndarray, predictions: Mapping[str, np.ndarray],
                 labels: Mapping[str, str], fine_t: np.ndarray | None = None, fine_true: np.ndarray | None = None) -> Figure:
    """One row per model: components over time and phase plane, predicted (markers) against true."""
    fig, axes = _figure(2, len(predictions), figsize=(7.0, 2.8 * len(predictions)))
    for row, (key, pred) in enumerate(predictions.items()):
        ax1, ax2 = axes[2 * row], axes[2 * row + 1]
        ref_t, ref = (fine_t, fine_true) if fine_t is not None else (t, true)
        for i, ls in enumerate(("-", "--")):
            ax1.plot(ref_t, ref[:, i], ls, color=COLORS["true"], label=f"true $y_{i + 1}$")
            ax1.plot(t, pred[:, i], "o" + ls, color=COLORS[key], ms=4, label=f"predicted $y_{i + 1}$")
        ax1.set(xlabel="t", ylabel="y", title=labels[key])
        ax2.plot(ref[:, 0], ref[:, 1], color=COLORS["true"], label="true")
        ax2.plot(pred[:, 0], pred[:, 1], "o--", color=COLORS[key], ms=4, label="predicted")
        ax2.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal", title="phase plane")
        if row == 0:
            ax1.legend(ncol=2)
            ax2.legend()
    return fig


def loss_curves(histories: Mapping[str, np.ndarray], labels: Mapping[str, str]) -> Figure:
    """Training loss against step, log scale, one line per model."""
    fig, (ax,) = _figure(1)
    for key, h in histories.items():
        ax.semilogy(np.arange(len(h)), h, color=COLORS.get(key, None), label=labels.get(key, key))
    ax.set(xlabel="optimiser step", ylabel="loss")
    ax.legend()
    return fig
