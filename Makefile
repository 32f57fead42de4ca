# make demo | make demo-ui | make test | make lint | make bench
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-ui test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider $(PYTEST_ARGS)

# Unit and integration tests only (no real Airflow processes).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -q -p no:cacheprovider -m "not e2e" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check plugins tests dags tools
	$(BIN)/ruff format --check plugins tests dags tools
	$(BIN)/mypy

demo: $(STAMP)
	$(BIN)/python -m tools.demo

demo-ui: $(STAMP)
	$(BIN)/python -m tools.demo --keep-up

bench: $(STAMP)
	$(BIN)/python -m tests.bench.parse_time

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
