"""Nothing recovered is replaced by accident: preflight and each wave's launch against the simulator.

A server is really recovered here as DRS would have it after a failover: a StartRecovery with
``isDrill: false``, tagged like a plan run's job, run to completion on the simulator's clock.
"""

from __future__ import annotations

from typing import Any

import pytest

from drs_provider.exceptions import DrsPreflightError, DrsRecoveredServerError
from drs_provider.operators.plan_run import DrsPlanWaveStartOperator
from drs_provider.operators.preflight import DrsPlanPreflightOperator

pytestmark = pytest.mark.integration

WEB = "s-0a000000000000005"  # web-1
REPLICA = "s-0a000000000000007"  # db-replica-1
EARLIER_RUN = {"airflow:dag_id": "drs_plan_shop", "airflow:run_id": "manual__failover"}


class RunStandIn:
    run_type = "manual"


class TaskInstanceStandIn:
    """The task instance a plan task sees: its identity, preflight's XCom, what it pushes."""

    def __init__(self, run_id: str, preflight_result: Any = None) -> None:
        self.dag_id = "drs_plan_shop"
        self.run_id = run_id
        self.task_id = "web.start_recovery"
        self.map_index = -1
        self.start_date = None
        self.preflight_result = preflight_result
        self.pushed: dict[str, Any] = {}

    def xcom_pull(self, **kwargs: Any) -> Any:
        return self.preflight_result

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context(ti: TaskInstanceStandIn, **params: Any) -> dict[str, Any]:
    return {"params": {"mode": "drill", **params}, "dag_run": RunStandIn(), "ti": ti}


def recover(
    drs_simulator: Any, server_ids: list[str], *, is_drill: bool = False, **tags: str
) -> tuple[str, str]:
    """Launch ``server_ids`` for real and let the launch finish: the first recovery instance, the job."""
    client = drs_simulator.client()
    job = client.start_recovery(
        isDrill=is_drill, sourceServers=[{"sourceServerID": i} for i in server_ids], tags=tags
    )["job"]
    drs_simulator.advance(3600)
    [done] = client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"]
    assert done["status"] == "COMPLETED", done
    instances = client.describe_recovery_instances(filters={"sourceServerIDs": server_ids})["items"]
    return str(instances[0]["recoveryInstanceID"]), str(job["jobID"])


def preflight(aws_conn: str, optional: list[str] | None = None) -> DrsPlanPreflightOperator:
    waves = [
        {
            "name": "web",
            "servers": {"ids": [WEB], "tags": {}},
            "optional_servers": {"ids": optional, "tags": {}} if optional else None,
            "depends_on": [],
        }
    ]
    return DrsPlanPreflightOperator(task_id="preflight", plan_name="shop", waves=waves, aws_conn_id=aws_conn)


def test_a_drill_refuses_a_recovered_server_naming_server_instance_and_run(
    aws_conn: str, drs_simulator: Any
) -> None:
    instance, job = recover(drs_simulator, [WEB], **EARLIER_RUN)

    with pytest.raises(DrsPreflightError) as caught:
        preflight(aws_conn).run_task(context(TaskInstanceStandIn("scheduled__drill")))

    assert caught.value.problems == (
        f"wave 'web': {WEB} (web-1) has a live recovery instance {instance} (RUNNING, not a drill) "
        f"launched by run manual__failover of drs_plan_shop (DRS job {job}): a drill launch would "
        "replace it, and a drill never launches over a recovered server",
    )
    assert len(drs_simulator.calls("StartRecovery")) == 1  # the failover's only


def test_a_recovery_refuses_it_too_unless_told_to_relaunch(aws_conn: str, drs_simulator: Any) -> None:
    instance, _ = recover(drs_simulator, [WEB])  # from the console: no plan run's tags
    recovery = {"mode": "recovery", "confirm": "shop"}

    with pytest.raises(DrsPreflightError) as caught:
        preflight(aws_conn).run_task(context(TaskInstanceStandIn("manual__again"), **recovery))
    [problem] = caught.value.problems
    assert f"{instance} (RUNNING, not a drill) launched by DRS job" in problem
    assert "not started by a plan run" in problem
    assert problem.endswith("trigger the recovery with relaunch_recovered: true to launch over it on purpose")

    result = preflight(aws_conn).run_task(
        context(TaskInstanceStandIn("manual__again"), relaunch_recovered=True, **recovery)
    )
    assert result["waves"]["web"]["source_server_ids"] == [WEB]
    assert any(
        instance in warning and "this recovery replaces it" in warning for warning in result["warnings"]
    )


def test_drill_instances_gone_instances_and_the_runs_own_instances_are_not_in_the_way(
    aws_conn: str, drs_simulator: Any
) -> None:
    recover(drs_simulator, [REPLICA], is_drill=True)
    gone, _ = recover(drs_simulator, ["s-0a000000000000006"])
    drs_simulator.client().terminate_recovery_instances(recoveryInstanceIDs=[gone])
    drs_simulator.advance(3600)
    recover(drs_simulator, [WEB], **EARLIER_RUN)  # this very run launched it (a preflight cleared later)
    waves = [{"name": "web", "servers": {"ids": [WEB, "s-0a000000000000006", REPLICA]}, "depends_on": []}]
    operator = DrsPlanPreflightOperator(
        task_id="preflight", plan_name="shop", waves=waves, aws_conn_id=aws_conn
    )

    result = operator.run_task(
        context(TaskInstanceStandIn("manual__failover"), mode="recovery", confirm="shop")
    )

    assert result["waves"]["web"]["source_server_ids"] == [WEB, "s-0a000000000000006", REPLICA]


def test_a_recovered_optional_server_is_left_out_of_a_drill(aws_conn: str, drs_simulator: Any) -> None:
    recover(drs_simulator, [REPLICA])

    result = preflight(aws_conn, optional=[REPLICA]).run_task(context(TaskInstanceStandIn("manual__drill")))

    assert result["waves"]["web"]["optional_source_server_ids"] == []
    assert any(REPLICA in w and "optional server left out" in w for w in result["warnings"])


def resolved(*, is_drill: bool, required: str = WEB, optional: list[str] | None = None) -> dict[str, Any]:
    return {
        "mode": "drill" if is_drill else "recovery",
        "waves": {
            "web": {
                "run": True,
                "source_server_ids": [required],
                "optional_source_server_ids": optional or [],
            }
        },
    }


def wave_start(aws_conn: str) -> DrsPlanWaveStartOperator:
    return DrsPlanWaveStartOperator(
        task_id="web.start_recovery", plan_name="shop", wave_name="web", aws_conn_id=aws_conn
    )


def test_a_server_recovered_after_preflight_is_not_launched_over(aws_conn: str, drs_simulator: Any) -> None:
    """Launches come hours after preflight when approvals wait: the guard holds at launch too."""
    instance, job = recover(drs_simulator, [WEB], **EARLIER_RUN)
    ti = TaskInstanceStandIn("scheduled__drill", resolved(is_drill=True))

    with pytest.raises(DrsRecoveredServerError) as caught:
        wave_start(aws_conn).run_task(context(ti))

    assert str(caught.value) == (
        f"web.start_recovery: not launched: {WEB} has a live recovery instance {instance} (RUNNING, not a "
        f"drill) launched by run manual__failover of drs_plan_shop (DRS job {job}): a drill launch would "
        "replace it, and a drill never launches over a recovered server"
    )
    assert len(drs_simulator.calls("StartRecovery")) == 1


def test_a_recovery_told_to_relaunch_launches_over_it(aws_conn: str, drs_simulator: Any) -> None:
    recover(drs_simulator, [WEB])
    ti = TaskInstanceStandIn("manual__again", resolved(is_drill=False))

    job_ids = wave_start(aws_conn).run_task(
        context(ti, mode="recovery", confirm="shop", relaunch_recovered=True)
    )

    [launch] = drs_simulator.calls("StartRecovery")[1:]
    assert (launch["request"]["sourceServers"], launch["request"]["isDrill"]) == (
        [{"sourceServerID": WEB}],
        False,
    )
    assert len(job_ids) == 1


def test_a_recovered_optional_server_stays_out_of_a_drills_launch(aws_conn: str, drs_simulator: Any) -> None:
    recover(drs_simulator, [REPLICA])
    ti = TaskInstanceStandIn("manual__drill", resolved(is_drill=True, required=WEB, optional=[REPLICA]))

    wave_start(aws_conn).run_task(context(ti))

    [launch] = drs_simulator.calls("StartRecovery")[1:]
    assert launch["request"]["sourceServers"] == [{"sourceServerID": WEB}]
    assert ti.pushed["optional_source_server_ids"] == []
