"""Where a run of ``make demo`` stands: its task states, each wave's DRS jobs, its servers.

The same places a person would look: task states and XComs from the REST API, and the jobs that
each wave's ``start_recovery`` returned, described by DRS (the simulator) through boto3. A wave's
jobs run in the plan's region, except in a failback: there they run where the wave goes home,
the region ``start_recovery`` pushes as its XCom ``home_region``.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from drs_provider.constants import HOME_REGION_XCOM_KEY, SERVERS_XCOM_KEY
from drs_provider.recovery.outcome import judge_jobs
from drs_provider.recovery.selection import source_server_hostname
from tools.demo_report import failure_reason
from tools.demo_view import WaveProgress, start_task, wait_task, wave_progress

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from tools.airflow_stack import AirflowStack


def job_region(home_region: object, default: str) -> str:
    """The region a wave's jobs run in: its ``home_region`` XCom when it has one, else ``default``."""
    return home_region if isinstance(home_region, str) and home_region else default


class DrillWatcher:
    """Polls one run: REST task states, each wave's job IDs (XCom) and the jobs in DRS.

    :param drs: a DRS client in the plan's region (where a recovery's or a drill's jobs run).
    :param client_in: makes a DRS client in another region (a failback wave's home), once each.
    :param failback: the run is a failback (its waves' states are named as such)
    """

    def __init__(
        self,
        stack: AirflowStack,
        drs: Any,
        dag_id: str,
        run_id: str,
        waves: Sequence[str],
        steps: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
        *,
        client_in: Callable[[str], Any] | None = None,
        failback: bool = False,
    ) -> None:
        self.failback = failback
        self.steps = dict(steps or {})
        self.stack = stack
        self.drs = drs
        self.region: str = drs.meta.region_name
        self._clients = {self.region: drs}
        self._client_in = client_in
        self.dag_id = dag_id
        self.run_id = run_id
        self.waves = list(waves)
        self.job_ids: dict[str, list[str]] = {}
        #: wave -> the region its jobs run in (only waves that started them)
        self.regions: dict[str, str] = {}
        self.task_instances: list[dict[str, Any]] = []
        self.jobs_by_wave: dict[str, list[dict[str, Any]]] = {}

    def client(self, region: str) -> Any:
        if region not in self._clients:
            if self._client_in is None:
                raise ValueError(f"no DRS client for {region}, only for {self.region}")
            self._clients[region] = self._client_in(region)
        return self._clients[region]

    def poll(self) -> list[WaveProgress]:
        from tools.rest_client import RestApiError

        self.task_instances = self.stack.rest.task_instances(self.dag_id, self.run_id)
        states = {ti["task_id"]: ti["state"] for ti in self.task_instances}
        for wave in self.waves:
            if wave not in self.job_ids and states.get(start_task(wave)) == "success":
                value = self.stack.rest.xcom(self.dag_id, self.run_id, start_task(wave))
                home = None
                # Only a failback's start_recovery pushes it; other runs answer 404.
                with contextlib.suppress(RestApiError):
                    home = self.stack.rest.xcom(
                        self.dag_id, self.run_id, start_task(wave), key=HOME_REGION_XCOM_KEY
                    )
                self.regions[wave] = job_region(home, self.region)
                self.job_ids[wave] = [str(job_id) for job_id in (value or [])]
        self.jobs_by_wave = self._describe_jobs()
        return wave_progress(
            self.waves, self.task_instances, self.jobs_by_wave, self.steps, failback=self.failback
        )

    def _describe_jobs(self) -> dict[str, list[dict[str, Any]]]:
        by_region: dict[str, list[str]] = {}
        for wave, ids in self.job_ids.items():
            by_region.setdefault(self.regions.get(wave, self.region), []).extend(ids)
        jobs: dict[str, dict[str, Any]] = {}
        for region, wanted in by_region.items():
            if not wanted:
                continue
            pages = self.client(region).get_paginator("describe_jobs").paginate(filters={"jobIDs": wanted})
            for page in pages:
                jobs.update((job["jobID"], job) for job in page["items"])
        if not jobs:
            return {}
        return {
            wave: [jobs[job_id] for job_id in ids if job_id in jobs] for wave, ids in self.job_ids.items()
        }

    def failure_reasons(self, task_ids: Iterable[str]) -> dict[str, str]:
        """Why each failed task failed, from its log through the REST API."""
        from tools.rest_client import RestApiError

        tries = {ti["task_id"]: ti["try_number"] for ti in self.task_instances}
        reasons = {}
        for task_id in task_ids:
            path = (
                f"/api/v2/dags/{quote(self.dag_id, safe='')}/dagRuns/{quote(self.run_id, safe='')}"
                f"/taskInstances/{quote(task_id, safe='')}/logs/{tries[task_id]}"
            )
            with contextlib.suppress(RestApiError):
                reason = failure_reason(self.stack.rest.request("GET", path).get("content", []))
                if reason:
                    reasons[task_id] = reason
        return reasons

    def server_results(self) -> dict[str, list[dict[str, Any]]]:
        """Per wave, the servers as ``wait_for_recovery`` judged them (XCom ``servers``), else from DRS."""
        from tools.rest_client import RestApiError

        states = {ti["task_id"]: ti["state"] for ti in self.task_instances}
        results: dict[str, list[dict[str, Any]]] = {}
        for wave in self.waves:
            if states.get(wait_task(wave)) in ("success", "failed"):
                with contextlib.suppress(RestApiError):
                    judged = self.stack.rest.xcom(
                        self.dag_id, self.run_id, wait_task(wave), key=SERVERS_XCOM_KEY
                    )
                    if judged:
                        results[wave] = list(judged)
                        continue
            # Not judged (yet): judge what DRS says about the wave's jobs the same way.
            drs = self.client(self.regions.get(wave, self.region))
            results[wave] = self._servers_from_drs(drs, self.jobs_by_wave.get(wave, []))
        return results

    def _servers_from_drs(self, drs: Any, jobs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        servers = [server for job in jobs for server in job.get("participatingServers", [])]
        if not servers:
            return []
        ids = [server["sourceServerID"] for server in servers]
        described = drs.describe_source_servers(filters={"sourceServerIDs": ids})["items"]
        instance_ids = [
            server["recoveryInstanceID"] for server in servers if server.get("recoveryInstanceID")
        ]
        ec2_ids = {}
        if instance_ids:
            instances = drs.describe_recovery_instances(filters={"recoveryInstanceIDs": instance_ids})
            ec2_ids = {item["recoveryInstanceID"]: item.get("ec2InstanceID") for item in instances["items"]}
        log_items = {}
        for job in jobs:
            pages = drs.get_paginator("describe_job_log_items").paginate(jobID=job["jobID"])
            log_items[job["jobID"]] = [item for page in pages for item in page["items"]]
        outcome = judge_jobs(
            jobs,
            hostnames={item["sourceServerID"]: source_server_hostname(item) for item in described},
            ec2_instance_ids=ec2_ids,
            log_items=log_items,
        )
        return outcome.results


def drs_client(endpoint_url: str, region: str) -> Any:
    """A plain boto3 DRS client for the simulator (any key pair is accepted there)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(
        aws_access_key_id="demo", aws_secret_access_key="demo", region_name=region
    )
    return session.client("drs", endpoint_url=endpoint_url, config=Config(retries={"max_attempts": 3}))
