"""Fleet files: the format, every error named by file and field, the sample fleet."""

from __future__ import annotations

import pytest

from drs_simulator import SAMPLE_FLEET
from drs_simulator.errors import FleetFileError
from drs_simulator.fleet import FleetValidationError, Quotas, load_fleet, parse_fleet

GOOD = """\
account_id: "123456789012"
region: eu-central-1
source_servers:
  - id: s-0a000000000000001
    hostname: db-1
"""


def write(tmp_path, text, name="fleet.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_minimal_fleet_gets_defaults(tmp_path):
    fleet = load_fleet(write(tmp_path, GOOD))
    (server,) = fleet.source_servers
    assert fleet.account_id == "123456789012" and fleet.region == "eu-central-1"
    assert server.replication_state == "CONTINUOUS"
    assert server.launch_seconds == 60
    assert server.fail_launch is False
    assert server.lag_seconds is None
    assert "lag_seconds" not in fleet.to_dict()["source_servers"][0]
    assert server.tags == {}
    assert fleet.quotas == Quotas(100, 500, 20)


def test_error_names_file_and_field(tmp_path):
    text = (
        GOOD
        + "".join(f"  - {{id: s-0a00000000000000{n}, hostname: h{n}}}\n" for n in (2, 3))
        + ("  - {id: s-bad, hostname: h4}\n")
    )
    path = write(tmp_path, text)
    with pytest.raises(FleetFileError) as caught:
        load_fleet(path)
    assert str(caught.value) == f"{path}: source_servers[3].id: 's-bad' does not match s-[0-9a-zA-Z]{{17}}"
    assert caught.value.file == str(path)
    assert caught.value.path == "source_servers[3].id"


def test_all_errors_are_collected(tmp_path):
    text = """\
account_id: 42
region: mars-1
colour: red
quotas: {max_servers_per_job: 0, max_bananas: 3}
source_servers:
  - {id: s-0a000000000000001, hostname: a, replication_state: HAPPY, launch_seconds: -5, fail_launch: 3}
  - {id: s-0a000000000000001, hostname: b}
  - {hostname: c, tags: {App: 7}, extra: 1}
  - just-a-string
"""
    path = write(tmp_path, text)
    with pytest.raises(FleetValidationError) as caught:
        load_fleet(path)
    paths = [problem[0] for problem in caught.value.problems]
    assert paths == [
        "colour",
        "account_id",
        "region",
        "quotas.max_servers_per_job",
        "quotas.max_bananas",
        "source_servers[0].replication_state",
        "source_servers[0].launch_seconds",
        "source_servers[0].fail_launch",
        "source_servers[1].id",
        "source_servers[2].extra",
        "source_servers[2].id",
        "source_servers[2].tags.App",
        "source_servers[3]",
    ]
    lines = str(caught.value).splitlines()
    assert len(lines) == len(paths)
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert "repeats source_servers[0].id" in str(caught.value)
    assert isinstance(caught.value, FleetFileError)


def test_missing_required_keys(tmp_path):
    with pytest.raises(FleetValidationError) as caught:
        load_fleet(write(tmp_path, "{}\n"))
    assert [p for p, _ in caught.value.problems] == ["account_id", "region", "source_servers"]


def test_yaml_syntax_error_names_the_file_and_line(tmp_path):
    path = write(tmp_path, "account_id: [\n")
    with pytest.raises(FleetFileError) as caught:
        load_fleet(path)
    assert str(caught.value).startswith(f"{path}: not valid YAML: line ")


def test_not_a_mapping(tmp_path):
    with pytest.raises(FleetFileError, match="not a fleet file: a fleet is a YAML mapping with keys"):
        load_fleet(write(tmp_path, "- 1\n- 2\n"))


def test_a_mapping_without_any_fleet_key_is_not_a_fleet_and_its_keys_are_not_quoted(tmp_path):
    with pytest.raises(FleetFileError) as caught:
        load_fleet(write(tmp_path, "password: hunter2\ntoken: abc\n"))
    assert "password" not in str(caught.value) and "not a fleet file" in str(caught.value)


def test_yaml_errors_give_the_place_and_never_a_quoted_character(tmp_path):
    with pytest.raises(FleetFileError) as caught:
        load_fleet(write(tmp_path, "account_id: x\n@secret\n"))
    assert str(caught.value).endswith("not valid YAML: line 2, column 1")


def test_a_fifo_given_on_the_command_line_is_refused_without_blocking(tmp_path):
    import os

    os.mkfifo(tmp_path / "fleet.yaml")
    with pytest.raises(FleetFileError, match="not a regular file"):
        load_fleet(tmp_path / "fleet.yaml")


def test_values_in_errors_are_cut_short(tmp_path):
    with pytest.raises(FleetFileError) as caught:
        load_fleet(write(tmp_path, f"account_id: '123456789012'\nregion: {'x' * 5000}\nsource_servers: []\n"))
    assert len(str(caught.value)) < len(str(tmp_path)) + 200


def test_unreadable_file(tmp_path):
    with pytest.raises(FleetFileError, match="cannot read"):
        load_fleet(tmp_path / "missing.yaml")


def test_fail_launch_can_carry_the_raw_error():
    fleet = parse_fleet(
        {
            "account_id": "123456789012",
            "region": "us-east-1",
            "source_servers": [{"id": "s-0a000000000000001", "hostname": "a", "fail_launch": "disk full"}],
        },
        "<dict>",
    )
    assert fleet.source_servers[0].fail_launch == "disk full"


def test_round_trip_through_to_dict():
    fleet = load_fleet(SAMPLE_FLEET)
    assert parse_fleet(fleet.to_dict(), "<again>").source_servers == fleet.source_servers


def one_server(**keys: object) -> dict[str, object]:
    server = {"id": "s-0a000000000000001", "hostname": "a", **keys}
    return {"account_id": "123456789012", "region": "us-east-1", "source_servers": [server]}


@pytest.mark.parametrize("lag", [0, 0.5, 3725, 366 * 86400])
def test_lag_seconds_is_any_number_of_seconds_up_to_366_days(lag: float) -> None:
    fleet = parse_fleet(one_server(lag_seconds=lag), "<dict>")
    assert fleet.source_servers[0].lag_seconds == lag
    assert parse_fleet(fleet.to_dict(), "<again>").source_servers == fleet.source_servers


@pytest.mark.parametrize(
    ("lag", "shown"),
    [
        (-1, "-1"),
        (366 * 86400 + 1, "31622401"),
        ("1h", "'1h'"),
        (True, "True"),
        (None, "None"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ],
)
def test_a_bad_lag_seconds_is_named_by_server_and_key(lag: object, shown: str) -> None:
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet(one_server(lag_seconds=lag), "fleet.yaml")
    assert str(caught.value) == (
        f"fleet.yaml: source_servers[0].lag_seconds: {shown} is not a number of seconds in [0, 31622400]"
    )


LAUNCH = {
    "instance_type": "r5.xlarge",
    "subnet_id": "subnet-0123abcd",
    "security_group_ids": ["sg-0123abcd", "sg-0123456789abcdef0"],
    "private_ip": "10.0.1.25",
    "copy_private_ip": False,
    "copy_tags": True,
    "launch_disposition": "STOPPED",
    "right_sizing": "NONE",
    "os_byol": True,
}


def test_launch_gives_a_servers_launch_settings_now() -> None:
    fleet = parse_fleet(one_server(launch=LAUNCH), "<dict>")
    [server] = fleet.source_servers
    assert server.launch.security_group_ids == ("sg-0123abcd", "sg-0123456789abcdef0")
    assert server.launch.template_keys == ("instance_type", "subnet_id", "security_group_ids", "private_ip")
    assert fleet.to_dict()["source_servers"][0]["launch"] == LAUNCH
    assert parse_fleet(fleet.to_dict(), "<again>").source_servers == fleet.source_servers
    assert "launch" not in parse_fleet(one_server(), "<dict>").to_dict()["source_servers"][0]


def test_every_bad_launch_setting_is_named_by_server_and_key() -> None:
    bad = {
        "instance_type": "large",
        "subnet_id": "vpc-0123abcd",
        "security_group_ids": [],
        "private_ip": "10.0.1.256",
        "copy_tags": "yes",
        "launch_disposition": "RUNNING",
        "right_sizing": "basic",
        "colour": "red",
    }
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet(one_server(launch=bad), "fleet.yaml")
    assert [path for path, _ in caught.value.problems] == [
        f"source_servers[0].launch.{key}"
        for key in (
            "colour",
            "launch_disposition",
            "right_sizing",
            "copy_tags",
            "instance_type",
            "subnet_id",
            "security_group_ids",
            "private_ip",
        )
    ]
    assert "must be one of STOPPED, STARTED" in str(caught.value)


def test_launch_must_be_a_mapping() -> None:
    with pytest.raises(FleetValidationError) as caught:
        parse_fleet(one_server(launch="m5.large"), "fleet.yaml")
    assert str(caught.value).startswith(
        "fleet.yaml: source_servers[0].launch: must be a mapping of launch settings"
    )


SHOP = {
    "s-0a000000000000001": ("db-1", "db"),
    "s-0a000000000000002": ("db-2", "db"),
    "s-0a000000000000003": ("app-1", "app"),
    "s-0a000000000000004": ("app-2", "app"),
    "s-0a000000000000005": ("web-1", "web"),
    "s-0a000000000000006": ("web-2", "web"),
    "s-0a000000000000007": ("db-replica-1", "db-replica"),
}
PORTAL = {
    "s-0b000000000000001": ("portal-db", "db"),
    "s-0b000000000000002": ("portal-cache", "cache"),
    "s-0b000000000000003": ("portal-api", "api"),
    "s-0b000000000000004": ("portal-batch", "batch"),
    "s-0b000000000000005": ("portal-web", "web"),
}


def test_sample_fleet_has_exactly_the_shop_and_portal_servers():
    fleet = load_fleet(SAMPLE_FLEET)
    by_app: dict[str, dict[str, tuple[str, str]]] = {}
    for server in fleet.source_servers:
        by_app.setdefault(server.tags["App"], {})[server.id] = (server.hostname, server.tags["Role"])
        if server.tags["App"] in ("shop", "portal"):
            assert server.tags == {"App": server.tags["App"], "Role": server.tags["Role"]}
            assert server.replication_state == "CONTINUOUS"
            assert 30 <= server.launch_seconds <= 90
            assert server.fail_launch is False
    assert by_app["shop"] == SHOP
    assert by_app["portal"] == PORTAL
    lab = load_fleet(SAMPLE_FLEET).source_servers
    assert any(s.replication_state == "STALLED" and s.tags["App"] == "lab" for s in lab)


def test_a_fleet_file_error_names_file_and_field_and_survives_pickling() -> None:
    import pickle

    error = FleetFileError("fleet.yaml", "source_servers[0].id", "not an ID")
    assert str(error) == "fleet.yaml: source_servers[0].id: not an ID"
    assert str(FleetFileError("fleet.yaml", "", "not valid YAML")) == "fleet.yaml: not valid YAML"
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is FleetFileError and vars(copy) == vars(error) and str(copy) == str(error)
