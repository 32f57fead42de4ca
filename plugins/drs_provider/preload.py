"""Import the provider once per Airflow daemon instead of once per task process.

Airflow forks every task process from an executor's worker (the CeleryExecutor's pool processes,
the LocalExecutor's workers), every DAG parse from the dag-processor and the trigger runner from
the triggerer. None of those parents needs the provider itself, so each child imports it, the
amazon provider and boto3 again (about 500 modules, a quarter of a task process's CPU) and parses
botocore's endpoint list and models. :func:`register` asks Python to import them in the parent
just before its first fork, so every child inherits them: the same code runs, only the import is
shared.

The plugins folder's ``airflow_local_settings.py`` calls :func:`register`; Airflow imports that
module at every process's start-up (it puts the plugins folder on ``sys.path``). A deployment with
its own ``airflow_local_settings.py`` calls :func:`register` from it.
"""

from __future__ import annotations

import importlib
import os

#: What a task process, a parse or the trigger runner of this provider imports anyway. The
#: factory imports its operators only while it builds a DAG (a plan file imports the factory, not
#: every operator), so they are named here: building one plan's DAG in a task process imported
#: them, some 300 modules and 0.3 s of CPU, in every task and every parse.
MODULES = (
    "boto3",
    "airflow.providers.amazon.aws.hooks.base_aws",
    "drs_provider.factory.render",
    "drs_provider.factory.failover",
    "drs_provider.factory.readiness",
    "drs_provider.operators.plan_run",
    "drs_provider.operators.preflight",
    "drs_provider.operators.wave_order",
    "drs_provider.operators.lifecycle",
    "drs_provider.operators.failover",
    "drs_provider.operators.readiness",
    "drs_provider.operators.native_plans",
    "drs_provider.notifications.sns",
)

_registered = False
_imported = False


def import_before_first_fork() -> None:
    """Import :data:`MODULES` and parse botocore's data, once per process."""
    global _imported
    if _imported:
        return
    _imported = True
    for name in MODULES:
        importlib.import_module(name)
    # the operators of the built-in step kinds (a kind of your own is imported where it is used)
    from drs_provider.factory.steps import operator_class
    from drs_provider.steps import BUILT_IN

    for kind in BUILT_IN:
        operator_class(kind.operator)
    importlib.import_module("drs_provider.hooks.lean_clients").preload()


def register() -> None:
    """Run :func:`import_before_first_fork` before this process's first ``os.fork()``; idempotent
    (Airflow's plugin loader imports ``airflow_local_settings.py`` a second time, as a plugin)."""
    global _registered
    if not _registered:
        _registered = True
        os.register_at_fork(before=import_before_first_fork)
