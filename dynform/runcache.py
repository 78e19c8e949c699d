"""Runs shared between chapters: a disk cache of training runs, keyed by the run's settings and the
package's sources (joblib.Memory).

Off unless ``DYNFORM_RUN_CACHE`` names a folder; ``make book`` points it at ``_build/runs`` and
empties it first, so a clean build computes every run once and the ledger, the sensitivity check and
the other chapters that repeat a run of the spiral or center chapters read it instead of training
again. Any change to the package's files changes :func:`source_hash`, and with it every key.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Callable, TypeVar

T = TypeVar("T")

#: The environment variable that switches the cache on and names its folder.
ENV = "DYNFORM_RUN_CACHE"


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 over the package's files (code and data), in a fixed order: what a run's result and a
    chapter's outputs depend on besides their own settings."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json", ".gz") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _memory():
    location = os.environ.get(ENV)
    if not location:
        return None
    import joblib

    return joblib.Memory(location, verbose=0)


def shared(compute: Callable[..., T]) -> Callable[..., T]:
    """``compute(config, progress=False)`` answered from the cache when it is on: the key is
    ``config`` and :func:`source_hash` (``progress`` only draws a bar and is not part of it)."""
    def keyed(config, sources: str, progress: bool = False) -> T:
        return compute(config, progress)

    keyed.__name__ = keyed.__qualname__ = compute.__name__
    keyed.__module__ = compute.__module__

    def run(config, progress: bool = False) -> T:
        memory = _memory()
        if memory is None:
            return compute(config, progress)
        return memory.cache(keyed, ignore=["progress"])(config, source_hash(), progress)

    run.__doc__, run.__name__ = compute.__doc__, compute.__name__
    return run
