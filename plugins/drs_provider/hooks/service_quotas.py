"""The account's DRS quotas: their codes, how Service Quotas is asked for one, and where the limits
a launch waits for come from.

DRS names a quota it refused by its Service Quotas code (the simulator by a name of its own);
:func:`account_quota` reads a quota from the operator's argument, Airflow config, Service Quotas
(:meth:`~drs_provider.hooks.drs.DrsHook.service_quota`, which asks with :func:`applied_quota`)
or DRS's documented default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from airflow.providers.common.compat.sdk import conf
from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.constants import DEFAULT_MAX_CONCURRENT_JOBS, DEFAULT_MAX_SERVERS_IN_ACTIVE_JOBS

if TYPE_CHECKING:
    from collections.abc import Callable

    from drs_provider.hooks.drs import DrsHook

#: Service Quotas codes of the account quotas a launch waits for.
SERVICE_QUOTA_CODES = {
    "max_concurrent_jobs": "L-D88FAC3A",
    "max_servers_in_active_jobs": "L-05AFA8C6",
    "max_servers_per_job": "L-B827C881",
    "max_replicating_servers": "L-C1D14A2B",
}

#: Quota codes of "servers in one job" (Service Quotas' code, and the name the simulator answers
#: with): a launch too large for any job, unlike the account's capacity, which frees up.
SERVERS_PER_JOB_QUOTA_CODES = frozenset({"L-B827C881", "max-source-servers-per-job"})
#: Quota codes of "concurrent jobs"; any other capacity refusal is about servers in active jobs.
CONCURRENT_JOBS_QUOTA_CODES = frozenset({"L-D88FAC3A", "max-concurrent-jobs"})


class InfoLog(Protocol):
    """The one logger method :func:`applied_quota` needs (stdlib and Airflow's structured loggers have it)."""

    def info(self, msg: Any, /, *args: Any) -> Any: ...


def applied_quota(client: Callable[[], Any], quota_code: str, log: InfoLog) -> int | None:
    """The applied value of one of DRS's quotas in Service Quotas (service code ``drs``), asked with
    the Service Quotas client ``client`` makes; None (logged to ``log``) when it may not read it or
    Service Quotas does not know it."""
    value: int | None = None
    try:
        answer = client().get_service_quota(ServiceCode="drs", QuotaCode=quota_code)
        value = int(answer["Quota"]["Value"])
    except (ClientError, BotoCoreError, KeyError, TypeError, ValueError) as error:
        log.info("DRS quota %s not read from Service Quotas (%s): using the default", quota_code, error)
    return value


def account_quota(name: str, given: int | None, default: int, hook: DrsHook | None = None) -> int:
    """A DRS quota of the account: ``given``; else Airflow config ``[drs] <name>`` (an override);
    else what Service Quotas says, when ``hook``'s connection may read it; else ``default`` (DRS's
    documented default)."""
    if given is not None:
        return given
    configured = conf.get("drs", name, fallback=None)
    if configured:
        return int(configured)
    applied = hook.service_quota(SERVICE_QUOTA_CODES[name]) if hook is not None else None
    return applied if applied is not None else default


def account_quotas(max_jobs: int | None, max_servers: int | None, hook: DrsHook | None) -> tuple[int, int]:
    """The account's concurrent jobs and servers-in-active-jobs quotas (see :func:`account_quota`)."""
    return (
        account_quota("max_concurrent_jobs", max_jobs, DEFAULT_MAX_CONCURRENT_JOBS, hook),
        account_quota("max_servers_in_active_jobs", max_servers, DEFAULT_MAX_SERVERS_IN_ACTIVE_JOBS, hook),
    )
