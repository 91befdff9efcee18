"""Painted charts: the event histogram (drag to select a time range) and the integrity map.

Both draw only what is visible from a handful of numbers the views hand them, so they stay fast
whatever the case holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QLine, QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygon,
    QResizeEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from auditlens.core.store.lanes import NOTABLE_ACTIONS
from auditlens.gui import finding_marks
from auditlens.gui.finding_marks import FindingMark

VERDICT_COLOURS = {
    "verified": QColor("#43a047"),
    "untrusted": QColor("#fbc02d"),
    "unsealed": QColor("#9e9e9e"),
    "tampered": QColor("#e53935"),
    "invalid": QColor("#8e24aa"),
    "missing": QColor("#212121"),
}


class HistogramWidget(QWidget):
    """Counts per time bucket; dragging across it emits the selected time range."""

    # Python ints: a nanosecond time of 2026 (1.8 * 10^18) overflows the C int of Signal(int).
    range_selected = Signal(object, object)
    # A click (no drag) on findings' flags: the FindingMarks under the pointer.
    findings_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(100)  # a 60-pixel plot under the line of words (plot_area)
        self.buckets: list[tuple[int, int]] = []
        self.bucket_ns = 60_000_000_000
        self.tz: ZoneInfo | None = None
        self.gaps: list[tuple[int, int]] = []  # where a stream's evidence is missing (hatched)
        self.findings: list[FindingMark] = []  # flagged at their first event (finding_marks)
        self._drag: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setToolTip("Drag to show only that time range")

    def set_data(self, buckets: list[tuple[int, int]], bucket_ns: int) -> None:
        """Show ``(bucket start ns, count)`` pairs."""
        self.buckets = [(b, c) for b, c in buckets if b is not None]
        self.bucket_ns = bucket_ns
        self.update()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the time axis in ``tz`` (UTC when None)."""
        self.tz = tz
        self.update()

    def set_gaps(self, gaps: list[tuple[int, int]]) -> None:
        """Mark these spans as gaps in the evidence (``(start ns, end ns)``)."""
        self.gaps = gaps
        self.update()

    def set_findings(self, marks: list[FindingMark]) -> None:
        """Flag these findings at their times."""
        self.findings = marks
        self.update()

    def finding_pixels(self) -> list[tuple[FindingMark, int, int]]:
        """Each finding flagged within the span shown: mark, pixel column, row (as painted)."""
        if not self.buckets:
            return []
        lo, hi = self._span()
        area = self.plot_area()
        return [
            (m, area.left() + int((m.start_ns - lo) / (hi - lo) * area.width()), area.top() + 4)
            for m in self.findings
            if lo <= m.start_ns < hi
        ]

    def event(self, event: QEvent) -> bool:
        """A finding's tooltip over its flag, the drag hint elsewhere."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            found = finding_marks.near(self.finding_pixels(), event.pos().x(), event.pos().y())
            if found:
                tip = finding_marks.tooltip(found, self.tz) + "<br><i>click: its events</i>"
                QToolTip.showText(event.globalPos(), tip, self)
                return True
        return super().event(event)

    def gap_pixels(self) -> list[tuple[int, int]]:
        """The gaps' pixel columns within the plot (those that overlap what is shown)."""
        if not self.buckets:
            return []
        lo, hi = self._span()
        area = self.plot_area()
        out = []
        for start, end in self.gaps:
            if end <= lo or start >= hi:
                continue
            x0 = area.left() + int((max(start, lo) - lo) / (hi - lo) * area.width())
            x1 = area.left() + int((min(end, hi) - lo) / (hi - lo) * area.width())
            out.append((x0, max(x1, x0 + 2)))
        return out

    def ticks(self) -> list[tuple[int, str]]:
        """The axis' ticks (ns) and labels, on whole steps of the wall clock in the zone shown."""
        if not self.buckets:
            return []
        lo, hi = self._span()
        return time_ticks(lo, hi, max(self.width() - 4, 1), self.tz)

    def plot_area(self) -> QRect:
        """Where bars, gaps and flags are drawn: under a line kept for the scale and the legend.

        Drawn over the bars, those words hid the tallest ones (and the legend's shade half hid
        a flag at the right edge).
        """
        return self.rect().adjusted(2, 4 + self.fontMetrics().height() + 2, -2, -18)

    def _span(self) -> tuple[int, int]:
        if not self.buckets:
            return 0, 1
        return self.buckets[0][0], self.buckets[-1][0] + self.bucket_ns

    def _x_to_ns(self, x: int) -> int:
        lo, hi = self._span()
        width = max(self.width() - 1, 1)
        return lo + int((hi - lo) * min(max(x, 0), width) / width)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Bars, axis labels and the drag selection."""
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if not self.buckets:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no events")
            return
        lo, hi = self._span()
        top = max(c for _, c in self.buckets)
        area = self.plot_area()
        colour = palette.highlight().color()
        for start, count in self.buckets:
            x0 = area.left() + int((start - lo) / (hi - lo) * area.width())
            x1 = area.left() + int((start + self.bucket_ns - lo) / (hi - lo) * area.width())
            height = int(count / top * area.height())
            painter.fillRect(QRect(x0, area.bottom() + 1 - height, max(x1 - x0, 1), height), colour)
        gap_brush = QBrush(palette.text().color(), Qt.BrushStyle.BDiagPattern)
        for x0, x1 in self.gap_pixels():  # missing evidence: hatched, as on the integrity map
            painter.fillRect(QRect(x0, area.top(), x1 - x0, area.height()), gap_brush)
        painter.setPen(palette.text().color())
        # The axis in the zone shown (docs: every shown time in the selected zone), the zone named.
        metrics = painter.fontMetrics()
        caption = f"time ({_zone_name(self.tz)})"
        painter.drawText(QPoint(area.left(), self.height() - 4), caption)
        skip = area.left() + metrics.horizontalAdvance(caption) + 8
        for ns, label in self.ticks():
            x = area.left() + int((ns - lo) / (hi - lo) * area.width())
            painter.drawLine(x, area.bottom() + 1, x, area.bottom() + 4)
            if x + 3 >= skip and x + 3 + metrics.horizontalAdvance(label) <= self.width():
                painter.drawText(QPoint(x + 3, self.height() - 4), label)
        # The words go on the line above the plot (plot_area).
        caption_top = area.top() - metrics.height() - 2
        painter.drawText(
            QPoint(area.left() + 4, caption_top + metrics.ascent()), f"max {top:,} per bucket"
        )
        pixels = self.finding_pixels()
        # One flag per pixel column and severity: thousands of findings share a few columns.
        for x, y, severity in dict.fromkeys((x, y, m.severity) for m, x, y in pixels):
            finding_marks.flag(painter, x, y - 4, area.bottom(), severity)
        if pixels:
            finding_marks.legend(
                painter, area.right(), caption_top, palette.base().color(), palette.text().color()
            )
        if self._drag is not None:
            a, b = sorted(self._drag)
            painter.fillRect(QRect(a, 0, max(b - a, 1), self.height()), QColor(33, 150, 243, 70))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Start a selection."""
        x = int(event.position().x())
        self._drag = (x, x)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Extend the selection."""
        if self._drag is not None:
            self._drag = (self._drag[0], int(event.position().x()))
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Emit the selected range (a click without a drag selects nothing)."""
        if self._drag is None:
            return
        a, b = sorted(self._drag)
        self._drag = None
        self.update()
        if b - a >= 3:
            self.range_selected.emit(self._x_to_ns(a), self._x_to_ns(b))
            return
        # A flag runs the plot's height: a click anywhere along it is on it.
        flagged = [(m, x, 0) for m, x, _y in self.finding_pixels()]
        found = finding_marks.near(flagged, a, 0)
        if found:
            self.findings_clicked.emit(found)


@dataclass(frozen=True)
class Stretch:
    """One stretch of a stream on the time axis."""

    lane: str
    start_ns: int
    end_ns: int
    state: str  # verified, untrusted, unsealed, tampered, invalid, missing
    label: str
    # A bundle whose verdict is tampered, drawn in the state most of its records have: outlined
    # in red, so that it never reads as an intact bundle (docs/report.md, "Integrity map").
    outlined: bool = False


@dataclass(frozen=True)
class Mark:
    """A record a finding names, at its time on its stream's lane."""

    lane: str
    time_ns: int
    kind: str  # modified, inserted, deleted, reordered, duplicate
    seq: int | None


MARK_COLOURS = {"deleted": QColor("#6a1b9a")}  # the others: the tampered red
MARK_WIDTH = 3  # pixels: one record is drawn, visible at any zoom
OUTLINE_WIDTH = 2  # pixels: a tampered bundle's red outline


class IntegrityMapWidget(QWidget):
    """One lane per stream: bundles, gaps and raw inputs as bars, the records findings name.

    A bundle is drawn in the state of its records (a tampered bundle's intact records are still
    verified) and outlined in red when it is tampered, each modified, inserted or deleted record
    as a tick where it is in time.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stretches: list[Stretch] = []
        self.marks: list[Mark] = []
        self.findings: list[FindingMark] = []  # on the lanes of the streams of their events
        self.tz: ZoneInfo | None = None
        self.setMinimumHeight(120)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the time axis in ``tz``."""
        self.tz = tz
        self.update()

    def set_stretches(self, stretches: list[Stretch]) -> None:
        """Show these stretches."""
        self.stretches = stretches
        lanes = {s.lane for s in stretches}
        self.setMinimumHeight(58 + 26 * max(len(lanes), 1))
        self.update()

    def set_marks(self, marks: list[Mark]) -> None:
        """Mark these records on their lanes."""
        self.marks = marks
        self.update()

    def set_findings(self, marks: list[FindingMark]) -> None:
        """Mark these findings on the lanes of their events' streams."""
        self.findings = marks
        self.update()

    def finding_pixels(self) -> list[tuple[FindingMark, int, int, int]]:
        """Each finding on each lane it concerns: mark, first and last pixel column, lane row."""
        if not self.stretches:
            return []
        lanes, x = self._lanes(), self._scale()
        out = []
        for mark in self.findings:
            x0, x1 = x(mark.start_ns), x(mark.end_ns)
            out += [(mark, x0, x1, lanes.index(lane)) for lane in mark.streams if lane in lanes]
        return out

    def event(self, event: QEvent) -> bool:
        """A finding's tooltip over its mark."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            pixels = [(m, x0, 8 + row * 26 + 10) for m, x0, _x1, row in self.finding_pixels()]
            finding_marks.show_tooltip(self, event, pixels, self.tz)
            return True
        return super().event(event)

    def mark_pixels(self) -> list[tuple[Mark, int, int]]:
        """Each mark with its pixel column and lane row, as painted (tests look at them)."""
        if not self.stretches:
            return []
        lanes, x = self._lanes(), self._scale()
        return [(m, x(m.time_ns), lanes.index(m.lane)) for m in self.marks if m.lane in lanes]

    def _span(self) -> tuple[int, int]:
        lo = min(s.start_ns for s in self.stretches)
        hi = max(s.end_ns for s in self.stretches)
        return lo, (hi if hi > lo else lo + 1)

    def _plot_x(self) -> tuple[int, int]:
        lanes = {s.lane for s in self.stretches}
        label_width = max(self.fontMetrics().horizontalAdvance(lane) for lane in lanes) + 12
        return label_width, self.width() - 8

    def _lanes(self) -> list[str]:
        """The lanes (streams) top to bottom, by name."""
        return sorted({s.lane for s in self.stretches})

    def _scale(self) -> Callable[[int], int]:
        """The pixel column of a time on the lanes, as the stretches shown now place it."""
        lo, hi = self._span()
        left, right = self._plot_x()
        return lambda ns: left + int((ns - lo) / (hi - lo) * (right - left))

    def _brush(self, state: str) -> QBrush:
        if state == "missing":
            # Hatched in the text colour: a gap reads as a gap on a light or dark background.
            return QBrush(self.palette().text().color(), Qt.BrushStyle.BDiagPattern)
        return QBrush(VERDICT_COLOURS.get(state, QColor("#607d8b")))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Lanes, bars, legend."""
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        if not self.stretches:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no evidence imported yet")
            return
        lanes, x_of = self._lanes(), self._scale()
        lo, hi = self._span()
        left, right = self._plot_x()
        painter.setPen(palette.text().color())
        for row, lane in enumerate(lanes):
            y = 8 + row * 26
            painter.drawText(QPoint(4, y + 15), lane)
            for s in (s for s in self.stretches if s.lane == lane):
                x0, x1 = x_of(s.start_ns), x_of(s.end_ns)
                painter.fillRect(QRect(x0, y, max(x1 - x0, 2), 20), self._brush(s.state))
        red = VERDICT_COLOURS["tampered"]
        for row, lane in enumerate(lanes):
            y = 8 + row * 26
            for s in (s for s in self.stretches if s.lane == lane and s.outlined):
                x0, x1 = x_of(s.start_ns), x_of(s.end_ns)
                # Inside the bar's own rectangle, so the outline never covers a neighbour's.
                painter.setPen(QPen(red, OUTLINE_WIDTH, Qt.PenStyle.SolidLine))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                inset = OUTLINE_WIDTH // 2
                width = max(x1 - x0, 2) - OUTLINE_WIDTH
                painter.drawRect(QRect(x0 + inset, y + inset, max(width, 1), 20 - OUTLINE_WIDTH))
        painter.setPen(palette.text().color())
        for mark, x, row in self.mark_pixels():
            y = 8 + row * 26
            colour = MARK_COLOURS.get(mark.kind, red)
            painter.fillRect(QRect(x - MARK_WIDTH // 2, y - 3, MARK_WIDTH, 26), colour)
        # A finding: its span as a strip along the foot of the lane, a diamond at its start.
        drawn = dict.fromkeys((x0, x1, row, m.severity) for m, x0, x1, row in self.finding_pixels())
        for x0, x1, row, severity in drawn:  # once per place and severity
            y = 8 + row * 26
            painter.fillRect(QRect(x0, y + 17, max(x1 - x0, 3), 4), finding_marks.colour(severity))
            finding_marks.diamond(painter, x0, y + 10, severity)
        y = 8 + len(lanes) * 26 + 4
        x = left
        painter.setPen(QPen(palette.text().color()))
        metrics = painter.fontMetrics()
        for ns, label in time_ticks(lo, hi, right - left, self.tz):  # whole steps, dates named
            tick = x_of(ns)
            painter.drawLine(tick, y - 4, tick, y)
            if tick + 3 + metrics.horizontalAdvance(label) <= self.width():
                painter.drawText(QPoint(tick + 3, y + 12), label)
        painter.drawText(QPoint(4, y + 12), f"time ({_zone_name(self.tz)})")
        y += 18
        for state, title in (
            ("verified", "verified"),
            ("untrusted", "untrusted"),
            ("unsealed", "unsealed"),
            ("tampered", "tampered (or outlined)"),
            ("missing", "gap"),
            ("record", "record modified or inserted"),
            ("deleted", "record deleted"),
        ):
            x += 150 if x == left else 0
            if state == "record":
                painter.fillRect(QRect(x + 4, y, MARK_WIDTH, 16), red)
            elif state == "deleted":
                painter.fillRect(QRect(x + 4, y, MARK_WIDTH, 16), MARK_COLOURS["deleted"])
            else:
                painter.fillRect(QRect(x, y + 2, 12, 12), self._brush(state))
            if state == "missing":  # hatched: outlined, or it vanishes on a dark background
                painter.drawRect(QRect(x, y + 2, 11, 11))
            painter.drawText(QPoint(x + 16, y + 13), title)
            x += 16 + painter.fontMetrics().horizontalAdvance(title) + 14
        if self.findings:
            finding_marks.diamond(painter, x + 6, y + 8, "high")
            painter.setPen(QPen(palette.text().color()))
            painter.drawText(QPoint(x + 16, y + 13), "finding (its severity's colour)")


SECOND_NS = 1_000_000_000
# Steps between labelled time ticks, from a second to a week (the axis picks the smallest that
# leaves room for its labels).
TICK_STEPS_S = (1, 5, 15, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)


def time_ticks(
    lo: int, hi: int, width: int, tz: ZoneInfo | None = None, spacing: int = 110
) -> list[tuple[int, str]]:
    """Tick times (ns) and labels across ``lo``..``hi`` drawn ``width`` pixels wide.

    Ticks fall on whole steps of the wall clock in ``tz`` (UTC when None), at least ``spacing``
    pixels apart; a label names the date where the date changes, or on the first tick, and
    only the date when every tick falls on a midnight (steps of whole days).
    """
    if hi <= lo or width <= 0:
        return []
    span_s = (hi - lo) / SECOND_NS
    wanted = span_s * spacing / width
    step = next((s for s in TICK_STEPS_S if s >= wanted), None)
    if step is None:  # more than a week per label: whole weeks
        step = TICK_STEPS_S[-1] * int(-(-wanted // TICK_STEPS_S[-1]))
    zone = tz or UTC
    offset = int(datetime.fromtimestamp(lo // SECOND_NS, zone).utcoffset().total_seconds())
    first = -(-(lo // SECOND_NS + offset) // step) * step - offset  # a whole step on the wall clock
    ticks: list[tuple[int, str]] = []
    last_day = None
    daily = step % 86400 == 0  # every tick at midnight: the clock says nothing
    for t in range(first, hi // SECOND_NS + 1, step):
        moment = datetime.fromtimestamp(t, zone)
        day = moment.date()
        clock = moment.strftime("%H:%M:%S" if step < 60 else "%H:%M")
        if daily:
            # Dates alone: "2019-04-25 00:00" at 110 pixels ran into the next label. Each tick
            # at its date's midnight: whole days of UTC seconds from the first fall at 23:00 or
            # 01:00 after a daylight-saving change, and 23:00 labelled by its date alone would
            # name the day before the one it nearly is.
            midnight = (moment + timedelta(hours=12)).replace(hour=0, minute=0, second=0)
            day, at = midnight.date(), int(midnight.timestamp())
            label = day.isoformat()
        else:
            label = f"{day.isoformat()} {clock}" if day != last_day else clock
            at = t
        last_day = day
        ticks.append((at * SECOND_NS, label))
    return ticks


def paint_ruler(widget: QWidget, caption: str, marks: list[tuple[int, str]]) -> None:
    """Paint a time ruler on ``widget``: ``caption`` at the left, a tick and label per mark (x).

    A label that would be cut off at the right edge is left out (its tick stays).
    """
    painter = QPainter(widget)
    palette = widget.palette()
    painter.fillRect(widget.rect(), palette.window())
    painter.setPen(palette.text().color())
    bottom = widget.height() - 1
    painter.drawText(QPoint(4, bottom - 5), caption)
    metrics = painter.fontMetrics()
    for x, label in marks:
        painter.drawLine(x, bottom - 4, x, bottom)
        if x + 3 + metrics.horizontalAdvance(label) <= widget.width():
            painter.drawText(QPoint(x + 3, bottom - 5), label)


def _zone_name(tz: ZoneInfo | None) -> str:
    return "UTC" if tz is None else tz.key


class TimeAxisWidget(QWidget):
    """A time axis with labelled ticks, aligned with a chart's plot area below it."""

    def __init__(
        self, plot: QWidget, left: int, right_margin: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.plot, self.left, self.right_margin = plot, left, right_margin
        self.lo, self.hi = 0, 0
        self.tz: ZoneInfo | None = None
        self.setFixedHeight(self.fontMetrics().height() + 8)

    def set_span(self, lo: int, hi: int, tz: ZoneInfo | None) -> None:
        """Label ``lo``..``hi`` in ``tz``."""
        self.lo, self.hi, self.tz = lo, hi, tz
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Zone name at the left, then a tick and a label per step."""
        # The plot's own width: it may be narrower than the axis (a scroll bar beside it).
        width = self.plot.width() - self.left - self.right_margin
        marks = []
        if self.hi > self.lo and width > 0:
            for ns, label in time_ticks(self.lo, self.hi, width, self.tz):
                marks.append((self.left + int((ns - self.lo) / (self.hi - self.lo) * width), label))
        paint_ruler(self, f"time ({_zone_name(self.tz)})", marks)


@dataclass(frozen=True)
class Lane:
    """One actor's marks: sessions as spans, actions as ticks, address changes as triangles."""

    actor: str
    sessions: tuple[tuple[int, int], ...]
    actions: tuple[tuple[int, str], ...]
    address_changes: tuple[int, ...]


@dataclass(frozen=True)
class _LanePixels:
    """A lane's marks in pixel columns: merged session spans, ticks, address changes."""

    sessions: list[tuple[int, int]]
    plain: list[int]
    notable: list[int]
    address_changes: list[int]


class ActorSwimlaneWidget(QWidget):
    """One lane per actor on a shared time axis; clicking a lane opens the actor's events there."""

    # Actor, time (ns) under the pointer: a Python int, as for HistogramWidget.range_selected.
    mark_clicked = Signal(str, object)

    LANE = 22
    LABEL = 130

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lanes: list[Lane] = []
        self.message = "no actors"
        self._pixels: dict[int, tuple[int, _LanePixels]] = {}
        self.lo = 0
        self.hi = 1
        self.tz: ZoneInfo | None = None
        self.findings: list[FindingMark] = []  # on the lane of their actor
        self.axis = TimeAxisWidget(self, self.LABEL, 8)

    def set_lanes(self, lanes: list[Lane], message: str = "no actors") -> None:
        """Show these lanes (``message`` when there are none)."""
        self.lanes = lanes
        self.message = message
        self._pixels: dict[int, tuple[int, _LanePixels]] = {}
        # Each lane's marks are in time order: its first and last are its span.
        ends = [t for lane in lanes for t in (lane.actions[:1] + lane.actions[-1:])]
        times = [t for t, _ in ends] + [t for lane in lanes for s in lane.sessions for t in s]
        self.lo, self.hi = (min(times), max(times)) if times else (0, 1)
        self.hi = max(self.hi, self.lo + 1)
        self.setMinimumHeight(8 + self.LANE * max(len(lanes), 1))
        self.axis.set_span(self.lo, self.hi if lanes else self.lo, self.tz)
        self.update()

    def set_findings(self, marks: list[FindingMark]) -> None:
        """Mark these findings on their actors' lanes."""
        self.findings = marks
        self.update()

    def finding_pixels(self) -> list[tuple[FindingMark, int, int]]:
        """Each finding on its actor's lane: mark, pixel column, lane row (as painted)."""
        rows = {lane.actor: row for row, lane in enumerate(self.lanes)}
        return [
            (m, self._x(m.start_ns), rows[m.actor])
            for m in self.findings
            if m.actor in rows and self.lo <= m.start_ns <= self.hi
        ]

    def event(self, event: QEvent) -> bool:
        """A finding's tooltip over its mark."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            pixels = [(m, x, 4 + row * self.LANE + 11) for m, x, row in self.finding_pixels()]
            finding_marks.show_tooltip(self, event, pixels, self.tz)
            return True
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Keep the axis on the lanes' scale."""
        super().resizeEvent(event)
        self.axis.update()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the time axis in ``tz``."""
        self.tz = tz
        self.axis.set_span(self.axis.lo, self.axis.hi, tz)

    def _x(self, ns: int) -> int:
        width = max(self.width() - self.LABEL - 8, 1)
        return self.LABEL + int((ns - self.lo) / (self.hi - self.lo) * width)

    def _lane_pixels(self, row: int) -> _LanePixels:
        # A lane's marks as pixel columns, once per width: at 10^7 events the busiest lanes hold
        # tens of thousands of marks, drawn one by one that was half a second per paint.
        cached = self._pixels.get(row)
        if cached is not None and cached[0] == self.width():
            return cached[1]
        lane = self.lanes[row]
        width = max(self.width() - self.LABEL - 8, 1)
        scale = width / (self.hi - self.lo)

        def x(ns: int) -> int:
            return self.LABEL + int((ns - self.lo) * scale)

        plain = sorted({x(t) for t, a in lane.actions if a not in NOTABLE_ACTIONS})
        notable = sorted({x(t) for t, a in lane.actions if a in NOTABLE_ACTIONS})
        spans: list[tuple[int, int]] = []
        for x0, x1 in sorted((x(a), max(x(b), x(a) + 3)) for a, b in lane.sessions):
            if spans and x0 <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], x1))
            else:
                spans.append((x0, x1))
        pixels = _LanePixels(spans, plain, notable, sorted({x(t) for t in lane.address_changes}))
        self._pixels[row] = (self.width(), pixels)
        return pixels

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Lanes with sessions, action ticks and address changes (the lanes exposed only)."""
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.base())
        if not self.lanes:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        session_colour = QColor(palette.highlight().color())
        session_colour.setAlpha(60)
        # Ticks in a muted text colour and notable actions in red, readable on either palette.
        plain = QColor(palette.text().color())
        plain.setAlpha(150)
        notable = QColor("#ef5350" if palette.base().color().lightness() < 128 else "#c62828")
        first = max((event.rect().top() - 4) // self.LANE, 0)
        last = min((event.rect().bottom() - 4) // self.LANE, len(self.lanes) - 1)
        grid = QColor(palette.text().color())
        grid.setAlpha(40)
        ticks = time_ticks(self.lo, self.hi, self.width() - self.LABEL - 8, self.tz)
        for row in range(first, last + 1):
            lane, marks = self.lanes[row], self._lane_pixels(row)
            y = 4 + row * self.LANE
            if row % 2:
                painter.fillRect(QRect(0, y, self.width(), self.LANE), palette.alternateBase())
            painter.setPen(grid)  # the axis' ticks, carried down through the lanes
            painter.drawLines(
                [QLine(self._x(ns), y, self._x(ns), y + self.LANE) for ns, _ in ticks]
            )
            painter.setPen(palette.text().color())
            painter.drawText(QPoint(4, y + 15), lane.actor)
            for x0, x1 in marks.sessions:
                painter.fillRect(QRect(x0, y + 3, x1 - x0, self.LANE - 6), session_colour)
            for colour, columns in ((plain, marks.plain), (notable, marks.notable)):
                painter.setPen(colour)
                painter.drawLines([QLine(x, y + 5, x, y + self.LANE - 5) for x in columns])
            painter.setPen(QColor("#ef6c00"))
            painter.setBrush(QColor("#ef6c00"))
            for x in marks.address_changes:
                triangle = QPolygon()
                for point in (QPoint(x, y + 2), QPoint(x - 4, y + 9), QPoint(x + 4, y + 9)):
                    triangle.append(point)
                painter.drawPolygon(triangle)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        places = dict.fromkeys((x, r, m.severity) for m, x, r in self.finding_pixels())
        for x, row, severity in places:
            if first <= row <= last:  # once per place and severity, on the lanes exposed
                finding_marks.diamond(painter, x, 4 + row * self.LANE + 11, severity)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Emit the actor and time under the pointer."""
        row = (int(event.position().y()) - 4) // self.LANE
        x = int(event.position().x())
        if 0 <= row < len(self.lanes) and x >= self.LABEL:
            width = max(self.width() - self.LABEL - 8, 1)
            when = self.lo + int((x - self.LABEL) / width * (self.hi - self.lo))
            self.mark_clicked.emit(self.lanes[row].actor, when)
