"""The Recovery view's Airflow plugin: a FastAPI app and two pages in the Airflow UI.

* "Recovery" on every DAG run (destination ``dag_run``): the run page of
  :mod:`drs_provider.ui.app`, framed by the UI in the run's own tab;
* "Recovery plans" in the navigation (Browse): every plan, its waves, schedule and last runs.

``GET /api/v2/plugins`` lists both. An installed distribution registers the plugin through its
``airflow.plugins`` entry point (pyproject.toml); without one, the plugins folder's
``drs_recovery_view.py`` does (see :func:`registered_by_entry_point`).
"""

from __future__ import annotations

from importlib.metadata import distributions
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowPlugin

from drs_provider.ui.addresses import PLANS_VIEW_ROUTE, RUN_VIEW_ROUTE, URL_PREFIX

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, MutableMapping

    Scope = MutableMapping[str, Any]
    Message = MutableMapping[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]


class RecoveryViewApp:
    """The view's ASGI app, built at its first request.

    Every Airflow process loads the plugins folder (a task process does, for macros); only the
    API server serves this app. Building it imports FastAPI and Airflow's API security and
    models (about 0.6 s), so only the process that serves it pays for that.
    """

    def __init__(self) -> None:
        self._app: Callable[[Scope, Receive, Send], Awaitable[None]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            from drs_provider.ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class DrsRecoveryViewPlugin(AirflowPlugin):
    """Registers the Recovery view with the API server and the UI."""

    name = "drs_recovery_view"
    fastapi_apps = [{"app": RecoveryViewApp(), "url_prefix": URL_PREFIX, "name": "DRS Recovery view"}]
    external_views = [
        {
            "name": "Recovery",
            "href": f"{URL_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": RUN_VIEW_ROUTE,
            "icon": f"{URL_PREFIX}/static/icon.svg",
        },
        {
            "name": "Recovery plans",
            "href": f"{URL_PREFIX}/plans",
            "destination": "nav",
            "category": "browse",
            "url_route": PLANS_VIEW_ROUTE,
            "icon": f"{URL_PREFIX}/static/icon.svg",
        },
    ]


#: Where Airflow looks for the plugins of installed distributions.
ENTRY_POINT_GROUP = "airflow.plugins"


def registered_by_entry_point() -> bool:
    """Whether an installed distribution registers :class:`DrsRecoveryViewPlugin` with Airflow.

    Airflow registers a plugin name once: it loads the plugins folder first and counts the same
    name from an entry point as a plugin import error (a task process's loader even stops
    registering the rest of that source's plugins). The plugins folder's file asks this first.
    Every distribution on ``sys.path`` counts, as in Airflow's loader, which keeps a second copy
    of a distribution's metadata where ``importlib.metadata.entry_points`` drops it.
    """
    target = (ENTRY_POINT_GROUP, DrsRecoveryViewPlugin.__module__, DrsRecoveryViewPlugin.__qualname__)
    return any(
        (entry.group, entry.module, entry.attr) == target
        for distribution in distributions()
        for entry in distribution.entry_points
    )
