"""The one place settings are checked. Each check returns the value or raises :class:`ParameterError`
naming the setting; the experiment configs (``RunConfig``, ``IrregularConfig``) and the chapters'
own parameters call them, and everything below trusts what they let through."""
from __future__ import annotations

import math
from dataclasses import field, fields, replace
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .errors import ParameterError


def is_int(x: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def is_number(x: Any) -> bool:
    """A real number that is not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def require(name: str, ok: bool, problem: str) -> None:
    """Raise ``ParameterError(name, problem)`` unless ``ok``."""
    if not ok:
        raise ParameterError(name, problem)


def integer(name: str, value: Any) -> int:
    """Any integer."""
    require(name, is_int(value), f"must be an integer, got {value!r}")
    return int(value)


def positive_int(name: str, value: Any) -> int:
    """An integer >= 1."""
    require(name, is_int(value) and value >= 1, f"must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    """An integer >= 0."""
    require(name, is_int(value) and value >= 0, f"must be an integer >= 0, got {value!r}")
    return int(value)


def int_at_least(name: str, value: Any, low: int, why: str = "") -> int:
    """An integer >= ``low``; ``why`` is added to the message in parentheses."""
    reason = f" ({why})" if why else ""
    require(name, is_int(value) and value >= low, f"must be an integer >= {low}{reason}, got {value!r}")
    return int(value)


def positive(name: str, value: Any) -> float:
    """A finite number > 0."""
    require(name, is_number(value) and math.isfinite(value) and value > 0, f"must be a positive number, got {value!r}")
    return float(value)


def positive_or_none(name: str, value: Any) -> float | None:
    """``None`` or a number > 0."""
    require(name, value is None or (is_number(value) and value > 0),
            f"must be a positive number or None, got {value!r}")
    return value


def non_negative(name: str, value: Any) -> float:
    """A finite number >= 0."""
    require(name, is_number(value) and math.isfinite(value) and value >= 0,
            f"must be a finite number >= 0, got {value!r}")
    return float(value)


def fraction(name: str, value: Any) -> float:
    """A number strictly between 0 and 1."""
    require(name, is_number(value) and 0 < value < 1, f"must be a number in (0, 1), got {value!r}")
    return float(value)


def factor(name: str, value: Any) -> float:
    """A number in (0, 1]: a factor that shrinks or keeps."""
    require(name, is_number(value) and 0 < value <= 1, f"must be a number in (0, 1], got {value!r}")
    return float(value)


def finite(name: str, value: Any) -> float:
    """A finite number."""
    require(name, is_number(value) and math.isfinite(value), f"must be finite, got {value}")
    return float(value)


def choice(name: str, value: Any, choices: Iterable[str], what: str | None = None) -> str:
    """One of ``choices`` (a registry's keys); ``what`` names the kind of thing (default: ``name``)."""
    choices = list(choices)
    require(name, value in choices, f"unknown {what or name} {value!r} (choices: {', '.join(choices)})")
    return value


def choices(name: str, values: str | Sequence[str], known: Iterable[str]) -> list[str]:
    """A non-empty list of distinct names from ``known`` (a single name counts as a list of one)."""
    known = list(known)
    values = [values] if isinstance(values, str) else list(values)
    ok = bool(values) and len(set(values)) == len(values) and all(v in known for v in values)
    require(name, ok, f"must be distinct names from {', '.join(known)}, got {values!r}")
    return values


def counts(name: str, value: Any, known: Iterable[str]) -> dict[str, int]:
    """A non-empty mapping from names of ``known`` to positive integers."""
    require(name, isinstance(value, dict), f"must map names to positive integers, got {value!r}")
    keys = choices(name, list(value), known)
    return {k: positive_int(f"{name}[{k!r}]", value[k]) for k in keys}


Check = Callable[[str, Any], Any]


def setting(default: Any, help: str, check: Check | None = None, compare: bool = True) -> Any:
    """A config field with its help text (what the CLI shows) and its check ``check(name, value)``;
    ``compare=False`` leaves it out of comparisons (where a run happens, not what it is)."""
    return field(default=default, metadata={"help": help, "check": check}, compare=compare)


class one_of:
    """A check that the value is a name of ``registry``, read when checking (so it is always current);
    :attr:`names` lists them for help texts."""

    def __init__(self, registry: Iterable[str], what: str | None = None) -> None:
        self.registry, self.what = registry, what

    @property
    def names(self) -> list[str]:
        return list(self.registry)

    def __call__(self, name: str, value: Any) -> str:
        return choice(name, value, self.registry, self.what)


def at_least(low: int) -> Check:
    """A check that the value is an integer >= ``low``."""
    return lambda name, value: int_at_least(name, value, low)


class Settings:
    """Base of the experiment configs (frozen dataclasses): each field carries its check
    (:func:`setting`), :meth:`validate` runs them in field order, then :meth:`check_together`."""

    def validate(self) -> Any:
        """Check every field; raise :class:`ParameterError` naming the first bad one. Returns self."""
        for f in fields(self):  # type: ignore[arg-type]
            if f.metadata.get("check") is not None:
                f.metadata["check"](f.name, getattr(self, f.name))
        self.check_together()
        return self

    def check_together(self) -> None:
        """Checks that involve several fields (none by default)."""

    def with_(self, **changes: Any) -> Any:
        """A copy with some fields changed, validated."""
        return replace(self, **changes).validate()  # type: ignore[type-var]

    @classmethod
    def settings(cls) -> dict[str, Any]:
        """The fields with their defaults, help texts and checks (what the CLI offers)."""
        return {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
