"""The DAG each example plan becomes: ids, edges, trigger rules, params, docs (no DRS calls)."""

from __future__ import annotations

import copy
import itertools
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pytest

from drs_provider.constants import RUN_PARAMS
from drs_provider.factory import build_dags
from drs_provider.sensors.drs import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from airflow.sdk import DAG

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE_PLANS = REPO_ROOT / "dags" / "recovery_plans"


@pytest.fixture(scope="module")
def dags() -> dict[str, DAG]:
    return build_dags(EXAMPLE_PLANS)


def edges(dag: DAG) -> set[tuple[str, str]]:
    return {(task.task_id, downstream) for task in dag.tasks for downstream in task.downstream_task_ids}


def wave_edges(*waves: str) -> set[tuple[str, str]]:
    """preflight -> start, start -> wait, for each wave."""
    return {("preflight", f"{w}.start_recovery") for w in waves} | {
        (f"{w}.start_recovery", f"{w}.wait_for_recovery") for w in waves
    }


def test_every_example_plan_becomes_one_dag(dags: dict[str, DAG]) -> None:
    assert set(dags) == {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}


def test_shop_is_three_waves_in_a_chain_with_the_database_steps_around_its_wave(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_shop"]

    assert set(dag.task_ids) == {
        "preflight",
        "database.approve_failover",
        "database.check_database",
        "cleanup",
        "report",
    } | {f"{w}.{t}" for w in ("database", "app", "web") for t in ("start_recovery", "wait_for_recovery")}
    assert edges(dag) == (
        wave_edges("app", "web") | {("database.start_recovery", "database.wait_for_recovery")}
    ) | {
        ("preflight", "database.approve_failover"),
        ("database.approve_failover", "database.start_recovery"),
        ("database.wait_for_recovery", "database.check_database"),
        ("database.check_database", "app.start_recovery"),
        ("app.wait_for_recovery", "web.start_recovery"),
        # the lifecycle teardowns after the last task of every wave
        *{
            (last, teardown)
            for last in ("database.check_database", "app.wait_for_recovery", "web.wait_for_recovery")
            for teardown in ("cleanup", "report")
        },
        ("cleanup", "report"),
    }
    assert set(dag.task_group.children) == {"preflight", "database", "app", "web", "cleanup", "report"}
    assert dag.get_task("cleanup").is_teardown and dag.get_task("report").is_teardown
    # the wave's first task decides whether it runs; what follows it in the wave just follows
    assert dag.get_task("database.approve_failover").trigger_rule == "none_failed"
    assert dag.get_task("database.start_recovery").trigger_rule == "all_success"
    assert dag.get_task("app.start_recovery").trigger_rule == "none_failed"


@pytest.mark.parametrize("plan", ["drs_plan_shop", "drs_plan_portal"])
def test_the_run_state_is_judged_on_the_waves_last_tasks_never_on_cleanup_or_report(
    dags: dict[str, DAG], plan: str
) -> None:
    """The tasks Airflow judges a finished run by: a failed wave fails the run whatever the
    teardowns did, and a failed cleanup or a report S3 would not store does not
    (docs/reference/run-report.md). Marking ``report`` ``on_failure_fail_dagrun`` would leave it the
    only leaf."""
    from collections import namedtuple

    from airflow.models.dagrun import DagRun

    dag = dags[plan]
    ti = namedtuple("ti", "task_id state")
    tis = {ti(task.task_id, "success") for task in dag.tasks}
    wave_ends = {
        task.task_id
        for task in dag.tasks
        if not task.is_teardown and all(dag.get_task(down).is_teardown for down in task.downstream_task_ids)
    }

    judged = {judged_ti.task_id for judged_ti in DagRun._tis_for_dagrun_state(DagRun(), dag=dag, tis=tis)}

    assert judged == wave_ends and {"cleanup", "report"}.isdisjoint(judged)
    assert not dag.get_task("report").on_failure_fail_dagrun


def test_portal_has_parallel_branches_and_an_independent_wave(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_portal"]

    assert edges(dag) == wave_edges("db", "cache", "api", "batch", "web") | {
        ("db.wait_for_recovery", "cache.start_recovery"),
        ("db.wait_for_recovery", "api.start_recovery"),
        ("api.wait_for_recovery", "web.start_recovery"),
        ("cache.wait_for_recovery", "web.start_recovery"),
        # no cleanup key: cleanup (the default, always) then report, after the last task of every wave
        *{
            (f"{w}.wait_for_recovery", teardown)
            for w in ("db", "cache", "api", "batch", "web")
            for teardown in ("cleanup", "report")
        },
        ("cleanup", "report"),
    }
    assert dag.get_task("batch.start_recovery").upstream_task_ids == {"preflight"}
    assert dag.get_task("cleanup").policy == "always"


@pytest.mark.parametrize(
    ("cleanup", "teardowns"),
    [("", ["cleanup", "report"]), ("cleanup: always", ["cleanup", "report"]), ("cleanup: never", ["report"])],
)
def test_a_plan_cleans_up_unless_it_says_never(tmp_path: Path, cleanup: str, teardowns: list[str]) -> None:
    """Drills clean up by default; only ``cleanup: never`` renders no cleanup task at all."""
    write(
        tmp_path,
        "kept.yaml",
        f"""
        plan: kept
        {cleanup}
        waves:
          - name: db
            servers: {{ids: [s-0123456789abcdef0]}}
        """,
    )

    dag = build_dags(tmp_path)["drs_plan_kept"]

    assert [task.task_id for task in dag.tasks if task.is_teardown] == teardowns
    assert all(("db.wait_for_recovery", teardown) in edges(dag) for teardown in teardowns)


def test_dag_settings(dags: dict[str, DAG]) -> None:
    shop, weekly = dags["drs_plan_shop"], dags["drs_plan_shop_weekly_drill"]

    assert shop.max_active_runs > 1  # runs start side by side; the plan lease orders them
    assert shop.catchup is False
    assert {"drs", "shop"} <= set(shop.tags)
    assert shop.owner == "dr-team"
    assert shop.schedule is None
    assert weekly.schedule == "0 3 * * 1"


def test_start_recovery_runs_unless_an_upstream_failed(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_portal"]

    for wave in ("db", "cache", "api", "batch", "web"):
        assert dag.get_task(f"{wave}.start_recovery").trigger_rule == "none_failed"
        assert dag.get_task(f"{wave}.wait_for_recovery").trigger_rule == "all_success"


def test_the_operators_carry_the_plan(dags: dict[str, DAG]) -> None:
    dag = dags["drs_plan_shop"]
    start: Any = dag.get_task("database.start_recovery")
    wait: Any = dag.get_task("web.wait_for_recovery")
    preflight: Any = dag.get_task("preflight")

    assert start.job_tags == {"drs:plan": "shop", "drs:wave": "database"}
    assert start.tags == {"App": "shop", "Role": "db"}
    assert start.wait_for_completion is False and start.deferrable is False
    assert wait.deferrable is True and wait.poke_interval == DEFAULT_POLL_INTERVAL and wait.timeout == 1800
    assert [w["name"] for w in preflight.waves] == ["database", "app", "web"]
    assert preflight.waves[0]["optional_servers"] == {
        "ids": [],
        "tags": {"App": "shop", "Role": "db-replica"},
    }


def test_doc_md_describes_waves_and_dependencies(dags: dict[str, DAG]) -> None:
    doc = dags["drs_plan_portal"].doc_md

    assert "Customer portal with parallel branches" in doc
    assert "| `web` | `api`, `cache` | tags `App=portal`, `Role=web` | - |" in doc
    assert "| `batch` | (starts at once) | ids `s-0b000000000000004` | - |" in doc
    assert "`confirm` = `portal`" in doc
    assert "always drills" in dags["drs_plan_shop_weekly_drill"].doc_md


def resolve(dag: DAG, conf: dict[str, Any]) -> dict[str, Any]:
    """Validate ``conf`` against the DAG's Params, as a trigger does."""
    params = copy.deepcopy(dag.params)
    params.update(conf)
    return params.validate()


def test_params_default_to_a_drill_of_every_wave(dags: dict[str, DAG]) -> None:
    assert resolve(dags["drs_plan_shop"], {}) == {
        "mode": "drill",
        "confirm": None,
        "waves": None,
        "point_in_time": None,
        "keep_instances": False,
        "relaunch_recovered": False,
        "failback_drill": False,
    }


def test_the_params_offer_a_failback_and_its_rehearsal(dags: dict[str, DAG]) -> None:
    params = dags["drs_plan_shop"].params

    assert params.get_param("mode").schema["enum"] == ["drill", "recovery", "failback"]
    assert "failback: bring a recovered plan home" in (params.get_param("mode").description or "")
    assert "mode=recovery or mode=failback" in (params.get_param("confirm").description or "")
    rehearsal = params.get_param("failback_drill")
    assert (rehearsal.value, rehearsal.schema["type"], rehearsal.schema["title"]) == (
        False,
        "boolean",
        "Rehearse the failback",
    )
    assert list(params) == list(RUN_PARAMS)  # what preflight accepts, no more and no less


@pytest.mark.parametrize(
    "conf",
    [
        {"mode": "recovery", "confirm": "shop"},
        {"mode": "failback", "confirm": "shop"},
        {"mode": "failback", "confirm": "shop", "failback_drill": True},
        {"waves": ["web", "database"]},
        {"waves": []},
        {"point_in_time": "2026-05-04T03:00:00Z"},
        {"point_in_time": "2026-05-04T03:00:00.123+02:00"},
        {"point_in_time": "2026-05-04 03:00"},
    ],
)
def test_good_conf_is_accepted(dags: dict[str, DAG], conf: dict[str, Any]) -> None:
    assert resolve(dags["drs_plan_shop"], conf).items() >= conf.items()


@pytest.mark.parametrize(
    "conf",
    [
        {"mode": "Recovery"},
        {"mode": "real"},
        {"waves": ["db"]},
        {"waves": "web"},
        {"waves": ["web", "web"]},
        {"point_in_time": "yesterday"},
        {"point_in_time": "2026-05-04"},
        {"point_in_time": "2026-13-04T03:00:00Z x"},
        {"confirm": 1},
        {"failback_drill": "yes"},
    ],
)
def test_bad_conf_is_rejected_by_param_validation(dags: dict[str, DAG], conf: dict[str, Any]) -> None:
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        resolve(dags["drs_plan_shop"], conf)


def write(directory: Path, name: str, text: str) -> None:
    (directory / name).write_text(textwrap.dedent(text))


def test_a_broken_plan_never_hides_the_others(tmp_path: Path) -> None:
    from drs_provider.exceptions import PlanError
    from drs_provider.factory import raise_for_broken_plans

    for plan in EXAMPLE_PLANS.glob("*.yaml"):
        write(tmp_path, plan.name, plan.read_text())
    write(
        tmp_path,
        "broken.yaml",
        """
        plan: broken
        waves:
          - name: one
            servers: {ids: [s-0a000000000000001]}
          - name: two
            servers: {ids: [s-0a000000000000002]}
            depends_on: [db]
        """,
    )
    write(
        tmp_path,
        "bad_schedule.yaml",
        """
        plan: bad_schedule
        schedule: "0 3 * * 1 2 3 4"
        waves:
          - name: one
            servers: {ids: [s-0a000000000000001]}
        """,
    )

    assert set(build_dags(tmp_path)) == {"drs_plan_shop", "drs_plan_portal", "drs_plan_shop_weekly_drill"}
    with pytest.raises(PlanError) as caught:
        raise_for_broken_plans(tmp_path)
    message = str(caught.value)
    assert f"{tmp_path.name}/broken.yaml: waves[1].depends_on" in message
    assert "'db'" in message
    assert f"{tmp_path.name}/bad_schedule.yaml: schedule" in message


def test_no_broken_plan_no_error() -> None:
    from drs_provider.factory import raise_for_broken_plans

    raise_for_broken_plans(EXAMPLE_PLANS)


def test_connection_region_job_size_and_priority_reach_every_drs_task(tmp_path: Path) -> None:
    write(
        tmp_path,
        "dr_west.yaml",
        """
        plan: dr_west
        aws_conn_id: aws_dr
        region: us-west-2
        max_servers_per_job: 20
        priority: 7
        waves:
          - name: only
            servers: {ids: [s-0a000000000000001]}
        """,
    )

    dag = build_dags(tmp_path)["drs_plan_dr_west"]
    start: Any = dag.get_task("only.start_recovery")
    # Over the account's DRS capacity a wave waits, in turn by the plan's priority.
    assert (start.wait_for_capacity, start.priority) == (True, 7)

    for task in dag.tasks:
        region = task.region_name  # type: ignore[attr-defined]
        if task.task_id == "only.wait_for_recovery":  # the plan's region unless a failback went elsewhere
            region = jinja2.Template(region).render(ti=Pulls(None), params={"mode": "drill"})
        assert (task.aws_conn_id, region) == ("aws_dr", "us-west-2")  # type: ignore[attr-defined]
    assert dag.get_task("only.start_recovery").max_servers_per_job == 20  # type: ignore[attr-defined]
    assert dag.get_task("preflight").max_servers_per_job == 20  # type: ignore[attr-defined]
    assert dag.owner == "airflow"


class Pulls:
    """A task instance whose XCom pulls all find ``value``, and which records them."""

    def __init__(self, value: str | None) -> None:
        self.value = value
        self.pulls: list[dict[str, Any]] = []

    def xcom_pull(self, **kwargs: Any) -> str | None:
        self.pulls.append(kwargs)
        return self.value


@pytest.mark.parametrize(
    ("mode", "pushed", "region", "pulled"),
    [
        ("drill", None, "us-west-2", False),
        ("recovery", None, "us-west-2", False),
        ("failback", "us-east-2", "us-east-2", True),
        ("failback", None, "us-west-2", True),
    ],
)
def test_a_wave_waits_where_a_failback_went_home_and_asks_for_it_in_failbacks_only(
    tmp_path: Path, mode: str, pushed: str | None, region: str, pulled: bool
) -> None:
    # A pull of an XCom no task pushed is logged as an error by the triggerer and the worker that
    # render the sensor: in drills and recoveries, at every wave, before only failbacks pushed it.
    write(
        tmp_path,
        "dr_west.yaml",
        """
        plan: dr_west
        region: us-west-2
        waves:
          - name: only
            servers: {ids: [s-0a000000000000001]}
        """,
    )
    wait: Any = build_dags(tmp_path)["drs_plan_dr_west"].get_task("only.wait_for_recovery")
    ti = Pulls(pushed)

    assert jinja2.Template(wait.region_name).render(ti=ti, params={"mode": mode}) == region
    expected = [{"task_ids": "only.start_recovery", "key": "home_region", "map_indexes": -1}]
    assert ti.pulls == (expected if pulled else [])


def test_recovery_allowed_reaches_preflight_and_the_dag_docs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "guarded.yaml",
        """
        plan: guarded
        recovery_allowed: [alice, "role:op"]
        waves:
          - name: only
            servers: {ids: [s-0a000000000000001]}
        """,
    )

    dag = build_dags(tmp_path)["drs_plan_guarded"]

    assert dag.get_task("preflight").recovery_allowed == ["alice", "role:op"]  # type: ignore[attr-defined]
    assert "Only these may start a recovery (`recovery_allowed`): `alice`, `role:op`" in (dag.doc_md or "")


STEPS_PLAN = """
plan: steps
waves:
  - name: db
    servers: {ids: [s-0a000000000000001]}
    pre:
      - approval: {modes: [recovery]}
      - ssm_command: {document: Shop-Drain, instance_ids: [i-0123456789abcdef0]}
    post:
      - ssm_command: {name: check, document: AWS-RunShellScript, parameters: {commands: [pg_isready]}}
      - ssm_automation: {document: Shop-Failover, parameters: {Region: [us-west-2]}, timeout: 900}
      - lambda: {function: dr-switch-dns, payload: {record: db}, optional: true}
      - wait: 30
  - name: app
    servers: {ids: [s-0a000000000000003]}
    post:
      - wait: {name: settle, seconds: 5}
  - name: web
    depends_on: [app]
    servers: {ids: [s-0a000000000000005]}
"""


def test_a_waves_poll_interval_reaches_its_sensor_and_its_trigger(tmp_path: Path) -> None:
    write(
        tmp_path,
        "slow.yaml",
        """
        plan: slow
        waves:
          - name: only
            servers: {ids: [s-0a000000000000001]}
            poll_interval: 7
            timeout: 70
        """,
    )
    wait: Any = build_dags(tmp_path)["drs_plan_slow"].get_task("only.wait_for_recovery")

    assert (wait.poke_interval, wait.timeout) == (7, 70)
    assert wait.start_trigger_args.trigger_kwargs["waiter_delay"] == 7
    assert wait.start_trigger_args.trigger_kwargs["waiter_max_attempts"] == 10


def test_steps_become_tasks_in_order_around_the_wave(tmp_path: Path) -> None:
    from drs_provider.operators.runbook import (
        DrsWaveApprovalOperator,
        DrsWaveLambdaOperator,
        DrsWaveSsmAutomationOperator,
        DrsWaveSsmCommandOperator,
        DrsWaveWaitOperator,
    )

    (tmp_path / "steps.yaml").write_text(STEPS_PLAN)
    dag = build_dags(tmp_path)["drs_plan_steps"]

    chain = [
        "db.pre_1_approval",
        "db.pre_2_ssm_command",
        "db.start_recovery",
        "db.wait_for_recovery",
        "db.check",
        "db.post_2_ssm_automation",
        "db.post_3_lambda",
        "db.post_4_wait",
    ]
    assert set(itertools.pairwise(chain)) <= edges(dag)
    # the last task of a wave precedes the first task of the next; preflight the first of each
    assert ("db.post_4_wait", "app.start_recovery") in edges(dag)
    assert ("app.settle", "web.start_recovery") in edges(dag)
    assert dag.get_task("db.pre_1_approval").upstream_task_ids == {"preflight"}
    assert dag.get_task("db.start_recovery").upstream_task_ids == {"db.pre_2_ssm_command"}

    kinds = {task: type(dag.get_task(task)) for task in chain if "recovery" not in task}
    assert kinds == {
        "db.pre_1_approval": DrsWaveApprovalOperator,
        "db.pre_2_ssm_command": DrsWaveSsmCommandOperator,
        "db.check": DrsWaveSsmCommandOperator,
        "db.post_2_ssm_automation": DrsWaveSsmAutomationOperator,
        "db.post_3_lambda": DrsWaveLambdaOperator,
        "db.post_4_wait": DrsWaveWaitOperator,
    }
    first = dag.get_task("db.pre_1_approval")
    assert isinstance(first, DrsWaveApprovalOperator)
    assert (first.first_in_wave, first.trigger_rule, first.modes) == (True, "none_failed", ("recovery",))
    assert first.response_timeout.total_seconds() == 3600 and first.fail_on_reject is True
    drain = dag.get_task("db.pre_2_ssm_command")
    assert isinstance(drain, DrsWaveSsmCommandOperator)
    assert drain.instance_ids == ["i-0123456789abcdef0"] and drain.first_in_wave is False
    check = dag.get_task("db.check")
    assert isinstance(check, DrsWaveSsmCommandOperator)
    assert check.run_command_kwargs == {"TimeoutSeconds": 600, "Parameters": {"commands": ["pg_isready"]}}
    assert check.instance_ids == [] and check.phase == "post"
    automation = dag.get_task("db.post_2_ssm_automation")
    assert isinstance(automation, DrsWaveSsmAutomationOperator)
    assert automation.deferrable and automation.parameters == {"Region": ("us-west-2",)}
    notify = dag.get_task("db.post_3_lambda")
    assert isinstance(notify, DrsWaveLambdaOperator)
    assert notify.optional and notify.input_payload == {"record": "db"}
    # A step with side effects never runs twice on its own; a wait may start over.
    for task in (
        "db.pre_1_approval",
        "db.pre_2_ssm_command",
        "db.check",
        "db.post_2_ssm_automation",
        "db.post_3_lambda",
    ):
        assert dag.get_task(task).retries == 0, task


def test_preflight_gets_every_step_to_check(tmp_path: Path) -> None:
    (tmp_path / "steps.yaml").write_text(STEPS_PLAN)
    preflight = build_dags(tmp_path)["drs_plan_steps"].get_task("preflight")

    steps = {step["name"]: step for wave in preflight.waves for step in wave["steps"]}  # type: ignore[attr-defined]
    assert steps["post_3_lambda"] == {
        "phase": "post",
        "kind": "lambda",
        "optional": True,
        "modes": ["drill", "recovery", "failback"],
        "name": "post_3_lambda",
        "function": "dr-switch-dns",
        "payload": {"record": "db"},
    }
    assert steps["check"]["document"] == "AWS-RunShellScript"
    assert steps["post_2_ssm_automation"]["kind"] == "ssm_automation"
    assert steps["pre_1_approval"]["modes"] == ["recovery"]


def test_each_step_task_gets_the_modes_it_runs_in(tmp_path: Path) -> None:
    write(
        tmp_path,
        "home.yaml",
        """
        plan: home
        waves:
          - name: db
            servers: {ids: [s-0a000000000000001]}
            pre:
              - approval: {message: Go?}
            post:
              - wait: {seconds: 5, modes: [failback]}
              - ssm_automation: {document: Shop-Failover}
        """,
    )
    dag = build_dags(tmp_path)["drs_plan_home"]

    steps: list[Any] = [
        dag.get_task(f"db.{name}") for name in ("pre_1_approval", "post_1_wait", "post_2_ssm_automation")
    ]
    assert {step.task_id.removeprefix("db."): step.modes for step in steps} == {
        "pre_1_approval": ("drill", "recovery"),
        "post_1_wait": ("failback",),
        "post_2_ssm_automation": ("drill", "recovery", "failback"),
    }


def test_every_step_operator_is_known_to_the_report_by_its_kind(tmp_path: Path) -> None:
    from drs_provider.recovery.run_record import step_kind
    from drs_provider.steps import step_kinds

    (tmp_path / "steps.yaml").write_text(STEPS_PLAN)
    dag = build_dags(tmp_path)["drs_plan_steps"]
    rendered = {
        type(task).__name__: task.task_id
        for task in dag.tasks
        if task.task_id.startswith("db.") and "recovery" not in task.task_id
    }

    # a step name that is no default name: the kind can only come from the operator
    kinds = {step_kind("db.named", name) for name in rendered}
    assert kinds == {kind.name for kind in step_kinds()}


@pytest.mark.parametrize("start_from_trigger", [False, True])
def test_each_wave_sensor_waits_on_its_own_start_either_way(start_from_trigger: bool) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    dag = build_dags(EXAMPLE_PLANS, start_from_trigger=start_from_trigger)["drs_plan_portal"]
    # The scheduler sees the serialised DAG: the flag and the trigger's arguments must survive it.
    served = DagSerialization.from_dict(DagSerialization.to_dict(dag))

    for wave in ("db", "cache", "api", "batch", "web"):
        wait = served.get_task(f"{wave}.wait_for_recovery")
        assert wait.upstream_task_ids == {f"{wave}.start_recovery"}
        assert wait.start_from_trigger is start_from_trigger
        assert (wait.start_trigger_args is not None) is start_from_trigger


def test_a_sensor_started_from_the_trigger_pulls_its_own_wave_s_xcoms_by_template() -> None:
    from airflow.serialization.serialized_objects import BaseSerialization, DagSerialization

    dag = build_dags(EXAMPLE_PLANS, start_from_trigger=True)["drs_plan_shop"]
    wait = DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("app.wait_for_recovery")

    args = wait.start_trigger_args
    assert args.trigger_cls == "drs_provider.triggers.drs.DrsJobCompleteTrigger"
    assert args.next_method == "execute_complete"
    kwargs = BaseSerialization.deserialize(args.trigger_kwargs)
    # Templates, since the trigger gets unrendered arguments; only template fields get rendered.
    for field, key in (
        ("job_ids", "return_value"),
        ("optional_source_server_ids", "optional_source_server_ids"),
    ):
        assert field in wait.template_fields
        assert kwargs[field] == (
            f"{{{{ ti.xcom_pull(task_ids='app.start_recovery', key='{key}', map_indexes=-1) or [] }}}}"
        )


@pytest.mark.parametrize(
    ("pulled", "expected"),
    [
        (
            ["drsjob-0a000000000000001", "drsjob-0a000000000000002"],
            ["drsjob-0a000000000000001", "drsjob-0a000000000000002"],
        ),
        ([], []),
        (None, []),  # without "or []" this would render "None", read as one job ID
    ],
)
def test_the_pull_templates_render_to_what_the_trigger_reads(pulled: Any, expected: list[str]) -> None:
    from airflow.sdk.definitions._internal.templater import SandboxedEnvironment

    from drs_provider.template_values import as_str_list

    class FakeTi:
        def xcom_pull(self, **kwargs: Any) -> Any:
            assert kwargs["map_indexes"] == -1  # else the pull hangs in the triggerer
            return pulled

    wait = build_dags(EXAMPLE_PLANS, start_from_trigger=True)["drs_plan_shop"].get_task(
        "web.wait_for_recovery"
    )
    for field in ("job_ids", "optional_source_server_ids"):
        template = wait.start_trigger_args.trigger_kwargs[field]
        rendered = SandboxedEnvironment().from_string(template).render(ti=FakeTi())
        assert as_str_list(rendered, field=field) == expected


def test_the_trigger_form_requires_nothing_for_a_drill(dags: dict[str, DAG]) -> None:
    """The UI's trigger form keeps Trigger disabled while a Param without "null" in its type is
    empty; every Param a drill leaves empty must therefore allow null."""
    for dag_id, dag in dags.items():
        for name, param in dag.params.items():
            schema = dag.params.get_param(name).schema
            if param in (None, ""):
                assert "null" in schema["type"], f"{dag_id}: param {name!r} would be required in the form"
    assert resolve(dags["drs_plan_shop"], {"mode": "recovery"})["confirm"] is None


def test_a_worker_running_one_task_renders_only_that_tasks_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow names the DAG a worker parses for (its parsing context); every other plan would
    cost the task seconds that grow with the number of plans."""
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "drs_plan_portal")
    assert list(build_dags(EXAMPLE_PLANS)) == ["drs_plan_portal"]
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID")
    assert sorted(build_dags(EXAMPLE_PLANS)) == [
        "drs_plan_portal",
        "drs_plan_shop",
        "drs_plan_shop_weekly_drill",
    ]


REVERSE_PLAN = """
plan: homeward
failback_order: reverse
waves:
  - name: db
    servers: {ids: [s-0123456789abcdef0]}
  - name: app
    servers: {ids: [s-0123456789abcdef1]}
    post:
      - wait: {name: settle, seconds: 60}
  - name: web
    depends_on: [app]
    servers: {ids: [s-0123456789abcdef2]}
"""


def test_a_plan_failing_back_in_reverse_holds_its_waves_again_edges_reversed(tmp_path: Path) -> None:
    from drs_provider.recovery.wave_shapes import dag_waves, run_waves

    write(tmp_path, "homeward.yaml", REVERSE_PLAN)

    dag = build_dags(tmp_path)["drs_plan_homeward"]

    back = "failback-reverse"
    # the plan's order: db -> app -> web; the reversed failback's: web -> app -> db
    assert {
        ("db.wait_for_recovery", "app.start_recovery"),
        ("app.settle", "web.start_recovery"),
        (f"{back}.web.wait_for_recovery", f"{back}.app.start_recovery"),
        (f"{back}.app.settle", f"{back}.db.start_recovery"),
    } <= edges(dag)
    assert not {
        (f"{back}.db.wait_for_recovery", f"{back}.app.start_recovery"),
        (f"{back}.app.settle", f"{back}.web.start_recovery"),
    } & edges(dag)
    # preflight -> wave-order -> the first task of every wave of both paths
    assert dag.get_task("wave-order").upstream_task_ids == {"preflight"}
    assert dag.get_task("wave-order").downstream_task_ids == {
        f"{prefix}{wave}.start_recovery" for prefix in ("", f"{back}.") for wave in ("db", "app", "web")
    }
    # the teardowns come after the last task of every wave of both paths
    ends = {"web.wait_for_recovery", f"{back}.db.wait_for_recovery"}
    assert dag.get_task("report").upstream_task_ids >= ends
    # the waves a run goes through: the plan's order, or the reversed for a failback
    assert [shape.name for shape in dag_waves(dag)] == ["db", "app", "web"]
    reversed_waves = run_waves(dag, "failback")
    assert [(shape.name, shape.depends_on) for shape in reversed_waves] == [
        ("web", ()),
        ("app", ("web",)),
        ("db", ("app",)),
    ]
    app = reversed_waves[1]
    assert (app.start_task, app.step_task_ids) == (f"{back}.app.start_recovery", (f"{back}.app.settle",))
    assert app.step_name(f"{back}.app.settle") == "settle"
    assert run_waves(dag, "drill") == dag_waves(dag)


def test_reversing_a_plan_without_edges_between_waves_changes_nothing(tmp_path: Path) -> None:
    write(
        tmp_path,
        "apart.yaml",
        """
        plan: apart
        failback_order: reverse
        waves:
          - name: db
            servers: {ids: [s-0123456789abcdef0]}
          - name: app
            depends_on: []
            servers: {ids: [s-0123456789abcdef1]}
        """,
    )

    dag = build_dags(tmp_path)["drs_plan_apart"]

    assert set(dag.task_group.children) == {"preflight", "db", "app", "cleanup", "report"}
