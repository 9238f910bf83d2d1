# docvec: `make build` sets everything up and builds the bundled sample; `make test` runs the suite
# (in random order, two workers), `make test-fast` only its unit tier (no dbt build; about 60 s).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.docvec-installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: build install test test-fast lint docs serve-docs bench clean

build: $(STAMP)
	$(BIN)/dbt build

install: $(STAMP)

# torch comes first and alone: a plain resolve of `torch` would pull the multi-GB CUDA build.
$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest tests/python -n 2 --durations=40

# The unit tier only (tiers: see tests/python/conftest.py): pure code, no dbt build.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m unit -n 2

# The linters alone (make test runs them too, in tests/python/test_lint.py).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint models tests
	$(BIN)/dbt parse --quiet && $(BIN)/dbt-score lint --manifest target/manifest.json

docs: $(STAMP)
	$(BIN)/dbt docs generate

serve-docs: docs
	$(BIN)/dbt docs serve

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt -c constraints.txt
	$(BIN)/python -m bench

clean:
	rm -rf target logs docvec.duckdb docvec.duckdb.wal
