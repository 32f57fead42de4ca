"""airflow-provider-drs: AWS Elastic Disaster Recovery (DRS) recovery plans run by Apache Airflow."""

from __future__ import annotations

__version__ = "0.1.0"


def get_provider_info() -> dict[str, object]:
    """Provider metadata read by Airflow's ProvidersManager through the entry point."""
    return {
        "package-name": "airflow-provider-drs",
        "name": "AWS Elastic Disaster Recovery (DRS)",
        "description": "Recovery plans as code for AWS Elastic Disaster Recovery, run by Apache Airflow.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "AWS Elastic Disaster Recovery (DRS)",
                "external-doc-url": "https://docs.aws.amazon.com/drs/latest/userguide/what-is-drs.html",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "AWS Elastic Disaster Recovery (DRS)",
                "python-modules": ["drs_provider.hooks.drs"],
            }
        ],
        "operators": [
            {
                "integration-name": "AWS Elastic Disaster Recovery (DRS)",
                "python-modules": ["drs_provider.operators.drs"],
            }
        ],
        "sensors": [
            {
                "integration-name": "AWS Elastic Disaster Recovery (DRS)",
                "python-modules": ["drs_provider.sensors.drs"],
            }
        ],
        "triggers": [
            {
                "integration-name": "AWS Elastic Disaster Recovery (DRS)",
                "python-modules": ["drs_provider.triggers.drs"],
            }
        ],
        "extra-links": [
            "drs_provider.links.drs.DrsJobLink",
            "drs_provider.links.drs.DrsSourceServerLink",
        ],
    }
