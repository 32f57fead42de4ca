"""The Recovery view (issue 11) on a real Airflow: its pages over HTTP, and in a real browser.

The shared stack of each set-up (``backend``) runs the plans of this module at once: a
drill that succeeds (two waves), a drill that fails (a fleet server with ``fail_launch``, a wave
downstream of it and an independent wave), a recovery without ``confirm`` (preflight fails), and
a plan with an approval in its wave (``tests/e2e/dags/drs_view_approval.py``, its text Markdown
with a ``<script>`` in it). Three plans naming ``recovery_allowed`` get a confirmed recovery each,
triggered through the REST API by a user of their own: one it does not list (refused in
preflight, before any DRS call), one it lists by name and one holding a role it lists (both
recover). A drill with ``cleanup: never`` has its instance terminated by the browser
from its page (asked, confirmed). A plan with a ``schedule`` stays paused (new DAGs start
paused here), for the plans page's warning. The view's pages are then read as Airflow users:

* ``admin`` (every DAG), with a bearer token from ``POST /auth/token`` and, in the browser,
  with the UI's own login;
* ``outsider``, a viewer who may read only the succeeding plan's DAG, and users who may read some
  DAGs but not their runs, runs but not their task instances, a run but not answer its
  approval (:data:`USERS`, :data:`DAG_SCOPES`). The simple auth manager cannot grant single DAGs
  or parts of them, so the shared stacks run it with one check narrowed per DAG and DAG entity
  (``tests/e2e/dag_scoped_auth.py``): the REST API and the view both ask the same auth manager.

Every expected value (hostnames, EC2 instances, errors) comes from the REST API (the wave
sensors' XComs) or from the fleet, never from the view itself.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import jwt
import pytest
import requests
from tools.processes import wait_until
from tools.rest_client import RestClient

from drs_provider.ui.addresses import URL_PREFIX as PREFIX
from drs_provider.ui.addresses import run_page_path, terminate_path
from tests.e2e.browser import screenshot
from tests.e2e.dags.drs_view_approval import BODY as APPROVAL_BODY
from tests.e2e.dags.drs_view_approval import SUBJECT as APPROVAL_SUBJECT
from tests.e2e.harness import WAITING_FOR_AN_ANSWER, Deployment, Scenario

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SPEED = 10.0
RUN_TIMEOUT = 240.0
FAILED_LAUNCH_ERROR = "Disk /dev/xvdb could not be attached"
CONSOLE_URLS = re.compile(r"^https://[a-z0-9-]+\.console\.aws\.amazon\.com/")


def server(number: int, hostname: str, launch_seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"s-view{number:013d}",
        "hostname": hostname,
        "tags": {"Suite": "view"},
        "launch_seconds": launch_seconds,
        **extra,
    }


FLEET_SERVERS = [
    server(1, "view-db-1", 30),
    server(2, "view-db-2", 40),
    server(3, "view-app-1", 20),
    server(11, "view-fail-db", 30, fail_launch=FAILED_LAUNCH_ERROR),
    server(12, "view-fail-app", 20),
    server(13, "view-fail-reports", 30),
    server(21, "view-guarded-db", 20),
    server(31, "view-approval-db", 20),
    server(41, "view-form-db", 20),
    server(51, "view-refused-db", 20),
    server(52, "view-allowed-db", 20),
    server(53, "view-allowed-role-db", 20),
    server(54, "view-kept-db", 20),
]
SERVER_IDS = {entry["hostname"]: entry["id"] for entry in FLEET_SERVERS}


def wave(name: str, hostnames: list[str], depends_on: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "servers": {"ids": [SERVER_IDS[hostname] for hostname in hostnames]},
        "depends_on": depends_on,
        "poll_interval": 1,
    }


PLANS: dict[str, dict[str, Any]] = {
    "view_ok": {
        "plan": "view_ok",
        "description": "Two waves that recover",
        "waves": [wave("db", ["view-db-1", "view-db-2"], []), wave("app", ["view-app-1"], ["db"])],
    },
    "view_fail": {
        "plan": "view_fail",
        "description": "A database that cannot launch, and an independent wave",
        "waves": [
            wave("db", ["view-fail-db"], []),
            wave("app", ["view-fail-app"], ["db"]),
            wave("reports", ["view-fail-reports"], []),
        ],
    },
    "view_guarded": {
        "plan": "view_guarded",
        "description": "Run as a recovery without confirm: preflight stops it",
        "waves": [wave("db", ["view-guarded-db"], [])],
    },
    "view_kept": {
        "plan": "view_kept",
        "description": "A drill that keeps its instance, terminated afterwards from its Recovery page",
        "cleanup": "never",
        "waves": [wave("db", ["view-kept-db"], [])],
    },
    "view_form": {
        "plan": "view_form",
        "description": "Started from the Airflow UI's trigger form, as a drill and as a recovery",
        "waves": [wave("db", ["view-form-db"], [])],
    },
}
#: Who may recover the ``view_allowed*`` plans: one user by name, and every user of role ``op``.
RECOVERY_ALLOWED = ["dr_lead", "role:op"]
for name, hostname in (
    ("view_refused", "view-refused-db"),
    ("view_allowed", "view-allowed-db"),
    ("view_allowed_role", "view-allowed-role-db"),
):
    PLANS[name] = {
        "plan": name,
        "description": "Recovered only by the users recovery_allowed lists",
        "recovery_allowed": RECOVERY_ALLOWED,
        "waves": [wave("db", [hostname], [])],
    }
PLANS["view_weekly"] = {
    "plan": "view_weekly",
    "description": "A weekly drill whose DAG stays paused (new DAGs start paused here)",
    "schedule": "0 3 * * 1",
    "waves": [wave("db", ["view-db-1"], [])],
}
OK_DAG, FAIL_DAG, APPROVAL_DAG = "drs_plan_view_ok", "drs_plan_view_fail", "drs_plan_view_approval"
GUARDED_DAG, FORM_DAG = "drs_plan_view_guarded", "drs_plan_view_form"
REFUSED_DAG, ALLOWED_DAG, ALLOWED_ROLE_DAG = (
    "drs_plan_view_refused",
    "drs_plan_view_allowed",
    "drs_plan_view_allowed_role",
)
WEEKLY_DAG = "drs_plan_view_weekly"
#: Recoveries triggered through the REST API by a user of their own: DAG -> who triggers it.
RECOVERIES_BY = {REFUSED_DAG: "intruder", ALLOWED_DAG: "dr_lead", ALLOWED_ROLE_DAG: "on_call"}
KEPT_DAG = "drs_plan_view_kept"
#: What each run of the module is triggered with.
RUN_CONF = {
    OK_DAG: {"mode": "drill"},
    FAIL_DAG: {"mode": "drill"},
    APPROVAL_DAG: {"mode": "drill"},
    GUARDED_DAG: {"mode": "recovery"},
    KEPT_DAG: {"mode": "drill"},
}
#: The role decides the method (a ``viewer`` only reads, a ``user`` may also answer approvals),
#: the scope what a user may read: whole DAGs, or ``<dag_id>/<ENTITY>`` (``tests/e2e/dag_scoped_auth.py``).
USERS = {
    "outsider": "viewer",
    "plans_only": "viewer",
    "run_lister": "viewer",
    "run_reader": "viewer",
    "approver": "user",
    "no_hitl": "user",
    # may trigger every DAG; recovery_allowed decides who may recover the view_allowed* plans
    "intruder": "user",
    "dr_lead": "user",
    "on_call": "op",
}
RUN_READ = ("RUN", "TASK_INSTANCE", "XCOM")
DAG_SCOPES = {
    "outsider": [OK_DAG],  # only the succeeding plan's DAG
    "plans_only": [f"{OK_DAG}/DAG", f"{APPROVAL_DAG}/DAG"],  # the DAGs, none of their runs
    "run_lister": [f"{OK_DAG}/RUN"],  # the runs, not their task instances or XComs
    "run_reader": [OK_DAG, *(f"{APPROVAL_DAG}/{part}" for part in (*RUN_READ, "HITL_DETAIL"))],
    "approver": [APPROVAL_DAG],
    "no_hitl": [f"{APPROVAL_DAG}/{part}" for part in RUN_READ],  # may answer nothing of it
}
APPROVAL_DAG_FILE = Path(__file__).parent / "dags" / "drs_view_approval.py"


@dataclass
class ViewDeployment(Deployment):
    runs: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.stack.api_url}{path}"

    def token(self, user: str) -> str:
        response = requests.post(
            self.url("/auth/token"), json={"username": user, "password": self.password(user)}, timeout=60
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


def trigger_as(deployment: ViewDeployment, user: str, dag_id: str, conf: dict[str, Any]) -> str:
    """Trigger ``dag_id`` through the REST API as ``user`` (with their own token); return the run id."""
    deployment.rest.unpause(dag_id)
    as_user = RestClient(deployment.stack.api_url, user, deployment.password(user))
    try:
        return as_user.start_run(dag_id, conf)
    finally:
        as_user.close()


def start_runs(deployment: ViewDeployment) -> None:
    """Every run of the module, triggered at once (not awaited)."""
    deployment.runs.update({dag: deployment.rest.trigger(dag, conf) for dag, conf in RUN_CONF.items()})
    for dag, user in RECOVERIES_BY.items():
        plan = dag.removeprefix("drs_plan_")
        deployment.runs[dag] = trigger_as(deployment, user, dag, {"mode": "recovery", "confirm": plan})


SCENARIO = Scenario(
    "recovery_view",
    plans=PLANS,
    fleet=FLEET_SERVERS,
    speed=SPEED,
    dag_files={APPROVAL_DAG_FILE.name: APPROVAL_DAG_FILE.read_text()},
    users=USERS,
    dag_scopes=DAG_SCOPES,
    extra_dag_ids=[APPROVAL_DAG],
    deployment_class=ViewDeployment,
    start=start_runs,
)


def finished(airflow: ViewDeployment, dag_id: str) -> str:
    """Wait for the module's run of ``dag_id`` to finish; return its run id."""
    run_id = airflow.runs[dag_id]
    airflow.rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT)
    return run_id


def run_path(dag_id: str, run_id: str, *, json_api: bool = False) -> str:
    path = run_page_path(dag_id, run_id)
    return path.replace(f"{PREFIX}/runs/", f"{PREFIX}/api/runs/", 1) if json_api else path


def get(airflow: ViewDeployment, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(airflow.url(path), headers=headers, timeout=30, **kwargs)


def sensor_servers(airflow: ViewDeployment, dag_id: str, run_id: str, wave_name: str) -> list[dict[str, Any]]:
    """What the wave's sensor recorded per server (XCom ``servers``), read through the REST API."""
    servers: list[dict[str, Any]] = airflow.rest.xcom(
        dag_id, run_id, f"{wave_name}.wait_for_recovery", "servers"
    )
    return servers


def server_row(html: str, source_server_id: str) -> str:
    """The servers table row of one source server in a run page's HTML."""
    marker = f'<tr data-source-server="{source_server_id}">'
    assert marker in html, f"no row for {source_server_id}"
    return html.split(marker, 1)[1].split("</tr>", 1)[0]


# -- registration ----------------------------------------------------------------------------------


def test_pages_are_listed_by_the_plugins_endpoint(airflow: ViewDeployment) -> None:
    plugins = airflow.rest.request("GET", "/api/v2/plugins")["plugins"]
    (plugin,) = [entry for entry in plugins if entry["name"] == "drs_recovery_view"]

    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == [PREFIX]
    views = {view["name"]: view for view in plugin["external_views"]}
    assert views["Recovery"]["destination"] == "dag_run"
    assert views["Recovery"]["href"] == f"{PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}"
    assert views["Recovery plans"]["destination"] == "nav"
    assert views["Recovery plans"]["href"] == f"{PREFIX}/plans"
    import_errors = airflow.rest.request("GET", "/api/v2/plugins/importErrors")
    assert import_errors["total_entries"] == 0, import_errors


# -- what a run page shows -------------------------------------------------------------------------


def test_succeeded_drill_shows_every_server_launched(airflow: ViewDeployment, e2e_figures: list[str]) -> None:
    run_id = finished(airflow, OK_DAG)
    token = airflow.token("admin")
    expected = sensor_servers(airflow, OK_DAG, run_id, "db") + sensor_servers(airflow, OK_DAG, run_id, "app")
    assert sorted(server["hostname"] for server in expected) == ["view-app-1", "view-db-1", "view-db-2"]

    page = get(airflow, run_path(OK_DAG, run_id), token)
    assert page.status_code == 200, page.text
    for server in expected:
        row = server_row(page.text, server["sourceServerID"])
        assert server["hostname"] in row
        assert server["ec2InstanceID"] and server["ec2InstanceID"] in row
        assert ">LAUNCHED<" in row
    assert 'id="failures"' not in page.text

    view = get(airflow, run_path(OK_DAG, run_id, json_api=True), token).json()
    assert view["state"] == "success"
    assert [(wave["name"], wave["state"], wave["step"]) for wave in view["waves"]] == [
        ("db", "success", 1),
        ("app", "success", 2),
    ]
    assert {server["status"] for server in view["waves"][0]["servers"]} == {"LAUNCHED"}
    assert view["rto"]["seconds"] > 0
    job_ids = airflow.rest.xcom(OK_DAG, run_id, "db.start_recovery")
    assert [job["job_id"] for job in view["waves"][0]["jobs"]] == job_ids
    assert view["waves"][0]["jobs"][0]["url"].endswith(f"#/launchHistory/{job_ids[0]}")
    e2e_figures.append(
        f"[{airflow.backend}] recovery view: {served_in(airflow, run_path(OK_DAG, run_id), token)}"
    )


def served_in(airflow: ViewDeployment, path: str, token: str, requests_made: int = 10) -> str:
    """How long the API server takes to answer ``path`` (median of a few requests), for the summary."""
    seconds = []
    for _ in range(requests_made):
        started = time.perf_counter()
        get(airflow, path, token).raise_for_status()
        seconds.append(time.perf_counter() - started)
    return f"run page served in {statistics.median(seconds) * 1000:.0f} ms (median of {requests_made})"


def test_failed_drill_names_the_failed_server_and_its_error(airflow: ViewDeployment) -> None:
    run_id = finished(airflow, FAIL_DAG)
    token = airflow.token("admin")
    failed_id, launched_id = SERVER_IDS["view-fail-db"], SERVER_IDS["view-fail-reports"]
    (failed,) = sensor_servers(airflow, FAIL_DAG, run_id, "db")
    (launched,) = sensor_servers(airflow, FAIL_DAG, run_id, "reports")

    page = get(airflow, run_path(FAIL_DAG, run_id), token)
    assert page.status_code == 200, page.text
    failed_row = server_row(page.text, failed_id)
    assert "view-fail-db" in failed_row and ">FAILED<" in failed_row
    assert FAILED_LAUNCH_ERROR in failed_row
    if failed.get("ec2InstanceID"):
        assert failed["ec2InstanceID"] in failed_row
    launched_row = server_row(page.text, launched_id)
    assert "view-fail-reports" in launched_row and ">LAUNCHED<" in launched_row
    assert launched["ec2InstanceID"] in launched_row
    failures = page.text.split('id="failures"', 1)[1].split("</section>", 1)[0]
    assert "wave db, server view-fail-db" in failures and FAILED_LAUNCH_ERROR in failures

    view = get(airflow, run_path(FAIL_DAG, run_id, json_api=True), token).json()
    assert view["state"] == "failed"
    assert {wave["name"]: wave["state"] for wave in view["waves"]} == {
        "db": "failed",
        "app": "upstream_failed",
        "reports": "success",
    }
    assert view["rto"]["seconds"] is None
    (app_server,) = next(wave["servers"] for wave in view["waves"] if wave["name"] == "app")
    assert app_server["source_server_id"] == SERVER_IDS["view-fail-app"]
    assert app_server["status"] == "not launched"


def test_a_failed_preflight_shows_the_error_its_log_ends_with(airflow: ViewDeployment) -> None:
    run_id = finished(airflow, GUARDED_DAG)

    view = get(airflow, run_path(GUARDED_DAG, run_id, json_api=True), airflow.token("admin")).json()

    assert view["state"] == "failed"
    (failure,) = view["failures"]
    assert failure["where"] == "preflight"
    # The exception preflight raised, read from its task log the way the REST API's log route reads it.
    assert failure["message"].startswith("DrsPreflightError")
    assert "confirm" in failure["message"] and "view_guarded" in failure["message"]
    assert view["waves"][0]["state"] == "upstream_failed"
    assert view["waves"][0]["servers"] == []  # preflight resolves them; it stopped first
    page = get(airflow, run_path(GUARDED_DAG, run_id), airflow.token("admin")).text
    assert "No server resolved: preflight failed." in page


# -- who may recover ---------------------------------------------------------------------------------


def launches_of(airflow: ViewDeployment, run_id: str) -> list[dict[str, Any]]:
    """The StartRecovery requests the simulator received for the run (its jobs' tags name it)."""
    return [
        call["request"]
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:run_id") == run_id
    ]


def test_a_recovery_by_a_user_recovery_allowed_does_not_list_fails_in_preflight_naming_them(
    airflow: ViewDeployment,
) -> None:
    run_id = finished(airflow, REFUSED_DAG)

    run = airflow.rest.dag_run(REFUSED_DAG, run_id)
    assert (run["state"], run["triggering_user_name"], run["conf"]["mode"]) == (
        "failed",
        "intruder",
        "recovery",
    )
    states = airflow.rest.task_states(REFUSED_DAG, run_id)
    assert states["preflight"] == "failed" and states["db.start_recovery"] == "upstream_failed", states
    # Refused before any DRS call: no launch of the run, and no call at all names its server.
    assert launches_of(airflow, run_id) == []
    server_id = SERVER_IDS["view-refused-db"]
    assert [call for call in airflow.simulator.calls() if server_id in json.dumps(call["request"])] == []
    view = get(airflow, run_path(REFUSED_DAG, run_id, json_api=True), airflow.token("admin")).json()
    (failure,) = view["failures"]
    assert failure["where"] == "preflight"
    assert (
        "recovery_allowed: user 'intruder' may not start a recovery of plan 'view_refused': "
        "recovery_allowed lists dr_lead, role:op; the user's roles: user"
    ) in failure["message"], failure
    assert view["triggered_by"] == "intruder"
    page = get(airflow, run_path(REFUSED_DAG, run_id), airflow.token("admin")).text
    assert '<strong id="triggered-by">intruder</strong>' in page


@pytest.mark.parametrize("dag_id", [ALLOWED_DAG, ALLOWED_ROLE_DAG], ids=["by-name", "by-role"])
def test_a_recovery_by_a_user_recovery_allowed_lists_passes_preflight(
    airflow: ViewDeployment, dag_id: str
) -> None:
    run_id = airflow.runs[dag_id]

    assert airflow.rest.wait_for_run(dag_id, run_id, timeout=RUN_TIMEOUT) == "success"
    assert airflow.rest.task_states(dag_id, run_id)["preflight"] == "success"
    assert [launch["isDrill"] for launch in launches_of(airflow, run_id)] == [False]
    assert airflow.rest.dag_run(dag_id, run_id)["triggering_user_name"] == RECOVERIES_BY[dag_id]
    view = get(airflow, run_path(dag_id, run_id, json_api=True), airflow.token("admin")).json()
    assert (view["mode"], view["state"], view["triggered_by"]) == (
        "recovery",
        "success",
        RECOVERIES_BY[dag_id],
    )


# -- who may see what ------------------------------------------------------------------------------


def forged_token() -> str:
    """A well-formed JWT for ``admin`` that this Airflow did not sign."""
    now = int(time.time())
    claims = {
        "sub": "admin",
        "role": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "aud": "apache-airflow",
    }
    return jwt.encode(claims, "not-this-airflow's-secret-" * 3, algorithm="HS512")


def test_requests_without_a_login_or_with_a_forged_token_are_refused(airflow: ViewDeployment) -> None:
    run_id = finished(airflow, OK_DAG)
    paths = [
        run_path(OK_DAG, run_id),
        run_path(OK_DAG, run_id) + "/fragment",
        run_path(OK_DAG, run_id) + "/report.html",
        run_path(OK_DAG, run_id, json_api=True),
        f"{PREFIX}/plans",
        f"{PREFIX}/api/plans",
        f"{PREFIX}/static/recovery.js",
    ]
    secrets = [OK_DAG.removeprefix("drs_plan_"), "view-db-1", SERVER_IDS["view-db-1"], "recovery instance"]
    attempts = {
        "no login": {},
        "forged bearer token": {"headers": {"Authorization": f"Bearer {forged_token()}"}},
        "forged login cookie": {"cookies": {"_token": forged_token()}},
        "garbage bearer token": {"headers": {"Authorization": "Bearer not-a-jwt"}},
    }
    for what, kwargs in attempts.items():
        for path in paths:
            response = requests.get(airflow.url(path), timeout=30, **kwargs)
            assert response.status_code in (401, 403), (what, path, response.status_code)
            assert not any(secret in response.text for secret in secrets), (what, path, response.text)
    # With a real login the same requests are served; the static route serves only its own files.
    token = airflow.token("admin")
    assert get(airflow, run_path(OK_DAG, run_id), token).status_code == 200
    script = get(airflow, f"{PREFIX}/static/recovery.js", token)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert get(airflow, f"{PREFIX}/static/app.py", token).status_code == 404


def test_a_user_sees_only_the_dags_they_may_read(airflow: ViewDeployment) -> None:
    ok_run, fail_run = finished(airflow, OK_DAG), finished(airflow, FAIL_DAG)
    outsider = airflow.token("outsider")
    # The auth manager's own verdict, through the REST API: the view must agree with it.
    assert get(airflow, f"/api/v2/dags/{OK_DAG}", outsider).status_code == 200
    assert get(airflow, f"/api/v2/dags/{FAIL_DAG}", outsider).status_code == 403

    for path in (run_path(FAIL_DAG, fail_run), run_path(FAIL_DAG, fail_run, json_api=True)):
        response = get(airflow, path, outsider)
        assert response.status_code == 403, (path, response.text)
        assert "view-fail-db" not in response.text and FAILED_LAUNCH_ERROR not in response.text
    assert "view-db-1" in get(airflow, run_path(OK_DAG, ok_run), outsider).text

    plans = get(airflow, f"{PREFIX}/api/plans", outsider).json()
    assert [plan["dag_id"] for plan in plans] == [OK_DAG]
    page = get(airflow, f"{PREFIX}/plans", outsider).text
    assert f'data-dag-id="{OK_DAG}"' in page and FAIL_DAG not in page and APPROVAL_DAG not in page
    every_plan = get(airflow, f"{PREFIX}/api/plans", airflow.token("admin")).json()
    assert sorted(plan["dag_id"] for plan in every_plan) == plan_dag_ids(airflow)


@dataclass(frozen=True)
class Permitted:
    """What one user gets from every endpoint of the plugin (403: refused, with nothing of the run)."""

    user: str
    #: the succeeding run's page, its fragment, its report as a page and its JSON
    ok_run: int
    #: the run waiting on an approval: its page and JSON
    approval_run: int
    #: the approvals that run's page offers the user to answer
    approvals: int
    #: the module's plans listed to the user, each with whether its run is listed
    plans: dict[str, bool]
    #: whether a listed run shows what its task instances and XComs say (the RTO, the approval waiting)
    run_details: bool
    #: the "Terminate this drill's instances" action without ``confirm``, on the succeeding run and on
    #: the run waiting for an approval: 400 (allowed, but not confirmed, so nothing is done) or 403
    terminate: tuple[int, int]


PERMITTED = [
    Permitted("admin", 200, 200, 1, {OK_DAG: True, FAIL_DAG: True, APPROVAL_DAG: True}, True, (400, 400)),
    Permitted("outsider", 200, 403, 0, {OK_DAG: True}, True, (403, 403)),
    Permitted("plans_only", 403, 403, 0, {OK_DAG: False, APPROVAL_DAG: False}, False, (403, 403)),
    Permitted("run_lister", 403, 403, 0, {OK_DAG: True}, False, (403, 403)),
    Permitted("run_reader", 200, 200, 0, {OK_DAG: True, APPROVAL_DAG: True}, True, (403, 403)),
    Permitted("approver", 403, 200, 1, {APPROVAL_DAG: True}, True, (403, 400)),
    Permitted("no_hitl", 403, 200, 0, {APPROVAL_DAG: True}, True, (403, 400)),
]


APPROVAL_TASK = "db.pre_1_approval"


def approval_waiting(airflow: ViewDeployment) -> str:
    """The approval run's id, once its approval waits for an answer."""
    run_id = airflow.runs[APPROVAL_DAG]
    wait_until(
        "the approval to wait for an answer",
        lambda: airflow.rest.task_states(APPROVAL_DAG, run_id).get(APPROVAL_TASK) in WAITING_FOR_AN_ANSWER,
        timeout=RUN_TIMEOUT,
    )
    return run_id


def run_details_shown(plan: dict[str, Any]) -> bool:
    """Whether the plan's one run in this module shows more than Airflow's state and the run's conf."""
    (run,) = plan["runs"]
    return run["rto_seconds"] is not None if plan["dag_id"] == OK_DAG else run["state"] == "awaiting_input"


@pytest.mark.parametrize("permitted", PERMITTED, ids=lambda permitted: permitted.user)
def test_every_endpoint_shows_a_user_exactly_what_they_may_read(
    airflow: ViewDeployment, permitted: Permitted
) -> None:
    ok_run, approval_run = finished(airflow, OK_DAG), approval_waiting(airflow)
    token = airflow.token(permitted.user)
    run = f"/api/v2/dags/{OK_DAG}/dagRuns/{quote(ok_run, safe='')}"
    # The REST API's verdicts on what a run page is made of: the run, its task instances, their XComs.
    rest = [
        get(airflow, run + part, token).status_code
        for part in ("", "/taskInstances", "/taskInstances/db.start_recovery/xcomEntries")
    ]
    assert permitted.ok_run == (200 if rest == [200, 200, 200] else 403), rest

    for path in (
        run_path(OK_DAG, ok_run),
        run_path(OK_DAG, ok_run) + "/fragment",
        run_path(OK_DAG, ok_run) + "/report.html",
        run_path(OK_DAG, ok_run, json_api=True),
    ):
        response = get(airflow, path, token)
        assert response.status_code == permitted.ok_run, (path, response.text)
        assert ("view-db-1" in response.text) == (permitted.ok_run == 200)
    for path in (run_path(APPROVAL_DAG, approval_run), run_path(APPROVAL_DAG, approval_run, json_api=True)):
        response = get(airflow, path, token)
        assert response.status_code == permitted.approval_run, (path, response.text)
        assert ("view-approval-db" in response.text) == (permitted.approval_run == 200)
    if permitted.approval_run == 200:
        view = get(airflow, run_path(APPROVAL_DAG, approval_run, json_api=True), token).json()
        assert len(view["approvals"]) == permitted.approvals
        page = get(airflow, run_path(APPROVAL_DAG, approval_run), token).text
        assert ('class="approval"' in page) == bool(permitted.approvals)
        # The REST API takes an answer from exactly those users: an option that does not exist is
        # refused with 400 after the permission checks (403), so nothing is answered here.
        answer = requests.patch(
            airflow.url(
                f"/api/v2/dags/{APPROVAL_DAG}/dagRuns/{quote(approval_run, safe='')}"
                "/taskInstances/db.pre_1_approval/-1/hitlDetails"
            ),
            headers={"Authorization": f"Bearer {token}"},
            json={"chosen_options": ["Not an option"], "params_input": {}},
            timeout=30,
        )
        assert answer.status_code == (400 if permitted.approvals else 403), answer.text

    listed = get(airflow, f"{PREFIX}/api/plans", token)
    assert listed.status_code == 200
    plans = {
        plan["dag_id"]: plan for plan in listed.json() if plan["dag_id"] in (OK_DAG, FAIL_DAG, APPROVAL_DAG)
    }
    assert {dag_id: bool(plan["runs"]) for dag_id, plan in plans.items()} == permitted.plans
    for dag_id in (OK_DAG, APPROVAL_DAG):
        if permitted.plans.get(dag_id):
            assert run_details_shown(plans[dag_id]) == permitted.run_details, plans[dag_id]
    assert all(plan["runs_readable"] == bool(plan["runs"]) for plan in plans.values())
    page = get(airflow, f"{PREFIX}/plans", token)
    assert page.status_code == 200
    for dag_id, runs_listed in permitted.plans.items():
        assert f'data-dag-id="{dag_id}"' in page.text
        assert (airflow.runs[dag_id] in unquote(page.text)) == runs_listed
    assert ("runs not shown" in page.text) == (False in permitted.plans.values())
    assert get(airflow, f"{PREFIX}/static/recovery.css", token).status_code == 200

    # The terminate action needs what clearing the DAG run needs. The REST API's verdict on a dry-run
    # clear (which changes nothing); the action, sent without confirm, is refused with 400 after the
    # permission checks (403), so nothing is terminated here.
    for (dag_id, run_id), expected in zip(
        ((OK_DAG, ok_run), (APPROVAL_DAG, approval_run)), permitted.terminate, strict=True
    ):
        clear = requests.post(
            airflow.url(f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}/clear"),
            headers={"Authorization": f"Bearer {token}"},
            json={"dry_run": True},
            timeout=30,
        )
        assert clear.status_code in (200, 403), clear.text
        assert expected == (400 if clear.status_code == 200 else 403), (dag_id, clear.status_code)
        action = requests.post(
            airflow.url(terminate_path(dag_id, run_id)),
            headers={"Authorization": f"Bearer {token}"},
            json={},
            timeout=30,
        )
        assert action.status_code == expected, (dag_id, action.text)
        assert "view-db-1" not in action.text and "view-approval-db" not in action.text


def plan_dag_ids(airflow: ViewDeployment) -> list[str]:
    """Every live plan DAG of the stack (every module's), as the REST API lists them to ``admin``."""
    return sorted(
        dag["dag_id"]
        for dag in airflow.rest.dags()
        if dag["dag_id"].startswith("drs_plan_")
        and "drs" in {tag["name"] for tag in dag["tags"]}
        and not dag["is_stale"]
    )


def test_plans_page_lists_waves_and_last_runs(airflow: ViewDeployment) -> None:
    ok_run, fail_run = finished(airflow, OK_DAG), finished(airflow, FAIL_DAG)
    plans = {
        plan["dag_id"]: plan for plan in get(airflow, f"{PREFIX}/api/plans", airflow.token("admin")).json()
    }

    ok, failed = plans[OK_DAG], plans[FAIL_DAG]
    assert [(wave["name"], wave["depends_on"]) for wave in ok["waves"]] == [("db", []), ("app", ["db"])]
    assert [(run["run_id"], run["state"]) for run in ok["runs"]] == [(ok_run, "success")]
    assert ok["runs"][0]["rto_seconds"] > 0
    assert [(run["run_id"], run["state"], run["rto_seconds"]) for run in failed["runs"]] == [
        (fail_run, "failed", None)
    ]
    page = get(airflow, f"{PREFIX}/plans", airflow.token("admin")).text
    assert 'class="trend"' in page
    # who triggered each run: admin through the REST client, the recoveries as their own users
    assert ok["runs"][0]["triggered_by"] == "admin"
    refused_run = finished(airflow, REFUSED_DAG)
    assert [(run["run_id"], run["triggered_by"]) for run in plans[REFUSED_DAG]["runs"]] == [
        (refused_run, "intruder")
    ]
    assert 'by <span class="triggered-by">intruder</span>' in page
    # a scheduled plan whose DAG is paused runs no drill, and the page says so loudly
    weekly = plans[WEEKLY_DAG]
    assert (weekly["schedule"], weekly["is_paused"], weekly["drills_paused"]) == ("0 3 * * 1", True, True)
    assert (ok["drills_paused"], plans[ALLOWED_DAG]["drills_paused"]) == (False, False)
    alert = page.split('id="paused-plans"', 1)[1].split("</div>", 1)[0]
    assert "Scheduled drills are NOT running" in alert and ">view_weekly</a>" in alert
    assert ">view_ok</a>" not in alert
    assert f'<tr data-dag-id="{WEEKLY_DAG}" class="paused" data-paused="true">' in page


def test_approval_text_is_rendered_as_markdown_with_no_html_of_the_plan(airflow: ViewDeployment) -> None:
    run_id = approval_waiting(airflow)
    token = airflow.token("admin")

    page = get(airflow, run_path(APPROVAL_DAG, run_id), token).text

    body = page.split('class="body markdown">', 1)[1].split("</div>", 1)[0]
    assert "<strong>launches</strong>" in body and "<code>s-view0000000000031</code>" in body
    assert "&lt;script&gt;document.title = " in body
    assert "<script>document.title" not in page
    (approval,) = get(airflow, run_path(APPROVAL_DAG, run_id, json_api=True), token).json()["approvals"]
    assert approval["body"] == APPROVAL_BODY  # the JSON keeps the text as the plan wrote it


# -- in a browser ----------------------------------------------------------------------------------


def recovery_tab(page: Any, airflow: ViewDeployment, dag_id: str, run_id: str) -> Any:
    """Open the run's Recovery tab in the Airflow UI; return the frame the page is shown in."""
    page.goto(
        f"{airflow.stack.api_url}/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/plugin/recovery"
    )
    frame = page.frame_locator("iframe[title=Recovery]")
    frame.locator("#run-state").wait_for()
    return frame


def test_browser_logs_in_and_answers_an_approval_on_the_recovery_page(
    airflow: ViewDeployment, page: Any
) -> None:
    dag, run_id = APPROVAL_DAG, airflow.runs[APPROVAL_DAG]
    wait_until(
        "the approval to wait for an answer",
        lambda: airflow.rest.task_states(dag, run_id).get("db.pre_1_approval") in WAITING_FOR_AN_ANSWER,
        timeout=RUN_TIMEOUT,
    )
    frame = recovery_tab(page, airflow, dag, run_id)

    approval = frame.locator(".approval")
    assert APPROVAL_SUBJECT in approval.inner_text()
    assert "wave db" in approval.inner_text()
    assert frame.locator("#run-state").inner_text() == "awaiting approval"
    # The approval text is Markdown: rendered, and the plan's <script> shown as text, never run.
    assert approval.locator(".body strong", has_text="launches").count() == 1
    assert "<script>document.title = 'owned'</script>" in approval.locator(".body").inner_text()
    (view_frame,) = [each for each in page.frames if "/drs-recovery/runs/" in each.url]
    assert view_frame.evaluate("document.title") != "owned"
    screenshot(page, airflow, "approval-waiting")
    approval.get_by_role("button", name="Approve").click()
    frame.get_by_text("Answered 'Approve'").wait_for()

    assert airflow.rest.wait_for_run(dag, run_id, timeout=RUN_TIMEOUT) == "success"
    detail = airflow.rest.request(
        "GET",
        f"/api/v2/dags/{dag}/dagRuns/{quote(run_id, safe='')}/taskInstances/db.pre_1_approval/-1/hitlDetails",
    )
    assert detail["chosen_options"] == ["Approve"]
    assert detail["responded_by_user"]["name"] == "admin"
    # The page refreshes itself until the run is over.
    frame.locator(".run[data-finished=true]").wait_for()
    assert frame.locator("#run-state").inner_text() == "succeeded"
    assert "view-approval-db" in frame.locator("#servers").inner_text()
    step = frame.locator('#steps tr[data-task="db.pre_1_approval"]').inner_text()
    assert "answered Approve by admin" in step
    screenshot(page, airflow, "approval-answered")


def test_browser_shows_a_failed_drill(airflow: ViewDeployment, page: Any) -> None:
    run_id = finished(airflow, FAIL_DAG)
    frame = recovery_tab(page, airflow, FAIL_DAG, run_id)

    assert frame.locator("#run-state").inner_text() == "failed"
    failed_row = frame.locator(f'#servers tr[data-source-server="{SERVER_IDS["view-fail-db"]}"]').inner_text()
    assert "view-fail-db" in failed_row and "FAILED" in failed_row and FAILED_LAUNCH_ERROR in failed_row
    assert FAILED_LAUNCH_ERROR in frame.locator("#failures").inner_text()
    assert frame.locator("svg.timeline rect.bar.bad").count() == 1
    assert "no RTO: wave db failed" in frame.locator("#rto").inner_text()
    path = screenshot(page, airflow, "failed-drill")
    assert path.stat().st_size > 10_000
    # A DRS console link opens a tab even from the UI's sandboxed frame. The console is played by
    # the browser itself: nothing leaves this machine.
    job_id = airflow.rest.xcom(FAIL_DAG, run_id, "db.start_recovery")[0]
    page.context.route(CONSOLE_URLS, lambda route: route.fulfill(status=200, body="AWS console stand-in"))
    with page.context.expect_page() as console:
        frame.locator('#waves tr[data-wave="db"] a', has_text=job_id).click()
    assert (
        console.value.url
        == f"https://us-east-1.console.aws.amazon.com/drs/home?region=us-east-1#/launchHistory/{job_id}"
    )
    console.value.close()


def test_browser_shows_the_recovery_plans_page(airflow: ViewDeployment, page: Any) -> None:
    ok_run, _ = finished(airflow, OK_DAG), finished(airflow, FAIL_DAG)
    page.goto(f"{airflow.stack.api_url}/plugin/recovery-plans")
    frame = page.frame_locator("iframe[title='Recovery plans']")
    frame.locator("#plans").wait_for()

    ok = frame.locator(f'#plans tr[data-dag-id="{OK_DAG}"]')
    assert "1. db" in ok.inner_text() and "2. app" in ok.inner_text()
    assert ok.locator("svg.trend rect.bar.ok").count() == 1
    assert frame.locator(f'#plans tr[data-dag-id="{FAIL_DAG}"] svg.trend rect.bar.bad').count() == 1
    screenshot(page, airflow, "plans")
    # The last result links to that run's Recovery tab: the whole UI goes there, not the frame.
    ok.locator("a.last-result").click()
    page.wait_for_url(lambda url: unquote(url).endswith(f"/runs/{ok_run}/plugin/recovery"))
    page.frame_locator("iframe[title=Recovery]").locator("#run-state", has_text="succeeded").wait_for()
    assert page.locator("iframe[title='Recovery plans']").count() == 0


def terminations(airflow: ViewDeployment, instances: set[str]) -> list[set[str]]:
    """The TerminateRecoveryInstances calls naming any of ``instances`` (the other drills of the module
    clean up after themselves by default), each as the set it named."""
    calls = airflow.simulator.calls("TerminateRecoveryInstances")
    named = [set(call["request"]["recoveryInstanceIDs"]) for call in calls]
    return [each for each in named if each & instances]


def test_browser_terminates_a_kept_drills_instances_once_asked_and_confirmed(
    airflow: ViewDeployment, page: Any
) -> None:
    run_id = finished(airflow, KEPT_DAG)
    launched = {server["recoveryInstanceID"] for server in sensor_servers(airflow, KEPT_DAG, run_id, "db")}
    assert len(launched) == 1
    frame = recovery_tab(page, airflow, KEPT_DAG, run_id)

    action = frame.locator("#cleanup .terminate")
    assert next(iter(launched)) in action.inner_text()
    frame.locator("#recovery[data-ready='true']").wait_for()  # the page's script listens
    action.get_by_role("button", name="Terminate this drill's instances").click()
    confirmation = action.locator(".terminate-confirm")
    confirmation.wait_for()
    assert "cannot be undone" in confirmation.inner_text()
    assert terminations(airflow, launched) == []  # asking is not doing
    screenshot(page, airflow, "terminate-asked")
    confirmation.get_by_role("button", name="Terminate", exact=True).click()
    # The page refreshes once it is done: the button is gone, the card lists the instance as terminated.
    frame.locator("#cleanup .terminate").wait_for(state="detached", timeout=120_000)
    card = frame.locator("#cleanup").inner_text()
    assert f"terminated: {next(iter(launched))}" in card and "terminated from this page by admin" in card, (
        card
    )
    screenshot(page, airflow, "terminate-done")

    assert terminations(airflow, launched) == [launched]
    cleanup = airflow.rest.xcom(KEPT_DAG, run_id, "report")["cleanup"]
    assert (set(cleanup["terminated"]), cleanup["requested_by"], cleanup["via"]) == (
        launched,
        "admin",
        "recovery_view",
    )
    remaining = airflow.drs().describe_recovery_instances(filters={"recoveryInstanceIDs": list(launched)})
    assert remaining["items"] == []


def trigger_from_the_form(page: Any, airflow: ViewDeployment, mode: str | None = None) -> str:
    """Open the DAG's trigger form in the Airflow UI, choose ``mode`` (else keep the defaults),
    and press Trigger as a person would; return the id of the run it created."""

    def run_ids() -> set[str]:
        runs = airflow.rest.request("GET", f"/api/v2/dags/{FORM_DAG}/dagRuns")["dag_runs"]
        return {run["dag_run_id"] for run in runs}

    before = run_ids()
    page.goto(f"{airflow.stack.api_url}/dags/{FORM_DAG}")
    page.get_by_role("button", name="Trigger Dag").click()
    form = page.get_by_role("dialog")
    confirm = form.locator("#element_confirm")
    confirm.wait_for()
    # Nothing a drill leaves empty is required: the form lets Trigger through with the defaults.
    assert confirm.input_value() == ""
    assert confirm.get_attribute("required") is None
    if mode is not None:
        choice = form.get_by_role("combobox").first
        choice.click()
        choice.fill(mode)
        page.keyboard.press("Enter")
        assert form.locator("input[name=element_mode]").input_value() == mode
    screenshot(page, airflow, f"trigger-form-{mode or 'defaults'}")
    button = form.get_by_role("button", name="Trigger")
    assert button.is_enabled()
    button.click()
    created = wait_until("the form's run to be created", lambda: run_ids() - before, timeout=60)
    (run_id,) = created
    return str(run_id)


def test_browser_trigger_form_starts_a_drill_with_no_typing_and_refuses_an_unconfirmed_recovery(
    airflow: ViewDeployment, page: Any
) -> None:
    airflow.rest.unpause(FORM_DAG)

    drill = trigger_from_the_form(page, airflow)
    assert airflow.rest.dag_run(FORM_DAG, drill)["conf"]["mode"] == "drill"
    assert airflow.rest.wait_for_run(FORM_DAG, drill, timeout=RUN_TIMEOUT) == "success"
    launches = [
        call["request"]
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:run_id") == drill
    ]
    assert [launch["isDrill"] for launch in launches] == [True]

    recovery = trigger_from_the_form(page, airflow, mode="recovery")
    assert airflow.rest.dag_run(FORM_DAG, recovery)["conf"]["mode"] == "recovery"
    assert airflow.rest.wait_for_run(FORM_DAG, recovery, timeout=RUN_TIMEOUT) == "failed"
    states = airflow.rest.task_states(FORM_DAG, recovery)
    assert states["preflight"] == "failed" and states["db.start_recovery"] == "upstream_failed", states
    assert not [
        call
        for call in airflow.simulator.calls("StartRecovery")
        if (call["request"].get("tags") or {}).get("airflow:run_id") == recovery
    ]
    view = get(airflow, run_path(FORM_DAG, recovery, json_api=True), airflow.token("admin")).json()
    (failure,) = view["failures"]
    assert failure["where"] == "preflight"
    assert "confirm" in failure["message"] and "view_form" in failure["message"], failure
