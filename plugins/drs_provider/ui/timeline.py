"""The wave timeline as a picture: where each bar of the run page's SVG goes.

Rows are grouped in bands (preflight, then the dependency graph's steps, then clean-up); each
row's bar spans from its start to its end, or to now while it is still going. Only geometry is
computed here; ``templates/_timeline.html`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

LABEL_WIDTH = 170
ROW_HEIGHT = 26
BAR_HEIGHT = 16
BAND_GAP = 10
AXIS_HEIGHT = 26
RIGHT_MARGIN = 16
#: Room a bar's note needs (it goes inside the bar when there is less right of it).
NOTE_ROOM = 110
#: Tick spacings to choose from, in seconds: the first giving at most MAX_TICKS ticks wins.
TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400)
MAX_TICKS = 8


@dataclass(frozen=True)
class TimelineRow:
    """One thing on the timeline: a wave, preflight or the clean-up."""

    label: str
    band: str
    state: str
    start: datetime | None
    end: datetime | None
    note: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    state: str
    y: float
    x: float | None
    width: float | None
    running: bool
    note: str
    #: where the note goes: right of the bar, or inside its right end when the bar reaches the edge
    note_x: float = 0.0
    note_inside: bool = False


@dataclass(frozen=True)
class Band:
    label: str
    y: float
    height: float


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    bars: tuple[Bar, ...]
    bands: tuple[Band, ...]
    ticks: tuple[Tick, ...]
    plot_left: int
    plot_right: int
    axis_y: float
    #: where the RTO target falls, when it is inside the drawn span
    target_x: float | None = None


def tick_label(seconds: float) -> str:
    """``+45s``, ``+2m``, ``+1h30m``: time since the run started."""
    seconds = round(seconds)
    if seconds < 60:
        return f"+{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"+{minutes}m{rest:02d}s" if rest else f"+{minutes}m"
    hours, rest = divmod(seconds, 3600)
    return f"+{hours}h{rest // 60:02d}m" if rest else f"+{hours}h"


def _tick_step(span: float) -> int:
    for step in TICK_STEPS:
        if span / step <= MAX_TICKS:
            return step
    return TICK_STEPS[-1]


def draw_timeline(
    rows: Sequence[TimelineRow],
    *,
    origin: datetime | None,
    now: datetime,
    width: int = 900,
    target_seconds: float | None = None,
) -> Timeline:
    """Lay ``rows`` out on one time axis starting at ``origin`` (the run's start)."""
    starts = [row.start for row in rows if row.start]
    start = origin or min(starts, default=now)
    ends = [row.end or now for row in rows if row.start]
    span = max([(end - start).total_seconds() for end in ends] + [1.0])
    plot_left, plot_right = LABEL_WIDTH, width - RIGHT_MARGIN
    scale = (plot_right - plot_left) / span

    def x_of(moment: datetime) -> float:
        return plot_left + max(0.0, (moment - start).total_seconds()) * scale

    bars: list[Bar] = []
    bands: list[Band] = []
    y = 4.0
    for band in dict.fromkeys(row.band for row in rows):
        band_rows = [row for row in rows if row.band == band]
        bands.append(Band(band, y, len(band_rows) * ROW_HEIGHT))
        for row in band_rows:
            x = x_of(row.start) if row.start else None
            end = row.end or now
            bar_width = max(2.0, x_of(end) - x) if x is not None else None
            note_x, inside = plot_left + 4.0, False
            if x is not None and bar_width is not None:
                note_x = x + bar_width + 6
                if note_x + NOTE_ROOM > plot_right and bar_width > NOTE_ROOM:
                    note_x, inside = x + bar_width - 6, True
            running = row.start is not None and row.end is None
            bars.append(Bar(row.label, row.state, y, x, bar_width, running, row.note, note_x, inside))
            y += ROW_HEIGHT
        y += BAND_GAP
    axis_y = y
    step = _tick_step(span)
    ticks = tuple(
        Tick(plot_left + offset * scale, tick_label(offset)) for offset in range(0, int(span) + 1, step)
    )
    target_x = None
    if target_seconds is not None and 0 < target_seconds <= span:
        target_x = plot_left + target_seconds * scale
    return Timeline(
        width=width,
        height=int(axis_y + AXIS_HEIGHT),
        bars=tuple(bars),
        bands=tuple(bands),
        ticks=ticks,
        plot_left=plot_left,
        plot_right=plot_right,
        axis_y=axis_y,
        target_x=target_x,
    )


@dataclass(frozen=True)
class TrendBar:
    x: float
    y: float
    width: float
    height: float
    state: str
    title: str
    href: str


@dataclass(frozen=True)
class Trend:
    width: int
    height: int
    bars: tuple[TrendBar, ...]
    target_y: float | None


@dataclass(frozen=True)
class TrendPoint:
    """One past run on a plan's trend: its result and RTO (None when it has none)."""

    state: str
    rto_seconds: float | None
    title: str
    href: str


def draw_trend(
    points: Sequence[TrendPoint],
    *,
    target_seconds: float | None = None,
    slots: int = 10,
    width: int = 180,
    height: int = 36,
) -> Trend:
    """Small bars, oldest first, newest at the right: height = RTO; a run without one is a full bar.

    The chart has room for ``slots`` runs, so a bar is as wide however few runs there are yet.
    """
    if not points:
        return Trend(width, height, (), None)
    values = [point.rto_seconds for point in points if point.rto_seconds is not None]
    top = max([*values, target_seconds or 0.0, 1.0])
    slot = width / max(len(points), slots)
    first = width - slot * len(points)
    bars = []
    for index, point in enumerate(points):
        ratio = 1.0 if point.rto_seconds is None else max(point.rto_seconds / top, 0.06)
        bar_height = (height - 2) * ratio
        bars.append(
            TrendBar(
                x=first + index * slot + 1,
                y=height - bar_height,
                width=max(slot - 2, 1.0),
                height=bar_height,
                state=point.state,
                title=point.title,
                href=point.href,
            )
        )
    target_y = height - (height - 2) * (target_seconds / top) if target_seconds else None
    return Trend(width, height, tuple(bars), target_y)
