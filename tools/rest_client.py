"""A small client for the Airflow 3 REST API v2, used the way an operator's script would use it.

It logs in with ``POST /auth/token`` (simple auth manager) and sends the JWT as a bearer token,
logging in again when the token is refused. Every call is plain HTTP against the API server::

    rest = RestClient("http://127.0.0.1:8080", "admin", "secret")
    run_id = rest.trigger("drs_plan_shop", {"mode": "drill"})   # unpauses the DAG first
    state = rest.wait_for_run("drs_plan_shop", run_id, timeout=300)
    rest.task_instances("drs_plan_shop", run_id)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import requests

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: Dag run states after which nothing more happens to the run.
FINISHED_RUN_STATES = frozenset({"success", "failed"})
#: Seconds to wait for an answer: longer than SQLite's wait for its write lock (the stack's
#: ``SQLITE_LOCK_TIMEOUT``, 30 s), so that a request the lock held up comes back as an answer
#: (sent again when it says so) rather than as a client timeout.
ANSWER_TIMEOUT = 60.0
#: Seconds to wait before each new try of a request SQLite refused as locked: one try more than
#: there are waits. A refusal can come at once (a write that lost a race for the lock) as well as
#: after the lock's timeout, and a busy machine can see several in a row; 30 s in all.
LOCKED_WAITS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0)


class RestApiError(RuntimeError):
    """The API answered with an unexpected status; the message holds the method, path and body."""

    def __init__(self, method: str, path: str, status: int, body: str, *, note: str = "") -> None:
        super().__init__(f"{method} {path} -> HTTP {status}{note}: {body[:2000]}")
        self.status = status
        self.body = body


def _quoted(value: str) -> str:
    return quote(value, safe="")


def _database_locked(response: requests.Response) -> bool:
    """An HTTP 500 for SQLite's "database is locked" (the stacks expose the database's error)."""
    return response.status_code == 500 and "database is locked" in response.text


class RestClient:
    """Airflow REST API v2 client with JWT login.

    :param base_url: the API server's root URL, e.g. ``http://127.0.0.1:8080``.
    :param username: a user of the simple auth manager.
    :param password: that user's password.
    :param timeout: seconds per HTTP request.
    :param locked_waits: seconds to wait before each new try of a request refused as locked.
    """

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        timeout: float = ANSWER_TIMEOUT,
        locked_waits: tuple[float, ...] = LOCKED_WAITS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self.timeout = timeout
        self.locked_waits = locked_waits
        self._http = requests.Session()
        self._token: str | None = None

    # -- plumbing ------------------------------------------------------------------------------

    def login(self) -> str:
        """Get a fresh JWT from ``POST /auth/token``."""
        response = self._http.post(
            f"{self.base_url}/auth/token",
            json={"username": self.username, "password": self.password},
            timeout=self.timeout,
        )
        if response.status_code not in (200, 201):
            raise RestApiError("POST", "/auth/token", response.status_code, response.text)
        self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, *, expected: tuple[int, ...] = (200,), **kwargs: Any) -> Any:
        """Send an authenticated request to ``path`` (below the base URL); return the JSON body.

        A request SQLite refused ("database is locked": its statement failed, so nothing of it was
        written) is sent again after each of :attr:`locked_waits`. The error after the last names how
        long each refused try took: a refusal at once and one after the lock's timeout differ.
        """
        logged_in_again = False
        locked_tries: list[float] = []  # seconds each try refused as locked took to answer
        while True:
            token = self._token or self.login()
            sent = time.monotonic()
            response = self._http.request(
                method,
                f"{self.base_url}{path}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout,
                **kwargs,
            )
            if response.status_code == 401 and not logged_in_again:
                self._token = None  # expired or from an earlier API server: log in again
                logged_in_again = True
                continue
            if _database_locked(response):
                locked_tries.append(time.monotonic() - sent)
                if len(locked_tries) <= len(self.locked_waits):
                    time.sleep(self.locked_waits[len(locked_tries) - 1])
                    continue
            if response.status_code not in expected:
                note = ""
                if locked_tries:
                    took = ", ".join(f"{seconds:.1f}" for seconds in locked_tries)
                    note = f" (refused as locked on {len(locked_tries)} tries, answered after {took} s)"
                raise RestApiError(method, path, response.status_code, response.text, note=note)
            return response.json() if response.content else None

    def close(self) -> None:
        self._http.close()

    # -- DAGs ----------------------------------------------------------------------------------

    def dag(self, dag_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/api/v2/dags/{_quoted(dag_id)}")
        return result

    def dags(self) -> list[dict[str, Any]]:
        return self._paged("/api/v2/dags", "dags")

    def tasks(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's tasks, each with ``task_id`` and ``downstream_task_ids``."""
        result: list[dict[str, Any]] = self.request("GET", f"/api/v2/dags/{_quoted(dag_id)}/tasks")["tasks"]
        return result

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/api/v2/dags/{_quoted(dag_id)}", json={"is_paused": False})

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> dict[str, Any]:
        """Wait until the DAG is parsed and known to the API server; return it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.dag(dag_id)
            except RestApiError as error:
                if error.status != 404:
                    raise
            if time.monotonic() >= deadline:
                errors = self.import_errors()
                raise TimeoutError(
                    f"DAG {dag_id} did not appear within {timeout:.0f}s; import errors: {errors}"
                )
            time.sleep(0.5)

    def import_errors(self) -> list[dict[str, Any]]:
        """Every DAG file that failed to import, with its stack trace."""
        return self._paged("/api/v2/importErrors", "import_errors")

    # -- runs ----------------------------------------------------------------------------------

    def trigger(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, *, run_id: str | None = None
    ) -> str:
        """Unpause the DAG and start a run now with ``conf``; return the run id."""
        self._once_more_on_timeout(lambda: self.unpause(dag_id))
        return self.start_run(dag_id, conf, run_id=run_id)

    def start_run(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, *, run_id: str | None = None
    ) -> str:
        """Start a run of the (unpaused) DAG now with ``conf``, as this client's user; return the run id.

        The run gets its id here, so that a request whose answer is lost (a busy API server on
        SQLite can take over the client's timeout) is asked for again, never sent twice.
        """
        run_id = run_id or f"manual__{datetime.now(UTC).isoformat()}"
        body: dict[str, Any] = {"logical_date": None, "conf": dict(conf or {}), "dag_run_id": run_id}
        runs = f"/api/v2/dags/{_quoted(dag_id)}/dagRuns"
        try:
            run = self.request("POST", runs, json=body)
        except requests.exceptions.Timeout:
            try:  # it may exist already: the answer was lost, not the request
                run = self.request("GET", f"{runs}/{_quoted(run_id)}")
            except RestApiError as missing:
                if missing.status != 404:
                    raise
                run = self.request("POST", runs, json=body)
        return str(run["dag_run_id"])

    @staticmethod
    def _once_more_on_timeout(call: Callable[[], Any]) -> Any:
        """An idempotent request, sent again once if its answer timed out."""
        try:
            return call()
        except requests.exceptions.Timeout:
            return call()

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "GET", f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}"
        )
        return result

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (``task_id``, ``state``, ``start_date``, ...)."""
        return self._paged(
            f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}/taskInstances", "task_instances"
        )

    def task_tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict[str, Any]]:
        """Every try of a task instance, oldest first (``try_number``, ``state``, ``start_date``)."""
        answer = self.request(
            "GET",
            f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}/taskInstances/{_quoted(task_id)}/tries",
        )
        return sorted(answer["task_instances"], key=lambda attempt: attempt["try_number"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """``{task_id: state}`` for the run (mapped tasks are not used by plan DAGs)."""
        return {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """The deserialised value of an XCom entry."""
        entry = self.request(
            "GET",
            f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}/taskInstances/"
            f"{_quoted(task_id)}/xcomEntries/{_quoted(key)}",
            params={"deserialize": "true"},
        )
        return entry["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> dict[str, Any]:
        """A try's whole task log as the REST API serves it (``{"content": [...], ...}``)."""
        served: dict[str, Any] = self.request(
            "GET",
            f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}/taskInstances/"
            f"{_quoted(task_id)}/logs/{try_number}",
            params={"full_content": "true"},
        )
        return served

    def log_lines(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> list[str]:
        """The messages of a try's task log, an exception's text included."""
        lines = []
        for entry in self.task_log(dag_id, run_id, task_id, try_number)["content"]:
            if not isinstance(entry, dict):
                lines.append(str(entry))
                continue
            lines.append(str(entry.get("event", "")))
            lines.extend(
                f"{detail.get('exc_type')}: {detail.get('exc_value')}"
                for detail in entry.get("error_detail") or ()
            )
        return lines

    def answer_approval(self, dag_id: str, run_id: str, task_id: str, option: str) -> dict[str, Any]:
        """Answer a waiting approval (``Approve`` or ``Reject``) through the HITL endpoint."""
        result: dict[str, Any] = self.request(
            "PATCH",
            f"/api/v2/dags/{_quoted(dag_id)}/dagRuns/{_quoted(run_id)}/taskInstances/{_quoted(task_id)}/-1/hitlDetails",
            json={"chosen_options": [option], "params_input": {}},
        )
        return result

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 600.0,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
        *,
        poll_interval: float = 1.0,
    ) -> str:
        """Poll the run until it is finished and return its final state (``success``/``failed``).

        :param on_poll: called with the dag run after every poll (progress output, fault injection).
        :raises TimeoutError: with the task states, when the run is still going at the deadline.
        """
        deadline = time.monotonic() + timeout
        while True:
            run = self.dag_run(dag_id, run_id)
            if on_poll is not None:
                on_poll(run)
            if run["state"] in FINISHED_RUN_STATES:
                return str(run["state"])
            if time.monotonic() >= deadline:
                states = self.task_states(dag_id, run_id)
                raise TimeoutError(
                    f"run {run_id} of {dag_id} still {run['state']} after {timeout:.0f}s; tasks: {states}"
                )
            time.sleep(poll_interval)

    # -- health --------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``GET /api/v2/monitor/health`` (needs no login)."""
        response = self._http.get(f"{self.base_url}/api/v2/monitor/health", timeout=self.timeout)
        if response.status_code != 200:
            raise RestApiError("GET", "/api/v2/monitor/health", response.status_code, response.text)
        result: dict[str, Any] = response.json()
        return result

    def _paged(self, path: str, field: str, page_size: int = 100) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.request("GET", path, params={"limit": page_size, "offset": len(items)})
            items.extend(page[field])
            if not page[field] or len(items) >= page["total_entries"]:
                return items
