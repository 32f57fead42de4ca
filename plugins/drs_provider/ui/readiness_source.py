"""What the Recovery view reads of the plans' readiness: the results the ``drs_readiness`` DAG's
``check`` task left in its XComs (the readiness contract), read defensively.

Everything comes from Airflow's metadata database, in the API server's process; nothing here
calls DRS. The plans page shows the results (:mod:`drs_provider.ui.plans_view`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from drs_provider.readiness import READINESS_DAG_ID, READINESS_TASK_ID
from drs_provider.recovery.run_record import RETURN_VALUE
from drs_provider.recovery.times import parse_time

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: Readiness checks a plan's history goes back: a day of the hourly ``drs_readiness`` DAG.
READINESS_CHECKS = 24
#: A plan's status in a readiness check (the readiness contract); anything else is not a result.
READINESS_STATUSES = ("ready", "at_risk", "not_ready")


@dataclass(frozen=True)
class Finding:
    """One thing a readiness check found about a plan; ``code`` is opaque (``lag_over_rpo``, ...)."""

    severity: str
    code: str
    wave: str | None
    server: str | None
    message: str


@dataclass(frozen=True)
class ReadinessCheck:
    """One plan's result in one check of ``drs_readiness``."""

    checked_at: datetime
    status: str
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class ReadinessMark:
    """One past check of a plan, as its history shows it."""

    checked_at: datetime
    status: str


@dataclass(frozen=True)
class PlanReadiness:
    """A plan's readiness as the plans page and its JSON show it: its last check, and the history of all."""

    #: the last check's; None: no check has covered the plan yet
    status: str | None
    checked_at: datetime | None
    findings: tuple[Finding, ...]
    #: newest first
    history: tuple[ReadinessMark, ...]

    @classmethod
    def of(cls, checks: Sequence[ReadinessCheck]) -> PlanReadiness:
        """From the plan's checks, newest first."""
        if not checks:
            return cls(status=None, checked_at=None, findings=(), history=())
        last = checks[0]
        history = tuple(ReadinessMark(check.checked_at, check.status) for check in checks)
        return cls(status=last.status, checked_at=last.checked_at, findings=last.findings, history=history)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _finding(item: Any) -> Finding | None:
    """A finding of the readiness contract; None for one without a code (nothing to show)."""
    if not isinstance(item, dict) or not item.get("code"):
        return None
    return Finding(
        severity=str(item.get("severity") or "error"),  # none said: the safe side
        code=str(item["code"]),
        wave=_optional_text(item.get("wave")),
        server=_optional_text(item.get("server")),
        message=str(item.get("message") or ""),
    )


def _plan_check(entry: Any, checked_at: datetime) -> ReadinessCheck | None:
    """One plan's entry of a check; None if its status is not one of the contract's."""
    if not isinstance(entry, dict) or entry.get("status") not in READINESS_STATUSES:
        return None
    items = entry.get("findings") or []
    findings = (_finding(item) for item in (items if isinstance(items, list) else []))
    return ReadinessCheck(checked_at, str(entry["status"]), tuple(f for f in findings if f is not None))


def parse_readiness(value: Any) -> dict[str, ReadinessCheck] | None:
    """Each plan's result in one ``check`` XCom (the readiness contract, as a dict or its JSON text);
    None when the value is not such a result at all. A plan whose entry does not fit is left out."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict) or not isinstance(value.get("plans"), dict):
        return None
    raw_time = value.get("checked_at")
    try:  # the one parser of ISO-8601 times: a time without a zone is UTC, as Airflow writes them
        checked_at = parse_time(raw_time) if isinstance(raw_time, str) else None
    except ValueError:
        return None
    if checked_at is None:
        return None
    checks = {str(plan): _plan_check(entry, checked_at) for plan, entry in value["plans"].items()}
    return {plan: check for plan, check in checks.items() if check is not None}


def readiness_history(
    session: Session, plans: Iterable[str], limit: int = READINESS_CHECKS
) -> dict[str, tuple[ReadinessCheck, ...]]:
    """Each of ``plans``' results in the last ``limit`` successful checks of ``drs_readiness`` (the
    ``check`` task's ``return_value``), newest first. A check whose XCom is malformed is skipped (and
    logged): the plans page shows what the others say."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel

    query = (
        select(XComModel)
        .join(
            TaskInstance,
            and_(
                TaskInstance.dag_id == XComModel.dag_id,
                TaskInstance.run_id == XComModel.run_id,
                TaskInstance.task_id == XComModel.task_id,
                TaskInstance.map_index == XComModel.map_index,
            ),
        )
        .where(
            XComModel.dag_id == READINESS_DAG_ID,
            XComModel.task_id == READINESS_TASK_ID,
            XComModel.map_index == -1,
            XComModel.key == RETURN_VALUE,
            TaskInstance.state == "success",
        )
        .order_by(XComModel.timestamp.desc())
        .limit(limit)
    )
    history: dict[str, list[ReadinessCheck]] = {plan: [] for plan in plans}
    for row in session.scalars(query):
        try:
            checks = parse_readiness(XComModel.deserialize_value(row))
        except Exception:  # a value Airflow cannot even decode must not take the page down
            checks = None
        if checks is None:
            log.warning("skipped readiness check %s: its XCom is not a readiness result", row.run_id)
            continue
        for plan, found in history.items():
            if plan in checks:
                found.append(checks[plan])
    # newest check first, also where an older run was checked again later
    return {
        plan: tuple(sorted(found, key=lambda check: check.checked_at, reverse=True))
        for plan, found in history.items()
    }
