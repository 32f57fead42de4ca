"""The IAM policy ``drs-plan iam-policy`` prints is exactly what runs call (issue 23).

Real runs, in this process: a drill, a recovery and failbacks of a plan DAG (``dag.test()``) and a
readiness check, against the DRS simulator and moto. Their calls come from the call logs: the simulator's
(every DRS call) and moto's recorder (every other AWS call; only those made through the
provider's Airflow connection count, not the simulator's own EC2 calls or this test's set-up).
Each operation becomes its IAM action through :mod:`drs_provider.iam`, the module that writes the
policy, and then:

* every action called is granted, on the resource it was called on (nothing missing);
* every action granted was called, but those in :data:`NOT_CALLED` (nothing unused). A failback
  goes home one way per server (its origin: an EC2 region, or a data centre): the failback of EC2
  origins calls all but :data:`ON_PREMISES_ONLY`, the failback of an on-premises server those.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from tools.processes import wait_until

from drs_provider.constants import MODE_DRILL, MODE_FAILBACK, MODE_RECOVERY
from drs_provider.iam import granted_actions, iam_policy
from drs_provider.iam.actions import DEPENDENT_ACTIONS, MODE_READINESS, TAG_ON_START, action_of
from drs_provider.plans.loader import load_plan_file
from drs_simulator import SAMPLE_FLEET
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    EC2_SERVER_DEFAULT_SYNC,
    FLEET,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
)
from tests.fixtures.aws_requests import request_of
from tests.fixtures.simulator import POINT_IN_TIME_SPEED
from tests.integration.factory.conftest import run_dag, xcom_of

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from airflow.sdk import DAG

    from drs_simulator.testing.plugin import DrsSimulatorHandle
    from tests.fixtures.moto import LocalAws

pytestmark = pytest.mark.integration

DB = "s-0a000000000000001"
APP = "s-0a000000000000003"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:dr-events"
BUCKET = "dr-evidence"
FUNCTION = "dr-prepare"
STAGING_SERVER = "s-0d000000000000001"

#: Granted, and never called by the provider itself: keep this short, and say why.
NOT_CALLED: Mapping[str, frozenset[str]] = {
    # DRS checks the caller for them when it launches or terminates: the simulator does not.
    "dependent actions of StartRecovery and TerminateRecoveryInstances (Service Authorization "
    "Reference)": frozenset(action for actions in DEPENDENT_ACTIONS.values() for action in actions),
    # DRS authorizes the tags StartRecovery gives its job as TagResource; never called as such.
    "tags on create": frozenset({TAG_ON_START}),
}
#: A failback's calls for on-premises origins only (the policy cannot tell origins from the plan).
ON_PREMISES_ONLY = frozenset({"drs:StartFailbackLaunch", "drs:StopFailback"})


def plan_document(name: str) -> dict[str, Any]:
    """A plan using what a plan can use that costs permissions: notify, a report, a Lambda step
    and an SSM command, over two waves."""
    return {
        "plan": name,
        "cleanup": "always",
        "notify": {"sns_topic_arn": TOPIC_ARN},
        "report": {"s3_uri": f"s3://{BUCKET}/runs/"},
        "waves": [
            {
                "name": "database",
                "servers": {"ids": [DB]},
                "pre": [{"lambda": {"function": FUNCTION, "payload": {"zone": "shop.internal"}}}],
                "post": [
                    {
                        "ssm_command": {
                            "document": "AWS-RunShellScript",
                            "parameters": {"commands": ["pg_isready -t 30"]},
                            "timeout": 60,
                        }
                    }
                ],
            },
            {"name": "app", "servers": {"ids": [APP]}},
        ],
    }


@pytest.fixture
def plan_aws(local_aws_services: LocalAws) -> LocalAws:
    """What the plan names: its topic, its bucket, its function (AWS-RunShellScript is there)."""
    local_aws_services.client("sns").create_topic(Name=TOPIC_ARN.rpartition(":")[2])
    local_aws_services.client("s3").create_bucket(Bucket=BUCKET)
    local_aws_services.seed(functions=[FUNCTION])
    return local_aws_services


def called_actions(
    drs_calls: Iterable[Mapping[str, Any]], recorded: Iterable[Mapping[str, Any]]
) -> list[tuple[str, str | None]]:
    """``(IAM action, resource ARN or None)`` of every call the provider made: each DRS call the
    simulator logged, and each request moto recorded from the provider's Airflow connection."""
    called: list[tuple[str, str | None]] = [(action_of("drs", call["operation"]), None) for call in drs_calls]
    for request in map(request_of, recorded):
        if request.through_airflow:
            called.append((action_of(request.service, request.operation), request.resource))
    return called


def allows(policy: Mapping[str, Any], action: str, resource: str | None) -> bool:
    """Whether a statement without conditions grants ``action`` on ``resource`` (None: a call the
    test cannot name the resource of, which only ``*`` covers), IAM's wildcards read as fnmatch's."""
    for statement in policy["Statement"]:
        if action not in statement["Action"] or "Condition" in statement:
            continue
        patterns = (
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )
        if any(
            pattern == "*" or (resource is not None and fnmatchcase(resource, pattern))
            for pattern in patterns
        ):
            return True
    return False


def assert_policy_is_what_was_called(
    policy: Mapping[str, Any], called: list[tuple[str, str | None]], unused_ok: frozenset[str] = frozenset()
) -> None:
    """Everything called is granted; everything granted called, but :data:`NOT_CALLED` and ``unused_ok``."""
    missing = sorted(
        {
            f"{action} on {resource or '*'}"
            for action, resource in called
            if not allows(policy, action, resource)
        }
    )
    assert missing == [], f"called, and not granted: {missing}"
    not_called = frozenset().union(*NOT_CALLED.values(), unused_ok)
    unused = granted_actions(policy) - {action for action, _ in called} - not_called
    assert sorted(unused) == [], f"granted, and never called: {sorted(unused)}"


def run_recorded(
    dag: DAG, conf: Mapping[str, Any], drs: DrsSimulatorHandle, aws: LocalAws
) -> tuple[str, dict[str, str], list[tuple[str, str | None]]]:
    """Run ``dag`` with ``conf``; its state, its tasks' states and the actions it called."""
    before = len(drs.calls())
    with aws.recording() as recorded:
        state, tasks = run_dag(dag, dict(conf))
    return state, tasks, called_actions(drs.calls()[before:], recorded)


def five_minutes_ago(drs: DrsSimulatorHandle) -> str:
    """A point_in_time the sample fleet has snapshots before: any run may be given one, and
    preflight and start_recovery then read recovery snapshots (the simulator slowed so that they
    stay until the launch)."""
    drs.reset(speed=POINT_IN_TIME_SPEED)
    return (datetime.now(UTC) - timedelta(minutes=5)).isoformat()


def test_a_drill_calls_exactly_what_the_drill_policy_grants(
    plan_dag: Callable[..., DAG], plans_folder: Path, drs_simulator: DrsSimulatorHandle, plan_aws: LocalAws
) -> None:
    dag = plan_dag("iam_drill", yaml.safe_dump(plan_document("iam_drill"), sort_keys=False))

    conf = {"point_in_time": five_minutes_ago(drs_simulator)}
    state, tasks, called = run_recorded(dag, conf, drs_simulator, plan_aws)

    assert state == "success", tasks
    assert tasks["cleanup"] == tasks["report"] == "success"
    assert ("drs:TerminateRecoveryInstances", None) in called
    policy = iam_policy([load_plan_file(plans_folder / "iam_drill.yaml")], [MODE_DRILL])
    assert_policy_is_what_was_called(policy, called)


def test_a_recovery_calls_exactly_what_the_recovery_policy_grants(
    plan_dag: Callable[..., DAG], plans_folder: Path, drs_simulator: DrsSimulatorHandle, plan_aws: LocalAws
) -> None:
    dag = plan_dag("iam_recovery", yaml.safe_dump(plan_document("iam_recovery"), sort_keys=False))
    conf = {"mode": "recovery", "confirm": "iam_recovery", "point_in_time": five_minutes_ago(drs_simulator)}

    state, tasks, called = run_recorded(dag, conf, drs_simulator, plan_aws)

    assert state == "success", tasks
    assert tasks["cleanup"] == "skipped"  # a recovery's instances are production
    policy = iam_policy([load_plan_file(plans_folder / "iam_recovery.yaml")], [MODE_RECOVERY])
    assert "drs:TerminateRecoveryInstances" not in granted_actions(policy)
    assert_policy_is_what_was_called(policy, called)


class _FirstCheck:
    """The task instance of a readiness check with no earlier result: every plan not ready is news."""

    run_id = "manual__iam"

    def xcom_pull(self, **_: Any) -> None:
        return None


def launch_drill(drs: DrsSimulatorHandle, server_id: str) -> None:
    client = drs.client()
    job = client.start_recovery(isDrill=True, sourceServers=[{"sourceServerID": server_id}])["job"]
    wait_until(
        f"job {job['jobID']} to end",
        lambda: client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED",
        timeout=30,
        interval=0.05,
    )


def test_readiness_calls_exactly_what_the_readiness_policy_grants(
    drs_simulator_ec2: DrsSimulatorHandle, aws_conn: str, plan_aws: LocalAws, tmp_path: Path
) -> None:
    from drs_provider.operators.readiness import DrsReadinessOperator

    document = {**plan_document("iam_ready"), "rpo_target": 86400, "drill_every": 86400}
    document["waves"][0]["launch"] = {"instance_type": "r5.xlarge", "right_sizing": "NONE"}
    (tmp_path / "iam_ready.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    # A staging account with a server no plan means: readiness lists its extensible servers.
    sample = yaml.safe_load(Path(SAMPLE_FLEET).read_text())
    staging = [
        {"account_id": "444455556666", "source_servers": [{"id": STAGING_SERVER, "hostname": "erp-1"}]}
    ]
    drs_simulator_ec2.reset({**sample, "staging_accounts": staging})
    # A drill instance elsewhere in the account: readiness reads the jobs that launched instances.
    launch_drill(drs_simulator_ec2, APP)
    before = len(drs_simulator_ec2.calls())
    check = DrsReadinessOperator(task_id="check", plans_dir=str(tmp_path))

    with plan_aws.recording() as recorded:
        result = check.execute({"ti": _FirstCheck(), "params": {}})  # type: ignore[arg-type]

    # not ready (never drilled), so the first check announces it: readiness_changed is published
    assert result["plans"]["iam_ready"]["status"] != "ready"
    called = called_actions(drs_simulator_ec2.calls()[before:], recorded)
    policy = iam_policy([load_plan_file(tmp_path / "iam_ready.yaml")], [MODE_READINESS])
    assert not {"drs:StartRecovery", "drs:TerminateRecoveryInstances"} & granted_actions(policy)
    assert_policy_is_what_was_called(policy, called)


def test_native_plans_call_exactly_what_readiness_grants_a_plan_with_native_plan(
    drs_simulator: DrsSimulatorHandle, aws_conn: str, tmp_path: Path
) -> None:
    """The task ``native_plans`` of a plan with ``native_plan: true``: it creates the native plan,
    then brings it back in step after it went out of step every way (description, tags, a wrong
    step, a part no longer needed). Together the two runs call every operation the DrsNativePlans
    statement grants, and nothing else."""
    from drs_provider.operators.native_plans import DrsNativePlansOperator

    document = {
        "plan": "iam_native",
        "native_plan": True,
        "waves": [{"name": "db", "servers": {"ids": [DB]}}],
    }
    (tmp_path / "iam_native.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    task = DrsNativePlansOperator(task_id="native_plans", plans_dir=str(tmp_path))
    context: Any = {"ti": _FirstCheck(), "params": {}}
    before = len(drs_simulator.calls())
    task.execute(context)
    calls = drs_simulator.calls()[before:]
    # out of step: by hand, not counted
    client = drs_simulator.client()
    [native] = client.list_recovery_plans()["recoveryPlans"]
    arn = native["recoveryPlanArn"]
    client.update_recovery_plan(recoveryPlanArn=arn, description="edited in the console")
    client.untag_resource(resourceArn=arn, tagKeys=["drs:part"])
    server_arn = client.describe_source_servers(filters={"sourceServerIDs": [APP]})["items"][0]["arn"]
    client.create_recovery_plan_step(
        recoveryPlanArn=arn,
        stepName="app",
        stepOrder=2,
        configuration={"serverStepConfiguration": {"servers": [{"serverArn": server_arn}]}},
    )
    client.create_recovery_plan(name="iam_native-2", tags={"drs:plan": "iam_native"})
    before = len(drs_simulator.calls())

    result = task.execute(context)

    assert len(result["plans"]["iam_native"]["changes"]) == 4  # description, tags, -step, -part
    called = called_actions([*calls, *drs_simulator.calls()[before:]], [])
    policy = iam_policy([load_plan_file(tmp_path / "iam_native.yaml")], [MODE_READINESS])
    # the check task's own reads are held to this policy by the readiness test above
    check_only = granted_actions(policy) - set(statement_actions(policy, "DrsNativePlans"))
    assert_policy_is_what_was_called(policy, called, frozenset(check_only - {"drs:DescribeSourceServers"}))


def statement_actions(policy: Mapping[str, Any], sid: str) -> list[str]:
    [found] = [statement for statement in policy["Statement"] if statement["Sid"] == sid]
    actions = found["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def recover_for_real(drs: DrsSimulatorHandle, region: str, server_ids: list[str]) -> list[str]:
    """A recovery (not a drill) of ``server_ids`` straight through the simulator, not a plan run: a
    failback needs live recovery instances, not how they came; the recovery instances' IDs."""
    client = drs.client(region)
    sources = [{"sourceServerID": server_id} for server_id in server_ids]
    job = client.start_recovery(isDrill=False, sourceServers=sources)["job"]
    wait_until(
        f"recovery job {job['jobID']} to end",
        lambda: client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"] == "COMPLETED",
        timeout=30,
        interval=0.05,
    )
    instances = client.describe_recovery_instances(filters={"sourceServerIDs": server_ids})["items"]
    assert len(instances) == len(server_ids)
    return [instance["recoveryInstanceID"] for instance in instances]


def failback_plan(name: str, region: str, server_ids: list[str], **keys: str) -> str:
    waves = [{"name": f"wave{number}", "servers": {"ids": [i]}} for number, i in enumerate(server_ids, 1)]
    return yaml.safe_dump({"plan": name, "region": region, **keys, "waves": waves}, sort_keys=False)


def test_a_failback_calls_exactly_what_the_failback_policy_grants(
    plan_dag: Callable[..., DAG],
    plans_folder: Path,
    drs_simulator: DrsSimulatorHandle,
    local_aws_services: LocalAws,
) -> None:
    """EC2 origins, ``failback_cleanup: terminate``: reversing in the recovery region, the launch
    home and re-protection in the origin region, then StopReplication and termination."""
    drs_simulator.reset(fleet=FLEET)
    servers = [EC2_SERVER, EC2_SERVER_DEFAULT_SYNC]
    dag = plan_dag(
        "iam_failback", failback_plan("iam_failback", RECOVERY_REGION, servers, failback_cleanup="terminate")
    )
    recovered = recover_for_real(drs_simulator, RECOVERY_REGION, servers)
    conf = {"mode": "failback", "confirm": "iam_failback"}

    state, tasks, called = run_recorded(dag, conf, drs_simulator, local_aws_services)

    assert state == "success", tasks
    assert tasks["cleanup"] == "success"
    regions = {(call["operation"], call["region"]) for call in drs_simulator.calls() if not call["error"]}
    assert {
        ("ReverseReplication", RECOVERY_REGION),  # reversed
        ("StartRecovery", ORIGIN_REGION),  # launched home
        ("ReverseReplication", ORIGIN_REGION),  # re-protected
        ("StopReplication", ORIGIN_REGION),  # the FAILBACK servers, before
        ("TerminateRecoveryInstances", RECOVERY_REGION),  # the instances they copied from
    } <= regions
    assert sorted(xcom_of(dag, "report")["cleanup"]["terminated"]) == sorted(recovered)
    policy = iam_policy([load_plan_file(plans_folder / "iam_failback.yaml")], [MODE_FAILBACK])
    assert_policy_is_what_was_called(policy, called, unused_ok=ON_PREMISES_ONLY)


def test_an_on_premises_failback_calls_only_what_the_failback_policy_grants(
    plan_dag: Callable[..., DAG],
    plans_folder: Path,
    drs_simulator: DrsSimulatorHandle,
    local_aws_services: LocalAws,
) -> None:
    """An on-premises server whose launch home fails: StartFailbackLaunch, then StopFailback (so its
    Failback Client can connect again), in the recovery region; the calls :data:`ON_PREMISES_ONLY`
    stands for."""
    drs_simulator.reset(fleet=FLEET)
    dag = plan_dag("iam_ledger", failback_plan("iam_ledger", ORIGIN_REGION, [ON_PREMISES_SERVER]))
    [instance_id] = recover_for_real(drs_simulator, ORIGIN_REGION, [ON_PREMISES_SERVER])
    drs_simulator.connect_failback_client(instance_id)
    drs_simulator.set_faults(fail_failback_servers={ON_PREMISES_SERVER: "Boot volume conversion failed"})

    state, tasks, called = run_recorded(
        dag, {"mode": "failback", "confirm": "iam_ledger"}, drs_simulator, local_aws_services
    )

    assert state == "failed"
    assert tasks["wave1.wait_for_recovery"] == "failed", tasks
    assert {action for action, _ in called} >= ON_PREMISES_ONLY
    policy = iam_policy([load_plan_file(plans_folder / "iam_ledger.yaml")], [MODE_FAILBACK])
    # what a failback of EC2 origins calls (the test above) this one does not
    ec2_origins_only = frozenset(
        {"drs:ReverseReplication", "drs:StartRecovery", "drs:TerminateRecoveryInstances"}
    )
    assert_policy_is_what_was_called(policy, called, unused_ok=ec2_origins_only)
