"""Build a :class:`~drs_provider.plans.model.Plan` from values the rules have checked."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from drs_provider.plans.model import (
    CLEANUP_DEFAULT,
    FAILBACK_CLEANUP_DEFAULT,
    FAILBACK_ORDER_DEFAULT,
    FAILBACK_SYNC_TIMEOUT_DEFAULT,
    NOTIFY_EVENTS,
    LaunchSettings,
    Notify,
    Plan,
    ServerSelector,
    Step,
    Wave,
)
from drs_provider.plans.step_checks import default_step_name
from drs_provider.plans.structure import INVALID
from drs_provider.steps.registry import find_step_kind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.plans.wave_entries import WaveEntry


def _build_step(phase: str, number: int, kind: str, body: Mapping[str, object], wave: str) -> Step:
    # The keys every kind takes (``step_keys``) are resolved here, once; absent ``modes`` is left
    # to the kind's model, whose default it is.
    fields = dict(body)
    fields["name"] = fields.get("name") or default_step_name(phase, number, kind)
    fields["optional"] = bool(fields.get("optional", False))
    if "modes" in fields:
        fields["modes"] = _texts(fields["modes"])
    registered = find_step_kind(kind)
    assert registered is not None, f"step kind {kind!r} passed the rules, so it is registered"
    return registered.model.from_fields(fields, phase=phase, wave=wave)


def _texts(value: object) -> tuple[str, ...]:
    return tuple(str(item) for item in value) if isinstance(value, tuple) else ()


def _tuple(value: object) -> tuple[object, ...]:
    return value if isinstance(value, tuple) else ()


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _build_steps(wave: Mapping[str, object], phase: str, wave_name: str) -> tuple[Step, ...]:
    steps = _tuple(wave.get(phase))
    built = []
    for number, step in enumerate(steps, start=1):
        assert isinstance(step, tuple)
        kind, body = step
        built.append(_build_step(phase, number, str(kind), _mapping(body), wave_name))
    return tuple(built)


def _selector(value: object) -> ServerSelector:
    assert isinstance(value, dict)
    ids = value.get("ids", ())
    tags = value.get("tags", {})
    assert isinstance(ids, tuple) and isinstance(tags, dict)
    return ServerSelector(ids=tuple(str(server) for server in ids), tags=MappingProxyType(dict(tags)))


def build_plan(
    checked: Mapping[str, object],
    waves: Sequence[WaveEntry],
    dependencies: dict[int, tuple[int, ...]],
    source: str,
) -> Plan:
    names = {wave.index: wave.name for wave in waves}
    built = []
    for wave in waves:
        fields = wave.fields
        assert wave.name is not None and all(value is not INVALID for value in fields.values())
        optional = fields.get("optional_servers")
        built.append(
            Wave(
                name=wave.name,
                servers=_selector(fields["servers"]),
                depends_on=tuple(str(names[index]) for index in dependencies[wave.index]),
                optional_servers=_selector(optional) if optional is not None else None,
                poll_interval=_int_or_none(fields.get("poll_interval")),
                timeout=_int_or_none(fields.get("timeout")),
                expect_servers=_int_or_none(fields.get("expect_servers")),
                aws_conn_id=_str_or_none(fields.get("aws_conn_id")),
                region=_str_or_none(fields.get("region")),
                pre=_build_steps(fields, "pre", wave.name),
                post=_build_steps(fields, "post", wave.name),
                launch=_launch(fields.get("launch")),
                launch_per_server=MappingProxyType(
                    {
                        str(server_id): settings
                        for server_id, own in _mapping(fields.get("launch_per_server")).items()
                        if (settings := _launch(own)) is not None
                    }
                ),
            )
        )
    allowed = checked.get("recovery_allowed")
    return Plan(
        name=str(checked["plan"]),
        waves=tuple(built),
        source=source,
        description=_str_or_none(checked.get("description")),
        owner=_str_or_none(checked.get("owner")),
        aws_conn_id=_str_or_none(checked.get("aws_conn_id")),
        region=_str_or_none(checked.get("region")),
        schedule=_str_or_none(checked.get("schedule")),
        max_servers_per_job=_int_or_none(checked.get("max_servers_per_job")),
        priority=_int_or_none(checked.get("priority")) or 0,
        tags=MappingProxyType({str(k): str(v) for k, v in _mapping(checked.get("tags")).items()}),
        after_plans=_texts(checked.get("after_plans")),
        rto_target=_int_or_none(checked.get("rto_target")),
        rpo_target=_int_or_none(checked.get("rpo_target")),
        drill_every=_int_or_none(checked.get("drill_every")),
        cleanup=_str_or_none(checked.get("cleanup")) or CLEANUP_DEFAULT,
        notify=_notify(checked.get("notify")),
        report_s3_uri=_str_or_none(_mapping(checked.get("report")).get("s3_uri")),
        recovery_allowed=_texts(allowed) if isinstance(allowed, tuple) else None,
        failback_order=_str_or_none(checked.get("failback_order")) or FAILBACK_ORDER_DEFAULT,
        failback_cleanup=_str_or_none(checked.get("failback_cleanup")) or FAILBACK_CLEANUP_DEFAULT,
        failback_sync_timeout=_int_or_none(checked.get("failback_sync_timeout"))
        or FAILBACK_SYNC_TIMEOUT_DEFAULT,
        native_plan=checked.get("native_plan") is True,
    )


def _launch(value: object) -> LaunchSettings | None:
    return (
        LaunchSettings(**{str(key): item for key, item in value.items()}) if isinstance(value, dict) else None
    )


def _notify(value: object) -> Notify | None:
    if not isinstance(value, dict):
        return None
    events = value.get("events")
    chosen = set(_texts(events)) if isinstance(events, tuple) else set(NOTIFY_EVENTS)
    # Kept in the order a run meets them, whatever order the plan lists them in.
    return Notify(str(value["sns_topic_arn"]), tuple(event for event in NOTIFY_EVENTS if event in chosen))


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) else None
