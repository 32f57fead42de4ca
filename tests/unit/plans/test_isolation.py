"""The plan layer, and the IAM policy written from it, stay free of Airflow and boto3: they load
fast anywhere (CLI, CI, editors)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT

HEAVY = ("airflow", "boto3", "botocore", "aiobotocore")


def test_importing_plans_and_the_cli_pulls_in_no_airflow_and_no_boto3() -> None:
    code = (
        "import json, sys\n"
        "import drs_provider.plans, drs_provider.cli\n"
        "from drs_provider.plans import load_plans\n"
        "from drs_provider.iam import iam_policy\n"
        "from drs_provider.iam.actions import MODES\n"
        f"iam_policy(load_plans({str(REPO_ROOT / 'dags' / 'recovery_plans')!r}).plans, MODES)\n"
        f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})\n"
        "print(json.dumps(heavy))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO_ROOT / "plugins"), "PATH": "/usr/bin:/bin"},
        cwd=REPO_ROOT,
    )
    assert json.loads(result.stdout) == []


def test_no_module_of_the_plan_layer_imports_airflow_or_boto3() -> None:
    """The same, read from the source: no import hidden in a function either."""
    offenders = []
    package = REPO_ROOT / "plugins" / "drs_provider"
    for module in [*sorted((package / "plans").glob("*.py")), *sorted((package / "iam").glob("*.py"))]:
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), start=1):
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from") and words[1].split(".")[0] in HEAVY:
                offenders.append(f"{module.name}:{number}: {line.strip()}")
    assert offenders == []
