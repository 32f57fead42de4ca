"""What several step kinds share: the keys every step takes, seconds, SSM documents and parameters.

Only the plan layer's leaf modules are imported here (the model, the rule kinds, names), so a
kind module can be imported while the plan layer itself is still loading.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from drs_provider.constants import RUN_MODES
from drs_provider.plans.model import RESERVED_STEP_NAMES, STEP_NAME_PATTERN
from drs_provider.plans.names import NAME_HINT, suggest_name
from drs_provider.plans.rule_kinds import Boolean, Integer, Key, ListOf, MapOf, Text

if TYPE_CHECKING:
    from collections.abc import Mapping

STEP_NAME = Text(
    description="Step name, unique in its wave (default <phase>_<n>_<kind>, e.g. post_1_ssm_command).",
    pattern=STEP_NAME_PATTERN,
    hint=NAME_HINT,
    suggest=suggest_name,
    reserved=tuple(sorted(RESERVED_STEP_NAMES)),
    reserved_reason="the wave has a task of that name",
)


def step_keys(*keys: Key, default_modes: tuple[str, ...] = RUN_MODES) -> tuple[Key, ...]:
    """Every step kind takes ``name``, ``optional`` and ``modes`` besides its own keys.

    ``default_modes``: the modes the kind's steps run in when the plan does not say (its model's
    ``modes`` default), said in the key's description.
    """
    return (
        Key("name", STEP_NAME),
        Key(
            "optional",
            Boolean(description="true: a failure of this step is logged and reported, and the wave goes on."),
        ),
        Key("modes", step_modes(default_modes)),
        *keys,
    )


def step_modes(default: tuple[str, ...]) -> ListOf:
    """The ``modes`` rule of a kind whose steps run in ``default`` when the plan does not say."""
    return ListOf(
        Text(description="A run mode.", choices=RUN_MODES),
        min_items=1,
        description=(
            f"The run modes this step runs in (default: {', '.join(default)}); in a run of another "
            "mode it passes at once."
        ),
        noun="mode",
    )


def seconds(description: str, limits: tuple[int, int]) -> Integer:
    return Integer(description=description, minimum=limits[0], maximum=limits[1], unit="seconds")


# SSM document names (SendCommand / StartAutomationExecution DocumentName).
SSM_DOCUMENT_PATTERN = r"^[a-zA-Z0-9_\-.:/]{3,128}$"
SSM_DOCUMENT = Text(
    description="SSM document name or ARN.",
    pattern=SSM_DOCUMENT_PATTERN,
    hint="an SSM document name: 3 to 128 letters, digits and _ - . : /",
)
SSM_PARAMETERS = MapOf(
    keys=Text(description="Parameter name.", min_length=1, max_length=255),
    values=ListOf(Text(description="One value."), unique=False, description="The parameter's values."),
    description="The document's parameters: each name maps to a list of values, as SSM takes them.",
    noun="parameter names to lists of values",
)


def empty_mapping() -> Mapping[str, Any]:
    """The default of a mapping field of a step model (read-only, as the loader builds them)."""
    return MappingProxyType({})


def texts(value: object) -> tuple[str, ...]:
    """A checked list of text as the model keeps it."""
    return tuple(str(item) for item in value) if isinstance(value, tuple) else ()


def frozen_parameters(value: object) -> Mapping[str, tuple[str, ...]]:
    """Checked SSM parameters as the model keeps them: read-only, each name to its values."""
    assert isinstance(value, dict)
    return MappingProxyType({key: texts(values) for key, values in value.items()})
