"""When did each wave's DRS jobs start and end, and how long did the next wave take to follow?

Everything comes from the DRS side, so it measures what a person watching DRS would see:

* a wave *starts* with its StartRecovery call (the job carries the ``drs:wave`` tag);
* a job *ends* at its ``endDateTime`` (simulated time, converted to wall-clock time with the
  simulator's call log, which records both clocks for every call);
* a job is *polled* by DescribeJobs calls that name it in their ``jobIDs`` filter (the wave's
  sensor), and *seen completed* by the first such call made at or after its end: that call's
  answer is the first to say COMPLETED.

The hand-off latency of a dependency edge is the time from the last upstream job's end (and,
separately, from the call that first saw it completed) to the downstream wave's StartRecovery
call. :func:`measure` does it all for one DAG; :func:`format_handoffs` prints the result.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

WAVE_TAG = "drs:wave"
DAG_TAG = "airflow:dag_id"
RUN_TAG = "airflow:run_id"


@dataclass(frozen=True)
class WaveJob:
    """One DRS job started for a wave, placed on the wall clock (epoch seconds)."""

    dag_id: str | None
    run_id: str | None
    wave: str
    job_id: str
    started: float
    first_polled: float | None = None
    ended: float | None = None
    seen_completed: float | None = None

    @property
    def until_first_poll(self) -> float | None:
        """Seconds from StartRecovery to the wave's first DescribeJobs about the job."""
        return None if self.first_polled is None else self.first_polled - self.started


@dataclass(frozen=True)
class Handoff:
    """One dependency edge of a run: the downstream wave's start after its upstream's end."""

    upstream: str
    downstream: str
    upstream_ended: float
    upstream_seen_completed: float | None
    downstream_started: float

    @property
    def from_job_end(self) -> float:
        """Seconds from the upstream job's end on DRS to the downstream StartRecovery call."""
        return self.downstream_started - self.upstream_ended

    @property
    def from_seen_completed(self) -> float | None:
        """Seconds from the DescribeJobs call that saw COMPLETED to the downstream StartRecovery."""
        if self.upstream_seen_completed is None:
            return None
        return self.downstream_started - self.upstream_seen_completed


def succeeded(call: Mapping[str, Any]) -> bool:
    """Whether DRS answered the call with success (StartRecovery answers 202, most others 200)."""
    status = call.get("status")
    return isinstance(status, int) and 200 <= status < 300 and not call.get("error")


def call_tags(call: Mapping[str, Any]) -> dict[str, str]:
    """The tags a logged call's request carried (a StartRecovery's job tags), or none."""
    request = call.get("request")
    return dict(request.get("tags") or {}) if isinstance(request, dict) else {}


def most_jobs_active_at_once(jobs: Iterable[Mapping[str, Any]]) -> int:
    """The largest number of jobs active together, from each job's creation and end times (a job
    without an end is still active)."""
    moments = []
    for job in jobs:
        moments.append((datetime.fromisoformat(job["creationDateTime"]), 1))
        if job.get("endDateTime"):
            moments.append((datetime.fromisoformat(job["endDateTime"]), -1))
    active = peak = 0
    for _, change in sorted(moments):  # an end sorts before a start at the same moment
        active += change
        peak = max(peak, active)
    return peak


def started_jobs(calls: Iterable[Mapping[str, Any]], dag_id: str | None = None) -> list[WaveJob]:
    """Jobs created by successful StartRecovery calls (of ``dag_id`` only, when given)."""
    jobs = []
    for call in calls:
        if call.get("operation") != "StartRecovery" or not succeeded(call):
            continue
        tags = call_tags(call)
        if dag_id is not None and tags.get(DAG_TAG) != dag_id:
            continue
        for job_id in call.get("job_ids") or []:
            jobs.append(
                WaveJob(
                    dag_id=tags.get(DAG_TAG),
                    run_id=tags.get(RUN_TAG),
                    wave=str(tags.get(WAVE_TAG, "?")),
                    job_id=job_id,
                    started=float(call["time"]),
                )
            )
    return jobs


def simulated_to_wall(calls: Sequence[Mapping[str, Any]], simulated: float, speed: float) -> float:
    """Wall-clock time of a simulated instant, from the nearest earlier call (both clocks known)."""
    anchor = None
    for call in calls:
        if call.get("simulated_time") is None:
            continue
        if call["simulated_time"] <= simulated or anchor is None:
            anchor = call
        else:
            break
    if anchor is None:
        raise ValueError("the call log holds no call with a simulated_time")
    if speed <= 0:
        return float(anchor["time"])
    return float(anchor["time"]) + (simulated - float(anchor["simulated_time"])) / speed


def asks_about(call: Mapping[str, Any], job_id: str) -> bool:
    """Whether ``call`` is a successful DescribeJobs that names ``job_id`` in its filter.

    That is how a wave's sensor polls its jobs; listings (which ``start_recovery`` makes to find
    jobs it may already have started) mention every job and say nothing about the sensor.
    """
    if call.get("operation") != "DescribeJobs" or not succeeded(call):
        return False
    request = call.get("request")
    filters = request.get("filters") if isinstance(request, dict) else None
    return isinstance(filters, dict) and job_id in (filters.get("jobIDs") or [])


def first_polled(calls: Iterable[Mapping[str, Any]], job_id: str) -> Mapping[str, Any] | None:
    """The first DescribeJobs call that asked about ``job_id``."""
    return next((call for call in calls if asks_about(call, job_id)), None)


def first_seen_completed(
    calls: Iterable[Mapping[str, Any]], job_id: str, ended_simulated: float
) -> Mapping[str, Any] | None:
    """The first DescribeJobs call that asked about ``job_id`` once the job had ended."""
    for call in calls:
        if asks_about(call, job_id) and float(call.get("simulated_time") or 0) >= ended_simulated:
            return call
    return None


def place_jobs(
    calls: Sequence[Mapping[str, Any]],
    end_times: Mapping[str, float],
    speed: float,
    dag_id: str | None = None,
) -> list[WaveJob]:
    """:func:`started_jobs` with each job's first poll, end and first-seen-completed times.

    :param end_times: ``{job_id: endDateTime as simulated epoch seconds}`` for the jobs that ended.
    :param speed: the simulator's speed (simulated seconds per second).
    """
    placed = []
    for job in started_jobs(calls, dag_id):
        polled = first_polled(calls, job.job_id)
        facts: dict[str, Any] = {"first_polled": None if polled is None else float(polled["time"])}
        ended_simulated = end_times.get(job.job_id)
        if ended_simulated is not None:
            seen = first_seen_completed(calls, job.job_id, ended_simulated)
            facts["ended"] = simulated_to_wall(calls, ended_simulated, speed)
            if seen is not None:
                facts["seen_completed"] = float(seen["time"]) + float(seen["duration"])
        placed.append(replace(job, **facts))
    return placed


def handoffs(jobs: Sequence[WaveJob], dependencies: Mapping[str, Sequence[str]]) -> list[Handoff]:
    """One hand-off per run and dependent wave, from the upstream wave that ended last.

    Only that upstream gated the start: the time since an upstream that had ended earlier says
    nothing about how quickly Airflow followed.

    :param dependencies: ``{wave: [upstream waves]}``, as in the plan.
    """
    result = []
    runs = sorted({(job.dag_id, job.run_id) for job in jobs}, key=str)
    for run in runs:
        in_run = [job for job in jobs if (job.dag_id, job.run_id) == run]
        for wave, upstreams in dependencies.items():
            wave_jobs = [job for job in in_run if job.wave == wave]
            upstream_jobs = [job for job in in_run if job.wave in upstreams]
            if not wave_jobs or not upstream_jobs or any(job.ended is None for job in upstream_jobs):
                continue
            last = max(upstream_jobs, key=lambda job: job.ended or 0.0)
            assert last.ended is not None
            seen = [job.seen_completed for job in upstream_jobs]
            result.append(
                Handoff(
                    upstream=last.wave,
                    downstream=wave,
                    upstream_ended=last.ended,
                    upstream_seen_completed=None if None in seen else max(s for s in seen if s is not None),
                    downstream_started=min(job.started for job in wave_jobs),
                )
            )
    return result


def median_handoff(edges: Sequence[Handoff]) -> tuple[float | None, float | None]:
    """Median seconds (from job end, from seen-completed) over the edges; ``None`` when empty."""
    from_end = [edge.from_job_end for edge in edges]
    from_seen = [edge.from_seen_completed for edge in edges if edge.from_seen_completed is not None]
    return (
        statistics.median(from_end) if from_end else None,
        statistics.median(from_seen) if from_seen else None,
    )


def format_handoffs(edges: Sequence[Handoff]) -> str:
    """A small table of the hand-offs and their medians."""
    lines = [f"{'upstream -> downstream':<34} {'from job end':>12} {'from seen COMPLETED':>20}"]
    for edge in edges:
        seen = edge.from_seen_completed
        lines.append(
            f"{edge.upstream + ' -> ' + edge.downstream:<34} {edge.from_job_end:>11.1f}s "
            f"{'-' if seen is None else f'{seen:.1f}s':>20}"
        )
    from_end, from_seen = median_handoff(edges)
    if from_end is not None:
        seen_text = "-" if from_seen is None else f"{from_seen:.1f}s"
        lines.append(
            f"{'median over ' + str(len(edges)) + ' hand-offs':<34} {from_end:>11.1f}s {seen_text:>20}"
        )
    return "\n".join(lines)


def job_end_times(simulator_url: str, job_ids: Sequence[str], region: str = "us-east-1") -> dict[str, float]:
    """``{job_id: endDateTime}`` (epoch seconds) of the ended jobs, asked with DescribeJobs."""
    import boto3

    client = boto3.client(
        "drs",
        endpoint_url=simulator_url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ends: dict[str, float] = {}
    for start in range(0, len(job_ids), 100):
        chunk = list(job_ids[start : start + 100])
        for page in client.get_paginator("describe_jobs").paginate(filters={"jobIDs": chunk}):
            for item in page.get("items", []):
                if item.get("endDateTime"):
                    ended = datetime.fromisoformat(item["endDateTime"].replace("Z", "+00:00"))
                    ends[item["jobID"]] = ended.timestamp()
    return ends


def measure(
    simulator_url: str,
    calls: Sequence[Mapping[str, Any]],
    dependencies: Mapping[str, Sequence[str]],
    *,
    speed: float,
    dag_id: str | None = None,
) -> tuple[list[WaveJob], list[Handoff]]:
    """Jobs and hand-offs of ``dag_id``'s runs, from a call log taken after the runs ended.

    Take ``calls`` before calling this: the DescribeJobs calls made here join the log.
    """
    started = started_jobs(calls, dag_id)
    end_times = job_end_times(simulator_url, [job.job_id for job in started])
    jobs = place_jobs(calls, end_times, speed, dag_id)
    return jobs, handoffs(jobs, dependencies)


def dependencies_from_tasks(tasks: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """``{wave: [upstream waves]}`` from a plan DAG's tasks (``GET /api/v2/dags/{dag_id}/tasks``)."""
    dependencies: dict[str, list[str]] = {}
    for task in tasks:
        task_id = str(task["task_id"])
        if not task_id.endswith(".wait_for_recovery"):
            continue
        upstream = task_id.rsplit(".", 1)[0]
        for downstream in task.get("downstream_task_ids") or []:
            if str(downstream).endswith(".start_recovery"):
                dependencies.setdefault(str(downstream).rsplit(".", 1)[0], []).append(upstream)
    return dependencies


#: A hand-off's stages, in order, each ending at the moment named in its comment.
HANDOFF_STAGES = (
    "poll",  # the upstream job's end -> the DescribeJobs call that first saw it COMPLETED
    "triggerer",  # -> the trigger's event stored: the sensor scheduled to resume
    "resume queued",  # -> the scheduler queues the sensor to a worker
    "resume run",  # -> the sensor's end (Celery pick-up, the worker's run of execute_complete)
    "next scheduled",  # -> the scheduler makes the next wave's StartRecovery task scheduled
    "next queued",  # -> it queues it (at once, unless the executor's or pool's slots are full)
    "start run",  # -> its StartRecovery call (Celery pick-up, the worker's run up to the call)
)


def _instant(value: str | None) -> float | None:
    return None if not value else datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def handoff_stages(edge: Handoff, task_instances: Mapping[str, Mapping[str, Any]]) -> dict[str, float] | None:
    """Where a hand-off's seconds went, stage by stage (:data:`HANDOFF_STAGES`), from the DRS call
    log and the run's task instances as the REST API returns them (``{task_id: instance}``): the
    upstream wave's ``wait_for_recovery`` (its ``scheduled_when`` and ``queued_when`` are its
    resume's) and the downstream wave's ``start_recovery``. ``None`` when a moment is missing."""
    sensor = task_instances.get(f"{edge.upstream}.wait_for_recovery") or {}
    start = task_instances.get(f"{edge.downstream}.start_recovery") or {}
    moments = [
        edge.upstream_ended,
        edge.upstream_seen_completed,
        _instant(sensor.get("scheduled_when")),
        _instant(sensor.get("queued_when")),
        _instant(sensor.get("end_date")),
        _instant(start.get("scheduled_when")),
        _instant(start.get("queued_when")),
        edge.downstream_started,
    ]
    if any(moment is None for moment in moments):
        return None
    points = [float(moment) for moment in moments if moment is not None]
    gaps = [later - earlier for earlier, later in itertools.pairwise(points)]
    return dict(zip(HANDOFF_STAGES, gaps, strict=True))


def median_stages(breakdowns: Iterable[Mapping[str, float] | None]) -> dict[str, float]:
    """Each stage's median over the hand-offs whose stages are all known."""
    known = [breakdown for breakdown in breakdowns if breakdown is not None]
    return {stage: statistics.median(b[stage] for b in known) for stage in HANDOFF_STAGES} if known else {}
