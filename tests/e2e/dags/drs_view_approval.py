"""A plan DAG with an approval in its wave, for the Recovery view's end-to-end test.

The plan DAG of ``PLAN`` (rendered by the factory), with a providers-standard
``ApprovalOperator`` as the wave's first step: task ``db.pre_1_approval`` before
``db.start_recovery``, where docs/explanation/dag-and-waves.md puts a wave's ``pre`` steps. While it waits,
the task is in state ``awaiting_input`` and the run's Recovery page offers Approve / Reject.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import ApprovalOperator

from drs_provider.factory.render import render_plan
from drs_provider.plans.validation import validate_document
from drs_provider.plans.yaml_source import parse_yaml

#: Its one server is in the end-to-end test's fleet (``tests/e2e/test_recovery_view.py``), reached
#: through that scenario's connection.
PLAN = """
plan: view_approval
description: One wave that launches only once a person approves it
aws_conn_id: e2e_recovery_view
waves:
  - name: db
    servers: {ids: [s-view0000000000031]}
    poll_interval: 1
"""
SUBJECT = "Fail the view_approval database over?"
#: Markdown, with HTML a plan must never get onto the Recovery page: it is shown as text.
BODY = (
    "Drill of plan view_approval: **launches** `s-view0000000000031` (view-approval-db) in DRS.\n\n"
    "<script>document.title = 'owned'</script>"
)

plan = validate_document(parse_yaml(PLAN), file=__file__, source=__file__)
dag = render_plan(plan)
wave = dag.task_group.children["db"]
approval = ApprovalOperator(
    task_id="pre_1_approval",
    task_group=wave,
    dag=dag,
    subject=SUBJECT,
    body=BODY,
    fail_on_reject=True,
    response_timeout=timedelta(minutes=30),
)
dag.get_task("preflight") >> approval >> dag.get_task("db.start_recovery")
