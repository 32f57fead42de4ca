"""Fixtures for the simulator's integration tests: model-checked boto3 clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.simulator.helpers import ResponseChecker

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


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
def sample_fleet_dict() -> dict[str, Any]:
    """The sample fleet as a mutable dict (edit it, then ``drs_simulator.reset(fleet=...)``)."""
    import yaml

    from drs_provider.simulator import SAMPLE_FLEET

    data: dict[str, Any] = yaml.safe_load(SAMPLE_FLEET.read_text())
    return data
