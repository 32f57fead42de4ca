"""Runbook steps run for real (``dag.test()``): DRS on the simulator, SSM and Lambda on moto."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.integration.factory.conftest import run_dag

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import DAG

    from tests.fixtures.moto import LocalAws

pytestmark = pytest.mark.integration

DB = "s-0a000000000000001"
DB_REPLICA = "s-0a000000000000007"
APP = "s-0a000000000000003"

RUNBOOK = f"""
plan: runbook
cleanup: never   # the test reads the recovered instances once the run has ended
waves:
  - name: database
    servers: {{ids: [{DB}]}}
    optional_servers: {{ids: [{DB_REPLICA}]}}
    pre:
      - approval: {{message: Fail the database over?, modes: [recovery]}}
      - lambda: {{function: dr-prepare, payload: {{zone: shop.internal}}}}
    post:
      - ssm_command:
          document: AWS-RunShellScript
          parameters: {{commands: ["pg_isready -t 30"]}}
          timeout: 120
      - lambda: {{function: dr-switch-dns, payload: {{record: db.shop.internal}}}}
      - lambda: {{name: notify_chat, function: dr-chat, optional: true}}
      - wait: 1
  - name: app
    servers: {{ids: [{APP}]}}
"""


def xcom(dag: DAG, task_id: str, key: str = "return_value") -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(XComModel.value)
            .where(XComModel.dag_id == dag.dag_id, XComModel.task_id == task_id, XComModel.key == key)
            .order_by(XComModel.timestamp.desc())
        ).first()
    return None if row is None else json.loads(row[0]) if isinstance(row[0], str) else row[0]


def recovered_instances(drs_simulator: Any, server_ids: set[str]) -> set[str]:
    items = drs_simulator.client().describe_recovery_instances(filters={})["items"]
    return {item["ec2InstanceID"] for item in items if item["sourceServerID"] in server_ids}


def test_steps_run_in_order_around_the_wave_with_what_they_know_of_the_run(
    plan_dag: Callable[..., DAG], drs_simulator: Any, local_aws_services: LocalAws
) -> None:
    local_aws_services.seed(functions=["dr-prepare", "dr-switch-dns", "dr-chat"])
    dag = plan_dag("runbook", RUNBOOK)

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert tasks == {
        "preflight": "success",
        "database.pre_1_approval": "success",
        "database.pre_2_lambda": "success",
        "database.start_recovery": "success",
        "database.wait_for_recovery": "success",
        "database.post_1_ssm_command": "success",
        "database.post_2_lambda": "success",
        "database.notify_chat": "success",
        "database.post_4_wait": "success",
        "app.start_recovery": "success",
        "app.wait_for_recovery": "success",
        "report": "success",
    }
    # A recovery-only approval passes at once in a drill, and says so.
    assert xcom(dag, "database.pre_1_approval", "step_outcome")["state"] == "passed"
    # The post SSM command ran on exactly the wave's recovered EC2 instances.
    [command] = local_aws_services.client("ssm").list_commands()["Commands"]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"] == {"commands": ["pg_isready -t 30"]}
    assert set(command["InstanceIds"]) == recovered_instances(drs_simulator, {DB, DB_REPLICA})
    assert xcom(dag, "database.post_1_ssm_command")["command_id"] == command["CommandId"]
    # Each Lambda got the run's event (moto's function answers with the event it was given).
    pre_event = xcom(dag, "database.pre_2_lambda")
    assert pre_event["plan"] == "runbook" and pre_event["dag_id"] == "drs_plan_runbook"
    assert (pre_event["mode"], pre_event["wave"], pre_event["step"]) == ("drill", "database", "pre_2_lambda")
    assert pre_event["input"] == {"zone": "shop.internal"}
    assert {s["sourceServerID"]: s["launchStatus"] for s in pre_event["servers"]} == {
        DB: None,
        DB_REPLICA: None,
    }
    post_event = xcom(dag, "database.post_2_lambda")
    assert post_event["run_id"] == pre_event["run_id"]
    assert {s["sourceServerID"]: s["launchStatus"] for s in post_event["servers"]} == {
        DB: "LAUNCHED",
        DB_REPLICA: "LAUNCHED",
    }
    assert {s["ec2InstanceID"] for s in post_event["servers"]} == set(command["InstanceIds"])
    # A step that ran normally leaves no step_outcome (that is for passing at once or failing optionally).
    assert xcom(dag, "database.notify_chat", "step_outcome") is None
    assert xcom(dag, "database.notify_chat")["step"] == "notify_chat"


def test_preflight_names_every_missing_function_and_document_before_anything_launches(
    plan_dag: Callable[..., DAG], drs_simulator: Any, local_aws_services: LocalAws
) -> None:
    local_aws_services.seed(functions=["dr-switch-dns"])  # no dr-prepare
    local_aws_services.client("ssm").delete_document(Name="AWS-RunShellScript")
    dag = plan_dag("runbook", RUNBOOK)

    state, tasks = run_dag(dag)

    assert state == "failed"
    assert tasks["preflight"] == "failed"
    assert drs_simulator.calls("StartRecovery") == []
    assert local_aws_services.client("ssm").list_commands()["Commands"] == []
    log = preflight_error(dag)
    assert (
        "wave 'database': pre step 'pre_2_lambda' (lambda): Lambda function 'dr-prepare' does not exist"
        in log
    )
    assert (
        "wave 'database': post step 'post_1_ssm_command' (ssm_command): SSM document 'AWS-RunShellScript'"
        in log
    )
    assert "dr-switch-dns" not in log
    # The optional step's missing function is no reason to stop the run.
    assert "notify_chat" not in log


def preflight_error(dag: DAG) -> str:
    """The preflight task's failure, as the DrsPreflightError message it raised."""
    from drs_provider.exceptions import DrsPreflightError
    from drs_provider.operators.preflight import DrsPlanPreflightOperator

    task = dag.get_task("preflight")
    assert isinstance(task, DrsPlanPreflightOperator)
    with pytest.raises(DrsPreflightError) as caught:
        task.run_task({"params": {"mode": "drill"}, "dag_run": None})  # type: ignore[arg-type]
    return str(caught.value)


SECRET = "rs-secret-Kd82pQ"
NOTE = "rs-note-Vw31xZ"
#: Plan text that Jinja would evaluate, read from a file, or choke on ('${#' opens a comment).
COMMANDS = [
    "echo {{ conn.rs_vault.password }}",
    "echo {{ var.value.rs_note }}",
    "{% if true %}echo {{ conn.rs_vault.password }}{% endif %}",
    "test ${#HOSTS[@]} -gt 0 && ./run.sh",
    "run.sh",
]
COMMENT = "{# kept #} {{ conn.rs_vault.password }}"
PAYLOAD = {"secret": "{{ conn.rs_vault.password }}", "note": "{{ var.value.rs_note }}", "file": "event.json"}
QUESTION = "Fail over? {{ conn.rs_vault.password }}"


def test_plan_text_reaches_ssm_and_lambda_as_written_and_no_secret_is_read(
    plan_dag: Callable[..., DAG],
    drs_simulator: Any,
    local_aws_services: LocalAws,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 18: a plan's text is data. A connection and a variable that templates could reach
    exist; the text arrives at SSM and Lambda character for character, and neither secret is
    anywhere in the run (XComs, rendered fields)."""
    monkeypatch.setenv("AIRFLOW_CONN_RS_VAULT", json.dumps({"conn_type": "generic", "password": SECRET}))
    monkeypatch.setenv("AIRFLOW_VAR_RS_NOTE", NOTE)
    local_aws_services.seed(functions=["dr-echo"])
    plan = {
        "plan": "literal_text",
        "waves": [
            {
                "name": "database",
                "servers": {"ids": [DB]},
                "pre": [{"approval": {"message": QUESTION, "modes": ["recovery"]}}],
                "post": [
                    {
                        "ssm_command": {
                            "document": "AWS-RunShellScript",
                            "parameters": {"commands": COMMANDS},
                            "comment": COMMENT,
                        }
                    },
                    {"lambda": {"function": "dr-echo", "payload": PAYLOAD}},
                ],
            }
        ],
    }
    dag = plan_dag("literal_text", yaml.safe_dump(plan, sort_keys=False))

    state, tasks = run_dag(dag)

    assert state == "success", tasks
    assert dag.get_task("database.pre_1_approval").subject == QUESTION  # type: ignore[attr-defined]
    [command] = local_aws_services.client("ssm").list_commands()["Commands"]
    assert command["Parameters"] == {"commands": COMMANDS}
    assert command["Comment"] == COMMENT
    assert xcom(dag, "database.post_2_lambda")["input"] == PAYLOAD  # moto's function echoes its event
    seen = json.dumps([command, run_xcoms(dag), rendered_fields(dag)], default=str)
    assert SECRET not in seen and NOTE not in seen


def run_xcoms(dag: DAG) -> list[Any]:
    """Every XCom value the DAG's runs left."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(session.scalars(select(XComModel.value).where(XComModel.dag_id == dag.dag_id)))


def rendered_fields(dag: DAG) -> list[Any]:
    """Every task's rendered template fields, as the UI shows them."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        return list(
            session.scalars(
                select(RenderedTaskInstanceFields.rendered_fields).where(
                    RenderedTaskInstanceFields.dag_id == dag.dag_id
                )
            )
        )
