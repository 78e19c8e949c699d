# The two commands of the README:
#   make book   set up .venv from the pins, execute every chapter, build _build/html
#   make test   build the book, install Chromium if missing, run the unit tests, nbval over the
#               chapters, the book checks and the browser test of _build/html
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test env browser notebooks clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

env: $(STAMP)

book: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute _build/screenshots
	$(BIN)/jupyter-book build . -W -n --keep-going

# Debian's Chromium for the browser test (tests/test_browser.py); nothing is downloaded by the tests.
browser:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

test: book browser
	$(BIN)/python -m pytest

# Re-execute the paired notebooks: their stored outputs are what nbval compares against.
notebooks: $(STAMP)
	$(BIN)/jupytext --sync chapters/[0-9][0-9]_*.md
	for nb in chapters/*.ipynb; do \
	  $(BIN)/jupyter execute --inplace --timeout=900 "$$nb" || exit 1; \
	done

clean:
	rm -rf _build
