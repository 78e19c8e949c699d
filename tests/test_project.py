"""The project's own promises: exact pins from one source, notebooks in sync, parameters cells."""
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.md"))


def _requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_every_requirement_is_pinned_exactly():
    pins = _requirements()
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"].startswith("1.")
    for name in ("jupytext", "torchdiffeq", "matplotlib", "nbval", "papermill", "myst-nb"):
        assert name in pins


def test_environment_yml_reads_the_same_pins():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-r requirements.txt" in pip
    assert not any("==" in d for d in env["dependencies"] if isinstance(d, str) and not d.startswith("python"))


def test_pyproject_torch_pin_agrees():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "torch==" + _requirements()["torch"] in deps


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    for md in CHAPTERS:
        assert f"chapters/{md.stem}" in toc


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_pair_in_sync(md):
    ipynb = md.with_suffix(".ipynb")
    assert ipynb.exists(), f"{ipynb.name} missing: run `make notebooks`"
    text = jupytext.read(md)
    paired = nbformat.read(ipynb, as_version=4)
    assert [(c.cell_type, c.source.strip()) for c in text.cells] == \
        [(c.cell_type, c.source.strip()) for c in paired.cells], "pair out of sync: run `make notebooks`"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_parameters_cell_first_code_cell(md):
    nb = jupytext.read(md)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged parameters"
    assert re.search(r"^seed = ", code[0].source, re.M)


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_stored_outputs_executed(md):
    paired = nbformat.read(md.with_suffix(".ipynb"), as_version=4)
    code = [c for c in paired.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "stored notebook not executed: run `make notebooks`"
    assert not any(o.get("output_type") == "error" for c in code for o in c.outputs)
