"""How a name that breaks the name rule is explained: shared by the plan's rules and every step kind's."""

from __future__ import annotations

import re

from drs_provider.plans.model import PLAN_NAME_PATTERN

NAME_HINT = "a lowercase letter, then up to 50 lowercase letters, digits or underscores"


def suggest_name(text: str) -> str | None:
    """A valid plan or wave name close to ``text`` ('Web-Tier' -> 'web_tier'), if there is one."""
    name = re.sub(r"[^a-z0-9_]+", "_", text.strip().lower()).strip("_")
    name = name.lstrip("0123456789_")[:51]
    return name if re.fullmatch(PLAN_NAME_PATTERN, name) else None
