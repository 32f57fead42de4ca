"""Which report the Recovery view shows: the one a run's ``report`` task stored, else one built live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.recovery.report import build_report
from drs_provider.recovery.run_record import REPORT_TASK

if TYPE_CHECKING:
    from drs_provider.recovery.run_record import RunRecord


def run_report(run: RunRecord) -> tuple[dict[str, Any], str]:
    """The run's report and where it came from: ``report`` (stored) or ``live`` (built now).

    A finished run's ``report`` task returned the document; without one (a run still going, a
    DAG without a ``report`` task) :func:`~drs_provider.recovery.report.build_report` builds it
    from the same facts the report task reads.
    """
    stored = run.xcom(REPORT_TASK)
    if isinstance(stored, dict) and stored.get("waves") is not None:
        return stored, "report"
    return build_report(run), "live"
