# Trainyard's two entry points: `make demo` and `make test`. Every install step lives here.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo demo-sim test lint typecheck unit services bench bench-hpo screenshots clean reliability

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/trainyard preview examples/digits_cnn/adaptive.yaml
	$(BIN)/python -m trainyard.cli.demo_run

# The searcher on its own: an adaptive ASHA preview and a simulated search in simulated time.
demo-sim: install
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
	. scripts/test_env.sh && $(BIN)/python -m pytest -q -p no:cacheprovider -m "not reliability" tests

# Fault injection (kill -9 of trials and master) and the other long `reliability` runs; prints
# the results table and writes it into docs/reliability.md. RELIABILITY_SEED=N replays a run.
reliability: install services
	. scripts/test_env.sh && $(BIN)/python tests/reliability/run_reliability.py

unit: install
	$(BIN)/python -m pytest -q tests/unit

# Benchmarks print their figures; none of them is part of `make test`.
bench: install services
	$(BIN)/python bench/searcher_speed.py
	$(BIN)/python bench/trainer_overhead.py
	. scripts/test_env.sh && $(BIN)/python bench/master_scale.py --db both --points 1000000
	$(BIN)/python bench/ui_paint.py --points 2000000

bench-hpo: install
	$(BIN)/pip install -q -r bench/hpo/requirements.txt
	$(BIN)/python -m bench.hpo.run_all

screenshots: install services
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
