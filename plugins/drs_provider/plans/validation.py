"""Turn a parsed plan document into a :class:`~drs_provider.plans.model.Plan`, or every problem.

First the structure rules (:mod:`.structure`), then the rules that look at several values at
once: unique wave names, ``depends_on`` naming real waves, no dependency cycles, no source
server in two places, ``expect_servers`` only where tags select the servers, and launch settings
that DRS can honour together. Every problem
is collected; a plan is built only when there are none, so a :class:`Plan` always holds checked
values.

Every check is linear in the size of the file, except the comparison of tag selectors with each
other, which the caps of :mod:`.rules` bound. A broken cap, or too many problems, ends the
checks of the file (:class:`~.structure.StopChecking`).
"""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.plans.graph import dependency_cycles
from drs_provider.plans.model import (
    CLEANUP_DEFAULT,
    NOTIFY_EVENTS,
    PHASES,
    RIGHT_SIZING_OFF,
    LaunchSettings,
    Notify,
    Plan,
    ServerSelector,
    Step,
    Wave,
)
from drs_provider.plans.rules import PLAN
from drs_provider.plans.structure import INVALID, MAX_PROBLEMS, Checker, StopChecking
from drs_provider.plans.yaml_source import UNREADABLE, format_path
from drs_provider.steps.registry import find_step_kind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from drs_provider.plans.yaml_source import Document, FieldPath


@dataclass(frozen=True)
class _WaveEntry:
    """A wave as far as it could be checked; ``index`` is its place in ``waves``."""

    index: int
    name: str | None
    fields: Mapping[str, object]

    @property
    def path(self) -> FieldPath:
        return ("waves", self.index)


def validate_document(document: Document, *, file: str, source: str) -> Plan:
    """Return the plan in ``document``, or raise :class:`PlanError` with every problem.

    :param file: the file name shown in messages (``recovery_plans/shop.yaml``)
    :param source: the file's absolute path, kept as :attr:`Plan.source`
    """
    checker = Checker(document.source, reported={problem.path for problem in document.problems})
    try:
        plan = _check(checker, document, source)
    except StopChecking:
        plan = None
    if plan is None:
        raise PlanError(_issues(checker, document, file))
    return plan


def _check(checker: Checker, document: Document, source: str) -> Plan | None:
    for problem in document.problems:
        checker.report(problem.path, problem.message, problem.line)
    data = document.value
    if data is None and not document.problems:
        checker.report((), "the file is empty; a plan needs at least 'plan' and 'waves'")
    elif data is not None and data is not UNREADABLE and not isinstance(data, dict):
        checker.report((), f"the top level must be a mapping with 'plan' and 'waves', not {_kind(data)}")
    elif isinstance(data, dict):
        checked = checker.check(PLAN, data, ())
        assert isinstance(checked, dict)
        waves = _wave_entries(checked, data)
        _check_wave_names(checker, waves)
        dependencies = _resolve_dependencies(checker, waves)
        _check_cycles(checker, waves, dependencies)
        _check_servers_once(checker, waves)
        _check_tag_overlaps(checker, waves)
        _check_steps(checker, waves)
        _check_expected_servers(checker, waves)
        _check_launch(checker, waves)
        if not checker.problems:
            return _build_plan(checked, waves, dependencies, source)
    return None


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a single value ({type(value).__name__})"


def _issues(checker: Checker, document: Document, file: str) -> list[PlanIssue]:
    located: list[tuple[int, int, PlanIssue]] = []
    for order, problem in enumerate(checker.problems):
        line = problem.line or document.source.line_of(problem.path)
        message = problem.message
        if line and not message.startswith("YAML syntax error"):
            message = f"{message} (line {line})"
        located.append((line or 0, order, PlanIssue(file, format_path(problem.path), message)))
    located.sort(key=lambda item: (item[0], item[1]))
    issues = [issue for _, _, issue in located]
    if checker.stopped_at_max_problems:
        issues.append(
            PlanIssue(file, "", f"{MAX_PROBLEMS} problems found, checking stopped: fix these first")
        )
    return issues


def _wave_entries(checked: Mapping[str, object], raw: Mapping[object, object]) -> list[_WaveEntry]:
    raw_waves = raw.get("waves")
    checked_waves = checked.get("waves")
    if not isinstance(raw_waves, list) or not isinstance(checked_waves, tuple):
        return []
    entries = []
    for index, (raw_wave, fields) in enumerate(zip(raw_waves, checked_waves, strict=True)):
        # A name that broke the name rule still identifies the wave, so references to it
        # are not reported a second time as unknown waves.
        name = raw_wave.get("name") if isinstance(raw_wave, dict) else None
        entries.append(
            _WaveEntry(
                index,
                name if isinstance(name, str) else None,
                fields if isinstance(fields, dict) else {},
            )
        )
    return entries


def _check_wave_names(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    first: dict[str, _WaveEntry] = {}
    for wave in waves:
        if wave.name is None:
            continue
        if wave.name in first:
            where = format_path(first[wave.name].path)
            checker.report((*wave.path, "name"), f"wave name {wave.name!r} is already used by {where}")
        else:
            first[wave.name] = wave


def _resolve_dependencies(checker: Checker, waves: Sequence[_WaveEntry]) -> dict[int, tuple[int, ...]]:
    """Map each wave's index to the indexes of the waves it depends on (omitted = the one before)."""
    index_of: dict[str, int] = {}
    repeated: set[int] = set()
    for wave in waves:
        if wave.name is None:
            continue
        if wave.name in index_of:
            repeated.add(wave.index)
        else:
            index_of[wave.name] = wave.index
    # While a wave has no readable name a reference may mean it: its own problem is reported,
    # and references are checked once it is fixed, instead of burying it under echoes.
    every_wave_named = all(wave.name is not None for wave in waves)
    suggestions_left = _SUGGESTED_WAVES
    dependencies: dict[int, tuple[int, ...]] = {}
    for wave in waves:
        if "depends_on" not in wave.fields:
            dependencies[wave.index] = (wave.index - 1,) if wave.index > 0 else ()
            continue
        names = wave.fields["depends_on"]
        if not isinstance(names, tuple):
            continue
        upstream: list[int] = []
        for name in names:
            if not isinstance(name, str):
                continue
            path = (*wave.path, "depends_on")
            if name == wave.name:
                if wave.index not in repeated:  # a repeated name may mean the other wave
                    checker.report(path, f"wave {name!r} cannot depend on itself")
            elif name not in index_of:
                if every_wave_named:
                    checker.report(
                        path, _unknown_wave_message(name, list(index_of), suggest=suggestions_left > 0)
                    )
                    suggestions_left -= 1
            else:
                upstream.append(index_of[name])
        dependencies[wave.index] = tuple(upstream)
    return dependencies


#: Wave names listed in an "unknown wave" message before the rest is summed up.
_LISTED_WAVES = 10
#: Unknown wave references of a plan that get a "did you mean": each costs a fuzzy match
#: against every wave, which for a hostile plan of hundreds of waves adds up.
_SUGGESTED_WAVES = 5


def _unknown_wave_message(name: str, known: list[str], *, suggest: bool = True) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) if suggest else None
    if close:
        return f"unknown wave {name!r} (did you mean {close[0]!r}?)"
    listed = ", ".join(known[:_LISTED_WAVES]) if known else "none"
    if len(known) > _LISTED_WAVES:
        listed += f" and {len(known) - _LISTED_WAVES} more"
    return f"unknown wave {name!r} (waves in this plan: {listed})"


def _check_cycles(
    checker: Checker, waves: Sequence[_WaveEntry], dependencies: dict[int, tuple[int, ...]]
) -> None:
    names = {wave.index: wave.name or format_path(wave.path) for wave in waves}
    implicit = {wave.index for wave in waves if "depends_on" not in wave.fields and wave.index > 0}
    for cycle in dependency_cycles(dependencies, sorted(dependencies)):
        chain = " -> ".join(names[index] for index in (*cycle, cycle[0]))
        notes = [
            f"{names[index]!r} depends on {names[index - 1]!r} because it omits depends_on"
            for index in cycle
            if index in implicit
        ]
        message = f"dependency cycle: {chain}"
        if notes:
            message += f" ({'; '.join(notes)})"
        checker.report(("waves", cycle[0], "depends_on"), message)


def _check_servers_once(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    first: dict[str, tuple[FieldPath, _WaveEntry]] = {}
    for wave in waves:
        for selector_key in ("servers", "optional_servers"):
            selector = wave.fields.get(selector_key)
            ids = selector.get("ids") if isinstance(selector, dict) else None
            if not isinstance(ids, tuple):
                continue
            for position, server in enumerate(ids):
                if not isinstance(server, str):
                    continue
                path: FieldPath = (*wave.path, selector_key, "ids", position)
                if server not in first:
                    first[server] = (path, wave)
                    continue
                earlier_path, earlier_wave = first[server]
                if earlier_wave is wave:
                    message = (
                        f"server {server} is already at {format_path(earlier_path)}; "
                        "a server is either required or optional"
                    )
                else:
                    owner = repr(earlier_wave.name) if earlier_wave.name else format_path(earlier_wave.path)
                    message = (
                        f"server {server} is already in wave {owner} ({format_path(earlier_path)}); "
                        "a server can be recovered by one wave only"
                    )
                checker.report(path, message)


@dataclass(frozen=True)
class _TagSelector:
    path: FieldPath
    wave: _WaveEntry
    tags: Mapping[str, str]
    items: frozenset[tuple[str, str]]


def _check_tag_overlaps(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    """Two tag selectors where one's tags include all of the other's pick the same servers.

    Tags are matched when a run starts, but this much is certain from the file alone: every
    server the narrower selector picks, the broader one picks too. Each selector is reported
    once, against the first earlier selector it overlaps.

    Comparing every pair would grow with the square of the selectors. Instead each selector is
    anchored at its rarest tag in the plan: a selector can only include another if it holds the
    other's anchor, and can only be included in selectors holding its own anchor, so only those
    few are compared.
    """
    selectors = [
        _TagSelector((*wave.path, key, "tags"), wave, tags, frozenset(tags.items()))
        for wave in waves
        for key in ("servers", "optional_servers")
        if isinstance(selector := wave.fields.get(key), dict)
        and isinstance(tags := selector.get("tags"), dict)
        and tags
    ]
    frequency = Counter(item for selector in selectors for item in selector.items)
    anchors = [min(selector.items, key=lambda item: (frequency[item], item)) for selector in selectors]
    holding: dict[tuple[str, str], list[int]] = defaultdict(list)  # earlier selectors with a tag
    anchored: dict[tuple[str, str], list[int]] = defaultdict(list)  # earlier selectors anchored there
    for index, selector in enumerate(selectors):
        candidates = set(holding[anchors[index]])
        for item in selector.items:
            candidates.update(anchored[item])
        for other in sorted(candidates):
            if _reported_overlap(checker, selector, selectors[other]):
                break
        for item in selector.items:
            holding[item].append(index)
        anchored[anchors[index]].append(index)


def _reported_overlap(checker: Checker, selector: _TagSelector, other: _TagSelector) -> bool:
    """Report ``selector`` if its tags include all of ``other``'s or the reverse; say whether."""
    if other.items <= selector.items:
        relation = "every server these tags select is also selected by"
    elif selector.items <= other.items:
        relation = "these tags also select every server selected by"
    else:
        return False
    if other.wave is selector.wave:
        why = "in this wave; a server is either required or optional"
    else:
        owner = repr(other.wave.name) if other.wave.name else format_path(other.wave.path)
        why = f"in wave {owner}; a server can be recovered by one wave only"
    shown = ", ".join(f"{key}={value}" for key, value in other.tags.items())
    checker.report(selector.path, f"{relation} {format_path(other.path)} ({shown}) {why}")
    return True


def _check_expected_servers(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    """``expect_servers`` counts what ``servers.tags`` select, so a wave using it needs those tags."""
    for wave in waves:
        servers = wave.fields.get("servers")
        if "expect_servers" not in wave.fields or not isinstance(servers, dict):
            continue
        tags, ids = servers.get("tags"), servers.get("ids")
        # Only a selector that is valid by its IDs alone: any other has its own problem to fix first.
        if tags is INVALID or tags or not isinstance(ids, tuple) or not ids:
            continue
        owner = repr(wave.name) if wave.name else format_path(wave.path)
        checker.report(
            (*wave.path, "expect_servers"),
            f"expect_servers counts the servers that servers.tags select, and wave {owner} has no "
            "tags under servers: add tags or remove expect_servers",
        )


def _check_launch(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    """Launch settings DRS can honour together, each server's under its own wave.

    A private IP is one server's, and not beside ``copy_private_ip: true`` (DRS then writes the
    source server's address into the launch template); an instance type needs right-sizing off
    (DRS overwrites the template's otherwise); a server's own settings belong to the wave that
    recovers it, and no two servers get one address.
    """
    listed: dict[str, tuple[_WaveEntry, FieldPath]] = {}
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


def default_step_name(phase: str, number: int, kind: str) -> str:
    """``post_1_ssm_command``: a step's name when the plan gives none (n counts from 1 per phase)."""
    return f"{phase}_{number}_{kind}"


def _step_entries(wave: _WaveEntry) -> list[tuple[FieldPath, str, str, Mapping[str, object]]]:
    """``(path, phase, resolved name, checked body)`` of every readable step of a wave."""
    entries: list[tuple[FieldPath, str, str, Mapping[str, object]]] = []
    for phase in PHASES:
        steps = wave.fields.get(phase)
        if not isinstance(steps, tuple):
            continue
        for index, step in enumerate(steps):
            if not isinstance(step, tuple):
                continue
            kind, body = step
            if not isinstance(body, dict):
                continue
            name = body.get("name")
            resolved = name if isinstance(name, str) else default_step_name(phase, index + 1, str(kind))
            entries.append(((*wave.path, phase, index, str(kind)), phase, resolved, body))
    return entries


def _check_steps(checker: Checker, waves: Sequence[_WaveEntry]) -> None:
    """Step names are unique in their wave (pre and post share the wave's task group), and each
    step passes its kind's own checks across keys (an SSM command knows where it runs)."""
    for wave in waves:
        first: dict[str, FieldPath] = {}
        for path, phase, name, body in _step_entries(wave):
            if name in first:
                given = "name" in body
                where = (*path, "name") if given else path
                what = f"step name {name!r}" if given else f"the default name {name!r} of this step"
                checker.report(where, f"{what} is already used by {format_path(first[name])} in this wave")
            else:
                first[name] = path
            kind = find_step_kind(str(path[-1]))
            if kind is not None and kind.checks is not None:
                for problem in kind.checks(phase, body):
                    checker.report(path, problem)


def _build_step(phase: str, number: int, kind: str, body: Mapping[str, object], wave: str) -> Step:
    fields = dict(body)
    fields["name"] = fields.get("name") or default_step_name(phase, number, kind)
    fields["optional"] = bool(fields.get("optional", False))
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


def _build_plan(
    checked: Mapping[str, object],
    waves: Sequence[_WaveEntry],
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
