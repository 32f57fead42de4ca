"""The plan key reference (docs/reference/plan-keys.md) is what the plan rules generate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools import plan_reference

from drs_provider.plans.rules import all_objects

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_the_committed_page_is_what_the_rules_generate() -> None:
    committed = plan_reference.PAGE.read_text(encoding="utf-8") if plan_reference.PAGE.is_file() else ""

    assert committed == plan_reference.render(), (
        f"{plan_reference.PAGE.relative_to(plan_reference.REPO_ROOT)} is out of date with the plan rules: "
        f"run {plan_reference.REGENERATE} and commit the result"
    )


def test_every_key_of_every_object_has_a_row() -> None:
    page = plan_reference.render()

    for obj in all_objects():
        for key in obj.keys:
            assert f".{key.name}` |" in page or f"| `{key.name}` |" in page, (obj.title, key.name)


def test_check_mode_says_how_to_regenerate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "plan-keys.md"
    page.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(plan_reference, "PAGE", page)
    monkeypatch.setattr(plan_reference, "REPO_ROOT", tmp_path)

    assert plan_reference.main(["--check"]) == 1
    assert "make plan-reference" in capsys.readouterr().err

    assert plan_reference.main([]) == 0
    assert plan_reference.main(["--check"]) == 0
