"""Plan data shared by the plan tests: a valid plan that exercises every key, and file helpers."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from pathlib import Path

DB_ID = "s-0123456789abcdef0"
REPORTS_ID = "s-1123456789abcdef1"
SPARE_ID = "s-2123456789abcdef2"

_VALID: dict[str, Any] = {
    "plan": "shop",
    "description": "Web shop, 3 tiers",
    "owner": "dr-team",
    "aws_conn_id": "aws_default",
    "region": "us-east-1",
    "schedule": "0 3 * * 1",
    "max_servers_per_job": 100,
    "rto_target": 1800,
    "rpo_target": 900,
    "drill_every": 30 * 86400,
    "cleanup": "on_success",
    "notify": {
        "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:dr-events",
        "events": ["started", "approval_requested", "wave_failed", "succeeded", "failed"],
    },
    "report": {"s3_uri": "s3://dr-evidence/shop/"},
    "failback_order": "reverse",
    "failback_cleanup": "terminate",
    "failback_sync_timeout": 7200,
    "waves": [
        {
            "name": "database",
            "servers": {"ids": [DB_ID], "tags": {"Role": "db"}},
            "optional_servers": {"tags": {"Role": "db-replica"}},
            "poll_interval": 30,
            "timeout": 3600,
            "pre": [
                {
                    "approval": {
                        "message": "Fail the shop database over?",
                        "timeout": 1800,
                        "modes": ["recovery"],
                    }
                }
            ],
            "post": [
                {
                    "ssm_command": {
                        "document": "AWS-RunShellScript",
                        "parameters": {"commands": ["pg_isready -t 30"]},
                        "timeout": 600,
                    }
                },
                {
                    "lambda": {
                        "function": "dr-switch-dns",
                        "payload": {"record": "db.shop.internal"},
                        "optional": True,
                    }
                },
                {"ssm_automation": {"name": "rotate_secrets", "document": "Shop-RotateSecrets"}},
                {"wait": 120},
            ],
        },
        {"name": "app", "servers": {"tags": {"Role": "app"}}, "expect_servers": 2},
        {"name": "reports", "depends_on": [], "servers": {"ids": [REPORTS_ID]}},
        {
            "name": "web",
            "depends_on": ["app", "reports"],
            "servers": {"tags": {"Role": "web", "Tier": "front"}},
            "launch": {
                "instance_type": "c5.large",
                "right_sizing": "NONE",
                "security_group_ids": ["sg-0123456789abcdef0"],
                "launch_disposition": "STARTED",
            },
            "launch_per_server": {
                SPARE_ID: {
                    "subnet_id": "subnet-0123abcd",
                    "private_ip": "10.0.3.10",
                    "copy_private_ip": False,
                    "copy_tags": True,
                    "os_byol": True,
                }
            },
        },
    ],
}

#: The contract's example plan, written the way a person writes it (comments, flow style).
SHOP_YAML = """\
plan: shop                    # unique across plans
description: Web shop, 3 tiers
owner: dr-team
aws_conn_id: aws_default
region: us-east-1
schedule: "0 3 * * 1"
max_servers_per_job: 100
rto_target: 1800              # seconds: the report says whether each run met it
rpo_target: 900               # seconds: drs_readiness reports more lag or older snapshots
drill_every: 2592000          # seconds (30 days): drs_readiness reports older drills
cleanup: on_success           # drills only: always (default) | on_success | never
notify:
  sns_topic_arn: arn:aws:sns:us-east-1:123456789012:dr-events
  events: [started, approval_requested, wave_failed, succeeded, failed]
report:
  s3_uri: s3://dr-evidence/shop/
waves:
  - name: database
    servers:
      ids: [s-0123456789abcdef0]
      tags: {Role: db}
    optional_servers:
      tags: {Role: db-replica}
    poll_interval: 30
    timeout: 3600
    pre:
      - approval:
          message: Fail the shop database over?
          timeout: 1800
          modes: [recovery]
    post:
      - ssm_command:
          document: AWS-RunShellScript
          parameters: {commands: ["pg_isready -t 30"]}
          timeout: 600
      - lambda:
          function: dr-switch-dns
          payload: {record: db.shop.internal}
          optional: true
      - ssm_automation: {name: rotate_secrets, document: Shop-RotateSecrets}
      - wait: 120
  - name: app                 # depends on database, the wave listed before it
    servers: {tags: {Role: app}}
    expect_servers: 2
  - name: reports
    depends_on: []
    servers: {ids: [s-1123456789abcdef1]}
  - name: web
    depends_on: [app, reports]
    servers: {tags: {Role: web, Tier: front}}
    launch:                   # every server of the wave
      instance_type: c5.large
      right_sizing: NONE      # else DRS picks the instance type
      security_group_ids: [sg-0123456789abcdef0]
      launch_disposition: STARTED
    launch_per_server:        # one server's own, setting by setting over the wave's
      s-2123456789abcdef2:
        subnet_id: subnet-0123abcd
        private_ip: 10.0.3.10
        copy_private_ip: false
        copy_tags: true
        os_byol: true
"""


def valid_plan() -> dict[str, Any]:
    """A fresh copy of a valid plan using every key; tests mutate it."""
    return copy.deepcopy(_VALID)


def write(path: Path, content: str | dict[str, Any]) -> Path:
    """Write ``content`` (YAML text, or data dumped as YAML) to ``path``; return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path
