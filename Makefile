# The two commands of the README: `make demo` and `make test`. Both set up what they need.
.PHONY: setup demo test lint typecheck unit bench

VENV := .venv/bin
PYTEST_WORKERS ?= 2

setup:
	@bash scripts/setup.sh

demo: setup
	@$(VENV)/faultfinder lab demo

lint:
	$(VENV)/ruff check src lab/src tests benchmarks
	$(VENV)/ruff format --check src lab/src tests benchmarks
	$(VENV)/lint-imports

typecheck:
	$(VENV)/mypy

test: setup lint typecheck
	$(VENV)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

unit: setup
	$(VENV)/python -m pytest tests/unit -q

bench: setup
	$(VENV)/python benchmarks/bench_diagnose.py
