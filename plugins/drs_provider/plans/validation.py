"""Turn a parsed plan document into a :class:`~drs_provider.plans.model.Plan`, or every problem.

First the structure rules (:mod:`.structure`), then the rules that look at several values at
once: unique wave names, ``depends_on`` naming real waves, no dependency cycles, no source
server in two places, ``expect_servers`` only where tags select the servers, and launch settings
that DRS can honour together (:mod:`.wave_references`, :mod:`.server_checks`, :mod:`.step_checks`,
:mod:`.launch_checks`). Every problem is collected; a plan is built only when there are none
(:mod:`.build`), so a :class:`Plan` always holds checked values.

Every check is linear in the size of the file, except the comparison of tag selectors with each
other, which the caps of :mod:`.values` bound. A broken cap, or too many problems, ends the
checks of the file (:class:`~.structure.StopChecking`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drs_provider.exceptions import PlanError, PlanIssue
from drs_provider.plans.build import build_plan
from drs_provider.plans.launch_checks import check_launch
from drs_provider.plans.rules import PLAN
from drs_provider.plans.server_checks import check_expected_servers, check_servers_once, check_tag_overlaps
from drs_provider.plans.step_checks import check_steps
from drs_provider.plans.structure import MAX_PROBLEMS, Checker, StopChecking
from drs_provider.plans.wave_entries import wave_entries
from drs_provider.plans.wave_references import check_cycles, check_wave_names, resolve_dependencies
from drs_provider.plans.yaml_source import UNREADABLE, format_path

if TYPE_CHECKING:
    from drs_provider.plans.model import Plan
    from drs_provider.plans.yaml_source import Document


def validate_document(document: Document, *, file: str, source: str) -> Plan:
    """Return the plan in ``document``, or raise :class:`PlanError` with every problem.

    :param file: the file name shown in messages (``recovery_plans/shop.yaml``)
    :param source: the file's absolute path, kept as :attr:`Plan.source`
    """
    checker = Checker(document.source, reported={problem.path for problem in document.problems})
    try:
        plan = _check(checker, document, source)
    except StopChecking:
        plan = None
    if plan is None:
        raise PlanError(_issues(checker, document, file))
    return plan


def _check(checker: Checker, document: Document, source: str) -> Plan | None:
    for problem in document.problems:
        checker.report(problem.path, problem.message, problem.line)
    data = document.value
    if data is None and not document.problems:
        checker.report((), "the file is empty; a plan needs at least 'plan' and 'waves'")
    elif data is not None and data is not UNREADABLE and not isinstance(data, dict):
        checker.report((), f"the top level must be a mapping with 'plan' and 'waves', not {_kind(data)}")
    elif isinstance(data, dict):
        checked = checker.check(PLAN, data, ())
        assert isinstance(checked, dict)
        waves = wave_entries(checked, data)
        check_wave_names(checker, waves)
        dependencies = resolve_dependencies(checker, waves)
        check_cycles(checker, waves, dependencies)
        check_servers_once(checker, waves)
        check_tag_overlaps(checker, waves)
        check_steps(checker, waves)
        check_expected_servers(checker, waves)
        check_launch(checker, waves)
        if not checker.problems:
            return build_plan(checked, waves, dependencies, source)
    return None


def _kind(value: object) -> str:
    return "a list" if isinstance(value, list) else f"a single value ({type(value).__name__})"


def _issues(checker: Checker, document: Document, file: str) -> list[PlanIssue]:
    located: list[tuple[int, int, PlanIssue]] = []
    for order, problem in enumerate(checker.problems):
        line = problem.line or document.source.line_of(problem.path)
        message = problem.message
        if line and not message.startswith("YAML syntax error"):
            message = f"{message} (line {line})"
        located.append((line or 0, order, PlanIssue(file, format_path(problem.path), message)))
    located.sort(key=lambda item: (item[0], item[1]))
    issues = [issue for _, _, issue in located]
    if checker.stopped_at_max_problems:
        issues.append(
            PlanIssue(file, "", f"{MAX_PROBLEMS} problems found, checking stopped: fix these first")
        )
    return issues
