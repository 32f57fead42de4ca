"""One failing example for every plan rule: how to break a valid plan, where, and what is said.

Shared by the validation tests (the loader reports exactly that) and the schema tests (the
JSON Schema rejects the structural ones too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.unit.plans.samples import DB_ID, REPORTS_ID, SHOP_YAML, SPARE_ID

DELETE = object()

Mutation = Callable[[dict[str, Any]], None]


def change(*steps: tuple[tuple[str | int, ...], Any]) -> Mutation:
    """A mutation setting each path to a value (or deleting it with DELETE)."""

    def mutate(plan: dict[str, Any]) -> None:
        for path, value in steps:
            parent: Any = plan
            for part in path[:-1]:
                parent = parent[part]
            if value is DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value

    return mutate


@dataclass(frozen=True)
class Case:
    id: str
    #: YAML text, or a mutation of samples.valid_plan()
    source: str | Mutation
    path: str
    fragment: str
    #: the JSON Schema can express this rule, so it rejects the example too
    in_schema: bool = True


def _text(old: str, new: str) -> str:
    assert old in SHOP_YAML, old
    return SHOP_YAML.replace(old, new, 1)


LONG = "k" * 129

CASES = [
    # the file as a whole
    Case("empty file", "", "", "the file is empty", in_schema=False),
    Case("only a comment", "# nothing yet\n", "", "the file is empty", in_schema=False),
    Case("top level is a list", "- plan: shop\n", "", "top level must be a mapping"),
    Case("top level is text", "just words\n", "", "top level must be a mapping"),
    Case("syntax error", "plan: [shop\nwaves: []\n", "", "YAML syntax error at line", in_schema=False),
    Case("bad indentation", _text("    timeout: 3600", "   timeout: 3600"), "", "YAML syntax error", False),
    Case("two documents", SHOP_YAML + "---\nplan: other\n", "", "YAML", in_schema=False),
    Case(
        "duplicate key",
        _text("  - name: app ", "  - name: app\n    name: apps "),
        "waves[1].name",
        "duplicate key 'name' (also on line 42)",
        in_schema=False,
    ),
    Case(
        "duplicate top-level key",
        SHOP_YAML + "plan: shop2\n",
        "plan",
        "duplicate key 'plan' (also on line 1)",
        in_schema=False,
    ),
    Case(
        "python tag",
        _text("owner: dr-team", "owner: !!python/object/apply:os.getcwd []"),
        "owner",
        "unsupported YAML tag",
        in_schema=False,
    ),
    Case(
        "python scalar tag",
        _text("owner: dr-team", "owner: !!python/name:os.system"),
        "owner",
        "unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system'",
        in_schema=False,
    ),
    Case(
        "bare equals sign", _text("owner: dr-team", "owner: ="), "owner", "'=' needs quotes", in_schema=False
    ),
    Case("boolean key", SHOP_YAML + "on: true\n", "on", "read as a boolean, not text; quote it", False),
    Case("number key", SHOP_YAML + "1: x\n", "['1']", "read as a number", in_schema=False),
    Case(
        "number tag key",
        _text("tags: {Role: app}", "tags: {Role: app, 2024: x}"),
        "waves[1].servers.tags['2024']",
        "key '2024' is read as a number, not text; quote it",
        in_schema=False,
    ),
    Case(
        "only tag key a boolean",
        _text("tags: {Role: app}", "tags: {yes: x}"),
        "waves[1].servers.tags.yes",
        "key 'yes' is read as a boolean",
        in_schema=False,
    ),
    # required keys
    Case("no plan", change((("plan",), DELETE)), "plan", "required key 'plan' is missing"),
    Case("no waves", change((("waves",), DELETE)), "waves", "required key 'waves' is missing"),
    Case("empty waves", change((("waves",), [])), "waves", "needs at least 1 wave"),
    Case("waves not a list", change((("waves",), {"name": "a"})), "waves", "expected a list, got a mapping"),
    Case(
        "wave not a mapping",
        change((("waves", 1), "app")),
        "waves[1]",
        "expected a mapping (wave), got string",
    ),
    Case(
        "no space after a colon",
        change((("waves", 1), "name:app")),
        "waves[1]",
        "got string 'name:app'; put a space after the ':' in name:",
    ),
    Case("wave without name", change((("waves", 1, "name"), DELETE)), "waves[1].name", "'name' is missing"),
    Case(
        "wave without servers",
        change((("waves", 1, "servers"), DELETE)),
        "waves[1].servers",
        "required key 'servers' is missing",
    ),
    # unknown keys
    Case("unknown top key", change((("wave",), [])), "wave", "unknown key 'wave' (did you mean 'waves'?)"),
    Case(
        "unknown wave key",
        change((("waves", 3, "depend_on"), ["app"])),
        "waves[3].depend_on",
        "unknown key 'depend_on' (did you mean 'depends_on'?)",
    ),
    Case(
        "unknown selector key",
        change((("waves", 2, "servers", "id"), [REPORTS_ID])),
        "waves[2].servers.id",
        "unknown key 'id' (did you mean 'ids'?)",
    ),
    Case(
        "wave key at the top",
        change((("poll_interval",), 30)),
        "poll_interval",
        "unknown key 'poll_interval' here (it belongs in a wave)",
    ),
    Case(
        "selector key in the wave",
        change((("waves", 1, "tags"), {"Role": "app"})),
        "waves[1].tags",
        "it belongs at the top level of the plan or under 'servers' or 'optional_servers'",
    ),
    Case("unrelated key", change((("colour",), "red")), "colour", "unknown key 'colour' (valid keys: plan,"),
    # names
    Case(
        "plan name capitals", change((("plan",), "Shop")), "plan", "'Shop' is not valid: a lowercase letter"
    ),
    Case("plan name hint", change((("plan",), "Web-Shop")), "plan", "(did you mean 'web_shop'?)"),
    Case("plan name too long", change((("plan",), "a" * 52)), "plan", "is not valid"),
    Case("plan name a number", change((("plan",), 5)), "plan", "expected a string, got integer 5"),
    Case(
        "wave name digit first", change((("waves", 0, "name"), "1st")), "waves[0].name", "'1st' is not valid"
    ),
    Case(
        "wave name of a DAG task",
        change((("waves", 0, "name"), "preflight"), (("waves", 1, "depends_on"), ["preflight"])),
        "waves[0].name",
        "'preflight' is reserved (the DAG has a task of that name); choose another name",
    ),
    Case("wave name empty", change((("waves", 0, "name"), "")), "waves[0].name", "'' is not valid"),
    Case(
        "duplicate wave name",
        change((("waves", 3, "name"), "app")),
        "waves[3].name",
        "wave name 'app' is already used by waves[1]",
        in_schema=False,
    ),
    # depends_on
    Case(
        "depends_on text",
        change((("waves", 3, "depends_on"), "app")),
        "waves[3].depends_on",
        "expected a list, got string 'app'",
    ),
    Case(
        "depends_on null",
        change((("waves", 3, "depends_on"), None)),
        "waves[3].depends_on",
        "got nothing (null); write [] for an empty list",
    ),
    Case(
        "depends_on unknown",
        change((("waves", 3, "depends_on"), ["app", "db"])),
        "waves[3].depends_on",
        "unknown wave 'db'",
        in_schema=False,
    ),
    Case(
        "depends_on typo",
        change((("waves", 3, "depends_on"), ["ap"])),
        "waves[3].depends_on",
        "unknown wave 'ap' (did you mean 'app'?)",
        in_schema=False,
    ),
    Case(
        "depends_on itself",
        change((("waves", 3, "depends_on"), ["web"])),
        "waves[3].depends_on",
        "wave 'web' cannot depend on itself",
        in_schema=False,
    ),
    Case(
        "depends_on twice",
        change((("waves", 3, "depends_on"), ["app", "app"])),
        "waves[3].depends_on[1]",
        "'app' is listed twice (first at waves[3].depends_on[0])",
    ),
    Case(
        "depends_on a number",
        change((("waves", 3, "depends_on"), [1])),
        "waves[3].depends_on[0]",
        "expected a string, got integer 1",
    ),
    Case(
        "dependency cycle",
        change((("waves", 1, "depends_on"), ["web"])),
        "waves[1].depends_on",
        "dependency cycle: app -> web -> app",
        in_schema=False,
    ),
    Case(
        "cycle through an omitted depends_on",
        change((("waves", 0, "depends_on"), ["web"])),
        "waves[0].depends_on",
        "dependency cycle: database -> web -> app -> database ('app' depends on 'database' because it omits",
        in_schema=False,
    ),
    # selectors
    Case("selector empty", change((("waves", 1, "servers"), {})), "waves[1].servers", "selects no servers"),
    Case(
        "selector with empty ids only",
        change((("waves", 2, "servers", "ids"), [])),
        "waves[2].servers",
        "selects no servers: give a non-empty 'ids' or 'tags'",
    ),
    Case(
        "optional selector empty",
        change((("waves", 0, "optional_servers"), {"tags": {}})),
        "waves[0].optional_servers",
        "selects no servers",
    ),
    Case(
        "selector a list",
        change((("waves", 2, "servers"), [REPORTS_ID])),
        "waves[2].servers",
        "expected a mapping (selector), got a list",
    ),
    Case(
        "ids a string",
        change((("waves", 2, "servers", "ids"), REPORTS_ID)),
        "waves[2].servers.ids",
        "expected a list, got string",
    ),
    Case(
        "server id pattern",
        change((("waves", 2, "servers", "ids"), ["s-123"])),
        "waves[2].servers.ids[0]",
        "'s-123' is not a DRS source server ID: it has 3 characters after 's-'; a source server ID has 17",
    ),
    Case(
        "server id of an EC2 instance",
        change((("waves", 2, "servers", "ids"), ["i-0123456789abcdef0"])),
        "waves[2].servers.ids[0]",
        "that is an EC2 instance ID; use the DRS source server ID (s-...) of that instance",
    ),
    Case(
        "server id with a dash",
        change((("waves", 2, "servers", "ids"), ["s-0123456789abcde-0"])),
        "waves[2].servers.ids[0]",
        "after 's-' only letters and digits may follow",
    ),
    Case(
        "server id with a trailing newline",
        change((("waves", 2, "servers", "ids"), [REPORTS_ID + "\n"])),
        "waves[2].servers.ids[0]",
        "it has spaces or line breaks around it",
        in_schema=False,  # ECMA-262 "$" and Python's re.search disagree on a final newline
    ),
    Case(
        "server id twice in a list",
        change((("waves", 2, "servers", "ids"), [REPORTS_ID, REPORTS_ID])),
        "waves[2].servers.ids[1]",
        f"'{REPORTS_ID}' is listed twice",
    ),
    Case(
        "server id in two waves",
        change((("waves", 2, "servers", "ids"), [DB_ID])),
        "waves[2].servers.ids[0]",
        f"server {DB_ID} is already in wave 'database' (waves[0].servers.ids[0])",
        in_schema=False,
    ),
    Case(
        "server id required and optional",
        change((("waves", 0, "optional_servers", "ids"), [DB_ID])),
        "waves[0].optional_servers.ids[0]",
        "is already at waves[0].servers.ids[0]; a server is either required or optional",
        in_schema=False,
    ),
    Case(
        "tags of one wave within another's",
        change((("waves", 3, "servers", "tags"), {"Role": "app", "Tier": "front"})),
        "waves[3].servers.tags",
        "every server these tags select is also selected by waves[1].servers.tags (Role=app) in wave 'app'; "
        "a server can be recovered by one wave only",
        in_schema=False,
    ),
    Case(
        "tags broader than another wave's",
        change(
            (("waves", 3, "servers", "tags"), {"Tier": "front"}),
            (("waves", 1, "servers", "tags", "Tier"), "front"),
        ),
        "waves[3].servers.tags",
        "these tags also select every server selected by waves[1].servers.tags (Role=app, Tier=front)",
        in_schema=False,
    ),
    Case(
        "same tags required and optional",
        change((("waves", 0, "optional_servers", "tags"), {"Role": "db"})),
        "waves[0].optional_servers.tags",
        "also selected by waves[0].servers.tags (Role=db) in this wave; a server is either required or "
        "optional",
        in_schema=False,
    ),
    # tags
    Case(
        "tags a list",
        change((("waves", 1, "servers", "tags"), ["Role=app"])),
        "waves[1].servers.tags",
        "expected a mapping of tag keys to values, got a list",
    ),
    Case(
        "tag value a number",
        change((("waves", 1, "servers", "tags", "Role"), 5)),
        "waves[1].servers.tags.Role",
        "expected a string, got integer 5",
    ),
    Case(
        "tag value unquoted version",
        _text("tags: {Role: app}", "tags: {Version: 1.10}"),
        "waves[1].servers.tags.Version",
        "got number 1.1; unquoted, YAML reads '1.10' as a number: put it in quotes",
    ),
    Case(
        "tag value null",
        change((("waves", 1, "servers", "tags", "Role"), None)),
        "waves[1].servers.tags.Role",
        "expected a string, got nothing (null)",
    ),
    Case(
        "tag key too long",
        change((("waves", 1, "servers", "tags"), {LONG: "x"})),
        f"waves[1].servers.tags.{LONG}",
        "is 129 characters long; at most 128 are allowed",
    ),
    Case(
        "tag key empty",
        change((("waves", 1, "servers", "tags"), {"": "x"})),
        "waves[1].servers.tags['']",
        "key must not be empty",
    ),
    Case(
        "tag value too long",
        change((("waves", 1, "servers", "tags", "Role"), "v" * 257)),
        "waves[1].servers.tags.Role",
        "value 'vvv",
    ),
    Case(
        "tag key aws prefix",
        change((("waves", 1, "servers", "tags"), {"aws:cloudformation:stack-name": "shop"})),
        "waves[1].servers.tags['aws:cloudformation:stack-name']",
        "must not start with 'aws:' (reserved by AWS)",
    ),
    Case(
        "tag key AWS prefix in capitals",
        change((("waves", 1, "servers", "tags"), {"AWS:Name": "shop"})),
        "waves[1].servers.tags['AWS:Name']",
        "must not start with 'aws:'",
    ),
    Case(
        "too many tags",
        change((("waves", 1, "servers", "tags"), {f"k{i}": "v" for i in range(51)})),
        "waves[1].servers.tags",
        "has 51 entries; at most 50 are allowed",
    ),
    # caps: what a plan may hold at most
    Case(
        "too many waves",
        change((("waves",), [{"name": f"w{i}", "servers": {"tags": {"N": str(i)}}} for i in range(301)])),
        "waves",
        "301 waves, more than the 300 allowed; the rest of this file was not checked",
    ),
    Case(
        "too many server IDs in a selector",
        change((("waves", 2, "servers", "ids"), [f"s-{i:017d}" for i in range(1001)])),
        "waves[2].servers.ids",
        "1001 server IDs, more than the 1000 allowed",
    ),
    Case(
        "depends_on longer than a plan can be",
        change((("waves", 3, "depends_on"), [f"w{i}" for i in range(301)])),
        "waves[3].depends_on",
        "301 waves, more than the 300 allowed",
    ),
    # numbers: bools are not numbers, and each has a range
    Case(
        "max_servers_per_job 0",
        change((("max_servers_per_job",), 0)),
        "max_servers_per_job",
        "between 1 and 200",
    ),
    Case(
        "max_servers_per_job 201", change((("max_servers_per_job",), 201)), "max_servers_per_job", "got 201"
    ),
    Case(
        "max_servers_per_job true",
        change((("max_servers_per_job",), True)),
        "max_servers_per_job",
        "expected an integer, got boolean true",
    ),
    Case(
        "max_servers_per_job quoted",
        change((("max_servers_per_job",), "100")),
        "max_servers_per_job",
        "expected an integer, got string '100'; remove the quotes",
    ),
    Case(
        "max_servers_per_job fraction",
        change((("max_servers_per_job",), 1.5)),
        "max_servers_per_job",
        "expected an integer, got number 1.5",
    ),
    Case(
        "poll_interval 0",
        change((("waves", 0, "poll_interval"), 0)),
        "waves[0].poll_interval",
        "must be between 1 and 3600 seconds, got 0",
    ),
    Case(
        "poll_interval too big",
        change((("waves", 0, "poll_interval"), 3601)),
        "waves[0].poll_interval",
        "got 3601",
    ),
    Case(
        "poll_interval false",
        change((("waves", 0, "poll_interval"), False)),
        "waves[0].poll_interval",
        "got boolean false",
    ),
    Case(
        "timeout too short",
        change((("waves", 0, "timeout"), 59)),
        "waves[0].timeout",
        "must be between 60 and 86400 seconds, got 59",
    ),
    Case("timeout too long", change((("waves", 0, "timeout"), 86401)), "waves[0].timeout", "got 86401"),
    Case("timeout a list", change((("waves", 0, "timeout"), [60])), "waves[0].timeout", "got a list"),
    # schedule
    Case("schedule a number", change((("schedule",), 5)), "schedule", "expected a string, got integer 5"),
    Case(
        "schedule four fields",
        change((("schedule",), "0 3 * *")),
        "schedule",
        "'0 3 * *' is not a cron expression: expected 5 fields",
    ),
    Case(
        "schedule minute out of range",
        change((("schedule",), "61 3 * * 1")),
        "schedule",
        "minute field '61': 61 is out of range 0..59",
        in_schema=False,
    ),
    Case(
        "schedule weekday name",
        change((("schedule",), "0 3 * * MONDAY")),
        "schedule",
        "day-of-week field 'MONDAY': 'MONDAY' is not a number 0..7 or SUN..SAT",
        in_schema=False,
    ),
    Case(
        "schedule unknown preset",
        change((("schedule",), "@fortnightly")),
        "schedule",
        "unknown preset '@fortnightly'",
        in_schema=False,
    ),
    Case(
        "schedule continuous",
        change((("schedule",), "@continuous")),
        "schedule",
        "'@continuous' would start a new drill as soon as the last one ends",
        in_schema=False,
    ),
    # region, connection, free text
    Case("region capitals", change((("region",), "US-EAST-1")), "region", "is not an AWS region name"),
    Case(
        "region an availability zone",
        change((("region",), "eu-west-1b")),
        "region",
        "'eu-west-1b' is an availability zone; give its region, 'eu-west-1'",
    ),
    Case(
        "region a name", change((("region",), "virginia")), "region", "'virginia' is not an AWS region name"
    ),
    Case(
        "region unquoted no",
        _text("region: us-east-1", "region: no"),
        "region",
        "got boolean false; unquoted, YAML reads 'no' as a boolean: put it in quotes",
    ),
    Case("aws_conn_id empty", change((("aws_conn_id",), "")), "aws_conn_id", "must not be empty"),
    Case(
        "aws_conn_id spaces", change((("aws_conn_id",), "aws default")), "aws_conn_id", "letters, digits and"
    ),
    Case("aws_conn_id null", change((("aws_conn_id",), None)), "aws_conn_id", "got nothing (null)"),
    Case("description a number", change((("description",), 3)), "description", "expected a string"),
    Case("owner a list", change((("owner",), ["a", "b"])), "owner", "expected a string, got a list"),
    Case(
        "owner a date",
        _text("owner: dr-team", "owner: 2024-01-01"),
        "owner",
        "got date 2024-01-01; unquoted, YAML reads '2024-01-01' as a date",
        in_schema=False,  # safe_load gives a date object, which is not JSON
    ),
    # runbook steps (pre / post)
    Case(
        "step kind unknown",
        change((("waves", 1, "pre"), [{"aproval": {}}])),
        "waves[1].pre[0].aproval",
        "unknown step kind 'aproval' (did you mean 'approval'?); step kinds: approval, ssm_command, "
        "ssm_automation, lambda, wait",
    ),
    Case(
        "step with two keys",
        change((("waves", 1, "post"), [{"wait": 5, "lambda": {"function": "f"}}])),
        "waves[1].post[0]",
        "a step has exactly one key, its kind",
    ),
    Case(
        "step a bare kind",
        change((("waves", 1, "post"), ["wait"])),
        "waves[1].post[0]",
        "expected a mapping (step), got string 'wait'; write 'wait: {...}'",
    ),
    Case(
        "steps not a list",
        change((("waves", 1, "pre"), {"approval": {}})),
        "waves[1].pre",
        "expected a list, got a mapping",
    ),
    Case(
        "too many steps",
        change((("waves", 1, "post"), [{"wait": 1}] * 21)),
        "waves[1].post",
        "has 21 steps; at most 20 are allowed",
    ),
    Case(
        "pre ssm_command without targets",
        change((("waves", 1, "pre"), [{"ssm_command": {"document": "AWS-RunShellScript"}}])),
        "waves[1].pre[0].ssm_command",
        "an ssm_command in pre must name instance_ids or targets",
        in_schema=False,
    ),
    Case(
        "ssm_command with instance_ids and targets",
        change(
            (
                ("waves", 1, "post"),
                [
                    {
                        "ssm_command": {
                            "document": "AWS-RunShellScript",
                            "instance_ids": ["i-0123456789abcdef0"],
                            "targets": [{"Key": "tag:Role", "Values": ["app"]}],
                        }
                    }
                ],
            )
        ),
        "waves[1].post[0].ssm_command",
        "give instance_ids or targets, not both",
        in_schema=False,
    ),
    Case(
        "ssm_command without a document",
        change((("waves", 1, "post"), [{"ssm_command": {"timeout": 60}}])),
        "waves[1].post[0].ssm_command.document",
        "required key 'document' is missing",
    ),
    Case(
        "ssm_command instance id not an instance",
        change((("waves", 1, "post"), [{"ssm_command": {"document": "D-1", "instance_ids": [DB_ID]}}])),
        "waves[1].post[0].ssm_command.instance_ids[0]",
        "i- and 8 or 17 hex digits",
    ),
    Case(
        "ssm parameters not lists",
        change(
            (("waves", 1, "post"), [{"ssm_command": {"document": "D-1", "parameters": {"commands": "ls"}}}])
        ),
        "waves[1].post[0].ssm_command.parameters.commands",
        "expected a list, got string 'ls'; write [ls] for a list",
    ),
    Case(
        "duplicate step names",
        change(
            (
                ("waves", 1, "post"),
                [{"wait": {"seconds": 5, "name": "settle"}}, {"wait": {"seconds": 9, "name": "settle"}}],
            )
        ),
        "waves[1].post[1].wait.name",
        "step name 'settle' is already used by waves[1].post[0].wait in this wave",
        in_schema=False,
    ),
    Case(
        "explicit name taking a default name",
        change(
            (("waves", 1, "pre"), [{"wait": 5}]),
            (("waves", 1, "post"), [{"wait": {"seconds": 5, "name": "pre_1_wait"}}]),
        ),
        "waves[1].post[0].wait.name",
        "step name 'pre_1_wait' is already used by waves[1].pre[0].wait in this wave",
        in_schema=False,
    ),
    Case(
        "reserved step name",
        change((("waves", 1, "post"), [{"wait": {"seconds": 5, "name": "wait_for_recovery"}}])),
        "waves[1].post[0].wait.name",
        "'wait_for_recovery' is reserved (the wave has a task of that name)",
    ),
    Case(
        "step name pattern",
        change((("waves", 1, "post"), [{"wait": {"seconds": 5, "name": "Settle-Down"}}])),
        "waves[1].post[0].wait.name",
        "is not valid: a lowercase letter, then up to 50 lowercase letters, digits or underscores "
        "(did you mean 'settle_down'?)",
    ),
    Case(
        "wait zero",
        change((("waves", 1, "post"), [{"wait": 0}])),
        "waves[1].post[0].wait.seconds",
        "must be between 1 and 86400 seconds, got 0",
    ),
    Case(
        "wait too long",
        change((("waves", 1, "post"), [{"wait": 90000}])),
        "waves[1].post[0].wait.seconds",
        "must be between 1 and 86400 seconds, got 90000",
    ),
    Case(
        "wait text",
        change((("waves", 1, "post"), [{"wait": "2m"}])),
        "waves[1].post[0].wait.seconds",
        "expected an integer, got string '2m'",
    ),
    Case(
        "approval modes unknown",
        change((("waves", 1, "pre"), [{"approval": {"modes": ["test"]}}])),
        "waves[1].pre[0].approval.modes[0]",
        "'test' is not one of drill, recovery, failback",
    ),
    Case(
        "approval modes empty",
        change((("waves", 1, "pre"), [{"approval": {"modes": []}}])),
        "waves[1].pre[0].approval.modes",
        "needs at least 1 mode",
    ),
    Case(
        "step modes unknown",
        change((("waves", 1, "post"), [{"wait": {"seconds": 5, "modes": ["failback", "rehearsal"]}}])),
        "waves[1].post[0].wait.modes[1]",
        "'rehearsal' is not one of drill, recovery, failback",
    ),
    Case(
        "step modes twice",
        change((("waves", 1, "post"), [{"lambda": {"function": "f", "modes": ["failback", "failback"]}}])),
        "waves[1].post[0].lambda.modes[1]",
        "'failback' is listed twice",
    ),
    Case(
        "step modes not a list",
        change((("waves", 1, "post"), [{"ssm_automation": {"document": "D-1", "modes": "failback"}}])),
        "waves[1].post[0].ssm_automation.modes",
        "expected a list, got string 'failback'",
    ),
    Case(
        "approval timeout too short",
        change((("waves", 1, "pre"), [{"approval": {"timeout": 5}}])),
        "waves[1].pre[0].approval.timeout",
        "must be between 10 and 604800 seconds, got 5",
    ),
    Case(
        "optional not a boolean",
        _text("          optional: true", "          optional: 'yes'"),
        "waves[0].post[1].lambda.optional",
        "expected true or false, got string 'yes'",
    ),
    Case(
        "lambda function not a name",
        change((("waves", 1, "post"), [{"lambda": {"function": "my function"}}])),
        "waves[1].post[0].lambda.function",
        "is not valid: a Lambda function name or ARN",
    ),
    Case(
        "lambda payload not a mapping",
        change((("waves", 1, "post"), [{"lambda": {"function": "f", "payload": [1, 2]}}])),
        "waves[1].post[0].lambda.payload",
        "expected a mapping, got a list",
    ),
    Case(
        "lambda payload with a date",
        _text("payload: {record: db.shop.internal}", "payload: {record: db.shop.internal, at: 2024-01-01}"),
        "waves[0].post[1].lambda.payload.at",
        "expected a JSON value, got date 2024-01-01; put it in quotes",
        in_schema=False,  # safe_load gives a date object, which is not JSON
    ),
    Case(
        "step key in the wrong step",
        change((("waves", 1, "post"), [{"lambda": {"function": "f", "document": "D-1"}}])),
        "waves[1].post[0].lambda.document",
        "unknown key 'document' here (it belongs in an ssm_command step or in an ssm_automation step)",
    ),
    # run lifecycle keys (schema v2)
    Case(
        "cleanup unknown",
        change((("cleanup",), "sometimes")),
        "cleanup",
        "'sometimes' is not one of never, on_success, always",
    ),
    Case(
        "cleanup a boolean",
        _text("cleanup: on_success", "cleanup: true"),
        "cleanup",
        "expected a string, got boolean true",
    ),
    # failback keys
    Case(
        "failback_order unknown",
        change((("failback_order",), "backwards")),
        "failback_order",
        "'backwards' is not one of plan, reverse",
    ),
    Case(
        "failback_cleanup unknown",
        change((("failback_cleanup",), "delete")),
        "failback_cleanup",
        "'delete' is not one of keep, terminate",
    ),
    Case(
        "failback_sync_timeout too small",
        change((("failback_sync_timeout",), 59)),
        "failback_sync_timeout",
        "must be between 60 and 604800 seconds, got 59",
    ),
    Case(
        "failback_sync_timeout over a week",
        change((("failback_sync_timeout",), 604801)),
        "failback_sync_timeout",
        "must be between 60 and 604800 seconds, got 604801",
    ),
    # native_plan
    Case(
        "native_plan a string",
        change((("native_plan",), "yes")),
        "native_plan",
        "expected true or false, got string 'yes'",
    ),
    Case(
        "native_plan a number",
        change((("native_plan",), 1)),
        "native_plan",
        "expected true or false, got integer 1",
    ),
    Case(
        "rto_target too small",
        change((("rto_target",), 30)),
        "rto_target",
        "must be between 60 and 604800 seconds, got 30",
    ),
    Case(
        "rto_target text",
        change((("rto_target",), "30m")),
        "rto_target",
        "expected an integer, got string '30m'",
    ),
    # readiness keys
    Case(
        "rpo_target 0",
        change((("rpo_target",), 0)),
        "rpo_target",
        "must be between 1 and 604800 seconds, got 0",
    ),
    Case(
        "rpo_target over a week",
        change((("rpo_target",), 604801)),
        "rpo_target",
        "must be between 1 and 604800 seconds, got 604801",
    ),
    Case(
        "rpo_target text",
        change((("rpo_target",), "15m")),
        "rpo_target",
        "expected an integer, got string '15m'",
    ),
    Case(
        "drill_every under a day",
        change((("drill_every",), 86399)),
        "drill_every",
        "must be between 86400 and 31622400 seconds, got 86399",
    ),
    Case(
        "drill_every over a leap year",
        change((("drill_every",), 31622401)),
        "drill_every",
        "must be between 86400 and 31622400 seconds, got 31622401",
    ),
    Case(
        "drill_every quoted",
        change((("drill_every",), "2592000")),
        "drill_every",
        "expected an integer, got string '2592000'; remove the quotes",
    ),
    Case(
        "expect_servers 0",
        change((("waves", 1, "expect_servers"), 0)),
        "waves[1].expect_servers",
        "must be at least 1, got 0",
    ),
    Case(
        "expect_servers true",
        change((("waves", 1, "expect_servers"), True)),
        "waves[1].expect_servers",
        "expected an integer, got boolean true",
    ),
    Case(
        "expect_servers without tags",
        change((("waves", 2, "expect_servers"), 1)),
        "waves[2].expect_servers",
        "expect_servers counts the servers that servers.tags select, and wave 'reports' has no tags "
        "under servers: add tags or remove expect_servers",
        in_schema=False,
    ),
    Case(
        "expect_servers with empty tags",
        change((("waves", 2, "servers", "tags"), {}), (("waves", 2, "expect_servers"), 1)),
        "waves[2].expect_servers",
        "expect_servers counts the servers that servers.tags select, and wave 'reports' has no tags "
        "under servers: add tags or remove expect_servers",
        in_schema=False,
    ),
    # launch settings
    Case(
        "launch instance type not one",
        change((("waves", 3, "launch", "instance_type"), "large")),
        "waves[3].launch.instance_type",
        "'large' is not valid: an EC2 instance type such as m5.large",
    ),
    Case(
        "launch subnet not a subnet",
        change((("waves", 3, "launch", "subnet_id"), "vpc-0123456789abcdef0")),
        "waves[3].launch.subnet_id",
        "is not valid: a subnet ID such as subnet-0123456789abcdef0",
    ),
    Case(
        "launch security groups a string",
        change((("waves", 3, "launch", "security_group_ids"), "sg-0123456789abcdef0")),
        "waves[3].launch.security_group_ids",
        "expected a list, got string 'sg-0123456789abcdef0'; write [sg-0123456789abcdef0] for a list",
    ),
    Case(
        "launch security groups empty",
        change((("waves", 3, "launch", "security_group_ids"), [])),
        "waves[3].launch.security_group_ids",
        "needs at least 1 security group",
    ),
    Case(
        "launch security group twice",
        change((("waves", 3, "launch", "security_group_ids"), ["sg-0123abcd", "sg-0123abcd"])),
        "waves[3].launch.security_group_ids[1]",
        "'sg-0123abcd' is listed twice",
    ),
    Case(
        "launch disposition unknown",
        change((("waves", 3, "launch", "launch_disposition"), "RUNNING")),
        "waves[3].launch.launch_disposition",
        "'RUNNING' is not one of STOPPED, STARTED",
    ),
    Case(
        "launch right sizing lower case",
        change((("waves", 3, "launch", "right_sizing"), "basic")),
        "waves[3].launch.right_sizing",
        "'basic' is not one of NONE, BASIC, IN_AWS",
    ),
    Case(
        "launch copy tags yes",
        _text("copy_tags: true", "copy_tags: yes please"),
        "waves[3].launch_per_server['s-2123456789abcdef2'].copy_tags",
        "expected true or false, got string 'yes please'",
    ),
    Case(
        "launch key unknown",
        change((("waves", 3, "launch", "instance"), "m5.large")),
        "waves[3].launch.instance",
        "unknown key 'instance' (did you mean 'instance_type'?)",
    ),
    Case(
        "launch key in the wave",
        change((("waves", 3, "copy_tags"), True)),
        "waves[3].copy_tags",
        "unknown key 'copy_tags' here (it belongs under 'launch' or a server of 'launch_per_server')",
    ),
    Case(
        "launch private ip not an address",
        change((("waves", 3, "launch_per_server", SPARE_ID, "private_ip"), "10.0.3.300")),
        f"waves[3].launch_per_server['{SPARE_ID}'].private_ip",
        "'10.0.3.300' is not an IPv4 address such as 10.0.1.25",
    ),
    Case(
        "launch private ip for the whole wave",
        change((("waves", 3, "launch", "private_ip"), "10.0.3.11")),
        "waves[3].launch.private_ip",
        "a private IP is one server's, not every server's of the wave: give it under launch_per_server",
        in_schema=False,
    ),
    Case(
        "launch private ip and copy private ip",
        change((("waves", 3, "launch_per_server", SPARE_ID, "copy_private_ip"), True)),
        f"waves[3].launch_per_server['{SPARE_ID}'].private_ip",
        "copy_private_ip: true launches with the source server's own address: give private_ip or "
        "copy_private_ip: true, not both",
        in_schema=False,
    ),
    Case(
        "launch private ip twice",
        change(
            (("waves", 1, "launch_per_server"), {"s-3123456789abcdef3": {"private_ip": "10.0.3.10"}}),
        ),
        "waves[3].launch_per_server['s-2123456789abcdef2'].private_ip",
        "private IP 10.0.3.10 is already given at "
        "waves[1].launch_per_server['s-3123456789abcdef3'].private_ip",
        in_schema=False,
    ),
    Case(
        "launch instance type with right sizing on",
        change((("waves", 3, "launch", "right_sizing"), "BASIC")),
        "waves[3].launch.instance_type",
        "instance_type c5.large takes effect only with right_sizing: NONE: not BASIC",
        in_schema=False,
    ),
    Case(
        "launch instance type without right sizing",
        change((("waves", 3, "launch", "right_sizing"), DELETE)),
        "waves[3].launch.instance_type",
        "instance_type c5.large takes effect only with right_sizing: NONE: add right_sizing: NONE",
        in_schema=False,
    ),
    Case(
        "launch a server turning right sizing on",
        change((("waves", 3, "launch_per_server", SPARE_ID, "right_sizing"), "IN_AWS")),
        f"waves[3].launch_per_server['{SPARE_ID}'].right_sizing",
        "instance_type c5.large takes effect only with right_sizing: NONE: not IN_AWS",
        in_schema=False,
    ),
    Case(
        "launch per server not a server id",
        change((("waves", 3, "launch_per_server"), {"i-0123456789abcdef0": {"copy_tags": True}})),
        "waves[3].launch_per_server['i-0123456789abcdef0']",
        "that is an EC2 instance ID",
    ),
    Case(
        "launch per server of another wave",
        change((("waves", 3, "launch_per_server"), {REPORTS_ID: {"copy_tags": True}})),
        f"waves[3].launch_per_server['{REPORTS_ID}']",
        f"server {REPORTS_ID} is recovered by wave 'reports' (waves[2].servers.ids[0]): give its launch "
        "settings there",
        in_schema=False,
    ),
    Case(
        "launch per server outside an id-only wave",
        change((("waves", 2, "launch_per_server"), {DB_ID: {"copy_tags": True}})),
        f"waves[2].launch_per_server['{DB_ID}']",
        f"server {DB_ID} is recovered by wave 'database'",
        in_schema=False,
    ),
    Case(
        "launch per server not in the wave",
        change((("waves", 2, "launch_per_server"), {"s-3123456789abcdef3": {"copy_tags": True}})),
        "waves[2].launch_per_server['s-3123456789abcdef3']",
        "server s-3123456789abcdef3 is not a server of wave 'reports': it is not among its ids, and the "
        "wave selects no servers by tags",
        in_schema=False,
    ),
    Case(
        "launch per server a list",
        change((("waves", 3, "launch_per_server"), [SPARE_ID])),
        "waves[3].launch_per_server",
        "expected a mapping of source server IDs to launch settings, got a list",
    ),
    Case(
        "notify without a topic",
        change((("notify",), {"events": ["started"]})),
        "notify.sns_topic_arn",
        "required key 'sns_topic_arn' is missing",
    ),
    Case(
        "notify topic not an ARN",
        change((("notify", "sns_topic_arn"), "dr-events")),
        "notify.sns_topic_arn",
        "is not valid: an SNS topic ARN",
    ),
    Case(
        "notify event unknown",
        change((("notify", "events"), ["started", "finished"])),
        "notify.events[1]",
        "'finished' is not one of started",
    ),
    Case("notify events empty", change((("notify", "events"), [])), "notify.events", "needs at least 1 item"),
    Case(
        "notify a string",
        change((("notify",), "arn:aws:sns:us-east-1:123456789012:dr")),
        "notify",
        "expected a mapping (notify)",
    ),
    Case(
        "report uri without a slash",
        change((("report", "s3_uri"), "s3://dr-evidence/shop")),
        "report.s3_uri",
        "s3://bucket/ or s3://bucket/prefix/ (ending with /)",
    ),
    Case(
        "report uri not s3",
        change((("report", "s3_uri"), "https://dr-evidence/")),
        "report.s3_uri",
        "is not valid",
    ),
    Case(
        "report key misplaced",
        change((("report",), {"s3_uri": "s3://b-1/", "events": ["started"]})),
        "report.events",
        "unknown key 'events' here (it belongs under 'notify')",
    ),
    Case(
        "recovery_allowed empty",
        change((("recovery_allowed",), [])),
        "recovery_allowed",
        "needs at least 1 entry",
    ),
    Case(
        "recovery_allowed a string",
        change((("recovery_allowed",), "alice")),
        "recovery_allowed",
        "expected a list",
    ),
    Case(
        "recovery_allowed a bare role prefix",
        change((("recovery_allowed",), ["alice", "role:"])),
        "recovery_allowed[1]",
        "'role:' names no role",
    ),
    Case(
        "recovery_allowed with spaces",
        change((("recovery_allowed",), [" alice"])),
        "recovery_allowed[0]",
        "has spaces or line breaks around it",
    ),
    Case(
        "recovery_allowed twice",
        change((("recovery_allowed",), ["alice", "alice"])),
        "recovery_allowed[1]",
        "'alice' is listed twice",
    ),
]
