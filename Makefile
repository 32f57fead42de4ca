# make demo | make demo-ui | make test | make lint | make bench
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian's Chromium, for the Recovery view's browser test (Playwright drives it, never its own download).
CHROMIUM := /usr/bin/chromium

.PHONY: install browser demo demo-ui test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Installs Chromium from apt only when it is missing; without root it says how and goes on (the
# browser test then skips, or fails under CI=true).
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Chromium is missing: run 'sudo apt-get install chromium' for the browser test" >&2; \
	  fi; }

test: $(STAMP) browser
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
	$(BIN)/python -m tests.bench.scale $(SCALE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
