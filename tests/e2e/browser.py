"""A real browser for the end-to-end modules: headless Chromium (Debian's package) driven by
Playwright, signed in to the Airflow UI of the shared stack as ``admin``.

Every test of ``tests/e2e`` may take the ``page`` fixture (``tests/e2e/conftest.py``): a new tab,
closed after the test, of the module's ``browser`` (one per module and set-up). Without Playwright or
Chromium the tests that take it are skipped, or fail under ``CI=true``. :func:`screenshot` keeps
a full page in ``artifacts/recovery-view/`` (ignored by git) and prints its path.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.airflow_stack import REPO_ROOT

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.e2e.harness import Deployment

CHROMIUM = Path(os.environ.get("DRS_E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The pages link to the AWS console: no host but this machine is ever looked up or reached.
    "--dns-prefetch-disable",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
#: How long a page, a locator or a click may take (Playwright's default is 30 s). The Airflow UI is a
#: large single-page app and its requests wait behind the shared stacks' tasks: on a loaded 2-core
#: machine a page and its Recovery frame took over 30 s to show. A bound, not a timing: a page that
#: is there sooner is used at once.
BROWSER_TIMEOUT_MS = 120_000
#: Screenshots are kept here (ignored by git) and their paths printed.
ARTIFACTS = REPO_ROOT / "artifacts" / "recovery-view"


def missing() -> str | None:
    """Why no browser can be started here (Playwright or Chromium missing); None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e ./simulator -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (make test installs Debian's chromium package)"
    return None


@contextlib.contextmanager
def signed_in_browser(deployment: Deployment, profile: Path) -> Iterator[Any]:
    """A Chromium context with a fresh profile in ``profile``, signed in as ``admin``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1300},
        )
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        context.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
        try:
            log_in(context.new_page(), deployment)
            yield context
        finally:
            context.close()


def log_in(page: Any, airflow: Deployment) -> None:
    """Sign in on the simple auth manager's login page, as a person would."""
    page.goto(airflow.stack.ui_url)
    page.wait_for_selector("input[name=username]")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", airflow.password("admin"))
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.close()


def screenshot(page: Any, airflow: Deployment, name: str) -> Path:
    """The whole page as ``artifacts/recovery-view/<set-up>-<name>.png``; its path is printed."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{airflow.backend}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path
