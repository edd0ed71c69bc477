# Two commands do everything on a fresh machine: `make book` and `make test`.
# Both create .venv from requirements.txt first (again whenever requirements.txt or
# pyproject.toml change) and install lstm_lib into it.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The notebooks run torch and NumPy in one process: OpenMP threads that spin make one
# slow down the other, so let idle threads sleep. Progress bars are for people, not for
# stored outputs, so they are off whenever make runs the notebooks.
export OMP_WAIT_POLICY := PASSIVE
export LSTM_LIB_PROGRESS := 0
export PYTHONHASHSEED := 0
export KERAS_BACKEND := torch

# make test runs the notebooks in NBVAL_WORKERS processes of NBVAL_THREADS threads each
# (2 x 1 uses both cores without oversubscribing them). Outputs must not depend on it:
# `make test NBVAL_WORKERS=1 NBVAL_THREADS=2` checks that.
NBVAL_WORKERS ?= 2
NBVAL_THREADS ?= 1
NB ?= $(sort $(wildcard book/*.ipynb))

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with .ci/nbval_sanitize.cfg -p no:cacheprovider

.PHONY: help venv book test unit nbval execute lab bench clean distclean test-site site-checks

help:
	@echo "make book      build the HTML book (warnings are errors)"
	@echo "make test      ruff, unit tests, and nbval over every notebook"
	@echo "make test-site build the book, check its links, load every page in Chromium"
	@echo "make execute   re-run notebooks in place (NB=book/x.ipynb for one)"
	@echo "make lab       open the notebooks in JupyterLab"
	@echo "make bench     speed tables (benchmarks/)"
	@echo "make clean     remove build outputs and caches (distclean: and .venv)"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# --all: Sphinx re-reads every page. An incremental build does not repeat the warnings of pages
# it does not re-read, so a second `make book` after a failed one would pass silently.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "Book: file://$(CURDIR)/_build/html/index.html"

test: unit nbval

unit: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(NBVAL_WORKERS) -p no:cacheprovider tests

# check_notebooks.py first: nbval skips cells that were never run and cannot see that.
nbval: $(STAMP)
	$(BIN)/python .ci/check_notebooks.py $(NB)
	OMP_NUM_THREADS=$(NBVAL_THREADS) MKL_NUM_THREADS=$(NBVAL_THREADS) \
	  $(BIN)/python -m pytest -q $(NBVAL_FLAGS) -n $(NBVAL_WORKERS) --dist loadfile $(NB)

# The site as a reader sees it: internal links and anchors, then every page in headless
# Chromium (Debian's package, installed here if missing; Playwright drives it, offline).
# Screenshots land in _build/screenshots/.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

test-site: book site-checks

site-checks: $(STAMP) $(CHROMIUM)
	$(BIN)/python .ci/check_links.py _build/html
	$(BIN)/python .ci/site_test.py _build/html

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

execute: $(STAMP)
	OMP_NUM_THREADS=$(NBVAL_THREADS) MKL_NUM_THREADS=$(NBVAL_THREADS) \
	  $(BIN)/python .ci/execute_notebooks.py $(NB)

lab: $(STAMP)
	$(BIN)/jupyter lab book/

bench: $(STAMP)
	$(BIN)/python benchmarks/lstm_speed.py

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -not -path "./$(VENV)/*" -exec rm -rf {} +
	find book -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) *.egg-info
