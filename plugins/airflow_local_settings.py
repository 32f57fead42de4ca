"""Airflow local settings of airflow-provider-drs: import the provider once per daemon.

Airflow imports ``airflow_local_settings`` at every process's start-up and puts the plugins folder
on ``sys.path``, so this file is found wherever this plugins folder is Airflow's. It defines no
cluster policy; it only lets forked task processes, parses and trigger runners inherit the
provider's imports (:mod:`drs_provider.preload`). With local settings of your own, call
``drs_provider.preload.register()`` from them instead.
"""

from __future__ import annotations

from drs_provider.preload import register

__all__: list[str] = []

register()
