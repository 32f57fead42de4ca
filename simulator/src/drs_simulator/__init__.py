"""A local AWS Elastic Disaster Recovery (DRS) endpoint for tests and demos.

It speaks the DRS REST-JSON wire protocol as botocore's ``drs`` service model describes it, so an
unmodified boto3 or aiobotocore ``drs`` client works against it through ``endpoint_url``. Jobs run
in simulated time. See docs/reference/simulator.md and ``OPERATIONS.md``.

This package imports nothing from Airflow and nothing from ``drs_provider`` except
``drs_provider.exceptions``.
"""

from __future__ import annotations

__all__ = ["DEFAULT_SPEED", "SAMPLE_FLEET"]

from pathlib import Path

#: Simulated seconds per real second when nothing else is said.
DEFAULT_SPEED = 1.0

#: The fleet used by the demo, the example plans and the test fixture.
SAMPLE_FLEET = Path(__file__).resolve().parent / "sample_fleet.yaml"
