"""nbval over the chapters, with the tolerances the chapters state.

nbval compares a cell's fresh outputs with the stored ones as text. Outputs that carry a tolerance
record (:data:`dynform.checks.KEY` in their metadata: trained numbers, tables and matrices that show
them, and glued figures) are first judged by :func:`dynform.checks.outputs_agree`: numbers within
their tolerance, figures by RMS pixel difference. An output that agrees is then compared as the stored
text; one that does not is left as it came, so nbval reports the difference, with the reason added.
Everything else is compared by nbval unchanged.

With ``DYNFORM_EXECUTED`` set to a folder of executed chapters (``make test`` points it at the
book's own execution, ``_build/executed``, written by :mod:`dynform.book.execute`), nbval takes each
cell's fresh outputs from there instead of running a kernel: the chapters are checked against the
execution the book was built from, and nothing executes twice. nbval has no such mode, so the end of
its ``runtest`` (the check of a failed cell and the comparison) is repeated here. Without the
variable, ``pytest --nbval chapters/`` executes every chapter, as readers run it.
"""
from __future__ import annotations

import copy
import os
from pathlib import Path

import nbformat
from nbval.plugin import IPyNbCell, IPyNbFile, coalesce_streams

from dynform.book.checks import KEY, outputs_agree

_RICH = ("display_data", "execute_result")
_nbval_compare = IPyNbCell.compare_outputs


def _compare_outputs(self, test, ref, skip_compare=None):
    test = copy.deepcopy(test)
    reasons = []
    fresh = [o for o in test if o.get("output_type") in _RICH]
    stored = [o for o in ref if o.get("output_type") in _RICH]
    for t, r in zip(fresh, stored):
        if KEY not in r.get("metadata", {}):
            continue
        ok, why = outputs_agree(t, r)
        if ok:
            t["data"] = copy.deepcopy(r["data"])
        else:
            reasons.append(f"outside its stated tolerance: {why}")
    agree = _nbval_compare(self, test, ref, skip_compare)
    if not agree and reasons:
        self.comparison_traceback.extend(reasons)
    return agree


IPyNbCell.compare_outputs = _compare_outputs


_EXECUTED = os.environ.get("DYNFORM_EXECUTED")


def _executed_cells(nbfile: IPyNbFile) -> list:
    """The code cells of the executed chapter that ``nbfile`` stores."""
    if not hasattr(nbfile, "_executed"):
        path = Path(_EXECUTED) / Path(str(nbfile.fspath)).name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no executed chapter (run `python -m dynform.book.execute`)")
        nbfile._executed = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return nbfile._executed


def _setup_without_kernel(self) -> None:
    self.setup_sanitize_files()


def _runtest_from_execution(self) -> None:
    """nbval's ``runtest`` with the outputs of the book's execution in place of a kernel's."""
    if self.options["skip"]:
        import pytest

        pytest.skip()
    executed = _executed_cells(self.parent)[self.cell_num]
    if executed.source != self.cell.source:
        self.raise_cell_error("the executed chapter has other code in this cell (run `make notebooks`)")
    outs = coalesce_streams(copy.deepcopy(executed.outputs))
    errors = [o for o in outs if o.get("output_type") == "error"]
    if errors and not self.options["check_exception"]:
        self.raise_cell_error("Cell execution caused an exception", "\n" + "\n".join(errors[0]["traceback"]))
    unrun = self.cell.execution_count is None
    if unrun and self.cell.outputs:
        self.raise_cell_error("Unrun reference cell has outputs")
    if self.options["check"] and not unrun and not self.compare_outputs(outs, coalesce_streams(self.cell.outputs)):
        self.raise_cell_error("Cell outputs differ", "\n".join(self.comparison_traceback))


if _EXECUTED:
    IPyNbFile.setup = _setup_without_kernel
    IPyNbCell.runtest = _runtest_from_execution
