"""``pip install`` of the drs-simulator distribution alone serves a fleet to boto3.

The wheel is built from a copy of the distribution's files (so the build writes nothing into the
work tree) and installed into a clean virtual environment, where neither Airflow nor the provider
can be imported. The installed ``drs-simulator`` command then serves a small fleet, which a boto3
client of this process lists. uv builds and installs when it is beside this Python or on the PATH
(``make install`` puts it there; its cache makes this seconds), pip otherwise.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import boto3
import pytest

from integration.helpers import wait_for

pytestmark = pytest.mark.integration

DISTRIBUTION = Path(__file__).resolve().parents[2]
#: What the wheel is built from (simulator/pyproject.toml packages src/ and names the README).
SOURCES = ("pyproject.toml", "README.md", "src")
FLEET = """\
account_id: '123456789012'
region: us-east-1
source_servers:
  - {id: s-0d000000000000001, hostname: dist-db}
  - {id: s-0d000000000000002, hostname: dist-web}
"""


def uv() -> str | None:
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else shutil.which("uv")


def clean_env() -> dict[str, str]:
    """This environment without PYTHONPATH, which may point into the repository."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHONPATH")}


def run(argv: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=600
    )


def checked(argv: list[str | Path], cwd: Path) -> str:
    done = run(argv, cwd)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def build_wheel(workdir: Path) -> Path:
    source = workdir / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in SOURCES:
        if (DISTRIBUTION / name).is_dir():
            shutil.copytree(DISTRIBUTION / name, source / name, ignore=ignore)
        else:
            shutil.copy(DISTRIBUTION / name, source / name)
    dist = workdir / "dist"
    installer = uv()
    if installer:
        checked([installer, "build", "--quiet", "--wheel", "--out-dir", dist, source], workdir)
    else:
        checked([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, source], workdir)
    (wheel,) = dist.glob("drs_simulator-0.1.0-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> Path:
    """A clean virtual environment holding the wheel and its dependencies; its ``python``."""
    checked([sys.executable, "-m", "venv", venv], venv.parent)
    python = venv / "bin" / "python"
    installer = uv()
    if installer:
        checked([installer, "pip", "install", "--quiet", "--python", python, wheel], venv.parent)
    else:
        checked([python, "-m", "pip", "install", "--quiet", wheel], venv.parent)
    return python


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def healthy(url: str, process: subprocess.Popen[str]) -> bool:
    if process.poll() is not None:
        output, errors = process.communicate()
        raise AssertionError(f"drs-simulator exited with {process.returncode}:\n{output}\n{errors}")
    try:
        with urllib.request.urlopen(f"{url}/_simulator/health", timeout=5) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


def test_the_distribution_alone_serves_a_fleet_to_boto3(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    assert "drs_simulator/sample_fleet.yaml" in zipfile.ZipFile(wheel).namelist()
    python = install(wheel, tmp_path / "venv")

    location = checked([python, "-c", "import drs_simulator; print(drs_simulator.__file__)"], tmp_path)
    assert Path(location.strip()).is_relative_to(tmp_path / "venv"), location
    for absent in ("airflow", "drs_provider"):
        imported = run([python, "-c", f"import {absent}"], tmp_path)
        assert imported.returncode != 0 and "ModuleNotFoundError" in imported.stderr, (absent, imported)

    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(FLEET)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [python.with_name("drs-simulator"), "--host", "127.0.0.1", "--port", port, "--fleet", fleet]
    process = subprocess.Popen(
        [str(arg) for arg in command],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: healthy(url, process), timeout=60, interval=0.1)
        drs = boto3.client(
            "drs",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        servers = drs.describe_source_servers()["items"]
        assert {server["sourceServerID"] for server in servers} == {
            "s-0d000000000000001",
            "s-0d000000000000002",
        }
        hostnames = {server["sourceProperties"]["identificationHints"]["hostname"] for server in servers}
        assert hostnames == {"dist-db", "dist-web"}
    finally:
        process.terminate()
        process.communicate(timeout=30)
