"""The trace waterfall: spans as bars on a time axis, nested by parent, coloured by service.

Paints only the rows in view (a QAbstractScrollArea whose scroll range is rows x row height), so a
trace of 100,000 spans opens and pans without freezing. The logs of each span are ticks on its
bar, and the metric exemplars naming it diamonds at their own times (docs/case.md, Metrics): a
click on one activates it. Ctrl+wheel zooms the time axis around the pointer; dragging pans it.
A ruler above the rows labels the time since the trace began.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPolygon,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from auditlens.core.store.queries import Exemplar, SpanNode, Trace
from auditlens.gui.charts import paint_ruler

ROW_HEIGHT = 20
LABEL_WIDTH = 320
RULER_HEIGHT = 22
EXEMPLAR_COLOUR = QColor("#ef6c00")  # apart from every service's bar colour (saturated orange)
EXEMPLAR_RADIUS = 5  # pixels: a diamond this far from its centre, and as far to click it
UNITS = ((1_000_000_000, "s"), (1_000_000, "ms"), (1_000, "µs"), (1, "ns"))


def offset_ticks(
    view_start: int, view_end: int, origin: int, width: int, spacing: int = 90
) -> list[tuple[int, str]]:
    """Ticks (ns) and labels ("+250 ms") across the view, measured from ``origin``.

    The step is the smallest 1, 2 or 5 times a power of ten nanoseconds that puts the ticks at
    least ``spacing`` pixels apart across ``width``; ticks fall on whole steps from the origin.
    """
    if view_end <= view_start or width <= 0:
        return []
    wanted = (view_end - view_start) * spacing / width
    steps = (m * 10**e for e in range(19) for m in (1, 2, 5))
    step = next((candidate for candidate in steps if candidate >= wanted), 5 * 10**18)
    unit, name = next((u, n) for u, n in UNITS if step >= u)
    first = origin + -(-(view_start - origin) // step) * step
    ticks = []
    for ns in range(first, view_end + 1, step):
        value = (ns - origin) / unit
        text = f"{value:.0f}" if step % unit == 0 else f"{value:g}"
        ticks.append((ns, f"+{text} {name}" if ns >= origin else f"{text} {name}"))
    return ticks


class _Ruler(QWidget):
    """The waterfall's time ruler: offsets from the trace's start over the visible time span."""

    def __init__(self, view: TraceWaterfallView) -> None:
        super().__init__(view)
        self.view = view

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """A tick and its offset per step, aligned with the bars below."""
        marks = [(self.view.x_of(ns), label) for ns, label in self.view.ticks()]
        paint_ruler(self, "time since the trace began", marks)


@dataclass(frozen=True)
class WaterfallRow:
    """One span in display order, with its logs' times and the exemplars naming it."""

    span: dict[str, Any]
    depth: int
    log_times: tuple[int, ...]
    missing_parent: bool
    exemplars: tuple[Exemplar, ...] = ()


def trace_summary(trace: Trace) -> str:
    """The trace view's line over the waterfall: each kind of the trace counted on its own.

    Logs and metric exemplars are counted apart (docs/case.md, Traces): a data point is no log.
    """
    return (
        f"trace {trace.trace_id}: {trace.span_count} span(s), {trace.log_count} log(s) "
        f"({len(trace.orphan_logs)} orphan), {len(trace.missing_parents)} missing parent(s), "
        f"{len(trace.exemplars)} metric exemplar(s) from {len(trace.points)} data point(s) "
        f"({len(trace.orphan_exemplars)} naming a span not in the case)."
    )


def flatten(trace: Trace) -> list[WaterfallRow]:
    """Depth-first rows of the span tree, children in start order (iterative: any depth)."""
    rows: list[WaterfallRow] = []
    stack: list[tuple[SpanNode, int]] = [
        (root, 0)
        for root in sorted(trace.roots, key=lambda n: n.span.get("time_ns") or 0, reverse=True)
    ]
    while stack:
        node, depth = stack.pop()
        rows.append(
            WaterfallRow(
                node.span,
                depth,
                tuple(sorted(int(log["time_ns"]) for log in node.logs if log.get("time_ns"))),
                node.missing_parent,
                tuple(node.exemplars),
            )
        )
        for child in sorted(node.children, key=lambda n: n.span.get("time_ns") or 0, reverse=True):
            stack.append((child, depth + 1))
    return rows


def service_colour(service: str | None) -> QColor:
    """A stable colour per service name."""
    digest = hashlib.sha256((service or "").encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 140 + digest[1] % 80, 170 + digest[2] % 60)


class TraceWaterfallView(QAbstractScrollArea):
    """Draws the visible part of a trace's waterfall."""

    span_selected = Signal(object)  # the span's event dict
    exemplar_activated = Signal(object)  # a queries.Exemplar clicked on its span's bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[WaterfallRow] = []
        self.start_ns = 0
        self.end_ns = 1
        self.view_start = 0
        self.view_end = 1
        self.selected = -1
        self.active_exemplar: Exemplar | None = None  # drawn ringed
        self._drag: tuple[int, int, int] | None = None
        self.viewport().setMouseTracking(True)
        self.setMinimumHeight(200)
        self.setViewportMargins(0, RULER_HEIGHT, 0, 0)
        self.ruler = _Ruler(self)

    def ticks(self) -> list[tuple[int, str]]:
        """The ruler's ticks over the visible time span, from the trace's start."""
        if not self.rows:
            return []
        width = max(self.viewport().width() - LABEL_WIDTH - 8, 1)
        return offset_ticks(self.view_start, self.view_end, self.start_ns, width)

    def x_of(self, ns: int) -> int:
        """The pixel column of time ``ns`` (in the viewport's and the ruler's coordinates)."""
        return self._x(ns)

    def _repaint(self) -> None:
        self.viewport().update()
        self.ruler.update()

    def set_trace(self, trace: Trace | None) -> None:
        """Show ``trace`` (or nothing)."""
        self.rows = flatten(trace) if trace is not None else []
        starts = [r.span.get("time_ns") or 0 for r in self.rows]
        ends = [(r.span.get("time_ns") or 0) + (r.span.get("duration_ns") or 0) for r in self.rows]
        self.start_ns = min(starts) if starts else 0
        self.end_ns = max(max(ends) if ends else 1, self.start_ns + 1)
        self.view_start, self.view_end = self.start_ns, self.end_ns
        self.selected = -1
        self.active_exemplar = None
        self._update_scrollbar()
        self._repaint()

    def select(self, row: int) -> None:
        """Select the span of ``row`` (and report it)."""
        if 0 <= row < len(self.rows):
            self.selected = row
            self.active_exemplar = None
            self.span_selected.emit(self.rows[row].span)
            self._repaint()

    def row_of(self, span_id: str | None) -> int:
        """The row of the span ``span_id`` (-1 when it is not drawn)."""
        for index, row in enumerate(self.rows):
            if span_id and row.span.get("span_id") == span_id:
                return index
        return -1

    def show_exemplar(self, exemplar: Exemplar) -> None:
        """Ring ``exemplar`` and select (quietly) the span it names, scrolled into view."""
        self.active_exemplar = exemplar
        row = self.row_of(exemplar.span_id)
        if row >= 0:
            self.selected = row
            bar = self.verticalScrollBar()
            if not bar.value() <= row < bar.value() + bar.pageStep():
                bar.setValue(max(row - bar.pageStep() // 2, 0))
        self._repaint()

    def exemplar_markers(self) -> list[tuple[Exemplar, int, int]]:
        """Each exemplar of the visible rows with its pixel column and row, as painted."""
        first = self.verticalScrollBar().value()
        count = self.viewport().height() // ROW_HEIGHT + 1
        out = []
        for index, row in enumerate(self.rows[first : first + count], start=first):
            for exemplar in row.exemplars:
                if exemplar.time_ns is not None:
                    x = self._x(exemplar.time_ns)
                    if LABEL_WIDTH <= x <= self.viewport().width():
                        out.append((exemplar, x, index))
        return out

    def _update_scrollbar(self) -> None:
        bar = self.verticalScrollBar()
        visible = max(self.viewport().height() // ROW_HEIGHT, 1)
        bar.setRange(0, max(len(self.rows) - visible, 0))
        bar.setPageStep(visible)
        bar.setSingleStep(1)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        """Keep the scroll range in step with the height, and the ruler above the rows."""
        super().resizeEvent(event)
        self._update_scrollbar()
        area = self.viewport().geometry()
        self.ruler.setGeometry(
            QRect(area.left(), area.top() - RULER_HEIGHT, area.width(), RULER_HEIGHT)
        )

    def _x(self, ns: int) -> int:
        width = max(self.viewport().width() - LABEL_WIDTH - 8, 1)
        span = max(self.view_end - self.view_start, 1)
        return LABEL_WIDTH + int((ns - self.view_start) / span * width)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """Only the rows between the scroll position and the bottom edge are drawn."""
        painter = QPainter(self.viewport())
        palette = self.palette()
        painter.fillRect(self.viewport().rect(), palette.base())
        if not self.rows:
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, "select a trace")
            return
        grid = QColor(palette.text().color())
        grid.setAlpha(40)
        painter.setPen(grid)  # the ruler's ticks, carried down through the rows
        for ns, _ in self.ticks():
            x = self._x(ns)
            if x >= LABEL_WIDTH:
                painter.drawLine(x, 0, x, self.viewport().height())
        first = self.verticalScrollBar().value()
        count = self.viewport().height() // ROW_HEIGHT + 1
        metrics = painter.fontMetrics()
        for offset, row in enumerate(self.rows[first : first + count]):
            index = first + offset
            y = offset * ROW_HEIGHT
            if index == self.selected:
                painter.fillRect(
                    QRect(0, y, self.viewport().width(), ROW_HEIGHT), palette.highlight()
                )
            span = row.span
            label = f"{span.get('service') or '?'}: {span.get('name') or ''}"
            if row.missing_parent:
                label = "⚠ " + label
            painter.setPen(palette.text().color())
            text = metrics.elidedText(
                label, Qt.TextElideMode.ElideRight, LABEL_WIDTH - 8 - row.depth * 12
            )
            painter.drawText(QPoint(4 + row.depth * 12, y + ROW_HEIGHT - 6), text)
            start = span.get("time_ns") or 0
            x0 = self._x(start)
            x1 = max(self._x(start + (span.get("duration_ns") or 0)), x0 + 2)
            x0, x1 = max(x0, LABEL_WIDTH), min(x1, self.viewport().width())
            if x1 > x0:
                painter.fillRect(
                    QRect(x0, y + 3, x1 - x0, ROW_HEIGHT - 6), service_colour(span.get("service"))
                )
            painter.setPen(palette.text().color())  # log marks: visible on either palette
            for log_time in row.log_times:
                x = self._x(log_time)
                if LABEL_WIDTH <= x <= self.viewport().width():
                    painter.drawLine(x, y + 2, x, y + ROW_HEIGHT - 2)
        self._paint_exemplars(painter, first)
        painter.setPen(palette.mid().color())
        painter.drawLine(LABEL_WIDTH - 2, 0, LABEL_WIDTH - 2, self.viewport().height())

    def _paint_exemplars(self, painter: QPainter, first: int) -> None:
        """A diamond per exemplar at its time on its span's row; the active one ringed."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        outline = self.palette().base().color()  # apart from the bar beneath it
        r = EXEMPLAR_RADIUS
        for exemplar, x, index in self.exemplar_markers():
            y = (index - first) * ROW_HEIGHT + ROW_HEIGHT // 2
            diamond = QPolygon(
                [QPoint(x, y - r), QPoint(x + r, y), QPoint(x, y + r), QPoint(x - r, y)]
            )
            painter.setPen(outline)
            painter.setBrush(EXEMPLAR_COLOUR)
            painter.drawPolygon(diamond)
            if exemplar is self.active_exemplar:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(self.palette().text().color())
                painter.drawEllipse(QPoint(x, y), r + 3, r + 3)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def exemplar_at(self, x: int, row: int) -> Exemplar | None:
        """The exemplar drawn nearest ``x`` on ``row``, within its radius (None: none there)."""
        near = [
            (abs(mx - x), exemplar)
            for exemplar, mx, index in self.exemplar_markers()
            if index == row and abs(mx - x) <= EXEMPLAR_RADIUS
        ]
        return min(near, key=lambda item: item[0])[1] if near else None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        """Ctrl+wheel zooms the time axis around the pointer; the wheel alone scrolls rows."""
        if not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(event)
            return
        x = event.position().x()
        width = max(self.viewport().width() - LABEL_WIDTH - 8, 1)
        anchor = self.view_start + (max(x - LABEL_WIDTH, 0) / width) * (
            self.view_end - self.view_start
        )
        factor = 0.8 if event.angleDelta().y() > 0 else 1.25
        self.view_start = int(anchor - (anchor - self.view_start) * factor)
        self.view_end = max(int(anchor + (self.view_end - anchor) * factor), self.view_start + 1000)
        self._repaint()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Select the span (or activate the exemplar) under the pointer; start a pan."""
        row = self.verticalScrollBar().value() + int(event.position().y()) // ROW_HEIGHT
        exemplar = self.exemplar_at(int(event.position().x()), row)
        if exemplar is not None:
            self.show_exemplar(exemplar)
            self.exemplar_activated.emit(exemplar)
        else:
            self.select(row)
        self._drag = (int(event.position().x()), self.view_start, self.view_end)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """Pan the time axis while dragging."""
        if self._drag is None or not event.buttons():
            return
        x0, start, end = self._drag
        width = max(self.viewport().width() - LABEL_WIDTH - 8, 1)
        shift = int((int(event.position().x()) - x0) / width * (end - start))
        self.view_start, self.view_end = start - shift, end - shift
        self._repaint()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        """End a pan."""
        self._drag = None

    def reset_zoom(self) -> None:
        """Show the whole trace."""
        self.view_start, self.view_end = self.start_ns, self.end_ns
        self._repaint()
