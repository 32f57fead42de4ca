"""End-to-end test plumbing: which Airflow set-ups run, the shared stacks, process logs on
failure, measured figures.

Set-ups (``backend`` fixture, session scope). Each set-up has two shared stacks, lanes ``a`` and
``b`` (``shared_stacks``): a module joins the one its ``Scenario.lane`` names, and the two lanes
run side by side in two pytest-xdist workers. See ``tests/e2e/harness.py`` for how a module joins.

* ``sqlite``: SQLite and the LocalExecutor; always runs.
* ``postgres-celery``: PostgreSQL metadata database, CeleryExecutor with a Redis broker and a
  real Celery worker. It needs PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379; where
  they are missing its tests are skipped with the reason, except under ``CI=true``, where a
  missing server fails them: CI must exercise the production-like set-up. Other servers:
  ``DRS_E2E_POSTGRES_URL`` (``postgresql://user@host:port/db``, a database to connect to
  while creating the test's own) and ``DRS_E2E_REDIS_URL``.

Figures (timings) are reported, never asserted: tests add lines with the ``e2e_figures``
fixture and they are printed in pytest's terminal summary.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any

import pytest
from tools.airflow_stack import AirflowStack, StackConfig, postgres_and_redis_available

from tests.e2e.browser import missing as missing_browser
from tests.e2e.browser import signed_in_browser
from tests.e2e.figures import FIGURES, HANDOFFS, hand_over
from tests.e2e.harness import Scenario, SharedStack, shared_stack_config

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator

BACKENDS = ("sqlite", "postgres-celery")
POSTGRES_URL = os.environ.get("DRS_E2E_POSTGRES_URL", StackConfig.postgres_url)
REDIS_URL = os.environ.get("DRS_E2E_REDIS_URL", StackConfig.redis_url)


def ci_requires_every_backend() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The Airflow set-up under test; skips (or, with ``CI=true``, fails) when its servers are absent."""
    name: str = request.param
    if name == "postgres-celery":
        missing = postgres_and_redis_available(POSTGRES_URL, REDIS_URL)
        if missing:
            message = f"postgres-celery set-up not tested: {missing}"
            if ci_requires_every_backend():
                pytest.fail(f"{message} (CI=true requires it)")
            pytest.skip(message)
    return name


def scenario_of(item: pytest.Item) -> Scenario | None:
    """The ``SCENARIO`` the test's module declares, if any."""
    scenario = getattr(getattr(item, "module", None), "SCENARIO", None)
    return scenario if isinstance(scenario, Scenario) else None


def session_scenarios(session: pytest.Session, lane: str) -> list[Scenario]:
    """The scenarios of ``lane`` of every module this session runs, in run order."""
    scenarios: list[Scenario] = []
    for item in session.items:
        scenario = scenario_of(item)
        if scenario is not None and scenario.lane == lane and scenario not in scenarios:
            scenarios.append(scenario)
    return scenarios


@contextlib.contextmanager
def started_stack(
    backend: str, lane: str, session: pytest.Session, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStack]:
    """The Airflow stack of ``backend``'s ``lane``, every scenario of the lane deployed on it."""
    started = time.monotonic()
    scenarios = session_scenarios(session, lane)
    workdir = tmp_path_factory.mktemp(f"e2e-shared-{backend}-{lane}")
    config = shared_stack_config(workdir, backend, scenarios, postgres_url=POSTGRES_URL, redis_url=REDIS_URL)
    with AirflowStack(config) as stack, contextlib.ExitStack() as resources:
        shared = SharedStack(backend, stack)
        FIGURES.append(
            f"[{backend}-{lane}] shared stack ready in {time.monotonic() - started:.1f}s "
            f"({len(scenarios)} scenarios, {len(config.expected_dag_ids)} DAGs)"
        )
        shared.deploy_all(scenarios, workdir / "scenarios", resources)
        try:
            yield shared
        finally:
            # the lane's whole wall time: the suite cannot end before its longest lane does
            FIGURES.append(f"[{backend}-{lane}] lane ran {time.monotonic() - started:.0f}s")


@pytest.fixture(scope="session")
def shared_stacks(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], SharedStack]]:
    """The stack of ``backend``'s lane, started when the lane's first module begins.

    Tests run lane by lane (``pytest_collection_modifyitems`` below; with pytest-xdist each lane is
    one worker's group), so a lane's stack is stopped when another lane's starts."""
    current: dict[str, Any] = {}

    def stack_of(lane: str) -> SharedStack:
        if current.get("lane") != lane:
            if "resources" in current:
                current.pop("resources").close()
            resources = contextlib.ExitStack()
            current.update(
                lane=lane,
                resources=resources,
                stack=resources.enter_context(
                    started_stack(backend, lane, request.session, tmp_path_factory)
                ),
            )
        stack: SharedStack = current["stack"]
        return stack

    try:
        yield stack_of
    finally:
        if "resources" in current:
            current["resources"].close()


@pytest.fixture(scope="module")
def deployment(shared_stacks: Callable[[str], SharedStack], request: pytest.FixtureRequest) -> Iterator[Any]:
    """The module's ``SCENARIO`` on its lane's shared stack of the set-up (its ``start`` called first)."""
    scenario = getattr(request.module, "SCENARIO", None)
    if not isinstance(scenario, Scenario):
        raise TypeError(
            f"{request.module.__name__} declares no SCENARIO = Scenario(...) for the shared stack"
        )
    started = time.monotonic()
    shared = shared_stacks(scenario.lane)
    try:
        yield from shared.deployment(scenario)
    finally:
        FIGURES.append(
            f"[{shared.backend}-{scenario.lane}] module {scenario.name}: {time.monotonic() - started:.0f}s"
        )


@pytest.fixture
def airflow(deployment: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The module's deployment; when the test fails, the tails of every process log are printed."""
    yield deployment
    if owner_failed(request):
        deployment.print_logs()


@pytest.fixture(scope="module")
def browser(deployment: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium (Debian's package) driven by Playwright, with a fresh profile, signed in
    to the Airflow UI of the module's set-up as ``admin`` (``tests/e2e/browser.py``)."""
    reason = missing_browser()
    if reason is not None:
        if ci_requires_every_backend():
            pytest.fail(f"{reason} (CI=true requires the browser tests)")
        pytest.skip(reason)
    profile = tmp_path_factory.mktemp(f"chromium-{deployment.backend}") / "profile"
    with signed_in_browser(deployment, profile) as context:
        yield context


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A new tab of the module's browser, closed after the test: an Airflow UI page left open keeps
    polling the API server (and its Recovery frame DRS), on the machine every stack shares."""
    tab = browser.new_page()
    try:
        yield tab
    finally:
        tab.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests first (their pytest-xdist groups are the longest work units), ``make demo``'s
    own stack before the shared ones, each set-up lane by lane, and within each lane the modules
    that kill Airflow processes after every other module. Otherwise the order pytest chose stays."""

    def lane(item: pytest.Item) -> str:
        scenario = scenario_of(item)
        return scenario.lane if scenario is not None else ""

    def kills(item: pytest.Item) -> bool:
        scenario = scenario_of(item)
        return scenario is not None and scenario.kills_processes

    def set_up(item: pytest.Item) -> int:
        if not item.get_closest_marker("e2e"):
            return len(BACKENDS)
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("backend") if callspec is not None else None
        return BACKENDS.index(name) if name in BACKENDS else -1

    items.sort(key=lambda item: (set_up(item), lane(item), kills(item)))


@pytest.fixture(scope="session")
def e2e_figures() -> list[str]:
    """Lines of measured figures, printed at the end of the session."""
    return FIGURES


@pytest.fixture(scope="session")
def e2e_handoffs() -> list[tuple[str, float, float | None]]:
    """Wave hand-offs measured by the tests, summarised per set-up at the end of the session."""
    return HANDOFFS


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, object, object]:
    report = yield
    # Let fixtures see whether the test itself failed (to print process logs).
    setattr(item, f"report_{call.when}", report)
    return report


def owner_failed(request: pytest.FixtureRequest) -> bool:
    """Whether the test that owns ``request`` failed in set-up or in its body."""
    return any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call")
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    hand_over()
