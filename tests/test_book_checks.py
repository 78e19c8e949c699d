"""Numbers with tolerances, and the comparison nbval applies to the outputs that show them."""
from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from dynform.book import report
from dynform.book.checks import (KEY, Measured, bound, carried_digits, checked, images_agree, outputs_agree, resolve,
                            texts_agree)


def test_digits_carried_follow_the_tolerance():
    assert carried_digits(0.0015095, 9e-4) == 2
    assert carried_digits(0.0015095, 3e-3) == 1  # a tolerance above the value still prints one digit
    assert carried_digits(0.39416, 4e-4) == 4
    assert Measured(0.39416, 4e-4).text() == "0.3942"
    assert Measured(2000.0, 1e-3).text() == "2000"


def test_bound_raises_when_the_noise_is_not_noise():
    assert bound(3e-14, 1e-12).text() == "3e-14"
    with pytest.raises(AssertionError, match="not below its bound"):
        bound(2e-12, 1e-12)
    with pytest.raises(ValueError):
        Measured(1.0, 0.0)


def test_tokens_resolve_to_numbers_with_records():
    m = Measured(0.0015095, 9e-4)
    text = report.markdown_table(["model", "note", "ours", "time"], [["nn", 0.002339, m, report.seconds(1.5)]])
    shown = checked(text)
    assert "0.0015" in shown.text and "\ue000" not in shown.text
    assert list(shown.numbers) == [None, {"atol": 9e-4}, {"wall": 1.0}]
    assert resolve("no numbers measured: 1.5")[1] == [None]
    assert checked("plain 1.5") == "plain 1.5"


@pytest.mark.parametrize("fresh, ok", [
    ("| nn | 0.002339 | 0.001 | 9.99 s |", True),    # within tolerance, another wall time
    ("| nn | 0.002339 | 0.004 | 1.50 s |", False),   # outside the tolerance
    ("| nn | 0.002338 | 0.0015 | 1.50 s |", False),  # an exact number changed
    ("| nn | 0.002339 | 0.0015 | 1.50 s | x |", False),  # other words
])
def test_texts_agree(fresh, ok):
    stored = checked(f"| nn | 0.002339 | {report.fmt(Measured(0.0015095, 9e-4))} | 1.50 s |")
    assert texts_agree(fresh, stored.text, list(stored.numbers))[0] is ok


def test_a_bound_agrees_whatever_its_digits():
    stored = checked(f"error {report.fmt(bound(3e-14, 1e-12))}")
    assert texts_agree("error 9e-14", stored.text, list(stored.numbers))[0]
    assert not texts_agree("error 2e-12", stored.text, list(stored.numbers))[0]


def _png(array: np.ndarray) -> str:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array.astype(np.uint8)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def test_images_agree_by_rms():
    a = np.full((20, 20, 3), 200)
    b = a.copy()
    b[0, :5] = 0  # 5 of 400 pixels differ by 200: RMS 200 * sqrt(5 / 400) = 22.4
    assert images_agree(_png(a), _png(a), 0.0)[0]
    assert images_agree(_png(a), _png(b), 25.0)[0]
    assert not images_agree(_png(a), _png(b), 20.0)[0]
    assert not images_agree(_png(a), _png(a[:10]), 100.0)[0]


def test_outputs_agree_uses_the_stored_record():
    stored = {"output_type": "display_data", "data": {"text/plain": "0.0015"},
              "metadata": {KEY: {"numbers": [{"atol": 9e-4}]}}}
    assert outputs_agree({"data": {"text/plain": "0.002"}}, stored)[0]
    assert not outputs_agree({"data": {"text/plain": "0.003"}}, stored)[0]
    assert not outputs_agree({"data": {"text/html": "0.0015"}}, stored)[0]


def test_side_in_words_at_both_ends_of_the_tolerance():
    from dynform.book.checks import Measured, side

    assert side(Measured(2.0, 0.5), 1.0) == "above"
    assert side(Measured(2.0, 0.5), 3.0) == "below"
    assert side(Measured(2.0, 0.5), 2.2) == "within its rounding tolerance of"
