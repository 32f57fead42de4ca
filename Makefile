# make demo | make demo-ui | make demo-failback | make test | make test-fast | make coverage | make lint | make docs | make bench
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian's Chromium, for the Recovery view's browser test (Playwright drives it, never its own download).
CHROMIUM := /usr/bin/chromium

.PHONY: install browser demo demo-ui demo-failback test test-fast coverage lint docs plan-reference bench clean

install: $(STAMP)

# uv (a PyPI package) resolves and installs the same pins about ten times faster than pip; where
# it cannot be installed, pip does the work.
# Bytecode is compiled at install (uv does not by default, and where PYTHONDONTWRITEBYTECODE is set
# no process writes it): otherwise every Airflow process compiles what it imports, each time. That
# was 2 s of CPU per \`airflow\` command and 0.5 s per task, most of the suite's CPU on 2 cores.
# The editable install leaves a copy of the distribution's metadata in plugins/ (setuptools'
# egg-info). The plugins folder is on sys.path, so Airflow would load the Recovery view's entry
# point from that copy as well and report the second one as a plugin import error: it goes.
# The DRS simulator is a distribution of its own (simulator/) that the provider's `local` extra
# names: both editable in one resolver call, so that requirement is met here, never from PyPI.
$(STAMP): pyproject.toml simulator/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip uv || true
	if [ -x $(BIN)/uv ]; then \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ./simulator -e '.[dev]'; \
	else \
	  $(BIN)/pip install --quiet --upgrade setuptools wheel && $(BIN)/pip install --quiet -e ./simulator -e '.[dev]'; \
	fi
	rm -rf plugins/*.egg-info simulator/src/*.egg-info
	$(BIN)/python -m compileall -q plugins dags tools tests simulator/src simulator/tests
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

# Every test, in TEST_WORKERS pytest-xdist workers: each of the four shared Airflow stacks (two
# lanes per set-up) runs its end-to-end modules in order in one worker, the tests that start an
# Airflow of their own in a fifth, and the unit and integration tests spread over what is free.
# The end-to-end workers mostly wait on Airflow, so six fit on 2 cores.
# The simulator's own tests (simulator/tests) run beside the provider's.
# The 15 slowest tests and the total are printed at the end.
TEST_WORKERS ?= 6
PYTEST := $(BIN)/python -m pytest tests simulator/tests -q -p no:cacheprovider --durations=15

test: $(STAMP) browser
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Unit and integration tests only (no real Airflow processes). Work stealing keeps every worker
# busy to the end (no groups to respect here): 3 min instead of 6 on 2 cores.
test-fast: $(STAMP)
	$(PYTEST) -m "not e2e" -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The whole suite with branch coverage of plugins/ and the simulator (what the test process itself runs).
coverage: $(STAMP) browser
	$(PYTEST) -n $(TEST_WORKERS) --dist loadgroup --cov=plugins --cov=simulator/src --cov-branch --cov-report=term:skip-covered $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check plugins tests dags tools simulator
	$(BIN)/ruff format --check plugins tests dags tools simulator
	$(BIN)/mypy

# The documentation site (mkdocs-material, mkdocs.yml) into site/. Strict: a warning, such as a link
# to a missing page or anchor, fails the build. The plan key reference is checked first.
docs: $(STAMP)
	$(BIN)/python -m tools.plan_reference --check
	$(BIN)/mkdocs build --strict

# Regenerates docs/reference/plan-keys.md from the plan rules (after changing them).
plan-reference: $(STAMP)
	$(BIN)/python -m tools.plan_reference

demo: $(STAMP)
	$(BIN)/python -m tools.demo

demo-ui: $(STAMP)
	$(BIN)/python -m tools.demo --keep-up

# A recovery of tools/failback_demo's plan, then its failback home (DEMO_ARGS=--keep-up to explore).
demo-failback: $(STAMP)
	$(BIN)/python -m tools.demo_failback $(DEMO_ARGS)

bench: $(STAMP)
	$(BIN)/python -m tests.bench.parse_time
	$(BIN)/python -m tests.bench.handoff
	$(BIN)/python -m tests.bench.scale $(SCALE_ARGS)
	$(BIN)/python -m tests.bench.readiness
	$(BIN)/python -m tests.bench.failover $(FAILOVER_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site
