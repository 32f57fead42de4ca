"""The readiness checks of one plan against what DRS shows in its account and region.

Everything here is read from an :class:`AccountState` gathered once per account and region for
every plan that recovers there (:mod:`drs_provider.operators.readiness`), so a check costs DRS
no call of its own. The rules follow the launch path: what preflight would refuse is an error,
what a recovery would survive worse than planned is a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from drs_provider.readiness.findings import (
    DRILL_OVERDUE,
    ERROR,
    LAG_OVER_RPO,
    LAUNCH_CONFIG_DRIFT,
    LAUNCH_SERVER_UNSELECTED,
    LAUNCH_TEMPLATE_MISSING,
    QUOTA_EXCEEDED,
    RECOVERED_INSTANCE_LIVE,
    REPLICATION_NOT_CONTINUOUS,
    SERVER_IN_TWO_WAVES,
    SERVER_MISSING,
    SNAPSHOT_TOO_OLD,
    STALE_DRILL_INSTANCE,
    TAGS_COUNT_CHANGED,
    TAGS_SELECT_NONE,
    WARNING,
    Finding,
)
from drs_provider.recovery.launch import TEMPLATE_SETTINGS, differences, needs_template, shown
from drs_provider.recovery.recovered import GONE_EC2_STATES, live_recovery_instances, recovered_among
from drs_provider.recovery.selection import select_servers, source_server_hostname, tags_text
from drs_provider.recovery.times import parse_duration, parse_time

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.plans.model import Plan, ServerSelector
    from drs_provider.recovery.launch import LaunchState

#: Replication states a launch accepts (as :attr:`DrsHook.RECOVERABLE_REPLICATION_STATES`);
#: of them only CONTINUOUS is the steady state a plan should be in.
STEADY_STATE = "CONTINUOUS"
#: A drill instance older than this was forgotten: it costs money and answers no question.
STALE_DRILL_AGE = timedelta(days=1)


@dataclass
class AccountState:
    """What DRS shows in one account and region, read once for every plan that recovers there."""

    #: "aws_default, us-east-1": where, as messages say it
    where: str
    #: every source server, by ID
    servers: Mapping[str, Mapping[str, Any]]
    #: every recovery instance, by source server ID (DRS keeps at most one per server)
    instances: Mapping[str, Mapping[str, Any]]
    #: the jobs that launched the recovery instances, by job ID
    jobs: Mapping[str, Mapping[str, Any]]
    #: DRS's servers-per-job and replicating-servers quotas of the account
    servers_per_job: int
    max_replicating_servers: int
    #: replication states a launch accepts
    recoverable_states: frozenset[str]
    #: newest completed snapshot per server, read only for plans with ``rpo_target``
    snapshot_times: dict[str, datetime | None] = field(default_factory=dict)
    #: what each server would launch with, read only for servers of plans giving ``launch``
    launch: dict[str, LaunchState] = field(default_factory=dict)

    def name(self, server_id: str) -> str:
        hostname = source_server_hostname(self.servers.get(server_id) or {})
        return f"{server_id} ({hostname})" if hostname else server_id

    @property
    def replicating(self) -> list[str]:
        """Servers DRS replicates now (any state but stopped or disconnected)."""
        return [
            server_id
            for server_id, server in self.servers.items()
            if _replication(server).get("dataReplicationState") not in (None, "STOPPED", "DISCONNECTED")
        ]


def _replication(server: Mapping[str, Any]) -> Mapping[str, Any]:
    return server.get("dataReplicationInfo") or {}


@dataclass
class _Selected:
    """The servers a plan's waves select: wave -> [(server, optional)]."""

    by_wave: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)

    def add(self, wave: str, server_id: str, optional: bool) -> None:
        entries = self.by_wave.setdefault(wave, [])
        if all(existing != server_id for existing, _ in entries):
            entries.append((server_id, optional))

    def each(self) -> list[tuple[str, str, bool]]:
        return [
            (wave, server_id, optional)
            for wave, entries in self.by_wave.items()
            for server_id, optional in entries
        ]


def selected_servers(plan: Plan, account: AccountState, findings: list[Finding]) -> _Selected:
    """Resolve every wave's selectors as preflight does, finding what they do not select."""
    selected = _Selected()
    for wave in plan.waves:
        selectors: list[tuple[bool, ServerSelector | None]] = [
            (False, wave.servers),
            (True, wave.optional_servers),
        ]
        for optional, selector in selectors:
            if selector is None or selector.is_empty:
                continue
            key = "optional_servers" if optional else "servers"
            severity = WARNING if optional else ERROR
            picked = select_servers(
                account.servers, ids=selector.ids, tags=selector.tags, candidates=account.servers.values()
            )
            for server_id in picked.unknown_ids:
                findings.append(
                    Finding(
                        severity,
                        SERVER_MISSING,
                        f"{key}.ids: DRS in {account.where} has no source server {server_id}",
                        wave.name,
                        server_id,
                    )
                )
            if picked.unmatched_tags:
                findings.append(
                    Finding(
                        severity,
                        TAGS_SELECT_NONE,
                        f"{key}.tags {tags_text(picked.unmatched_tags)} select no source server "
                        f"in {account.where}",
                        wave.name,
                    )
                )
            expected = wave.expect_servers
            if not optional and expected is not None and selector.tags and not picked.unmatched_tags:
                tagged = select_servers(
                    account.servers, tags=selector.tags, candidates=account.servers.values()
                )
                if len(tagged.server_ids) != expected:
                    findings.append(
                        Finding(
                            ERROR,
                            TAGS_COUNT_CHANGED,
                            f"servers.tags {tags_text(selector.tags)} select {len(tagged.server_ids)} "
                            f"source server(s), expect_servers is {expected}: "
                            + ", ".join(map(account.name, tagged.server_ids)),
                            wave.name,
                        )
                    )
            for server_id in picked.server_ids:
                selected.add(wave.name, server_id, optional)
    owners: dict[str, list[str]] = {}
    for wave_name, server_id, _ in selected.each():
        owners.setdefault(server_id, []).append(wave_name)
    for server_id, waves in owners.items():
        if len(waves) > 1:
            findings.append(
                Finding(
                    ERROR,
                    SERVER_IN_TWO_WAVES,
                    f"{account.name(server_id)} is selected by waves {', '.join(map(repr, waves))}; "
                    "a run recovers a server once",
                    waves[0],
                    server_id,
                )
            )
    return selected


def check_replication(
    plan: Plan, account: AccountState, selected: _Selected, findings: list[Finding]
) -> None:
    """Replication state and lag of every selected server against the plan's ``rpo_target``."""
    rpo = plan.rpo_target
    for wave, server_id, optional in selected.each():
        info = _replication(account.servers[server_id])
        state = str(info.get("dataReplicationState", "UNKNOWN"))
        name = account.name(server_id)
        if state not in account.recoverable_states:
            error = (info.get("dataReplicationError") or {}).get("error")
            because = f" ({error})" if error else ""
            findings.append(
                Finding(
                    WARNING if optional else ERROR,
                    REPLICATION_NOT_CONTINUOUS,
                    f"{name}: replication {state}{because}; DRS cannot launch it",
                    wave,
                    server_id,
                )
            )
            continue
        if state != STEADY_STATE:
            findings.append(
                Finding(
                    WARNING,
                    REPLICATION_NOT_CONTINUOUS,
                    f"{name}: replication {state}, not {STEADY_STATE}",
                    wave,
                    server_id,
                )
            )
        lag = _seconds(info.get("lagDuration"))
        if rpo is not None and lag is not None and lag > rpo:
            findings.append(
                Finding(
                    WARNING if optional else ERROR,
                    LAG_OVER_RPO,
                    f"{name}: replication lag {_span(lag)} is over rpo_target {_span(rpo)}",
                    wave,
                    server_id,
                )
            )


def check_snapshots(
    plan: Plan, account: AccountState, selected: _Selected, now: datetime, findings: list[Finding]
) -> None:
    """The newest recovery snapshot of every selected server is younger than ``rpo_target``."""
    rpo = plan.rpo_target
    if rpo is None:
        return
    for wave, server_id, _ in selected.each():
        if server_id not in account.snapshot_times:
            continue  # not replicating: found by check_replication
        taken = account.snapshot_times[server_id]
        name = account.name(server_id)
        if taken is None:
            findings.append(
                Finding(
                    WARNING, SNAPSHOT_TOO_OLD, f"{name} has no completed recovery snapshot", wave, server_id
                )
            )
        elif (now - taken).total_seconds() > rpo:
            findings.append(
                Finding(
                    WARNING,
                    SNAPSHOT_TOO_OLD,
                    f"{name}: newest recovery snapshot {taken.isoformat()} is "
                    f"{_span((now - taken).total_seconds())} old, over rpo_target {_span(rpo)}",
                    wave,
                    server_id,
                )
            )


def check_instances(
    plan: Plan, account: AccountState, selected: _Selected, now: datetime, findings: list[Finding]
) -> None:
    """A live recovered (non-drill) instance blocks every launch; a day-old drill instance was forgotten."""
    entries = selected.each()
    wave_of = {server_id: wave for wave, server_id, _ in entries}
    instances = [account.instances[server_id] for server_id in wave_of if server_id in account.instances]
    for server_id, recovered in recovered_among(live_recovery_instances(instances), account.jobs).items():
        findings.append(
            Finding(
                ERROR,
                RECOVERED_INSTANCE_LIVE,
                f"{account.name(server_id)} has a {recovered.describe()}: a drill never launches over it, "
                "a recovery only with relaunch_recovered: true",
                wave_of[server_id],
                server_id,
            )
        )
    for instance in instances:
        if instance.get("isDrill") is not True or instance.get("ec2InstanceState") in GONE_EC2_STATES:
            continue
        launched = _time((account.jobs.get(str(instance.get("jobID"))) or {}).get("creationDateTime"))
        if launched is None or now - launched <= STALE_DRILL_AGE:
            continue
        server_id = str(instance["sourceServerID"])
        findings.append(
            Finding(
                WARNING,
                STALE_DRILL_INSTANCE,
                f"{account.name(server_id)}: drill instance {instance.get('recoveryInstanceID')} "
                f"({instance.get('ec2InstanceState')}) has run since {launched.isoformat()}; terminate it "
                "(drs-plan cleanup) unless someone still uses it",
                wave_of[server_id],
                server_id,
            )
        )


def check_drills(
    plan: Plan, account: AccountState, selected: _Selected, now: datetime, findings: list[Finding]
) -> None:
    """With ``drill_every``: every required server was launched in a drill within it."""
    every = plan.drill_every
    if every is None:
        return
    drills = [
        (_last_drill(account.servers[server_id]), wave, server_id)
        for wave, server_id, optional in selected.each()
        if not optional
    ]
    if not drills:
        return
    # the stalest server speaks for the plan: one never drilled first, else the oldest drill
    last, wave, server_id = min(drills, key=lambda drill: (drill[0] is not None, drill[0] or now))
    if last is not None and (now - last).total_seconds() <= every:
        return
    when = (
        "was never launched in a drill"
        if last is None
        else (f"was last launched in a drill {_span((now - last).total_seconds())} ago ({last.isoformat()})")
    )
    findings.append(
        Finding(
            WARNING,
            DRILL_OVERDUE,
            f"{account.name(server_id)} {when}; drill_every is {_span(every)}",
            wave,
            server_id,
        )
    )


def launch_servers(plan: Plan, selected: _Selected) -> list[str]:
    """The selected servers the plan gives launch settings for (whose settings readiness reads)."""
    waves = {wave.name: wave for wave in plan.waves}
    return [
        server_id
        for wave, server_id, _ in selected.each()
        if (settings := waves[wave].launch_for(server_id)) is not None and settings.declared()
    ]


def check_launch(plan: Plan, account: AccountState, selected: _Selected, findings: list[Finding]) -> None:
    """Every selected server's launch settings in DRS are the plan's ``launch`` (optional servers:
    warnings), and every server of ``launch_per_server`` is one its wave selects."""
    picked = {(wave, server_id): optional for wave, server_id, optional in selected.each()}
    for wave in plan.waves:
        if not wave.declares_launch:
            continue
        for server_id in wave.launch_per_server:
            if (wave.name, server_id) not in picked and server_id not in wave.servers.ids + (
                wave.optional_servers.ids if wave.optional_servers else ()
            ):  # listed IDs DRS lacks are server_missing already
                findings.append(
                    Finding(
                        WARNING,
                        LAUNCH_SERVER_UNSELECTED,
                        f"launch_per_server names {account.name(server_id)}, which the wave's tags do not "
                        "select: its settings apply to no launch",
                        wave.name,
                        server_id,
                    )
                )
    waves = {wave.name: wave for wave in plan.waves}
    for (wave_name, server_id), optional in picked.items():
        settings = waves[wave_name].launch_for(server_id)
        state = account.launch.get(server_id)
        if settings is None or state is None:
            continue
        severity = WARNING if optional else ERROR
        name = account.name(server_id)
        if needs_template(settings) and state.template is None:
            given = ", ".join(key for key in TEMPLATE_SETTINGS if getattr(settings, key) is not None)
            where = (
                f"the EC2 launch template {state.template_id} DRS launches it from does not exist"
                if state.template_id
                else "DRS names no EC2 launch template for it"
            )
            findings.append(
                Finding(
                    severity,
                    LAUNCH_TEMPLATE_MISSING,
                    f"{name}: {where}, so it would not launch with the plan's {given}",
                    wave_name,
                    server_id,
                )
            )
        for change in differences(settings, state):
            findings.append(
                Finding(
                    severity,
                    LAUNCH_CONFIG_DRIFT,
                    f"{name}: {change.setting} is {shown(change.drs)} in DRS, the plan says "
                    f"{shown(change.plan)} (drs-plan apply-launch {plan.name} makes DRS match)",
                    wave_name,
                    server_id,
                )
            )


def check_quotas(plan: Plan, account: AccountState, plans_servers: int, findings: list[Finding]) -> None:
    """The plan's jobs fit DRS's servers-per-job quota, and all plans' servers its replicating quota."""
    per_job = plan.max_servers_per_job
    if per_job is not None and per_job > account.servers_per_job:
        findings.append(
            Finding(
                ERROR,
                QUOTA_EXCEEDED,
                f"max_servers_per_job {per_job} is over the account's {account.servers_per_job} servers per "
                f"job in {account.where}: DRS refuses such a launch",
            )
        )
    if plans_servers > account.max_replicating_servers:
        findings.append(
            Finding(
                WARNING,
                QUOTA_EXCEEDED,
                f"the plans recovering in {account.where} select {plans_servers} source servers; the account "
                f"may replicate {account.max_replicating_servers}",
            )
        )


def _last_drill(server: Mapping[str, Any]) -> datetime | None:
    initiated = ((server.get("lifeCycle") or {}).get("lastLaunch") or {}).get("initiated") or {}
    if initiated.get("type") != "DRILL":
        return None
    return _time(initiated.get("apiCallDateTime"))


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return parse_time(str(value)) if value else None
    except ValueError:
        return None


def _seconds(value: Any) -> float | None:
    try:
        return parse_duration(str(value)) if value else None
    except ValueError:
        return None


def _span(seconds: float) -> str:
    """``3725`` as ``1h 2m 5s``: how long, as a person reads it."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")) if value
    ]
    return " ".join(parts) or "0s"
