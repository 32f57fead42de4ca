"""A plan mirrored into DRS native recovery plans: order, impact levels, WAIT steps, splitting, and
what the description says the native plan cannot do."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest

from drs_provider.constants import (
    MAX_SERVERS_PER_RECOVERY_PLAN,
    MAX_STEPS_PER_RECOVERY_PLAN,
    RECOVERY_PLAN_DESCRIPTION_LENGTH,
)
from drs_provider.plans import Plan, ServerSelector, Wave
from drs_provider.recovery.native_plan import (
    CRITICAL,
    OPTIONAL,
    NativePlan,
    Target,
    WaveServers,
    kept_steps,
    native_plans,
    wait_minutes,
)
from drs_provider.steps.approval import ApprovalStep
from drs_provider.steps.lambda_function import LambdaStep
from drs_provider.steps.ssm_automation import SsmAutomationStep
from drs_provider.steps.ssm_command import SsmCommandStep
from drs_provider.steps.wait import WaitStep

if TYPE_CHECKING:
    from drs_provider.plans.model import Step

SOME = ServerSelector(tags=MappingProxyType({"App": "x"}))


def wave(
    name: str,
    *depends_on: str,
    pre: tuple[Step, ...] = (),
    post: tuple[Step, ...] = (),
    region: str | None = None,
) -> Wave:
    return Wave(name=name, servers=SOME, depends_on=depends_on, pre=pre, post=post, region=region)


def plan_of(*waves: Wave, cleanup: str = "never") -> Plan:
    return Plan(name="shop", waves=waves, source="shop.yaml", cleanup=cleanup, region="us-east-1")


def ids(prefix: str, count: int) -> dict[str, str]:
    """``count`` servers: ID -> ARN."""
    servers = {}
    for number in range(count):
        server_id = f"s-{prefix}{number:016d}"
        servers[server_id] = f"arn:aws:drs:us-east-1:123456789012:source-server/{server_id}"
    return servers


def resolved(**waves: int) -> dict[str, WaveServers]:
    return {name: WaveServers(required=ids(name[0], count)) for name, count in waves.items()}


def layout(native: NativePlan) -> list[tuple[str, str, int]]:
    """Each step as (kind, name, servers or minutes)."""
    return [
        (step.kind, step.name, step.wait_minutes if step.wait_minutes is not None else len(step.servers))
        for step in native.steps
    ]


def test_waves_become_server_steps_in_dependency_order_with_the_drs_step_shapes() -> None:
    plan = plan_of(wave("web", "app"), wave("db"), wave("app", "db"))
    [native] = native_plans(plan, resolved(db=2, app=1, web=1))
    assert [step.name for step in native.steps] == ["db", "app", "web"]
    assert native.name == "shop"
    assert native.target == Target(None, "us-east-1")
    assert dict(native.tags) == {"drs:plan": "shop", "drs:part": "1/1"}
    first = native.step_requests()[0]
    assert first["stepName"] == "db" and first["stepOrder"] == 1
    assert first["configuration"] == {
        "serverStepConfiguration": {
            "servers": [{"serverArn": arn, "impactLevel": CRITICAL} for arn in ids("d", 2).values()]
        }
    }
    assert native.limitations == ()
    assert native.description == "Mirror of drs-plan shop."


def test_required_servers_are_critical_and_optional_ones_optional_once_each() -> None:
    plan = plan_of(wave("db"), wave("app", "db"))
    both = "s-d0000000000000000"
    servers = {
        "db": WaveServers(required=ids("d", 1), optional={both: "arn-both", **ids("r", 1)}),
        "app": WaveServers(required={both: "arn-both", **ids("a", 1)}),
    }
    [native] = native_plans(plan, servers)
    db, app = native.steps
    assert [(server.server_id, server.impact_level) for server in db.servers] == [
        (both, CRITICAL),
        ("s-r0000000000000000", OPTIONAL),
    ]
    # A native plan holds a server once: the later wave leaves it out, and says so.
    assert [server.server_id for server in app.servers] == ["s-a0000000000000000"]
    assert any(both in note and "app" in note for note in native.limitations)


@pytest.mark.parametrize(
    ("seconds", "minutes", "capped"),
    [
        (1, 1, False),
        (60, 1, False),
        (61, 2, False),
        (7200, 120, False),
        (7201, 120, True),
        (86400, 120, True),
    ],
)
def test_wait_seconds_round_up_to_minutes_within_1_to_120(seconds: int, minutes: int, capped: bool) -> None:
    assert wait_minutes(seconds) == (minutes, capped)


def test_wait_steps_become_wait_steps_around_their_wave_and_a_long_one_is_shortened() -> None:
    plan = plan_of(
        wave("db", post=(WaitStep(name="settle", seconds=90),)),
        wave("app", "db", pre=(WaitStep(name="breathe", seconds=86400),)),
    )
    [native] = native_plans(plan, resolved(db=1, app=1))
    assert layout(native) == [
        ("SERVER", "db", 1),
        ("WAIT", "db-settle", 2),
        ("WAIT", "app-breathe", 120),
        ("SERVER", "app", 1),
    ]
    assert native.step_requests()[1]["configuration"] == {"waitStepConfiguration": {"waitDurationMinutes": 2}}
    assert "wait app.breathe of 86400 s shortened to 120 min" in native.limitations


def test_a_leading_wait_is_dropped_and_said() -> None:
    plan = plan_of(wave("db", pre=(WaitStep(name="first", seconds=60),)))
    [native] = native_plans(plan, resolved(db=1))
    assert layout(native) == [("SERVER", "db", 1)]
    assert any("db-first dropped" in note for note in native.limitations)
    assert "db-first dropped" in native.description


def test_a_wait_in_failback_only_is_left_out_and_one_in_drills_only_is_said() -> None:
    plan = plan_of(
        wave(
            "db",
            post=(
                WaitStep(name="home", seconds=60, modes=("failback",)),
                WaitStep(name="drill", seconds=60, modes=("drill",)),
            ),
        )
    )
    [native] = native_plans(plan, resolved(db=1))
    assert layout(native) == [("SERVER", "db", 1), ("WAIT", "db-drill", 1)]
    assert any("db.drill runs in drill only" in note for note in native.limitations)


def test_a_wave_over_100_servers_is_several_server_steps_in_several_parts() -> None:
    plan = plan_of(wave("big"))
    natives = native_plans(plan, resolved(big=250))
    assert [native.name for native in natives] == ["shop-1", "shop-2", "shop-3"]
    assert [layout(native) for native in natives] == [
        [("SERVER", "big-1", 100)],
        [("SERVER", "big-2", 100)],
        [("SERVER", "big-3", 50)],
    ]
    assert [dict(native.tags)["drs:part"] for native in natives] == ["1/3", "2/3", "3/3"]
    assert all(dict(native.tags)["drs:plan"] == "shop" for native in natives)
    assert "part 1 of 3 (then run shop-2)" in natives[0].description
    assert all(native.server_count <= MAX_SERVERS_PER_RECOVERY_PLAN for native in natives)


def test_a_plan_over_100_servers_splits_between_whole_waves() -> None:
    plan = plan_of(wave("db"), wave("app", "db"), wave("web", "app"))
    natives = native_plans(plan, resolved(db=40, app=50, web=20))
    assert [[step.name for step in native.steps] for native in natives] == [["db", "app"], ["web"]]
    assert [native.server_count for native in natives] == [90, 20]


def test_a_plan_over_20_steps_splits_and_no_part_starts_with_a_wait() -> None:
    waves = [wave("w00", post=(WaitStep(name="pause", seconds=60),))]
    waves += [
        wave(f"w{number:02d}", f"w{number - 1:02d}", post=(WaitStep(name="pause", seconds=60),))
        for number in range(1, 12)
    ]
    natives = native_plans(
        plan_of(*waves), {item.name: WaveServers(required=ids(item.name[1:], 1)) for item in waves}
    )
    assert [len(native.steps) for native in natives] == [MAX_STEPS_PER_RECOVERY_PLAN, 4]
    assert all(native.steps[0].kind == "SERVER" for native in natives)
    # The wave's wait stays with it: part 2 starts with the next wave's servers.
    assert [step.name for step in natives[1].steps] == ["w10", "w10-pause", "w11", "w11-pause"]


def test_waves_of_another_region_are_a_native_plan_of_their_own() -> None:
    plan = plan_of(wave("db"), wave("app", "db", region="us-west-2"), wave("web", "app"))
    natives = native_plans(plan, resolved(db=1, app=1, web=1))
    assert [(native.target.region, [step.name for step in native.steps]) for native in natives] == [
        ("us-east-1", ["db", "web"]),
        ("us-west-2", ["app"]),
    ]
    assert "order across accounts or regions (web after app)" in natives[0].limitations
    assert "order across accounts or regions (app after db)" in natives[1].limitations


def test_a_region_without_servers_has_no_native_plan() -> None:
    plan = plan_of(wave("db"), wave("app", "db", region="us-west-2"))
    natives = native_plans(plan, resolved(db=1))
    assert [native.target.region for native in natives] == ["us-east-1"]


def test_the_description_lists_what_the_native_plan_cannot_do() -> None:
    plan = plan_of(
        wave(
            "db",
            pre=(ApprovalStep(name="go", message="Go?"),),
            post=(
                SsmCommandStep(name="check", document="AWS-RunShellScript"),
                SsmAutomationStep(name="dns", document="Flip-DNS"),
            ),
        ),
        wave("app", post=(LambdaStep(name="notify", function="tell"),)),
        wave("web", "db"),
        cleanup="always",
    )
    [native] = native_plans(plan, resolved(db=1, app=1, web=1))
    assert native.limitations == (
        "approvals (db.go)",
        "SSM commands (db.check)",
        "SSM automations (db.dns)",
        "Lambda steps (app.notify)",
        "drill cleanup (cleanup: always; terminate drill instances yourself)",
        "parallel waves, run one after another here (db and app; app and web)",
    )
    assert native.description.startswith("Mirror of drs-plan shop. Not as in the plan: approvals (db.go); ")


def test_a_long_description_is_cut_to_what_drs_takes() -> None:
    approvals = tuple(ApprovalStep(name=f"approval_{number:03d}", message="Go?") for number in range(100))
    [native] = native_plans(plan_of(wave("db", pre=approvals)), resolved(db=1))
    assert len(native.description) == RECOVERY_PLAN_DESCRIPTION_LENGTH
    assert native.description.endswith("…")


def test_each_region_lists_its_own_waves_steps_and_failback_only_steps_are_no_limitation() -> None:
    plan = plan_of(
        wave("db", pre=(ApprovalStep(name="go", message="Go?"),)),
        wave(
            "app",
            "db",
            region="us-west-2",
            post=(
                LambdaStep(name="notify", function="tell"),
                SsmCommandStep(name="home", document="AWS-RunShellScript", modes=("failback",)),
            ),
        ),
    )
    east, west = native_plans(plan, resolved(db=1, app=1))
    assert east.limitations == ("approvals (db.go)",)
    assert west.limitations == (
        "Lambda steps (app.notify)",
        "order across accounts or regions (app after db)",
    )


def test_kept_steps_is_the_run_from_the_first_step_that_drs_holds_as_wanted() -> None:
    plan = plan_of(wave("db", post=(WaitStep(name="settle", seconds=60),)), wave("app", "db"))
    [native] = native_plans(plan, resolved(db=1, app=1))
    current = [
        {
            "stepName": request["stepName"],
            "stepOrder": request["stepOrder"],
            "configuration": request["configuration"],
        }
        for request in native.step_requests()
    ]
    assert kept_steps(current, native) == 3
    assert kept_steps([], native) == 0
    # DRS may leave out impactLevel, CRITICAL by default: the same step.
    [arn] = ids("d", 1).values()
    bare = {"serverStepConfiguration": {"servers": [{"serverArn": arn}]}}
    assert kept_steps([{**current[0], "configuration": bare}, *current[1:]], native) == 3
    waited = {"waitStepConfiguration": {"waitDurationMinutes": 5}}
    assert kept_steps([current[0], {**current[1], "configuration": waited}, current[2]], native) == 1
    assert kept_steps([current[0], {**current[2], "stepName": "renamed"}], native) == 1
    assert kept_steps([*current, current[0]], native) == 3
