"""A local AWS Elastic Disaster Recovery (DRS) endpoint for tests and demos.

It speaks the DRS REST-JSON wire protocol as botocore's ``drs`` service model describes it, so an
unmodified boto3 or aiobotocore ``drs`` client works against it through ``endpoint_url``. Jobs run
in simulated time. See the distribution's README.md and OPERATIONS.md.

The ``drs-simulator`` distribution needs neither Airflow nor airflow-provider-drs: botocore (for
the service model), PyYAML (for fleet files) and boto3 (the EC2 client of ``--ec2-endpoint``).
"""

from __future__ import annotations

__all__ = ["DEFAULT_SPEED", "SAMPLE_FLEET"]

from pathlib import Path

#: Simulated seconds per real second when nothing else is said.
DEFAULT_SPEED = 1.0

#: The fleet used by the demo, the example plans and the test fixture.
SAMPLE_FLEET = Path(__file__).resolve().parent / "sample_fleet.yaml"
