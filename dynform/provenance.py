"""Where a stored measurement came from: the date, the machine and the command."""
from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any


def machine(device: str = "cpu") -> str:
    """The processor's name, the core count and the system, in words; with a ``device`` other than the
    cpu, also the GPU that it names."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{name}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"
    from .devices import device_name, resolve_device

    where = resolve_device(device)
    return text if where.type == "cpu" else f"{text}, training on {device_name(where)}"


def stamp(command: str, device: str = "cpu") -> dict[str, Any]:
    """``date``, ``machine`` (with the GPU when ``device`` resolves to one), ``python`` and ``command``
    of a measurement made now."""
    import torch

    return {"date": datetime.date.today().isoformat(), "machine": machine(device), "python": platform.python_version(),
            "torch": torch.__version__, "command": command}
