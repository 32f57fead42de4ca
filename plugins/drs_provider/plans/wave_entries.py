"""The waves of a plan document as far as the structure rules could check them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.plans.yaml_source import FieldPath


@dataclass(frozen=True)
class WaveEntry:
    """A wave as far as it could be checked; ``index`` is its place in ``waves``."""

    index: int
    name: str | None
    fields: Mapping[str, object]

    @property
    def path(self) -> FieldPath:
        return ("waves", self.index)


def wave_entries(checked: Mapping[str, object], raw: Mapping[object, object]) -> list[WaveEntry]:
    raw_waves = raw.get("waves")
    checked_waves = checked.get("waves")
    if not isinstance(raw_waves, list) or not isinstance(checked_waves, tuple):
        return []
    entries = []
    for index, (raw_wave, fields) in enumerate(zip(raw_waves, checked_waves, strict=True)):
        # A name that broke the name rule still identifies the wave, so references to it
        # are not reported a second time as unknown waves.
        name = raw_wave.get("name") if isinstance(raw_wave, dict) else None
        entries.append(
            WaveEntry(
                index,
                name if isinstance(name, str) else None,
                fields if isinstance(fields, dict) else {},
            )
        )
    return entries
