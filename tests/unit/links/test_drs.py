"""Console links: the URLs DRS's console uses, built from what the operator persists."""

from __future__ import annotations

from drs_provider.links.drs import DrsJobLink, DrsSourceServerLink


def test_job_link():
    url = DrsJobLink().format_link(
        region_name="eu-west-1", aws_domain="aws.amazon.com", job_id="drsjob-0a000000000000001"
    )

    assert (
        url
        == "https://eu-west-1.console.aws.amazon.com/drs/home?region=eu-west-1#/launchHistory/drsjob-0a000000000000001"
    )


def test_source_server_link_to_one_server_or_the_list():
    link = DrsSourceServerLink()
    one = link.format_link(
        region_name="us-east-1", aws_domain="aws.amazon.com", source_server_id="s-0a000000000000001"
    )
    many = link.format_link(region_name="us-east-1", aws_domain="aws.amazon.com", source_server_id="")

    assert (
        one
        == "https://us-east-1.console.aws.amazon.com/drs/home?region=us-east-1#/sourceServers/s-0a000000000000001"
    )
    assert many == "https://us-east-1.console.aws.amazon.com/drs/home?region=us-east-1#/sourceServers"


def test_other_partitions_use_their_console_domain():
    url = DrsJobLink().format_link(
        region_name="cn-north-1",
        aws_domain=DrsJobLink.get_aws_domain("aws-cn"),
        job_id="drsjob-0a000000000000001",
    )

    assert url.startswith("https://cn-north-1.console.amazonaws.cn/drs/home?region=cn-north-1#/")


def test_missing_fields_give_no_link():
    assert DrsJobLink().format_link(region_name="us-east-1") == ""
