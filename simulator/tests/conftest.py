"""The simulator's own tests: the in-process fixtures, a moto EC2 endpoint, and layer markers.

They import neither Airflow nor drs_provider; `cd simulator && pytest` runs them alone, and the
repository's `make test-fast` runs them beside the provider's (`pytest tests simulator/tests`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

# The simulator checks for a SigV4 Authorization header, as DRS does; any credentials sign.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)

pytest_plugins = ["drs_simulator.testing.plugin"]

HERE = Path(__file__).resolve().parent
LAYERS = ("unit", "integration")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test here with its folder's layer, so `-m unit` / `-m integration` select it."""
    for item in items:
        path = Path(str(item.path)).resolve()
        if not path.is_relative_to(HERE):
            continue  # the provider's tests, in a run of both trees
        layer = path.relative_to(HERE).parts[0]
        if layer in LAYERS and not item.get_closest_marker(layer):
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def ec2_endpoint() -> Iterator[str]:
    """moto's server in this process, as the EC2 that keeps the servers' launch templates."""
    server_module = pytest.importorskip("moto.server", reason="moto is a test extra of drs-simulator")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
