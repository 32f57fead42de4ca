"""``recovery_allowed``: who may start a recovery, decided from plain data."""

from __future__ import annotations

import pytest

from drs_provider.recovery.access import allowed_roles, allowed_users, recovery_refusal

pytestmark = pytest.mark.unit

ALLOWED = ("alice", "role:op")


def refusal(user: str | None, roles: frozenset[str] | None = frozenset(), **kwargs: object) -> str | None:
    return recovery_refusal(
        plan="shop", mode="recovery", allowed=kwargs.pop("allowed", ALLOWED), user=user, roles=roles, **kwargs
    )  # type: ignore[arg-type]


def test_users_and_roles_are_told_apart_by_the_role_prefix() -> None:
    assert allowed_users(("alice", "role:op", "bob")) == ("alice", "bob")
    assert allowed_roles(("alice", "role:op", "role:admin")) == ("op", "admin")


def test_a_plan_without_the_key_lets_everyone_recover() -> None:
    assert refusal("mallory", allowed=None) is None
    assert refusal(None, None, allowed=None) is None


def test_a_listed_user_or_a_user_with_a_listed_role_may_recover() -> None:
    assert refusal("alice") is None
    assert refusal("carol", frozenset({"op"})) is None


def test_anyone_else_is_refused_by_name() -> None:
    message = refusal("mallory", frozenset({"user"}))

    assert message == (
        "recovery_allowed: user 'mallory' may not start a recovery of plan 'shop': "
        "recovery_allowed lists alice, role:op; the user's roles: user"
    )


def test_a_role_named_like_a_user_is_not_a_user() -> None:
    # "op" listed as a role never lets in a user named "op" who does not hold it
    assert refusal("op", frozenset()) is not None
    # and a user entry never matches a role
    assert refusal("carol", frozenset({"alice"})) is not None


def test_unknown_roles_are_said_and_never_let_anyone_in() -> None:
    message = refusal("carol", None, roles_unknown_reason="FabAuthManager does not tell a task")

    assert message is not None
    assert "user 'carol'" in message and "roles are unknown (FabAuthManager does not tell a task)" in message


def test_a_run_nobody_triggered_is_refused() -> None:
    message = refusal(None, None)

    assert message is not None and "a run with no triggering user may not start a recovery" in message


def test_the_mode_is_named() -> None:
    message = recovery_refusal(plan="shop", mode="failback", allowed=["alice"], user="bob", roles=frozenset())

    assert message is not None and "may not start a failback of plan 'shop'" in message
