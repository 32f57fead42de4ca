"""Readiness at scale: what one check of every plan costs DRS, and how long it takes.

Generates ``--plans`` plans (default 100) over a simulator fleet of ``--servers`` source servers
(default 2,000), each plan two waves, one selecting its servers by ID and one by tags, and runs
:func:`~drs_provider.operators.readiness.check_plans` as the ``check`` task does, through the
Airflow connection ``aws_default`` on the simulator (a subprocess, real HTTP). Twice: plans
without ``rpo_target`` (no snapshot look-ups), then every plan with it (one
DescribeRecoverySnapshots per server, the look-up DRS has no batch for). Reports the DRS calls
per operation, read from the simulator's call log, and the wall time.

    python -m tests.bench.readiness [--plans 100] [--servers 2000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from tools.simulator_process import SimulatorProcess

from drs_provider.local_aws import connection_json

#: The batched calls the issue allows per check, snapshot look-ups aside.
TARGET_CALLS = 10
TARGET_SECONDS = 60.0


def server_id(number: int) -> str:
    return f"s-0b{number:015d}"


def fleet(servers: int) -> dict[str, Any]:
    return {
        "account_id": "123456789012",
        "region": "us-east-1",
        "source_servers": [
            {
                "id": server_id(n),
                "hostname": f"bench-{n}",
                "tags": {"Group": f"g{n // 10}"},
                "launch_seconds": 60,
            }
            for n in range(servers)
        ],
    }


def plan(index: int, per_plan: int, rpo: bool) -> dict[str, Any]:
    """Plan ``index``: its first half of servers by ID, its second half by one tag group."""
    first = index * per_plan
    half = per_plan // 2
    document: dict[str, Any] = {
        "plan": f"bench_{index:03d}",
        "waves": [
            {"name": "db", "servers": {"ids": [server_id(first + n) for n in range(half)]}},
            {"name": "app", "servers": {"tags": {"Group": f"g{(first + half) // 10}"}}, "depends_on": ["db"]},
        ],
    }
    if rpo:
        document["rpo_target"] = 3600
    return document


def measure(simulator: SimulatorProcess, plans_dir: Path) -> tuple[float, Counter[str], dict[str, int]]:
    from drs_provider.operators.readiness import check_plans
    from drs_provider.plans.loader import load_plans

    plans = load_plans(plans_dir).plans
    before = len(simulator.calls())
    started = time.perf_counter()
    result = check_plans(plans)
    elapsed = time.perf_counter() - started
    # calls without a DRS operation are Service Quotas' look-ups reaching the simulator's address
    calls = Counter(call["operation"] for call in simulator.calls()[before:] if call.get("operation"))
    statuses = Counter(entry["status"] for entry in result["plans"].values())
    statuses.update(f["code"] for entry in result["plans"].values() for f in entry["findings"])
    return elapsed, calls, dict(statuses)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=100)
    parser.add_argument("--servers", type=int, default=2000)
    args = parser.parse_args(argv)
    per_plan = args.servers // args.plans
    workdir = Path(tempfile.mkdtemp(prefix="drs-bench-readiness-"))
    fleet_file = workdir / "fleet.yaml"
    fleet_file.write_text(yaml.safe_dump(fleet(args.servers)))
    failures = []
    with SimulatorProcess(fleet_file, speed=1.0, log_path=workdir / "simulator.log") as simulator:
        # moto is not needed (no steps, no notify); Service Quotas answers from the defaults
        os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = connection_json(simulator.url, simulator.url)
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        # an account whose replicating-servers quota was raised for this fleet (default 300)
        os.environ["AIRFLOW__DRS__MAX_REPLICATING_SERVERS"] = str(args.servers)
        print(f"readiness of {args.plans} plans over {args.servers} servers (simulator, real HTTP)")
        for rpo in (False, True):
            plans_dir = workdir / ("rpo" if rpo else "plain")
            plans_dir.mkdir()
            for index in range(args.plans):
                (plans_dir / f"bench_{index:03d}.yaml").write_text(yaml.safe_dump(plan(index, per_plan, rpo)))
            elapsed, calls, statuses = measure(simulator, plans_dir)
            batched = sum(
                count for operation, count in calls.items() if operation != "DescribeRecoverySnapshots"
            )
            label = "every plan with rpo_target" if rpo else "no rpo_target"
            print(
                f"  {label}: {elapsed:.1f}s, DRS calls {dict(sorted(calls.items()))}, "
                f"statuses and codes {statuses}"
            )
            if batched > TARGET_CALLS:
                failures.append(f"{label}: {batched} batched DRS calls, over {TARGET_CALLS}")
            if elapsed > TARGET_SECONDS:
                failures.append(f"{label}: {elapsed:.1f}s, over {TARGET_SECONDS:.0f}s")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
