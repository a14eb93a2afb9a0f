# PoseBench: `make run` sets up from nothing and starts the dashboard;
# `make test` sets up and runs the tests. See docs/setup.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV   ?= .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?=
TEST_WORKERS ?= 2
BENCH_ARGS  ?=
ARTIFACTS := test-artifacts

# Models are looked for in ../shared/models when it exists (and no other
# POSEBENCH_MODEL_DIRS is set); otherwise they are fetched into the user cache.
ifeq ($(strip $(POSEBENCH_MODEL_DIRS)),)
  ifneq ($(wildcard ../shared/models),)
    export POSEBENCH_MODEL_DIRS := $(abspath ../shared/models)
  endif
endif
# Likewise the clips in ../shared/clips are offered on the Clip page.
ifeq ($(strip $(POSEBENCH_CLIP_DIRS)),)
  ifneq ($(wildcard ../shared/clips),)
    export POSEBENCH_CLIP_DIRS := $(abspath ../shared/clips)
  endif
endif
# Largest upload in MB; Streamlit's own cap (server.maxUploadSize) is set to match.
POSEBENCH_UPLOAD_MB ?= 200
export POSEBENCH_UPLOAD_MB

.PHONY: help setup chromium run test lint lint-checks bench clean-venv

help:
	@echo "make setup    create .venv, install pinned packages, fetch models and the sample clip"
	@echo "make run      setup, then start the dashboard on http://$(ADDRESS):$(PORT) (PORT=..., ADDRESS=..., POSEBENCH_UPLOAD_MB=...)"
	@echo "make test     setup + Debian chromium, then lint beside the whole test suite (TEST_WORKERS=2 ...)"
	@echo "make lint     ruff (lint and format), the layer contract (import-linter) and mypy"
	@echo "make bench    setup, then the performance benchmark (BENCH_ARGS=...)"

setup:
	@bash scripts/setup.sh

chromium:
	@bash scripts/install_chromium.sh

run: setup
	@PYTHONPATH=src $(PY) -c 'from posebench.dashboard import launch; launch.clear_pages_folder(".")'
	$(PY) -m streamlit run app.py --server.headless true --server.port $(PORT) \
		--server.address $(ADDRESS) --server.maxUploadSize $(POSEBENCH_UPLOAD_MB) \
		--browser.gatherUsageStats false

# Set-up and chromium first; then lint runs beside the tests (its output follows theirs) while
# the tests run in TEST_WORKERS pytest-xdist processes (0: in one process), a whole test file
# per worker at a time, so a file's module fixtures (real runs, servers) are made once. Files go
# out in the order tests/conftest.py collects them (slowest first): by default pytest-xdist sends
# the files with the most tests first, and the slow one-test browser files came last.
# The last line is the total time, set-up included. pytest exit status 5 means "no tests ran":
# that is a failure too, and so is a lint failure.
test:
	@start=$$(date +%s); $(MAKE) --no-print-directory setup chromium || exit 1; \
	mkdir -p $(ARTIFACTS); \
	$(MAKE) --no-print-directory lint-checks > $(ARTIFACTS)/lint.log 2>&1 & lint=$$!; \
	status=0; $(PY) -m pytest -q -rfE --durations=15 --timeout=900 -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder \
		--junitxml=$(ARTIFACTS)/junit.xml $(PYTEST_ARGS) || status=$$?; \
	lint_status=0; wait $$lint || lint_status=$$?; \
	echo "--- make lint (ran beside the tests) ---"; cat $(ARTIFACTS)/lint.log; \
	echo "make test: $$(( $$(date +%s) - start )) s in all (set-up, lint and tests)"; \
	if [ $$status -eq 5 ]; then echo "make test: FAILED: pytest collected no tests" >&2; exit 1; fi; \
	if [ $$lint_status -ne 0 ]; then echo "make test: FAILED: lint (see above)" >&2; exit 1; fi; \
	exit $$status

# Lint: ruff (lint + format), the layer contract (import-linter) and mypy.
lint: setup
	@$(MAKE) --no-print-directory lint-checks

# The checks alone, without set-up (make test runs them beside the tests).
lint-checks:
	$(VENV)/bin/ruff check src tests app.py scripts
	$(VENV)/bin/ruff format --check src tests app.py scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: setup
	$(PY) -m posebench perf $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)
