"""``pip install airflow-provider-drs`` into a bare Airflow is enough: the built wheel brings the
provider and the Recovery view, with nothing of this repository on the way.

The test builds the wheel from the files ``pyproject.toml`` packages (copied out first, so the build
writes nothing into the work tree), installs it with the Airflow release this repository runs into
a clean virtual environment, and starts an ``airflow api-server`` from there: SQLite, a fresh
``AIRFLOW_HOME``, empty DAGs and plugins folders, none of this process's ``PYTHONPATH``. The
plugin must come from the wheel's entry point and its pages answer over HTTP.

uv does the building and installing (pip where uv is missing, much slower); with uv's cache warm
from installing the project the environment takes seconds. It starts its own API server and
requests none of the shared stack's fixtures. Each phase's time is printed and reported with the
end-to-end figures.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests
from tools.airflow_stack import AirflowStack, StackConfig

from drs_provider import DISTRIBUTION
from drs_provider.ui.addresses import URL_PREFIX
from drs_provider.ui.plugin import DrsRecoveryViewPlugin

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from: the files pyproject.toml names (the Dockerfile copies the same).
SOURCES = ("pyproject.toml", "README.md", "plugins/drs_provider")
#: Files the view cannot work without, besides the Python modules.
PACKAGE_DATA = ("py.typed", "ui/templates/plans.html", "ui/static/icon.svg", "waiters/drs.json")
#: Where the installed package must be imported from, and what it must report.
PROBE = "import drs_provider, json; print(json.dumps([drs_provider.__file__, drs_provider.__version__]))"


def uv() -> str | None:
    """uv beside this Python (``make`` installs it there), else on the PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else shutil.which("uv")


def run(argv: Sequence[str | Path], cwd: Path | None = None) -> str:
    """Run a command without this process's PYTHONPATH (which points into the repository)."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    command = " ".join(map(str, argv))
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def build_wheel(workdir: Path) -> Path:
    source = workdir / "source"
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
            shutil.copytree(REPO_ROOT / name, source / name, ignore=ignore)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO_ROOT / name, source / name)
    dist = workdir / "dist"
    installer = uv()
    if installer:
        run([installer, "build", "--quiet", "--wheel", "--python", sys.executable, "--out-dir", dist, source])
    else:
        run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", dist, source])
    (wheel,) = dist.glob("*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A clean virtual environment with the wheel and this environment's Airflow release; its ``airflow``."""
    airflow = f"apache-airflow=={importlib.metadata.version('apache-airflow')}"
    installer = uv()
    if installer:
        run([installer, "venv", "--quiet", "--python", sys.executable, venv])
        run([installer, "pip", "install", "--quiet", "--python", venv / "bin" / "python", wheel, airflow])
    else:
        run([sys.executable, "-m", "venv", venv])
        run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel, airflow])
    return venv / "bin" / "airflow"


class Phases:
    """Wall time of each phase, printed as it ends and handed to the end-to-end figures."""

    def __init__(self, figures: list[str]) -> None:
        self.figures = figures
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = time.monotonic() - started
            print(f"wheel install: {name} took {self.seconds[name]:.1f}s")

    def report(self) -> None:
        parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in self.seconds.items())
        self.figures.append(f"[wheel] {parts}; {sum(self.seconds.values()):.1f}s in all")


def test_the_installed_wheel_serves_the_recovery_view(tmp_path: Path, e2e_figures: list[str]) -> None:
    phases = Phases(e2e_figures)
    try:
        with phases.phase("build the wheel"):
            wheel = build_wheel(tmp_path)
        shipped = set(zipfile.ZipFile(wheel).namelist())
        assert {f"drs_provider/{name}" for name in PACKAGE_DATA} <= shipped

        with phases.phase("create the venv and install"):
            airflow = install(wheel, tmp_path / "venv")
        location, version = json.loads(run([airflow.with_name("python"), "-c", PROBE], cwd=tmp_path))
        assert Path(location).is_relative_to(tmp_path / "venv"), location
        assert wheel.name.startswith(f"{DISTRIBUTION.replace('-', '_')}-{version}-")

        for folder in ("dags", "plugins", "plans"):
            (tmp_path / folder).mkdir()
        config = StackConfig(
            home=tmp_path / "airflow-home",
            plans_dir=tmp_path / "plans",
            simulator_url=None,
            dags_folder=tmp_path / "dags",
            plugins_folder=tmp_path / "plugins",
            airflow_command=airflow,
            processes=["api-server"],
            startup_timeout=120,
        )
        with phases.phase("migrate and start the API server"):
            stack = AirflowStack(config).start()
        with stack, phases.phase("find the Recovery view"):
            check_the_view(stack, version)
    finally:
        phases.report()


def check_the_view(stack: AirflowStack, version: str) -> None:
    """The plugin, listed by the REST API as loaded from the wheel's entry point, serves its pages."""
    plugins = stack.rest.request("GET", "/api/v2/plugins")["plugins"]
    (plugin,) = [entry for entry in plugins if entry["name"] == DrsRecoveryViewPlugin.name]
    assert plugin["source"].startswith(f"{DISTRIBUTION}=={version}: EntryPoint("), plugin["source"]
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [URL_PREFIX]
    assert {view["name"] for view in plugin["external_views"]} == {"Recovery", "Recovery plans"}
    assert stack.rest.request("GET", "/api/v2/plugins/importErrors")["total_entries"] == 0
    providers = stack.rest.request("GET", "/api/v2/providers")["providers"]
    assert {"package_name": DISTRIBUTION, "version": version}.items() <= next(
        provider for provider in providers if provider["package_name"] == DISTRIBUTION
    ).items()

    signed_in = {"Authorization": f"Bearer {stack.rest.login()}"}
    page = requests.get(f"{stack.api_url}{URL_PREFIX}/plans", headers=signed_in, timeout=30)
    assert page.status_code == 200, page.text[:2000]
    assert "<h1>Recovery plans</h1>" in page.text
    assert requests.get(f"{stack.api_url}{URL_PREFIX}/api/plans", headers=signed_in, timeout=30).json() == []
    icon = requests.get(f"{stack.api_url}{URL_PREFIX}/static/icon.svg", headers=signed_in, timeout=30)
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    assert requests.get(f"{stack.api_url}{URL_PREFIX}/plans", timeout=30).status_code == 401
