"""Hostile plan files on real Airflow processes (issue 8).

The shared stack of each set-up (``backend``) has in its plans folder, beside every other
module's plans, the repository's example plans, the thirty hostile files of
``tests/fixtures/hostile_plans.py`` (a valid 10,000-wave chain, alias bombs, symbolic link
loops, a FIFO, a file claiming another plan's name, ...) and one plan of this module. Its
subfolder ``own_kinds/`` is read by two DAG files of this module that register a step kind of
their own first (``tests/e2e/own_step_kind.py``): a plan that uses it validates, then fails while
its DAG is rendered; another plan there renders. Everything is read through the REST API v2 and
the simulator's call log.

1. Every valid plan's DAG is loaded and live, ``drs_recovery_plans.py`` has no import error,
   and the import error of ``drs_recovery_plan_errors.py`` names every hostile file with its
   problem.
2. A plan that fails while rendering (not while parsing) is an import error naming its file and
   the error, recorded by the dag-processor; the other plans' DAGs stay live (issue 18).
3. A file claiming a valid plan's name takes nothing over: neither file becomes a DAG.
4. A verdict is not retried: a recovery without ``confirm`` fails in ``preflight``, first try.

A Celery worker lost while it starts a job is in ``test_process_kills.py``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import pytest
from tools.airflow_stack import REPO_ROOT
from tools.processes import wait_until
from tools.rest_client import RestApiError

from tests.e2e.harness import Deployment, Scenario
from tests.fixtures.hostile_plans import CONTESTED_PLAN, HOSTILE_FILES, write_hostile_plans

if TYPE_CHECKING:
    from tools.rest_client import RestClient


pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

SPEED = 10.0
RUN_TIMEOUT = 300.0
EXAMPLES = REPO_ROOT / "dags" / "recovery_plans"
EXAMPLE_DAG_IDS = {f"drs_plan_{path.stem}" for path in EXAMPLES.glob("*.y*ml")}
GUARDED = "e2e_hostile_guarded"
#: The plans subfolder of this module's DAG files with a step kind of their own.
OWN_KINDS = "own_kinds"
OWN_KIND_DAG_FILES = {
    name: (Path(__file__).parent / "dags" / name).read_text()
    for name in ("own_kind_plans.py", "own_kind_plan_errors.py")
}
#: A plan there that renders: it stays live beside the one that does not.
RENDERED = "e2e_hostile_own_kinds_rendered"
#: A plan there whose ``shell`` step validates, and whose DAG the factory refuses to render.
UNRENDERED = "e2e_hostile_unrendered"
UNRENDERED_PLAN = f"""\
plan: {UNRENDERED}
description: A shell step (a kind of this deployment's own) after the wave
waves:
  - name: db
    servers: {{ids: [s-e2h00000000000003]}}
    post:
      - shell: {{name: smoke_test, command: "curl -fsS http://db.internal/health"}}
"""


def server(number: int, hostname: str, launch_seconds: float) -> dict[str, Any]:
    return {"id": f"s-e2h{number:014d}", "hostname": hostname, "launch_seconds": launch_seconds}


FLEET_SERVERS = [server(3, "guarded-db", 20)]

PLANS: dict[str, dict[str, Any]] = {
    GUARDED: {
        "plan": GUARDED,
        "description": f"A recovery needs confirm={GUARDED}",
        "waves": [{"name": "db", "servers": {"ids": [FLEET_SERVERS[0]["id"]]}, "poll_interval": 1}],
    },
}
#: The hostile files written into the shared plans folder: file name -> the fragment its error names.
HOSTILE: dict[str, str] = {}


def write_hostile_and_example_plans(plans_dir: Path) -> None:
    HOSTILE.update(write_hostile_plans(plans_dir))
    for example in EXAMPLES.glob("*.y*ml"):
        shutil.copy(example, plans_dir / example.name)
    (plans_dir / OWN_KINDS).mkdir()
    (plans_dir / OWN_KINDS / f"{UNRENDERED}.yaml").write_text(UNRENDERED_PLAN)


@dataclass
class HostileDeployment(Deployment):
    #: plan -> run id, triggered when the stack starts
    runs: dict[str, str] = field(default_factory=dict)


def start_runs(deployment: HostileDeployment) -> None:
    deployment.runs[GUARDED] = deployment.rest.trigger(f"drs_plan_{GUARDED}", {"mode": "recovery"})


SCENARIO = Scenario(
    "hostile",
    lane="b",
    plans=PLANS,
    fleet=FLEET_SERVERS,
    speed=SPEED,
    plan_folders={
        OWN_KINDS: {
            RENDERED: {
                "plan": RENDERED,
                "waves": [{"name": "db", "servers": {"ids": [FLEET_SERVERS[0]["id"]]}}],
            }
        }
    },
    dag_files=OWN_KIND_DAG_FILES,
    write_files=write_hostile_and_example_plans,
    extra_dag_ids=sorted(EXAMPLE_DAG_IDS),
    deployment_class=HostileDeployment,
    start=start_runs,
)


def plan_errors(rest: RestClient, dag_file: str = "drs_recovery_plan_errors.py") -> str:
    """The import error of ``dag_file``, once the dag-processor has recorded it."""

    def recorded() -> str | None:
        for error in rest.import_errors():
            if PurePath(error["filename"]).name == dag_file:
                return str(error["stack_trace"])
        return None

    return wait_until(f"the plan errors of {dag_file} to be recorded", recorded, timeout=120)


# -- the scenarios ---------------------------------------------------------------------------------


def test_hostile_files_hide_no_plan_and_each_is_named(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    text = plan_errors(rest)

    dags = {dag["dag_id"]: dag for dag in rest.dags()}
    live = {dag_id for dag_id, dag in dags.items() if not dag["is_stale"] and not dag["has_import_errors"]}
    assert EXAMPLE_DAG_IDS | {f"drs_plan_{name}" for name in PLANS} <= live, dags
    # drs_recovery_plans.py itself never fails: that would hide every plan (and neither does this
    # module's own_kind_plans.py; its own_kind_plan_errors.py reports own_kinds/)
    assert sorted(PurePath(error["filename"]).name for error in rest.import_errors()) == [
        "drs_recovery_plan_errors.py",
        "own_kind_plan_errors.py",
    ]
    lines = text.splitlines()
    unnamed = {
        name: fragment
        for name, fragment in HOSTILE.items()
        if not any(f"recovery_plans/{name}: " in line and fragment in line for line in lines)
    }
    assert unnamed == {}, text[-3000:]
    assert len(HOSTILE_FILES) == 30


def test_a_plan_that_fails_to_render_is_an_import_error_naming_its_file(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    text = plan_errors(rest, "own_kind_plan_errors.py")

    # The dag-processor recorded it against the errors file of its folder, naming the plan file
    # and why the factory would not render it; the plan's DAG does not exist.
    [line] = [line for line in text.splitlines() if f"{UNRENDERED}.yaml" in line]
    assert line == (
        f"drs_provider.exceptions.PlanError: {OWN_KINDS}/{UNRENDERED}.yaml: could not be rendered as a DAG: "
        "TypeError: step operator airflow.providers.standard.operators.bash:BashOperator templates "
        "bash_command, env, cwd: plan text is never a template; put "
        "drs_provider.operators.plan_task.PlanTextMixin before its operator class"
    ), text[-3000:]
    assert RENDERED not in text
    with pytest.raises(RestApiError) as missing:
        rest.dag(f"drs_plan_{UNRENDERED}")
    assert missing.value.status == 404
    # The plan beside it, read by the same DAG files, and the shared folder's plans stay live.
    dags = {dag["dag_id"]: dag for dag in rest.dags()}
    for dag_id in (f"drs_plan_{RENDERED}", f"drs_plan_{GUARDED}", *EXAMPLE_DAG_IDS):
        assert (dags[dag_id]["is_stale"], dags[dag_id]["has_import_errors"]) == (False, False), dag_id
    # ...and the repository's own errors file does not name it: its folder is not the shared one.
    assert UNRENDERED not in plan_errors(rest)


def test_a_file_claiming_a_valid_plans_name_takes_nothing_over(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    text = plan_errors(rest)

    with pytest.raises(RestApiError) as missing:
        rest.dag(f"drs_plan_{CONTESTED_PLAN}")
    assert missing.value.status == 404
    for file, other in (
        (f"{CONTESTED_PLAN}.yaml", "aaa_hijack.yaml"),
        ("aaa_hijack.yaml", f"{CONTESTED_PLAN}.yaml"),
    ):
        assert (
            f"recovery_plans/{file}: plan: plan name '{CONTESTED_PLAN}' is also claimed by "
            f"recovery_plans/{other}: no DAG drs_plan_{CONTESTED_PLAN} is built until only one file claims it"
        ) in text


def test_a_verdict_is_not_retried(airflow: HostileDeployment) -> None:
    rest = airflow.rest
    dag_id = f"drs_plan_{GUARDED}"
    run_id = airflow.runs[GUARDED]

    assert rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT) == "failed"
    # Only the tries that ran count: on a loaded machine Airflow may fail a try whose process never
    # started (no start date) and queue the next; that is Airflow's, not a retry of the verdict.
    tries = rest.task_tries(dag_id, run_id, "preflight")
    assert [attempt["state"] for attempt in tries if attempt["start_date"]] == ["failed"], tries
    assert tries[-1]["state"] == "failed", tries
    assert [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if _tags(call).get("airflow:dag_id") == dag_id
    ] == []


def _tags(call: dict[str, Any]) -> dict[str, str]:
    request = call.get("request")
    return (request.get("tags") or {}) if isinstance(request, dict) else {}
