"""Where the Recovery view is: its app's URL prefix and its pages in the Airflow UI.

Paths are relative to Airflow's root (``[api] base_url``). Nothing here imports Airflow, so
tools (``make demo-ui``) can print the addresses without loading it.
"""

from __future__ import annotations

from urllib.parse import quote

#: The plugin's FastAPI app is mounted here.
URL_PREFIX = "/drs-recovery"
#: The UI frames an external view at ``.../plugin/<url_route>``.
RUN_VIEW_ROUTE = "recovery"
PLANS_VIEW_ROUTE = "recovery-plans"


def _segment(value: str) -> str:
    return quote(value, safe="")


def run_page_path(dag_id: str, run_id: str) -> str:
    """The run page itself (what the UI's Recovery tab frames)."""
    return f"{URL_PREFIX}/runs/{_segment(dag_id)}/{_segment(run_id)}"


def report_page_path(dag_id: str, run_id: str) -> str:
    """The run's report as a self-contained HTML page, to download (``report.html``)."""
    return f"{run_page_path(dag_id, run_id)}/report.html"


def terminate_path(dag_id: str, run_id: str) -> str:
    """The run's "Terminate this drill's instances" action (``POST``, JSON ``{"confirm": run_id}``)."""
    return f"{URL_PREFIX}/api/runs/{_segment(dag_id)}/{_segment(run_id)}/terminate-instances"


def run_tab_path(dag_id: str, run_id: str) -> str:
    """The run's Recovery tab in the Airflow UI."""
    return f"/dags/{_segment(dag_id)}/runs/{_segment(run_id)}/plugin/{RUN_VIEW_ROUTE}"


def plans_tab_path() -> str:
    """The Recovery plans page in the Airflow UI."""
    return f"/plugin/{PLANS_VIEW_ROUTE}"
