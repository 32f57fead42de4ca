"""The DRS side of preflight: what each wave would launch, and whether it can.

Read-only DRS calls only (DescribeSourceServers, DescribeJobs, DescribeRecoveryInstances,
DescribeRecoverySnapshots). Each check adds to the run's ``problems`` (a required server: the
run fails before anything launches) or ``warnings`` (an optional server, left out and logged).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from drs_provider.constants import RELAUNCH_RECOVERED_PARAM
from drs_provider.hooks.drs import DrsHook
from drs_provider.hooks.service_quotas import account_quotas
from drs_provider.recovery.concurrency import peak_concurrent, wave_ancestors
from drs_provider.recovery.recovered import recovered_servers, refusal
from drs_provider.recovery.selection import carries_tags, select_servers, source_server_hostname, tags_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime


class FleetChecks:
    """Resolve a run's waves to source servers and check them, through one DRS hook.

    :param hook: the preflight task's DRS hook.
    :param waves: the plan's waves in JSON form (see the preflight operator).
    :param max_servers_per_job: servers per StartRecovery job.
    :param max_concurrent_jobs: the concurrent-jobs quota to check against (None: the account's).
    :param max_servers_in_active_jobs: the servers-in-active-jobs quota (None: the account's).
    """

    def __init__(
        self,
        hook: DrsHook,
        waves: Sequence[Mapping[str, Any]],
        *,
        max_servers_per_job: int,
        max_concurrent_jobs: int | None,
        max_servers_in_active_jobs: int | None,
    ) -> None:
        self.hook = hook
        self.waves = waves
        self.max_servers_per_job = max_servers_per_job
        self.max_concurrent_jobs = max_concurrent_jobs
        self.max_servers_in_active_jobs = max_servers_in_active_jobs
        #: source server ID -> its DescribeSourceServers item, once resolved
        self.servers: dict[str, dict[str, Any]] = {}
        #: the account's active DRS jobs, once the servers are checked
        self.active_jobs: list[dict[str, Any]] = []

    def hostnames(self, server_ids: Sequence[str]) -> dict[str, str]:
        return {
            server_id: hostname
            for server_id in server_ids
            if (hostname := source_server_hostname(self.servers.get(server_id, {})))
        }

    def resolve(
        self, chosen: Sequence[str], problems: list[str], warnings: list[str]
    ) -> dict[str, dict[str, Any]]:
        """Resolve every chosen wave's selectors with at most two DescribeSourceServers sweeps."""
        waves = [wave for wave in self.waves if wave["name"] in chosen]
        selectors = [
            (wave["name"], optional, selector)
            for wave in waves
            for optional, selector in ((False, wave.get("servers")), (True, wave.get("optional_servers")))
            if selector
        ]
        named_ids = list(dict.fromkeys(i for _, _, selector in selectors for i in selector.get("ids") or ()))
        by_id = {server["sourceServerID"]: server for server in self.hook.describe_source_servers(named_ids)}
        everyone: list[dict] = []
        if any(selector.get("tags") for _, _, selector in selectors):
            everyone = self.hook.describe_source_servers()
            by_id.update((server["sourceServerID"], server) for server in everyone)
        self.servers = by_id
        launch: dict[str, dict[str, Any]] = {
            wave["name"]: {"source_server_ids": [], "optional_source_server_ids": []} for wave in waves
        }
        for wave_name, optional, selector in selectors:
            field = "optional_servers" if optional else "servers"
            picked = select_servers(
                by_id, ids=selector.get("ids") or (), tags=selector.get("tags") or {}, candidates=everyone
            )
            found_nothing = []
            if picked.unknown_ids:
                found_nothing.append(f"{field}.ids: unknown source server(s) {', '.join(picked.unknown_ids)}")
            if picked.unmatched_tags:
                tags = tags_text(picked.unmatched_tags)
                found_nothing.append(f"{field}.tags {tags} match no source server")
            for what in found_nothing:
                if optional:
                    warnings.append(f"wave {wave_name!r}: {what} (left out)")
                else:
                    problems.append(f"wave {wave_name!r}: {what}")
            key = "optional_source_server_ids" if optional else "source_server_ids"
            launch[wave_name][key] = list(dict.fromkeys(launch[wave_name][key] + list(picked.server_ids)))
        for wave in launch.values():  # a server both required and optional is required
            required = set(wave["source_server_ids"])
            wave["optional_source_server_ids"] = [
                i for i in wave["optional_source_server_ids"] if i not in required
            ]
        owners: dict[str, list[str]] = {}
        for wave_name, wave in launch.items():
            for server_id in wave["source_server_ids"] + wave["optional_source_server_ids"]:
                owners.setdefault(server_id, []).append(wave_name)
        for server_id, wave_names in owners.items():
            if len(wave_names) > 1:
                problems.append(
                    f"{self.name(server_id)} is selected by more than one wave: "
                    f"{', '.join(map(repr, wave_names))}; a server can be recovered only once per run"
                )
        return launch

    def name(self, server_id: str) -> str:
        hostname = source_server_hostname(self.servers.get(server_id, {}))
        return f"{server_id} ({hostname})" if hostname else server_id

    def drop(self, launch: dict[str, dict[str, Any]], wave_name: str, server_id: str) -> None:
        wave = launch[wave_name]
        wave["optional_source_server_ids"] = [i for i in wave["optional_source_server_ids"] if i != server_id]

    def each_server(self, launch: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, bool]]:
        return [
            (wave_name, server_id, optional)
            for wave_name, wave in launch.items()
            for optional, key in ((False, "source_server_ids"), (True, "optional_source_server_ids"))
            for server_id in wave[key]
        ]

    def check_servers(
        self,
        launch: dict[str, dict[str, Any]],
        problems: list[str],
        warnings: list[str],
        own_run: Mapping[str, str] | None = None,
        *,
        require_replicating: bool = True,
    ) -> None:
        """Replication state and servers held by active DRS jobs (but this run's own: a preflight
        cleared after waves launched sees their jobs, which ``start_recovery`` adopts).

        :param require_replicating: refuse servers that do not replicate (a failback does not
            launch them: their recovered instances go home).
        """
        recoverable = DrsHook.RECOVERABLE_REPLICATION_STATES
        self.active_jobs = self.hook.active_jobs()
        holder = {
            server["sourceServerID"]: job
            for job in self.active_jobs
            for server in job.get("participatingServers") or ()
            if server.get("sourceServerID")
        }
        for wave_name, server_id, optional in self.each_server(launch):
            reasons = []
            state = (self.servers[server_id].get("dataReplicationInfo") or {}).get(
                "dataReplicationState", "UNKNOWN"
            )
            if require_replicating and state not in recoverable:
                reasons.append(f"is not recoverable: replication state {state}")
            job = holder.get(server_id)
            if job is not None and own_run and carries_tags(job, own_run):
                warnings.append(
                    f"wave {wave_name!r}: {self.name(server_id)} is in job {job.get('jobID')} of this run "
                    "already; its start_recovery adopts the job"
                )
            elif job is not None:
                reasons.append(
                    f"is busy in active DRS job {job.get('jobID')} "
                    f"({job.get('status')}, {job.get('type', 'job')})"
                )
            for reason in reasons:
                message = f"wave {wave_name!r}: {self.name(server_id)} {reason}"
                if optional:
                    warnings.append(f"{message}; optional server left out")
                    self.drop(launch, wave_name, server_id)
                else:
                    problems.append(message)

    def check_recovered(
        self,
        launch: dict[str, dict[str, Any]],
        mode: str,
        relaunch: bool,
        problems: list[str],
        warnings: list[str],
        own_run: Mapping[str, str],
    ) -> None:
        """No launch over a server that was really recovered (:mod:`drs_provider.recovery.recovered`)."""
        servers = self.each_server(launch)
        recovered = recovered_servers(self.hook, [server_id for _, server_id, _ in servers], own_run=own_run)
        why = refusal(mode, relaunch)
        for wave_name, server_id, optional in servers:
            found = recovered.get(server_id)
            if found is None:
                continue
            message = f"wave {wave_name!r}: {self.name(server_id)} has a {found.describe()}"
            if why is None:
                warnings.append(f"{message}; {RELAUNCH_RECOVERED_PARAM}: true, so this recovery replaces it")
            elif optional:
                warnings.append(f"{message}: {why}; optional server left out")
                self.drop(launch, wave_name, server_id)
            else:
                problems.append(f"{message}: {why}")

    def check_snapshots(
        self, launch: dict[str, dict[str, Any]], moment: datetime, problems: list[str], warnings: list[str]
    ) -> dict[str, str]:
        """Each launched server's snapshot for ``moment`` (what the waves launch from, as chosen
        here); a required server without one is a problem, an optional one is left out."""
        servers = self.each_server(launch)
        chosen, unchosen = self.hook.snapshots_before([server_id for _, server_id, _ in servers], moment)
        missing = set(unchosen)
        for wave_name, server_id, optional in servers:
            if server_id not in missing:
                continue
            message = (
                f"wave {wave_name!r}: {self.name(server_id)} has no recovery snapshot at or before "
                f"point_in_time {moment.isoformat()}"
            )
            if optional:
                warnings.append(f"{message}; optional server left out")
                self.drop(launch, wave_name, server_id)
            else:
                problems.append(message)
        return chosen

    def check_quotas(self, launch: Mapping[str, Mapping[str, Any]], warnings: list[str]) -> None:
        """Quotas never fail a run: a wave over the account's capacity waits for it at launch
        (:mod:`drs_provider.triggers.capacity`). Preflight says when waves will have to wait."""
        max_jobs, max_servers = account_quotas(
            self.max_concurrent_jobs, self.max_servers_in_active_jobs, self.hook
        )
        sizes = {
            name: len(wave["source_server_ids"]) + len(wave["optional_source_server_ids"])
            for name, wave in launch.items()
        }
        jobs = {name: math.ceil(size / self.max_servers_per_job) for name, size in sizes.items()}
        ancestors = wave_ancestors(self.waves)
        peak_servers = peak_concurrent(sizes, ancestors)
        peak_jobs = peak_concurrent(jobs, ancestors)
        active_servers = sum(len(job.get("participatingServers") or ()) for job in self.active_jobs)
        if active_servers + peak_servers > max_servers:
            warnings.append(
                f"quota: up to {peak_servers} server(s) of this run may recover at once, and "
                f"{active_servers} already are in {len(self.active_jobs)} active job(s): more than the "
                f"{max_servers} servers allowed across active jobs ([drs] max_servers_in_active_jobs); "
                "waves will wait for DRS capacity"
            )
        if len(self.active_jobs) + peak_jobs > max_jobs:
            warnings.append(
                f"quota: up to {peak_jobs} job(s) of this run (at most {self.max_servers_per_job} servers "
                f"each) may run at once beside {len(self.active_jobs)} active job(s): more than the "
                f"{max_jobs} concurrent jobs allowed ([drs] max_concurrent_jobs); waves will wait for "
                "DRS capacity"
            )
