"""README.md is the short way in: it names the commands a new user runs first and links into docs/.

The docs site itself is checked by ``make docs`` (mkdocs --strict: missing pages and anchors
fail it); README.md is not part of the site, so its links are checked here.
"""

from __future__ import annotations

import re

from tests.conftest import REPO_ROOT

README = REPO_ROOT / "README.md"


def test_the_readme_states_the_first_commands_and_the_test_command() -> None:
    text = README.read_text(encoding="utf-8")

    assert "make demo " in text
    assert "make test " in text
    assert "## Tests" in text


def test_every_relative_link_of_the_readme_names_a_file_of_the_repository() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text(encoding="utf-8"))
    relative = [link for link in links if "://" not in link]

    assert relative, "README.md links into docs/"
    missing = [link for link in relative if not (REPO_ROOT / link).is_file()]
    assert not missing, f"README.md links to files that do not exist: {missing}"
