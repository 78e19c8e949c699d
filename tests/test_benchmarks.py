"""The benchmark's baseline trains as torchdiffeq's ode_demo does."""
import sys
from pathlib import Path

import numpy as np
import pytest

from dynform import RunConfig, run
from dynform.note.settings import stated


def test_benchmark_baseline_trains_like_ode_demo():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from baseline import train_baseline

    cfg = stated("spiral", "nnm")
    from dynform import get_system, time_grid, trajectory

    t = time_grid(cfg.t0, cfg.t1, cfg.points)
    y = trajectory(get_system("spiral"), np.array(cfg.y0), t)
    loss0, _ = train_baseline("nnm", np.array(cfg.y0), t, y, epochs=1)
    loss, seconds = train_baseline("nnm", np.array(cfg.y0), t, y, epochs=200)
    assert loss < loss0 and seconds > 0
    # same model and loss as dynform's step matrix; torch's RMSprop puts eps outside the root, which
    # only matters while the running mean of squared gradients is tiny, so the runs stay close
    ours = run(RunConfig(model="nnm", epochs=200)).loss
    assert loss == pytest.approx(ours, rel=0.05)
