"""Who triggered a plan DAG run, and what roles the auth manager gives them (for ``recovery_allowed``).

The user is the DAG run's ``triggering_user_name`` (Airflow 3.1+), which Airflow itself records:
the REST API and the UI's trigger form (which calls the REST API) set it to the signed-in user's
name (``get_name()`` of the auth manager's user), ``airflow dags trigger`` to the operating-system
user running the command (the CLI has no Airflow login), and scheduled runs leave it empty. A
task cannot change it, and neither can a run's ``conf``.

Roles: a task has no request and no token, so it asks the configured auth manager's own user
list where there is one. The simple auth manager (and subclasses of it) keeps each user's one
role in ``[core] simple_auth_manager_users`` (``user:role``); with ``[core]
simple_auth_manager_all_admins`` everyone is ``admin``. Other auth managers (FAB, Keycloak, ...)
do not tell a task a user's roles: there a plan's ``role:`` entries match nobody, and preflight
says so; list users by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Context


def triggering_user(context: Context) -> str | None:
    """The name of the user who triggered the run, as Airflow recorded it (None when nobody did).

    A plan run that ``drs_failover`` starts (``operator_triggered``) carries the user who
    triggered the failover: Airflow records it for runs a task triggers too.
    """
    name = getattr(context.get("dag_run"), "triggering_user_name", None)
    return str(name) if name else None


#: The simple auth manager, named as ``[core] auth_manager`` names it by default.
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


def _is_simple_auth_manager(path: str) -> tuple[bool, str]:
    """Whether ``[core] auth_manager`` is the simple auth manager or a subclass (importing it only
    when it is something else: the simple auth manager's module brings the whole API app)."""
    if path == SIMPLE_AUTH_MANAGER:
        return True, ""
    from airflow.configuration import conf

    try:
        manager = conf.getimport("core", "auth_manager")
        from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager
    except Exception as error:  # an auth manager that cannot be imported here: say so, allow nobody by role
        return False, f"the auth manager could not be loaded in the task: {type(error).__name__}: {error}"
    if isinstance(manager, type) and issubclass(manager, SimpleAuthManager):
        return True, ""
    name = getattr(manager, "__name__", str(manager))
    return False, f"{name} does not tell a task its users' roles; list the user by name"


def user_roles(user: str) -> tuple[frozenset[str] | None, str]:
    """``(roles, why unknown)``: the user's roles from the auth manager's configuration, or
    ``(None, reason)`` when the configured auth manager cannot tell them to a task."""
    from airflow.configuration import conf

    simple, reason = _is_simple_auth_manager(conf.get("core", "auth_manager", fallback=SIMPLE_AUTH_MANAGER))
    if not simple:
        return None, reason
    if conf.getboolean("core", "simple_auth_manager_all_admins", fallback=False):
        return frozenset({"admin"}), ""
    # ``user:role`` or ``user:role:team|team``, as SimpleAuthManager.get_users() reads them.
    for entry in conf.getlist("core", "simple_auth_manager_users", fallback=[]):
        name, _, rest = entry.strip().partition(":")
        if name == user:
            role = rest.split(":", 1)[0]
            return (frozenset({role}) if role else frozenset()), ""
    return frozenset(), ""
