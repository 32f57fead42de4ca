"""The readiness checks of one plan against what DRS shows in its account and region.

Everything here is read from an :class:`~.account.AccountState` gathered once per account and
region for every plan that recovers there (:mod:`drs_provider.operators.readiness`), so a check
costs DRS no call of its own. Which servers a plan selects is :mod:`.selection`; its launch
settings are checked in :mod:`.launch_checks`. The rules follow the launch path: what preflight
would refuse is an error, what a recovery would survive worse than planned is a warning.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from drs_provider.readiness.account import AccountState, Selected, replication
from drs_provider.readiness.findings import (
    DRILL_OVERDUE,
    ERROR,
    LAG_OVER_RPO,
    QUOTA_EXCEEDED,
    RECOVERED_INSTANCE_LIVE,
    REPLICATION_NOT_CONTINUOUS,
    SNAPSHOT_TOO_OLD,
    STALE_DRILL_INSTANCE,
    WARNING,
    Finding,
)
from drs_provider.recovery.recovered import GONE_EC2_STATES, live_recovery_instances, recovered_among
from drs_provider.recovery.times import parse_duration, parse_time

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.plans.model import Plan

#: Replication states a launch accepts (as :attr:`DrsHook.RECOVERABLE_REPLICATION_STATES`);
#: of them only CONTINUOUS is the steady state a plan should be in.
STEADY_STATE = "CONTINUOUS"
#: A drill instance older than this was forgotten: it costs money and answers no question.
STALE_DRILL_AGE = timedelta(days=1)


def check_replication(plan: Plan, account: AccountState, selected: Selected, findings: list[Finding]) -> None:
    """Replication state and lag of every selected server against the plan's ``rpo_target``."""
    rpo = plan.rpo_target
    for wave, server_id, optional in selected.each():
        info = replication(account.servers[server_id])
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
    plan: Plan, account: AccountState, selected: Selected, now: datetime, findings: list[Finding]
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
    plan: Plan, account: AccountState, selected: Selected, now: datetime, findings: list[Finding]
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
    plan: Plan, account: AccountState, selected: Selected, now: datetime, findings: list[Finding]
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
