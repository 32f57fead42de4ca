"""The run report as a self-contained HTML page, for people who audit a drill or a recovery.

Rendered from the JSON report alone (:func:`~drs_provider.recovery.report.build_report`'s
document, as stored), so the page and the JSON beside it always say the same thing and the page
can be rendered again later, after the terminate action rewrote the report's clean-up entry.

Self-contained: one file, its style inline, no script, nothing loaded from elsewhere (its
Content-Security-Policy allows nothing but the inline style), so it opens from a download, an
e-mail or an S3 console alike. Every value from the report is escaped (Jinja autoescape): plan
text, server errors and approval answers come out as text, never as markup.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drs_provider.recovery.times import format_duration, format_when, parse_time

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from jinja2 import Environment

#: The media type the page is stored and served with.
HTML_MEDIA_TYPE = "text/html; charset=utf-8"
#: A step whose answer the report's "Approvals" section lists.
APPROVAL_KIND = "approval"
#: Task states a report calls failed (``upstream_failed``: did not run because an earlier wave failed).
FAILED_STATES = frozenset({"failed", "upstream_failed"})


@dataclass(frozen=True)
class Failure:
    """One thing that went wrong, where (wave, step, server, clean-up, storage) and why."""

    where: str
    why: str


def failures(report: Mapping[str, Any]) -> list[Failure]:
    """Everything the report says failed, in plan order: waves, their steps and servers, then the
    clean-up and the report's own storage."""
    found: list[Failure] = []
    for wave in report.get("waves") or ():
        name = wave.get("name")
        if wave.get("state") in FAILED_STATES:
            jobs = ", ".join(wave.get("job_ids") or ()) or "no DRS job"
            found.append(Failure(f"wave {name}", f"{wave.get('state')} ({jobs})"))
        for step in wave.get("steps") or ():
            if step.get("state") == "failed":
                found.append(
                    Failure(f"wave {name}, step {step.get('name')}", step.get("message") or "failed")
                )
        for server in wave.get("servers") or ():
            error = server.get("rawError")
            status = server.get("launchStatus")
            if error or status == "FAILED":
                label = server.get("hostname") or server.get("sourceServerID")
                optional = " (optional)" if server.get("optional") else ""
                found.append(
                    Failure(
                        f"wave {name}, server {server.get('sourceServerID')} ({label}){optional}",
                        error or f"launch {status}",
                    )
                )
    cleanup = report.get("cleanup") or {}
    for entry in cleanup.get("failed") or ():
        found.append(Failure("clean-up", str(entry)))
    if cleanup.get("state") == "failed" and not cleanup.get("failed"):
        found.append(Failure("clean-up", cleanup.get("reason") or "failed"))
    store_error = report.get("store_error")
    if isinstance(store_error, dict):
        found.append(
            Failure(
                "report storage",
                f"s3://{store_error.get('bucket')}/{store_error.get('key')}: {store_error.get('error')}",
            )
        )
    return found


def approvals(report: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """``(wave, step)`` of every approval step, in plan order."""
    for wave in report.get("waves") or ():
        for step in wave.get("steps") or ():
            if step.get("kind") == APPROVAL_KIND:
                yield str(wave.get("name")), step


def rto_verdict(report: Mapping[str, Any]) -> str:
    """``6m52s against a target of 30m00s: met``, and the reasons there is no figure."""
    seconds, target, met = report.get("rto_seconds"), report.get("rto_target"), report.get("rto_met")
    if seconds is None:
        return "not measured: no wave recovered, or a wave did not succeed"
    measured = format_duration(float(seconds))
    if target is None:
        return f"{measured} (the plan sets no target)"
    return f"{measured} against a target of {format_duration(float(target))}: {'met' if met else 'MISSED'}"


def when(value: Any) -> str:
    """A report time (ISO-8601 text) for people, in UTC; ``-`` for none."""
    if not value:
        return "-"
    try:
        return format_when(parse_time(str(value)))
    except ValueError:
        return str(value)


@functools.cache
def _environment() -> Environment:
    from jinja2 import ChainableUndefined, Environment, FileSystemLoader

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(when=when, duration=format_duration)
    return environment


def render_report_html(report: Mapping[str, Any]) -> str:
    """The self-contained HTML page of the run report ``report`` (the JSON document)."""
    template = _environment().get_template("report.html")
    return template.render(
        report=report,
        waves=list(report.get("waves") or ()),
        failures=failures(report),
        approvals=list(approvals(report)),
        rto=rto_verdict(report),
        cleanup=report.get("cleanup"),
    )
