"""AWS console links for DRS recovery jobs and source servers."""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink

BASE_DRS_CONSOLE_LINK = "https://{region_name}.console.{aws_domain}/drs/home?region={region_name}"


class DrsJobLink(BaseAwsLink):
    """Console page of the (first) DRS job a task started; its recovery job history entry."""

    name = "DRS Job"
    key = "drs_job"
    format_str = BASE_DRS_CONSOLE_LINK + "#/launchHistory/{job_id}"


class DrsSourceServerLink(BaseAwsLink):
    """Console list of source servers, or the page of one source server."""

    name = "DRS Source Servers"
    key = "drs_source_server"
    format_str = BASE_DRS_CONSOLE_LINK + "#/sourceServers/{source_server_id}"

    def format_link(self, **kwargs: object) -> str:
        """Link to the one server if a single server was persisted, else to the server list."""
        if not kwargs.get("source_server_id"):
            kwargs = {**kwargs, "source_server_id": ""}
            return super().format_link(**kwargs).removesuffix("/")
        return super().format_link(**kwargs)
