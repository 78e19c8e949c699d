"""Figure helpers: one plot style for the whole book.

Every helper returns a matplotlib ``Figure``; chapters glue it (myst-nb) or let it display.
"""
from __future__ import annotations

import textwrap
from functools import lru_cache
from typing import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from ..irregular.models import MODELS as IRREGULAR_MODELS
from ..regular import RunResult, time_grid
from ..regular.models import MODELS as REGULAR_MODELS, TITLES as REGULAR_TITLES
from ..registry import Palette
from ..systems import LinearSystem

#: Model colours, handed out in registry order (a new model gets the next one).
PALETTE = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
IRREGULAR_PALETTE = ("#1f77b4", "#17becf", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
#: Colours for truth, data and the regular models, used in every figure.
COLORS = Palette(REGULAR_MODELS, PALETTE, {"true": "#222222", "data": "#ff7f0e"})
#: Colours of the irregular-time models (section 4).
IRREGULAR_COLORS = Palette(IRREGULAR_MODELS, IRREGULAR_PALETTE)
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
    enable_png_display()
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
    """One-step loss over a grid of initial values, one panel per model, each with its own colour
    scale (the models' errors differ by orders of magnitude) and a title wrapped to its panel."""
    fig, axes = _figure(len(losses), figsize=(3.9 * len(losses), 3.6))
    for ax, (key, L) in zip(axes, losses.items()):
        im = ax.contourf(Y1, Y2, L, levels=20)
        ax.set(xlabel="$y_1(0)$", ylabel="$y_2(0)$", title=textwrap.fill(labels[key], 30), aspect="equal")
        ax.grid(False)
        fig.colorbar(im, ax=ax, label="one-step squared error", shrink=0.85)
    return fig


def eigen_portrait(system: LinearSystem, y: np.ndarray, scale: float = 2.0) -> Figure:
    """Trajectory in the phase plane with the real and imaginary parts of the eigenvectors."""
    fig, (ax,) = _figure(1, figsize=(5.8, 4.0))
    ax.plot(y[:, 0], y[:, 1], color=COLORS["true"], label="true trajectory")
    ax.plot(*y[0], "s", color=COLORS["data"], label="$y_0$")
    _, vecs = system.eigen()
    v = vecs[:, 0]
    for part, name, color in ((v.real, r"$\mathbf{p}=\Re\,\mathbf{v}$", COLORS["nn"]),
                              (v.imag, r"$\mathbf{q}=\Im\,\mathbf{v}$", COLORS["node"])):
        if np.linalg.norm(part) > 0:
            d = scale * part / np.linalg.norm(part)
            ax.annotate("", xy=d, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color=color, lw=2))
            ax.update_datalim([(0.0, 0.0), tuple(d)])  # annotations do not widen the axes themselves
            ax.plot([], [], color=color, lw=2, label=name)
    ax.autoscale_view()
    ax.margins(0.08)
    ax.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal", title="trajectory and eigenvectors")
    fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper")
    check_annotations_inside(fig)
    return fig


def check_annotations_inside(fig: Figure) -> None:
    """Raise if an arrow or annotation of ``fig`` starts or ends outside its axes (it would be clipped
    away while the legend and caption still claim it)."""
    for ax in fig.axes:
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        for note in ax.texts:
            points = [getattr(note, "xy", None), getattr(note, "xyann", None)]
            for p in (p for p in points if p is not None):
                if not (x0 <= p[0] <= x1 and y0 <= p[1] <= y1):
                    raise AssertionError(f"annotation at {tuple(p)} lies outside the axes [{x0:g}, {x1:g}] x "
                                         f"[{y0:g}, {y1:g}] of {ax.get_title()!r}")


def step_relationship(s: np.ndarray, true_next: np.ndarray, predictions: Mapping[str, np.ndarray],
                      labels: Mapping[str, str], models: Mapping[str, str] | None = None,
                      xlabel: str = "$y_1(0)$") -> Figure:
    """Each component of y(dt) against the initial value: truth (line) and predictions (dashed).

    ``predictions[key]`` is (len(s), 2); ``models[key]`` names the model whose colour the line takes
    (default: ``key`` itself). A second line of one model is dotted, so that two runs of one model
    (stated settings and another setting) stay apart. The legend sits below the panels."""
    models = models or {key: key for key in predictions}
    fig, axes = _figure(true_next.shape[1], figsize=(7.0, 3.6))
    for i, ax in enumerate(axes):
        ax.plot(s, true_next[:, i], color=COLORS["true"], label="true")
        seen: set[str] = set()
        for key, pred in predictions.items():
            ls = ":" if models[key] in seen else "--"
            seen.add(models[key])
            ax.plot(s, pred[:, i], ls, color=COLORS[models[key]], lw=1.8, label=labels[key])
        ax.set(xlabel=xlabel, ylabel=rf"$y_{i + 1}(\Delta t)$")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=2, fontsize=8)
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
    # one legend for all rows, outside the panels, so that it covers no data
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=4)
    return fig


def predicted_vs_true(runs: Mapping[str, RunResult]) -> Figure:
    """Each run's member-0 prediction from its ``y0`` on its sample grid (markers) beside the exact
    solution (lines), one panel row per run, labelled by the model's long name. The runs share a grid."""
    first = next(iter(runs.values()))
    cfg, system = first.config, first.system
    y0 = np.array(cfg.y0)
    t, fine_t = time_grid(cfg.t0, cfg.t1, cfg.points), np.linspace(cfg.t0, cfg.t1, 600)
    preds = {key: r.predict(y0[None], t)[0] for key, r in runs.items()}
    return trajectories(t, system.solution(y0, t), preds, REGULAR_TITLES, fine_t, system.solution(y0, fine_t))


def loss_curves(histories: Mapping[str, np.ndarray], labels: Mapping[str, str]) -> Figure:
    """Training loss against step, log scale, one line per model."""
    fig, (ax,) = _figure(1)
    for key, h in histories.items():
        ax.semilogy(np.arange(len(h)), h, color=COLORS.get(key, None), label=labels.get(key, key))
    ax.set(xlabel="optimiser step", ylabel="loss")
    ax.legend()
    return fig


def rounding_growth(curves: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, str]) -> Figure:
    """Relative loss difference from the reference run against the epoch, one panel per model and one
    line per rounding variant (``curves[model][variant]``, with ``curves[model]["epoch"]``); float64
    variants dashed. Zero differences are drawn at the bottom of the log axis."""
    fig, axes = _figure(len(curves), figsize=(3.6 * len(curves), 3.2), sharey=True)
    floor = 1e-17
    for ax, (model, lines) in zip(axes, curves.items()):
        epoch = lines["epoch"]
        for variant, dev in lines.items():
            if variant == "epoch":
                continue
            ax.semilogy(epoch, np.maximum(dev, floor), "--" if variant.startswith("float64") else "-", lw=1.0,
                        alpha=0.8, label=labels.get(variant, variant))
        ax.set(xlabel="epoch", title=model, ylim=(floor / 2, 10.0))
    axes[0].set_ylabel("relative loss difference")
    handles, names = axes[0].get_legend_handles_labels()
    fig.legend(handles, names, fontsize=6, loc="outside right upper")
    return fig


@lru_cache(maxsize=1)
def enable_png_display() -> bool:
    """Make a figure displayed or glued in a notebook carry a PNG, whatever the matplotlib backend.

    IPython registers its PNG formatter for figures only under the inline backend; a kernel started
    with ``MPLBACKEND=Agg`` would otherwise store ``<Figure size ...>`` text and the book would show
    no image. Called once, when the first figure is made; does nothing outside IPython. Returns
    whether a formatter was registered.
    """
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import select_figure_formats
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return False
    select_figure_formats(shell, {"png"}, bbox_inches="tight")
    return True



def amplification_curve(y: np.ndarray, growth: np.ndarray, limit: float, marks: Mapping[str, tuple[float, float]]) -> Figure:
    """A one-step growth factor |R(iy)| against y on the imaginary axis (log scale), the stability
    limit, and labelled points ``marks[label] = (y, |R(iy)|)``."""
    fig, (ax,) = _figure(1, figsize=(5.0, 3.2))
    ax.semilogy(y, growth, color=COLORS["true"], label="$|R(iy)|$")
    ax.axhline(1.0, color=COLORS["data"], lw=1.0, ls="--", label="$|R| = 1$")
    ax.axvline(limit, color=COLORS["node"], lw=1.0, ls=":", label="stability limit")
    for (label, (yk, gk)), color in zip(marks.items(), (COLORS["nodem"], COLORS["nnm"], COLORS["nn"])):
        ax.plot(yk, gk, "o", color=color, ms=6, label=label)
    ax.set(xlabel=r"$y = |\lambda| h$", ylabel="growth per step")
    ax.legend()
    return fig


def irregular_series(t: np.ndarray, y: np.ndarray, observed: np.ndarray, predictions: Mapping[str, np.ndarray],
                     labels: Mapping[str, str], times: np.ndarray | None = None,
                     marks: Sequence[float] = ()) -> Figure:
    """One row per model (named on the left), one column per series: observed points (filled), held-out
    points (open) and the model's prediction (line) at the sample times, or at ``times`` (B, G) when
    given; the first component solid, a second one dashed; a dotted vertical line at each time of
    ``marks``. The legend sits below the panels, so that it covers no data."""
    models, count = list(predictions), t.shape[0]
    line_t = t if times is None else times
    fig, axes = _figure(count, len(models), figsize=(2.6 * count + 0.6, 1.7 * len(models)), sharex="col")
    for row, key in enumerate(models):
        for col in range(count):
            ax = axes[row * count + col]
            for i, ls in zip(range(y.shape[-1]), ("-", "--")):
                ax.plot(line_t[col], predictions[key][col, :, i], ls, color=IRREGULAR_COLORS.get(key), lw=1.3,
                        label="prediction (the row's model)" if i == 0 else None)
                ax.plot(t[col][observed[col]], y[col, observed[col], i], "o", color=COLORS["data"], ms=3.5,
                        label="observed" if i == 0 else None)
                ax.plot(t[col][~observed[col]], y[col, ~observed[col], i], "o", mfc="none", color=COLORS["true"],
                        ms=3.5, label="held out" if i == 0 else None)
            for mark in marks:
                ax.axvline(mark, color=COLORS["true"], ls=":", lw=0.8)
            if col == 0:
                ax.set_ylabel(labels[key], fontsize=8)
            if row == len(models) - 1:
                ax.set_xlabel("t")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=7)
    return fig


def posterior_bands(times: np.ndarray, panels: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]) -> Figure:
    """One panel per conditioning: the median and the 5-95% band of trajectories decoded from samples
    (draws, G), over ``times`` (G,), with the points observed (filled) and held out (open); each panel
    is ``(samples, t, y, observed)`` for one series, first component."""
    fig, axes = _figure(len(panels), figsize=(3.2 * len(panels) + 0.6, 3.2))
    color = IRREGULAR_COLORS["latent-ode"]
    for ax, (title, (samples, t, y, observed)) in zip(axes, panels.items()):
        low, mid, high = np.quantile(samples, [0.05, 0.5, 0.95], axis=0)
        ax.fill_between(times, low, high, color=color, alpha=0.25, lw=0, label="5-95% of samples")
        ax.plot(times, mid, color=color, lw=1.5, label="median")
        ax.plot(t[observed], y[observed], "o", color=COLORS["data"], ms=3.5, label="observed")
        ax.plot(t[~observed], y[~observed], "o", mfc="none", color=COLORS["true"], ms=3, label="held out")
        ax.set(xlabel="t", title=title)
    axes[0].set_ylabel("$y$")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=7)
    return fig


def prior_samples(times: np.ndarray, samples: np.ndarray) -> Figure:
    """Trajectories decoded from samples ``z_0 ~ N(0, I)``: ``samples`` (draws, G) over ``times`` (G,)."""
    fig, (ax,) = _figure(1, figsize=(4.6, 2.8))
    for k, curve in enumerate(samples):
        ax.plot(times, curve, color=IRREGULAR_COLORS["latent-ode"], lw=0.9, alpha=0.7,
                label="$z_0 \\sim \\mathcal{N}(0, I)$" if k == 0 else None)
    ax.set(xlabel="t", ylabel="$y$", title="prior samples")
    ax.legend(fontsize=7)
    return fig


def mse_by_fraction(fractions: Sequence[float], rows: Mapping[str, tuple[np.ndarray, np.ndarray]],
                    labels: Mapping[str, str], baseline: float) -> Figure:
    """Test MSE (mean over seeds, bars one standard deviation) against the fraction of points observed,
    one line per model, log scale; the mean predictor's error as a horizontal line."""
    fig, (ax,) = _figure(1, figsize=(7.6, 3.4))
    x = 100 * np.asarray(fractions)
    for key, (mean, sd) in rows.items():
        ax.errorbar(x, mean, yerr=sd, marker="o", ms=3.5, capsize=2, color=IRREGULAR_COLORS.get(key), label=labels[key])
    ax.axhline(baseline, color=COLORS["true"], ls="--", lw=1, label="mean predictor")
    ax.set_yscale("log")
    ax.set(xlabel="% of points observed", ylabel="test MSE (held-out points)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def learning_curves(steps: np.ndarray, panels: Mapping[str, Mapping[str, np.ndarray]], labels: Mapping[str, str],
                    baselines: Mapping[str, float], marks: Mapping[str, Mapping[str, tuple[int, np.ndarray]]]) -> Figure:
    """Test MSE during training, one panel per task: ``panels[task][model]`` (members, S) at ``steps``
    (S,), a thin line per member, log scale; the mean predictor's error (dashed) and a fifth of it
    (dotted); ``marks[task][model] = (step, values (members,))`` drawn as crosses."""
    fig, axes = _figure(len(panels), figsize=(3.9 * len(panels) + 1.6, 3.6), sharey=True)
    for ax, (task, curves) in zip(axes, panels.items()):
        for key, values in curves.items():
            for k, row in enumerate(np.atleast_2d(values)):
                ax.plot(steps, row, color=IRREGULAR_COLORS.get(key), lw=0.9, label=labels[key] if k == 0 else None)
            if key in marks.get(task, {}):
                step, at = marks[task][key]
                ax.plot(np.full(len(at), step), at, "x", color=IRREGULAR_COLORS.get(key), ms=6, mew=1.4,
                        label=f"{labels[key]}, this build")
        ax.axhline(baselines[task], color=COLORS["true"], ls="--", lw=1, label="mean predictor")
        ax.axhline(baselines[task] / 5, color=COLORS["true"], ls=":", lw=1, label="mean predictor / 5")
        ax.set_yscale("log")
        ax.set(xlabel="optimiser step", title=task)
    axes[0].set_ylabel("test MSE (held-out points)")
    axes[-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return fig


def latent_samples(t: np.ndarray, y: np.ndarray, observed: np.ndarray, samples: np.ndarray, mean: np.ndarray) -> Figure:
    """Trajectories decoded from samples of q(z0) (thin lines) and from its mean (thick), one panel per
    series; the first component of the data."""
    count = t.shape[0]
    fig, axes = _figure(count, figsize=(2.6 * count + 0.6, 2.6))
    color = IRREGULAR_COLORS["latent-ode"]
    for col, ax in enumerate(axes):
        for k in range(samples.shape[0]):
            ax.plot(t[col], samples[k, col, :, 0], color=color, lw=0.6, alpha=0.35,
                    label="samples of $z_0 \\sim q$" if k == 0 else None)
        ax.plot(t[col], mean[col, :, 0], color=color, lw=1.8, label="$z_0 = \\mu$")
        ax.plot(t[col][observed[col]], y[col, observed[col], 0], "o", color=COLORS["data"], ms=3.5, label="observed")
        ax.plot(t[col][~observed[col]], y[col, ~observed[col], 0], "o", mfc="none", color=COLORS["true"], ms=3.5,
                label="held out")
        ax.set(xlabel="t", ylabel="$y_1$" if col == 0 else None)
    axes[0].legend(fontsize=7)
    return fig


def elbo_curves(history: Mapping[str, np.ndarray], steps: np.ndarray | None = None) -> Figure:
    """Latent ODE training: the ELBO and its two terms (log-likelihood, KL) against the optimiser step
    (``steps``, default 0, 1, ...: one value per step; else the steps the values stand for)."""
    fig, (ax1, ax2) = _figure(2)
    steps = np.arange(len(history["elbo"])) if steps is None else np.asarray(steps)
    color = IRREGULAR_COLORS["latent-ode"]
    ax1.plot(steps, history["elbo"], color=color, label="ELBO")
    ax1.plot(steps, history["loglik"], "--", color=COLORS["true"], label="log-likelihood")
    ax1.set_yscale("symlog", linthresh=10.0)
    ax1.set(xlabel="optimiser step", ylabel="per series", title="ELBO and log-likelihood")
    ax1.legend()
    ax2.plot(steps, history["kl"], color=color)
    ax2.set(xlabel="optimiser step", ylabel="KL per series", title=r"KL$[q(z_0)\,\|\,p(z_0)]$")
    return fig


def seed_distributions(losses: Mapping[str, Mapping[str, np.ndarray]], note: Mapping[str, Mapping[str, float]],
                       labels: Mapping[str, str]) -> Figure:
    """Final loss of every seed (dots) with its median and quartiles (box), one panel per example and
    one column per model, log scale; the note's printed value of each row is a black cross."""
    fig, axes = _figure(len(losses), figsize=(3.6 * len(losses), 3.4))
    for ax, (example, rows) in zip(axes, losses.items()):
        keys = list(rows)
        for i, key in enumerate(keys):
            values = np.asarray(rows[key], dtype=float)
            ax.boxplot(values, positions=[i], widths=0.5, showfliers=False,
                       medianprops=dict(color=COLORS["true"]), boxprops=dict(color=COLORS[key]),
                       whiskerprops=dict(color=COLORS[key]), capprops=dict(color=COLORS[key]))
            jitter = np.linspace(-0.15, 0.15, len(values))
            ax.plot(i + jitter, values, "o", color=COLORS[key], ms=3, alpha=0.7)
            ax.plot([i], [note[example][key]], "X", color=COLORS["true"], ms=9, mew=0.5, mec="white",
                    label="note's value" if i == 0 else None)
        ax.set_yscale("log")
        ax.set_xticks(range(len(keys)), [labels.get(k, k) for k in keys])
        ax.set(title=example, ylabel="final loss")
        ax.legend(loc="best")
    return fig
