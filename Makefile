# Every target sets up .venv itself, so a fresh machine needs nothing else.
PYTHON ?= python3
# Test processes (pytest-xdist): one per core, at most 4. `make test PYTEST_WORKERS=0` runs in one.
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ "$$n" -gt 4 ] && n=4; echo $$n)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The GOV.UK Frontend files the pages use, from the npm registry (frontend/package-lock.json).
GOVUK := api/web/static/govuk/govuk-frontend.min.css

.PHONY: demo test test-fast lint typecheck bench serve wheel-check clean

$(GOVUK): frontend/package.json frontend/package-lock.json frontend/build.py
	@command -v npm >/dev/null || { echo "error: npm (Node.js) is needed once, to fetch GOV.UK Frontend"; exit 1; }
	cd frontend && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(PYTHON) frontend/build.py

$(STAMP): pyproject.toml setup.py $(GOVUK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,planning]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/foodmatch demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The unit tier: no server, database or browser; runs in well under a minute.
FAST_TESTS := tests/matching tests/test_boundaries.py tests/api/record/test_redaction.py \
	tests/api/record/test_redaction_policy.py tests/api/record/test_redaction_quality.py \
	tests/api/record/test_workdays.py
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) -m "not slow and not postgres and not browser" $(FAST_TESTS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

serve: $(STAMP)
	$(BIN)/foodmatch serve --demo

# Build the wheel and run it alone in a clean venv in an empty folder (docs/deployment.md).
wheel-check: $(STAMP)
	BUILD_PYTHON=$(BIN)/python PYTHON=$(PYTHON) .ci/wheel-check

clean:
	rm -rf $(VENV) frontend/node_modules api/web/static/govuk/*.min.* .pytest_cache .mypy_cache .ruff_cache test-artifacts build dist
