"""Several runs trained as one ensemble: runs that differ only in settings a member carries alone
(its seed and initial parameters, its loss normalisation, its training samples) share one forward
and backward pass.

The note's models are so small that a training step costs its per-call overhead, not its arithmetic,
so an ensemble of ``K`` members costs little more than one member (``benchmarks/run.py`` measures
it). The setup search trains many readings that differ from the stated run only in :data:`PACKABLE`
settings; :func:`run_pack` trains them together. Every member's arithmetic is the one it has in a
run of its own (the per-member layers compute each member's slice alone, the loss is normalised per
member), so each run of a pack gives the same numbers, to the last bit, as ``config.run()``
(``tests/test_regular_packing.py`` checks this).
"""
from __future__ import annotations

from typing import Sequence

import torch

from .. import validation as check
from ..devices import resolve_device
from ..runcache import shared
from .experiment import DEFAULTS, RunConfig, RunResult, nudge_parameters, nudge_sample
from .models import build_model
from .training import TrainResult, train

#: The settings that may differ between the runs of one pack: each is read by a member alone (its
#: loss normalisation, initialisation, training samples, the rounding studies' one-ulp nudges) or
#: says which members a run has.
PACKABLE = ("loss", "init", "init_std", "data_mode", "seed", "members", "init_ulp", "data_ulp")


def pack_key(config: RunConfig) -> RunConfig:
    """What the runs of one pack share: ``config``'s canonical settings with :data:`PACKABLE` at
    their defaults."""
    canonical = config.canonical()
    return canonical.with_(**{name: DEFAULTS[name] for name in PACKABLE})


def packs(configs: Sequence[RunConfig]) -> list[list[int]]:
    """The indices of ``configs`` grouped into packs (same :func:`pack_key`), each in the order of
    ``configs``, the packs in the order of their first run."""
    groups: dict[RunConfig, list[int]] = {}
    for i, config in enumerate(configs):
        groups.setdefault(pack_key(config), []).append(i)
    return list(groups.values())


@shared
def run_pack(configs: tuple[RunConfig, ...], progress: bool = False) -> list[RunResult]:
    """Train ``configs`` (one :func:`pack_key`, no rounding replicas) as one ensemble:
    the members of ``configs[0]``, then those of ``configs[1]``, ... One :class:`RunResult` per
    config, as ``config.run()`` gives it; its ``seconds`` is the config's share of the pack's time
    (by members). Read from the run cache when that is on."""
    check.require("configs", len(configs) > 0, "a pack needs at least one run")
    first = configs[0]
    key = pack_key(first)
    check.require("configs", all(pack_key(c) == key for c in configs),
                  f"the runs of a pack may differ only in {', '.join(PACKABLE)}")
    check.require("configs", all(c.rounding == 0 for c in configs), "the runs of a pack train no rounding replicas")
    data = [c.data(member=None) for c in configs]
    device = resolve_device(first.device)
    dtype = first.torch_dtype
    torch.manual_seed(first.seed)
    system = data[0].system
    seeds = [[c.seed + k for k in range(c.members)] for c in configs]
    parts = [build_model(c.model, system.dim, c.hidden, s, c.init_std, c.solver, c.substeps, c.init)
             for c, s in zip(configs, seeds)]
    for c, part in zip(configs, parts):  # the rounding studies' nudges, as run() makes them
        nudge_parameters(part, c.init_ulp)
    model = build_model(first.model, system.dim, first.hidden, sum(seeds, []), first.init_std, first.solver,
                        first.substeps, first.init)
    model.load_state_dict({name: torch.cat([p.state_dict()[name] for p in parts])
                           for name in model.state_dict()})
    model = model.to(device=device, dtype=dtype)
    t = torch.as_tensor(data[0].t, dtype=dtype, device=device)
    targets = [nudge_sample(torch.as_tensor(d.target, dtype=dtype, device=device), c.data_ulp)
               for d, c in zip(data, configs)]
    # one series axis for every member: (K, B, T, n), B = 1 for a single trajectory; a drawn set
    # already has one per member
    series = torch.cat([x if x.dim() == 4 else (x if x.dim() == 3 else x.unsqueeze(0)).expand(c.members, -1, -1, -1)
                        for x, c in zip(targets, configs)])
    losses = [c.loss for c in configs for _ in range(c.members)]
    record = train(model, series[..., 0, :], t, series, first.epochs, first.lr, first.tol, first.optimizer,
                   progress, loss=losses, engine=first.engine)
    out, start, members = [], 0, sum(c.members for c in configs)
    trained = model.state_dict()
    for c, part, target in zip(configs, parts, targets):
        stop = start + c.members
        part = part.to(device=device, dtype=dtype)
        part.load_state_dict({name: value[start:stop] for name, value in trained.items()})
        share = TrainResult(record.history[:, start:stop], record.final_loss[start:stop],
                            record.iterations[start:stop], record.seconds * c.members / members)
        out.append(RunResult(c, system, part, t, target, share))
        start = stop
    return out
