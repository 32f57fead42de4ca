"""What a readiness check finds, and the status it gives a plan.

An ``error`` is something a recovery from the plan would fail on (the plan is ``not_ready``);
a ``warning`` something it would survive, worse than planned (``at_risk``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

Severity = Literal["error", "warning"]
ERROR: Severity = "error"
WARNING: Severity = "warning"

READY = "ready"
AT_RISK = "at_risk"
NOT_READY = "not_ready"
#: Worst first: a status change to an earlier one is a change for the worse.
STATUSES = (NOT_READY, AT_RISK, READY)

# Finding codes (one per cause, so scripts and alarms can match on them).
SERVER_MISSING = "server_missing"
TAGS_SELECT_NONE = "tags_select_none"
TAGS_COUNT_CHANGED = "tags_count_changed"
REPLICATION_NOT_CONTINUOUS = "replication_not_continuous"
LAG_OVER_RPO = "lag_over_rpo"
SNAPSHOT_TOO_OLD = "snapshot_too_old"
RECOVERED_INSTANCE_LIVE = "recovered_instance_live"
QUOTA_EXCEEDED = "quota_exceeded"
STEP_TARGET_MISSING = "step_target_missing"
CONNECTION_FAILED = "connection_failed"
NOTIFY_TOPIC_MISSING = "notify_topic_missing"
REPORT_BUCKET_MISSING = "report_bucket_missing"
SERVER_IN_TWO_WAVES = "server_in_two_waves"
DRILL_OVERDUE = "drill_overdue"
STALE_DRILL_INSTANCE = "stale_drill_instance"
PLAN_PAUSED = "plan_paused"
LAUNCH_CONFIG_DRIFT = "launch_config_drift"
LAUNCH_TEMPLATE_MISSING = "launch_template_missing"
LAUNCH_SERVER_UNSELECTED = "launch_server_unselected"
STAGING_SERVER_NOT_EXTENDED = "staging_server_not_extended"


@dataclass(frozen=True)
class Finding:
    """One thing a readiness check found about a plan, and where (wave, server) when it has a place."""

    severity: Severity
    code: str
    message: str
    wave: str | None = None
    server: str | None = None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        return {key: body[key] for key in ("severity", "code", "wave", "server", "message")}


def status_of(findings: Iterable[Finding]) -> str:
    """``not_ready`` with any error, else ``at_risk`` with any warning, else ``ready``."""
    return _status({finding.severity for finding in findings})


def status_of_json(findings: Iterable[Mapping[str, Any]]) -> str:
    """:func:`status_of` for findings already in their JSON form."""
    return _status({finding.get("severity") for finding in findings})


def _status(severities: set[Any]) -> str:
    if ERROR in severities:
        return NOT_READY
    return AT_RISK if WARNING in severities else READY
