"""The events view's metric chart: one metric's data points on the histogram's time axis.

The examiner chooses a metric among those the case holds (docs/case.md, "The events view");
its data points are drawn over the same time span as the events histogram above it, pixel for
pixel, and follow it: a range dragged or removed, a filter applied, a time zone chosen. The
points read are those within the histogram's span and the selected range (``[from, to)``).

Invariants:

* Choosing a metric is an examiner action, journaled by ``Examination.chart_metric``; the reads
  that draw it again as the range or zone changes (``Examination.metric_points``) are not
  (they serve the range applied, which is journaled itself).
* Every read runs in a worker (``LatestJob``: a newer read drops an older one's answer); the
  widget holds no SQL and nothing of the case but the points it draws.
* Each series (a data point's attributes other than ``metric.*``) is a line, each point a dot;
  or, as chosen, the series summed per time (the default for a sum, histogram or summary,
  whose counts add up; a gauge's samples do not, and are drawn per series by default).
* A sum, histogram or summary is drawn as steps: a point's value held over the collection
  interval it ends (the shortest time between two points of a series: the events keep the
  point's end only), adjacent intervals joined; a gap is a gap. A gauge is drawn as straight
  lines between its samples.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from auditlens.core.store import metrics, queries
from auditlens.core.store.session import Examination
from auditlens.gui.charts import time_ticks
from auditlens.gui.worker import LatestJob, query_job

# The plot's margins: the histogram's own (charts.HistogramWidget: rect().adjusted(2, 4, -2,
# -18)), so that a time is at the same pixel column in both.
MARGINS = (2, 4, 2, 18)
STEP_TYPES = ("sum", "histogram", "exponentialHistogram", "summary")
LEGEND_SERIES = 5  # series named in the legend; the others counted
CHOOSE = "choose a metric…"
SUMMED = "all series (sum)"
QWIDGETSIZE_MAX = 16_777_215  # Qt's "no maximum" for a widget's size
HEADROOM = 18  # pixels above the highest value: the caption's line


def series_colour(series: str) -> QColor:
    """A stable colour per series."""
    digest = hashlib.sha256(series.encode()).digest()
    return QColor.fromHsv(digest[0] * 360 // 256, 150 + digest[1] % 80, 150 + digest[2] % 70)


def step_interval(by_series: dict[str, list[tuple[int, int, int]]]) -> int:
    """The collection interval: the shortest time between two points of one series (ns).

    A data point of a sum or histogram covers the interval it ends; the events keep its end
    only, so the interval is read from the points: the meters collect at a fixed period, and two
    points of one series never lie closer than that. A single point per series: no width (0).
    """
    gaps = [
        t1 - t0
        for marks in by_series.values()
        for (t0, _x0, _y0), (t1, _x1, _y1) in itertools.pairwise(marks)
        if t1 > t0
    ]
    return min(gaps, default=0)


def series_labels(series: list[str]) -> dict[str, str]:
    """A short label per series: only the attributes whose values differ between them."""
    parsed = {}
    for key in series:
        try:
            value = json.loads(key)
        except ValueError:
            value = {}
        parsed[key] = value if isinstance(value, dict) else {}
    names = sorted({name for attributes in parsed.values() for name in attributes})
    varying = [n for n in names if len({json.dumps(a.get(n)) for a in parsed.values()}) > 1]
    return {
        key: ", ".join(f"{n}={attributes.get(n)}" for n in varying if n in attributes) or "all"
        for key, attributes in parsed.items()
    }


class MetricChartWidget(QWidget):
    """Paints a metric's points over ``lo``..``hi`` (the histogram's span), axis in ``tz``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(110)
        self.points: metrics.MetricPoints | None = None
        self.lo, self.hi = 0, 0
        self.tz: ZoneInfo | None = None
        self.message = CHOOSE
        self.summed = True  # the series summed per time, or each series a line

    def set_summed(self, summed: bool) -> None:
        """Draw the series summed per time (True) or each series as its own line."""
        self.summed = summed
        self.update()

    def drawn_points(self) -> list[metrics.MetricPoint]:
        """The points drawn: as read, or summed per time into one series (those with a value)."""
        if self.points is None:
            return []
        valued = [p for p in self.points.points if p.value is not None]
        if not self.summed:
            return valued
        totals: dict[int, int | float] = {}
        for point in valued:
            assert point.value is not None
            totals[point.time_ns] = totals.get(point.time_ns, 0) + point.value
        return [metrics.MetricPoint(t, v, SUMMED) for t, v in sorted(totals.items())]

    def set_span(self, lo: int, hi: int) -> None:
        """Draw over ``lo``..``hi`` (ns)."""
        self.lo, self.hi = lo, hi
        self.update()

    def set_points(self, points: metrics.MetricPoints | None, message: str = CHOOSE) -> None:
        """Draw ``points`` (None: ``message`` instead)."""
        self.points, self.message = points, message
        self.update()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the axis in ``tz``."""
        self.tz = tz
        self.update()

    def _area(self) -> QRect:
        left, top, right, bottom = MARGINS
        return self.rect().adjusted(left, top, -right, -bottom)

    def _range(self) -> tuple[float, float]:
        values = [p.value for p in self.drawn_points() if p.value is not None]
        low, high = min([0, *values]), max([0, *values])
        return float(low), float(high if high > low else low + 1)

    def point_pixels(self) -> list[tuple[metrics.MetricPoint, int, int]]:
        """Each drawn point (one with a value, within the span) with its pixel, as painted."""
        if self.points is None or self.hi <= self.lo:
            return []
        area = self._area()
        low, high = self._range()
        out = []
        for point in self.drawn_points():
            if point.value is None or not self.lo <= point.time_ns <= self.hi:
                continue
            x = area.left() + int((point.time_ns - self.lo) / (self.hi - self.lo) * area.width())
            # Values below the caption line (HEADROOM): the highest dot is not cut or covered.
            height = area.height() - HEADROOM
            y = area.bottom() - int((point.value - low) / (high - low) * height)
            out.append((point, x, y))
        return out

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        """One line of steps (or segments) per series, a dot per point, the axis and a legend."""
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        pixels = self.point_pixels()
        if not pixels or self.points is None:
            painter.setPen(palette.text().color())
            text = self.message if self.points is None else "no data points in this time range"
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, text)
            return
        area = self._area()
        grid = QColor(palette.text().color())
        grid.setAlpha(40)
        ticks = time_ticks(self.lo, self.hi, max(self.width() - 4, 1), self.tz)
        painter.setPen(grid)
        for ns, _ in ticks:
            x = area.left() + int((ns - self.lo) / (self.hi - self.lo) * area.width())
            painter.drawLine(x, area.top(), x, area.bottom())
        low, high = self._range()
        zero = area.bottom() - int(-low / (high - low) * (area.height() - HEADROOM))
        painter.drawLine(area.left(), zero, area.right(), zero)  # the value 0
        by_series: dict[str, list[tuple[int, int, int]]] = {}
        for point, x, y in pixels:
            by_series.setdefault(point.series, []).append((point.time_ns, x, y))
        steps = self.points.type in STEP_TYPES
        interval = step_interval(by_series) if steps else 0
        scale = area.width() / (self.hi - self.lo)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for series, marks in by_series.items():
            # Summed: the histogram's own colour (one line); each series: a colour of its own.
            colour = palette.highlight().color() if self.summed else series_colour(series)
            painter.setPen(QPen(colour, 1.5))
            for (t0, x0, y0), (t1, x1, y1) in itertools.pairwise(marks):
                if not steps:
                    painter.drawLine(x0, y0, x1, y1)
                elif t1 - t0 == interval:  # adjacent intervals: one continuous step
                    painter.drawLine(x0, y0, x0, y1)
            if steps:  # each value held over the interval its point ends
                for _t, x, y in marks:
                    painter.drawLine(max(x - int(interval * scale), area.left()), y, x, y)
            painter.setBrush(colour)
            for x, y in sorted({(x, y) for _t, x, y in marks}):
                painter.drawEllipse(QPoint(x, y), 2, 2)
            painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_axis(painter, area, ticks)
        if not self.summed:
            self._paint_legend(painter, area, list(by_series))

    def _paint_axis(self, painter: QPainter, area: QRect, ticks: list[tuple[int, str]]) -> None:
        assert self.points is not None
        painter.setPen(self.palette().text().color())
        metrics_ = painter.fontMetrics()
        caption = f"time ({'UTC' if self.tz is None else self.tz.key})"
        painter.drawText(QPoint(area.left(), self.height() - 4), caption)
        skip = area.left() + metrics_.horizontalAdvance(caption) + 8
        for ns, label in ticks:
            x = area.left() + int((ns - self.lo) / (self.hi - self.lo) * area.width())
            painter.drawLine(x, area.bottom() + 1, x, area.bottom() + 4)
            if x + 3 >= skip and x + 3 + metrics_.horizontalAdvance(label) <= self.width():
                painter.drawText(QPoint(x + 3, self.height() - 4), label)
        _low, high = self._range()
        unit = f" {self.points.unit}" if self.points.unit else ""
        shown = f"{high:,.0f}" if high == int(high) else f"{high:,.6g}"
        painter.drawText(
            QPoint(area.left() + 4, area.top() + 12), f"{self.points.metric}: max {shown}{unit}"
        )

    def _paint_legend(self, painter: QPainter, area: QRect, series: list[str]) -> None:
        labels = series_labels(series)
        metrics_ = painter.fontMetrics()
        lines = [(s, labels[s]) for s in series[:LEGEND_SERIES]]
        more = len(series) - len(lines)
        texts = [text for _, text in lines] + ([f"+{more} more series"] if more else [])
        width = max(metrics_.horizontalAdvance(t) for t in texts) + 22
        x = area.right() - width
        y = area.top() + 2
        backdrop = QColor(self.palette().base().color())
        backdrop.setAlpha(210)
        painter.fillRect(QRect(x - 4, y - 2, width + 4, 14 * len(texts) + 4), backdrop)
        painter.setPen(self.palette().text().color())
        for index, text in enumerate(texts):
            if index < len(lines):
                painter.fillRect(
                    QRect(x, y + 14 * index + 3, 12, 8), series_colour(lines[index][0])
                )
            painter.drawText(QPoint(x + 16, y + 14 * index + 11), text)


class MetricChartPanel(QWidget):
    """The metric chooser and the chart; hidden while the case holds no metric.

    ``follow`` is called with each histogram the events view draws; ``drawn`` is emitted when
    the points of the chosen metric for the current span have been read and drawn.
    """

    drawn = Signal()
    names_read = Signal()  # the metrics the case holds were read (and offered)

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.reader = LatestJob()
        self.names_reader = LatestJob()
        self.metric: str | None = None
        self.span: tuple[int, int] | None = None  # the histogram's
        self.time_range: tuple[int | None, int | None] = (None, None)
        self.tz: ZoneInfo | None = None
        self.points: metrics.MetricPoints | None = None
        self._defaulted_for: str | None = None  # the metric the series mode was last set for
        # The metrics offered are read with the first histogram drawn, and again after an
        # import: a scan of the events' kinds, not made before the events view is shown.
        self.names_stale = True
        self.chooser = QComboBox()
        self.chooser.setMinimumContentsLength(28)
        self.chooser.setToolTip("Chart a metric's data points over the histogram's time range")
        self.chooser.activated.connect(self._chosen)
        self.series = QComboBox()
        self.series.addItem(SUMMED, True)
        self.series.addItem("each series", False)
        self.series.setToolTip(
            "Sum the series per time (counts add up), or draw each series (attributes) apart"
        )
        self.series.activated.connect(self._series_chosen)
        self.status = QLabel()
        self.chart = MetricChartWidget()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Metric:"))
        bar.addWidget(self.chooser)
        bar.addWidget(self.series)
        bar.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.chart, 1)
        self.hide()  # until the case is found to hold a metric
        self._collapse()

    # -- the metrics offered -------------------------------------------------------------------

    def invalidate_names(self) -> None:
        """The case changed (an import): read the metrics it holds with the next histogram."""
        self.names_stale = True

    def refresh_names(self) -> None:
        """Read the metrics the case holds, in a worker."""
        self.names_stale = False
        if not self.session.closed:
            self.names_reader.start(
                query_job(self.session, lambda reader: reader.metric_names()),
                self._names_read,
                self._failed,
            )

    def _names_read(self, names: list[metrics.MetricName]) -> None:
        self.chooser.clear()
        self.chooser.addItem(CHOOSE, None)
        for found in names:
            self.chooser.addItem(f"{found.name}  ({found.points:,} points)", found.name)
        if self.metric is not None:
            at = self.chooser.findData(self.metric)
            if at >= 0:
                self.chooser.setCurrentIndex(at)
            else:
                self.metric = None
                self.chart.set_points(None)
                self._collapse()
        self.setVisible(bool(names))
        self._collapse()
        self.names_read.emit()

    def metric_names(self) -> list[str]:
        """The metrics offered, in order."""
        return [self.chooser.itemData(i) for i in range(1, self.chooser.count())]

    # -- choosing and following ------------------------------------------------------------------

    def choose(self, name: str | None) -> None:
        """Chart ``name`` (the examiner chose it: journaled); None clears the chart."""
        at = self.chooser.findData(name) if name is not None else 0
        self.chooser.setCurrentIndex(max(at, 0))
        self.metric = name if at > 0 else None
        self._collapse()
        self._read(journal=True)

    def _collapse(self) -> None:
        """Without a metric chosen, only the chooser's line: the table keeps the room."""
        self.chart.setVisible(self.metric is not None)
        bar = self.chooser.sizeHint().height()
        self.setMaximumHeight(QWIDGETSIZE_MAX if self.metric is not None else bar)
        # In the events view's splitter the room given or taken is the next pane's (the table):
        # a splitter keeps a pane's size when its maximum shrinks, leaving a gap.
        splitter = self.parentWidget()
        if isinstance(splitter, QSplitter) and self.isVisible():
            sizes = splitter.sizes()
            at = splitter.indexOf(self)
            wanted = bar + (self.chart.minimumHeight() + 30 if self.metric is not None else 0)
            if 0 <= at < len(sizes) - 1:
                sizes[at + 1] += sizes[at] - wanted
                sizes[at] = wanted
                splitter.setSizes(sizes)

    def _chosen(self, index: int) -> None:
        self.choose(self.chooser.itemData(index))

    def set_summed(self, summed: bool) -> None:
        """Draw the series summed per time, or each apart (a way of drawing: not journaled)."""
        self.series.setCurrentIndex(0 if summed else 1)
        self.chart.set_summed(summed)

    def _series_chosen(self, index: int) -> None:
        self.set_summed(bool(self.series.itemData(index)))

    def follow(
        self,
        span: tuple[int, int] | None,
        time_range: tuple[int | None, int | None],
        tz: ZoneInfo | None,
    ) -> None:
        """Draw over the histogram's ``span`` within the selected ``time_range``, axis in ``tz``.

        ``span`` None: the histogram is empty (no event matches), and so is the chart.
        """
        self.span, self.time_range = span, time_range
        self.set_time_zone(tz)
        if self.names_stale:
            self.refresh_names()
        self._read(journal=False)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the axis in ``tz`` (the points are the same instants)."""
        self.tz = tz
        self.chart.set_time_zone(tz)
        self._say()

    def read_range(self) -> tuple[int, int] | None:
        """The ``[from, to)`` the points are read for: the histogram's span within the range."""
        if self.span is None:
            return None
        lo, hi = self.span
        start, end = self.time_range
        read_from = lo if start is None else max(lo, start)
        read_to = hi if end is None else min(hi, end)
        return (read_from, read_to) if read_to > read_from else None

    def _read(self, *, journal: bool) -> None:
        if self.span is not None:
            self.chart.set_span(*self.span)
        wanted = self.read_range()
        if self.metric is None or wanted is None or self.session.closed:
            self.reader.stop()
            self.points = None
            message = CHOOSE if self.metric is None else "no events in this time range"
            self.chart.set_points(None, message)
            self._say()
            if self.metric is not None:
                self.drawn.emit()
            return
        name, tz = self.metric, self.tz
        if journal:

            def read(reader: Examination) -> metrics.MetricPoints:
                return reader.chart_metric(name, *wanted, tz=tz)

        else:

            def read(reader: Examination) -> metrics.MetricPoints:
                return reader.metric_points(name, *wanted)

        self.status.setText(f"reading {name}…")
        self.reader.start(query_job(self.session, read), self._points_read, self._failed)

    def _points_read(self, points: metrics.MetricPoints) -> None:
        if self._defaulted_for != points.metric:
            # A new metric: its series summed when its counts add up, a gauge's apart.
            self._defaulted_for = points.metric
            self.set_summed(points.type in STEP_TYPES)
        self.points = points
        self.chart.set_points(points)
        self._say()
        self.drawn.emit()

    def _failed(self, message: str) -> None:
        self.status.setText(f"cannot read the metric: {message}")

    def _say(self) -> None:
        points = self.points
        if points is None:
            self.status.setText("")
            return
        shown = (
            f"{len(points.points):,} of {points.count:,}"
            if points.truncated
            else (f"{points.count:,}")
        )
        self.status.setText(
            f"{shown} data point(s), {_short(points.time_from_ns, self.tz)} → "
            f"{_short(points.time_to_ns, self.tz)}"
        )

    def stop_background(self) -> None:
        """Stop reading (the case is closing)."""
        self.reader.stop(wait=True)
        self.names_reader.stop(wait=True)


def _short(ns: int | None, tz: ZoneInfo | None) -> str:
    """A time to the second with its offset (``2026-03-02 09:15:00+01:00``)."""
    full = queries.format_time(ns, tz)
    return "…" if full is None else full[:10] + " " + full[11:19] + full[29:]


def histogram_span(buckets: list[tuple[Any, int]], bucket_ns: int) -> tuple[int, int] | None:
    """The time span the events histogram draws (charts.HistogramWidget): None when empty."""
    starts = [b for b, _ in buckets if b is not None]
    if not starts:
        return None
    return starts[0], starts[-1] + bucket_ns
