# The two commands README.md names. Each runs the idempotent set-up first (seconds when all is there).
PY := .venv/bin/python

.PHONY: setup demo test lint bench

setup:
	bash scripts/setup.sh

demo: setup
	$(PY) -m srl_swe.demo

test: setup
	$(PY) -m pytest

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
