"""``pip install airflow-provider-drs`` into a bare Airflow is enough: the built wheel brings the
provider and the Recovery view, with nothing of this repository on the way.

The test builds the wheel from the files ``pyproject.toml`` packages (copied out first, so the build
writes nothing into the work tree), installs it with the Airflow release this repository runs into
a clean virtual environment, and starts an ``airflow api-server`` from there: SQLite, a fresh
``AIRFLOW_HOME``, empty DAGs and plugins folders, none of this process's ``PYTHONPATH``. The
plugin must come from the wheel's entry point and its pages answer over HTTP. Then Airflow's
plugin loaders run in that environment over a plugins folder holding the repository's
``drs_recovery_view.py`` as well (the repository's stacks and the compose image have both): they
must register the view once, from the wheel, with no plugin import error.

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
    from collections.abc import Iterator, Mapping, Sequence

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What the wheel is built from: the files pyproject.toml names (the Dockerfile copies the same).
SOURCES = ("pyproject.toml", "README.md", "plugins/drs_provider")
#: Data files the wheel must carry besides the modules (pyproject.toml's package-data).
PACKAGE_DATA = (
    "py.typed",
    "recovery/templates/report.html",
    "ui/templates/plans.html",
    "ui/static/icon.svg",
    "waiters/ssm.json",
)
#: Where the installed package must be imported from, and what it must report.
PROBE = "import drs_provider, json; print(json.dumps([drs_provider.__file__, drs_provider.__version__]))"
#: What Airflow's two plugin loaders (an API server's, a task process's) register from the Recovery view.
LOADERS_PROBE = """
import json
from airflow import plugins_manager
from airflow.sdk import plugins_manager as sdk_plugins_manager

seen = {}
for loader in (plugins_manager, sdk_plugins_manager):
    plugins, errors = loader._get_plugins()
    seen[loader.__name__] = [[str(p.source) for p in plugins if p.name == "drs_recovery_view"], errors]
print(json.dumps(seen))
"""


def uv() -> str | None:
    """uv beside this Python (``make`` installs it there), else on the PATH."""
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else shutil.which("uv")


def run(argv: Sequence[str | Path], cwd: Path | None = None, airflow_env: Mapping[str, str] = {}) -> str:
    """Run a command without this process's PYTHONPATH (which points into the repository) and
    Airflow settings (the test session's), plus ``airflow_env``."""
    inherited = {
        key: value for key, value in os.environ.items() if not key.startswith(("PYTHONPATH", "AIRFLOW"))
    }
    env = inherited | dict(airflow_env)
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
        with phases.phase("load the plugins beside the repository's plugins-folder file"):
            check_one_registration(tmp_path, airflow.with_name("python"), version)
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


def check_one_registration(workdir: Path, python: Path, version: str) -> None:
    """With ``plugins/drs_recovery_view.py`` in the plugins folder too (as in this repository's stacks and
    the compose image), both loaders register the view once, from the wheel, and report no error."""
    folder = workdir / "repository-plugins"
    folder.mkdir()
    shutil.copy(REPO_ROOT / "plugins" / "drs_recovery_view.py", folder)
    settings = {
        "AIRFLOW_HOME": str(workdir / "loader-home"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(folder),
        "AIRFLOW__CORE__DAGS_FOLDER": str(workdir / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    seen = json.loads(run([python, "-c", LOADERS_PROBE], cwd=workdir, airflow_env=settings).splitlines()[-1])
    for loader, (sources, errors) in seen.items():
        assert len(sources) == 1, (loader, sources)
        assert sources[0].startswith(f"{DISTRIBUTION}=={version}: EntryPoint("), (loader, sources)
        assert errors == {}, (loader, errors)
