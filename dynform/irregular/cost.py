"""What one optimiser step of an irregular-time model costs in arithmetic: the floating-point operations
of its matrix products, counted by PyTorch's :class:`torch.utils.flop_counter.FlopCounterMode` on one
step of the configured model. The count depends on the shapes only (members, batch, points, widths),
not on the machine, so it bounds from below what any implementation of the same step must compute."""
from __future__ import annotations

from typing import Sequence

from torch.utils.flop_counter import FlopCounterMode

from ..precision import DTYPES
from .batches import step_batches
from .experiment import IrregularConfig
from .training import all_but_first


def step_flops(configs: Sequence[IrregularConfig]) -> dict[str, int]:
    """Matrix-product FLOPs of one training step of the model whose members have the settings ``configs``
    (as :func:`~dynform.irregular.run_members` trains them): ``forward`` (the loss) and ``step`` (the
    loss and its gradient). Elementwise operations are not counted; at these sizes they add a few
    per cent."""
    first = configs[0].validate()
    dtype = DTYPES[first.dtype]
    batch = step_batches(configs, [c.data() for c in configs], dtype)(first.kl_wait)
    model = first.build(batch.dim, [c.seed for c in configs])
    with FlopCounterMode(display=False) as forward:
        loss, _ = model.loss(batch, all_but_first(batch), first.kl_weight(first.kl_wait))
    with FlopCounterMode(display=False) as backward:
        loss.sum().backward()
    return {"forward": int(forward.get_total_flops()),
            "step": int(forward.get_total_flops() + backward.get_total_flops())}
