"""Readiness of the recovery plans: whether each plan could recover now, checked on a schedule.

The ``drs_readiness`` DAG checks every plan; its ``check`` task returns the result as its XCom
``return_value``, which the Recovery plans page reads. Its ``native_plans`` task keeps the DRS
native recovery plans of the plans with ``native_plan: true`` in step with them. The names live
here, the one place every side imports them from.
"""

#: The DAG that checks every plan's readiness.
READINESS_DAG_ID = "drs_readiness"
#: Its task whose ``return_value`` XCom is the readiness of every plan.
READINESS_TASK_ID = "check"
#: Its task that keeps the native recovery plans of ``native_plan: true`` plans in step.
NATIVE_PLANS_TASK_ID = "native_plans"
