"""Launch settings that DRS can honour together, each server's under the wave that recovers it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.plans.model import RIGHT_SIZING_OFF
from drs_provider.plans.structure import INVALID, Checker
from drs_provider.plans.yaml_source import format_path

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.plans.wave_entries import WaveEntry
    from drs_provider.plans.yaml_source import FieldPath


def check_launch(checker: Checker, waves: Sequence[WaveEntry]) -> None:
    """Launch settings DRS can honour together, each server's under its own wave.

    A private IP is one server's, and not beside ``copy_private_ip: true`` (DRS then writes the
    source server's address into the launch template); an instance type needs right-sizing off
    (DRS overwrites the template's otherwise); a server's own settings belong to the wave that
    recovers it, and no two servers get one address.
    """
    listed: dict[str, tuple[WaveEntry, FieldPath]] = {}
    for wave in waves:
        for key in ("servers", "optional_servers"):
            selector = wave.fields.get(key)
            ids = selector.get("ids") if isinstance(selector, dict) else None
            for position, server in enumerate(ids if isinstance(ids, tuple) else ()):
                if isinstance(server, str):
                    listed.setdefault(server, (wave, (*wave.path, key, "ids", position)))
    addresses: dict[str, FieldPath] = {}
    for wave in waves:
        launch = wave.fields.get("launch")
        common = launch if isinstance(launch, dict) else {}
        path: FieldPath = (*wave.path, "launch")
        if isinstance(common.get("private_ip"), str):
            checker.report(
                (*path, "private_ip"),
                "a private IP is one server's, not every server's of the wave: give it under "
                "launch_per_server.<server id>",
            )
        _check_instance_type(checker, path, common, common)
        per_server = wave.fields.get("launch_per_server")
        if not isinstance(per_server, dict):
            continue
        by_tags = any(
            isinstance(selector := wave.fields.get(key), dict) and selector.get("tags")
            for key in ("servers", "optional_servers")
        )
        owner = repr(wave.name) if wave.name else format_path(wave.path)
        for server_id, own in per_server.items():
            path = (*wave.path, "launch_per_server", server_id)
            if not isinstance(own, dict):
                continue
            where = listed.get(server_id)
            if where is not None and where[0] is not wave:
                other = repr(where[0].name) if where[0].name else format_path(where[0].path)
                checker.report(
                    path,
                    f"server {server_id} is recovered by wave {other} ({format_path(where[1])}): "
                    "give its launch settings there",
                )
            elif where is None and not by_tags:
                checker.report(
                    path,
                    f"server {server_id} is not a server of wave {owner}: it is not among its ids, "
                    "and the wave selects no servers by tags",
                )
            merged = {**common, **own}
            _check_instance_type(checker, path, merged, own)
            address = own.get("private_ip")
            if not isinstance(address, str):
                continue
            if merged.get("copy_private_ip") is True:
                checker.report(
                    (*path, "private_ip"),
                    "copy_private_ip: true launches with the source server's own address: give "
                    "private_ip or copy_private_ip: true, not both",
                )
            elif address in addresses:
                checker.report(
                    (*path, "private_ip"),
                    f"private IP {address} is already given at {format_path(addresses[address])}",
                )
            else:
                addresses[address] = (*path, "private_ip")


def _check_instance_type(
    checker: Checker, path: FieldPath, settings: Mapping[str, object], own: Mapping[str, object]
) -> None:
    """An instance type is launched only with right-sizing off: DRS overwrites it otherwise.

    ``own`` are the settings written at ``path``; a server's entry is reported only when it
    gives the instance type or the right-sizing itself (the wave's own are reported at the wave).
    """
    instance_type, right_sizing = settings.get("instance_type"), settings.get("right_sizing")
    if not isinstance(instance_type, str) or right_sizing is INVALID or right_sizing == RIGHT_SIZING_OFF:
        return
    if "instance_type" not in own and "right_sizing" not in own:
        return
    if right_sizing is None:
        why = "add right_sizing: NONE (DRS's right-sizing, on unless turned off, picks the type itself)"
    else:
        why = f"not {right_sizing} (DRS then picks the type itself)"
    key = "instance_type" if "instance_type" in own else "right_sizing"
    checker.report(
        (*path, key), f"instance_type {instance_type} takes effect only with right_sizing: NONE: {why}"
    )
