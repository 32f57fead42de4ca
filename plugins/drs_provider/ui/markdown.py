"""Approval text as Markdown, rendered safely: no HTML or script of the plan's text reaches the page.

An approval's message is Markdown (the Airflow UI's own HITL view renders it so too). The run
page renders it with ``markdown-it-py`` (installed with Airflow, through ``rich``): CommonMark
with raw HTML off, so ``<script>`` or ``<img onerror=...>`` in a plan comes out as text; links
only with the schemes markdown-it accepts (no ``javascript:``, ``vbscript:``, ``file:`` or
``data:`` links), opened in a new tab; images off (the page's Content-Security-Policy would block
them anyway). The result is the only Markup the templates take from a plan.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from collections.abc import Sequence

    from markdown_it import MarkdownIt
    from markdown_it.token import Token


def _link_open(self: Any, tokens: Sequence[Token], index: int, options: Any, env: Any) -> str:
    # The page sits in the UI's sandboxed frame: its script opens links that name a target through
    # the UI's document (recovery.js), as it does the DRS console links.
    tokens[index].attrSet("target", "_blank")
    tokens[index].attrSet("rel", "noopener noreferrer")
    return str(self.renderToken(tokens, index, options, env))


@functools.cache
def _renderer() -> MarkdownIt:
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    renderer.disable("image")
    renderer.add_render_rule("link_open", _link_open)
    return renderer


def render_markdown(text: str | None) -> Markup:
    """``text`` (Markdown) as HTML safe to put into a page; raw HTML in it is escaped."""
    if not text:
        return Markup("")
    # markdown-it escapes raw HTML (html off): what it returns is safe to mark so
    return Markup(_renderer().render(str(text)))
