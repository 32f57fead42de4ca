"""Fixtures for the simulator's integration tests: model-checked boto3 clients, a simulator of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from drs_simulator.in_process import start_in_thread
from drs_simulator.testing import failback_fleet
from integration.helpers import ResponseChecker, raw_call

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from drs_simulator.in_process import RunningSimulator


@pytest.fixture
def checker() -> ResponseChecker:
    return ResponseChecker()


@pytest.fixture
def make_drs(drs_simulator: Any, checker: ResponseChecker) -> Iterator[Callable[..., Any]]:
    """A factory of boto3 ``drs`` clients whose every answer is checked against the model."""

    def make(region: str | None = None, **config: Any) -> Any:
        client = drs_simulator.client(region=region, **config)
        client.meta.events.register("after-call.drs", checker)
        return client

    yield make
    assert not checker.problems, "responses broke the service model:\n" + "\n".join(checker.problems)


@pytest.fixture
def drs(make_drs: Callable[..., Any]) -> Any:
    """A model-checked boto3 ``drs`` client on the simulator's fleet region."""
    return make_drs()


@pytest.fixture
def west(drs_simulator: Any, make_drs: Callable[..., Any]) -> Any:
    """The failback fleet (``failback_fleet.py``) at speed 0: a client of its recovery region."""
    drs_simulator.reset(fleet=failback_fleet.FLEET, speed=0)
    return make_drs(region=failback_fleet.RECOVERY_REGION)


@pytest.fixture
def east(west: Any, make_drs: Callable[..., Any]) -> Any:
    """A client of the failback fleet's origin region (after ``west`` loaded the fleet)."""
    return make_drs(region=failback_fleet.ORIGIN_REGION)


@pytest.fixture
def sample_fleet_dict() -> dict[str, Any]:
    """The sample fleet as a mutable dict (edit it, then ``drs_simulator.reset(fleet=...)``)."""
    import yaml

    from drs_simulator import SAMPLE_FLEET

    data: dict[str, Any] = yaml.safe_load(SAMPLE_FLEET.read_text())
    return data


FLEET = """\
account_id: '123456789012'
region: us-east-1
source_servers:
  - {id: s-00000000000000001, hostname: a}
"""
OTHER = FLEET.replace("123456789012", "210987654321").replace("s-00000000000000001", "s-00000000000000abc")


class Fleets:
    """A simulator started on ``<tmp>/fleets/fleet.yaml``: its fleet directory is ``<tmp>/fleets``."""

    def __init__(self, running: RunningSimulator, directory: Path) -> None:
        self.running = running
        self.url = running.url
        self.directory = directory

    def reset(self, body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """``POST /_simulator/reset`` with ``body``: (status, headers, parsed body)."""
        return raw_call(self.url, "POST", "/_simulator/reset", body, auth=False)


@pytest.fixture
def fleets(tmp_path: Path) -> Iterator[Fleets]:
    directory = tmp_path / "fleets"
    directory.mkdir()
    (directory / "fleet.yaml").write_text(FLEET)
    (directory / "other.yaml").write_text(OTHER)
    with start_in_thread(fleet=directory / "fleet.yaml", port=0, strict=True) as running:
        yield Fleets(running, directory)
