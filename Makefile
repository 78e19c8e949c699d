# The two commands of the README:
#   make book   set up .venv from the pins, execute every chapter once (all cores), build _build/html
#   make test   build the book, install Chromium if missing, run the unit tests, nbval over the
#               chapters (against the book's own execution), the book checks and the browser test,
#               on all cores
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
export OMP_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
JOBS   ?= $(shell nproc)

.PHONY: book test env browser notebooks clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

env: $(STAMP)

# The chapters execute first, JOBS at a time, sharing repeated runs (_build/runs); the build then
# reads them from its cache (_build/.jupyter_cache) and executes nothing.
book: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute _build/screenshots \
	  _build/executed _build/.jupyter_cache _build/runs
	DYNFORM_RUN_CACHE=$(CURDIR)/_build/runs $(BIN)/python -m dynform.book.execute --jobs $(JOBS)
	$(BIN)/jupyter-book build . -W -n --keep-going

# Debian's Chromium for the browser test (tests/test_browser.py); nothing is downloaded by the tests.
browser:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

# nbval compares the stored chapters with the execution the book was built from (DYNFORM_EXECUTED,
# see chapters/conftest.py) instead of executing them again.
test: book browser
	DYNFORM_EXECUTED=_build/executed $(BIN)/python -m pytest -n $(JOBS)

# Re-execute the paired notebooks: their stored outputs are what nbval compares against. They share
# repeated runs (the setup search's findings among them) through a run cache of their own.
notebooks: $(STAMP)
	$(BIN)/jupytext --sync chapters/[0-9][0-9]_*.md
	rm -rf _build/notebook-runs
	ls chapters/[0-9][0-9]_*.ipynb | DYNFORM_RUN_CACHE=$(CURDIR)/_build/notebook-runs \
	  xargs -P $(JOBS) -I{} $(BIN)/jupyter execute --inplace --timeout=900 {}

clean:
	rm -rf _build
