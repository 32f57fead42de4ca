"""The run report as a self-contained HTML page: what an auditor reads, all of it escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from drs_provider.recovery.report import build_report
from drs_provider.recovery.report_html import failures, render_report_html, rto_verdict
from tests.unit.recovery.runs import APP_IDS, DB_IDS, RUN_ID, failed_run, succeeded_run


class _Page(HTMLParser):
    """The page's text (what a reader sees, in order), tags and attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(" ".join(data.split()))

    @property
    def words(self) -> str:
        return " ".join(self.text)


def _succeeded_report() -> dict:
    report = build_report(replace(succeeded_run(), triggered_by="alice", run_type="manual"))
    report["rto_target"], report["rto_met"] = 1800, True
    report["cleanup"] = {"state": "success", "terminated": ["i-00000001", "i-00000002"], "failed": []}
    report["location"] = f"s3://reports/drs_plan_shop/{RUN_ID}.json"
    return report


def test_the_page_tells_what_was_recovered_in_order_who_approved_the_rto_and_cleanup():
    page = _Page(render_report_html(_succeeded_report()))
    words = page.words

    for fact in ("DRILL", "plan shop", RUN_ID, "Triggered by alice", "Nothing failed."):
        assert fact in words, fact
    assert "Recovery time (RTO) 1m01s against a target of 30m00s: met" in words
    assert words.index("1. Wave db") < words.index("2. Wave app")
    for server_id, hostname in [(DB_IDS[0], "db-1"), (DB_IDS[1], "db-2"), (APP_IDS[0], "app-1")]:
        assert f"{server_id} {hostname} i-{server_id[-8:]} LAUNCHED" in words
    assert "db pre_1_approval success answered Approve by alice at 2026-12-01 10:00:08 UTC" in words
    assert "Terminated i-00000001 , i-00000002" in words
    assert f"s3://reports/drs_plan_shop/{RUN_ID}.json" in words


def test_what_failed_is_listed_with_where_and_why():
    report = build_report(failed_run())
    report["store_error"] = {"bucket": "reports", "key": "k.json", "error": "AccessDenied: no"}

    found = [(failure.where, failure.why) for failure in failures(report)]

    assert found == [
        ("wave db", "failed (drsjob-0000000000000000a)"),
        (f"wave db, server {DB_IDS[1]} (db-2)", "Disk /dev/xvdb could not be attached"),
        ("wave app", "upstream_failed (no DRS job)"),
        ("report storage", "s3://reports/k.json: AccessDenied: no"),
    ]
    words = _Page(render_report_html(report)).words
    assert "Disk /dev/xvdb could not be attached" in words
    assert "Nothing failed." not in words
    assert rto_verdict(report) in words


def test_text_from_the_plan_or_drs_never_becomes_markup():
    report = _succeeded_report()
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    report["plan"] = hostile
    report["waves"][0]["servers"][0]["hostname"] = hostile
    report["waves"][0]["steps"][0]["message"] = hostile

    html = render_report_html(report)
    page = _Page(html)

    assert "<script" not in html and "<img" not in html
    assert "script" not in page.tags and "img" not in page.tags
    assert page.words.count(hostile) >= 3


def test_the_page_is_self_contained():
    html = render_report_html(_succeeded_report())
    page = _Page(html)

    assert {"script", "img", "link", "iframe", "object"}.isdisjoint(page.tags)
    assert not [value for name, value in page.attributes if name in ("src", "href")]
    assert re.search(r"default-src 'none'; style-src 'unsafe-inline'", html)


def test_a_report_without_the_newer_keys_still_renders():
    report = build_report(succeeded_run())
    for key in ("triggered_by", "cleanup", "rto_target", "rto_met"):
        report.pop(key)

    words = _Page(render_report_html(report)).words

    assert "Triggered by not recorded" in words
    assert "This run has no clean-up step." in words
    assert "(the plan sets no target)" in words


def test_the_page_says_whose_clock_its_times_are():
    report = _succeeded_report()
    on_aws = _Page(render_report_html(report)).words
    simulated = _Page(render_report_html({**report, "simulator_speed": 10.0})).words

    assert "DRS AWS Elastic Disaster Recovery" in on_aws
    assert "DRS the local DRS simulator, at 10\u00d7 real speed" in simulated
    assert "the RTO and every time on this page are Airflow's" in simulated
