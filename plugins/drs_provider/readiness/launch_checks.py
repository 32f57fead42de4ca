"""Readiness of a plan's launch settings: what DRS would launch each selected server with, against
the plan's ``launch``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.readiness.findings import (
    ERROR,
    LAUNCH_CONFIG_DRIFT,
    LAUNCH_SERVER_UNSELECTED,
    LAUNCH_TEMPLATE_MISSING,
    WARNING,
    Finding,
)
from drs_provider.recovery.launch import TEMPLATE_SETTINGS, differences, needs_template, shown

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan
    from drs_provider.readiness.account import AccountState, Selected


def launch_servers(plan: Plan, selected: Selected) -> list[str]:
    """The selected servers the plan gives launch settings for (whose settings readiness reads)."""
    waves = {wave.name: wave for wave in plan.waves}
    return [
        server_id
        for wave, server_id, _ in selected.each()
        if (settings := waves[wave].launch_for(server_id)) is not None and settings.declared()
    ]


def check_launch(plan: Plan, account: AccountState, selected: Selected, findings: list[Finding]) -> None:
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
