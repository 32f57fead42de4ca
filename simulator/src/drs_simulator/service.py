"""The botocore ``drs`` service model: the one source of truth for paths, shapes and errors."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import botocore.session
from botocore.model import OperationModel, ServiceModel


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    session = botocore.session.get_session()
    return ServiceModel(session.get_service_data("drs"), service_name="drs")


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding: method + path template compiled to a regex."""

    operation: str
    method: str
    template: str
    regex: re.Pattern[str]
    status: int


def _compile(template: str) -> re.Pattern[str]:
    path = template.split("?", 1)[0]
    out = ""
    for part in re.split(r"(\{[^}]+\})", path):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1].rstrip("+")
            # Labels may hold '/' (greedy labels, or ARNs that a client sent without encoding it).
            out += f"(?P<{name}>.+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


@functools.lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    model = service_model()
    found = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        found.append(
            Route(
                operation=name,
                method=http["method"].upper(),
                template=http["requestUri"],
                regex=_compile(http["requestUri"]),
                status=int(http.get("responseCode", 200)),
            )
        )
    # Literal paths before templated ones, so /tags/{x} never shadows a literal path.
    found.sort(key=lambda r: ("{" in r.template, r.template))
    return tuple(found)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for ``method`` + ``path`` (path already without the query string), or None."""
    for route in routes():
        if route.method != method.upper():
            continue
        found = route.regex.match(path)
        if found:
            return route, found.groupdict()
    return None


def path_exists(path: str) -> bool:
    return any(route.regex.match(path) for route in routes())


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


@functools.lru_cache(maxsize=64)
def error_body_members(code: str) -> frozenset[str] | None:
    """Members of error shape ``code`` that travel in the body, or None if ``code`` is not modelled."""
    model = service_model()
    if code not in model.shape_names:
        return None
    shape = model.shape_for(code)
    if not shape.metadata.get("exception"):
        return None
    return frozenset(
        name for name, member in shape.members.items() if member.serialization.get("location") is None
    )


def enum_values(shape_name: str) -> tuple[str, ...]:
    return tuple(service_model().shape_for(shape_name).enum)
