"""Static checks of docker-compose.yaml and the Dockerfile it builds.

No Docker engine runs here, so the file is checked for what would break `docker compose up`:
the Compose Specification schema, paths and commands that must exist, Airflow options that
must be real, and the wiring between services (executor, broker, database, simulator).
"""

from __future__ import annotations

import ast
import copy
import importlib.metadata
import importlib.resources
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from cryptography.fernet import Fernet
from packaging.specifiers import SpecifierSet

if TYPE_CHECKING:
    from collections.abc import Mapping

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yaml"
DOCKERFILE = REPO / "Dockerfile"

AIRFLOW_COMPONENTS = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
LONG_RUNNING = (*AIRFLOW_COMPONENTS, "postgres", "redis", "drs-simulator", "moto")
SIMULATOR = "drs-simulator"
MOTO = "moto"
API_SERVER = "airflow-api-server"
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<op>[-?])(?P<arg>[^}]*))?\}")


class MissingVariableError(ValueError):
    """A ``${NAME:?message}`` with NAME unset or empty: Compose stops with the message."""


def interpolate(value: str, env: Mapping[str, str] | None = None) -> str:
    """Resolve ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}`` and ``$$`` the way Compose
    does, in ``env`` (an empty environment unless given)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        if env and env.get(name):
            return env[name]
        if op == "?":
            raise MissingVariableError(f"required variable {name} is missing a value: {arg}")
        return arg if op == "-" else ""

    return _VARIABLE.sub(replace, value)


@cache
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def environment(service: str) -> dict[str, str]:
    env = services()[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: write environment as a mapping"
    return {key: interpolate(str(value)) for key, value in env.items()}


def command_lines(service: str) -> list[list[str]]:
    """Every command line a service runs: its main command and its healthcheck."""
    spec = services()[service]
    lines: list[list[str]] = []
    entrypoint = spec.get("entrypoint")
    command = spec.get("command")
    if isinstance(command, str):
        command = shlex.split(interpolate(command))
    command = [interpolate(part) for part in command or []]
    if entrypoint is None and command[:2] == ["bash", "-c"]:
        # The Airflow image's entrypoint runs `bash -c <script>` as it is.
        lines.extend(shlex.split(line) for line in _script_lines(command[2]))
    elif entrypoint is None:
        if command and "build" in spec:
            # The Airflow image's entrypoint runs `airflow <command>`.
            lines.append(["airflow", *command])
    else:
        lines.append([*entrypoint, *command])
    test = spec.get("healthcheck", {}).get("test")
    if test:
        kind, *rest = test
        if kind == "CMD-SHELL":
            lines.extend(shlex.split(line) for line in _script_lines(interpolate(rest[0])))
        else:
            assert kind == "CMD", f"{service}: healthcheck test starts with {kind!r}"
            lines.append([interpolate(part) for part in rest])
    return lines


def _script_lines(script: str) -> list[str]:
    """A shell script's commands, continuation lines joined and a leading ``exec`` dropped."""
    joined = script.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    return [line.removeprefix("exec ") for line in lines]


def airflow_invocations() -> dict[str, list[list[str]]]:
    """``airflow`` argument lists per service: commands, scripts and health probes."""
    found: dict[str, list[list[str]]] = {}
    for name in services():
        for line in command_lines(name):
            if line and line[0] == "airflow":
                found.setdefault(name, []).append(line[1:])
    return found


#: Host addresses a published port may be bound to: the machine itself, not its networks.
LOOPBACK = ("127.0.0.1", "::1")


def port_mappings(service: str) -> list[tuple[str | None, int | None, int]]:
    """(host IP or None for every interface, host port, container port) of each published port.

    Reads the short syntax ``[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`` (an IPv6 host IP in
    brackets) and the long syntax (``host_ip``, ``published``, ``target``).
    """
    mappings: list[tuple[str | None, int | None, int]] = []
    for port in services()[service].get("ports", []):
        if isinstance(port, dict):
            published = port.get("published")
            mappings.append((port.get("host_ip"), int(published) if published else None, int(port["target"])))
            continue
        text = interpolate(str(port)).split("/")[0]
        host_ip = None
        if text.startswith("["):
            host_ip, text = text[1 : text.index("]")], text[text.index("]") + 2 :]
        parts = text.split(":")
        if len(parts) == 3:
            host_ip, parts = parts[0], parts[1:]
        host_port = int(parts[0]) if len(parts) == 2 else None
        mappings.append((host_ip, host_port, int(parts[-1])))
    return mappings


def option_value(argv: list[str], flag: str) -> str:
    assert flag in argv, f"{flag} missing from {argv}"
    return argv[argv.index(flag) + 1]


def compose_spec_schema() -> dict[str, Any]:
    # check-jsonschema (a dev dependency) vendors the Compose Specification's own schema.
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return json.loads(schema_file.read_text())


def pyproject(distribution: str = ".") -> dict[str, Any]:
    """The pyproject.toml of the provider, or of the distribution in that folder (``simulator``)."""
    return tomllib.loads((REPO / distribution / "pyproject.toml").read_text())


def test_file_is_valid_against_the_compose_specification_schema() -> None:
    schema = compose_spec_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_rejects_what_compose_would_reject() -> None:
    # Guards the test above: a misspelled service key must not pass.
    schema = compose_spec_schema()
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    broken["services"]["redis"]["helthcheck"] = broken["services"]["redis"].pop("healthcheck")
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


def interpolated(value: Any) -> Any:
    """``value`` with every string interpolated, as Compose sees it with an empty environment."""
    if isinstance(value, dict):
        return {key: interpolated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item) for item in value]
    return interpolate(value) if isinstance(value, str) else value


def test_a_strict_compose_parser_accepts_the_file_after_interpolation() -> None:
    # compose-spec (a Rust implementation of the specification) checks what the JSON Schema
    # leaves as plain strings: image references, durations, port mappings, restart policies.
    # It takes neither YAML merge keys nor variables, so it gets the file as Compose resolves it.
    from compose_spec import PyCompose

    resolved = {key: value for key, value in interpolated(compose()).items() if not key.startswith("x-")}
    project = PyCompose.from_json(json.dumps(resolved))
    assert sorted(project.service_names()) == sorted(services())
    broken = copy.deepcopy(resolved)
    broken["services"]["redis"]["healthcheck"]["interval"] = "10 seconds"
    with pytest.raises(ValueError, match="duration"):
        PyCompose.from_json(json.dumps(broken))


def test_no_port_is_published_on_every_interface() -> None:
    # The stack runs with demo logins and a simulator whose control API resets its state: reachable
    # from this machine only. Publishing to a network is a deliberate edit of host_ip.
    published = {name: port_mappings(name) for name in services() if port_mappings(name)}
    assert {API_SERVER, SIMULATOR} <= set(published)
    for name, mappings in published.items():
        for host_ip, host_port, container_port in mappings:
            assert host_ip in LOOPBACK, (
                f"{name}: port {container_port} is published on {host_ip or 'every interface'}"
            )
            assert host_port is not None, f"{name}: port {container_port} is published on a random host port"


def test_the_port_reader_sees_every_way_of_publishing_on_every_interface(monkeypatch) -> None:
    # Guards the test above: each of these publishes on all interfaces (or on any host port).
    forms = [
        "4599:4599",
        "4599",
        4599,
        "0.0.0.0:4599:4599",
        "[::]:4599:4599/tcp",
        {"target": 4599, "published": 4599},
    ]
    expected = [None, None, None, "0.0.0.0", "::", None]
    fake = {"services": {"x": {"ports": forms}}}
    monkeypatch.setattr(sys.modules[__name__], "compose", lambda: fake)
    assert [host_ip for host_ip, _, _ in port_mappings("x")] == expected
    assert [host_port for _, host_port, _ in port_mappings("x")] == [4599, None, None, 4599, 4599, 4599]


def test_the_stack_has_the_official_airflow_shape_plus_the_simulator_and_moto() -> None:
    assert set(services()) == {*LONG_RUNNING, "airflow-init", "moto-init"}


def test_every_depends_on_names_a_service_and_a_condition_it_can_meet() -> None:
    for name, spec in services().items():
        for dependency, how in spec.get("depends_on", {}).items():
            assert dependency in services(), f"{name} depends on unknown {dependency}"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services()[dependency], f"{name} waits for {dependency}'s health"
            else:
                assert how["condition"] == "service_completed_successfully"
                assert "restart" not in services()[dependency], f"{dependency} must run once and exit"


def test_airflow_components_start_after_the_database_is_migrated() -> None:
    assert airflow_invocations()["airflow-init"] == [["db", "migrate"]]
    for name in AIRFLOW_COMPONENTS:
        depends_on = services()[name]["depends_on"]
        assert depends_on["airflow-init"] == {"condition": "service_completed_successfully"}
        assert depends_on["postgres"] == {"condition": "service_healthy"}
        assert depends_on["redis"] == {"condition": "service_healthy"}


def test_components_that_call_aws_wait_for_the_simulator_and_a_prepared_moto() -> None:
    for name in ("airflow-worker", "airflow-triggerer"):
        assert services()[name]["depends_on"][SIMULATOR] == {"condition": "service_healthy"}
        assert services()[name]["depends_on"]["moto-init"] == {"condition": "service_completed_successfully"}
    assert services()["moto-init"]["depends_on"] == {MOTO: {"condition": "service_healthy"}}


def test_moto_runs_the_installed_server_and_is_prepared_by_the_console_script() -> None:
    from drs_provider.local_aws import main as prepare_main

    assert services()[MOTO]["entrypoint"] == ["moto_server"]
    assert option_value(services()[MOTO]["command"], "-p") == "5000"
    assert "moto[server]" in " ".join(pyproject()["project"]["optional-dependencies"]["local"])
    assert services()["moto-init"]["entrypoint"] == ["drs-local-aws"]
    assert "drs-local-aws" in pyproject()["project"]["scripts"]
    with pytest.raises(SystemExit) as parsed:  # the arguments compose passes are the CLI's own
        prepare_main([*services()["moto-init"]["command"], "--help"])
    assert parsed.value.code == 0
    (probe,) = [line for line in command_lines(MOTO) if line[0] == "curl"]
    assert urlsplit(probe[-1]).port == 5000


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck_and_restart(name: str) -> None:
    spec = services()[name]
    assert spec["healthcheck"]["test"], name
    assert spec["restart"] == "always"


def test_every_mounted_or_built_path_exists_in_the_repository() -> None:
    named_volumes = set(compose().get("volumes", {}))
    bind_sources: list[str] = []
    for name, spec in services().items():
        build = spec.get("build")
        if build is not None:
            context = build if isinstance(build, str) else build["context"]
            assert (REPO / context / "Dockerfile").is_file(), name
        for volume in spec.get("volumes", []):
            source = interpolate(volume).split(":")[0]
            if source.startswith((".", "/")):
                bind_sources.append(source)
            else:
                assert source in named_volumes, f"{name}: volume {source} is not declared"
    assert {"./dags", "./plugins"} <= set(bind_sources)
    for source in bind_sources:
        assert (REPO / source).is_dir(), source


def test_the_dockerfile_copies_only_paths_that_exist() -> None:
    copies = [line.split()[1:] for line in DOCKERFILE.read_text().splitlines() if line.startswith("COPY")]
    assert copies
    for parts in copies:
        sources = [part for part in parts[:-1] if not part.startswith("--")]
        for source in sources:
            assert (REPO / source).exists(), source


def test_the_image_is_the_pinned_airflow_with_this_provider_installed() -> None:
    dockerfile = DOCKERFILE.read_text()
    match = re.search(r"^FROM apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>[\d.]+)$", dockerfile, re.M)
    assert match, "the image must build FROM an official apache/airflow tag"
    project = pyproject()["project"]
    airflow_pin = next(dep for dep in project["dependencies"] if dep.startswith("apache-airflow>"))
    assert match["airflow"] in SpecifierSet(airflow_pin.removeprefix("apache-airflow"))
    assert match["python"] in SpecifierSet(project["requires-python"])
    # The local stack (make demo, the e2e tests) runs the same Airflow minor release; patch
    # releases may differ when pip resolves a newer one inside the pyproject range.
    installed = importlib.metadata.version("apache-airflow")
    assert match["airflow"].split(".")[:2] == installed.split(".")[:2], installed
    # The distribution is installed (that registers the provider), keeping the image's Airflow,
    # with the extras EXTRAS names: by default `local`, the simulator and moto's server, which the
    # drs-simulator and moto services run (docker-compose.aws.yaml builds without it:
    # tests/unit/test_docker_compose_aws.py).
    assert re.search(r"^ARG EXTRAS=local$", dockerfile, re.M)
    assert (
        'pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}"'
        ' "/opt/airflow/provider-src${EXTRAS:+[${EXTRAS}]}"' in dockerfile
    )
    # `local` requires drs-simulator, which is not on PyPI: the same pip call takes its source.
    local = pyproject()["project"]["optional-dependencies"]["local"]
    assert any(requirement.startswith("drs-simulator") for requirement in local)
    assert "${EXTRAS:+/opt/airflow/simulator-src}" in dockerfile
    assert "COPY --chown=airflow:0 simulator/src /opt/airflow/simulator-src/src" in dockerfile
    assert "apache_airflow_provider" in pyproject()["project"]["entry-points"]


def test_the_image_imports_the_provider_before_its_daemons_fork() -> None:
    """The local settings reach AIRFLOW_HOME/config, which comes first on sys.path, so the image
    has them where ./plugins is not mounted too (docker-compose.aws.yaml)."""
    dockerfile = DOCKERFILE.read_text()
    settings = "airflow_local_settings.py"
    assert f"COPY --chown=airflow:0 plugins/{settings} /opt/airflow/config/{settings}" in dockerfile
    assert (
        "drs_provider.preload import register" in (REPO / "plugins" / "airflow_local_settings.py").read_text()
    )


def test_every_airflow_service_runs_the_built_image() -> None:
    for name in (*AIRFLOW_COMPONENTS, "airflow-init", SIMULATOR, MOTO, "moto-init"):
        assert services()[name]["build"] == ".", name


def test_every_airflow_command_is_valid_for_the_installed_airflow() -> None:
    invocations = [argv for lines in airflow_invocations().values() for argv in lines]
    commands = {argv[0] for argv in invocations}
    assert {"api-server", "scheduler", "dag-processor", "triggerer", "celery", "db", "jobs"} <= commands
    # Celery's subcommands exist only under CeleryExecutor, so parse with the compose file's
    # executor, in a child process with its own AIRFLOW_HOME.
    probe = (
        "import json, sys\n"
        "from airflow.cli.cli_parser import get_parser\n"
        "bad = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        get_parser().parse_args(argv)\n"
        "    except SystemExit:\n"
        "        bad.append(argv)\n"
        "print(json.dumps(bad))\n"
    )
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"compose-cli-probe-{os.getpid()}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": environment("airflow-worker")["AIRFLOW__CORE__EXECUTOR"],
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(invocations)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_health_probes_ask_the_right_job_types() -> None:
    checks = {
        name: argv for name, lines in airflow_invocations().items() for argv in lines if argv[0] == "jobs"
    }
    assert option_value(checks["airflow-dag-processor"], "--job-type") == "DagProcessorJob"
    assert option_value(checks["airflow-triggerer"], "--job-type") == "TriggererJob"


def test_the_worker_health_probe_names_the_celery_app_of_the_celery_provider() -> None:
    (probe,) = [line for line in command_lines("airflow-worker") if line[0] == "celery"]
    module_name, attribute = option_value(probe, "--app").rsplit(".", 1)
    spec = importlib.util.find_spec(module_name)
    assert spec is not None and spec.origin is not None, module_name
    tree = ast.parse(Path(spec.origin).read_text())
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    # The provider builds its app lazily through a module-level __getattr__.
    lazy = {
        constant.value
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
        for constant in ast.walk(node)
        if isinstance(constant, ast.Constant)
    }
    assert attribute in assigned | lazy


def test_every_airflow_setting_is_a_real_airflow_option() -> None:
    from airflow.configuration import conf

    # Every documented option, including those without a default and the providers' own.
    documented = conf.configuration_description
    assert "celery" in documented, "the celery provider's options must be loaded to check them"
    for name in (*AIRFLOW_COMPONENTS, "airflow-init"):
        for key in environment(name):
            if not key.startswith("AIRFLOW__"):
                continue
            section, option = key.removeprefix("AIRFLOW__").lower().split("__", 1)
            options = documented.get(section, {}).get("options", {})
            assert option in options, f"{name}: {key} is not an Airflow option"


def test_the_auth_manager_is_importable() -> None:
    module_name, class_name = environment(API_SERVER)["AIRFLOW__CORE__AUTH_MANAGER"].rsplit(".", 1)
    module = importlib.import_module(module_name)
    assert isinstance(getattr(module, class_name), type)


def test_the_executor_is_celery_on_redis_with_postgres_for_metadata_and_results() -> None:
    for name in (*AIRFLOW_COMPONENTS, "airflow-init"):
        env = environment(name)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
        metadata = urlsplit(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        assert (metadata.scheme, metadata.hostname) == ("postgresql+psycopg2", "postgres")
        results = urlsplit(env["AIRFLOW__CELERY__RESULT_BACKEND"])
        assert (results.scheme, results.hostname) == ("db+postgresql", "postgres")
        postgres = environment("postgres")
        for url in (metadata, results):
            assert (url.username, url.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
            assert url.path == f"/{postgres['POSTGRES_DB']}"


def test_all_components_share_one_fernet_key_and_jwt_secret() -> None:
    envs = [environment(name) for name in (*AIRFLOW_COMPONENTS, "airflow-init")]
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        values = {env[key] for env in envs}
        assert len(values) == 1 and values != {""}, key
    Fernet(envs[0]["AIRFLOW__CORE__FERNET_KEY"])  # raises if the default is not a usable key


def test_workers_reach_the_execution_api_on_the_api_server() -> None:
    url = urlsplit(environment("airflow-worker")["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == API_SERVER
    published = {container for _, _, container in port_mappings(API_SERVER)}
    assert url.port in published
    assert url.path.rstrip("/") == "/execution"


def test_aws_default_points_drs_at_the_simulator_and_the_rest_at_moto() -> None:
    from airflow.models.connection import Connection

    raw = environment("airflow-worker")["AIRFLOW_CONN_AWS_DEFAULT"]
    connection = Connection.from_json(raw, conn_id="aws_default")
    assert connection.conn_type == "aws"
    assert connection.login and connection.password
    extra = connection.extra_dejson
    assert extra["region_name"] == "us-east-1"
    moto = urlsplit(extra["endpoint_url"])
    assert (moto.scheme, moto.hostname, moto.port) == ("http", MOTO, 5000)
    endpoint = urlsplit(extra["service_config"]["drs"]["endpoint_url"])

    (simulator_argv,) = [line for line in command_lines(SIMULATOR) if line[0] == "drs-simulator"]
    assert endpoint.scheme == "http"
    assert endpoint.hostname == SIMULATOR
    assert endpoint.port == int(option_value(simulator_argv, "--port"))
    assert option_value(simulator_argv, "--host") == "0.0.0.0"
    # The triggerer polls DRS too, so it must see the same connection.
    assert environment("airflow-triggerer")["AIRFLOW_CONN_AWS_DEFAULT"] == raw


def test_the_simulator_runs_the_installed_console_script_on_the_mounted_sample_fleet() -> None:
    (simulator_argv,) = [line for line in command_lines(SIMULATOR) if line[0] == "drs-simulator"]
    assert "drs-simulator" in pyproject("simulator")["project"]["scripts"]
    fleet = option_value(simulator_argv, "--fleet")
    volumes = services()[SIMULATOR]["volumes"]
    mounts = {target: source for source, target in (interpolate(v).split(":")[:2] for v in volumes)}
    mount_target = next(target for target in mounts if fleet.startswith(target + "/"))
    assert (REPO / mounts[mount_target] / fleet.removeprefix(mount_target + "/")).is_file(), fleet
    assert float(option_value(simulator_argv, "--speed")) > 0


def test_the_simulator_accepts_the_arguments_the_service_passes() -> None:
    (simulator_argv,) = [line for line in command_lines(SIMULATOR) if line[0] == "drs-simulator"]
    result = subprocess.run(
        [sys.executable, "-m", "drs_simulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO / "plugins",
    )
    assert result.returncode == 0, result.stderr
    for flag in (part for part in simulator_argv[1:] if part.startswith("--")):
        assert flag in result.stdout, flag


def test_the_simulator_health_probe_asks_its_control_api() -> None:
    (probe,) = [line for line in command_lines(SIMULATOR) if line[0] == "curl"]
    url = urlsplit(probe[-1])
    (simulator_argv,) = [line for line in command_lines(SIMULATOR) if line[0] == "drs-simulator"]
    assert url.port == int(option_value(simulator_argv, "--port"))
    from drs_simulator.urls import CONTROL_ROUTES

    assert ("GET", url.path) in CONTROL_ROUTES


def test_the_api_server_writes_the_login_the_docs_document() -> None:
    env = environment(API_SERVER)
    user = env["_AIRFLOW_WWW_USER_USERNAME"]
    password = env["_AIRFLOW_WWW_USER_PASSWORD"]
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == f"{user}:admin"
    script = services()[API_SERVER]["command"][2]
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    assert script.rstrip().endswith("exec airflow api-server")
    ((_, host_port, _),) = port_mappings(API_SERVER)
    readme = (REPO / "docs" / "how-to" / "deploy.md").read_text()
    assert "docker compose up" in readme
    assert f"http://localhost:{host_port}" in readme
    assert f"{user} / {password}" in readme


def test_health_probes_ask_the_ports_airflow_listens_on() -> None:
    from airflow.configuration import conf

    (scheduler_probe,) = [line for line in command_lines("airflow-scheduler") if line[0] == "curl"]
    scheduler_port = conf.getint("scheduler", "scheduler_health_check_server_port")
    assert urlsplit(scheduler_probe[-1]).port == scheduler_port
    assert environment("airflow-scheduler")["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    (api_probe,) = [line for line in command_lines(API_SERVER) if line[0] == "curl"]
    api_port = conf.getint("api", "port")
    assert urlsplit(api_probe[-1]).port == api_port
    assert urlsplit(api_probe[-1]).path == "/api/v2/version"
    assert ("127.0.0.1", api_port, api_port) in port_mappings(API_SERVER)
