"""The Recovery view's FastAPI app: server-rendered pages, their JSON, and their static files.

Routes (below the plugin's ``URL_PREFIX``):

``GET /runs/{dag_id}/{run_id}``            the run page (HTML; refreshes itself while the run goes on)
``GET /runs/{dag_id}/{run_id}/fragment``   the page's content alone, what the refresh fetches
``GET /api/runs/{dag_id}/{run_id}``        the same view model as JSON
``GET /plans``, ``GET /api/plans``         every plan the user may read, its waves, last runs and readiness
``GET /api/failovers``                     the last runs of ``drs_failover`` (the plans page's failover rows)
``GET /static/{name}``                     the page's CSS, JavaScript and icon (nothing from a CDN)
``POST /api/runs/{dag_id}/{run_id}/terminate-instances``   the one action: terminate what a finished
                                           drill left running (JSON ``{"confirm": "<run_id>"}``)

Every route needs a signed-in user (bearer token or the UI's login cookie), and shows of each DAG
only what the user may read of it (:mod:`~drs_provider.ui.security`): the run routes need
:data:`~drs_provider.ui.security.RUN_PAGE_ACCESS`, the plans routes list the readable DAGs with
the runs the user may read, and the plans' readiness only to a user who may read the checks of the
``drs_readiness`` DAG; the region failovers (runs of ``drs_failover``) to a user who may read that
DAG's runs, the plans of each as far as the user may read the plans' runs. An approval is offered
only to a user whose answer the REST API would take, and answered by the page's JavaScript through
the REST API's own HITL endpoint, so the REST API's permissions decide. The one thing this app
changes itself is a finished drill's instances, with
:data:`~drs_provider.ui.security.TERMINATE_ACCESS` (what clearing the DAG run needs), an explicit
``confirm`` and a record in the run's report (:mod:`drs_provider.ui.actions`); Airflow's audit log
records every request to it, as it does the REST API's. A failback run's page also reads DRS
(:mod:`~drs_provider.ui.failback_source`, bounded and cached), under the run routes' permissions.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep  # noqa: TC002 (FastAPI reads it at run time)
from airflow.api_fastapi.logging.decorators import action_logging
from botocore.exceptions import BotoCoreError, ClientError
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from drs_provider.operators.report_store import aws_error
from drs_provider.recovery.report_html import HTML_MEDIA_TYPE, render_report_html
from drs_provider.recovery.times import format_duration, format_when
from drs_provider.recovery.wave_shapes import dag_waves
from drs_provider.ui import actions, airflow_source, failover_source, readiness_source
from drs_provider.ui.addresses import URL_PREFIX, run_page_path, terminate_path
from drs_provider.ui.failback_rows import with_failback
from drs_provider.ui.format import (
    badge,
    jsonable,
    readiness_badge,
    readiness_word,
    severity_badge,
    state_word,
)
from drs_provider.ui.live_report import run_report
from drs_provider.ui.markdown import render_markdown
from drs_provider.ui.plans_view import failover_rows, plan_rows
from drs_provider.ui.security import (
    RUN_PAGE_ACCESS,
    SIGNED_IN,
    TERMINATE_ACCESS,
    GetUserDep,
    failover_access,
    may,
    may_answer,
    may_read_readiness,
    readable_dag_ids,
    run_access,
)
from drs_provider.ui.view import build_run_view

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from drs_provider.recovery.run_record import RunRecord
    from drs_provider.ui.airflow_source import PlanSummary
    from drs_provider.ui.failover_source import FailoverSummary
    from drs_provider.ui.run_rows import RunView

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
#: The only files ``/static`` serves, with their media types.
STATIC_FILES = {
    "recovery.css": "text/css",
    "recovery.js": "text/javascript",
    "icon.svg": "image/svg+xml",
}
#: What a page says for each refusal (the detail of the REST API's own dependency follows).
ERROR_TITLES = {401: "Not signed in", 403: "Not allowed", 404: "Not found"}
#: Seconds between refreshes of a run page while the run goes on.
REFRESH_SECONDS = 3
#: Everything a page loads comes from this app; the UI may frame it (same origin only).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _clock(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%H:%M:%S") if moment else "-"


templates = Jinja2Templates(directory=str(PACKAGE_DIR / "templates"))
templates.env.filters.update(
    clock=_clock,
    when=format_when,
    duration=format_duration,
    state=state_word,
    badge=badge,
    markdown=render_markdown,
    readiness=readiness_word,
    readiness_badge=readiness_badge,
    severity_badge=severity_badge,
)


def own_root(request: Request) -> str:
    """Where this app is mounted, seen from a request to it (Airflow's root path + URL_PREFIX)."""
    return str(request.scope.get("root_path", "")).rstrip("/")


def airflow_root(request: Request) -> str:
    """Where Airflow itself is served (its REST API and UI), seen from a request to this app."""
    return own_root(request).removesuffix(URL_PREFIX)


def _run_record(request: Request, user: Any, session: Any, dag_id: str, run_id: str) -> RunRecord:
    """The plan run, with task errors and approvals only for a user who may read them."""
    found = airflow_source.find_run(session, dag_id, run_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id} has no run {run_id}")
    dag_run, dag = found
    record = airflow_source.load_run(
        session,
        dag_run,
        dag,
        with_errors=may(request, user, DagAccessEntity.TASK_LOGS),
        with_approvals=may(request, user, DagAccessEntity.HITL_DETAIL),
    )
    if not record.waves:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"DAG {dag_id} is not a recovery plan: none of its task groups has a start_recovery task",
        )
    return record


def _run_view(request: Request, user: Any, session: Any, dag_id: str, run_id: str) -> RunView:
    record = _run_record(request, user, session, dag_id, run_id)
    report, source = run_report(record)
    may_terminate = may(request, user, DagAccessEntity.RUN, "PUT")
    view = build_run_view(
        record,
        report,
        source=source,
        may_answer=lambda approval: may_answer(request, user, approval),
        airflow_root=airflow_root(request),
        terminate_url=f"{airflow_root(request)}{terminate_path(dag_id, run_id)}" if may_terminate else None,
    )
    # A failback's way home is in DRS: read live (bounded, cached), shown to whoever may read the run.
    return with_failback(view, record, report)


class TerminateRequest(BaseModel):
    """The terminate action's body: ``confirm`` must repeat the run's id."""

    confirm: str | None = None


def _plans(user: Any, session: Any, readable: set[str] | None = None) -> list[PlanSummary]:
    """The plans ``user`` may read, each with the runs they may read, and with its readiness if they
    may read the readiness checks (``readable``: the DAGs they may read, if known)."""
    readable = readable_dag_ids(user) if readable is None else readable
    return airflow_source.plan_summaries(
        session,
        readable,
        lambda dag_ids: run_access(user, dag_ids, session),
        with_readiness=may_read_readiness(user, readable, session),
    )


def _failovers(user: Any, session: Any, readable: set[str] | None = None) -> list[FailoverSummary] | None:
    """The recent runs of ``drs_failover`` with their plans, as far as ``user`` may read them; None
    when they may not read its runs."""
    readable = readable_dag_ids(user) if readable is None else readable
    access = failover_access(user, readable, session)
    if access is None:
        return None
    return failover_source.failover_summaries(
        session, readable, lambda dag_ids: run_access(user, dag_ids, session), details=access.details
    )


def _page(request: Request, name: str, context: dict[str, Any]) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {
            "airflow_root": airflow_root(request),
            "static_root": f"{own_root(request)}/static",
            "refresh_seconds": REFRESH_SECONDS,
            **context,
        },
    )


def create_app() -> FastAPI:
    """The app the plugin mounts at :data:`URL_PREFIX`."""
    app = FastAPI(
        title="DRS Recovery view",
        description="Recovery plan runs of airflow-provider-drs, per wave and per server.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(StarletteHTTPException)
    async def refusal(request: Request, error: StarletteHTTPException) -> Response:
        """A page answers a refusal with a short page (nothing of the DAG on it); the JSON API as usual."""
        path = request.url.path.removeprefix(own_root(request))
        if path.startswith(("/api/", "/static/")) or path.endswith("/fragment"):
            return await http_exception_handler(request, error)
        context = {
            "title": ERROR_TITLES.get(error.status_code, "Error"),
            "message": str(error.detail),
            "status_code": error.status_code,
        }
        response = _page(request, "message.html", context)
        response.status_code = error.status_code
        response.headers.update(error.headers or {})
        return response

    @app.get("/runs/{dag_id}/{run_id}", response_class=HTMLResponse, dependencies=RUN_PAGE_ACCESS)
    def run_page(
        dag_id: str, run_id: str, request: Request, user: GetUserDep, session: SessionDep
    ) -> HTMLResponse:
        view = _run_view(request, user, session, dag_id, run_id)
        fragment_url = f"{airflow_root(request)}{run_page_path(dag_id, run_id)}/fragment"
        return _page(request, "run.html", {"view": view, "fragment_url": fragment_url})

    @app.get("/runs/{dag_id}/{run_id}/fragment", response_class=HTMLResponse, dependencies=RUN_PAGE_ACCESS)
    def run_fragment(
        dag_id: str, run_id: str, request: Request, user: GetUserDep, session: SessionDep
    ) -> HTMLResponse:
        view = _run_view(request, user, session, dag_id, run_id)
        return _page(request, "_run.html", {"view": view})

    @app.get("/runs/{dag_id}/{run_id}/report.html", dependencies=RUN_PAGE_ACCESS)
    def report_page(
        dag_id: str, run_id: str, request: Request, user: GetUserDep, session: SessionDep
    ) -> Response:
        """The run's report as a self-contained HTML page, downloaded (the one stored beside the JSON).

        Rendered from the report the run page shows: the one the run stored, else built now from
        what the user may read (a run still going).
        """
        record = _run_record(request, user, session, dag_id, run_id)
        report, _ = run_report(record)
        filename = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{dag_id}__{run_id}") + ".html"
        return Response(
            render_report_html(report),
            media_type=HTML_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @app.get("/api/runs/{dag_id}/{run_id}", dependencies=RUN_PAGE_ACCESS)
    def run_json(
        dag_id: str, run_id: str, request: Request, user: GetUserDep, session: SessionDep
    ) -> JSONResponse:
        return JSONResponse(_run_view(request, user, session, dag_id, run_id).to_json())

    @app.post(
        "/api/runs/{dag_id}/{run_id}/terminate-instances",
        dependencies=[*TERMINATE_ACCESS, Depends(action_logging("drs_terminate_drill_instances"))],
    )
    def terminate_instances(
        dag_id: str,
        run_id: str,
        user: GetUserDep,
        session: SessionDep,
        body: TerminateRequest | None = None,
    ) -> JSONResponse:
        if body is None or body.confirm != run_id:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                "terminating a drill's instances needs confirm: the run's id, exactly",
            )
        found = airflow_source.find_run(session, dag_id, run_id)
        if found is None or found[1] is None or not dag_waves(found[1]):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG {dag_id} has no plan run {run_id}")
        try:
            done = actions.terminate_drill_instances(session, found[0], user.get_name())
        except actions.ActionRefused as refused:
            raise HTTPException(status.HTTP_409_CONFLICT, f"refused: {refused}") from None
        except (BotoCoreError, ClientError) as error:  # DRS's own answer, for the person who asked
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"DRS: {aws_error(error)}") from None
        return JSONResponse(done.to_json())

    @app.get("/plans", response_class=HTMLResponse)
    def plans_page(request: Request, user: GetUserDep, session: SessionDep) -> HTMLResponse:
        readable = readable_dag_ids(user)
        plans = _plans(user, session, readable)
        failovers = _failovers(user, session, readable)
        context = {
            "plans": plan_rows(plans, airflow_root(request), slots=airflow_source.RECENT_RUNS),
            "failovers": failover_rows(failovers, airflow_root(request)) if failovers is not None else None,
            "recent_failovers": failover_source.RECENT_FAILOVERS,
            "recent_runs": airflow_source.RECENT_RUNS,
            "readiness_checks": readiness_source.READINESS_CHECKS,
        }
        return _page(request, "plans.html", context)

    @app.get("/api/plans")
    def plans_json(user: GetUserDep, session: SessionDep) -> JSONResponse:
        return JSONResponse(
            [{**jsonable(plan), "drills_paused": plan.drills_paused} for plan in _plans(user, session)]
        )

    @app.get("/api/failovers")
    def failovers_json(user: GetUserDep, session: SessionDep) -> JSONResponse:
        """The plans page's failover rows; an empty list for a user who may not read them."""
        return JSONResponse(
            [
                {**jsonable(failover), "triggered_by_text": failover.triggered_by_text}
                for failover in _failovers(user, session) or []
            ]
        )

    @app.get("/static/{name}", name="static", dependencies=SIGNED_IN)
    def static(name: str) -> FileResponse:
        if name not in STATIC_FILES:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no static file {name}")
        return FileResponse(
            STATIC_DIR / name,
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "private, max-age=300"},
        )

    return app
