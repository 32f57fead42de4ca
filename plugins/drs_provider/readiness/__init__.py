"""Readiness of the recovery plans: whether each plan could recover now, checked on a schedule.

The ``drs_readiness`` DAG checks every plan; its ``check`` task returns the result as its XCom
``return_value``, which the Recovery plans page reads. The two names live here, the one place
both sides import them from.
"""

#: The DAG that checks every plan's readiness.
READINESS_DAG_ID = "drs_readiness"
#: Its task whose ``return_value`` XCom is the readiness of every plan.
READINESS_TASK_ID = "check"
