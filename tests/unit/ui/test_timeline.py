"""Timeline and trend geometry: bars from start to end (or now), on one time axis."""

from __future__ import annotations

import pytest

from drs_provider.ui.timeline import (
    LABEL_WIDTH,
    RIGHT_MARGIN,
    TimelineRow,
    TrendPoint,
    draw_timeline,
    draw_trend,
    tick_label,
)
from tests.unit.recovery.runs import at

WIDTH = 900
PLOT = WIDTH - RIGHT_MARGIN - LABEL_WIDTH


def test_bars_span_start_to_end_on_one_scale():
    rows = [
        TimelineRow("preflight", "checks", "success", at(0), at(10)),
        TimelineRow("db", "step 1", "success", at(10), at(60)),
        TimelineRow("app", "step 2", "success", at(60), at(100)),
    ]

    timeline = draw_timeline(rows, origin=at(0), now=at(500), width=WIDTH)

    xs = [(bar.x, bar.width) for bar in timeline.bars]
    scale = PLOT / 100
    assert xs == [
        pytest.approx((LABEL_WIDTH, 10 * scale)),
        pytest.approx((LABEL_WIDTH + 10 * scale, 50 * scale)),
        pytest.approx((LABEL_WIDTH + 60 * scale, 40 * scale)),
    ]
    assert [band.label for band in timeline.bands] == ["checks", "step 1", "step 2"]
    ys = [bar.y for bar in timeline.bars]
    assert ys == sorted(ys) and len(set(ys)) == 3
    assert not any(bar.running for bar in timeline.bars)


def test_a_running_row_reaches_now_and_a_waiting_row_has_no_bar():
    rows = [
        TimelineRow("db", "step 1", "running", at(0), None),
        TimelineRow("app", "step 2", "pending", None, None),
    ]

    running, waiting = draw_timeline(rows, origin=at(0), now=at(30), width=WIDTH).bars

    assert running.running and running.x + running.width == pytest.approx(WIDTH - RIGHT_MARGIN)
    assert waiting.x is None and waiting.width is None and not waiting.running


def test_ticks_start_at_zero_and_stay_few():
    rows = [TimelineRow("db", "step 1", "success", at(0), at(1000))]

    ticks = draw_timeline(rows, origin=at(0), now=at(1000), width=WIDTH).ticks

    assert [tick.label for tick in ticks] == ["+0s", "+5m", "+10m", "+15m"]
    assert ticks[0].x == LABEL_WIDTH


def test_the_target_line_shows_only_inside_the_span():
    rows = [TimelineRow("db", "step 1", "success", at(0), at(100))]

    assert draw_timeline(rows, origin=at(0), now=at(100), target_seconds=50).target_x is not None
    assert draw_timeline(rows, origin=at(0), now=at(100), target_seconds=1800).target_x is None


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(0, "+0s"), (45, "+45s"), (120, "+2m"), (150, "+2m30s"), (3600, "+1h"), (5400, "+1h30m")],
)
def test_tick_label(seconds, label):
    assert tick_label(seconds) == label


def test_trend_bars_grow_with_rto_and_a_failed_run_is_a_full_bar():
    points = [
        TrendPoint("success", 30.0, "a", "/a"),
        TrendPoint("success", 60.0, "b", "/b"),
        TrendPoint("failed", None, "c", "/c"),
    ]

    trend = draw_trend(points, target_seconds=120, height=40)

    heights = [bar.height for bar in trend.bars]
    assert heights[0] < heights[1] < heights[2]
    assert heights[2] == pytest.approx(38)
    assert trend.target_y == pytest.approx(2)
    assert [bar.href for bar in trend.bars] == ["/a", "/b", "/c"]
    assert draw_trend([]).bars == ()


def test_trend_bars_keep_their_width_and_the_newest_is_at_the_right():
    (only,) = draw_trend([TrendPoint("success", 10.0, "a", "/a")], slots=10, width=180).bars
    full = draw_trend([TrendPoint("success", 10.0, str(n), "/") for n in range(10)], slots=10, width=180).bars

    assert only.width == pytest.approx(full[0].width) == pytest.approx(16)
    assert only.x + only.width == pytest.approx(full[-1].x + full[-1].width) == pytest.approx(179)
