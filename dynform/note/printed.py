"""The note's printed values, kept in one data file (``paper_values.json``) beside this module, and
the trained numbers among them (:func:`printed_numbers`), each with the interval its last printed
digit allows."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def printed() -> dict[str, Any]:
    """All printed values, keyed by example (``spiral``, ``center``)."""
    return json.loads(resources.files(__package__).joinpath("paper_values.json").read_text())


@dataclass(frozen=True)
class Printed:
    """One number the note prints for a trained model, with the half-width its last digit allows."""

    example: str
    model: str
    quantity: str  #: ``loss``, ``iterations`` or ``matrix[i,j]``
    value: float
    half: float  #: half a unit of the last printed digit
    text: str  #: as printed

    @property
    def label(self) -> str:
        return f"{self.example} {self.model} {self.quantity}"

    @property
    def key(self) -> tuple[str, str, str]:
        return self.example, self.model, self.quantity

    @property
    def low(self) -> float:
        """The bottom of the interval the printed digits allow."""
        return self.value - self.half

    @property
    def high(self) -> float:
        """The top of that interval."""
        return self.value + self.half


def half_unit(text: str) -> float:
    """Half a unit of the last digit of a printed decimal ``text`` (``0.004210`` -> 5e-7)."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


#: The rows of the note's Tables 1 and 2, in its order, and its examples.
TABLE_ROWS = ("nn", "nnm", "node", "nodem")
EXAMPLES = ("spiral", "center")
#: The rows whose printed matrices the note gives.
MATRIX_ROWS = ("nnm", "nodem")


@lru_cache(maxsize=1)
def printed_numbers() -> tuple[Printed, ...]:
    """Every trained number of Tables 1 and 2 and of the printed matrices, in the note's order."""
    out = []
    for example in EXAMPLES:
        ref = printed()[example]
        texts = ref["printed_text"]
        for model in TABLE_ROWS:
            row = ref["table"][model]
            text = texts["loss"][model]
            out.append(Printed(example, model, "loss", row["loss"], half_unit(text), text))
            if "iterations" in row:
                out.append(Printed(example, model, "iterations", row["iterations"], 0.5, str(row["iterations"])))
        decimals = texts["matrix_decimals"]
        for model in MATRIX_ROWS:
            for (i, j), v in np.ndenumerate(np.asarray(ref["matrices"][model]["predicted"], dtype=np.float64)):
                out.append(Printed(example, model, f"matrix[{i + 1},{j + 1}]", float(v), 0.5 * 10.0 ** -decimals,
                                   f"{v:.{decimals}f}"))
    return tuple(out)


def number(example: str, model: str, quantity: str = "loss") -> Printed:
    """The printed number ``quantity`` of row ``model`` of ``example``'s table."""
    return next(n for n in printed_numbers() if n.key == (example, model, quantity))
