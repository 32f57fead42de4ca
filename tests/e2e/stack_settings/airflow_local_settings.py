"""Airflow local settings of the shared end-to-end stacks: import the provider once per daemon.

Every task process is forked from an executor worker, and every DAG parse from the dag-processor.
Without this, each fork imports the provider, the amazon provider and boto3 again (about 500
modules, a quarter of a task process's CPU) because its parent never needed them. Importing them
in the parent just before its first fork lets every child inherit them: the same code runs, only
the import is shared. So is botocore's parsed data (``drs_provider.hooks.lean_clients.preload``,
which a deployment's own ``airflow_local_settings.py`` may call too). Imported by Airflow at
start-up (``airflow_local_settings`` on the path); defines no cluster policy.
"""

from __future__ import annotations

import importlib
import os

__all__: list[str] = []

MODULES = (
    "boto3",
    "airflow.providers.amazon.aws.hooks.base_aws",
    "drs_provider.factory.render",
    "drs_provider.factory.failover",
    "drs_provider.factory.readiness",
)

_imported = False


def _import_before_first_fork() -> None:
    global _imported
    if _imported:
        return
    _imported = True
    for name in MODULES:
        importlib.import_module(name)
    # botocore's endpoint list and models, parsed here once instead of in every task process
    importlib.import_module("drs_provider.hooks.lean_clients").preload()


os.register_at_fork(before=_import_before_first_fork)
