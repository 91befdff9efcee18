# AuditLens: `make run` and `make test` set everything up themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SAMPLE := resources/samples/contact-center
export QT_QPA_PLATFORM ?= offscreen

.PHONY: run test lint setup system bench bench-verify sample-resource clean

$(STAMP): pyproject.toml tools/system-deps.sh
	bash tools/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(VENV)/bin/auditlens verify $(SAMPLE)/bundles/*/* --trust $(SAMPLE)/truststore.json

lint: setup
	$(VENV)/bin/ruff check app tests bench
	$(VENV)/bin/ruff format --check app tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) -m pytest -q

bench: bench-verify

bench-verify: setup
	$(PY) bench/bench_verify.py --records 1000000

# Rebuilds the shipped sample case source (small, deterministic).
sample-resource: setup
	rm -rf $(SAMPLE)
	$(VENV)/bin/auditlens sample --out $(SAMPLE) --records 6000 --days 3 --seed 7

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
