"""Registration: Airflow's ProvidersManager sees the provider with its hooks, triggers and links,
and the package reports the version it was installed as."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import drs_provider
from drs_provider import get_provider_info

if TYPE_CHECKING:
    from pathlib import Path

PROBE = textwrap.dedent(
    """
    import json
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    provider = manager.providers["airflow-provider-drs"]
    triggers = [t.trigger_class_name for t in manager.trigger]
    print(json.dumps({
        "version": provider.version,
        "info": provider.data,
        "links": sorted(manager.extra_links_class_names),
        "triggers": [t for t in triggers if t.startswith("drs_provider")],
    }))
    """
)


def test_providers_manager_lists_the_provider():
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    assert seen["version"] == get_provider_info()["versions"][0]
    assert {"drs_provider.links.drs.DrsJobLink", "drs_provider.links.drs.DrsSourceServerLink"} <= set(
        seen["links"]
    )
    assert seen["triggers"] == ["drs_provider.triggers.drs"]
    modules = {
        kind: [m for entry in seen["info"][kind] for m in entry["python-modules"]]
        for kind in ("hooks", "operators", "sensors")
    }
    assert modules == {
        "hooks": ["drs_provider.hooks.drs"],
        "operators": ["drs_provider.operators.drs"],
        "sensors": ["drs_provider.sensors.drs"],
    }


def test_every_module_and_link_named_in_the_provider_info_imports():
    import importlib

    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)
    for path in info["extra-links"]:
        module, _, name = path.rpartition(".")
        assert hasattr(importlib.import_module(module), name), path


def test_the_version_is_the_installed_distributions() -> None:
    assert drs_provider.__version__ == importlib.metadata.version("airflow-provider-drs")
    assert get_provider_info()["versions"] == [drs_provider.__version__]


def test_a_source_tree_that_was_never_installed_reports_no_release(tmp_path: Path) -> None:
    # The package's __init__ alone, in an interpreter that sees no installed distribution (-S: no
    # site-packages; -I: no PYTHONPATH).
    (tmp_path / "drs_provider").mkdir()
    shutil.copy(drs_provider.__file__, tmp_path / "drs_provider" / "__init__.py")
    probe = f"import sys; sys.path.insert(0, {str(tmp_path)!r})"
    probe += "; import drs_provider; print(drs_provider.__version__)"
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0+unknown"
