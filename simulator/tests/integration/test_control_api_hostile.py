"""Hostile input to POST /_simulator/reset: only fleet files from the fleet directory, read safely.

Every refusal is a 400 that arrives (``raw_call`` gives up after 30 s, so a hang fails the test)
and quotes nothing from a file that is not a fleet.
"""

from __future__ import annotations

import os

import pytest

from drs_simulator.fleet import MAX_FLEET_FILE_BYTES
from drs_simulator.in_process import start_in_thread
from integration.helpers import raw_call

pytestmark = pytest.mark.integration

#: Looks like a credentials file; none of it may ever appear in an answer.
SECRET_LINES = [
    "zorkadm:$6$Zq8sEcReT$hashhashhash:19700:0:99999:7:::",
    "qwvdeploy:$6$An0th3rS3cr3t$morehash:19701:0:99999:7:::",
]
SECRET_MARKERS = ("sEcReT", "S3cr3t", "hashhash", "zork", "qwv", "19700")


def refusal(fleets, fleet_path) -> str:
    status, _, body = fleets.reset({"fleet_path": fleet_path})
    assert status == 400, body
    message: str = body["error"]
    assert not any(marker in message for marker in SECRET_MARKERS), message
    return message


def starting_fleet_kept(fleets) -> None:
    status, _, health = raw_call(fleets.url, "GET", "/_simulator/health", auth=False)
    assert status == 200 and health["account_id"] == "123456789012"


@pytest.mark.parametrize(
    "fleet_path", ["/etc/passwd", "../" * 20 + "etc/passwd", "/dev/zero", "fleet.yaml/../../outside.yaml"]
)
def test_paths_outside_the_fleet_directory_are_refused_before_anything_is_opened(fleets, fleet_path):
    (fleets.directory.parent / "outside.yaml").write_text("\n".join(SECRET_LINES))
    message = refusal(fleets, fleet_path)
    assert f"outside the fleet directory {fleets.directory}" in message
    starting_fleet_kept(fleets)


def test_a_symlink_out_of_the_fleet_directory_is_refused(fleets):
    secret = fleets.directory.parent / "credentials"
    secret.write_text("\n".join(SECRET_LINES))
    (fleets.directory / "innocent.yaml").symlink_to(secret)
    (fleets.directory / "zero.yaml").symlink_to("/dev/zero")
    assert "outside the fleet directory" in refusal(fleets, "innocent.yaml")
    assert "outside the fleet directory" in refusal(fleets, "zero.yaml")


def test_a_symlink_loop_is_refused(fleets):
    (fleets.directory / "a.yaml").symlink_to(fleets.directory / "b.yaml")
    (fleets.directory / "b.yaml").symlink_to(fleets.directory / "a.yaml")
    assert "cannot be resolved" in refusal(fleets, "a.yaml")


def test_a_fifo_is_refused_without_blocking(fleets):
    os.mkfifo(fleets.directory / "pipe.yaml")  # no writer: opening it for reading would block
    assert "not a regular file" in refusal(fleets, "pipe.yaml")
    starting_fleet_kept(fleets)


def test_devices_and_directories_are_refused(tmp_path):
    (tmp_path / "fleet.yaml").write_text(
        "account_id: '123456789012'\nregion: us-east-1\nsource_servers: []\n"
    )
    with start_in_thread(fleet=tmp_path / "fleet.yaml", fleet_dir="/dev") as running:
        for device in ("zero", "urandom", "null"):
            status, _, body = raw_call(
                running.url, "POST", "/_simulator/reset", {"fleet_path": device}, auth=False
            )
            assert status == 400 and "not a regular file" in body["error"], body
    with start_in_thread(fleet=tmp_path / "fleet.yaml") as running:
        status, _, body = raw_call(running.url, "POST", "/_simulator/reset", {"fleet_path": "."}, auth=False)
        assert status == 400 and "not a regular file" in body["error"], body


def test_a_file_larger_than_the_limit_is_refused_without_reading_it(fleets):
    with open(fleets.directory / "huge.yaml", "wb") as huge:
        huge.truncate(64 * MAX_FLEET_FILE_BYTES)  # sparse: large to stat, nothing on disk
    assert f"larger than the {MAX_FLEET_FILE_BYTES} bytes" in refusal(fleets, "huge.yaml")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("shadow.yaml", "\n".join(SECRET_LINES) + "\n"),  # a YAML scalar, not a mapping
        ("mapping.yaml", "zork: sEcReT\nqwv: S3cr3t\n"),  # a mapping without fleet keys
        ("list.yaml", "- zork\n- qwv\n"),
        ("binary.yaml", b"\xff\xfe\x00zork\x00sEcReT"),
        ("syntax.yaml", "zork: [sEcReT\n"),
        ("badchar.yaml", "zork: sEcReT\n@qwv\n"),  # PyYAML would quote the '@'
        ("tag.yaml", "!!python/object:os.system zork\n"),
        ("deep.yaml", "[" * 50_000 + "zork"),
    ],
)
def test_a_file_that_is_not_a_fleet_is_refused_quoting_nothing(fleets, name, content):
    path = fleets.directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    message = refusal(fleets, name)
    assert message.startswith(f"{path}: ")
    assert "not a fleet file" in message or "not valid YAML" in message, message
    starting_fleet_kept(fleets)


def test_a_billion_laughs_fleet_gets_a_short_answer(fleets):
    laughs = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    (fleets.directory / "laughs.yaml").write_text(
        "\n".join(laughs) + "\naccount_id: *a9\nregion: us-east-1\nsource_servers: []\n"
    )
    message = refusal(fleets, "laughs.yaml")
    # a9 expanded would be 9**10 "lol"s; the answer names it shortly (the file's path, which
    # depends on the test's temporary folder, is left out of the count)
    short = message.replace(str(fleets.directory / "laughs.yaml"), "laughs.yaml")
    assert "account_id: [[" in message and len(short) < 2000, message[:300]


def test_a_fleet_file_with_mistakes_is_still_explained_in_full(fleets):
    (fleets.directory / "typo.yaml").write_text(
        "account_id: '123456789012'\nregion: us-east-1\nsource_server: []\ncolour: blue\n"
    )
    message = refusal(fleets, "typo.yaml")
    assert "source_server: unknown key" in message and "colour: unknown key" in message
    assert "source_servers: required" in message


@pytest.mark.parametrize("fleet_path", [7, ["fleet.yaml"], {"path": "x"}, "", "fleet\x00.yaml"])
def test_a_fleet_path_that_is_not_a_file_name_is_refused(fleets, fleet_path):
    refusal(fleets, fleet_path)


def test_a_simulator_started_on_an_inline_fleet_reads_no_files(sample_fleet_dict):
    with start_in_thread(fleet=sample_fleet_dict) as running:
        status, _, body = raw_call(
            running.url, "POST", "/_simulator/reset", {"fleet_path": "sample_fleet.yaml"}, auth=False
        )
        assert status == 400 and "reads no fleet files over HTTP" in body["error"]
        status, _, body = raw_call(
            running.url, "POST", "/_simulator/reset", {"fleet": sample_fleet_dict}, auth=False
        )
        assert status == 200


def test_a_deeply_nested_json_body_is_a_bad_request(fleets):
    status, _, body = raw_call(
        fleets.url, "POST", "/_simulator/reset", '{"fleet": ' + "[" * 100_000, auth=False
    )
    assert status == 400 and "not valid JSON" in body["error"]
