"""Figures show what their captions claim: no annotation is clipped away."""
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from dynform import get_system
from dynform.book import plots


def test_the_eigenvector_arrows_lie_inside_the_axes():
    spiral = get_system("spiral")
    fig = plots.eigen_portrait(spiral, spiral.solution(np.array([2.0, 0.0]), np.linspace(0.0, 20.0, 200)))
    ax = fig.axes[0]
    assert len(ax.texts) == 2  # p and q
    plots.check_annotations_inside(fig)
    assert ax.get_ylim()[1] >= 2.0 and ax.get_xlim()[0] <= -2.0  # the arrows end at (0, 2) and (-2, 0)


def test_an_annotation_outside_the_axes_is_refused():
    fig, (ax,) = plots._figure(1)
    ax.plot([0, 1], [0, 1])
    ax.annotate("", xy=(0.5, 3.0), xytext=(0, 0), arrowprops=dict(arrowstyle="->"))
    with pytest.raises(AssertionError, match="outside the axes"):
        plots.check_annotations_inside(fig)


def test_two_runs_of_one_model_are_told_apart_and_the_legend_covers_no_panel():
    s = np.linspace(-1.0, 1.0, 5)
    line = np.stack([s, -s], axis=1)
    fig = plots.step_relationship(s, line, {"a": line, "b": 0.5 * line}, {"a": "stated", "b": "other"},
                                  {"a": "node", "b": "node"})
    styles = [ln.get_linestyle() for ln in fig.axes[0].get_lines()]
    assert styles == ["-", "--", ":"]  # truth, the model's first run, its second run
    assert [ln.get_color() for ln in fig.axes[0].get_lines()][1:] == [plots.COLORS["node"]] * 2
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    FigureCanvasAgg(fig).draw()  # lays the figure out as saving it does
    box = fig.legends[0].get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)


def test_posterior_bands_show_the_quantiles_and_keep_the_legend_off_the_panels():
    times = np.linspace(0.0, 5.0, 50)
    rng = np.random.default_rng(0)
    samples = np.sin(times)[None] + 0.1 * rng.normal(size=(200, 50))
    t = np.linspace(0.0, 5.0, 10)
    panel = (samples, t, np.sin(t), np.arange(10) % 2 == 0)
    fig = plots.posterior_bands(times, {"few": panel, "many": panel})
    band = fig.axes[0].collections[0].get_paths()[0].vertices[:, 1]
    low, high = np.quantile(samples, [0.05, 0.95], axis=0)
    assert band.min() == pytest.approx(low.min()) and band.max() == pytest.approx(high.max())
    FigureCanvasAgg(fig).draw()
    box = fig.legends[0].get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)


def test_dense_predictions_are_drawn_on_their_own_times_with_the_legend_off_the_panels():
    t = np.array([[0.0, 1.0, 2.0]])
    y = np.zeros((1, 3, 1))
    dense_t = np.linspace(0.0, 3.0, 31)[None]
    fig = plots.irregular_series(t, y, np.array([[True, False, True]]), {"odernn": np.ones((1, 31, 1)),
                                 "rnn": np.zeros((1, 31, 1))}, {"odernn": "ODE-RNN", "rnn": "RNN"},
                                 times=dense_t, marks=[1.5, 3.0])
    line = fig.axes[0].get_lines()[0]
    assert np.array_equal(line.get_xdata(), dense_t[0])
    assert sorted(ln.get_xdata()[0] for ln in fig.axes[0].get_lines() if ln.get_linestyle() == ":") == [1.5, 3.0]
    assert [ax.get_ylabel() for ax in fig.axes] == ["ODE-RNN", "RNN"]  # each row names its model
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    FigureCanvasAgg(fig).draw()
    box = fig.legends[0].get_window_extent()
    assert not any(box.overlaps(ax.get_window_extent()) for ax in fig.axes)


def test_mse_by_fraction_one_line_per_model_and_the_baseline():
    fig = plots.mse_by_fraction([0.1, 0.5], {"rnn": (np.array([0.3, 0.1]), np.array([0.01, 0.01])),
                                             "odernn": (np.array([0.2, 0.01]), np.array([0.02, 0.001]))},
                                {"rnn": "RNN", "odernn": "ODE-RNN"}, baseline=0.5)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and [t.get_text() for t in ax.get_legend().get_texts()][-1] == "ODE-RNN"
    assert any(ln.get_label() == "mean predictor" and list(ln.get_ydata()) == [0.5, 0.5] for ln in ax.get_lines())


def test_learning_curves_a_line_per_member_the_build_marks_and_both_levels():
    steps = np.array([100, 200, 300])
    panels = {"interp": {"odernn": np.array([[0.4, 0.1, 0.01], [0.3, 0.05, 0.02]])},
              "extrap": {"odernn": np.array([[0.5, 0.3, 0.05], [0.5, 0.2, 0.04]])}}
    marks = {"interp": {"odernn": (100, np.array([0.4, 0.3]))}}
    fig = plots.learning_curves(steps, panels, {"odernn": "ODE-RNN"}, {"interp": 0.5, "extrap": 0.5}, marks)
    left, right = fig.axes
    assert left.get_yscale() == "log" and left.get_title() == "interp"
    members = [ln for ln in left.get_lines() if list(ln.get_xdata()) == list(steps)]
    assert len(members) == 2 and list(members[1].get_ydata()) == [0.3, 0.05, 0.02]
    crosses = [ln for ln in left.get_lines() if ln.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_ydata()) == [0.4, 0.3]
    assert not [ln for ln in right.get_lines() if ln.get_marker() == "x"]
    levels = sorted(ln.get_ydata()[0] for ln in right.get_lines() if ln.get_linestyle() in ("--", ":"))
    assert levels == [0.1, 0.5]
