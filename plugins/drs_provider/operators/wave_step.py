"""What a runbook step of a plan wave adds to the operator of its kind (:class:`WaveStepMixin`):

* the first task of a wave skips itself (and so the whole wave) when the run leaves the wave
  out, and refuses to run without ``preflight``'s result;
* a step passes at once in a run whose mode is not among its ``modes``: it succeeds, saying
  why (XCom ``step_outcome``); a skip would skip the rest of the wave's chain with it;
* an ``optional`` step's failure is logged, kept as XCom ``step_outcome`` and ends the task in
  success, so the wave goes on (a failed task would stop it);
* what the step knows of the run: its mode, and the wave's per-server results so far;
* none of its fields is a template (:class:`~drs_provider.operators.plan_task.PlanTextMixin`):
  the plan's text reaches AWS and the approver as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drs_provider.constants import MODE_RECOVERY, PREFLIGHT_TASK_ID, RUN_MODES, STEP_OUTCOME_XCOM_KEY
from drs_provider.operators.plan_run import require_wave_in_run, resolved_run
from drs_provider.operators.plan_task import FLOW_CONTROL, PlanTaskMixin, error_text

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from airflow.sdk import Context

    from drs_provider.recovery.run import ResolvedRun


class WaveStepMixin(PlanTaskMixin):
    """What every runbook step of a plan wave adds to its operator (see the module docstring).

    :param plan_name: the plan.
    :param wave_name: the wave the step belongs to.
    :param step_name: the step's name in the plan (its task ID within the wave's group).
    :param phase: ``pre`` or ``post``.
    :param optional: a failure is logged and reported, and the wave goes on.
    :param first_in_wave: this is the wave's first task: it decides whether the wave runs.
    :param modes: the run modes the step runs in; in another it passes at once.
    """

    # Set by the operator class this mixes into.
    task_id: str
    log: Any

    #: why the step passes in a run of another mode: ``{mode}`` the run's, ``{modes}`` the step's
    other_mode_message = "not run in a {mode} run (it runs in {modes} runs only)"

    def __init__(
        self,
        *,
        plan_name: str,
        wave_name: str,
        step_name: str,
        phase: str,
        optional: bool = False,
        first_in_wave: bool = False,
        preflight_task_id: str = PREFLIGHT_TASK_ID,
        modes: Sequence[str] = RUN_MODES,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan_name = plan_name
        self.wave_name = wave_name
        self.step_name = step_name
        self.phase = phase
        self.optional = optional
        self.first_in_wave = first_in_wave
        self.preflight_task_id = preflight_task_id
        self.modes = tuple(modes)
        #: the mode of the run this task is in, once :meth:`run_task` has read it
        self.run_mode = MODE_RECOVERY

    def passes_at_once(self, context: Context, run: ResolvedRun | None) -> str | None:
        """Why this step has nothing more to do in this run (it then succeeds at once), or None.
        Called only in a run of one of its :attr:`modes`."""
        return None

    def _other_mode(self, context: Context, run: ResolvedRun | None) -> str | None:
        """Why this run's mode is none of the step's (the step then succeeds at once), or None."""
        self.run_mode = run_mode(context, run)
        if self.run_mode in self.modes:
            return None
        return self.other_mode_message.format(mode=self.run_mode, modes=", ".join(self.modes))

    def run_task(self, context: Context) -> Any:
        if self.first_in_wave:
            run: ResolvedRun | None = require_wave_in_run(
                context, self.plan_name, self.wave_name, self.preflight_task_id
            )
        else:
            run = resolved_run(context, self.preflight_task_id)
        reason = self._other_mode(context, run) or self.passes_at_once(context, run)
        if reason:
            self.log.info("%s", reason)
            context["ti"].xcom_push(key=STEP_OUTCOME_XCOM_KEY, value={"state": "passed", "message": reason})
            return None
        return self._guarded(context, self.execute_step, context)

    def execute_step(self, context: Context) -> Any:
        """What the step does; by default the operator's own ``execute``."""
        return super().run_task(context)

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        return self._guarded(context, super().resume_execution, next_method, next_kwargs, context)

    def _guarded(self, context: Context, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except FLOW_CONTROL:
            raise
        except Exception as error:
            if not self.optional:
                raise
            message = error_text(error)
            self.log.error("optional step %s failed; the wave goes on: %s", self.task_id, message)
            context["ti"].xcom_push(
                key=STEP_OUTCOME_XCOM_KEY, value={"state": "failed", "optional": True, "message": message}
            )
            return None


def run_mode(context: Context, run: ResolvedRun | None) -> str:
    """The run's mode: as preflight resolved it, else its ``mode`` parameter. Neither known (a
    hand-written DAG without them): a recovery, the careful side, where an approval asks."""
    if run is not None:
        return run.mode
    mode = (context.get("params") or {}).get("mode")
    return str(mode) if mode in RUN_MODES else MODE_RECOVERY
