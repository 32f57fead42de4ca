"""Loading a directory of plans: good plans load beside broken ones, names are unique."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from drs_provider.exceptions import PlanError
from drs_provider.plans import PlanSet, load_plan_file, load_plans
from drs_provider.plans.loader import MAX_PLAN_FILE_BYTES
from drs_provider.plans.yaml_source import Document, parse_yaml
from tests.unit.plans.samples import SHOP_YAML, write


def tiny(name: str, wave: str = "only") -> str:
    return f"plan: {name}\nwaves:\n  - name: {wave}\n    servers: {{tags: {{App: {name}}}}}\n"


@pytest.fixture
def plans_dir(tmp_path: Path) -> Path:
    return tmp_path / "dags" / "recovery_plans"


def test_a_broken_file_never_hides_the_good_ones(plans_dir: Path) -> None:
    write(plans_dir / "a_good.yaml", tiny("alpha"))
    broken = write(plans_dir / "b_broken.yaml", "plan: beta\nwaves: [\n")
    write(plans_dir / "c_good.yml", tiny("gamma"))
    invalid = write(plans_dir / "d_invalid.yaml", tiny("delta").replace("only", "Only"))

    plan_set = load_plans(plans_dir)

    assert [plan.name for plan in plan_set.plans] == ["alpha", "gamma"]
    assert set(plan_set.errors) == {str(broken), str(invalid)}
    (syntax,) = plan_set.errors[str(broken)]
    assert syntax.file == "recovery_plans/b_broken.yaml"
    assert "YAML syntax error" in syntax.message
    (name,) = plan_set.errors[str(invalid)]
    assert str(name).startswith("recovery_plans/d_invalid.yaml: waves[0].name: 'Only' is not valid")


def test_plans_come_sorted_by_name_whatever_the_file_names(plans_dir: Path) -> None:
    write(plans_dir / "1.yaml", tiny("zulu"))
    write(plans_dir / "2.yaml", tiny("alpha"))
    write(plans_dir / "3.yaml", tiny("mike"))
    assert [plan.name for plan in load_plans(plans_dir).plans] == ["alpha", "mike", "zulu"]


def test_two_files_claiming_one_plan_name_build_neither_and_name_each_other(plans_dir: Path) -> None:
    genuine = write(plans_dir / "shop.yaml", tiny("shop", wave="reviewed"))
    hijack = write(plans_dir / "aaa_hijack.yaml", tiny("shop", wave="hijacked"))
    write(plans_dir / "other.yaml", tiny("other"))

    plan_set = load_plans(plans_dir)

    assert [plan.name for plan in plan_set.plans] == ["other"]
    assert [str(issue) for issue in plan_set.errors[str(hijack)]] == [
        "recovery_plans/aaa_hijack.yaml: plan: plan name 'shop' is also claimed by recovery_plans/shop.yaml: "
        "no DAG drs_plan_shop is built until only one file claims it"
    ]
    assert [str(issue) for issue in plan_set.errors[str(genuine)]] == [
        "recovery_plans/shop.yaml: plan: plan name 'shop' is also claimed by recovery_plans/aaa_hijack.yaml: "
        "no DAG drs_plan_shop is built until only one file claims it"
    ]


@pytest.mark.parametrize(
    "genuine_text",
    [
        tiny("shop").replace("only", "Only"),  # a rule broken
        "plan: shop\nwaves: [\n",  # not even YAML: the claim comes from its plan: line
        "plan: 'shop'  # the shop\nwaves:\n  - name: a\n  servers: {}\n",  # bad indentation
    ],
    ids=["invalid", "syntax-error", "quoted-name-and-bad-indentation"],
)
def test_a_broken_plan_file_still_holds_its_name_against_a_new_file(
    plans_dir: Path, genuine_text: str
) -> None:
    genuine = write(plans_dir / "shop.yaml", genuine_text)
    hijack = write(plans_dir / "aaa_hijack.yaml", tiny("shop", wave="hijacked"))

    plan_set = load_plans(plans_dir)

    assert plan_set.plans == ()
    assert "also claimed by recovery_plans/shop.yaml" in plan_set.errors[str(hijack)][-1].message
    assert "also claimed by recovery_plans/aaa_hijack.yaml" in plan_set.errors[str(genuine)][-1].message


def test_one_plan_alone_reads_only_the_files_that_may_claim_it(plans_dir: Path) -> None:
    """An Airflow worker running one plan's task loads that plan only: the others go unparsed."""
    alpha = write(plans_dir / "a.yaml", tiny("alpha"))
    write(plans_dir / "b.yaml", "plan: beta\nwaves: [\n")
    write(plans_dir / "c.yaml", tiny("gamma"))
    (plans_dir / "d.yaml").write_bytes(b"plan: delta\n\xff")

    alone = load_plans(plans_dir, only_name="alpha")

    assert alone.plans == (load_plans(plans_dir).plan("alpha"),)
    assert dict(alone.errors) == {}  # b.yaml and d.yaml are broken, but not alpha's business
    assert dict(alone.claims) == {str(alpha): "alpha"}
    assert load_plans(plans_dir, only_name="omega").plans == ()


@pytest.mark.parametrize(
    "rival_text",
    [
        tiny("alpha", wave="hijacked"),
        'plan: "alph\\x61"\nwaves:\n  - name: hijacked\n    servers: {tags: {App: a}}\n',  # escaped
        "plan: alpha\nwaves: [\n",  # not YAML: its plan: line claims
    ],
    ids=["plain", "escaped-name", "syntax-error"],
)
def test_one_plan_alone_still_meets_every_rival_for_its_name(plans_dir: Path, rival_text: str) -> None:
    write(plans_dir / "a.yaml", tiny("alpha"))
    rival = write(plans_dir / "aaa_hijack.yaml", rival_text)

    alone = load_plans(plans_dir, only_name="alpha")

    assert alone.plans == load_plans(plans_dir).plans == ()
    assert "also claimed by recovery_plans/a.yaml" in alone.errors[str(rival)][-1].message


def test_the_set_says_which_name_each_file_claims_valid_or_not(plans_dir: Path) -> None:
    write(plans_dir / "a.yaml", tiny("alpha"))
    write(plans_dir / "b.yaml", "plan: beta\nwaves: [\n")
    write(plans_dir / "c.yaml", "- not a plan\n")
    assert {Path(path).name: name for path, name in load_plans(plans_dir).claims.items()} == {
        "a.yaml": "alpha",
        "b.yaml": "beta",
    }


def test_three_claimants_each_name_the_two_others(plans_dir: Path) -> None:
    for name in ("a", "b", "c"):
        write(plans_dir / f"{name}.yaml", tiny("shop"))
    plan_set = load_plans(plans_dir)
    (issue,) = plan_set.errors[str(plans_dir / "b.yaml")]
    assert "also claimed by recovery_plans/a.yaml, recovery_plans/c.yaml" in issue.message


def test_only_yaml_files_directly_in_the_directory_count(plans_dir: Path) -> None:
    write(plans_dir / "shop.yaml", SHOP_YAML)
    write(plans_dir / "notes.txt", "not a plan")
    write(plans_dir / "shop.yaml.bak", "not: a plan")
    write(plans_dir / ".#shop.yaml", "an editor's lock file")
    write(plans_dir / "archive" / "old.yaml", "plan: [broken")

    plan_set = load_plans(plans_dir)

    assert [plan.name for plan in plan_set.plans] == ["shop"]
    assert dict(plan_set.errors) == {}


def test_every_entry_that_looks_like_a_plan_but_cannot_be_read_is_named(plans_dir: Path) -> None:
    write(plans_dir / "shop.yaml", SHOP_YAML)
    (plans_dir / "folder.yaml").mkdir()
    os.mkfifo(plans_dir / "pipe.yaml")
    (plans_dir / "loop_a.yaml").symlink_to("loop_b.yaml")
    (plans_dir / "loop_b.yaml").symlink_to("loop_a.yaml")
    (plans_dir / "dangling.yml").symlink_to("gone.yaml")
    (plans_dir / "zero.yaml").symlink_to("/dev/zero")

    plan_set = load_plans(plans_dir)

    assert [plan.name for plan in plan_set.plans] == ["shop"]
    assert {
        Path(path).name: [str(issue) for issue in issues] for path, issues in plan_set.errors.items()
    } == {
        "dangling.yml": [
            "recovery_plans/dangling.yml: cannot read the file: it is a symbolic link to gone.yaml, "
            "which does not exist"
        ],
        "folder.yaml": ["recovery_plans/folder.yaml: this is a directory, not a plan file"],
        "loop_a.yaml": [
            "recovery_plans/loop_a.yaml: cannot read the file: "
            "it is a symbolic link in a loop (-> loop_b.yaml)"
        ],
        "loop_b.yaml": [
            "recovery_plans/loop_b.yaml: cannot read the file: "
            "it is a symbolic link in a loop (-> loop_a.yaml)"
        ],
        "pipe.yaml": ["recovery_plans/pipe.yaml: this is a named pipe (FIFO), not a plan file"],
        "zero.yaml": ["recovery_plans/zero.yaml: this is a character device, not a plan file"],
    }


def test_an_empty_directory_gives_an_empty_set(plans_dir: Path) -> None:
    plans_dir.mkdir(parents=True)
    assert load_plans(plans_dir) == PlanSet()


def test_a_missing_directory_is_reported_not_raised(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    plan_set = load_plans(missing)
    assert plan_set.plans == ()
    (issue,) = plan_set.errors[str(missing)]
    assert "cannot read the plans directory" in issue.message


def test_load_plans_accepts_a_display_root(plans_dir: Path, tmp_path: Path) -> None:
    write(plans_dir / "bad.yaml", "plan: x\n")
    plan_set = load_plans(plans_dir, display_root=tmp_path)
    (issue,) = plan_set.issues
    assert issue.file == "dags/recovery_plans/bad.yaml"


def test_error_keys_are_absolute_even_for_a_relative_directory(
    plans_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = write(plans_dir / "bad.yaml", "plan: x\n")
    monkeypatch.chdir(tmp_path)
    plan_set = load_plans("dags/recovery_plans")
    assert list(plan_set.errors) == [str(bad)]
    assert plan_set.issues[0].file == "recovery_plans/bad.yaml"


def test_load_plan_file_shows_the_path_as_given_or_relative_to_display_root(tmp_path: Path) -> None:
    bad = write(tmp_path / "plans" / "bad.yaml", "plan: x\nwaves: []\n")
    with pytest.raises(PlanError) as as_given:
        load_plan_file(bad)
    with pytest.raises(PlanError) as relative:
        load_plan_file(bad, display_root=tmp_path)
    assert as_given.value.issues[0].file == str(bad)
    assert str(relative.value) == "plans/bad.yaml: waves: needs at least 1 wave (line 2)"


def test_plan_error_holds_every_issue_and_says_them_all(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.yaml", "plan: X\nregion: 5\nwaves: []\n")
    with pytest.raises(PlanError) as caught:
        load_plan_file(bad, display_root=tmp_path)
    assert str(caught.value).splitlines() == [
        "bad.yaml: plan: 'X' is not valid: a lowercase letter, then up to 50 lowercase letters, digits or "
        "underscores (did you mean 'x'?) (line 1)",
        "bad.yaml: region: expected a string, got integer 5; unquoted, YAML reads '5' as an integer: "
        "put it in quotes (line 2)",
        "bad.yaml: waves: needs at least 1 wave (line 3)",
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"plan: caf\xe9\n", "not UTF-8 text"),
        (b"\x00" * 10, "YAML"),
        (b"x" * (MAX_PLAN_FILE_BYTES + 1), f"larger than {MAX_PLAN_FILE_BYTES} bytes"),
    ],
    ids=["latin-1", "binary", "huge"],
)
def test_unreadable_files_are_plan_errors(content: bytes, fragment: str, tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(content)
    with pytest.raises(PlanError) as caught:
        load_plan_file(path)
    assert fragment in str(caught.value)


def test_a_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read the file"):
        load_plan_file(tmp_path / "absent.yaml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_a_plan_error(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.yaml", SHOP_YAML)
    path.chmod(0)
    with pytest.raises(PlanError, match="cannot read the file"):
        load_plan_file(path)


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SHOP_YAML.encode())
    assert load_plan_file(path).name == "shop"


def test_plan_lookup_and_flat_issue_list(plans_dir: Path) -> None:
    write(plans_dir / "a.yaml", tiny("alpha"))
    write(plans_dir / "b.yaml", "plan: 1\n")
    plan_set = load_plans(plans_dir)
    assert plan_set.plan("alpha").name == "alpha"
    with pytest.raises(KeyError):
        plan_set.plan("b")
    assert [issue.path for issue in plan_set.issues] == ["plan", "waves"]


def test_whatever_interrupts_the_reading_of_a_file_names_it(
    plans_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's DAG import timeout raises wherever the DAG file is; the traceback names the file."""
    write(plans_dir / "a.yaml", tiny("alpha"))
    write(plans_dir / "b.yaml", tiny("beta"))

    def interrupted(text: str) -> Document:
        if "beta" in text:
            raise TimeoutError("DagBag import timeout")
        return parse_yaml(text)

    monkeypatch.setattr("drs_provider.plans.loader.parse_yaml", interrupted)
    with pytest.raises(TimeoutError) as caught:
        load_plans(plans_dir)
    assert caught.value.__notes__ == ["while reading the plan file recovery_plans/b.yaml"]
