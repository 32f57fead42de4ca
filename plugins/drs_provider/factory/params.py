"""The run-time parameters of a plan's DAG (docs/reference/run-parameters.md), as Airflow Params.

Each Param carries a JSON Schema, so the UI's trigger form, the REST API and ``airflow dags
trigger`` all reject a bad ``conf`` before a run is created. The preflight task checks the
same values again (a run created some other way still cannot launch with them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import FAILBACK_DRILL_PARAM, MODE_DRILL, RELAUNCH_RECOVERED_PARAM, RUN_MODES

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan

#: ISO-8601 date and time, seconds and zone optional (a missing zone means UTC). No JSON Schema
#: ``format: date-time``: jsonschema checks that format only when an optional package
#: (rfc3339-validator) happens to be installed, and then refuses times without a zone, so the
#: same conf would pass on one installation and fail on another. The pattern always applies.
POINT_IN_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$"


def plan_params(plan: Plan) -> dict[str, Any]:
    """The ``params`` of ``plan``'s DAG: ``mode``, ``confirm``, ``waves``, ``point_in_time``,
    ``keep_instances``, ``relaunch_recovered``, ``failback_drill``
    (:data:`~drs_provider.constants.RUN_PARAMS`)."""
    # Imported here: rendering calls this once per plan, and the plans layer stays Airflow-free.
    from airflow.sdk import Param

    wave_names = [wave.name for wave in plan.waves]
    return {
        "mode": Param(
            MODE_DRILL,
            type="string",
            enum=list(RUN_MODES),
            title="Mode",
            description=(
                "drill: launch drill instances and leave production alone (the default). "
                "recovery: a real recovery; needs 'confirm' set to the plan name. "
                "failback: bring a recovered plan home, to the region or site its servers came "
                "from; needs 'confirm' like a recovery. Scheduled runs are always drills."
            ),
        ),
        # Optional in the schema (null allowed, null by default): the UI's trigger form marks a
        # Param without "null" in its type as required and keeps Trigger disabled while it is
        # empty, so a drill could not start without typing. A recovery is still refused by
        # preflight, before any DRS call, unless confirm equals the plan name.
        "confirm": Param(
            None,
            type=["null", "string"],
            title="Confirm recovery",
            description=(
                f"Leave empty for a drill. For mode=recovery or mode=failback: type the plan name "
                f"({plan.name}) to confirm."
            ),
        ),
        "waves": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "enum": wave_names},
            uniqueItems=True,
            examples=wave_names,
            title="Waves",
            description=(
                "Run only these waves (empty: every wave). Dependencies among the chosen "
                "waves still hold; the other waves are skipped."
            ),
        ),
        "point_in_time": Param(
            None,
            type=["null", "string"],
            pattern=POINT_IN_TIME_PATTERN,
            title="Point in time",
            description=(
                "Optional ISO-8601 time, e.g. 2026-05-04T03:00:00Z (no zone means UTC): launch "
                "each server from its latest recovery snapshot taken at or before it."
            ),
        ),
        "keep_instances": Param(
            False,
            type="boolean",
            title="Keep the drill instances",
            description=(
                "Drills only: skip this run's cleanup and leave its drill instances running "
                "(to look at them). Terminate them later in the DRS console."
            ),
        ),
        RELAUNCH_RECOVERED_PARAM: Param(
            False,
            type="boolean",
            title="Launch over recovered servers",
            description=(
                "Recoveries only: launch even servers whose live recovery instance came from a "
                "real recovery, replacing it (DRS keeps one recovery instance per server). Without "
                "it preflight refuses them; a drill always does."
            ),
        ),
        FAILBACK_DRILL_PARAM: Param(
            False,
            type="boolean",
            title="Rehearse the failback",
            description=(
                "Failbacks only: launch in the origin region as drills, re-protect nothing, and "
                "terminate what it launched; the recovery region is left untouched."
            ),
        ),
    }
