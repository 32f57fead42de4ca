"""``drs-plan cleanup``, ``ready``, ``apply-launch`` and ``export-native``: they call AWS through an
Airflow connection, so the provider's hooks are imported only when one runs.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from drs_provider.cli.plan_files import default_plans_dir, find_plan, plan_named
from drs_provider.constants import dag_id_of
from drs_provider.plans.loader import collect_plans, plan_files

if TYPE_CHECKING:
    import argparse

    from drs_provider.plans import Plan
    from drs_provider.recovery.native_plan import NativePlan


def run_cleanup(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from drs_provider.constants import TAG_DAG_ID
    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.cleanup import refusal
    from drs_provider.recovery.job_tags import run_tags, tag_value

    plan = plan_named(args.dag, args.plans_dir)
    conn_id = args.aws_conn_id or (plan.aws_conn_id if plan else None) or "aws_default"
    region = args.region or (plan.region if plan else None)
    hook = DrsHook(aws_conn_id=conn_id, region_name=region)
    # Which DAG's run: every DAG whose run has this id, narrowed to the one --dag names.
    runs_of = sorted(
        {
            str((job.get("tags") or {}).get(TAG_DAG_ID))
            for job in hook.find_jobs_by_tags(run_tags(None, args.run))
        }
    )
    if plan is not None:
        named = {tag_value(plan.dag_id)}
    elif args.dag is not None:
        named = {tag_value(args.dag), tag_value(dag_id_of(args.dag))}
    else:
        named = set(runs_of)
    candidates = [dag for dag in runs_of if dag in named]
    if len(candidates) > 1:
        print(
            f"run {args.run}: runs of {len(candidates)} DAGs have this id ({', '.join(candidates)}); "
            "name one with --dag",
            file=err,
        )
        return 1
    dag_id = candidates[0] if candidates else (plan.dag_id if plan else args.dag)
    what = f"run {args.run}" + (f" of {dag_id}" if dag_id else "")
    jobs, cleanup_plan = hook.run_cleanup_plan(run_tags(dag_id, args.run)) if candidates else ([], None)
    why = refusal(jobs)
    if why or cleanup_plan is None:
        print(f"{what}: refused: {why}", file=err)
        return 1
    print(f"{what}: {len(jobs)} DRS job(s) in {hook.conn_region_name}", file=out)
    for instance, reason in cleanup_plan.left_alone.items():
        print(f"left alone {instance}: {reason}", file=out)
    if not cleanup_plan.to_terminate:
        print("nothing to terminate: this drill left no recovery instance running", file=out)
        return 0
    if args.dry_run:
        print(
            f"would terminate {len(cleanup_plan.to_terminate)}: {', '.join(cleanup_plan.to_terminate)}",
            file=out,
        )
        return 0
    entry = hook.carry_out_cleanup(cleanup_plan, timeout=args.timeout, waiter_delay=args.poll_interval)
    jobs_text = f" (TERMINATE job(s) {', '.join(entry['jobs'])})"
    if entry["terminated"]:
        print(f"terminated {len(entry['terminated'])}: {', '.join(entry['terminated'])}{jobs_text}", file=out)
    if entry.get("terminating"):
        print(
            f"still terminating after {args.timeout:.0f} s: {', '.join(entry['terminating'])}{jobs_text}",
            file=err,
        )
    if entry["failed"]:
        print(
            f"could not terminate {len(entry['failed'])}: {', '.join(entry['failed'])}{jobs_text}", file=err
        )
    return 0 if entry["state"] == "success" else 1


def run_ready(plans_dir: str | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    from drs_provider.operators.readiness import check_plans

    directory = plans_dir or default_plans_dir()
    if not Path(directory).is_dir():
        err.write(f"{directory}: not a directory of plan files\n")
        return 2
    loaded = collect_plans(plan_files(directory), display_root=directory)
    for issue in loaded.issues:
        err.write(f"not checked: {issue}\n")
    with contextlib.redirect_stdout(err):  # Airflow's hooks log to stdout; stdout is the answer
        result = check_plans(loaded.plans)
    if as_json:
        out.write(json.dumps(result, indent=2) + "\n")
    else:
        for name, entry in sorted(result["plans"].items()):
            out.write(f"{name}: {entry['status'].replace('_', ' ')}\n")
            for finding in entry["findings"]:
                where = " ".join(
                    f"{label} {finding[label]}" for label in ("wave", "server") if finding.get(label)
                )
                out.write(f"  {finding['severity']} {finding['code']}{f' ({where})' if where else ''}: ")
                out.write(f"{finding['message']}\n")
        for account in result["coverage"]:
            for server in account["uncovered"]:
                out.write(
                    f"coverage: {server['name']} replicates in {account['aws_conn_id']}, "
                    f"{account['region']} but no plan recovers it\n"
                )
    statuses = [entry["status"] for entry in result["plans"].values()]
    return 1 if "not_ready" in statuses or loaded.issues else 0


def run_apply_launch(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    found = find_plan(args.plan, args.plans_dir, err)
    if found is None:
        return 1
    plan = found[0]
    if not plan.declares_launch:
        print(f"plan {plan.name} gives no launch settings: nothing to apply", file=out)
        return 0
    with contextlib.redirect_stdout(err):  # Airflow's hooks log to stdout; stdout is the answer
        return _apply_plan_launch(plan, dry_run=args.dry_run, out=out, err=err)


def _apply_plan_launch(plan: Plan, *, dry_run: bool, out: TextIO, err: TextIO) -> int:
    """Print each server's differences from the plan's launch settings, then (unless ``dry_run``)
    make DRS match, server by server; 1 when a server could not be brought in line."""
    from botocore.exceptions import BotoCoreError, ClientError

    from drs_provider.exceptions import DrsProviderError
    from drs_provider.hooks.drs import DrsHook
    from drs_provider.recovery.launch import differences, needs_template, planned_launch
    from drs_provider.recovery.selection import source_server_hostname

    failures = (ClientError, BotoCoreError, DrsProviderError, OSError)
    conn_id = plan.aws_conn_id or "aws_default"
    hook = DrsHook(aws_conn_id=conn_id, region_name=plan.region)
    try:
        where = f"{conn_id}, {plan.region or hook.conn_region_name}"
        servers = {server["sourceServerID"]: server for server in hook.describe_source_servers()}
        planned = planned_launch(plan, servers)
        states = hook.read_launch_states(
            list(planned.servers), templates=any(needs_template(s) for _, s in planned.servers.values())
        )
    except failures as error:
        print(f"plan {plan.name}: launch settings cannot be read: {error}", file=err)
        return 1

    def name(server_id: str) -> str:
        hostname = source_server_hostname(servers.get(server_id) or {})
        return f"{server_id} ({hostname})" if hostname else server_id

    failed = [f"{server_id}: DRS in {where} has no such source server" for server_id in planned.unknown]
    changing = []
    print(f"plan {plan.name} ({where}): launch settings of {len(planned.servers)} server(s)", file=out)
    for server_id, (wave, settings) in planned.servers.items():
        state = states.get(server_id)
        if state is None:
            failed.append(f"{server_id}: DRS has no launch configuration of it")
            continue
        changes = [str(change) for change in differences(settings, state)]
        if needs_template(settings) and state.template is None:
            missing = state.template_id or "none named"
            changes.insert(
                0, f"launch template: missing ({missing}) -> a new one, by UpdateLaunchConfiguration"
            )
        print(
            f"{name(server_id)}, wave {wave}: {'as the plan says' if not changes else ''}".rstrip(), file=out
        )
        for change in changes:
            print(f"  {change}", file=out)
        if changes:
            changing.append(server_id)
    for server_id in planned.unselected:
        print(f"{name(server_id)}: not selected by its wave's tags, left alone", file=out)
    if dry_run or not changing:
        verdict = (
            "dry run: nothing changed" if dry_run else "nothing to change: DRS holds the plan's settings"
        )
        print(f"{verdict} ({len(changing)} server(s) differ)", file=out)
    else:
        applied = 0
        for server_id in changing:
            wave, settings = planned.servers[server_id]
            try:
                done = hook.apply_launch_settings(server_id, settings, states[server_id])
            except failures as error:
                failed.append(f"{server_id}: {error}")
                continue
            applied += 1
            print(f"{name(server_id)}: {'; '.join(done)}", file=out)
        print(f"applied: {applied} of {len(changing)} server(s) now hold the plan's settings", file=out)
    for failure in failed:
        print(f"failed: {failure}", file=err)
    return 1 if failed else 0


def run_export_native(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from drs_provider.exceptions import DrsProviderError
    from drs_provider.hooks.native_plan_servers import resolve_plan_servers
    from drs_provider.recovery.native_plan import native_plans

    found = find_plan(args.plan, args.plans_dir, err)
    if found is None:
        return 1
    plan = found[0]
    with contextlib.redirect_stdout(err):  # Airflow's hooks log to stdout; stdout is the answer
        resolved = resolve_plan_servers(plan)
    for note in resolved.notes:
        print(note, file=err)
    if resolved.failures:
        for failure in resolved.failures:
            print(f"plan {plan.name}, {failure}", file=err)
        return 1
    plans = native_plans(plan, resolved.servers, resolved.targets)
    if args.json:
        document = {"plan": plan.name, "dry_run": args.dry_run, "native_plans": [n.to_dict() for n in plans]}
        out.write(json.dumps(document, indent=2) + "\n")
    else:
        count = f"{len(plans)} native recovery plan{'s' if len(plans) != 1 else ''}"
        print(f"plan {plan.name}: {count}{' (dry run: nothing created)' if args.dry_run else ''}", file=out)
        for native in plans:
            print(_native_plan_text(native), file=out)
    if args.dry_run:
        return 0
    # Every target the plan's waves name is brought in line, one without servers too (its
    # native plans of this plan are deleted).
    failed = 0
    for target, hook in resolved.hooks.items():
        wanted = [native for native in plans if native.target == target]
        try:
            with contextlib.redirect_stdout(err):
                done = hook.sync_native_plans(plan.name, wanted)
        except (ClientError, BotoCoreError, DrsProviderError, OSError) as error:
            print(f"{target}: native plans not brought in line: {error}", file=err)
            failed += 1
            continue
        stream = err if args.json else out
        for line in done or ["native plans already as the plan maps to"]:
            print(f"{target}: {line}", file=stream)
    return 1 if failed else 0


def _native_plan_text(native: NativePlan) -> str:
    """One native plan as the dry run shows it: where, name, tags, description, steps in order."""
    from drs_provider.recovery.native_plan import OPTIONAL

    lines = [
        "",
        f"{native.target}: {native.name} ({len(native.steps)} steps, {native.server_count} servers)",
        "  tags: " + ", ".join(f"{key}={value}" for key, value in native.tags),
        f"  description: {native.description}",
        "  steps:",
    ]
    for order, step in enumerate(native.steps, start=1):
        if step.wait_minutes is not None:
            lines.append(f"    {order}. WAIT {step.name}: {step.wait_minutes} min")
            continue
        optional = sum(server.impact_level == OPTIONAL for server in step.servers)
        counts = f"{len(step.servers) - optional} critical" + (f", {optional} optional" if optional else "")
        names = ", ".join(
            server.server_id + (" (optional)" if server.impact_level == OPTIONAL else "")
            for server in step.servers
        )
        lines.append(f"    {order}. SERVER {step.name} ({counts}): {names}")
    return "\n".join(lines)
