"""The least-privilege IAM policy of recovery plans (``drs-plan iam-policy``): generated from what
the provider calls, not guessed.

This module is the one place that knows

* which AWS API operations the provider calls, by mode (:data:`MODES`) and by what a plan uses:
  every plan run reads DRS and starts recovery jobs, a drill also terminates what it launched, a
  failback reverses replication, launches home (StartRecovery in an EC2 origin's region,
  StartFailbackLaunch on premises) and cleans up, readiness only reads; ``notify`` adds SNS,
  ``report`` adds S3, ``failback_cleanup: terminate`` adds StopReplication, ``rpo_target`` and
  ``launch`` add readiness look-ups, ``native_plan: true`` adds readiness's native recovery
  plan calls. A step kind declares its own calls in its module
  (:attr:`~drs_provider.steps.registry.StepKind.calls`, granted in the step's ``modes``, and
  preflight's look-ups of :attr:`~drs_provider.steps.registry.StepKind.needs`, in every mode), so
  that a kind stays one module;
* which IAM actions an operation needs (:func:`action_of`): ``<prefix>:<Operation>`` unless
  :data:`ACTION_NAMES` says otherwise, and the dependent actions AWS also checks
  (:data:`DEPENDENT_ACTIONS`);
* which resources a grant can honestly be narrowed to: a plan's report objects under its S3
  prefix, its ``notify`` topic, the Lambda functions its steps name. Anything else is ``*``.

``tests/integration/factory/test_iam_policy.py`` holds it to the truth: real plan runs and
readiness checks against the DRS simulator and moto, whose call logs must name exactly the
actions granted here.

Like the plan layer it imports neither Airflow nor boto3, so ``drs-plan iam-policy`` runs anywhere.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from drs_provider.constants import RUN_MODES
from drs_provider.iam.actions import POLICY_VERSION, Conditions
from drs_provider.iam.grants import Grant, plan_grants

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from drs_provider.plans.model import Plan


# --- the policy document -------------------------------------------------------------------

#: Statements in this order; others (a kind's own service) after them, by Sid.
STATEMENT_ORDER = (
    "DrsRead",
    "DrsStartRecovery",
    "DrsStartRecoveryDependentActions",
    "DrsTagJobsAtStart",
    "DrsFailback",
    "DrsFailbackDependentActions",
    "DrsTagFailbackJobsAtStart",
    "DrsTerminateDrillInstances",
    "DrsTerminateDrillInstancesDependentActions",
    "DrsFailbackCleanup",
    "DrsFailbackCleanupDependentActions",
    "DrsNativePlans",
    "Ec2ReadLaunchTemplates",
    "ServiceQuotasRead",
    "SnsNotify",
    "S3ReportObjects",
    "S3ReportBucket",
)


def _rank(sid: str) -> tuple[int, str]:
    return (STATEMENT_ORDER.index(sid) if sid in STATEMENT_ORDER else len(STATEMENT_ORDER), sid)


def _unique(grants: Iterable[Grant]) -> list[Grant]:
    """Each action on each resource once, in the statement that comes first (an action both a
    dependency and called directly is listed where it is called)."""
    kept: dict[tuple[str, str, Conditions], Grant] = {}
    for grant in sorted(grants, key=lambda g: _rank(g.sid)):
        kept.setdefault((grant.action, grant.resource, grant.condition), grant)
    return list(kept.values())


def _statement(
    sid: str, actions: Sequence[str], resources: Sequence[str], condition: Conditions
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": resources[0] if len(resources) == 1 else sorted(resources),
    }
    for operator, key, value in condition:
        statement.setdefault("Condition", {}).setdefault(operator, {})[key] = value
    return statement


def statements(grants: Iterable[Grant]) -> list[dict[str, Any]]:
    """IAM statements granting exactly ``grants``: in each Sid's statement, the actions that act on
    the same resources together (a second statement ``<Sid>2`` where they differ)."""
    by_sid: dict[tuple[str, Conditions], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for grant in _unique(grants):
        by_sid[(grant.sid, grant.condition)][grant.action].add(grant.resource)
    result = []
    for sid, condition in sorted(by_sid, key=lambda key: (_rank(key[0]), key[1])):
        groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for action, on in by_sid[(sid, condition)].items():
            groups[tuple(sorted(on))].append(action)
        ordered = sorted(groups.items(), key=lambda group: (sorted(group[1]), group[0]))
        for number, (resources, actions) in enumerate(ordered, start=1):
            name = sid if number == 1 else f"{sid}{number}"
            result.append(_statement(name, actions, resources, condition))
    return result


def iam_policy(plans: Iterable[Plan], modes: Sequence[str] = RUN_MODES) -> dict[str, Any]:
    """The IAM policy document that lets ``plans`` do everything they do in ``modes``, and no more."""
    grants = [grant for plan in plans for mode in modes for grant in plan_grants(plan, mode)]
    return {"Version": POLICY_VERSION, "Statement": statements(grants)}


def granted_actions(policy: dict[str, Any]) -> set[str]:
    """Every action ``policy`` grants on some resource."""
    return {action for statement in policy["Statement"] for action in statement["Action"]}
