"""airflow-provider-drs: AWS Elastic Disaster Recovery (DRS) recovery plans run by Apache Airflow."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

#: The distribution this package ships in (what ``pip install`` names).
DISTRIBUTION = "airflow-provider-drs"

try:
    # pyproject.toml holds the one version; the installed metadata carries it here.
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:
    # Imported from a source tree that was never installed (a plugins folder alone): no release.
    __version__ = "0+unknown"


def get_provider_info() -> dict[str, object]:
    """Provider metadata read by Airflow's ProvidersManager through the entry point."""
    return {
        "package-name": DISTRIBUTION,
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
        # The plugin of pyproject.toml's `airflow.plugins` entry point, which Airflow loads by default.
        # With `[core] lazy_discover_providers = False` it reads this list too and skips the second
        # copy with an "already registered" plugin import error, as for any provider declaring both.
        "plugins": [
            {"name": "drs_recovery_view", "plugin-class": "drs_provider.ui.plugin.DrsRecoveryViewPlugin"}
        ],
    }
