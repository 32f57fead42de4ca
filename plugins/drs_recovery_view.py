"""Registers the Recovery view of airflow-provider-drs with Airflow's plugin loader.

Airflow imports every ``.py`` file of its plugins folder and registers the AirflowPlugin
classes it finds there; the view itself lives in ``drs_provider.ui``.
"""

from __future__ import annotations

from drs_provider.ui.plugin import DrsRecoveryViewPlugin

__all__ = ["DrsRecoveryViewPlugin"]
