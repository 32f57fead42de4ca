"""The rules a native recovery plan's steps must keep, checked on every change to them.

From the DRS documentation: at most 20 steps and 100 source servers per plan, a WAIT step never
first. The model's shapes bound one step (1-100 servers, a wait of 1-120 minutes, ``stepOrder``
1-20), which the wire layer checks; these rules bound the plan as a whole, so they are checked here
on the steps as they would be after the change. A plan breaking one is refused with the
ValidationException (``fieldList`` naming the member) the model gives every step operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drs_simulator import exceptions as errors

MAX_STEPS_PER_PLAN = 20
MAX_SERVERS_PER_PLAN = 100
MAX_PLANS_PER_REGION = 1000
#: quota code of the ServiceQuotaExceededException a 1,001st plan of a region gets
QUOTA_PLANS_PER_REGION = "max-recovery-plans-per-region"
DEFAULT_IMPACT = "CRITICAL"


@dataclass(frozen=True)
class StepShape:
    """What the rules look at in one step: its kind and its servers' ARNs."""

    name: str
    wait: bool
    server_arns: tuple[str, ...]


def shape_of(name: str, configuration: dict[str, Any]) -> StepShape:
    server = configuration.get("serverStepConfiguration")
    if server is None:
        return StepShape(name, True, ())
    return StepShape(name, False, tuple(entry["serverArn"] for entry in server["servers"]))


def invalid(field: str, message: str) -> errors.ValidationException:
    """The ValidationException naming one member, as the wire layer's own checks word it."""
    return errors.ValidationException(
        f"1 validation error detected: {field}: {message}",
        field_list=[{"name": field, "message": message}],
    )


def check_steps(steps: list[StepShape], field: str) -> None:
    """Refuse ``steps`` (a plan's steps in order, after a change) that break a plan-wide rule.

    :param field: the request member the change came through, named in the ``fieldList``.
    """
    if len(steps) > MAX_STEPS_PER_PLAN:
        raise invalid(
            field, f"a recovery plan holds at most {MAX_STEPS_PER_PLAN} steps; this would make {len(steps)}"
        )
    if steps and steps[0].wait:
        raise invalid(
            field, f"the first step ({steps[0].name}) would be a WAIT step; a plan starts with servers"
        )
    arns = [arn for step in steps for arn in step.server_arns]
    if len(arns) > MAX_SERVERS_PER_PLAN:
        raise invalid(
            field,
            f"a recovery plan holds at most {MAX_SERVERS_PER_PLAN} source servers; this makes {len(arns)}",
        )
    # A server launched twice in one execution would replace its own recovery instance.
    seen: set[str] = set()
    for arn in arns:
        if arn in seen:
            raise invalid(field, f"source server {arn} would be in the plan more than once")
        seen.add(arn)
