"""Static checks of docker-compose.aws.yaml: docker-compose.yaml laid over for a real AWS account.

`docker compose -f docker-compose.yaml -f docker-compose.aws.yaml` merges the two. No Docker runs
here, so `merge` below merges them by Compose's rules, as far as these files use them (those of
compose-go's loader: `!reset` removes an entry, `!override` replaces one, mappings merge key by
key, `command`, `entrypoint` and `healthcheck.test` are replaced, `build: .` is a context), and
every helper of test_docker_compose reads the merged project here (see `read_the_merged_project`).
Where a Docker Compose v2 is installed, `test_docker_compose_merges_the_files_the_same_way` asks it
for the merged project and compares.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.unit import test_docker_compose as demo
from tests.unit.test_docker_compose import (
    AIRFLOW_COMPONENTS,
    API_SERVER,
    COMPOSE_FILE,
    DOCKERFILE,
    LOOPBACK,
    MOTO,
    REPO,
    SIMULATOR,
    MissingVariableError,
    airflow_invocations,
    command_lines,
    interpolate,
    port_mappings,
    services,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

AWS_FILE = REPO / "docker-compose.aws.yaml"
#: What the operator exports before `docker compose up`: the override has no default for these.
OPERATOR_ENV = {
    "DRS_REGION": "eu-west-1",
    "AIRFLOW__CORE__FERNET_KEY": "6aMeYnVuHR0tmGkrR-kpWO1KrPo9ErVrxavA0PdjPQA=",
    "AIRFLOW__API_AUTH__JWT_SECRET": "a-secret-the-operator-chose",
    "_AIRFLOW_WWW_USER_PASSWORD": "a-password-the-operator-chose",
}
BUILT = (*AIRFLOW_COMPONENTS, "airflow-init")
LOCAL_AWS_SERVICES = {SIMULATOR, MOTO, "moto-init"}
LOCAL_AWS_PROGRAMS = {"drs-simulator", "moto_server", "drs-local-aws"}
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal", SIMULATOR, MOTO}


class Reset:
    """``!reset``: the entry is removed from the merged project."""


RESET = Reset()


@dataclass(frozen=True)
class Override:
    """``!override``: the value replaces the earlier file's instead of merging with it."""

    value: Any


class ComposeLoader(yaml.SafeLoader):
    """YAML with Compose's two merge tags."""


def _override(loader: yaml.SafeLoader, node: yaml.Node) -> Override:
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    return Override(loader.construct_scalar(node))


ComposeLoader.add_constructor("!reset", lambda loader, node: RESET)
ComposeLoader.add_constructor("!override", _override)


def load(text: str) -> Any:
    return yaml.load(text, Loader=ComposeLoader)  # a SafeLoader with two tags more


_REPLACED = (("command",), ("entrypoint",), ("healthcheck", "test"))


def merge(base: Any, override: Any, path: tuple[str, ...] = ()) -> Any:
    """``override`` laid over ``base`` as Compose lays a later file over an earlier one."""
    if isinstance(override, Override):
        return _plain(override.value)
    if path[-1:] == ("build",) and isinstance(base, str):
        base = {"context": base}
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if value is RESET:
                merged.pop(key, None)
            elif key not in base:
                merged[key] = _plain(value)
            elif value is None:
                # In `environment` a name without a value is passed on from Compose's own
                # environment, replacing the earlier value; elsewhere null changes nothing.
                merged[key] = None if path[-1:] == ("environment",) else base[key]
            else:
                merged[key] = merge(base[key], value, (*path, key))
        return merged
    if isinstance(base, list) and isinstance(override, list):
        if any(path[-len(tail) :] == tail for tail in _REPLACED):
            return _plain(override)
        if path[-1] in ("ports", "volumes"):
            # Compose merges these by target, which this does not model: the files use !override.
            raise ValueError(f"{'.'.join(path)}: write !override to replace it")
        return base + _plain(override)
    return _plain(override)


def _plain(value: Any) -> Any:
    """``value`` without merge tags: what an entry new to the project becomes."""
    if isinstance(value, Override):
        return _plain(value.value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if item is not RESET}
    if isinstance(value, list):
        return [_plain(item) for item in value if item is not RESET]
    return value


def resolved(value: Any, env: Mapping[str, str]) -> Any:
    """``value`` interpolated in ``env``, as Compose does each file before merging it.

    ``$`` is escaped again, so test_docker_compose's helpers, which interpolate what they read,
    read the same text: ``$${HOSTNAME}`` stays ``${HOSTNAME}`` for the container's shell.
    """
    if isinstance(value, Override):
        return Override(resolved(value.value, env))
    if isinstance(value, dict):
        return {key: resolved(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, env) for item in value]
    if isinstance(value, str):
        return interpolate(value, env).replace("$", "$$")
    return value


def project_for(env: Mapping[str, str]) -> dict[str, Any]:
    """What `docker compose -f docker-compose.yaml -f docker-compose.aws.yaml` runs, in ``env``."""
    base = resolved(load(COMPOSE_FILE.read_text()), env)
    return merge(base, resolved(load(AWS_FILE.read_text()), env))


def demo_alone(env: Mapping[str, str]) -> dict[str, Any]:
    """docker-compose.yaml without the override: what every check here must refuse."""
    return resolved(load(COMPOSE_FILE.read_text()), env)


@pytest.fixture(autouse=True)
def read_the_merged_project(monkeypatch: pytest.MonkeyPatch) -> None:
    """test_docker_compose's helpers read compose(): here it is the merged project."""
    project = project_for(OPERATOR_ENV)
    monkeypatch.setattr(demo, "compose", lambda: project)


def env_of(service: str) -> dict[str, str | None]:
    """A service's environment: None for a name Compose passes on from its own environment."""
    env = services()[service].get("environment", {})
    return {key: None if value is None else interpolate(str(value)) for key, value in env.items()}


def keys_named(value: Any, name: str) -> list[Any]:
    """Every value under key ``name`` at any depth of ``value``."""
    if isinstance(value, dict):
        found = [item for key, item in value.items() if key == name]
        return found + [hit for item in value.values() for hit in keys_named(item, name)]
    if isinstance(value, list):
        return [hit for item in value for hit in keys_named(item, name)]
    return []


def test_the_merge_follows_the_compose_rules_the_files_rely_on() -> None:
    # Docker Compose 2.40.3's `config` merges these two files to the same project.
    base = load(
        """
services:
  a:
    build: .
    command: [x, y]
    environment: {KEEP: "1", SET: old, PASS: old, DROP: x}
    depends_on: {b: {condition: service_healthy}, c: {condition: service_healthy}}
    volumes: [./one:/one, ./two:/two]
    healthcheck: {test: [CMD, old], interval: 10s}
  b: {image: b}
  c: {image: c}
"""
    )
    override = load(
        """
services:
  a:
    build: {args: {X: ""}}
    command: [z]
    environment: {SET: new, PASS: null, DROP: !reset null, NEW: n}
    depends_on: {c: !reset null}
    volumes: !override [./one:/one]
    healthcheck: {test: [CMD, new]}
  c: !reset null
"""
    )
    assert merge(base, override) == {
        "services": {
            "a": {
                "build": {"context": ".", "args": {"X": ""}},
                "command": ["z"],
                "environment": {"KEEP": "1", "SET": "new", "PASS": None, "NEW": "n"},
                "depends_on": {"b": {"condition": "service_healthy"}},
                "volumes": ["./one:/one"],
                "healthcheck": {"test": ["CMD", "new"], "interval": "10s"},
            },
            "b": {"image": "b"},
        }
    }
    with pytest.raises(ValueError, match="!override"):
        merge({"services": {"a": {"ports": ["1:1"]}}}, {"services": {"a": {"ports": ["2:2"]}}})


def test_no_service_is_or_runs_the_simulator_or_moto() -> None:
    assert not LOCAL_AWS_SERVICES & set(services()), "the simulator or moto is a service"
    for name, spec in services().items():
        programs = {line[0] for line in command_lines(name) if line}
        assert not programs & LOCAL_AWS_PROGRAMS, f"{name} runs {programs & LOCAL_AWS_PROGRAMS}"
        image = interpolate(str(spec.get("image", "")))
        assert "moto" not in image and "simulator" not in image, f"{name} runs {image}"


def test_nothing_waits_for_the_simulator_or_moto() -> None:
    for name, spec in services().items():
        waits_for = set(spec.get("depends_on", {})) & LOCAL_AWS_SERVICES
        assert not waits_for, f"{name} depends on {waits_for}"
    demo.test_every_depends_on_names_a_service_and_a_condition_it_can_meet()


def test_no_environment_points_at_a_local_aws_endpoint() -> None:
    from airflow.models.connection import Connection

    for name in services():
        for key, value in env_of(name).items():
            assert not key.startswith("AWS_ENDPOINT_URL"), f"{name}: {key} sends AWS calls elsewhere"
            if value is None:
                continue
            for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"',}]+", value):
                assert urlsplit(url).hostname not in LOCAL_HOSTS, f"{name}: {key} names {url}"
            if key.startswith("AIRFLOW_CONN_"):
                connection = (
                    Connection.from_json(value, conn_id=key)
                    if value.startswith("{")
                    else Connection(uri=value)
                )
                endpoints = keys_named(connection.extra_dejson, "endpoint_url")
                assert endpoints == [], f"{name}: {key} has endpoint_url {endpoints}"


def provider_requirement(extras: str, shell: list[str]) -> str:
    """The provider requirement the Dockerfile's pip install names, as its shell expands it."""
    (requirement,) = re.findall(r'"(/opt/airflow/provider-src[^"]*)"', DOCKERFILE.read_text())
    printed = subprocess.run(
        [*shell, f'printf %s "{requirement}"'],
        env={"PATH": os.environ["PATH"], "EXTRAS": extras},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return printed.stdout


def test_the_image_is_built_without_the_local_extra() -> None:
    built = {name: spec for name, spec in services().items() if "build" in spec}
    assert set(built) == set(BUILT)
    for name, spec in built.items():
        build = spec["build"]
        assert isinstance(build, dict) and build.get("args", {}).get("EXTRAS") == "", f"{name}: {build}"
    # One image for all, under a tag of its own: a demo build must not replace it, nor it the demo's.
    images = {interpolate(spec["image"]) for spec in built.values()}
    assert len(images) == 1
    assert images != {interpolate(yaml.safe_load(COMPOSE_FILE.read_text())["x-airflow-common"]["image"])}
    assert re.search(r"^ARG EXTRAS=local$", DOCKERFILE.read_text(), re.M), "the demo's default"
    for shell in (["sh", "-c"], ["bash", "-o", "nounset", "-c"]):
        assert provider_requirement("", shell) == "/opt/airflow/provider-src"
        assert provider_requirement("local", shell) == "/opt/airflow/provider-src[local]"


def test_aws_default_names_only_the_region() -> None:
    # No keys: the amazon provider then leaves credentials to boto3's chain, which finds the
    # host's IAM role. No endpoint: DRS and every other service are AWS's own.
    from airflow.models.connection import Connection
    from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper

    region = OPERATOR_ENV["DRS_REGION"]
    for name in BUILT:
        env = env_of(name)
        raw = env["AIRFLOW_CONN_AWS_DEFAULT"]
        assert raw is not None, f"{name}: aws_default is left to the shell"
        connection = Connection.from_json(raw, conn_id="aws_default")
        assert connection.conn_type == "aws"
        assert (connection.login, connection.password, connection.host) == (None, None, None), name
        assert connection.extra_dejson == {"region_name": region}, name
        wrapper = AwsConnectionWrapper(conn=connection)
        assert (wrapper.region_name, wrapper.endpoint_url, wrapper.role_arn) == (region, None, None)
        assert "aws_access_key_id" not in wrapper.session_kwargs
        assert env["AWS_DEFAULT_REGION"] == region, name


def test_a_secrets_backend_can_be_set_from_the_environment() -> None:
    from airflow.secrets import BaseSecretsBackend

    for name in BUILT:
        env = env_of(name)
        for key in ("AIRFLOW__SECRETS__BACKEND", "AIRFLOW__SECRETS__BACKEND_KWARGS"):
            assert key in env and env[key] is None, f"{name}: {key} must come from Compose's environment"
    # The example in the file's comment is a real backend, and its arguments are its own.
    text = AWS_FILE.read_text()
    (class_path,) = re.findall(r"AIRFLOW__SECRETS__BACKEND=(\S+)", text)
    (kwargs,) = re.findall(r"AIRFLOW__SECRETS__BACKEND_KWARGS=(.+)$", text, re.M)
    module_name, class_name = class_path.rsplit(".", 1)
    backend_class = getattr(importlib.import_module(module_name), class_name)
    assert issubclass(backend_class, BaseSecretsBackend)
    backend = backend_class(**json.loads(kwargs))
    assert backend.connections_prefix == "airflow/connections"
    assert backend.variables_prefix is None and backend.config_prefix is None


@pytest.mark.parametrize("name", sorted(OPERATOR_ENV))
def test_compose_stops_without_what_only_the_operator_can_give(name: str) -> None:
    with pytest.raises(MissingVariableError, match=name):
        project_for({key: value for key, value in OPERATOR_ENV.items() if key != name})
    assert OPERATOR_ENV[name] in json.dumps(demo.compose())


def test_ports_are_still_published_on_loopback_only() -> None:
    published = {name: port_mappings(name) for name in services() if port_mappings(name)}
    assert set(published) == {API_SERVER}, f"published: {sorted(published)}"
    for name, mappings in published.items():
        for host_ip, host_port, container_port in mappings:
            assert host_ip in LOOPBACK, f"{name}: port {container_port} is published on {host_ip}"
            assert host_port is not None, f"{name}: port {container_port} is published on a random port"


def test_every_airflow_component_is_there_with_its_health_check() -> None:
    for name in AIRFLOW_COMPONENTS:
        spec = services().get(name)
        assert spec is not None, f"{name} is gone"
        assert spec.get("healthcheck", {}).get("test"), f"{name} has no health check"
        assert spec.get("restart") == "always", name
    assert airflow_invocations()["airflow-init"] == [["db", "migrate"]]
    demo.test_airflow_components_start_after_the_database_is_migrated()


def test_the_provider_is_the_installed_one_and_plans_are_mounted() -> None:
    # Production runs the provider the image was built with, not a folder of this host that can
    # change under a running scheduler; the plans stay a mounted folder, as DAG files are.
    for name in BUILT:
        assert "PYTHONPATH" not in env_of(name), name
        volumes = services()[name]["volumes"]
        mounts = {target: source for source, target in (interpolate(v).split(":")[:2] for v in volumes)}
        assert "/opt/airflow/plugins" not in mounts, f"{name} mounts {mounts['/opt/airflow/plugins']}"
        assert mounts["/opt/airflow/dags"] == "./dags"
    assert (REPO / "dags" / "drs_recovery_plans.py").is_file()


def test_plan_dags_start_paused() -> None:
    # A scheduled drill against real DRS launches real instances: a plan runs once someone unpaused it.
    for name in BUILT:
        assert env_of(name)["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"] == "true", name


def test_the_project_is_not_the_demos() -> None:
    # Compose names containers and volumes after the project: another name keeps the demo's
    # `docker compose down --volumes` away from this database.
    name = demo.compose().get("name")
    assert name and name != REPO.name


DEMO_CHECKS_THAT_STILL_APPLY = [
    demo.test_file_is_valid_against_the_compose_specification_schema,
    demo.test_a_strict_compose_parser_accepts_the_file_after_interpolation,
    demo.test_every_airflow_setting_is_a_real_airflow_option,
    demo.test_the_auth_manager_is_importable,
    demo.test_the_executor_is_celery_on_redis_with_postgres_for_metadata_and_results,
    demo.test_all_components_share_one_fernet_key_and_jwt_secret,
    demo.test_workers_reach_the_execution_api_on_the_api_server,
    demo.test_health_probes_ask_the_right_job_types,
    demo.test_health_probes_ask_the_ports_airflow_listens_on,
]


@pytest.mark.parametrize("check", DEMO_CHECKS_THAT_STILL_APPLY, ids=lambda check: check.__name__[5:])
def test_the_demo_checks_that_apply_hold_for_the_merged_project(check: Callable[[], None]) -> None:
    check()


#: Each test of this file with a project it must fail on: the demo file alone, or the merged
#: project with one more layer that breaks what the test guards.
DEMO_ALONE = None
MUST_FAIL: list[tuple[Callable[[], None], dict[str, Any] | None]] = [
    (test_no_service_is_or_runs_the_simulator_or_moto, DEMO_ALONE),
    (
        test_no_service_is_or_runs_the_simulator_or_moto,
        {"services": {"aws-mock": {"image": "motoserver/moto:5.1.0"}}},
    ),
    (test_nothing_waits_for_the_simulator_or_moto, DEMO_ALONE),
    (test_no_environment_points_at_a_local_aws_endpoint, DEMO_ALONE),
    (
        test_no_environment_points_at_a_local_aws_endpoint,
        {"services": {"airflow-worker": {"environment": {"AWS_ENDPOINT_URL": "https://example.com"}}}},
    ),
    (test_the_image_is_built_without_the_local_extra, DEMO_ALONE),
    (
        test_the_image_is_built_without_the_local_extra,
        {"services": {"airflow-worker": {"build": {"args": {"EXTRAS": "local"}}}}},
    ),
    (test_aws_default_names_only_the_region, DEMO_ALONE),
    (test_a_secrets_backend_can_be_set_from_the_environment, DEMO_ALONE),
    *[
        (functools.partial(test_compose_stops_without_what_only_the_operator_can_give, name), DEMO_ALONE)
        for name in sorted(OPERATOR_ENV)
    ],
    (test_ports_are_still_published_on_loopback_only, DEMO_ALONE),
    (
        test_ports_are_still_published_on_loopback_only,
        {"services": {API_SERVER: {"ports": Override(["8080:8080"])}}},
    ),
    (
        test_every_airflow_component_is_there_with_its_health_check,
        {"services": {"airflow-triggerer": {"healthcheck": RESET}}},
    ),
    (test_every_airflow_component_is_there_with_its_health_check, {"services": {"airflow-worker": RESET}}),
    (test_the_provider_is_the_installed_one_and_plans_are_mounted, DEMO_ALONE),
    (test_plan_dags_start_paused, DEMO_ALONE),
    (test_the_project_is_not_the_demos, DEMO_ALONE),
]


def _name(check: Callable[[], None]) -> str:
    return getattr(check, "func", check).__name__


@pytest.mark.parametrize(
    ("check", "layer"),
    MUST_FAIL,
    ids=[f"{_name(check)[5:]}-{'demo' if layer is None else 'broken'}" for check, layer in MUST_FAIL],
)
def test_each_check_fails_on_a_project_without_what_it_guards(
    check: Callable[[], None], layer: dict[str, Any] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    merged_project = project_for
    if layer is DEMO_ALONE:
        source = demo_alone
    else:

        def source(env: Mapping[str, str]) -> dict[str, Any]:
            return merge(merged_project(env), layer)

    project = source(OPERATOR_ENV)
    monkeypatch.setattr(sys.modules[__name__], "project_for", source)
    monkeypatch.setattr(demo, "compose", lambda: project)
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        check()


def test_every_check_of_this_file_is_shown_to_fail() -> None:
    own = {
        "test_the_merge_follows_the_compose_rules_the_files_rely_on",
        "test_the_demo_checks_that_apply_hold_for_the_merged_project",
        "test_each_check_fails_on_a_project_without_what_it_guards",
        "test_every_check_of_this_file_is_shown_to_fail",
        "test_docker_compose_merges_the_files_the_same_way",
    }
    tests = {name for name in globals() if name.startswith("test_")} - own
    assert tests == {_name(check) for check, _ in MUST_FAIL}


def installed_compose() -> list[str] | None:
    """The command of an installed Docker Compose v2 or later, or None."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version", "--short"], capture_output=True, text=True, timeout=60)
        major = version.stdout.strip().lstrip("v").split(".")[0]
        if version.returncode == 0 and major.isdigit() and int(major) >= 2:
            return command
    return None


def test_docker_compose_merges_the_files_the_same_way() -> None:
    command = installed_compose()
    if command is None:
        pytest.skip("no Docker Compose v2 installed: `merge` stands in for it")
    # Only the operator's variables: no .env file, nothing of this process's environment.
    files = ["--env-file", os.devnull, "-f", str(COMPOSE_FILE), "-f", str(AWS_FILE)]
    result = subprocess.run(
        [*command, *files, "config", "--format", "json"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), **OPERATOR_ENV},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    assert theirs["name"] == demo.compose()["name"]
    assert set(theirs["services"]) == set(services())
    for name, spec in theirs["services"].items():
        ours = services()[name]
        assert set(spec.get("depends_on", {})) == set(ours.get("depends_on", {})), name
        assert spec.get("environment", {}) == env_of(name), name
        assert spec.get("build", {}).get("args") == (ours.get("build") or {}).get("args"), name
        assert spec["image"] == interpolate(ours["image"]), name
        theirs_mounted = sorted(volume["target"] for volume in spec.get("volumes", []))
        ours_mounted = sorted(interpolate(volume).split(":")[1] for volume in ours.get("volumes", []))
        assert theirs_mounted == ours_mounted, name
        published = [
            (port.get("host_ip"), int(port["published"]), port["target"]) for port in spec.get("ports", [])
        ]
        assert published == port_mappings(name), name
