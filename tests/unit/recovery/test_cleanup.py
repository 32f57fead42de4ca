"""Which instances a drill's cleanup terminates: only the drill instances its own jobs launched."""

from __future__ import annotations

from drs_provider.recovery.cleanup import plan_cleanup

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
