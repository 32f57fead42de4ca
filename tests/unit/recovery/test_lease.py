"""The plan lease's rules: one run of a plan launches at a time, and a recovery goes first."""

from __future__ import annotations

import pickle

import pytest

from drs_provider.exceptions import DrsPreemptedError
from drs_provider.factory.retries import VERDICTS
from drs_provider.recovery.lease import Lease, drill_verdict, lease_variable, recovery_lease

NOW = "2026-12-06T08:00:00+00:00"
DRILL = Lease(run_id="drill-1", mode="drill", taken_at=NOW)
RECOVERY = Lease(run_id="rec-1", mode="recovery", taken_at=NOW, preempted=("drill-1",))


def test_the_lease_is_a_variable_per_plan_and_survives_json() -> None:
    assert lease_variable("shop") == "drs_plan_lease.shop"
    assert Lease.from_json(RECOVERY.to_json()) == RECOVERY
    assert Lease.from_json(DRILL.to_json()) == DRILL


@pytest.mark.parametrize("text", [None, "", "not json", "[]", '{"mode": "drill"}'])
def test_an_unreadable_lease_holds_nothing(text: str | None) -> None:
    assert Lease.from_json(text) is None
    assert drill_verdict(Lease.from_json(text), "drill-2", holder_active=True) == "take"


@pytest.mark.parametrize(
    ("holder", "active", "verdict"),
    [
        (None, False, "take"),
        (DRILL, False, "take"),  # the other drill ended
        (DRILL, True, "wait"),
        (RECOVERY, True, "refuse"),  # no drill starts while a recovery is going
        (RECOVERY, False, "take"),
        (Lease(run_id="drill-2", mode="drill", taken_at=NOW), True, "take"),  # its own lease
    ],
)
def test_what_a_drill_does_about_the_lease(holder: Lease | None, active: bool, verdict: str) -> None:
    assert drill_verdict(holder, "drill-2", holder_active=active) == verdict


def test_a_recovery_preempts_the_drill_going_and_only_that_one() -> None:
    taken = recovery_lease(DRILL, "rec-2", "recovery", holder_active=True, now=NOW)

    assert taken == Lease(run_id="rec-2", mode="recovery", taken_at=NOW, preempted=("drill-1",))
    assert taken.preempts("drill-1")
    assert not taken.preempts("drill-9")
    assert recovery_lease(DRILL, "rec-2", "recovery", holder_active=False, now=NOW).preempted == ()
    assert recovery_lease(None, "rec-2", "recovery", holder_active=False, now=NOW).preempted == ()


def test_a_recovery_taking_the_lease_again_keeps_every_drill_it_preempted() -> None:
    # its retried preflight: its own lease, with the drill it preempted
    again = recovery_lease(RECOVERY, "rec-1", "recovery", holder_active=True, now=NOW)
    assert again.preempted == ("drill-1",)
    # a drill that read the lease free wrote over it: that one is preempted too, the first stays
    overwritten = Lease(run_id="drill-2", mode="drill", taken_at=NOW)
    retaken = recovery_lease(
        overwritten, "rec-1", "recovery", holder_active=True, now=NOW, preempted=("drill-1",)
    )
    assert retaken.preempted == ("drill-1", "drill-2")


def test_a_drill_lease_preempts_nobody() -> None:
    assert not Lease(run_id="drill-3", mode="drill", taken_at=NOW, preempted=("drill-1",)).preempts("drill-1")


def test_one_recovery_at_a_time() -> None:
    with pytest.raises(ValueError, match="recovery run rec-1 of this plan is still going"):
        recovery_lease(RECOVERY, "rec-2", "recovery", holder_active=True, now=NOW)
    # the same run taking it again (a retried preflight), or after the other ended
    assert recovery_lease(RECOVERY, "rec-1", "recovery", holder_active=True, now=NOW).run_id == "rec-1"
    assert recovery_lease(RECOVERY, "rec-2", "recovery", holder_active=False, now=NOW).run_id == "rec-2"


def test_preemption_is_a_verdict_that_names_both_runs_and_crosses_processes() -> None:
    error = pickle.loads(pickle.dumps(DrsPreemptedError("drill-1", "rec-1")))

    assert str(error) == "drill drill-1 preempted by recovery rec-1"
    assert (error.run_id, error.by) == ("drill-1", "rec-1")
    assert DrsPreemptedError in VERDICTS
