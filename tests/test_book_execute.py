"""The one execution of the chapters: which chapters it runs and the order it allows."""
from pathlib import Path

from dynform.book.execute import AFTER, schedule, toc_chapters

ROOT = Path(__file__).resolve().parents[1]


def test_chapters_that_read_others_wait_for_them():
    names = [p.stem for p in toc_chapters(ROOT)]
    order = dict(schedule(names))
    assert order["06_ledger"] == {"02_spiral", "03_center", "10_readings"}  # it reuses their runs
    independent = {n for n in names if "*" not in AFTER.get(n, ())}
    for name in ("08_benchmark", "execution"):  # they report the others' times: after all of them
        assert order[name] == independent
    assert order["04_irregular"] == set()
    assert [n for n, _ in schedule(names)][:2] == ["10_readings", "04_irregular"]  # the longest start first


def test_every_toc_chapter_with_code_is_executed():
    names = {p.stem for p in toc_chapters(ROOT)}
    assert {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]_*.md")} <= names
    assert "execution" in names and "bibliography" not in names


def test_a_failing_cell_stops_the_execution_naming_the_chapter(tmp_path, monkeypatch):
    import pytest

    from dynform.book.execute import execute

    header = (ROOT / "chapters" / "execution.md").read_text().split("---\n")[1]
    good, bad = tmp_path / "good.md", tmp_path / "bad.md"
    good.write_text(f"---\n{header}---\n\n# Good\n\n```{{code-cell}} ipython3\nprint(1 + 1)\n```\n")
    bad.write_text(f"---\n{header}---\n\n# Bad\n\n```{{code-cell}} ipython3\nraise ValueError('lr: bad')\n```\n")
    monkeypatch.chdir(tmp_path)
    times = execute([good], jobs=1)
    assert set(times) == {"good"} and (tmp_path / "_build/executed/good.ipynb").is_file()
    with pytest.raises(SystemExit, match=r"chapter bad failed(.|\n)*lr: bad"):
        execute([good, bad], jobs=2)


def test_kernels_started_at_once_do_not_collide(tmp_path, monkeypatch):
    import nbformat

    from dynform.book.execute import execute

    header = (ROOT / "chapters" / "execution.md").read_text().split("---\n")[1]
    pages = []
    for k in range(4):
        page = tmp_path / f"page{k}.md"
        page.write_text(f"---\n{header}---\n\n# Page {k}\n\n```{{code-cell}} ipython3\nprint({k} * 2)\n```\n")
        pages.append(page)
    monkeypatch.chdir(tmp_path)
    assert set(execute(pages, jobs=4)) == {f"page{k}" for k in range(4)}
    for k in range(4):
        nb = nbformat.read(tmp_path / f"_build/executed/page{k}.ipynb", as_version=4)
        assert nb.cells[-1].outputs[0]["text"] == f"{k * 2}\n"
    assert not list(Path(tmp_path).glob("**/kernel-*"))  # the sockets went with their kernels
