"""nbval over the chapters, with the tolerances the chapters state.

nbval compares a cell's fresh outputs with the stored ones as text. Outputs that carry a tolerance
record (:data:`dynform.checks.KEY` in their metadata: trained numbers, tables and matrices that show
them, and glued figures) are first judged by :func:`dynform.checks.outputs_agree`: numbers within
their tolerance, figures by RMS pixel difference. An output that agrees is then compared as the stored
text; one that does not is left as it came, so nbval reports the difference, with the reason added.
Everything else is compared by nbval unchanged.
"""
from __future__ import annotations

import copy

from nbval.plugin import IPyNbCell

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
