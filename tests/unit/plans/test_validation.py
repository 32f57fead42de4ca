"""Every plan rule, broken once: the loader names the file, the field path and the problem."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.plans import Plan, load_plan_file
from drs_provider.plans.model import LAUNCH_SETTING_NAMES, LaunchSettings
from drs_provider.plans.wave_rules import LAUNCH
from tests.unit.plans.cases import CASES, Case, change
from tests.unit.plans.samples import DB_ID, SHOP_YAML, valid_plan, write

if TYPE_CHECKING:
    from pathlib import Path


def source_text(case: Case) -> str:
    if isinstance(case.source, str):
        return case.source
    plan = valid_plan()
    case.source(plan)
    return yaml.safe_dump(plan, sort_keys=False)


def issues_of(path: Path) -> tuple[PlanIssue, ...]:
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    return caught.value.issues


def test_the_valid_samples_load(tmp_path: Path) -> None:
    from_text = load_plan_file(write(tmp_path / "a.yaml", SHOP_YAML))
    from_data = load_plan_file(write(tmp_path / "b.yaml", valid_plan()))
    assert from_text.name == "shop"
    assert from_text.waves == from_data.waves


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_rule_is_reported_at_its_path(case: Case, tmp_path: Path) -> None:
    file = write(tmp_path / "plan.yaml", source_text(case))

    issues = issues_of(file)

    matching = [issue for issue in issues if issue.path == case.path and case.fragment in issue.message]
    assert matching, f"expected {case.path}: ...{case.fragment}... in:\n" + "\n".join(map(str, issues))
    assert all(issue.file == str(file) for issue in issues)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_broken_example_has_only_the_problem_it_was_given(case: Case, tmp_path: Path) -> None:
    """A single mistake gives a single message: no cascades that bury the real one."""
    issues = issues_of(write(tmp_path / "plan.yaml", source_text(case)))
    assert len(issues) == 1, "\n".join(map(str, issues))


def test_messages_carry_the_line(tmp_path: Path) -> None:
    text = SHOP_YAML.replace("timeout: 3600", "timeout: 5")
    (issue,) = issues_of(write(tmp_path / "shop.yaml", text))
    assert str(issue) == (
        f"{tmp_path / 'shop.yaml'}: waves[0].timeout: must be between 60 and 86400 seconds, got 5 (line 25)"
    )


def test_every_problem_in_a_file_is_reported_in_line_order(tmp_path: Path) -> None:
    text = """\
plan: Shop
region: no
max_servers_per_job: true
waves:
  - name: app
    depend_on: [web]
    servers: {ids: [s-123], tags: {aws:x: y}}
  - name: web
    depends_on: [app, db]
    servers: {}
    timeout: 10
  - name: db
    name: db2
    servers: {ids: [s-0123456789abcdef0]}
  - name: x
    depends_on: [y]
    servers: {ids: [s-0123456789abcdef0]}
  - name: y
    depends_on: [x]
    servers: {tags: {a: b}}
"""
    issues = issues_of(write(tmp_path / "plan.yaml", text))

    assert [issue.path for issue in issues] == [
        "plan",
        "region",
        "max_servers_per_job",
        "waves[0].depend_on",
        "waves[0].servers.ids[0]",
        "waves[0].servers.tags['aws:x']",
        "waves[1].depends_on",  # web -> db -> web: db omits depends_on, so it follows web
        "waves[1].servers",
        "waves[1].timeout",
        "waves[2].name",
        "waves[3].depends_on",
        "waves[3].servers.ids[0]",
    ]
    assert "dependency cycle: web -> db -> web" in issues[6].message
    assert "dependency cycle: x -> y -> x" in issues[10].message
    assert "already in wave 'db'" in issues[11].message


def test_a_plan_holds_resolved_dependencies_and_checked_values(tmp_path: Path) -> None:
    plan = load_plan_file(write(tmp_path / "shop.yaml", SHOP_YAML))

    assert [(wave.name, wave.depends_on) for wave in plan.waves] == [
        ("database", ()),
        ("app", ("database",)),
        ("reports", ()),
        ("web", ("app", "reports")),
    ]
    database = plan.wave("database")
    assert database.servers.ids == (DB_ID,)
    assert dict(database.servers.tags) == {"Role": "db"}
    assert database.optional_servers is not None
    assert dict(database.optional_servers.tags) == {"Role": "db-replica"}
    assert (database.poll_interval, database.timeout) == (30, 3600)
    assert plan.wave("app").optional_servers is None
    assert (database.expect_servers, plan.wave("app").expect_servers) == (None, 2)
    assert (plan.rto_target, plan.rpo_target, plan.drill_every) == (1800, 900, 30 * 86400)
    assert (plan.region, plan.schedule, plan.max_servers_per_job) == ("us-east-1", "0 3 * * 1", 100)
    assert (plan.owner, plan.aws_conn_id, plan.description) == ("dr-team", "aws_default", "Web shop, 3 tiers")
    assert plan.source == str(tmp_path / "shop.yaml")
    assert plan.dag_id == "drs_plan_shop"
    assert hash(plan) == hash(load_plan_file(tmp_path / "shop.yaml"))  # usable as a key or in a set


def test_optional_keys_may_be_left_out(tmp_path: Path) -> None:
    minimal = "plan: tiny\nwaves:\n  - name: only\n    servers: {tags: {App: tiny}}\n"
    plan = load_plan_file(write(tmp_path / "tiny.yaml", minimal))
    assert plan.waves[0].depends_on == ()
    assert (plan.region, plan.schedule, plan.aws_conn_id, plan.max_servers_per_job) == (None,) * 4
    assert (plan.rpo_target, plan.drill_every, plan.waves[0].expect_servers) == (None,) * 3


def test_recovery_allowed_keeps_users_and_roles_in_order(tmp_path: Path) -> None:
    plan = valid_plan()
    plan["recovery_allowed"] = ["alice", "role:op", "dr-lead@example.com"]

    loaded = load_plan_file(write(tmp_path / "shop.yaml", plan))

    assert loaded.recovery_allowed == ("alice", "role:op", "dr-lead@example.com")
    assert loaded.to_dict()["recovery_allowed"] == ["alice", "role:op", "dr-lead@example.com"]
    assert load_plan_file(write(tmp_path / "tiny.yaml", valid_plan())).recovery_allowed is None


@pytest.mark.parametrize(
    ("key", "seconds"),
    [("rpo_target", 1), ("rpo_target", 604800), ("drill_every", 86400), ("drill_every", 31622400)],
)
def test_readiness_targets_take_their_whole_range(key: str, seconds: int, tmp_path: Path) -> None:
    plan = valid_plan()
    plan[key] = seconds

    loaded = load_plan_file(write(tmp_path / "shop.yaml", plan))

    assert getattr(loaded, key) == seconds
    assert loaded.to_dict()[key] == seconds


def test_failback_keys_default_to_plan_order_keep_and_a_day(tmp_path: Path) -> None:
    minimal = "plan: tiny\nwaves:\n  - name: only\n    servers: {tags: {App: tiny}}\n"

    plan = load_plan_file(write(tmp_path / "tiny.yaml", minimal))

    assert (plan.failback_order, plan.failback_cleanup, plan.failback_sync_timeout) == ("plan", "keep", 86400)
    assert not {"failback_order", "failback_cleanup", "failback_sync_timeout"} & set(plan.to_dict())


def test_failback_keys_load_and_write_back(tmp_path: Path) -> None:
    loaded = load_plan_file(write(tmp_path / "shop.yaml", valid_plan()))

    assert (loaded.failback_order, loaded.failback_cleanup, loaded.failback_sync_timeout) == (
        "reverse",
        "terminate",
        7200,
    )
    written = loaded.to_dict()
    assert (written["failback_order"], written["failback_cleanup"], written["failback_sync_timeout"]) == (
        "reverse",
        "terminate",
        7200,
    )
    assert load_plan_file(write(tmp_path / "again.yaml", written)).to_dict() == written


def test_native_plan_is_off_unless_true_and_written_back_only_when_on(tmp_path: Path) -> None:
    minimal = "plan: tiny\nwaves:\n  - name: only\n    servers: {tags: {App: tiny}}\n"
    off = load_plan_file(write(tmp_path / "tiny.yaml", minimal))
    mirrored = minimal.replace("plan: tiny\n", "plan: tiny\nnative_plan: true\n")
    on = load_plan_file(write(tmp_path / "mirrored.yaml", mirrored))

    assert (off.native_plan, on.native_plan) == (False, True)
    assert "native_plan" not in off.to_dict()
    assert on.to_dict()["native_plan"] is True
    assert load_plan_file(write(tmp_path / "again.yaml", on.to_dict())).native_plan is True


@pytest.mark.parametrize("seconds", [60, 604800])
def test_failback_sync_timeout_takes_its_whole_range(seconds: int, tmp_path: Path) -> None:
    plan = valid_plan()
    plan["failback_sync_timeout"] = seconds

    assert load_plan_file(write(tmp_path / "shop.yaml", plan)).failback_sync_timeout == seconds


STEP_MODES_PLAN = """\
plan: home
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef0]}
    pre:
      - approval: {message: Go?}
      - approval: {name: welcome_home, message: Back home?, modes: [failback]}
    post:
      - ssm_command: {document: AWS-RunShellScript, parameters: {commands: [uptime]}}
      - lambda: {function: dns-home, modes: [failback, recovery]}
      - wait: {seconds: 5, modes: [drill, recovery]}
"""


def test_a_step_runs_in_its_kinds_default_modes_unless_it_names_its_own(tmp_path: Path) -> None:
    db = load_plan_file(write(tmp_path / "home.yaml", STEP_MODES_PLAN)).wave("db")

    assert [step.modes for _, step in db.steps] == [
        ("drill", "recovery"),  # an approval's documented default
        ("failback",),
        ("drill", "recovery", "failback"),  # every other kind: every mode
        ("failback", "recovery"),  # as listed
        ("drill", "recovery"),
    ]


def test_step_modes_are_written_back_only_when_not_the_kinds_default(tmp_path: Path) -> None:
    plan = load_plan_file(write(tmp_path / "home.yaml", STEP_MODES_PLAN))

    written = plan.to_dict()
    wave: Any = written_waves(plan)[0]
    bodies = [body for phase in ("pre", "post") for step in wave[phase] for body in step.values()]
    assert [body.get("modes") for body in bodies] == [
        None,
        ["failback"],
        None,
        ["failback", "recovery"],
        ["drill", "recovery"],
    ]
    assert load_plan_file(write(tmp_path / "again.yaml", written)).waves == plan.waves


@pytest.mark.parametrize("count", [1, 2, 5000])
def test_expect_servers_counts_a_tag_selector_also_beside_ids(count: int, tmp_path: Path) -> None:
    plan = valid_plan()
    plan["waves"][0]["expect_servers"] = count  # the database wave selects by ids and tags

    loaded = load_plan_file(write(tmp_path / "shop.yaml", plan))

    assert loaded.wave("database").expect_servers == count
    assert [wave.get("expect_servers") for wave in written_waves(loaded)] == [count, 2, None, None]


def written_waves(plan: Plan) -> list[dict[str, object]]:
    waves = plan.to_dict()["waves"]
    assert isinstance(waves, list)
    return waves


@pytest.mark.parametrize(
    "schedule",
    ["@weekly", "@daily", "@once", "0 3 * * 1", "*/15 2-4 1,15 JAN-MAR MON#2", "0 0 L * ?", "30 4 * * sun"],
)
def test_accepted_schedules(schedule: str, tmp_path: Path) -> None:
    plan = valid_plan()
    change((("schedule",), schedule))(plan)
    assert load_plan_file(write(tmp_path / "p.yaml", plan)).schedule == schedule


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    text = """\
plan: anchors
waves:
  - name: one
    servers: {tags: {<<: &shop {App: shop}, Role: db}}
    <<: &timing {timeout: 600, poll_interval: 10}
  - name: two
    <<: *timing
    poll_interval: 15
    servers: {tags: {<<: *shop, Role: web}}
"""
    plan = load_plan_file(write(tmp_path / "a.yaml", text))
    two = plan.wave("two")
    assert dict(two.servers.tags) == {"App": "shop", "Role": "web"}
    assert (two.timeout, two.poll_interval) == (600, 15)  # the wave's own key wins over the merge


def test_integral_floats_count_as_integers(tmp_path: Path) -> None:
    """JSON Schema's integer type accepts 3600.0; the loader agrees and stores an int."""
    plan = valid_plan()
    change((("waves", 0, "timeout"), 3600.0))(plan)
    timeout = load_plan_file(write(tmp_path / "p.yaml", plan)).waves[0].timeout
    assert timeout == 3600 and isinstance(timeout, int)


def test_only_the_first_unknown_waves_get_a_suggestion(tmp_path: Path) -> None:
    # A fuzzy match per reference against every wave: a hostile plan of hundreds of waves with
    # hundreds of near misses would spend seconds on suggestions alone.
    waves = [{"name": f"wave_{n:03}", "servers": {"ids": [DB_ID]}} for n in range(8)]
    waves.append(
        {"name": "last", "servers": {"ids": [DB_ID]}, "depends_on": [f"wave_{n:03}x" for n in range(8)]}
    )
    issues = issues_of(write(tmp_path / "near_misses.yaml", {"plan": "near_misses", "waves": waves}))

    messages = [issue.message for issue in issues if "unknown wave" in issue.message]
    assert len(messages) == 8
    assert all("did you mean" in message for message in messages[:5])
    assert not any("did you mean" in message for message in messages[5:])
    assert "waves in this plan: wave_000" in messages[5]


def test_a_server_s_launch_settings_override_the_wave_s_one_by_one(tmp_path: Path) -> None:
    plan = load_plan_file(write(tmp_path / "shop.yaml", SHOP_YAML))
    web = plan.wave("web")
    spare = "s-2123456789abcdef2"

    assert plan.declares_launch and web.declares_launch and not plan.wave("app").declares_launch
    assert web.launch_for("s-9123456789abcdef9") == web.launch
    assert web.launch_for(spare) == LaunchSettings(
        instance_type="c5.large",
        subnet_id="subnet-0123abcd",
        security_group_ids=("sg-0123456789abcdef0",),
        private_ip="10.0.3.10",
        copy_private_ip=False,
        copy_tags=True,
        launch_disposition="STARTED",
        right_sizing="NONE",
        os_byol=True,
    )
    assert plan.wave("app").launch_for(spare) is None
    assert plan.to_dict()["waves"][3]["launch_per_server"] == {  # type: ignore[index]
        spare: {
            "subnet_id": "subnet-0123abcd",
            "private_ip": "10.0.3.10",
            "copy_private_ip": False,
            "copy_tags": True,
            "os_byol": True,
        }
    }


def test_the_launch_rule_lists_every_launch_setting() -> None:
    assert LAUNCH.names == LAUNCH_SETTING_NAMES
