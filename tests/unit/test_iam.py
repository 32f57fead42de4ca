"""drs_provider.iam: which actions, on which resources, each mode and plan feature grants.

What the provider really calls is held against these grants by the integration test
``tests/integration/factory/test_iam_policy.py``; here: the parts a call log cannot show (IAM
names that differ from operations, resources, statements, what a plan does not use).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest

from drs_provider.constants import MODE_DRILL, MODE_FAILBACK, MODE_RECOVERY, RUN_MODES
from drs_provider.iam import granted_actions, iam_policy
from drs_provider.iam.actions import MODE_READINESS, MODES, action_of, dependent_actions
from drs_provider.iam.grants import function_arn, plan_grants
from drs_provider.plans.loader import load_plan_file, load_plans
from tests.conftest import REPO_ROOT
from tests.unit.plans.samples import SHOP_YAML, valid_plan, write

if TYPE_CHECKING:
    from pathlib import Path

    from drs_provider.plans.model import Plan


def plan_of(tmp_path: Path, document: str | dict[str, Any]) -> Plan:
    return load_plan_file(write(tmp_path / "plan.yaml", document))


def minimal(**keys: Any) -> dict[str, Any]:
    return {"plan": "tiny", "waves": [{"name": "only", "servers": {"ids": ["s-0123456789abcdef0"]}}], **keys}


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    [found] = [s for s in policy["Statement"] if s["Sid"] == sid]
    return found


def test_iam_names_that_differ_from_the_operations() -> None:
    assert action_of("lambda", "Invoke") == "lambda:InvokeFunction"
    assert action_of("s3", "HeadBucket") == "s3:ListBucket"
    assert action_of("service-quotas", "GetServiceQuota") == "servicequotas:GetServiceQuota"
    assert action_of("s3", "PutObject") == "s3:PutObject"
    assert action_of("drs", "DescribeJobLogItems") == "drs:DescribeJobLogItems"


def test_dependent_actions_of_launching_and_terminating() -> None:
    launch = dependent_actions("drs:StartRecovery")
    assert {"ec2:RunInstances", "iam:PassRole", "drs:CreateRecoveryInstanceForDrs"} <= set(launch)
    assert list(launch) == sorted(launch) and len(set(launch)) == len(launch)
    assert set(dependent_actions("drs:TerminateRecoveryInstances")) == {
        "drs:DescribeSourceServers",
        "ec2:DeleteVolume",
        "ec2:DescribeInstances",
        "ec2:DescribeVolumes",
        "ec2:TerminateInstances",
    }
    assert dependent_actions("drs:DescribeJobs") == ()


@pytest.mark.parametrize(
    ("function", "region", "arn"),
    [
        ("dr-prepare", None, "arn:aws:lambda:*:*:function:dr-prepare"),
        ("dr-prepare", "eu-west-1", "arn:aws:lambda:eu-west-1:*:function:dr-prepare"),
        ("dr-prepare:live", None, "arn:aws:lambda:*:*:function:dr-prepare:live"),
        ("123456789012:function:dr-prepare", None, "arn:aws:lambda:*:123456789012:function:dr-prepare"),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:dr-prepare:$LATEST",
            "eu-west-1",
            "arn:aws:lambda:us-east-1:123456789012:function:dr-prepare:$LATEST",
        ),
        ("dr-prepare", "cn-north-1", "arn:aws-cn:lambda:cn-north-1:*:function:dr-prepare"),
    ],
)
def test_a_function_is_granted_by_the_arn_iam_checks_for_it(
    function: str, region: str | None, arn: str
) -> None:
    assert function_arn(function, region) == arn


def test_a_step_function_scopes_its_grants(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, SHOP_YAML)], [MODE_DRILL])

    lambda_steps = statement(policy, "LambdaSteps")
    assert lambda_steps["Action"] == ["lambda:GetFunction", "lambda:InvokeFunction"]
    assert lambda_steps["Resource"] == "arn:aws:lambda:us-east-1:*:function:dr-switch-dns"


def test_the_report_is_written_under_its_prefix_and_the_plan_dag(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, SHOP_YAML)

    objects = statement(iam_policy([plan], [MODE_RECOVERY]), "S3ReportObjects")
    bucket = statement(iam_policy([plan], [MODE_READINESS]), "S3ReportBucket")

    # the report, its page and preflight's probe: <s3_uri><dag_id>/<run_id>.json, .html, ...
    assert objects["Action"] == ["s3:DeleteObject", "s3:PutObject"]
    assert objects["Resource"] == "arn:aws:s3:::dr-evidence/shop/drs_plan_shop/*"
    # readiness only looks the bucket up (HeadBucket): it writes nothing
    assert (bucket["Action"], bucket["Resource"]) == (["s3:ListBucket"], "arn:aws:s3:::dr-evidence")


def test_a_recovery_may_store_a_failovers_summary_beside_its_reports(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, SHOP_YAML)

    summary = statement(iam_policy([plan], [MODE_RECOVERY]), "S3FailoverSummary")
    drill = iam_policy([plan], [MODE_DRILL])

    # drs_failover recovers the plan and writes <s3_uri>drs_failover/<run_id>.json
    assert (summary["Action"], summary["Resource"]) == (
        ["s3:PutObject"],
        "arn:aws:s3:::dr-evidence/shop/drs_failover/*",
    )
    assert not [s for s in drill["Statement"] if s["Sid"] == "S3FailoverSummary"]


def test_notify_publishes_only_in_the_modes_whose_events_the_plan_wants(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, SHOP_YAML)  # run events, not readiness_changed
    topic = "arn:aws:sns:us-east-1:123456789012:dr-events"

    run = statement(iam_policy([plan], [MODE_DRILL]), "SnsNotify")
    readiness = statement(iam_policy([plan], [MODE_READINESS]), "SnsNotify")

    assert (run["Action"], run["Resource"]) == (["sns:GetTopicAttributes", "sns:Publish"], topic)
    assert (readiness["Action"], readiness["Resource"]) == (["sns:GetTopicAttributes"], topic)


def test_topics_wanting_different_events_get_statements_of_their_own(tmp_path: Path) -> None:
    quiet = minimal(
        plan="quiet",
        notify={"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:quiet", "events": ["readiness_changed"]},
    )
    loud = minimal(plan="loud", notify={"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:loud"})
    plans = [load_plan_file(write(tmp_path / f"{d['plan']}.yaml", d)) for d in (quiet, loud)]

    notify = [s for s in iam_policy(plans)["Statement"] if s["Sid"].startswith("SnsNotify")]

    assert [(s["Sid"], s["Action"], s["Resource"]) for s in notify] == [
        (
            "SnsNotify",
            ["sns:GetTopicAttributes"],
            ["arn:aws:sns:us-east-1:123456789012:loud", "arn:aws:sns:us-east-1:123456789012:quiet"],
        ),
        ("SnsNotify2", ["sns:Publish"], "arn:aws:sns:us-east-1:123456789012:loud"),
    ]


def test_ssm_command_targets_add_the_listing_of_their_invocations(tmp_path: Path) -> None:
    document = minimal()
    document["waves"][0]["post"] = [
        {
            "ssm_command": {
                "document": "AWS-RunShellScript",
                "targets": [{"Key": "tag:Role", "Values": ["db"]}],
            }
        }
    ]
    with_targets = granted_actions(iam_policy([plan_of(tmp_path, document)]))
    document["waves"][0]["post"] = [{"ssm_command": {"document": "AWS-RunShellScript"}}]
    without = granted_actions(iam_policy([plan_of(tmp_path, document)]))

    assert with_targets - without == {"ssm:ListCommandInvocations"}


def test_readiness_reads_launch_settings_and_snapshots_only_for_plans_that_give_them(tmp_path: Path) -> None:
    shop = granted_actions(iam_policy([plan_of(tmp_path, SHOP_YAML)], [MODE_READINESS]))
    tiny = granted_actions(iam_policy([plan_of(tmp_path, minimal())], [MODE_READINESS]))

    reads = {
        "drs:DescribeRecoverySnapshots",
        "drs:GetLaunchConfiguration",
        "ec2:DescribeLaunchTemplateVersions",
    }
    assert reads <= shop
    assert not reads & tiny


NATIVE_PLAN_ACTIONS = {
    "drs:ListRecoveryPlans",
    "drs:ListTagsForResource",
    "drs:GetRecoveryPlan",
    "drs:ListRecoveryPlanSteps",
    "drs:CreateRecoveryPlan",
    "drs:UpdateRecoveryPlan",
    "drs:DeleteRecoveryPlan",
    "drs:CreateRecoveryPlanStep",
    "drs:DeleteRecoveryPlanStep",
    "drs:TagResource",
}


def test_readiness_keeps_native_plans_only_of_plans_that_ask_for_them(tmp_path: Path) -> None:
    mirrored = iam_policy([plan_of(tmp_path, minimal(native_plan=True))], [MODE_READINESS])
    plain = granted_actions(iam_policy([plan_of(tmp_path, minimal())], [MODE_READINESS]))

    native = statement(mirrored, "DrsNativePlans")
    assert set(native["Action"]) == NATIVE_PLAN_ACTIONS
    assert native["Resource"] == "*"  # a native plan's ARN is DRS's to choose when it is created
    assert not NATIVE_PLAN_ACTIONS & plain
    # no native plan is ever started by the provider, nor the mirror kept by a plan run
    assert "drs:StartRecoveryPlanExecution" not in granted_actions(mirrored)
    for mode in RUN_MODES:
        run = granted_actions(iam_policy([plan_of(tmp_path, minimal(native_plan=True))], [mode]))
        assert not NATIVE_PLAN_ACTIONS - {"drs:TagResource", "drs:ListTagsForResource"} & run


def test_a_plan_without_steps_notify_or_report_needs_only_drs_and_quotas(tmp_path: Path) -> None:
    actions = granted_actions(iam_policy([plan_of(tmp_path, minimal())]))

    assert {action.partition(":")[0] for action in actions} == {"drs", "ec2", "iam", "servicequotas"}
    assert not {"ssm:SendCommand", "lambda:InvokeFunction", "sns:Publish", "s3:PutObject"} & actions


def test_tags_on_start_are_granted_on_jobs_for_start_recovery_alone(tmp_path: Path) -> None:
    tagging = statement(iam_policy([plan_of(tmp_path, minimal())]), "DrsTagJobsAtStart")

    assert tagging == {
        "Sid": "DrsTagJobsAtStart",
        "Effect": "Allow",
        "Action": ["drs:TagResource"],
        "Resource": "arn:aws:drs:*:*:job/*",
        "Condition": {"StringEquals": {"drs:CreateAction": "StartRecovery"}},
    }


def test_an_action_is_granted_once_where_it_is_called_not_as_a_dependency(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, valid_plan())], [MODE_DRILL])

    listed = [action for s in policy["Statement"] for action in s["Action"] if s["Resource"] == "*"]
    assert len(listed) == len(set(listed))
    assert "drs:DescribeSourceServers" in statement(policy, "DrsRead")["Action"]
    # TerminateRecoveryInstances needs nothing StartRecovery's dependencies and the reads lack
    assert "DrsTerminateDrillInstancesDependentActions" not in {s["Sid"] for s in policy["Statement"]}


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="failover"):
        plan_grants(plan_of(tmp_path, minimal()), "failover")


def test_the_modes_are_the_run_modes_and_readiness(tmp_path: Path) -> None:
    assert (*RUN_MODES, MODE_READINESS) == MODES
    assert MODE_FAILBACK in RUN_MODES
    # without --mode: every run mode, failback's grants too
    default = granted_actions(iam_policy([plan_of(tmp_path, minimal())]))
    assert {"drs:ReverseReplication", "drs:StartFailbackLaunch", "drs:TerminateRecoveryInstances"} <= default


FAILBACK_WRITES = {
    "drs:ReverseReplication",
    "drs:StartFailbackLaunch",
    "drs:StartRecovery",
    "drs:StopFailback",
    "drs:TerminateRecoveryInstances",
}


def test_a_failback_reverses_launches_home_and_cleans_up(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, minimal())], [MODE_FAILBACK])

    actions = granted_actions(policy)
    assert actions >= FAILBACK_WRITES
    # StopReplication is failback_cleanup: terminate's, snapshots a failback never reads
    assert not {"drs:StopReplication", "drs:DescribeRecoverySnapshots"} & actions
    assert statement(policy, "DrsFailback")["Action"] == [
        "drs:ReverseReplication",
        "drs:StartFailbackLaunch",
        "drs:StopFailback",
    ]
    # ReverseReplication's dependent actions not granted already (StartRecovery's, the reads)
    assert statement(policy, "DrsFailbackDependentActions")["Action"] == [
        "drs:DescribeReplicationConfigurationTemplates"
    ]
    assert set(dependent_actions("drs:ReverseReplication")) <= actions
    # a drill instance of a rehearsal (failback_drill) is terminated at home
    assert statement(policy, "DrsFailbackCleanup")["Action"] == ["drs:TerminateRecoveryInstances"]


def test_failback_cleanup_terminate_adds_stop_replication(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, minimal(failback_cleanup="terminate"))], [MODE_FAILBACK])

    assert statement(policy, "DrsFailbackCleanup")["Action"] == [
        "drs:StopReplication",
        "drs:TerminateRecoveryInstances",
    ]


def test_a_failback_launch_tags_its_jobs_as_it_starts_them(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, minimal(region="us-gov-west-1"))], [MODE_FAILBACK])

    tagging = [s for s in policy["Statement"] if "drs:TagResource" in s["Action"]]
    assert [(s["Sid"], s["Resource"], s["Condition"]) for s in tagging] == [
        (
            "DrsTagJobsAtStart",
            "arn:aws-us-gov:drs:*:*:job/*",
            {"StringEquals": {"drs:CreateAction": "StartRecovery"}},
        ),
        (
            "DrsTagFailbackJobsAtStart",
            "arn:aws-us-gov:drs:*:*:job/*",
            {"StringEquals": {"drs:CreateAction": "StartFailbackLaunch"}},
        ),
    ]


@pytest.mark.parametrize("mode", [MODE_DRILL, MODE_RECOVERY, MODE_READINESS])
def test_only_a_failback_reverses_replication(tmp_path: Path, mode: str) -> None:
    plan = plan_of(tmp_path, minimal(failback_cleanup="terminate"))

    actions = granted_actions(iam_policy([plan], [mode]))

    assert (
        not {
            "drs:ReverseReplication",
            "drs:StartFailbackLaunch",
            "drs:StopFailback",
            "drs:StopReplication",
            "drs:DescribeReplicationConfigurationTemplates",
        }
        & actions
    )
    assert not [s for s in iam_policy([plan], [mode])["Statement"] if s["Sid"].startswith("DrsTagFailback")]


def test_a_failback_stores_no_failover_summary(tmp_path: Path) -> None:
    policy = iam_policy([plan_of(tmp_path, SHOP_YAML)], [MODE_FAILBACK])

    assert "S3ReportObjects" in {s["Sid"] for s in policy["Statement"]}
    assert not [s for s in policy["Statement"] if s["Sid"] == "S3FailoverSummary"]


def test_a_step_calls_are_granted_in_its_modes_its_lookups_in_all(tmp_path: Path) -> None:
    document = minimal()
    document["waves"][0]["post"] = [
        {"ssm_command": {"document": "AWS-RunShellScript", "modes": ["failback"]}},
    ]
    plan = plan_of(tmp_path, document)

    drill = granted_actions(iam_policy([plan], [MODE_DRILL]))
    failback = granted_actions(iam_policy([plan], [MODE_FAILBACK]))

    assert "ssm:DescribeDocument" in drill  # preflight looks up every step's document
    assert not {"ssm:SendCommand", "ssm:GetCommandInvocation"} & drill
    assert {"ssm:DescribeDocument", "ssm:SendCommand", "ssm:GetCommandInvocation"} <= failback


def test_the_docs_show_the_policies_of_the_example_plans() -> None:
    """The policies in docs/how-to/deploy.md are what drs-plan iam-policy prints for
    dags/recovery_plans: after changing what the provider calls, paste the command's output there again."""
    readme = (REPO_ROOT / "docs" / "how-to" / "deploy.md").read_text(encoding="utf-8")
    section = readme[
        readme.index("<!-- section: iam-policy -->") : readme.index("<!-- /section: iam-policy -->")
    ]
    shown = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)]
    plans = load_plans(REPO_ROOT / "dags" / "recovery_plans").plans

    assert shown == [iam_policy(plans), iam_policy(plans, [MODE_READINESS])]


def test_readiness_lists_staging_accounts_and_their_servers_a_plan_run_does_not(tmp_path: Path) -> None:
    staging = {"drs:ListStagingAccounts", "drs:ListExtensibleSourceServers"}
    readiness = iam_policy([plan_of(tmp_path, minimal())], [MODE_READINESS])

    # any plan may mean a staging server (by tags or by its ID): readiness looks in every account
    assert staging <= set(statement(readiness, "DrsRead")["Action"])
    assert statement(readiness, "DrsRead")["Resource"] == "*"
    # a run recovers extended servers as any other: it never lists staging accounts
    assert not staging & granted_actions(iam_policy([plan_of(tmp_path, minimal())]))
