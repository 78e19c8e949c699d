"""Where each optimiser step's series come from.

* full batch (``batch = 0``): every training series with its stored mask, the same every step;
* ``pool``: ``batch`` series drawn at random from the training series, with the task's observation mask
  drawn anew (latent_ode re-draws which points are observed for every batch);
* ``fresh``: ``batch`` new series from the data set's generator every step, on the training series'
  times for the periodic set (whose series share one grid) and on new times otherwise. The data set
  is then as large as the training needs; the test series stay fixed.

Member ``k`` draws from its own generator, seeded from its config's seed, so members stay independent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np
import torch

from .data import IrregularBatch, IrregularData, draw_times, draw_values, task_masks

if TYPE_CHECKING:
    from .experiment import IrregularConfig

#: The ways a step's series may be drawn (:class:`~dynform.irregular.IrregularConfig` ``sampling``).
SAMPLINGS: dict[str, str] = {
    "pool": "random series of the training set, fresh observation masks",
    "fresh": "new series from the generator every step",
}
#: Offset of the batch generators' seeds from the data seeds, so that batches never repeat the data draw.
BATCH_STREAM = 1


def _pool(config: "IrregularConfig", data: IrregularData, rng: np.random.Generator) -> IrregularBatch:
    index = torch.as_tensor(rng.choice(len(data.train), config.batch, replace=False))
    chosen = data.train.subset(index)
    observed = torch.as_tensor(task_masks(chosen.t.double().numpy(), data.task, rng, config.obs_frac, data.window))
    return IrregularBatch(chosen.t, chosen.y, observed, ~observed)


def _fresh(config: "IrregularConfig", data: IrregularData, rng: np.random.Generator) -> IrregularBatch:
    if data.name == "periodic":
        t = np.repeat(data.train.t[:1].double().numpy(), config.batch, axis=0)
    else:
        t = draw_times(data.name, rng, config.batch, config.points, data.window)
    return draw_values(data.name, data.task, t, rng, config.obs_frac, config.noise, data.window)


def step_batches(configs: Sequence["IrregularConfig"], data: Sequence[IrregularData], dtype: torch.dtype,
                 device: torch.device | str = "cpu") -> Callable[[int], IrregularBatch]:
    """``step -> batch`` stacked over members (leading axis K = ``len(configs)``), in ``dtype`` on
    ``device`` (drawn on the cpu, so the batches are the same on every device)."""
    first = configs[0]
    if first.batch == 0:
        whole = IrregularBatch.stack([d.train for d in data]).to(device=device, dtype=dtype)
        return lambda step: whole
    draw = _pool if first.sampling == "pool" else _fresh
    rngs = [np.random.default_rng([c.seed, BATCH_STREAM]) for c in configs]
    return lambda step: IrregularBatch.stack([draw(c, d, g) for c, d, g in zip(configs, data, rngs)]).to(
        device=device, dtype=dtype)
