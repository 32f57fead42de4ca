"""The rule for jobs DescribeJobs leaves out, shared by the trigger and the sensor's poke mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Container, Sequence

#: Answers in a row a job must be missing from before the wait ends with ``not_found``. One
#: more tick (a poll interval) guards against a job DRS lists a moment late, as AWS APIs may
#: do right after the call that created it.
NOT_FOUND_ANSWERS = 2


class MissingJobs:
    """Counts, per job, the DescribeJobs answers in a row that left it out.

    A job listed again starts from zero: only consecutive misses count.
    """

    def __init__(self, answers: int = NOT_FOUND_ANSWERS) -> None:
        self.answers = answers
        #: job ID -> answers in a row it was missing from
        self._counts: dict[str, int] = {}

    def record(self, job_ids: Sequence[str], found: Container[str]) -> tuple[list[str], list[str]]:
        """Count one answer listing ``found``; return (jobs it left out, jobs now given up on)."""
        missing = [job_id for job_id in job_ids if job_id not in found]
        self._counts = {job_id: self._counts.get(job_id, 0) + 1 for job_id in missing}
        gone = [job_id for job_id in missing if self._counts[job_id] >= self.answers]
        return missing, gone
