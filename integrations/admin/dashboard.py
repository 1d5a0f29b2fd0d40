"""The admin dashboard page: the data of `integrations.dashboard`, with badge colours and two charts.

The charts are inline SVG whose geometry is computed here, on the server: no JavaScript, no chart
library, nothing fetched from another host. The template only places the rectangles and labels."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from integrations.admin.colours import HEALTH_COLOURS, STATE_COLOURS, STATUS_COLOURS
from integrations.dashboard import ConnectionSummary, Dashboard, FamilyRecords, FamilyStatus, HourRuns

# Quota bars turn orange, then red, as the day's calls run out.
QUOTA_WARN_PERCENT = 70
QUOTA_ALERT_PERCENT = 90

RUNS_CHART_WIDTH = 720
RUNS_CHART_HEIGHT = 200
RUNS_CHART_LEFT = 40  # room for the count labels
RUNS_CHART_TOP = 10
RUNS_CHART_BOTTOM = 24  # room for the hour labels
RUNS_CHART_LABEL_EVERY = 3  # hours

RECORDS_CHART_WIDTH = 720
RECORDS_CHART_LABEL_WIDTH = 170
RECORDS_CHART_VALUE_WIDTH = 80
RECORDS_CHART_ROW = 22
RECORDS_CHART_BAR = 14


@dataclass(frozen=True)
class FamilyCell:
    family: FamilyStatus
    colour: str

    @property
    def title(self) -> str:
        reason = self.family.state_reason
        return f"{self.family.state_label}: {reason}" if reason else self.family.state_label


@dataclass(frozen=True)
class ConnectionRow:
    summary: ConnectionSummary
    status_colour: str
    health_colour: str
    quota_colour: str
    families: list[FamilyCell]


@dataclass(frozen=True)
class StackedBar:
    """One hour: the succeeded part from the baseline up, the failed part on top of it."""

    x: float
    width: float
    succeeded_y: float
    succeeded_height: float
    failed_y: float
    failed_height: float
    title: str
    label: str
    label_x: float


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class RunsChart:
    width: int
    height: int
    left: int
    right: int
    baseline: float
    label_y: float
    center_x: float
    bars: list[StackedBar]
    ticks: list[Tick]
    empty: bool


@dataclass(frozen=True)
class HorizontalBar:
    label: str
    value: str
    y: float
    text_y: float
    width: float
    value_x: float


@dataclass(frozen=True)
class RecordsChart:
    width: int
    height: int
    bar_x: int
    bar_height: int
    label_x: int
    bars: list[HorizontalBar]
    empty: bool


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2 or 5 times 10^n at or above `value` (at least 1): a round top for the scale."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    return next(step * magnitude for step in (1, 2, 5, 10) if step * magnitude >= value)


def runs_chart_build(hours: list[HourRuns]) -> RunsChart:
    """Stacked bars of succeeded and failed runs per hour, oldest on the left."""
    top = _nice_ceiling(max((hour.succeeded + hour.failed for hour in hours), default=0))
    plot_height = RUNS_CHART_HEIGHT - RUNS_CHART_TOP - RUNS_CHART_BOTTOM
    baseline = float(RUNS_CHART_TOP + plot_height)
    slot = (RUNS_CHART_WIDTH - RUNS_CHART_LEFT) / max(len(hours), 1)
    width = round(slot * 0.75, 1)
    bars = []
    for index, hour in enumerate(hours):
        x = round(RUNS_CHART_LEFT + index * slot + (slot - width) / 2, 1)
        succeeded_height = round(hour.succeeded * plot_height / top, 1)
        failed_height = round(hour.failed * plot_height / top, 1)
        local = timezone.localtime(hour.hour)
        bars.append(
            StackedBar(
                x=x,
                width=width,
                succeeded_y=round(baseline - succeeded_height, 1),
                succeeded_height=succeeded_height,
                failed_y=round(baseline - succeeded_height - failed_height, 1),
                failed_height=failed_height,
                title=f"{local:%Y-%m-%d %H:00}: {hour.succeeded} succeeded, {hour.failed} failed",
                label=f"{local:%H:00}" if index % RUNS_CHART_LABEL_EVERY == 0 else "",
                label_x=round(x + width / 2, 1),
            )
        )
    ticks = [Tick(y=round(baseline - value * plot_height / top, 1), label=str(value)) for value in {0, top}]
    if top % 2 == 0:
        ticks.append(Tick(y=round(baseline - plot_height / 2, 1), label=str(top // 2)))
    return RunsChart(
        width=RUNS_CHART_WIDTH,
        height=RUNS_CHART_HEIGHT,
        left=RUNS_CHART_LEFT,
        right=RUNS_CHART_WIDTH,
        baseline=baseline,
        label_y=baseline + 16,
        center_x=(RUNS_CHART_LEFT + RUNS_CHART_WIDTH) / 2,
        bars=bars,
        ticks=sorted(ticks, key=lambda tick: -tick.y),
        empty=not any(hour.succeeded or hour.failed for hour in hours),
    )


def records_chart_build(families: list[FamilyRecords]) -> RecordsChart:
    """One horizontal bar per family, its length the family's records over all connections."""
    top = max((family.records for family in families), default=0) or 1
    plot_width = RECORDS_CHART_WIDTH - RECORDS_CHART_LABEL_WIDTH - RECORDS_CHART_VALUE_WIDTH
    bars = []
    for index, family in enumerate(families):
        y = index * RECORDS_CHART_ROW + (RECORDS_CHART_ROW - RECORDS_CHART_BAR) / 2
        width = round(family.records * plot_width / top, 1)
        bars.append(
            HorizontalBar(
                label=family.entity_label,
                value=f"{family.records:,}",
                y=y,
                text_y=y + RECORDS_CHART_BAR - 3,
                width=width,
                value_x=round(RECORDS_CHART_LABEL_WIDTH + width + 6, 1),
            )
        )
    return RecordsChart(
        width=RECORDS_CHART_WIDTH,
        height=max(len(families), 1) * RECORDS_CHART_ROW,
        bar_x=RECORDS_CHART_LABEL_WIDTH,
        bar_height=RECORDS_CHART_BAR,
        label_x=RECORDS_CHART_LABEL_WIDTH - 8,
        bars=bars,
        empty=not any(family.records for family in families),
    )


def _quota_colour(percent: int | None) -> str:
    if percent is None or percent < QUOTA_WARN_PERCENT:
        return "green"
    return "orange" if percent < QUOTA_ALERT_PERCENT else "red"


def dashboard_context(dashboard: Dashboard) -> dict[str, Any]:
    """What the dashboard template renders: the data, each connection with its colours, the charts."""
    rows = [
        ConnectionRow(
            summary=summary,
            status_colour=STATUS_COLOURS.get(summary.status, "grey"),
            health_colour=HEALTH_COLOURS.get(summary.health, "grey"),
            quota_colour=_quota_colour(summary.quota.percent_used),
            families=[
                FamilyCell(family=family, colour=STATE_COLOURS.get(family.state, "grey"))
                for family in summary.families
            ],
        )
        for summary in dashboard.connections
    ]
    return {
        "dashboard": dashboard,
        "rows": rows,
        "runs_chart": runs_chart_build(dashboard.runs_per_hour),
        "records_chart": records_chart_build(dashboard.records_by_family),
    }
