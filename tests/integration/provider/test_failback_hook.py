"""DrsHook's failback calls against the simulator (two regions, real boto3 clients): reversing,
finding again what was reversed, the copy's progress, and the on-premises failback launch."""

from __future__ import annotations

from typing import Any

import pytest

from drs_provider.exceptions import DrsAgentStartingError
from drs_provider.hooks.drs import DrsHook
from drs_provider.recovery.failback import (
    FAILBACK_COMPLETED,
    READY_FOR_LAUNCH,
    Origin,
    origin_of,
    sync_progress,
)
from drs_simulator.testing.failback_fleet import (
    EC2_SERVER,
    FLEET,
    LAUNCH_SECONDS,
    ON_PREMISES_SERVER,
    ORIGIN_REGION,
    RECOVERY_REGION,
    SYNC_SECONDS,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def recovery_side(drs_simulator: Any, aws_conn: str) -> DrsHook:
    """The failback fleet at speed 0; a hook of its recovery region."""
    drs_simulator.reset(fleet=FLEET, speed=0)
    return DrsHook(aws_conn_id=aws_conn, region_name=RECOVERY_REGION)


def recovered(hook: DrsHook, simulator: Any, server_id: str) -> dict[str, Any]:
    """Recover ``server_id`` for real (not a drill) and return its recovery instance."""
    hook.start_recovery_job([{"sourceServerID": server_id}], is_drill=False)
    simulator.advance(LAUNCH_SECONDS + 10)
    (instance,) = hook.recovery_instances_of([server_id])
    return instance


def test_an_ec2_origin_is_reversed_once_and_found_again_by_its_instance(
    drs_simulator: Any, recovery_side: DrsHook
) -> None:
    instance = recovered(recovery_side, drs_simulator, EC2_SERVER)
    assert origin_of(instance) == Origin("AWS", ORIGIN_REGION)
    home = recovery_side.in_region(ORIGIN_REGION)
    ec2_id = instance["ec2InstanceID"]
    assert (home.region_name, home.aws_conn_id) == (ORIGIN_REGION, recovery_side.aws_conn_id)
    assert home.find_failback_servers([ec2_id]) == {}  # nothing reversed yet

    arn = recovery_side.reverse_replication(instance["recoveryInstanceID"])

    server = home.find_failback_servers([ec2_id])[ec2_id]
    assert server["arn"] == arn
    assert recovery_side.find_failback_servers([ec2_id]) == {}  # it lives in the origin region only
    copying = sync_progress(server)
    assert (copying.synced, copying.server_id) == (False, server["sourceServerID"])
    assert copying.server_id in copying.describe() and copying.state in copying.describe()
    assert not home.failback_readiness([copying.server_id])[copying.server_id].ready

    drs_simulator.advance(SYNC_SECONDS + 60)

    assert sync_progress(home.find_failback_servers([ec2_id])[ec2_id]).synced
    readiness = home.failback_readiness([copying.server_id, "s-0f00000000000dead"])
    assert list(readiness) == [copying.server_id]  # one DRS does not know is left out
    assert (readiness[copying.server_id].ready, readiness[copying.server_id].state) == (True, "CONTINUOUS")
    assert home.failback_readiness() == {}
    assert len(drs_simulator.calls("ReverseReplication")) == 1


def test_a_reversal_refused_while_the_agent_starts_is_an_error_to_wait_on(
    drs_simulator: Any, recovery_side: DrsHook
) -> None:
    instance = recovered(recovery_side, drs_simulator, EC2_SERVER)
    drs_simulator.set_faults(agent_starting_count=1)

    with pytest.raises(DrsAgentStartingError) as refused:
        recovery_side.reverse_replication(instance["recoveryInstanceID"])

    assert refused.value.recovery_instance_id == instance["recoveryInstanceID"]
    assert instance["recoveryInstanceID"] in str(refused.value)
    assert recovery_side.reverse_replication(instance["recoveryInstanceID"]).startswith("arn:")


def test_an_on_premises_origin_goes_home_through_the_failback_client(
    drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    hook = DrsHook(aws_conn_id=aws_conn, region_name=ORIGIN_REGION)
    instance = recovered(hook, drs_simulator, ON_PREMISES_SERVER)
    instance_id = instance["recoveryInstanceID"]
    assert origin_of(instance) == Origin("ON_PREMISES", None)
    assert hook.failback_states([instance_id]) == {instance_id: "FAILBACK_NOT_STARTED"}

    assert not hook.failback_readiness(recovery_instance_ids=[instance_id])[instance_id].ready

    drs_simulator.connect_failback_client(instance_id)
    assert hook.failback_states([instance_id]) == {instance_id: READY_FOR_LAUNCH}
    assert hook.failback_readiness(recovery_instance_ids=[instance_id])[instance_id].ready
    (job,) = hook.start_failback_launch([instance_id], tags={"drs:plan": "ledger"})
    drs_simulator.advance(LAUNCH_SECONDS + 10)

    assert hook.failback_states([instance_id, "i-0000000000000000f"]) == {instance_id: FAILBACK_COMPLETED}
    (started,) = drs_simulator.calls("StartFailbackLaunch")
    assert started["request"] == {"recoveryInstanceIDs": [instance_id], "tags": {"drs:plan": "ledger"}}
    assert job["jobID"]


def test_stop_failback_takes_an_on_premises_instance_back_to_not_started(
    drs_simulator: Any, aws_conn: str
) -> None:
    drs_simulator.reset(fleet=FLEET, speed=0)
    hook = DrsHook(aws_conn_id=aws_conn, region_name=ORIGIN_REGION)
    instance_id = recovered(hook, drs_simulator, ON_PREMISES_SERVER)["recoveryInstanceID"]
    drs_simulator.connect_failback_client(instance_id)

    hook.stop_failback(instance_id)

    assert hook.failback_states([instance_id]) == {instance_id: "FAILBACK_NOT_STARTED"}
