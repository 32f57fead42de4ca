"""Who registers the Recovery view: an installed distribution (its ``airflow.plugins`` entry point),
or else the plugins folder's ``drs_recovery_view.py``; never both.

Airflow registers a plugin name once. The repository's own stacks and the compose file's image
have both an installed distribution and the plugins folder, so these tests run Airflow's real
loaders (the API server's and a task process's) over the repository's plugins folder with the
entry point installed, and check that the plugins folder (on ``sys.path``) holds no second copy of
the distribution's metadata to load the entry point from again.
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from importlib.metadata import PathDistribution
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from drs_provider import DISTRIBUTION, get_provider_info
from drs_provider.ui import plugin
from drs_provider.ui.plugin import ENTRY_POINT_GROUP, DrsRecoveryViewPlugin, registered_by_entry_point

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO_ROOT = Path(__file__).resolve().parents[3]
PLUGINS_FOLDER = REPO_ROOT / "plugins"
PLUGIN_REFERENCE = f"{DrsRecoveryViewPlugin.__module__}:{DrsRecoveryViewPlugin.__qualname__}"
#: What Airflow says when a plugin name comes a second time (counted as a plugin import error).
ALREADY_REGISTERED = f"Plugin {DrsRecoveryViewPlugin.name!r} already registered, skipping"


def declared_entry_points() -> dict[str, str]:
    """pyproject.toml's ``airflow.plugins`` entry points: what the wheel's metadata carries."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    entry_points: dict[str, str] = project["entry-points"][ENTRY_POINT_GROUP]
    return entry_points


def write_dist_info(directory: Path, *, entry_points: bool = True) -> Path:
    """Metadata of airflow-provider-drs in ``directory``, with pyproject.toml's plugin entry points."""
    dist_info = directory / "airflow_provider_drs-0.1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: 0.1.0\n")
    if entry_points:
        lines = [f"{name} = {value}" for name, value in declared_entry_points().items()]
        (dist_info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n" + "\n".join(lines) + "\n")
    return dist_info


def clear_entry_point_caches() -> None:
    """Airflow reads the installed entry points and loads the plugins once per process."""
    for module in ("airflow._shared.module_loading", "airflow.sdk._shared.module_loading"):
        importlib.import_module(module)._get_grouped_entry_points.cache_clear()
    for module in ("airflow.plugins_manager", "airflow.sdk.plugins_manager"):
        importlib.import_module(module)._get_plugins.cache_clear()
    sys.modules.pop("drs_recovery_view", None)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The distribution's entry point is installed, as after ``pip install airflow-provider-drs``.

    A development install made before the entry point existed lacks it: then a distribution of
    the same name with pyproject.toml's entry points goes first on ``sys.path``.
    """
    if not registered_by_entry_point():
        write_dist_info(tmp_path)
        monkeypatch.syspath_prepend(str(tmp_path))
    clear_entry_point_caches()
    yield
    clear_entry_point_caches()


def test_the_distribution_declares_the_plugin_both_ways_airflow_reads() -> None:
    from airflow.plugins_manager import is_valid_plugin

    assert declared_entry_points() == {DrsRecoveryViewPlugin.name: PLUGIN_REFERENCE}
    assert get_provider_info()["plugins"] == [
        {"name": DrsRecoveryViewPlugin.name, "plugin-class": PLUGIN_REFERENCE.replace(":", ".")}
    ]
    assert is_valid_plugin(DrsRecoveryViewPlugin)


@pytest.mark.usefixtures("installed")
def test_an_installed_entry_point_is_found_in_the_metadata() -> None:
    assert registered_by_entry_point()


def test_a_second_copy_of_the_metadata_with_the_entry_point_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # importlib.metadata.entry_points() would see only the first copy (no entry point); Airflow both.
    first = PathDistribution(write_dist_info(tmp_path / "first", entry_points=False))
    second = PathDistribution(write_dist_info(tmp_path / "second"))
    monkeypatch.setattr(plugin, "distributions", lambda: [first, second])

    assert registered_by_entry_point()


@pytest.mark.parametrize("entry_point_installed", [False, True], ids=["folder-only", "installed"])
def test_the_plugins_folder_registers_the_view_only_where_no_distribution_does(
    entry_point_installed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow._shared.plugins_manager.plugins_manager import _load_plugins_from_plugin_directory

    installed = PathDistribution(write_dist_info(tmp_path, entry_points=entry_point_installed))
    monkeypatch.setattr(plugin, "distributions", lambda: [installed])

    plugins, errors = _load_plugins_from_plugin_directory(plugins_folder=str(PLUGINS_FOLDER))
    sys.modules.pop("drs_recovery_view", None)

    assert errors == {}
    expected = [] if entry_point_installed else ["DrsRecoveryViewPlugin"]
    assert [type(found).__name__ for found in plugins] == expected


@pytest.mark.usefixtures("installed")
@pytest.mark.parametrize("loader", ["airflow.plugins_manager", "airflow.sdk.plugins_manager"])
def test_airflow_registers_the_view_once_from_the_entry_point(
    loader: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow import settings

    monkeypatch.setattr(settings, "PLUGINS_FOLDER", str(PLUGINS_FOLDER))

    plugins, errors = importlib.import_module(loader)._get_plugins()

    (view,) = [found for found in plugins if found.name == DrsRecoveryViewPlugin.name]
    assert str(view.source).startswith(f"{DISTRIBUTION}==")
    assert errors == {}


@pytest.mark.usefixtures("installed")
def test_with_lazy_provider_discovery_off_the_provider_info_adds_no_second_view(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Airflow then also loads the plugins the provider info lists, after the entry points: the
    # same plugin again, which it skips with a notice (as for every provider declaring both).
    from airflow import plugins_manager, settings

    monkeypatch.setattr(settings, "PLUGINS_FOLDER", str(PLUGINS_FOLDER))
    monkeypatch.setattr(settings, "LAZY_LOAD_PROVIDERS", False)

    plugins, errors = plugins_manager._get_plugins()

    (view,) = [found for found in plugins if found.name == DrsRecoveryViewPlugin.name]
    assert str(view.source).startswith(f"{DISTRIBUTION}==")
    assert set(errors.values()) <= {ALREADY_REGISTERED}


def test_no_metadata_in_the_plugins_folder_declares_the_plugin() -> None:
    # An editable install or a build from the work tree leaves plugins/airflow_provider_drs.egg-info
    # (make removes it). The plugins folder is on sys.path, so Airflow would load the entry point from
    # that copy too and report the second registration as a plugin import error.
    declaring = [
        path
        for path in PLUGINS_FOLDER.glob("*.*-info")
        if PathDistribution(path).entry_points.select(group=ENTRY_POINT_GROUP)
    ]
    assert declaring == []
