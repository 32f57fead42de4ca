"""Registers the Recovery view of airflow-provider-drs with Airflow's plugin loader, when no
installed distribution does.

Airflow imports every ``.py`` file of its plugins folder and registers the AirflowPlugin classes
it finds there; the view itself lives in ``drs_provider.ui``. An installed airflow-provider-drs
registers the same plugin through its ``airflow.plugins`` entry point, and Airflow would count this
file's copy as a second plugin of the same name: then this file defines none.
"""

from __future__ import annotations

from drs_provider.ui.plugin import registered_by_entry_point

if not registered_by_entry_point():
    from drs_provider.ui.plugin import DrsRecoveryViewPlugin

    __all__ = ["DrsRecoveryViewPlugin"]
