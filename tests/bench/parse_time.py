"""DAG parse-time benchmark: plan files through the factory vs. the same DAGs written by hand,
and the plans folder with thirty hostile plan files in it.

Generates 200 plans of 10 waves, and the same 200 DAGs as plain Python files (same operators,
task ids, edges, params and docs). Each variant is parsed by a real ``DagBag`` in a fresh
interpreter, several times; the median is reported. Imports of Airflow itself happen before
the clock starts; imports of the provider's operators happen inside it for both variants.

Then the repository's example plans are parsed alone and beside the hostile files of
``tests/fixtures/hostile_plans.py`` (a 10,000-wave chain, alias bombs, symbolic link loops, a
FIFO, ...): each DAG file in a fresh process, as the dag-processor does, within Airflow's
``[core] dagbag_import_timeout`` (30 s by default). The run fails if a valid plan goes
missing or a hostile file is not named.

    python -m tests.bench.parse_time [--plans 200] [--waves 10] [--repeat 5]

The factory variant parses both DAG files of ``dags/`` (the plans and the import-error file),
as the dag-processor does. The hand-written twin passes its params to ``DAG(...)`` as people
write it; the factory adds them after the tasks (see ``factory/render.py``), which saves the
per-operator deep copy of the params.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.3
TARGET_SECONDS = 3.0

#: Each DAG file of the plans folder with the hostile files beside the examples, at most.
TARGET_HOSTILE_SECONDS = 1.0
DAG_FILES = ("drs_recovery_plans.py", "drs_recovery_plan_errors.py")

MEASURE = r"""
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
started = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - started
tasks = sum(len(dag.tasks) for dag in bag.dags.values())
errors = {path: error[-300:] for path, error in list(bag.import_errors.items())[:2]}
full_errors = {path: error for path, error in bag.import_errors.items()}
print(json.dumps({"seconds": elapsed, "dags": len(bag.dag_ids), "dag_ids": sorted(bag.dag_ids),
                  "tasks": tasks, "errors": errors, "full_errors": full_errors}))
"""


def bench_plan(index: int, waves: int) -> dict[str, Any]:
    """A plan of ``waves`` waves: a chain with a parallel branch and an independent wave."""
    plan_waves: list[dict[str, Any]] = []
    for number in range(waves):
        name = f"wave_{number:02d}"
        wave: dict[str, Any] = {"name": name}
        if number % 3 == 0:
            wave["servers"] = {"tags": {"App": f"bench{index:03d}", "Tier": str(number)}}
        else:
            wave["servers"] = {"ids": [f"s-{index:03d}{number:02d}{server:012d}" for server in range(3)]}
        if number == 0:
            wave["depends_on"] = []
        elif number % 4 == 2:
            wave["depends_on"] = [f"wave_{number - 2:02d}"]  # beside the previous wave
        elif number == waves - 1:
            wave["depends_on"] = []  # independent
        else:
            wave["depends_on"] = [f"wave_{number - 1:02d}"]
        wave["poll_interval"] = 30
        plan_waves.append(wave)
    return {
        "plan": f"bench_{index:03d}",
        "description": f"Benchmark plan {index}",
        "owner": "bench",
        "waves": plan_waves,
    }


def write_factory_folder(folder: Path, plans: list[dict[str, Any]]) -> None:
    import yaml

    (folder / "recovery_plans").mkdir(parents=True)
    for dag_file in ("drs_recovery_plans.py", "drs_recovery_plan_errors.py"):
        shutil.copy(REPO_ROOT / "dags" / dag_file, folder / dag_file)
    for plan in plans:
        (folder / "recovery_plans" / f"{plan['plan']}.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))


HAND_WRITTEN = '''\
"""Recovery plan {name}, written by hand (benchmark twin of the factory's DAG)."""

from datetime import datetime, timezone

from airflow.sdk import DAG, Param, TaskGroup, XComArg

from drs_provider.operators.plan_run import DrsPlanWaveStartOperator
from drs_provider.operators.preflight import DrsPlanPreflightOperator
from drs_provider.sensors.drs import DrsJobSensor

WAVES = {waves_json}

with DAG(
    dag_id="drs_plan_{name}",
    description={description!r},
    schedule=None,
    start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),
    catchup=False,
    max_active_runs=1,
    tags=["drs", "{name}"],
    default_args={{"owner": {owner!r}}},
    doc_md={doc_md!r},
    params={{
        "mode": Param("drill", type="string", enum=["drill", "recovery"], title="Mode",
                      description={mode_description!r}),
        "confirm": Param(None, type=["null", "string"], title="Confirm recovery",
                         description={confirm_description!r}),
        "waves": Param(None, type=["null", "array"], items={{"type": "string", "enum": {wave_names!r}}},
                       uniqueItems=True, examples={wave_names!r}, title="Waves",
                       description={waves_description!r}),
        "point_in_time": Param(None, type=["null", "string"], format="date-time", pattern={pattern!r},
                               title="Point in time", description={pit_description!r}),
    }},
) as dag:
    preflight = DrsPlanPreflightOperator(
        task_id="preflight", plan_name="{name}", waves=WAVES, max_servers_per_job=100,
        doc_md="Checks every server and parameter of this run before anything is launched.",
        aws_conn_id="aws_default",
    )
{groups}
{edges}
'''

GROUP = """\
    with TaskGroup(group_id="{wave}", tooltip="wave {wave}"):
        start_{wave} = DrsPlanWaveStartOperator(
            task_id="start_recovery", plan_name="{name}", wave_name="{wave}",
            source_server_ids={ids!r}, tags={tags!r}, max_servers_per_job=100,
            job_tags={{"drs:plan": "{name}", "drs:wave": "{wave}"}}, wait_for_completion=False,
            deferrable=False, trigger_rule="none_failed", aws_conn_id="aws_default",
        )
        wait_{wave} = DrsJobSensor(
            task_id="wait_for_recovery", job_ids=XComArg(start_{wave}),
            optional_source_server_ids=XComArg(start_{wave}, key="optional_source_server_ids"),
            deferrable=True, poke_interval=30, aws_conn_id="aws_default",
        )
    preflight >> start_{wave}
"""


def write_hand_written_folder(folder: Path, plans_dir: Path) -> None:
    """The factory's DAGs as plain DAG files, one per plan, with everything spelled out."""
    from drs_provider.factory.docs import plan_doc_md
    from drs_provider.factory.params import POINT_IN_TIME_PATTERN, plan_params
    from drs_provider.factory.render import wave_json
    from drs_provider.plans import load_plans

    folder.mkdir(parents=True)
    for plan in load_plans(plans_dir).plans:
        params = plan_params(plan)
        groups = "".join(
            GROUP.format(
                wave=wave.name,
                name=plan.name,
                ids=list(wave.servers.ids) or None,
                tags=dict(wave.servers.tags) or None,
            )
            for wave in plan.waves
        )
        edges = "".join(
            f"    wait_{upstream} >> start_{wave.name}\n"
            for wave in plan.waves
            for upstream in wave.depends_on
        )
        (folder / f"drs_plan_{plan.name}.py").write_text(
            HAND_WRITTEN.format(
                name=plan.name,
                description=plan.description,
                owner=plan.owner,
                doc_md=plan_doc_md(plan),
                waves_json=repr([wave_json(wave) for wave in plan.waves]),
                wave_names=[wave.name for wave in plan.waves],
                pattern=POINT_IN_TIME_PATTERN,
                mode_description=params["mode"].description,
                confirm_description=params["confirm"].description,
                waves_description=params["waves"].description,
                pit_description=params["point_in_time"].description,
                groups=groups,
                edges=edges,
            )
        )


def parse_once(folder: Path) -> dict[str, Any]:
    env = {**os.environ}
    env.pop("DRS_PLANS_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(folder: Path, repeat: int) -> tuple[float, dict[str, Any]]:
    runs = [parse_once(folder) for _ in range(repeat)]
    return statistics.median(run["seconds"] for run in runs), runs[-1]


def write_example_folder(folder: Path, hostile: bool) -> dict[str, str]:
    """``dags/`` with the example plans, and the hostile files too when asked; returns what
    each hostile file's error must say."""
    from tests.fixtures.hostile_plans import write_hostile_plans

    plans = folder / "recovery_plans"
    plans.mkdir(parents=True)
    for dag_file in DAG_FILES:
        shutil.copy(REPO_ROOT / "dags" / dag_file, folder / dag_file)
    for plan in (REPO_ROOT / "dags" / "recovery_plans").glob("*.y*ml"):
        shutil.copy(plan, plans / plan.name)
    return write_hostile_plans(plans) if hostile else {}


def parse_plans_folder(folder: Path, expected: dict[str, str], repeat: int) -> dict[str, float] | str:
    """Median seconds of each DAG file, each parsed alone; or what is wrong with the result."""
    example_dag_ids = {
        f"drs_plan_{plan.stem}" for plan in (REPO_ROOT / "dags" / "recovery_plans").glob("*.y*ml")
    }
    seconds: dict[str, float] = {}
    for dag_file in DAG_FILES:
        runs = [parse_once(folder / dag_file) for _ in range(repeat)]
        seconds[dag_file] = statistics.median(run["seconds"] for run in runs)
        run = runs[-1]
        if dag_file == "drs_recovery_plans.py":
            if run["full_errors"] or set(run["dag_ids"]) != example_dag_ids:
                return f"{dag_file}: DAGs {run['dag_ids']}, import errors {run['errors']}"
        else:
            text = "\n".join(run["full_errors"].values())
            unnamed = [name for name, fragment in expected.items() if f"recovery_plans/{name}" not in text]
            wrong = [name for name, fragment in expected.items() if fragment not in text]
            if unnamed or wrong or (not expected and text):
                return f"{dag_file}: not named {unnamed}, fragment missing {wrong}, errors {run['errors']}"
    return seconds


def report_plans_folder(root: Path, repeat: int) -> bool:
    """Print the plans folder's parse times, alone and with the hostile files; whether in target."""
    from tests.fixtures.hostile_plans import HOSTILE_FILES

    results = {}
    for hostile in (False, True):
        folder = root / ("hostile" if hostile else "examples")
        result = parse_plans_folder(folder, write_example_folder(folder, hostile), repeat)
        if isinstance(result, str):
            print(f"plans folder{' with hostile files' if hostile else ''}: {result}", file=sys.stderr)
            return False
        results[hostile] = result
    print(f"Plans folder, each DAG file in a fresh process, median of {repeat}:")
    for hostile, label in ((False, "example plans"), (True, f"+ {len(HOSTILE_FILES)} hostile files")):
        timings = ", ".join(f"{name} {value:.3f} s" for name, value in results[hostile].items())
        print(f"  {label:<24} {timings}  (total {sum(results[hostile].values()):.3f} s)")
    worst = max(results[True].values())
    ok = worst < TARGET_HOSTILE_SECONDS
    print(
        f"  slowest DAG file with hostile files: {worst:.3f} s (target < {TARGET_HOSTILE_SECONDS} s; "
        "Airflow's import timeout is 30 s)"
    )
    print("  within target" if ok else "  OUTSIDE TARGET")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    # A private, quiet Airflow home, so the benchmark needs no database and touches nothing.
    with tempfile.TemporaryDirectory(prefix="drs-bench-") as temp:
        root = Path(temp)
        os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow"))
        os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")
        plans = [bench_plan(index, args.waves) for index in range(args.plans)]
        write_factory_folder(root / "factory", plans)
        write_hand_written_folder(root / "hand_written", root / "factory" / "recovery_plans")

        # Interleave the variants so machine load hits both alike.
        factory_runs, hand_runs = [], []
        for _ in range(args.repeat):
            factory_runs.append(parse_once(root / "factory"))
            hand_runs.append(parse_once(root / "hand_written"))
        factory = statistics.median(run["seconds"] for run in factory_runs)
        hand = statistics.median(run["seconds"] for run in hand_runs)
        for name, run in (("factory", factory_runs[-1]), ("hand-written", hand_runs[-1])):
            if run["errors"] or run["dags"] != args.plans:  # never time a broken variant
                print(f"{name}: {run['dags']} DAGs, import errors {run['errors']}", file=sys.stderr)
                return 2

        ratio = factory / hand
        tasks = factory_runs[-1]["tasks"]
        print(f"DagBag parse of {args.plans} DAGs ({tasks} tasks), median of {args.repeat} fresh processes:")
        print(f"  factory (plan files -> DAGs): {factory:6.3f} s")
        print(f"  hand-written DAG files:       {hand:6.3f} s")
        print(
            f"  ratio factory / hand-written: {ratio:6.2f}x  "
            f"(target <= {TARGET_RATIO}x, factory < {TARGET_SECONDS} s)"
        )
        ok = ratio <= TARGET_RATIO and factory < TARGET_SECONDS
        print("  within target" if ok else "  OUTSIDE TARGET")
        print()
        ok = report_plans_folder(root, args.repeat) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
