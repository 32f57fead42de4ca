"""The plan lease: which run of a plan may launch, so that a recovery goes before any drill.

One run of a plan works at a time, but a recovery must not queue behind a drill that waits on
an approval. So the plan DAG lets runs start side by side, and its runs agree through a lease
(an Airflow Variable ``drs_plan_lease.<plan>``, readable by admins in the Variables page):

* a drill takes the lease when no other run of the plan holds it; while another drill holds
  it, the drill waits; while a recovery holds it, the drill is refused before any DRS call;
* a recovery takes it once its preflight passed, from a drill too: that drill is *preempted*
  (named in the lease's ``preempted``), launches nothing more, closes its open approvals and
  terminates what it launched;
* a holder whose run has ended holds nothing: a lease is never released, so a run that dies
  cannot block its plan.

This module is the lease's data and rules, without Airflow (:mod:`drs_provider.operators.plan_lease`
reads and writes it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal

from drs_provider.constants import MODE_DRILL

#: The Airflow Variable holding a plan's lease.
LEASE_VARIABLE_PREFIX = "drs_plan_lease."
#: Dag run states in which a holder still holds its lease.
HOLDING_STATES = frozenset({"queued", "running"})

Verdict = Literal["take", "wait", "refuse"]


def lease_variable(plan: str) -> str:
    return f"{LEASE_VARIABLE_PREFIX}{plan}"


@dataclass(frozen=True)
class Lease:
    """Who holds a plan: the run, its mode, since when, and the drills it preempted."""

    run_id: str
    mode: str
    taken_at: str
    preempted: tuple[str, ...] = field(default=())

    @property
    def is_drill(self) -> bool:
        return self.mode == MODE_DRILL

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "mode": self.mode,
                "taken_at": self.taken_at,
                "preempted": list(self.preempted),
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> Lease | None:
        """The lease, or None for no lease or one that cannot be read (then nobody holds it)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            return cls(
                run_id=str(data["run_id"]),
                mode=str(data["mode"]),
                taken_at=str(data["taken_at"]),
                preempted=tuple(str(run) for run in data.get("preempted") or ()),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def preempts(self, run_id: str) -> bool:
        """This lease's holder preempted the drill ``run_id``."""
        return not self.is_drill and run_id in self.preempted


def drill_verdict(holder: Lease | None, run_id: str, holder_active: bool) -> Verdict:
    """What a drill does about the lease: take it, wait for another drill, or be refused."""
    if holder is None or holder.run_id == run_id or not holder_active:
        return "take"
    return "wait" if holder.is_drill else "refuse"


def recovery_lease(
    holder: Lease | None,
    run_id: str,
    mode: str,
    holder_active: bool,
    now: str,
    preempted: tuple[str, ...] = (),
) -> Lease:
    """The lease a recovery takes: the drill holding it, if still going, joins ``preempted``.

    Drills this recovery preempted before (``preempted``, and those of its own lease when it
    takes it again: a retried preflight) stay preempted. Raises ``ValueError`` naming the other
    recovery when one holds the plan (one at a time).
    """
    kept = list(preempted)
    if holder is not None and holder.run_id == run_id:
        kept += holder.preempted
    elif holder is not None and holder_active:
        if not holder.is_drill:
            raise ValueError(f"{holder.mode} run {holder.run_id} of this plan is still going: one at a time")
        kept.append(holder.run_id)
    return Lease(run_id=run_id, mode=mode, taken_at=now, preempted=tuple(dict.fromkeys(kept)))
