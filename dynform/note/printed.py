"""The note's printed values, kept in one data file (``paper_values.json``) beside this module."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def printed() -> dict[str, Any]:
    """All printed values, keyed by example (``spiral``, ``center``)."""
    return json.loads(resources.files(__package__).joinpath("paper_values.json").read_text())
