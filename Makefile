# Headroom: `make demo` runs everything on this machine; `make test` runs every test against real servers.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: help install frontend openapi system-deps test test-unit lint docs demo bench screenshots clean

help:
	@echo "make demo    - install, build, migrate, load the demo fleet, train, serve at http://127.0.0.1:8000"
	@echo "make test    - bring up PostgreSQL, Redis, InfluxDB and Chromium as needed and run every test"
	@echo "make lint    - ruff, import-linter (the layers) and mypy"
	@echo "make docs    - the documentation site into site/ (mkdocs build --strict)"
	@echo "make bench   - right-sizing, autoscaling and forecast benchmarks into bench/results (hours with AutoARIMA; see README)"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[ml,cloud,dev]"
	@touch $@

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html frontend/openapi.json -type f 2>/dev/null)
	cd frontend && npm run gen && npm run build

frontend: frontend/dist/index.html

# Regenerate the OpenAPI schema and the typed client after changing the API.
openapi: $(STAMP)
	$(PY) -m api.openapi > frontend/openapi.json
	cd frontend && npm run gen

system-deps:
	bash scripts/system-deps.sh

test: $(STAMP) system-deps frontend
	$(PY) -m pytest

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	cd frontend && npm run typecheck

# The documentation site: reference pages from the OpenAPI schema and the Typer app, then a strict build into site/.
docs: $(STAMP)
	$(PY) scripts/gen_reference.py
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# Benchmarks: run by hand, never part of `make test`; results land in bench/results/.
bench: $(STAMP)
	bash bench/rightsize/run.sh
	bash bench/autoscale/run.sh
	bash bench/run_forecast_bench.sh
	$(PY) bench/distributed_bench.py
	$(PY) bench/dashboard_bench.py
	$(PY) bench/demo_cost.py
	$(PY) bench/abuse_bench.py

# README screenshots of the dashboard, made from the demo (docs/screenshots/).
screenshots: $(STAMP) frontend
	$(PY) scripts/screenshots.py

demo: $(STAMP) frontend
	$(VENV)/bin/headroom demo

clean:
	rm -rf var frontend/dist site
