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
