# Two commands do everything on a fresh machine: `make book` and `make test`.
# Both create .venv from requirements.lock first (again whenever the lock or pyproject.toml
# change) and install lstm_lib into it. requirements.txt names the top-level packages;
# `make lock` resolves it into requirements.lock (every package at an exact version).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LOCK_VENV := .venv-lock
PIP_TOOLS := pip-tools==7.6.2

# The notebooks run torch and NumPy in one process, and the idle threads of each pool
# busy-wait and take the cores the other needs. Under make both pools wait about a
# millisecond, no more (lstm_lib/threads.py: SHORT_WAITS), from the start of every process;
# measured with benchmarks/thread_fight.py and benchmarks/nbval_threads.py. (PASSIVE, the
# old setting, makes torch's many small operations each wake a sleeping thread: nn.LSTM ran
# 1.8-3x slower.) Progress bars are for people, not for stored outputs, so they are off
# whenever make runs the notebooks.
export GOMP_SPINCOUNT := 30000
export OPENBLAS_THREAD_TIMEOUT := 20
export LSTM_LIB_PROGRESS := 0
export PYTHONHASHSEED := 0
export KERAS_BACKEND := torch

# make test runs the notebooks in NBVAL_WORKERS processes of NBVAL_THREADS threads each
# (2 x 1 uses both cores without oversubscribing them). Outputs must not depend on it:
# `make test NBVAL_WORKERS=1 NBVAL_THREADS=2` checks that.
NBVAL_WORKERS ?= 2
NBVAL_THREADS ?= 1
# The two slowest notebooks first (chapters 11 and 08), so that the two processes start on them
# at once and the short ones fill in after; .ci/test_kernels.sh keeps this order (xdist's
# default puts the notebooks with most cells first). On 2026-12-07, one run each, 2 x 1: 296 s
# in this order, 308 s in xdist's.
NB_SLOWEST := book/11_char_language_model.ipynb book/08_long_time_lags.ipynb
NB ?= $(NB_SLOWEST) $(filter-out $(NB_SLOWEST),$(sort $(wildcard book/*.ipynb)))

# Every nbval run has a cell timeout (nbval's default, 2,000 s per cell, let a hung kernel
# stall CI for half an hour). The slowest cell timed, cell 16 of
# book/08_long_time_lags.ipynb under the baseline kernels at 1 thread, took 325 s on a 2-core
# machine busy with other work, where its process got 17% of a core: about 60 s of CPU time.
# 600 s is 10 times that, and twice what it took on that busy machine. (Chapter 11, the other
# slow one, was not timed: every nbval table prints each run's slowest cell against this
# timeout.) A cell whose kernel dies does not wait for it: .ci/nbval_guard.py fails it within
# a second or two; only a kernel that hangs waits 600 s.
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with .ci/nbval_sanitize.cfg -p no:cacheprovider \
	--nbval-cell-timeout 600

.PHONY: help venv lock book test unit nbval test-kernels execute lab bench clean distclean \
	test-site site-checks chromium pdf texlive train check-checkpoints

help:
	@echo "make book      build the HTML book (warnings are errors)"
	@echo "make test      ruff, unit tests, checkpoint checks, and nbval over every notebook"
	@echo "make train     train the checkpoints from scratch (NAME=charlm-lstm for one)"
	@echo "make check-checkpoints  re-evaluate every checkpoint against its manifest"
	@echo "make test-kernels  nbval under each CPU-kernel profile, and a table of failures"
	@echo "make lock      re-resolve requirements.txt into requirements.lock"
	@echo "make test-site build the book, check its links, load every page in Chromium"
	@echo "make pdf       the whole book as one PDF (warnings are errors), in _build/latex/"
	@echo "make execute   re-run notebooks in place (NB=book/x.ipynb for one)"
	@echo "make lab       open the notebooks in JupyterLab"
	@echo "make bench     speed tables (benchmarks/)"
	@echo "make clean     remove build outputs and caches (distclean: and .venv)"

venv: $(STAMP)

# The venv holds exactly the lock: the pinned pip first, then every locked package, then
# lstm_lib (editable, no dependencies of its own). check_lock.py fails if requirements.txt
# and the lock disagree, or if `pip freeze` is not the lock.
$(STAMP): $(LOCK) requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$$(grep '^pip==' $(LOCK))"
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python .ci/check_lock.py requirements.txt $(LOCK)
	@touch $(STAMP)

# Re-resolve requirements.txt into requirements.lock with pip-tools, in a venv of its own
# (so pip-tools is not in the lock). Pins already in the lock are kept where they still fit;
# `make lock UPGRADE=1` re-resolves every package to the newest version the pins allow.
lock:
	@test -x $(LOCK_VENV)/bin/pip-compile || { $(PYTHON) -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/python -m pip install --quiet "$$(grep '^pip==' requirements.txt)" \
	  $(PIP_TOOLS); }
	$(LOCK_VENV)/bin/pip-compile --quiet --allow-unsafe --strip-extras --no-emit-index-url \
	  --no-emit-find-links $(if $(UPGRADE),--upgrade) --output-file $(LOCK) requirements.txt

# --all: Sphinx re-reads every page. An incremental build does not repeat the warnings of pages
# it does not re-read, so a second `make book` after a failed one would pass silently.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "Book: file://$(CURDIR)/_build/html/index.html"

test: unit check-checkpoints nbval

# Trained once, checked always (lstm_lib/checkpoints.py). `make train NAME=charlm-lstm`
# trains one checkpoint of checkpoints/index.json from scratch (several names: in turn;
# no NAME: all of them) and prints its time. check-checkpoints re-evaluates every
# checkpoint's stored weights, replays the start of its training and checks its data's
# SHA-256 against its manifest (CHECKPOINTS= names or directories, to check some only).
NAME ?=
CHECKPOINTS ?=

train: $(STAMP)
	$(BIN)/python -m lstm_lib.checkpoints train $(NAME)

check-checkpoints: $(STAMP)
	$(BIN)/python -m lstm_lib.checkpoints check $(CHECKPOINTS)

unit: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(NBVAL_WORKERS) -p no:cacheprovider tests

# check_notebooks.py first: nbval skips cells that were never run and cannot see that.
# KERNELS=avx2|baseline runs them under another CPU-kernel profile (.ci/kernel_profiles.sh).
KERNELS ?= native

nbval: $(STAMP)
	$(BIN)/python .ci/check_notebooks.py $(NB)
	NBVAL_FLAGS="$(NBVAL_FLAGS)" NBVAL_WORKERS=$(NBVAL_WORKERS) NBVAL_THREADS=$(NBVAL_THREADS) \
	  bash .ci/test_kernels.sh "$(KERNELS)" $(NB)

# The notebooks under each CPU-kernel profile (.ci/kernel_profiles.sh): every stored output
# must hold whichever kernels a reader's CPU picks. Prints a table profile x failing cells.
KERNEL_PROFILES ?= native avx2 baseline

test-kernels: $(STAMP)
	$(BIN)/python .ci/check_notebooks.py $(NB)
	NBVAL_FLAGS="$(NBVAL_FLAGS)" NBVAL_WORKERS=$(NBVAL_WORKERS) NBVAL_THREADS=$(NBVAL_THREADS) \
	  bash .ci/test_kernels.sh "$(KERNEL_PROFILES)" $(NB)

# The site as a reader sees it: internal links and anchors, then every page in headless
# Chromium (Debian's package, installed here if missing; Playwright drives it, offline).
# Screenshots land in _build/screenshots/.
# The browser is the first real one found (.ci/site_test.py --find-browser): Debian's
# chromium, or Google Chrome (GitHub's runners). With none, Debian's chromium is installed.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

test-site: book site-checks

site-checks: $(STAMP)
	@$(BIN)/python .ci/site_test.py --find-browser || $(MAKE) --no-print-directory chromium
	$(BIN)/python .ci/check_links.py _build/html
	$(BIN)/python .ci/site_test.py _build/html

chromium:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The whole book as one PDF: Sphinx's LaTeX writer, XeLaTeX, and the layout in book/_latex/.
# Debian's TeX Live is installed here if a tool, a LaTeX package or a font is missing (about
# 400 MB, 2 minutes). max_print_line keeps the log unwrapped for .ci/check_pdf.py, which
# checks the result (.ci/run runs it after this).
TEX_PACKAGES := texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra \
	texlive-xetex tex-gyre fonts-freefont-otf fonts-dejavu-core latexmk xindy
PDF := _build/latex/lstms-executed.pdf

pdf: $(STAMP)
	@$(BIN)/python .ci/check_pdf.py --find-tools || $(MAKE) --no-print-directory texlive
	rm -rf _build/latex
	max_print_line=10000 LATEXOPTS="-interaction=nonstopmode -halt-on-error" \
	  $(BIN)/jupyter-book build . --builder pdflatex --all -W -n --keep-going
	@echo "PDF: file://$(CURDIR)/$(PDF) (check it: $(BIN)/python .ci/check_pdf.py)"

texlive:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	  $(TEX_PACKAGES)

execute: $(STAMP)
	OMP_NUM_THREADS=$(NBVAL_THREADS) MKL_NUM_THREADS=$(NBVAL_THREADS) \
	  $(BIN)/python .ci/execute_notebooks.py $(NB)

lab: $(STAMP)
	$(BIN)/jupyter lab book/

# BENCH_KERNELS=avx2 times the workers under another CPU-kernel profile.
BENCH_KERNELS ?= native

bench: $(STAMP)
	$(BIN)/python benchmarks/lstm_speed.py --kernels $(BENCH_KERNELS)
	$(BIN)/python benchmarks/gemm_layout.py --kernels $(BENCH_KERNELS)
	$(BIN)/python benchmarks/thread_fight.py --kernels $(BENCH_KERNELS)
	$(BIN)/python benchmarks/scan_speed.py --kernels $(BENCH_KERNELS)
	$(BIN)/python benchmarks/padding_speed.py

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -not -path "./$(VENV)/*" -exec rm -rf {} +
	find book -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) $(LOCK_VENV) *.egg-info
