"""The Recovery view: an Airflow 3 plugin showing plan runs per wave and per server.

Layers, each in its own module: :mod:`~drs_provider.ui.airflow_source` reads Airflow (runs,
task instances, XComs, HITL details, task logs), :mod:`~drs_provider.ui.failover_source` the
``drs_failover`` runs and :mod:`~drs_provider.ui.readiness_source` the plans' readiness checks;
:mod:`~drs_provider.ui.live_report` turns those facts into the run report while a run has none
of its own; a failback's way home is read from DRS itself by :mod:`~drs_provider.ui.failback_source`
(bounded, cached) and shown per server by :mod:`~drs_provider.ui.failback_rows`;
:mod:`~drs_provider.ui.view` (with :mod:`~drs_provider.ui.attention`, what asks for a person) and
:mod:`~drs_provider.ui.timeline` make the run page's view model and picture,
:mod:`~drs_provider.ui.plans_view` the plans page's (both write states and times with
:mod:`~drs_provider.ui.format`); :mod:`~drs_provider.ui.app` serves them behind
:mod:`~drs_provider.ui.security`; :mod:`~drs_provider.ui.plugin` registers it with Airflow.
"""
