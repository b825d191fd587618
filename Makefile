# Two entry points for a fresh machine: `make run` and `make test`.
# Both create .venv with the package installed when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bytecode test-services lint typecheck content-check schemas bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	# uv installs ~10x faster than pip; the project never depends on torch (see README)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

# Bytecode for our own sources. This machine sets PYTHONDONTWRITEBYTECODE, so without it
# every process compiles ~1,000 modules from source: about 2 s more to start a server and
# a third more for a first CLI answer. Up-to-date files are skipped.
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q -j 0 src

## Main job: the web app, REST API and CDS Hooks service on http://127.0.0.1:8000
## (SQLite file var/allguide.db; migrations, content import and content check at start).
run: $(STAMP) bytecode
	$(BIN)/allguide serve

## Whole test suite: lint, types, content check, tests (SQLite and a real PostgreSQL,
## Debian chromium, a loopback FHIR server: installed here when missing, started by the tests).
test: $(STAMP) bytecode test-services lint typecheck content-check
	$(BIN)/pytest

test-services:
	scripts/setup-test-services.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

content-check: $(STAMP)
	$(BIN)/allguide content check

## Regenerate content/schemas/*.json and docs/patient-input.schema.json from the pydantic models.
schemas: $(STAMP)
	$(BIN)/allguide content export-schemas
	$(BIN)/python -m allguide.fhir.docs

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_ask.py --set all
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_hooks.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
