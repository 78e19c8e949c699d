"""The one execution of the chapters: which chapters it runs and the order it allows."""
from pathlib import Path

from dynform.book.execute import AFTER, schedule, toc_chapters

ROOT = Path(__file__).resolve().parents[1]


def test_chapters_that_read_others_wait_for_them():
    names = [p.stem for p in toc_chapters(ROOT)]
    order = dict(schedule(names))
    assert order["06_ledger"] == {"02_spiral", "03_center"}  # it reuses their runs
    independent = {n for n in names if "*" not in AFTER.get(n, ())}
    for name in ("08_benchmark", "execution"):  # they report the others' times: after all of them
        assert order[name] == independent
    assert order["04_irregular"] == set()


def test_every_toc_chapter_with_code_is_executed():
    names = {p.stem for p in toc_chapters(ROOT)}
    assert {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md")} <= names
    assert "execution" in names and "bibliography" not in names
