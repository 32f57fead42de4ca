"""The plugin's declaration and the app's authentication, in-process.

What needs a metadata database (DAG permissions, real runs) is tested on real Airflow
processes in ``tests/e2e/test_recovery_view.py``, and who registers the plugin in
``test_plugin.py``; here: the plugin declares its app and pages, every route depends on Airflow's
own user resolution, and requests without a valid token are refused before any data is read.
"""

from __future__ import annotations

import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from drs_provider.ui.app import create_app
from drs_provider.ui.plugin import PLANS_VIEW_ROUTE, RUN_VIEW_ROUTE, URL_PREFIX, DrsRecoveryViewPlugin

RUN = "/runs/drs_plan_shop/manual__2026-12-01T10:00:00+00:00"
PAGES = [RUN, f"{RUN}/report.html", "/plans"]
JSON_ROUTES = [f"{RUN}/fragment", "/api/runs/drs_plan_shop/manual__1", "/api/plans", "/static/recovery.css"]


def calls(dependant, function) -> bool:
    return dependant.call is function or any(calls(sub, function) for sub in dependant.dependencies)


def test_the_plugin_declares_its_app_and_both_pages():
    DrsRecoveryViewPlugin.validate()
    (app,) = DrsRecoveryViewPlugin.fastapi_apps
    assert app["url_prefix"] == URL_PREFIX
    views = {view["name"]: view for view in DrsRecoveryViewPlugin.external_views}
    assert views["Recovery"] | {} == {
        "name": "Recovery",
        "href": f"{URL_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}",
        "destination": "dag_run",
        "url_route": RUN_VIEW_ROUTE,
        "icon": f"{URL_PREFIX}/static/icon.svg",
    }
    assert (views["Recovery plans"]["destination"], views["Recovery plans"]["url_route"]) == (
        "nav",
        PLANS_VIEW_ROUTE,
    )


def test_every_route_resolves_the_user_the_way_the_rest_api_does():
    routes = [route for route in create_app().routes if isinstance(route, APIRoute)]

    assert len(routes) == 9
    for route in routes:
        assert calls(route.dependant, get_user), route.path


@pytest.fixture(scope="module")
def client():
    from airflow.api_fastapi.app import init_auth_manager

    init_auth_manager()
    with TestClient(create_app()) as test_client:
        yield test_client


def refusal(response):
    """What a refused request says: the REST API's own detail, as JSON or on a short page."""
    if response.headers["content-type"].startswith("application/json"):
        return response.json()["detail"]
    assert response.headers["content-type"].startswith("text/html")
    return response.text.split("<main", 1)[1].split("<p>", 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize("path", PAGES + JSON_ROUTES)
def test_without_a_login_nothing_is_served(client, path):
    response = client.get(path)

    assert response.status_code == 401
    assert refusal(response) == "Not authenticated"
    assert ("json" in response.headers["content-type"]) == (path in JSON_ROUTES)


@pytest.mark.parametrize("path", PAGES + JSON_ROUTES)
@pytest.mark.parametrize(
    "credentials",
    [{"headers": {"Authorization": "Bearer not-a-jwt"}}, {"cookies": {"_token": "not-a-jwt"}}],
    ids=["bearer", "cookie"],
)
def test_an_invalid_token_is_refused(client, path, credentials):
    response = client.get(path, **credentials)

    assert response.status_code == 403
    assert refusal(response) == "Invalid JWT token"


TERMINATE = "/api/runs/drs_plan_shop/manual__1/terminate-instances"


@pytest.mark.parametrize(
    ("credentials", "status", "detail"),
    [
        ({}, 401, "Not authenticated"),
        ({"headers": {"Authorization": "Bearer not-a-jwt"}}, 403, "Invalid JWT token"),
    ],
    ids=["no login", "invalid token"],
)
def test_the_terminate_action_is_refused_without_a_valid_login_before_anything_is_read(
    client, credentials, status, detail
):
    response = client.post(TERMINATE, json={"confirm": "manual__1"}, **credentials)

    assert response.status_code == status
    assert refusal(response) == detail
