"""Read-only views of a registry (a dict from name to entry), always current: adding an entry to the
registry adds it to every view, so no second list has to agree with the first."""
from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping


class View(Mapping[str, Any]):
    """``name -> value(entry)`` for the entries of ``registry`` that ``keep`` accepts."""

    def __init__(self, registry: Mapping[str, Any], value: Callable[[Any], Any],
                 keep: Callable[[Any], bool] = lambda entry: True) -> None:
        self._registry, self._value, self._keep = registry, value, keep

    def __getitem__(self, name: str) -> Any:
        entry = self._registry[name]
        if not self._keep(entry):
            raise KeyError(name)
        return self._value(entry)

    def __iter__(self) -> Iterator[str]:
        return (name for name, entry in self._registry.items() if self._keep(entry))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __repr__(self) -> str:
        return f"View({dict(self)!r})"


class Palette(Mapping[str, str]):
    """Colours by name: ``fixed`` ones, then one per registry entry in registry order."""

    def __init__(self, registry: Mapping[str, Any], colours: tuple[str, ...], fixed: Mapping[str, str] = {}) -> None:
        self._registry, self._colours, self._fixed = registry, colours, dict(fixed)

    def __getitem__(self, name: str) -> str:
        if name in self._fixed:
            return self._fixed[name]
        names = list(self._registry)
        if name not in names:
            raise KeyError(name)
        return self._colours[names.index(name) % len(self._colours)]

    def __iter__(self) -> Iterator[str]:
        yield from self._fixed
        yield from self._registry

    def __len__(self) -> int:
        return len(self._fixed) + len(self._registry)
