# Backpropagation, executable — the two commands:
#   make serve   set up .venv, build the book strictly (every cell executed), serve it on 127.0.0.1:8000
#   make test    set up .venv, then the whole test suite (the strict book build included)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)
# Kernels must choose their own Matplotlib backend (ipykernel's inline one) or plt.show() shows no
# figure on the pages, in make lab or in Voila: MPLBACKEND is never passed on, even from the caller's
# environment.  (pytest's own process uses Agg: tests/conftest.py.)
unexport MPLBACKEND

.PHONY: help setup system-deps system-deps-npm book serve lab release autograde bench bench-torch bench-mlp test test-fast clean constraints

help:
	@echo "make serve   build the book and serve it on http://127.0.0.1:$(PORT)"
	@echo "make book    build the book strictly into _build/html (EDITION=student: _build/student-html)"
	@echo "make test    run the whole test suite (includes the strict book build)"
	@echo "make lab     open the chapters as notebooks in JupyterLab (127.0.0.1)"
	@echo "make release CHAPTER=<id>                     the student notebook of a chapter (nbgrader)"
	@echo "make autograde CHAPTER=<id> SUBMISSIONS=<dir>  grade a folder of submissions, export grades.csv"
	@echo "make bench   run the benchmarks, rewrite benchmarks/README.md (make bench-mlp: bpkit vs NumPy and PyTorch only)"
	@echo "make clean   remove _build (keeps .venv)"

# -- set-up: a virtual environment with the pinned requirements and bpkit (editable) ------------
$(STAMP): requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed, found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

# -- the book ---------------------------------------------------------------------------
# Strict: a raising cell fails the build (nb_execution_raise_on_error in _config.yml), and so
# does any Sphinx warning (-W), any broken reference (-n); --keep-going reports them all.
# jupyter-cache keys on a notebook's code only, so when bpkit or the configuration changes the
# cached outputs (and Sphinx's record of what is up to date) are dropped: every chapter re-runs.
INPUTS_HASH = $(shell cat $(sort $(wildcard bpkit/*.py bpkit/*/*.py)) _config.yml | sha256sum | cut -c1-16)
# Sphinx does not overwrite static files that already exist, so a change of the site's own files
# (styles, scripts, the Sphinx extension, the npm lockfile) rebuilds the HTML from scratch (the
# executed notebooks stay cached).
SITE_HASH = $(shell cat $(sort $(wildcard _assets/* _ext/*.py)) package-lock.json | sha256sum | cut -c1-16)

# MathJax, require.js and the widget manager come from npm (pinned in package-lock.json) and are served
# by the site itself; tools/offline_assets.py prints which configuration to build with (the CDN
# fallback when npm is missing).
# EDITION=student: the student edition (tools/edition.py): the same chapters without solutions, hidden tests
# and the corrections that answer an exercise, built from _build/student-src into _build/student-html.
ifeq ($(EDITION),student)
book: $(STAMP)
	@mkdir -p _build
	@if [ "$$(cat _build/.student-inputs-hash 2>/dev/null)" != "$(INPUTS_HASH)" ]; then \
	  rm -rf _build/student-src/_build/.jupyter_cache _build/student-src/_build/.doctrees; fi
	@if [ "$$(cat _build/.student-site-hash 2>/dev/null)" != "$(SITE_HASH)" ]; then \
	  rm -rf _build/student-src/_build/html _build/student-src/_build/.doctrees; fi
	$(BIN)/python tools/offline_assets.py > _build/.book-config
	STUDENT_URL="$(STUDENT_URL)" STUDENT_BRANCH="$(STUDENT_BRANCH)" $(BIN)/python tools/edition.py student "$$(cat _build/.book-config)" > _build/.student-config
	$(BIN)/jupyter-book build _build/student-src -W -n --keep-going --config "$$(cat _build/.student-config)"
	ln -sfn student-src/_build/html _build/student-html
	@echo "$(INPUTS_HASH)" > _build/.student-inputs-hash
	@echo "$(SITE_HASH)" > _build/.student-site-hash
else
book: $(STAMP)
	@mkdir -p _build
	@if [ "$$(cat _build/.inputs-hash 2>/dev/null)" != "$(INPUTS_HASH)" ]; then \
	  echo "bpkit or _config.yml changed: every chapter will be executed again"; \
	  rm -rf _build/.jupyter_cache _build/.doctrees; fi
	@if [ "$$(cat _build/.site-hash 2>/dev/null)" != "$(SITE_HASH)" ]; then \
	  rm -rf _build/html _build/.doctrees _build/offline-assets; fi
	$(BIN)/python tools/offline_assets.py > _build/.book-config
	$(BIN)/jupyter-book build . -W -n --keep-going --config "$$(cat _build/.book-config)"
	@echo "$(INPUTS_HASH)" > _build/.inputs-hash
	@echo "$(SITE_HASH)" > _build/.site-hash
endif

# Beyond Python: npm for the site's scripts (and, for the tests, Chromium and the autograder's sandbox
# bubblewrap), installed when missing with root or sudo, else make stops with the one command to run
# (tools/system-deps.sh).
system-deps:
	@tools/system-deps.sh chromium npm bubblewrap

serve: system-deps-npm book
	@echo ""
	@echo "  The book is at  http://127.0.0.1:$(PORT)/   (Ctrl-C stops the server)"
	@echo ""
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

system-deps-npm:
	@tools/system-deps.sh npm

# -- tests --------------------------------------------------------------------------------
test: system-deps book
	$(BIN)/python -m pytest

# JupyterLab on this machine, with the chapters opening as notebooks (jupytext), on 127.0.0.1 only.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings
# jupyterlab-myst renders the chapters' MyST (roles, equations, admonitions) in the Markdown cells.
# LAB_ARGS: more options for the server (tests/test_lab.py: a free port, no browser, no token).
lab: $(STAMP)
	@mkdir -p $(LAB_SETTINGS)
	cp tools/lab-overrides.json $(LAB_SETTINGS)/overrides.json
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) chapters/notation.md

# -- coursework (nbgrader) ----------------------------------------------------------------
# make release CHAPTER=notation                      → coursework/notation/release/notation/notation.ipynb
# make autograde CHAPTER=notation SUBMISSIONS=dir    → coursework/notation/grades.csv (+ canvas.csv, moodle.csv,
#   feedback/, report.txt; exit 2 when a submission is odd); optional ROSTER= DUE= PENALTY= MAX_DAYS= WORKERS= TIMEOUT=
release: $(STAMP)
	@test -n "$(CHAPTER)" || { echo "usage: make release CHAPTER=<chapter>   e.g. make release CHAPTER=notation"; exit 2; }
	$(BIN)/python tools/coursework.py release $(CHAPTER)

autograde: $(STAMP)
	@test -n "$(CHAPTER)" -a -n "$(SUBMISSIONS)" || { echo "usage: make autograde CHAPTER=<chapter> SUBMISSIONS=<folder of <student>.ipynb> [ROSTER=roster.csv] [DUE=2026-12-01T23:59] [PENALTY=10] [MAX_DAYS=7] [WORKERS=2] [TIMEOUT=60]"; exit 2; }
	$(BIN)/python tools/coursework.py autograde $(CHAPTER) $(SUBMISSIONS) $(if $(ROSTER),--roster $(ROSTER)) $(if $(DUE),--due $(DUE)) $(if $(PENALTY),--penalty $(PENALTY)) $(if $(MAX_DAYS),--max-days $(MAX_DAYS)) $(if $(WORKERS),--workers $(WORKERS)) $(if $(TIMEOUT),--timeout $(TIMEOUT))

# -- benchmarks: tables printed, JSON in benchmarks/results/, benchmarks/README.md rewritten from it -----
# PyTorch (CPU build, torch==2.13.0 only: any other spec fetches GBs of CUDA) is installed for the benchmark's
# comparison only, when missing; make test never needs it.  If it cannot be installed the benchmark says so.
bench-torch: $(STAMP)
	@$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0 -c constraints.txt \
	  || echo "(PyTorch could not be installed: the torch comparison is skipped)"

# bpkit against the hand-written NumPy pass and PyTorch alone; rewrites only that section of benchmarks/README.md
bench-mlp: bench-torch
	cd benchmarks && ../$(BIN)/python bench_mlp.py
	cd benchmarks && ../$(BIN)/python report.py mlp

bench: bench-torch
	cd benchmarks && ../$(BIN)/python bench_mlp.py
	cd benchmarks && ../$(BIN)/python bench_per_neuron.py
	cd benchmarks && ../$(BIN)/python bench_widgets.py
	cd benchmarks && PATH="$(CURDIR)/$(BIN):$$PATH" ../$(BIN)/python bench_voila.py
	cd benchmarks && ../$(BIN)/python bench_book.py
	cd benchmarks && ../$(BIN)/python bench_grading.py
	cd benchmarks && ../$(BIN)/python report.py

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not book and not browser and not slow"

constraints: $(STAMP)
	( echo "# Every package the pinned requirements resolve to on Python 3.11 (pip freeze of a fresh .venv)."; \
	  echo "# Regenerate with: make constraints"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -vi '^bpkit' ) > constraints.txt

clean:
	rm -rf _build chapters/*.ipynb
