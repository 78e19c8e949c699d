"""Where a stored measurement came from: the date, the machine and the command."""
from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any


def machine() -> str:
    """The processor's name, the core count and the system, in words."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}"


def stamp(command: str) -> dict[str, Any]:
    """``date``, ``machine``, ``python`` and ``command`` of a measurement made now."""
    import torch

    return {"date": datetime.date.today().isoformat(), "machine": machine(), "python": platform.python_version(),
            "torch": torch.__version__, "command": command}
