"""Cheaper boto3 clients for this provider's hooks: the amazon provider's way, without its two costs.

Measured in a task process (cProfile, a failback run of two waves), each new client paid about
0.2 s of CPU before its first request:

* **Botocore's data, parsed again for every session.** Each session gets its own loader, which
  reads and parses botocore's endpoint list (about 1 MB of JSON) and the service's model from
  disk. :func:`share_data_loader` gives every session of the process one loader, whose cache
  keeps what it parsed.
* **The caller in the user agent.** ``AwsBaseHook`` names the operator that makes a client in the
  client's user agent, found with ``inspect.stack()``, which reads the source lines of every frame
  on the stack. :meth:`LeanClientsMixin._get_caller` finds the same name by walking the frames,
  reading no file.

Both keep what the amazon provider does (same clients, same user agent); only the cost goes. The
provider's own hooks have :class:`LeanClientsMixin` among their bases; an amazon provider hook it
uses as it is (S3, SNS, Lambda, Service Quotas, any client type) is made through :func:`lean_hook`.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    _HookBase = AwsBaseHook
else:
    _HookBase = object

HookClass = TypeVar("HookClass", bound=type)

_loader_lock = threading.Lock()
_shared_loader: Any = None


def share_data_loader(session: Any) -> None:
    """Make ``session`` (boto3, botocore or aiobotocore) read botocore's data through the process's
    one loader: the first session's, which every later session is given before it makes a client."""
    global _shared_loader
    botocore_session = getattr(session, "_session", session)  # a boto3 session wraps a botocore one
    with _loader_lock:
        if _shared_loader is None:
            _shared_loader = botocore_session.get_component("data_loader")
            return
    botocore_session.register_component("data_loader", _shared_loader)


def preload(services: tuple[str, ...] = ("drs", "ec2", "ssm")) -> None:
    """Parse botocore's endpoint list and these services' models into the shared loader now.

    For a process that forks task processes (an executor's worker): called before its first fork,
    every task it forks inherits them parsed instead of parsing them again (about 0.1 s of CPU
    each). ``airflow_local_settings.py`` is a place to call it from.
    """
    import botocore.session

    session = botocore.session.get_session()
    share_data_loader(session)
    loader = session.get_component("data_loader")
    loader.load_data("endpoints")
    for service in services:
        loader.load_service_model(service, "service-2")


def _frames(start: FrameType | None) -> Iterator[FrameType]:
    frame = start
    while frame is not None:
        yield frame
        frame = frame.f_back


def caller_class_name(function_name: str, start: FrameType | None) -> str | None:
    """The class of ``self`` in the innermost frame (from ``start`` outwards) running a function of
    this name, as ``AwsBaseHook._find_operator_class_name`` answers it."""
    for frame in _frames(start):
        if frame.f_code.co_name == function_name and "self" in frame.f_locals:
            return type(frame.f_locals["self"]).__name__
    return None


def executor_class_name(start: FrameType | None) -> str | None:
    """As ``AwsBaseHook._find_executor_class_name``: in the innermost frame whose module has a class
    named ``BaseExecutor``, the last class of that module."""
    for frame in _frames(start):
        classes = [name for name, value in frame.f_globals.items() if isinstance(value, type)]
        if "BaseExecutor" in classes:
            return classes[-1]
    return None


class LeanClientsMixin(_HookBase):
    """Put first among an ``AwsBaseHook``'s bases: its sessions share botocore's parsed data and
    its user agent's caller is found without reading source files."""

    def get_session(self, region_name: str | None = None, deferrable: bool = False) -> Any:
        session = super().get_session(region_name=region_name, deferrable=deferrable)
        share_data_loader(session)
        return session

    def _get_caller(self, target_function_name: str = "execute") -> str:
        try:
            start = sys._getframe(1)
            caller = caller_class_name(target_function_name, start)
            if caller == "BaseSensorOperator":
                caller = caller_class_name("poke", start)
            return caller or executor_class_name(start) or "Unknown"
        except Exception:  # as the amazon provider's: a user agent never fails a client
            return "Unknown"


@functools.cache
def _lean_subclass(hook_class: type) -> type:
    return type(hook_class.__name__, (LeanClientsMixin, hook_class), {"__module__": __name__})


def lean_hook(hook_class: HookClass) -> HookClass:
    """``hook_class`` (an ``AwsBaseHook``) with :class:`LeanClientsMixin` first: one subclass per
    class, keeping its name, so ``lean_hook(S3Hook)(aws_conn_id=...)`` is an S3Hook in every way."""
    return cast("HookClass", _lean_subclass(hook_class))
