"""Which instances a drill's cleanup terminates: only the drill instances its own jobs launched."""

from __future__ import annotations

import pytest

from drs_provider.recovery.cleanup import cleanup_entry, plan_cleanup, refusal

OURS = "drsjob-0a000000000000001"
THEIRS = "drsjob-0b000000000000002"


def job(job_id: str, *instances: str, kind: str = "LAUNCH") -> dict:
    return {
        "jobID": job_id,
        "type": kind,
        "participatingServers": [
            {"sourceServerID": f"s-{n:017d}", "recoveryInstanceID": instance}
            for n, instance in enumerate(instances)
        ],
    }


def instance(instance_id: str, job_id: str, is_drill: bool = True) -> dict:
    return {"recoveryInstanceID": instance_id, "jobID": job_id, "isDrill": is_drill}


def test_only_our_drill_instances_are_terminated_and_every_other_is_named() -> None:
    jobs = [job(OURS, "i-ours1", "i-ours2", "i-replaced", "i-gone", "i-real")]
    instances = [
        instance("i-ours1", OURS),
        instance("i-ours2", OURS),
        instance("i-replaced", THEIRS),  # another run launched the server again
        instance("i-real", OURS, is_drill=False),
    ]

    plan = plan_cleanup(jobs, instances)

    assert plan.to_terminate == ("i-ours1", "i-ours2")
    assert dict(plan.left_alone) == {
        "i-replaced": f"launched by job {THEIRS}, not by this run",
        "i-gone": "DRS no longer has it (already terminated)",
        "i-real": "not a drill instance",
    }


def test_termination_jobs_name_no_instance_to_terminate() -> None:
    jobs = [job(OURS, "i-ours1"), job("drsjob-0c000000000000003", "i-ours1", kind="TERMINATE")]

    plan = plan_cleanup(jobs, [instance("i-ours1", OURS)])

    assert plan.to_terminate == ("i-ours1",)
    assert dict(plan.left_alone) == {}


def launch_job(job_id: str, initiated_by: str = "START_DRILL", status: str = "COMPLETED") -> dict:
    return {**job(job_id, "i-1"), "initiatedBy": initiated_by, "status": status}


def test_a_finished_drill_may_be_cleaned_up_after_its_run() -> None:
    assert refusal([launch_job(OURS), {**job(THEIRS, kind="TERMINATE"), "status": "STARTED"}]) is None


@pytest.mark.parametrize(
    ("jobs", "why"),
    [
        ([], "no DRS launch job carries this run's tags"),
        (
            [launch_job(OURS), launch_job(THEIRS, "START_RECOVERY")],
            f"a recovery run: job(s) {THEIRS} (START_RECOVERY)",
        ),
        ([launch_job(OURS, status="STARTED")], f"the run is still launching: job(s) {OURS} (STARTED)"),
    ],
    ids=["nothing launched", "a recovery", "still launching"],
)
def test_a_run_is_refused_when_it_launched_nothing_is_a_recovery_or_still_launches(
    jobs: list[dict], why: str
) -> None:
    refused = refusal(jobs)

    assert refused is not None and refused.startswith(why), refused


def test_the_cleanup_entry_says_what_went_what_stays_and_what_is_still_going() -> None:
    plan = plan_cleanup(
        [job(OURS, "i-a", "i-b", "i-c")],
        [instance("i-a", OURS), instance("i-b", OURS), instance("i-c", THEIRS)],
    )

    done = cleanup_entry(plan, jobs=["drsjob-t"], remaining={"i-b"})
    going = cleanup_entry(plan, jobs=["drsjob-t"], remaining={"i-b"}, finished=False)

    assert (done["state"], done["terminated"], done["failed"]) == ("failed", ["i-a"], ["i-b"])
    assert done["left_alone"] == [
        {"recoveryInstanceID": "i-c", "reason": f"launched by job {THEIRS}, not by this run"}
    ]
    assert (going["state"], going["failed"], going["terminating"]) == ("terminating", [], ["i-b"])
    assert cleanup_entry(plan_cleanup([], []))["state"] == "success"
