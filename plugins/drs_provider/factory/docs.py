"""The ``doc_md`` of a plan's DAG: what the plan recovers, in which order, and how to run it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.plans.graph import describe_step

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan, ServerSelector, Wave


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def describe_selector(selector: ServerSelector | None) -> str:
    """A selector in one line, e.g. ``ids s-0a0…01; tags Role=db``."""
    if selector is None or selector.is_empty:
        return "-"
    parts = []
    if selector.ids:
        parts.append("ids " + ", ".join(f"`{server_id}`" for server_id in selector.ids))
    if selector.tags:
        parts.append("tags " + ", ".join(f"`{key}={value}`" for key, value in selector.tags.items()))
    return "; ".join(parts)


def _after(wave: Wave) -> str:
    return ", ".join(f"`{name}`" for name in wave.depends_on) if wave.depends_on else "(starts at once)"


def _steps(wave: Wave) -> str:
    steps = [f"before: {describe_step(step)}" for step in wave.pre]
    steps += [f"after: {describe_step(step)}" for step in wave.post]
    return "; ".join(steps) or "-"


def plan_doc_md(plan: Plan) -> str:
    """Markdown shown on the DAG's page: description, a table of waves, and how to trigger."""
    lines = [f"# Recovery plan `{plan.name}`", ""]
    if plan.description:
        lines += [plan.description, ""]
    lines += [f"Plan file: `{plan.source}`" + (f" · owner: {plan.owner}" if plan.owner else ""), ""]
    lines += [
        "| wave | after | servers | optional servers | runbook steps |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{wave.name}` | {_cell(_after(wave))} | {_cell(describe_selector(wave.servers))} "
        f"| {_cell(describe_selector(wave.optional_servers))} | {_cell(_steps(wave))} |"
        for wave in plan.waves
    ]
    lines += [
        "",
        "Tag selectors are resolved when a run starts. `preflight` checks every server before "
        "anything is launched and reports every problem at once.",
        "",
        "**Run** with *Trigger*: `mode` = `drill` (default) launches drill instances. A real "
        f"recovery needs `mode` = `recovery` and `confirm` = `{plan.name}`. `waves` runs only "
        "the chosen waves (in dependency order); `point_in_time` launches each server from its "
        "latest snapshot at or before that time.",
    ]
    if plan.recovery_allowed is not None:
        lines += [
            "",
            "Only these may start a recovery (`recovery_allowed`): "
            + ", ".join(f"`{entry}`" for entry in plan.recovery_allowed)
            + ". Anyone else's recovery fails in `preflight`, before any DRS call.",
        ]
    if plan.schedule:
        lines += ["", f"Scheduled drill: `{plan.schedule}` (scheduled runs are always drills)."]
    lifecycle = []
    if plan.rto_target is not None:
        lifecycle.append(f"RTO target {plan.rto_target} s")
    if plan.cleanup != "never":
        lifecycle.append(
            f"drills clean up their instances (`cleanup: {plan.cleanup}`; `keep_instances` skips it)"
        )
    if plan.notify is not None:
        lifecycle.append(f"events ({', '.join(plan.notify.events)}) go to `{plan.notify.sns_topic_arn}`")
    if plan.report_s3_uri:
        lifecycle.append(f"each run's report is stored under `{plan.report_s3_uri}`")
    if lifecycle:
        lines += [
            "",
            "After the waves: " + "; ".join(lifecycle) + ". The `report` task returns the run report.",
        ]
    return "\n".join(lines) + "\n"
