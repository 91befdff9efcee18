"""Findings of the analysis as marks on the charts: the histogram, the actor lanes, the map.

A mark is drawn at the time of a finding's first event, in the colour of its severity; the
pointer resting on it shows the findings there (rule, title, time). The charts get the marks
from the findings view (the stored findings of the last detection run, docs/detections.md) and
draw them over what they already show; nothing here reads the case.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPen, QPolygon
from PySide6.QtWidgets import QToolTip, QWidget

from auditlens.core.analysis.findings import SEVERITIES, Finding, severity_rank
from auditlens.core.store import queries

# One hue per severity, readable on the light and the dark palette alike, and none the colour of
# what the marks are drawn over: the histogram's bars are the palette's highlight blue, the
# integrity map's lanes the verdicts' green, yellow, grey and red (charts.VERDICT_COLOURS).
SEVERITY_COLOURS = {
    "informational": QColor("#90a4ae"),
    "low": QColor("#8e6fd0"),
    "medium": QColor("#fb8c00"),
    "high": QColor("#e53935"),
    "critical": QColor("#ec407a"),
}
NEAR_PX = 5  # how close the pointer must be to a mark for its tooltip


@dataclass(frozen=True)
class FindingMark:
    """One finding as the charts draw it."""

    start_ns: int
    end_ns: int
    severity: str
    rule: str
    title: str
    actor: str | None
    streams: tuple[str, ...]
    finding: Finding | None = field(default=None, compare=False, repr=False)  # what it marks


def marks_of(findings: Iterable[Finding]) -> list[FindingMark]:
    """The marks of ``findings``, least severe first (the worst are painted last, on top)."""
    marks = [
        FindingMark(
            f.time_first_ns,
            f.time_last_ns,
            f.severity,
            f.rule,
            f.title,
            f.actor_id,
            tuple(sorted({e.stream_id for e in f.events})),
            f,
        )
        for f in findings
    ]
    return sorted(marks, key=lambda m: (severity_rank(m.severity), m.start_ns))


def colour(severity: str) -> QColor:
    """The colour of ``severity``."""
    return SEVERITY_COLOURS.get(severity, SEVERITY_COLOURS["informational"])


def tooltip(marks: list[FindingMark], tz: ZoneInfo | None) -> str:
    """Rich text naming the findings ``marks`` (worst first), for a mark's tooltip."""
    lines = [
        f"<span style='color:{colour(m.severity).name()}'><b>{html.escape(m.severity)}</b></span>"
        f" {html.escape(m.title)} <i>({html.escape(m.rule)})</i><br>"
        f"&nbsp;&nbsp;{html.escape(queries.format_time(m.start_ns, tz) or '')}"
        + (f", {html.escape(m.actor)}" if m.actor else "")
        for m in sorted(marks, key=lambda m: -severity_rank(m.severity))[:12]
    ]
    more = len(marks) - 12
    return "<br>".join(lines) + (f"<br>and {more} more" if more > 0 else "")


def first_of(marks: list[FindingMark]) -> FindingMark:
    """The mark a click on several opens: the worst, then the earliest."""
    return min(marks, key=lambda m: (-severity_rank(m.severity), m.start_ns, m.rule))


def near(pixels: list[tuple[FindingMark, int, int]], x: int, y: int) -> list[FindingMark]:
    """The marks drawn within :data:`NEAR_PX` of ``(x, y)`` (pixels: mark, x, row centre y)."""
    return [m for m, mx, my in pixels if abs(mx - x) <= NEAR_PX and abs(my - y) <= 12]


def show_tooltip(
    widget: QWidget,
    event: QHelpEvent,
    pixels: list[tuple[FindingMark, int, int]],
    tz: ZoneInfo | None,
) -> None:
    """Show over ``widget`` the findings drawn near ``event``'s pointer, else hide any tooltip.

    ``pixels`` as :func:`near` takes them (mark, x, row centre y). With no mark there, a
    tooltip still shown is hidden, so it never names findings away from the pointer.
    """
    found = near(pixels, event.pos().x(), event.pos().y())
    if found:
        QToolTip.showText(event.globalPos(), tooltip(found, tz), widget)
        return
    QToolTip.hideText()
    event.ignore()


def flag(painter: QPainter, x: int, top: int, bottom: int, severity: str) -> None:
    """A finding on a time axis: a line from ``top`` to ``bottom`` under a triangle."""
    ink = colour(severity)
    line = QColor(ink)
    line.setAlpha(170)
    painter.setPen(QPen(line, 1))
    painter.drawLine(x, top + 6, x, bottom)
    triangle = QPolygon([QPoint(x - 5, top), QPoint(x + 5, top), QPoint(x, top + 7)])
    painter.setPen(QPen(ink.darker(130), 1))
    painter.setBrush(ink)
    painter.drawPolygon(triangle)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def diamond(painter: QPainter, x: int, y: int, severity: str) -> None:
    """A finding on a lane: a diamond centred at ``(x, y)``."""
    ink = colour(severity)
    shape = QPolygon([QPoint(x, y - 6), QPoint(x + 5, y), QPoint(x, y + 6), QPoint(x - 5, y)])
    painter.setPen(QPen(ink.darker(140), 1))
    painter.setBrush(ink)
    painter.drawPolygon(shape)
    painter.setBrush(Qt.BrushStyle.NoBrush)


def legend(painter: QPainter, right: int, top: int, background: QColor, text: QColor) -> None:
    """``findings:`` and each severity in its colour, ending at ``right`` (worst first)."""
    metrics = painter.fontMetrics()
    words = [("findings:", None), *((s, SEVERITY_COLOURS[s]) for s in reversed(SEVERITIES))]
    width = sum(metrics.horizontalAdvance(w) + 8 for w, _ in words)
    x = right - width
    shade = QColor(background)
    shade.setAlpha(210)
    painter.fillRect(x - 4, top, width + 4, metrics.height() + 2, shade)
    for word, ink in words:
        painter.setPen(ink if ink is not None else text)
        painter.drawText(QPoint(x, top + metrics.ascent()), word)
        x += metrics.horizontalAdvance(word) + 8
