# Trainyard's two entry points: `make demo` and `make test`. Every install step lives here.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint typecheck unit services bench bench-hpo screenshots clean

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m trainyard.demo

lint: install
	$(BIN)/ruff check trainyard tests bench examples docs
	$(BIN)/ruff format --check trainyard

typecheck: install
	$(BIN)/mypy trainyard

services:
	bash scripts/ensure_postgres.sh
	bash scripts/ensure_chromium.sh

test: install lint typecheck services
	. scripts/test_env.sh && $(BIN)/python -m pytest -q -p no:cacheprovider tests

unit: install
	$(BIN)/python -m pytest -q tests/unit

bench: install
	$(BIN)/python bench/searcher_speed.py
	$(BIN)/python bench/trainer_overhead.py
	$(BIN)/python bench/master_scale.py

bench-hpo: install
	$(BIN)/pip install -q -r bench/hpo/requirements.txt
	$(BIN)/python -m bench.hpo.run_all

screenshots: install services
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
