"""Painted charts: the event histogram (drag to select a time range) and the integrity map.

Both draw only what is visible from a handful of numbers the views hand them, so they stay fast
whatever the case holds.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QLine, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygon
from PySide6.QtWidgets import QWidget

from auditlens.core.store.lanes import NOTABLE_ACTIONS
from auditlens.core.store.queries import format_time

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

    range_selected = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(90)
        self.buckets: list[tuple[int, int]] = []
        self.bucket_ns = 60_000_000_000
        self._drag: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setToolTip("Drag to show only that time range")

    def set_data(self, buckets: list[tuple[int, int]], bucket_ns: int) -> None:
        """Show ``(bucket start ns, count)`` pairs."""
        self.buckets = [(b, c) for b, c in buckets if b is not None]
        self.bucket_ns = bucket_ns
        self.update()

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
        area = self.rect().adjusted(2, 4, -2, -18)
        colour = palette.highlight().color()
        for start, count in self.buckets:
            x0 = area.left() + int((start - lo) / (hi - lo) * area.width())
            x1 = area.left() + int((start + self.bucket_ns - lo) / (hi - lo) * area.width())
            height = int(count / top * area.height())
            painter.fillRect(QRect(x0, area.bottom() - height, max(x1 - x0, 1), height), colour)
        painter.setPen(palette.text().color())
        painter.drawText(QPoint(area.left(), self.height() - 4), (format_time(lo) or "")[:19] + "Z")
        right = (format_time(hi) or "")[:19] + "Z"
        painter.drawText(
            QPoint(
                area.right() - painter.fontMetrics().horizontalAdvance(right), self.height() - 4
            ),
            right,
        )
        painter.drawText(QPoint(area.left() + 4, area.top() + 12), f"max {top:,} per bucket")
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


@dataclass(frozen=True)
class Stretch:
    """One stretch of a stream on the time axis."""

    lane: str
    start_ns: int
    end_ns: int
    state: str  # verified, untrusted, unsealed, tampered, invalid, missing
    label: str


class IntegrityMapWidget(QWidget):
    """One lane per stream: bundles and raw inputs as bars coloured by verdict, gaps in black."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stretches: list[Stretch] = []
        self.setMinimumHeight(120)

    def set_stretches(self, stretches: list[Stretch]) -> None:
        """Show these stretches."""
        self.stretches = stretches
        lanes = {s.lane for s in stretches}
        self.setMinimumHeight(58 + 26 * max(len(lanes), 1))
        self.update()

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
        lanes = sorted({s.lane for s in self.stretches})
        lo = min(s.start_ns for s in self.stretches)
        hi = max(s.end_ns for s in self.stretches)
        hi = hi if hi > lo else lo + 1
        label_width = max(painter.fontMetrics().horizontalAdvance(lane) for lane in lanes) + 12
        left, right = label_width, self.width() - 8
        painter.setPen(palette.text().color())
        for row, lane in enumerate(lanes):
            y = 8 + row * 26
            painter.drawText(QPoint(4, y + 15), lane)
            for s in (s for s in self.stretches if s.lane == lane):
                x0 = left + int((s.start_ns - lo) / (hi - lo) * (right - left))
                x1 = left + int((s.end_ns - lo) / (hi - lo) * (right - left))
                painter.fillRect(QRect(x0, y, max(x1 - x0, 2), 20), self._brush(s.state))
        y = 8 + len(lanes) * 26 + 4
        x = left
        painter.setPen(QPen(palette.text().color()))
        painter.drawText(QPoint(left, y + 12), (format_time(lo) or "")[:16] + "Z")
        end = (format_time(hi) or "")[:16] + "Z"
        painter.drawText(QPoint(right - painter.fontMetrics().horizontalAdvance(end), y + 12), end)
        y += 18
        for state in ("verified", "untrusted", "unsealed", "tampered", "missing"):
            x += 150 if x == left else 0
            painter.fillRect(QRect(x, y + 2, 12, 12), self._brush(state))
            if state == "missing":  # hatched: outlined, or it vanishes on a dark background
                painter.drawRect(QRect(x, y + 2, 11, 11))
            painter.drawText(QPoint(x + 16, y + 13), state)
            x += 16 + painter.fontMetrics().horizontalAdvance(state) + 14


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

    mark_clicked = Signal(str, int)  # actor, time (ns) under the pointer

    LANE = 22
    LABEL = 130

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lanes: list[Lane] = []
        self.message = "no actors"
        self._pixels: dict[int, tuple[int, _LanePixels]] = {}
        self.lo = 0
        self.hi = 1

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
        self.setMinimumHeight(24 + self.LANE * max(len(lanes), 1))
        self.update()

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
        for row in range(first, last + 1):
            lane, marks = self.lanes[row], self._lane_pixels(row)
            y = 4 + row * self.LANE
            if row % 2:
                painter.fillRect(QRect(0, y, self.width(), self.LANE), palette.alternateBase())
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
        painter.setPen(palette.text().color())
        y = 4 + len(self.lanes) * self.LANE + 14
        painter.drawText(QPoint(self.LABEL, y), (format_time(self.lo) or "")[:16] + "Z")
        end = (format_time(self.hi) or "")[:16] + "Z"
        painter.drawText(
            QPoint(self.width() - 8 - painter.fontMetrics().horizontalAdvance(end), y), end
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Emit the actor and time under the pointer."""
        row = (int(event.position().y()) - 4) // self.LANE
        x = int(event.position().x())
        if 0 <= row < len(self.lanes) and x >= self.LABEL:
            width = max(self.width() - self.LABEL - 8, 1)
            when = self.lo + int((x - self.LABEL) / width * (self.hi - self.lo))
            self.mark_clicked.emit(self.lanes[row].actor, when)
