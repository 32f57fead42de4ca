"""The per-server verdict of DRS jobs (DescribeJobs items), from plain data."""

from __future__ import annotations

import pytest

from drs_provider.recovery.outcome import judge_jobs, launch_events, required_server_failed, wait_verdict

JOB = "drsjob-0a000000000000001"


def job(status: str, *servers: tuple[str, str]) -> dict:
    return {
        "jobID": JOB,
        "status": status,
        "creationDateTime": "2026-05-04T03:00:00+00:00",
        "endDateTime": "2026-05-04T03:02:00+00:00" if status == "COMPLETED" else None,
        "participatingServers": [
            {"sourceServerID": server_id, "launchStatus": launch, "recoveryInstanceID": f"i-{server_id[2:]}"}
            for server_id, launch in servers
        ],
    }


LOG = [
    {
        "event": "LAUNCH_START",
        "logDateTime": "2026-05-04T03:01:00+00:00",
        "eventData": {"sourceServerID": "s-1"},
    },
    {"event": "CONVERSION_FAILED", "eventData": {"sourceServerID": "s-2", "rawError": "conversion broke"}},
    {"event": "LAUNCH_FAILED", "eventData": {"sourceServerID": "s-2", "rawError": "no capacity"}},
    {"event": "SNAPSHOT_FAILED", "eventData": {"sourceServerID": "s-3", "rawError": "snapshot broke"}},
]


def judge(jobs: list[dict], optional: tuple[str, ...] = ()):
    return judge_jobs(
        jobs,
        optional,
        hostnames={"s-1": "db-1", "s-2": "db-2"},
        ec2_instance_ids={"i-1": "i-ec2one"},
        log_items={JOB: LOG},
    )


def test_the_launch_failure_wins_over_earlier_failures_and_fills_gaps() -> None:
    events = launch_events(LOG)

    assert events.raw_errors == {"s-2": "no capacity", "s-3": "snapshot broke"}
    assert events.started == {"s-1": "2026-05-04T03:01:00+00:00"}


def test_a_completed_job_with_a_failed_required_server_fails_naming_it() -> None:
    outcome = judge([job("COMPLETED", ("s-1", "LAUNCHED"), ("s-2", "FAILED"))])

    assert [failed.source_server_id for failed in outcome.failed_required] == ["s-2"]
    assert outcome.failed_required[0].raw_error == "no capacity"
    assert outcome.failed_required[0].hostname == "db-2"
    assert outcome.launched == 1
    first, second = outcome.results
    assert first["ec2InstanceID"] == "i-ec2one" and "rawError" not in first
    assert second["rawError"] == "no capacity"


def test_optional_failures_and_servers_still_launching_do_not_fail() -> None:
    outcome = judge([job("STARTED", ("s-1", "IN_PROGRESS"), ("s-2", "FAILED"))], optional=("s-2",))

    assert outcome.failed_required == []
    assert [failed.source_server_id for failed in outcome.failed_optional] == ["s-2"]
    assert outcome.still_launching == ["s-1"]


def test_a_server_left_pending_in_a_completed_job_is_a_failure() -> None:
    outcome = judge([job("COMPLETED", ("s-1", "PENDING"))])

    assert [failed.launch_status for failed in outcome.failed_required] == ["PENDING"]


def test_required_failure_before_completion() -> None:
    jobs = [job("STARTED", ("s-1", "IN_PROGRESS"), ("s-2", "FAILED"))]

    assert required_server_failed(jobs)
    assert not required_server_failed(jobs, optional_ids=["s-2"])


@pytest.mark.parametrize(
    ("jobs", "optional", "verdict"),
    [
        ([job("STARTED", ("s-1", "PENDING"))], (), None),
        ([job("COMPLETED", ("s-1", "LAUNCHED")), job("STARTED", ("s-2", "IN_PROGRESS"))], (), None),
        ([job("COMPLETED", ("s-1", "LAUNCHED")), job("COMPLETED", ("s-2", "LAUNCHED"))], (), "success"),
        # a required server's failure ends the wait before its job is over
        ([job("STARTED", ("s-1", "FAILED"), ("s-2", "IN_PROGRESS"))], (), "failure"),
        ([job("STARTED", ("s-1", "TERMINATED"))], (), "failure"),
        # an optional server's does not
        ([job("STARTED", ("s-1", "FAILED"), ("s-2", "IN_PROGRESS"))], ("s-1",), None),
        ([job("COMPLETED", ("s-1", "FAILED"), ("s-2", "LAUNCHED"))], ("s-1",), "success"),
    ],
)
def test_every_way_to_wait_ends_on_one_verdict(jobs, optional, verdict):
    assert wait_verdict(jobs, optional) == verdict


def test_only_an_extended_source_servers_result_names_its_staging_account() -> None:
    outcome = judge_jobs(
        [job("COMPLETED", ("s-1", "LAUNCHED"), ("s-2", "LAUNCHED"))],
        hostnames={},
        ec2_instance_ids={},
        log_items={},
        staging_accounts={"s-2": "444455556666"},
    )

    first, second = outcome.results
    assert "stagingAccountID" not in first
    assert second["stagingAccountID"] == "444455556666"
