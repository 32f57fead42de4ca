"""Who may start a recovery of a plan: the plan's ``recovery_allowed`` against the run's trigger.

A plan may name ``recovery_allowed``: Airflow user names, and roles written ``role:<name>``. A run
that is not a drill (``mode: recovery``, and every mode added later, such as failback) is then
refused by ``preflight``, before any DRS call, unless the user who triggered it is listed by name
or holds a listed role. Without the key, everyone who may trigger the DAG may recover (and the
``confirm`` check still applies).

Plain data only: the operator finds the triggering user (the DAG run's ``triggering_user_name``)
and asks the auth manager for the user's roles (:mod:`drs_provider.operators.trigger_identity`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

#: How a plan names a role in ``recovery_allowed`` (anything else is a user name).
ROLE_PREFIX = "role:"


def allowed_users(allowed: Sequence[str]) -> tuple[str, ...]:
    return tuple(entry for entry in allowed if not entry.startswith(ROLE_PREFIX))


def allowed_roles(allowed: Sequence[str]) -> tuple[str, ...]:
    return tuple(entry.removeprefix(ROLE_PREFIX) for entry in allowed if entry.startswith(ROLE_PREFIX))


def recovery_refusal(
    *,
    plan: str,
    mode: str,
    allowed: Sequence[str] | None,
    user: str | None,
    roles: Collection[str] | None,
    roles_unknown_reason: str = "",
) -> str | None:
    """Why ``user`` may not start a ``mode`` run of ``plan`` (None: they may).

    :param allowed: the plan's ``recovery_allowed`` (None: no restriction).
    :param user: who triggered the run (None: nobody Airflow knows, e.g. an API call without a user).
    :param roles: the user's roles as the auth manager tells them; None when it cannot tell.
    :param roles_unknown_reason: why the roles are unknown, said when only a role could allow the user.
    """
    if allowed is None:
        return None
    users, wanted_roles = allowed_users(allowed), allowed_roles(allowed)
    if user is not None and user in users:
        return None
    held = set(roles or ())
    if user is not None and held & set(wanted_roles):
        return None
    listed = ", ".join(allowed) or "nobody"
    who = f"user {user!r}" if user is not None else "a run with no triggering user"
    detail = ""
    if user is not None and wanted_roles:
        if roles is None:
            detail = (
                f"; the user's roles are unknown ({roles_unknown_reason or 'the auth manager does not say'})"
            )
        else:
            detail = f"; the user's roles: {', '.join(sorted(held)) or 'none'}"
    return (
        f"recovery_allowed: {who} may not start a {mode} of plan {plan!r}: "
        f"recovery_allowed lists {listed}{detail}"
    )
