"""Links from the Recovery view to the AWS console's DRS pages, in the region each wave's jobs ran in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from drs_provider.recovery.run_record import RunRecord, WaveShape


class ConsoleLinks:
    """AWS console pages of DRS (jobs, source servers), in the region the run's jobs ran in.

    The region and domain are what the wave's ``start_recovery`` kept for its extra link
    (XCom ``drs_job``); the URL formats are the provider's own links'.
    """

    def __init__(self, region_name: str, aws_domain: str | None) -> None:
        self.region_name = region_name
        self.aws_domain = aws_domain or "aws.amazon.com"

    def _format(self, link: Any, **kwargs: str) -> str:
        return str(link.format_link(region_name=self.region_name, aws_domain=self.aws_domain, **kwargs))

    def job(self, job_id: str) -> str:
        from drs_provider.links.drs import DrsJobLink

        return self._format(DrsJobLink(), job_id=job_id)

    def source_server(self, source_server_id: str = "") -> str:
        from drs_provider.links.drs import DrsSourceServerLink

        return self._format(DrsSourceServerLink(), source_server_id=source_server_id)

    @classmethod
    def per_wave(cls, run: RunRecord, waves: Sequence[WaveShape]) -> dict[str, ConsoleLinks]:
        """Each wave's links, in the region its jobs ran in (a wave may name its own region)."""
        found = {}
        for shape in waves:
            stored = run.xcom(shape.start_task, "drs_job")
            if isinstance(stored, dict) and stored.get("region_name"):
                found[shape.name] = cls(str(stored["region_name"]), stored.get("aws_domain"))
        return found
