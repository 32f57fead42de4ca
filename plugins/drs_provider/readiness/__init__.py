"""Readiness: whether each plan would recover right now, checked between drills without launching anything."""

#: The DAG that checks every plan (``drs_readiness``) and its task whose XCom holds the findings.
READINESS_DAG_ID = "drs_readiness"
READINESS_TASK_ID = "check"
