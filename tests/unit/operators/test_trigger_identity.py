"""Who triggered a run, and the roles the configured auth manager gives them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from drs_provider.operators.preflight import DrsPlanPreflightOperator
from drs_provider.operators.trigger_identity import triggering_user, user_roles

pytestmark = pytest.mark.unit

SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
SCOPED = "tests.e2e.dag_scoped_auth.DagScopedAuthManager"


@pytest.fixture
def simple_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", SIMPLE)
    monkeypatch.setenv(
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin,alice:op,bob:user,vera:viewer"
    )
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")


def test_the_user_is_the_runs_triggering_user_name() -> None:
    assert triggering_user({"dag_run": SimpleNamespace(triggering_user_name="alice")}) == "alice"  # type: ignore[typeddict-item]
    assert triggering_user({"dag_run": SimpleNamespace(triggering_user_name=None)}) is None  # type: ignore[typeddict-item]
    assert triggering_user({}) is None  # type: ignore[typeddict-item]


@pytest.mark.usefixtures("simple_users")
def test_the_simple_auth_manager_gives_each_user_their_role() -> None:
    assert user_roles("alice") == (frozenset({"op"}), "")
    assert user_roles("vera") == (frozenset({"viewer"}), "")
    assert user_roles("nobody") == (frozenset(), "")


@pytest.mark.usefixtures("simple_users")
def test_a_subclass_of_the_simple_auth_manager_is_read_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", SCOPED)
    assert user_roles("bob") == (frozenset({"user"}), "")


@pytest.mark.usefixtures("simple_users")
def test_everyone_is_admin_when_the_simple_auth_manager_makes_all_admins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "True")
    assert user_roles("Anonymous") == (frozenset({"admin"}), "")


def test_another_auth_manager_cannot_tell_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "collections.OrderedDict")
    roles, reason = user_roles("alice")
    assert roles is None and "OrderedDict does not tell a task its users' roles" in reason


def test_an_auth_manager_that_cannot_be_imported_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "no_such_module.NoAuthManager")
    roles, reason = user_roles("alice")
    assert roles is None and "could not be loaded" in reason


# -- preflight's parameter stage --------------------------------------------------------------------


def preflight(recovery_allowed: list[str] | None) -> DrsPlanPreflightOperator:
    return DrsPlanPreflightOperator(
        task_id="preflight",
        plan_name="shop",
        waves=[{"name": "db", "servers": {"ids": [], "tags": {"Role": "db"}}, "depends_on": []}],
        recovery_allowed=recovery_allowed,
    )


RECOVERY = {"mode": "recovery", "confirm": "shop"}


@pytest.mark.usefixtures("simple_users")
def test_preflight_refuses_a_recovery_by_a_user_the_plan_does_not_list() -> None:
    problems = preflight(["bob", "role:op"]).check_safety(RECOVERY, "manual", "vera")

    assert problems == [
        "recovery_allowed: user 'vera' may not start a recovery of plan 'shop': "
        "recovery_allowed lists bob, role:op; the user's roles: viewer"
    ]


@pytest.mark.usefixtures("simple_users")
def test_preflight_lets_a_listed_user_or_role_recover_and_anyone_drill() -> None:
    guarded = preflight(["bob", "role:op"])
    assert guarded.check_safety(RECOVERY, "manual", "bob") == []
    assert guarded.check_safety(RECOVERY, "manual", "alice") == []  # role op
    assert guarded.check_safety({"mode": "drill"}, "manual", "vera") == []
    assert preflight(None).check_safety(RECOVERY, "manual", "vera") == []


@pytest.mark.usefixtures("simple_users")
def test_preflight_says_every_problem_of_the_parameters_at_once() -> None:
    problems = preflight(["bob"]).check_safety({"mode": "recovery"}, "manual", "vera")

    assert len(problems) == 2
    assert problems[0].startswith("recovery_allowed: user 'vera'")
    assert problems[1].startswith("confirm: mode=recovery needs confirm='shop'")


def test_preflight_asks_no_auth_manager_for_a_user_listed_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__AUTH_MANAGER", "no_such_module.NoAuthManager")
    assert preflight(["bob", "role:op"]).check_safety(RECOVERY, "manual", "bob") == []
    (problem,) = preflight(["bob", "role:op"]).check_safety(RECOVERY, "manual", "carol")
    assert "user 'carol'" in problem and "roles are unknown (the auth manager could not be loaded" in problem
