"""The simulator as a process: drs-simulator / python -m drs_simulator."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest

from drs_simulator import SAMPLE_FLEET
from integration.helpers import raw_call, refuses_connections, wait_for

pytestmark = pytest.mark.integration

SCRIPT = Path(sys.executable).parent / "drs-simulator"
URL_LINE = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


def start(argv: list[str]) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = URL_LINE.search(line)
    if not found:
        process.kill()
        raise AssertionError(
            f"no URL line; got {line!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        )
    return process, found.group(1)


@pytest.mark.parametrize(
    "command",
    [[str(SCRIPT)], [sys.executable, "-m", "drs_simulator"]],
    ids=["console-script", "python-m"],
)
def test_cli_prints_its_url_serves_and_stops_on_sigterm(command, tmp_path):
    if command[0] == str(SCRIPT) and not SCRIPT.exists():
        pytest.skip("the drs-simulator console script is not installed in this environment")
    process, url = start(
        [*command, "--host", "127.0.0.1", "--port", "0", "--fleet", str(SAMPLE_FLEET), "--speed", "100"]
    )
    try:
        client = boto3.client(
            "drs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
        )
        assert len(client.describe_source_servers()["items"]) >= 12
        with urllib.request.urlopen(f"{url}/_simulator/health", timeout=10) as response:
            assert json.loads(response.read())["speed"] == 100
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_cli_stops_on_sigint(tmp_path):
    process, _url = start([sys.executable, "-m", "drs_simulator", "--port", "0"])
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=20)
    assert process.returncode == 0


def test_cli_rejects_a_bad_fleet_with_exit_2(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "account_id: '123456789012'\nregion: us-east-1\nsource_servers:\n"
        "  - {id: s-0a000000000000001, hostname: a}\n"
        "  - {id: s-0a000000000000002, hostname: b}\n"
        "  - {id: s-0a000000000000003, hostname: c}\n"
        "  - {id: s-bad, hostname: d, colour: blue}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--port", "0", "--fleet", str(fleet)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{fleet}: source_servers[3].id: 's-bad' does not match s-[0-9a-zA-Z]{{17}}" in result.stderr
    assert f"{fleet}: source_servers[3].colour: unknown key" in result.stderr
    assert "listening" not in result.stdout


def test_cli_refuses_launch_template_settings_without_an_ec2_endpoint(tmp_path):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "account_id: '123456789012'\nregion: us-east-1\nsource_servers:\n"
        "  - {id: s-0a000000000000001, hostname: a, launch: {copy_tags: true, subnet_id: subnet-0123abcd}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--port", "0", "--fleet", str(fleet)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        f"{fleet}: source_servers[0].launch.subnet_id: lives in the server's EC2 launch template: start "
        "the simulator with --ec2-endpoint" in result.stderr
    )


def test_cli_ec2_endpoint_keeps_launch_templates_there(tmp_path, ec2_endpoint):
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "account_id: '123456789012'\nregion: us-east-1\nsource_servers:\n"
        "  - {id: s-0a000000000000001, hostname: a, launch: {instance_type: c5.large, right_sizing: NONE}}\n"
    )
    argv = [sys.executable, "-m", "drs_simulator", "--port", "0", "--fleet", str(fleet)]
    process, url = start([*argv, "--ec2-endpoint", ec2_endpoint])
    try:
        keys = {"region_name": "us-east-1", "aws_access_key_id": "a", "aws_secret_access_key": "b"}
        drs = boto3.client("drs", endpoint_url=url, **keys)
        template = drs.get_launch_configuration(sourceServerID="s-0a000000000000001")["ec2LaunchTemplateID"]
        ec2 = boto3.client("ec2", endpoint_url=ec2_endpoint, **keys)
        [version] = ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=["$Default"])[
            "LaunchTemplateVersions"
        ]
        assert version["LaunchTemplateData"]["InstanceType"] == "c5.large"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_cli_missing_fleet_file_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--fleet", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr


def test_cli_lists_operations_like_the_checked_in_checklist():
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--list-operations"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    checked_in = (Path(__file__).resolve().parents[2] / "OPERATIONS.md").read_text()
    assert result.stdout == checked_in


def test_port_in_use_is_a_clear_error():
    process, url = start([sys.executable, "-m", "drs_simulator", "--port", "0"])
    try:
        port = url.rsplit(":", 1)[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "drs_simulator", "--port", port],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1
        assert "cannot listen" in result.stderr
        assert time.monotonic() - started < 30
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


@pytest.mark.parametrize("fleet", ["/dev/zero", "/dev/stdin"])
def test_cli_refuses_a_fleet_that_is_not_a_regular_file_at_once(fleet):
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--port", "0", "--fleet", fleet],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.PIPE,  # /dev/stdin: a pipe nobody writes to
    )
    assert result.returncode == 2
    assert f"{fleet}: not a regular file" in result.stderr


def test_cli_fleet_dir_decides_which_fleet_files_reset_may_read(tmp_path):
    fleets = tmp_path / "fleets"
    fleets.mkdir()
    (fleets / "tiny.yaml").write_text(
        "account_id: '210987654321'\nregion: us-east-1\nsource_servers:\n"
        "  - {id: s-00000000000000abc, hostname: only-one}\n"
    )
    process, url = start([sys.executable, "-m", "drs_simulator", "--port", "0", "--fleet-dir", str(fleets)])
    try:

        def reset(body: dict[str, str]) -> tuple[int, dict[str, object]]:
            request = urllib.request.Request(
                f"{url}/_simulator/reset", data=json.dumps(body).encode(), method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        status, state = reset({"fleet_path": "tiny.yaml"})
        assert status == 200 and state["account_id"] == "210987654321"
        status, refused = reset({"fleet_path": str(SAMPLE_FLEET)})  # the starting fleet's directory is not it
        assert status == 400 and f"outside the fleet directory {fleets}" in refused["error"]
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)


def test_cli_fleet_dir_must_be_a_directory(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "drs_simulator",
            "--port",
            "0",
            "--fleet-dir",
            str(tmp_path / "nope"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--fleet-dir" in result.stderr and "is not a directory" in result.stderr


def test_cli_outage_refuses_connections_comes_back_on_its_port_and_stops_on_sigterm_while_down():
    process, url = start([sys.executable, "-m", "drs_simulator", "--port", "0", "--speed", "100"])
    try:
        status, _, _ = raw_call(url, "POST", "/_simulator/faults", {"outage_seconds": 0.5}, auth=False)
        assert status == 200 and refuses_connections(url)
        wait_for(lambda: not refuses_connections(url), timeout=30)
        status, _, health = raw_call(url, "GET", "/_simulator/health", auth=False)
        assert status == 200 and health["outages"][0]["ended"] is not None

        raw_call(url, "POST", "/_simulator/faults", {"outage_seconds": 600}, auth=False)
        assert refuses_connections(url)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "stopped" in out
