"""The main window's views: integrity, events (with filter bar, histogram, detail) and actors."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QSplitter,
    QTableView,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditlens.core.errors import Error, QuerySyntaxError
from auditlens.core.query import phrase, record_filter
from auditlens.core.query import value_text as quote_value
from auditlens.core.schema import FIELDS
from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.core.words import counted
from auditlens.gui.charts import HistogramWidget, IntegrityMapWidget, Mark, Stretch
from auditlens.gui.filter_bar import FilterBar
from auditlens.gui.metric_chart import MetricChartPanel, histogram_span
from auditlens.gui.models import (
    EVENT_COLUMNS,
    INTEGRITY_COLOURS,
    EventTableModel,
    RowsModel,
    status_colour,
)
from auditlens.gui.worker import JobWorker, LatestJob, query_job

# Rows a table looks at to size its columns to their contents: every row costs seconds on a
# table of thousands of bundles (bench/bench_gui.py: 0.2 s of the first window and the import).
RESIZE_PRECISION = 200
LANE_BUCKETS = 1000  # swimlane ticks per lane: about one per pixel column at the window's width


def read_traces(
    reader: Examination, query: queries.EventQuery, tz: ZoneInfo | None
) -> tuple[list[dict[str, Any]], queries.Trace | None]:
    """The trace list of ``query`` ready to show, and its first trace (run in a worker)."""
    rows = reader.trace_list(query)
    for row in rows:
        row["start"] = queries.format_time(row["start_ns"], tz)
        row["duration_ms"] = f"{(row['duration_ns'] or 0) / 1e6:,.1f}"
    return rows, (reader.trace(rows[0]["trace_id"], via="first listed") if rows else None)


def field_words() -> list[str]:
    """The filter's field names, offered before any value is known."""
    return [f.name for f in FIELDS if f.filterable] + ["time", "duration", "actor", "ip"]


def completion_words(reader: Examination) -> list[str]:
    """``field:value`` words for values seen in the case (run off the GUI thread)."""
    return [f"{field}:{quote_value(value)}" for field, value in reader.completion_values()]


AROUND = 10  # records shown either side of a gap or a deleted record
RECORD_CODES = ("RECORD_MODIFIED", "RECORD_INSERTED", "RECORDS_REORDERED", "DUPLICATE_RECORD")
ENVELOPE_FILES = ("manifest.json", "manifest.dsse.json", "leaves.bin", "checkpoints.json")


@dataclass(frozen=True)
class Place:
    """Where the events view goes for a finding: a filter, and what it came from (journaled)."""

    filter: str
    pivot: dict[str, str]


@dataclass(frozen=True)
class ViewState:
    """What the events view showed: the filter text and the time range (Back and Forward)."""

    text: str
    time_range: tuple[int | None, int | None]


def short_time(ns: int, tz: ZoneInfo | None) -> str:
    """A time to the second with its offset (``2026-03-02 09:15:00+01:00``), for labels."""
    full = queries.format_time(ns, tz) or ""
    return full[:10] + " " + full[11:19] + full[29:]


def _seal_time(text: Any, tz: ZoneInfo | None) -> Any:
    """A manifest's ``sealed_at`` in the zone shown, with its offset; as written if unreadable."""
    from auditlens.core.formats.times import parse_time_ns

    if not isinstance(text, str):
        return text
    try:
        return queries.format_time(parse_time_ns(text), tz)
    except (ValueError, IndexError):
        return text  # a tampered manifest's own words: shown as they are


def _colour_name(state: str) -> str:
    """A verdict's colour as text, readable on the palette in use."""
    colour = status_colour(state)
    return colour.name() if colour is not None else "#9e9e9e"


def _tool_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    return button


def _table(model: Any) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    # Several rows at once (Ctrl/Shift+click): what bookmarks and exports will take.
    table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    header = table.horizontalHeader()
    header.setSectionsMovable(True)  # columns reordered by dragging their titles
    if isinstance(model, RowsModel):
        # Loaded tables sort by any column; no indicator until asked (the order read).
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setDefaultSectionSize(22)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setResizeContentsPrecision(RESIZE_PRECISION)
    table.setWordWrap(False)
    return table


class LazyView(QWidget):
    """A view that reads the case only when it is shown: ``invalidate`` marks it out of date.

    At 10^7 events each view's queries cost from tens of milliseconds to seconds; a view nobody
    looks at must not delay the first window or stall the GUI thread when an import ends.
    """

    # The view shows what it read (after a read in the background, when it has ended).
    loaded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stale = True
        self.reader = LatestJob()

    def refresh(self) -> None:
        """Read the case again (subclasses); clears ``stale``."""
        self.stale = False

    def read_in_background(
        self,
        session: Examination,
        read: Callable[[Examination], Any],
        done: Callable[[Any], None],
    ) -> None:
        """``done(read(reader))`` on a reader of ``session`` in a worker: seconds at 10^7 events.

        A newer read replaces one still running (whose answer is dropped); a failure shows in
        ``read_failed``. Nothing is read from a case already closed (a view outliving its
        window, shown once more while it is torn down).
        """
        if session.closed:
            return
        self.reader.start(query_job(session, read), done, self.read_failed)

    def read_failed(self, message: str) -> None:
        """A read in the background failed (subclasses show it)."""

    def stop_background(self) -> None:
        """Stop reading (the case is closing)."""
        self.reader.stop(wait=True)

    def invalidate(self) -> None:
        """The case changed: refresh now when visible, else when next shown."""
        self.stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: Any) -> None:  # noqa: N802
        """Refresh a view that went out of date while hidden."""
        super().showEvent(event)
        session = getattr(self, "session", None)
        if self.stale and not (session is not None and session.closed):
            self.refresh()


def actor_term(actor: str) -> str:
    """The filter selecting exactly one actor's events.

    A pivot names one actor: ``field:value`` ignores case and a bare value stops at a space, so
    ``actor_id:{actor}`` could select another actor's events too, or a body word. ``=`` with a
    quoted value matches the id exactly as stored.
    """
    return "actor_id=" + phrase(actor)


class DetailPane(QTreeWidget):
    """The selected event: normalized fields, attributes as a tree, integrity and place.

    A trace id (the event's ``trace_id``, an exemplar's ``traceId``) is a link: activating it
    (double-click, Enter) emits ``trace_requested`` with the id.
    """

    trace_requested = Signal(str)
    TRACE_KEYS = ("trace_id", "traceId")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels(["Field", "Value"])
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.setAlternatingRowColors(True)
        self.itemActivated.connect(self._item_activated)

    def _item_activated(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.text(0) in self.TRACE_KEYS and item.text(1):
            self.trace_requested.emit(item.text(1).lower())

    def trace_items(self) -> list[QTreeWidgetItem]:
        """The items holding a trace id, in the order shown (each opens its trace)."""
        found = []
        stack = [self.topLevelItem(i) for i in range(self.topLevelItemCount())]
        while stack:
            item = stack.pop(0)
            if item.text(0) in self.TRACE_KEYS and item.text(1):
                found.append(item)
            stack[:0] = [item.child(i) for i in range(item.childCount())]
        return found

    def show_event(self, event: dict[str, Any] | None, tz: ZoneInfo | None) -> None:
        """Fill the tree from one event."""
        self.clear()
        if event is None:
            return
        fields = QTreeWidgetItem(self, ["Event"])
        QTreeWidgetItem(fields, ["time", queries.format_time(event.get("time_ns"), tz) or ""])
        for f in FIELDS:
            if f.name in ("attributes", "leaf_hash", "time_ns", "body"):
                continue
            value = event.get(f.name)
            if value is not None:
                QTreeWidgetItem(fields, [f.name, str(value)])
        if event.get("body"):
            QTreeWidgetItem(fields, ["body", str(event["body"])])
        attributes = QTreeWidgetItem(self, ["Attributes"])
        try:
            parsed = json.loads(event.get("attributes") or "{}")
        except ValueError:
            parsed = {"(unparsed)": event.get("attributes")}
        self._add(attributes, parsed)
        proof = QTreeWidgetItem(self, ["Integrity"])
        for key in ("integrity", "bundle_id", "stream_id", "seq", "file", "line", "leaf_hash"):
            QTreeWidgetItem(proof, [key, "" if event.get(key) is None else str(event.get(key))])
        link = self.palette().link()
        for item in self.trace_items():
            item.setForeground(1, link)
            item.setToolTip(1, "Double-click to open this trace")
        self.expandAll()

    def show_proof(self, proof: queries.RecordProof) -> None:
        """Add the record's stored bytes and its inclusion proof under the event."""
        raw = QTreeWidgetItem(self, ["Raw record"])
        text = (
            proof.raw.decode("utf-8", "backslashreplace") if proof.raw is not None else "(not read)"
        )
        item = QTreeWidgetItem(raw, ["bytes", text])
        item.setToolTip(1, text[:4000])
        verdict = (
            "proves into the signed Merkle root"
            if proof.verified
            else (proof.problem or "not proven")
        )
        node = QTreeWidgetItem(self, ["Proof", verdict])
        for key, value in (
            ("leaf", proof.leaf),
            ("index", proof.index),
            ("tree size", proof.tree_size),
            ("signed root", proof.root),
        ):
            QTreeWidgetItem(node, [key, "" if value is None else str(value)])
        path = QTreeWidgetItem(node, ["audit path", f"{len(proof.path)} hash(es), RFC 9162"])
        for i, value in enumerate(proof.path):
            QTreeWidgetItem(path, [f"[{i}]", value])
        self.expandItem(raw)
        self.expandItem(node)

    def _add(self, parent: QTreeWidgetItem, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                node = QTreeWidgetItem(
                    parent, [str(key), "" if isinstance(item, dict | list) else str(item)]
                )
                if isinstance(item, dict | list):
                    self._add(node, item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                node = QTreeWidgetItem(
                    parent, [f"[{i}]", "" if isinstance(item, dict | list) else str(item)]
                )
                if isinstance(item, dict | list):
                    self._add(node, item)


class EventsView(LazyView):
    """Filter bar, histogram, the event table over the whole case, and the detail pane."""

    follow_actor = Signal(str)
    open_trace = Signal(str)
    # An event whose action's witnesses (audit record, log, span) the examiner asked to see.
    witnesses_wanted = Signal(object)
    # A metric data point whose exemplar's trace is being opened (emitted just before
    # open_trace): the trace view shows that exemplar.
    exemplar_point = Signal(object)
    status = Signal(str)
    # The columns shown, in their order, changed (chosen or dragged): kept per case.
    columns_changed = Signal(object)

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tz: ZoneInfo | None = None
        self.time_range: tuple[int | None, int | None] = (None, None)
        # What was applied, for Back and Forward (Alt+Left, Alt+Right): filters, ranges, pivots.
        self.history: list[ViewState] = []
        self.at = -1
        self.filter_bar = FilterBar()
        self.filter_bar.filter_applied.connect(self.apply_filter)
        self.filter_bar.filter_rejected.connect(self.show_invalid)
        self.filter_bar.completions_wanted.connect(self.refresh_completions)
        self.filter_bar.set_completions(field_words())
        self.completion_worker: JobWorker | None = None
        self.back_button = _tool_button("◀", "Back: the filter, range or pivot before (Alt+Left)")
        self.back_button.clicked.connect(self.go_back)
        self.forward_button = _tool_button("▶", "Forward again (Alt+Right)")
        self.forward_button.clicked.connect(self.go_forward)
        for key, slot in (("Alt+Left", self.go_back), ("Alt+Right", self.go_forward)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        # The time range in force, shown beside the filter; clicking it removes it.
        self.range_chip = _tool_button("", "Remove the time range: show the whole time span")
        self.range_chip.setObjectName("range-chip")
        self.range_chip.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.range_chip.setStyleSheet(
            "QToolButton#range-chip { border: 1px solid palette(highlight); border-radius: 9px;"
            " padding: 1px 8px; background: palette(alternate-base); }"
        )
        self.range_chip.clicked.connect(self.clear_time_range)
        self.range_chip.hide()
        # Near variants of a filter that found nothing (not an error: the filter was understood).
        self.hint_label = QLabel()
        self.hint_label.setTextFormat(Qt.TextFormat.RichText)
        self.hint_label.setStyleSheet(f"color: {_colour_name('warning')}")
        self.hint_label.hide()
        self.error_label = QLabel()
        self.error_label.setTextFormat(Qt.TextFormat.RichText)
        self.error_label.setStyleSheet(f"color: {status_colour('error').name()}")  # type: ignore[union-attr]
        self.histogram = HistogramWidget()
        self.histogram.range_selected.connect(self._range_selected)
        # A metric's data points on the histogram's time axis (hidden without metrics).
        self.metric_chart = MetricChartPanel(session)
        self.model = EventTableModel(session)
        self.table = _table(self.model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        # Actions on the selected rows that other modules add (bookmark, exhibit: legal_actions).
        self.row_actions: list[QAction] = []
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((235, 50, 120, 110, 120, 70, 75, 100, 140, 115, 70, 200)):
            header.resizeSection(column, width)
        # The time column wide enough for nine digits and an offset (+05:45): cut, a time copied
        # from it would lose the offset that says which instant it is.
        widest = "2026-03-02T09:15:00.000000000+05:45"
        header.resizeSection(0, self.table.fontMetrics().horizontalAdvance(widest) + 24)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        header.sectionMoved.connect(lambda *_: self.columns_changed.emit(self.visible_columns()))
        # Sorting is the model's, in SQL. No indicator at first: the case's time order.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.model.sorting.connect(self._sorting)
        self.model.sorted_ready.connect(self._sorted)
        self.model.sort_failed.connect(self._sort_failed)
        self.detail = DetailPane()
        self.detail.trace_requested.connect(self._open_trace_of_current)
        from PySide6.QtWidgets import QPushButton

        self.proof_button = QPushButton("Read the record from the evidence and prove it (Ctrl+P)")
        self.proof_button.setShortcut("Ctrl+P")
        self.proof_button.clicked.connect(self.prove_current)
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.proof_button)
        detail_layout.addWidget(self.detail)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.histogram)
        split.addWidget(self.metric_chart)
        split.addWidget(self.table)
        split.addWidget(detail_box)
        split.setStretchFactor(2, 4)
        split.setStretchFactor(3, 2)
        split.setSizes([110, 140, 520, 240])
        self.error_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.back_button)
        bar.addWidget(self.forward_button)
        bar.addWidget(self.filter_bar, 1)
        bar.addWidget(self.range_chip)
        self.views_button = _tool_button("Views ▾", "Saved views of this case: save, open")
        self.views_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.views_menu = QMenu(self.views_button)
        self.views_menu.aboutToShow.connect(self._fill_views_menu)
        self.views_button.setMenu(self.views_menu)
        bar.addWidget(self.views_button)
        layout.addLayout(bar)
        layout.addWidget(self.error_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(split, 1)
        self.apply_filter("", via="open")

    def refresh(self) -> None:
        """Read the case again (after an import): the current filter, values to complete."""
        self.apply_filter(self.filter_bar.text(), via="refresh")
        self.filter_bar.reset_completions(field_words())
        self.metric_chart.invalidate_names()

    def refresh_completions(self) -> JobWorker:
        """Read the values seen in the case for the completer, off the GUI thread."""
        self._stop_completions()
        worker = JobWorker(query_job(self.session, completion_words), self)
        worker.finished.connect(self._completions_read)
        self.completion_worker = worker
        worker.start()
        return worker

    def _sorting(self, column: int) -> None:
        self.status.emit(
            f"sorting {counted(self.model.rowCount(), 'event')} by {EVENT_COLUMNS[column][1]}…"
        )

    def _sorted(self, column: int, order: Qt.SortOrder) -> None:
        by = EVENT_COLUMNS[column][1] if column >= 0 else "Time"
        way = "descending" if order == Qt.SortOrder.DescendingOrder else "ascending"
        matching = counted(self.model.rowCount(), "event matches", "events match")
        self.status.emit(f"{matching}, by {by} {way}")
        self.table.scrollToTop()

    def _sort_failed(self, message: str) -> None:
        self.status.emit(f"sorting failed: {message}")

    def _completions_read(self, words: list[str]) -> None:
        if self.completion_worker is not None:
            self.completion_worker.wait()  # its thread ends as it reports: a moment at most
        self.filter_bar.set_completions(field_words() + words)

    def stop_background(self) -> None:
        """Stop reading completions and sorting (the case is closing or changed)."""
        super().stop_background()
        self.model.stop_sorting(wait=True)
        self._stop_completions()
        self.metric_chart.stop_background()

    def _stop_completions(self) -> None:
        worker, self.completion_worker = self.completion_worker, None
        if worker is not None and worker.is_running():
            worker.cancel()
            worker.wait()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show times in ``tz`` (nothing to do when it is the zone already shown)."""
        if tz == self.tz:
            return
        before, self.tz = self.tz, tz
        self.model.set_time_zone(tz)
        self.histogram.set_time_zone(tz)
        self.metric_chart.set_time_zone(tz)
        self._row_changed(self.table.currentIndex(), QModelIndex())
        self._show_range()
        # Times typed without an offset are read in the zone shown: a filter holding one now
        # selects other events, and is applied again (one that does not is left as it is).
        text = self.filter_bar.text()
        try:
            moved = (
                queries.EventQuery(text, tz=before).where()
                != queries.EventQuery(text, tz=tz).where()
            )
        except Error:
            moved = False
        if moved and not self.stale:
            self.apply_filter(text, via="zone")

    def apply_filter(
        self, text: str, *, via: str = "filter", pivot: dict[str, str] | None = None
    ) -> None:
        """Show the events matching ``text`` within the selected time range.

        Applied through the examination, which journals it once (``via`` and ``pivot`` say how
        it was applied: typed, a range dragged, a pivot from another view...).
        """
        query = queries.EventQuery(text, *self.time_range, tz=self.tz)
        # A new result starts at its top: kept scrolled past its end, the view would ask for
        # the header of every row (measured: 56 s at 10^7 events, bench/bench_gui.py).
        self.table.scrollToTop()
        try:
            self.model.set_query(query, via=via, pivot=pivot)
        except QuerySyntaxError as exc:
            self.show_invalid(exc, text)
            return
        except Error as exc:
            self.show_invalid(None, text, exc.diagnostics())
            return
        self.stale = False
        self.error_label.setText("")
        self.error_label.hide()
        self.hint_label.hide()
        self.table.setEnabled(True)
        self.detail.clear()  # the selection went with the old result
        if via not in ("back", "forward", "refresh", "sort"):
            self._remember(ViewState(text.strip(), self.time_range))
        self._show_range()
        # The histogram in a worker: two more scans of the matching events (50 ms at 10^7) that
        # the table does not wait for.
        # Nothing found: near variants that would find something, read with the histogram
        # (issue 12: a zero must not hide a typo; the filter itself is never changed).
        empty = self.model.rowCount() == 0 and bool(text.strip())
        self.read_in_background(
            self.session,
            lambda reader: (
                *reader.overview_histogram(query),
                reader.gaps(),
                reader.suggestions(query) if empty else [],
            ),
            self._drawn,
        )
        self.status.emit(counted(self.model.rowCount(), "event matches", "events match"))

    def show_invalid(
        self, error: QuerySyntaxError | None, text: str | None = None, message: str = ""
    ) -> None:
        """An invalid filter was applied: no result, and the error under the bar at its place.

        The old result must not stay on screen under the new text: a count or rows there would
        read as the answer to a question that was not understood.
        """
        text = self.filter_bar.text() if text is None else text
        self.reader.stop()  # a histogram of the old filter must not arrive after this
        self.hint_label.hide()
        self.model.clear()
        self.table.setEnabled(False)
        self.histogram.set_data([], self.histogram.bucket_ns)
        self.metric_chart.follow(None, self.time_range, self.tz)
        self.detail.clear()
        self.stale = False
        if error is not None:
            start = max(0, min(error.start, len(text)))
            end = max(start + 1, min(error.end, len(text)))
            caret = " " * start + "^" * (end - start)
            self.error_label.setText(
                f"<b>invalid filter</b> at column {start + 1}: {html.escape(error.reason)}"
                "<pre style='margin: 0'>"
                f"{html.escape(text)}<br>{caret}</pre>"
            )
        else:
            self.error_label.setText(f"<b>invalid filter</b>: {html.escape(message)}")
        self.error_label.show()
        self.status.emit("invalid filter")

    def _remember(self, state: ViewState) -> None:
        if 0 <= self.at < len(self.history) and self.history[self.at] == state:
            return
        del self.history[self.at + 1 :]
        self.history.append(state)
        self.at = len(self.history) - 1
        self._update_steps()

    def _update_steps(self) -> None:
        self.back_button.setEnabled(self.at > 0)
        self.forward_button.setEnabled(self.at < len(self.history) - 1)

    def go_back(self) -> None:
        """Show the filter, range or pivot applied before this one."""
        if self.at > 0:
            self.at -= 1
            self._restore(self.history[self.at], "back")

    def go_forward(self) -> None:
        """Show again the filter, range or pivot Back left."""
        if self.at < len(self.history) - 1:
            self.at += 1
            self._restore(self.history[self.at], "forward")

    def _restore(self, state: ViewState, via: str) -> None:
        self.time_range = state.time_range
        self.filter_bar.set_text(state.text)
        self.apply_filter(state.text, via=via)
        self._update_steps()

    def _show_range(self) -> None:
        lo, hi = self.time_range
        if lo is None and hi is None:
            self.range_chip.hide()
            return
        self.range_chip.setText(
            f"{short_time(lo, self.tz) if lo is not None else '…'} → "
            f"{short_time(hi, self.tz) if hi is not None else '…'}  ✕"
        )
        self.range_chip.show()

    def show_filter(
        self,
        text: str,
        *,
        via: str,
        pivot: dict[str, str] | None = None,
        time_range: tuple[int | None, int | None] | None = None,
    ) -> None:
        """Put ``text`` in the bar and apply it (a pivot from another view, say)."""
        if time_range is not None:
            self.time_range = time_range
        self.filter_bar.set_text(text)
        self.filter_bar.remember(text)
        self.apply_filter(text, via=via, pivot=pivot)

    def _drawn(self, read: tuple[list[tuple[int | None, int]], int, list[Any], list[Any]]) -> None:
        buckets, bucket, gaps, suggestions = read
        if suggestions:
            self.hint_label.setText(
                "<br>".join(f"no events; {html.escape(s.message())}" for s in suggestions)
            )
            self.hint_label.show()
        self.histogram.set_data(buckets, bucket)
        self.histogram.set_gaps([(g.start_ns, g.end_ns) for g in gaps])
        self.metric_chart.follow(histogram_span(buckets, bucket), self.time_range, self.tz)
        self.loaded.emit()

    def _range_selected(self, start_ns: int, end_ns: int) -> None:
        self.time_range = (start_ns, end_ns)
        self.apply_filter(self.filter_bar.text(), via="range")

    def clear_time_range(self) -> None:
        """Show the whole time span again."""
        self.time_range = (None, None)
        self.apply_filter(self.filter_bar.text(), via="range")

    # -- columns and saved views ---------------------------------------------------------------

    def visible_columns(self) -> list[str]:
        """The event columns shown, in the order shown."""
        header = self.table.horizontalHeader()
        order = sorted(range(len(EVENT_COLUMNS)), key=header.visualIndex)
        return [EVENT_COLUMNS[i][0] for i in order if not header.isSectionHidden(i)]

    def set_columns(self, names: list[str]) -> None:
        """Show the columns ``names`` in that order and hide the others (unknown names ignored)."""
        keys = [key for key, _ in EVENT_COLUMNS]
        wanted = [n for n in names if n in keys]
        if not wanted:
            return
        header = self.table.horizontalHeader()
        header.blockSignals(True)  # one change, said once
        try:
            for visual, name in enumerate(wanted):
                header.moveSection(header.visualIndex(keys.index(name)), visual)
            for logical, key in enumerate(keys):
                header.setSectionHidden(logical, key not in wanted)
        finally:
            header.blockSignals(False)
        self.columns_changed.emit(self.visible_columns())

    def set_column_visible(self, name: str, visible: bool) -> None:
        """Show or hide one column (the last one shown stays)."""
        shown = self.visible_columns()
        if not visible and shown == [name]:
            return
        logical = [key for key, _ in EVENT_COLUMNS].index(name)
        self.table.horizontalHeader().setSectionHidden(logical, not visible)
        self.columns_changed.emit(self.visible_columns())

    def column_menu(self) -> QMenu:
        """A menu with a check box per column (the header's context menu)."""
        menu = QMenu(self)
        shown = set(self.visible_columns())
        for key, title in EVENT_COLUMNS:
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(key in shown)
            action.toggled.connect(lambda on, k=key: self.set_column_visible(k, on))
        return menu

    def _column_menu(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        self.column_menu().exec(header.mapToGlobal(pos))

    def save_view(self, name: str) -> queries.SavedView:
        """Save the filter, range, zone and columns shown as ``name`` (journaled)."""
        query = queries.EventQuery(self.filter_bar.text().strip(), *self.time_range, tz=self.tz)
        return self.session.save_view(name, query, self.visible_columns())

    def open_view(self, view: queries.SavedView) -> None:
        """Show a saved view: its columns, then its filter and range (journaled as applied)."""
        if view.columns:
            self.set_columns(list(view.columns))
        self.show_filter(
            view.filter,
            via="saved view",
            pivot={"view": view.name},
            time_range=(view.time_from_ns, view.time_to_ns),
        )

    def _fill_views_menu(self) -> None:
        menu = self.views_menu
        menu.clear()
        menu.addAction("Save this view…", self._ask_view_name)
        views = self.session.saved_views()
        if views:
            menu.addSeparator()
        for view in views:
            menu.addAction(view.name, lambda v=view: self.open_view(v))

    def _ask_view_name(self) -> None:
        name, ok = QInputDialog.getText(self, "Save this view", "Name:")
        if ok and name.strip():
            try:
                saved = self.save_view(name)
            except Error as exc:
                self.status.emit(f"not saved: {exc.diagnostics()}")
                return
            self.status.emit(f"view saved: {saved.name}")

    def selected_events(self) -> list[dict[str, Any]]:
        """The events of the selected rows, in table order (several with Ctrl/Shift+click)."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [e for r in rows if (e := self.model.event(r)) is not None]

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.show_event(
            self.model.event(current.row()) if current.isValid() else None, self.tz
        )

    def prove_current(self) -> None:
        """Show the selected record's bytes and Merkle inclusion proof."""
        index = self.table.currentIndex()
        event = self.model.event(index.row()) if index.isValid() else None
        if event is None:
            return
        self.detail.show_event(event, self.tz)
        self.detail.show_proof(self.session.prove(event))

    def _open_trace_of_current(self, trace_id: str) -> None:
        """Open a trace named in the detail pane (of a metric row: at its exemplar)."""
        index = self.table.currentIndex()
        event = self.model.event(index.row()) if index.isValid() else None
        self.open_trace_of(event or {}, trace_id)

    def open_trace_of(self, event: dict[str, Any], trace_id: str) -> None:
        """Open ``trace_id``, which ``event`` names; a metric data point's at its exemplar."""
        if event.get("kind") == "metric":
            self.exemplar_point.emit(event)
        self.open_trace.emit(trace_id)

    def jump_to(self, row: int) -> None:
        """Scroll to and select ``row`` of the current view."""
        index = self.model.index(row, 0)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        self.table.setCurrentIndex(index)

    def add_term(self, field: str, value: str, *, exclude: bool) -> None:
        """Narrow the filter to (or exclude) ``field:value`` and apply it."""
        term = f"{'NOT ' if exclude else ''}{field}:{quote_value(value)}"
        current = self.filter_bar.text().strip()
        self.filter_bar.set_text(f"({current}) AND {term}" if current else term)
        self.filter_bar.apply()

    def _context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        event = self.model.event(index.row()) or {}
        field = EVENT_COLUMNS[index.column()][0]
        value = event.get("time_ns" if field == "time" else field)
        menu = QMenu(self)
        if value is not None and field != "time":
            menu.addAction(
                f"Filter on {field} = {str(value)[:40]}",
                lambda: self.add_term(field, str(value), exclude=False),
            )
            menu.addAction(
                f"Exclude {field} = {str(value)[:40]}",
                lambda: self.add_term(field, str(value), exclude=True),
            )
        text = str(self.model.data(index) or "")
        menu.addAction("Copy value", lambda: QGuiApplication.clipboard().setText(text))
        menu.addAction(
            "Copy row as JSON",
            lambda: QGuiApplication.clipboard().setText(
                json.dumps(queries.present_event(event, self.tz), ensure_ascii=False)
            ),
        )
        if event.get("actor_id"):
            actor = str(event["actor_id"])
            menu.addAction(f"Follow actor {actor}", lambda: self.follow_actor.emit(actor))
        if event.get("action"):
            menu.addAction("Witnesses of this action", lambda: self.witnesses_wanted.emit(event))
        if event.get("trace_id"):
            trace_id = str(event["trace_id"])
            menu.addAction(
                "Open the trace of this exemplar"
                if event.get("kind") == "metric"
                else "Open trace waterfall",
                lambda: self.open_trace_of(event, trace_id),
            )
            menu.addAction(
                "Show this trace's events",
                lambda: self.add_term("trace_id", trace_id, exclude=False),
            )
        if self.row_actions:
            menu.addSeparator()
            menu.addActions(self.row_actions)
        menu.exec(self.table.viewport().mapToGlobal(pos))


class IntegrityView(LazyView):
    """Bundles with their verdicts, the findings, and the integrity map on the time axis."""

    # A finding's place in the events: a Place (the record, the file's records, the gap).
    place_requested = Signal(object)

    BUNDLE_COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("verdict", "Verdict"),
        ("stream_id", "Stream"),
        ("first_seq", "First seq"),
        ("last_seq", "Last seq"),
        ("record_count", "Records"),
        ("signer", "Signer key"),
        ("sealed_at", "Sealed at"),
        ("path", "Path"),
    ]
    FINDING_COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("severity", "Severity"),
        ("code", "Code"),
        ("place", "Place"),
        ("message", "Message"),
        ("expected", "Expected"),
        ("actual", "Actual"),
    ]

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.map = IntegrityMapWidget()
        self.bundles = RowsModel(self.BUNDLE_COLUMNS, self, time_keys=("sealed_at",))
        self.findings = RowsModel(self.FINDING_COLUMNS, self)
        self.overview: queries.IntegrityOverview | None = None
        self.tz: ZoneInfo | None = None
        self.bundle_table = _table(self.bundles)
        self.finding_table = _table(self.findings)
        self.finding_table.doubleClicked.connect(self._finding_activated)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.map)
        split.addWidget(self.bundle_table)
        split.addWidget(self.finding_table)
        split.setSizes([150, 330, 330])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Label the integrity map's time axis and show the seal times in ``tz``."""
        self.map.set_time_zone(tz)
        if tz != self.tz:
            self.tz = tz
            self.bundles.set_time_zone(tz)
            if self.overview is not None:
                for row in self.bundles.rows:
                    row["sealed_at"] = _seal_time(row.get("sealed_raw"), tz)
                self.bundles.set_rows(self.bundles.rows)

    def refresh(self) -> None:
        """Read bundles, inputs and findings again."""
        super().refresh()
        overview = self.session.integrity()
        bundles = overview.bundles
        for row in bundles:
            row["signer"] = (row.pop("signer_key_id") or "")[:16]
            row["sealed_raw"] = row["sealed_at"]
            row["sealed_at"] = _seal_time(row["sealed_at"], self.tz)
        self.bundles.set_rows(bundles)
        findings = overview.findings
        for row in findings:
            place = row["path"] or ""
            if row["line"] is not None:
                place += f":{row['line']}"
            if row["seq"] is not None:
                place += f" seq {row['seq']}"
            row["place"] = place
        self.findings.set_rows(findings)
        # A tampered bundle is drawn in the state of most of its records, and the records the
        # findings name are marked where they are (issue 12: one modified record must not paint
        # a whole day red).
        stretches = [
            Stretch(
                b["stream_id"],
                b["time_first_ns"] or 0,
                b["time_last_ns"] or 0,
                overview.record_states.get(b["bundle_id"], b["verdict"]),
                f"seq {b['first_seq']}-{b['last_seq']}",
                outlined=b["verdict"] == "tampered",
            )
            for b in bundles
        ]
        for gap in overview.gaps:
            stretches.append(Stretch(gap.stream_id, gap.start_ns, gap.end_ns, "missing", "gap"))
        for stream, lo, hi in overview.raw_streams:
            stretches.append(Stretch(stream, lo, hi, "unsealed", "raw"))
        self.overview = overview
        self.map.set_marks([Mark(m.stream_id, m.time_ns, m.kind, m.seq) for m in overview.marks])
        self.map.set_stretches(stretches)
        # Sized once, on the first rows: again after every import costs the GUI thread for
        # nothing the person asked for (and moves columns under their eyes).
        for table in (self.bundle_table, self.finding_table):
            if table.model().rowCount() and not table.property("sized"):
                table.setProperty("sized", True)
                table.resizeColumnsToContents()
                for column in range(table.model().columnCount()):
                    table.setColumnWidth(column, min(table.columnWidth(column), 420))
        counts: dict[str, int] = {}
        for b in bundles:
            counts[b["verdict"]] = counts.get(b["verdict"], 0) + 1
        errors = sum(1 for f in findings if f["severity"] == "error")
        badges = " ".join(
            f"<span style='background:{colour}; color:{ink}'>&nbsp;{n} {verdict}&nbsp;</span>"
            for verdict, n in sorted(counts.items())
            # The light palette's strong shades with white text (black on yellow), either palette.
            for colour in [INTEGRITY_COLOURS.get(verdict, "#616161")]
            for ink in ["black" if verdict == "untrusted" else "white"]
        )
        streams = " &nbsp; ".join(
            f"stream {html.escape(str(st['stream_id']))}: "
            f"<span style='color:{_colour_name(str(st['verdict']))}'>"
            f"{html.escape(str(st['verdict']))}</span>"
            + (f" ({st['open_gaps']} open gap(s))" if st.get("open_gaps") else "")
            for st in overview.streams
        )
        verdict = overview.case_verdict
        # Raw evidence has no seal: say so, or a raw-only case shows two empty tables unexplained.
        raw = (
            f"{counted(len(overview.raw_streams), 'raw file')} (unsealed, grey on the map): no "
            "signature or hash chain covers them, so nothing here can prove them unaltered"
            if overview.raw_streams
            else ""
        )
        self.summary.setText(
            (f"<b>case: {html.escape(verdict)}</b> &nbsp; " if verdict else "")
            + f"<b>{len(bundles)} bundle(s)</b> {badges} &nbsp; "
            f"<b>{errors}</b> error finding(s), {len(findings) - errors} other"
            + (f"<br>{streams}" if streams else "")
            + (f"<br>{html.escape(raw)}" if raw else "")
        )

    def _finding_activated(self, index: QModelIndex) -> None:
        place = self.place_of(self.findings.rows[index.row()])
        if place is not None:
            self.place_requested.emit(place)

    def place_of(self, finding: dict[str, Any]) -> Place | None:
        """Where a finding is in the events: its record, its file's records, or its gap.

        None for a finding about an input with no events (an unreadable archive, say).
        """
        code, seq, stream = finding["code"], finding["seq"], finding["stream_id"]
        path, line, bundle = finding["path"] or "", finding["line"], finding["bundle_id"]
        what = {"finding": code}
        if code == "BUNDLE_GAP" and self.overview is not None:
            for gap in self.overview.gaps:
                if (
                    gap.stream_id == stream
                    and gap.last_seq_before < (seq or 0) <= gap.first_seq_after
                ):
                    low, high = gap.last_seq_before - AROUND, gap.first_seq_after + AROUND - 1
                    return Place(
                        f"stream_id={phrase(stream)} AND seq:[{max(low, 0)} TO {high}]", what
                    )
        if code == "RECORD_DELETED" and seq is not None and stream:
            low, high = max(seq - AROUND, 0), seq + AROUND
            return Place(f"stream_id={phrase(stream)} AND seq:[{low} TO {high}]", what)
        if "!" in path and line is not None:
            return Place(f"file:{quote_value(path)} AND line:{line}", what)
        if seq is not None and stream and code in RECORD_CODES:
            return Place(record_filter(stream, seq), what)
        if "!" in path and not path.endswith(ENVELOPE_FILES):
            return Place(f"file:{quote_value(path)}", what)  # the file's records
        if bundle:
            return Place(f"bundle_id:{quote_value(bundle)}", what)
        return None


class ActorsView(LazyView):
    """Every actor with roles, counts, addresses, first and last seen."""

    actor_activated = Signal(str)
    mark_clicked = Signal(str, object)  # actor, time in ns (beyond a C int)
    SWIMLANES = 40  # lanes drawn: the busiest actors (the table lists all)
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("actor_id", "Actor"),
        ("name", "Name"),
        ("roles", "Roles"),
        ("events", "Events"),
        ("first_seen", "First seen"),
        ("last_seen", "Last seen"),
        ("addresses", "Addresses"),
        ("actions", "Actions"),
    ]

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tz: ZoneInfo | None = None
        self.model = RowsModel(self.COLUMNS, self, time_keys=("first_seen", "last_seen"))
        self.table = _table(self.model)
        self.table.doubleClicked.connect(
            lambda index: self.actor_activated.emit(self.model.rows[index.row()]["actor_id"])
        )
        from PySide6.QtWidgets import QScrollArea

        from auditlens.gui.charts import ActorSwimlaneWidget

        self.swimlanes = ActorSwimlaneWidget()
        self.swimlanes.mark_clicked.connect(self.mark_clicked)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.swimlanes)
        split = QSplitter(Qt.Orientation.Vertical)
        timeline = QWidget()
        timeline_layout = QVBoxLayout(timeline)
        timeline_layout.setContentsMargins(0, 0, 0, 0)
        timeline_layout.setSpacing(0)
        timeline_layout.addWidget(self.swimlanes.axis)  # stays in sight while the lanes scroll
        timeline_layout.addWidget(scroll, 1)
        split.addWidget(self.table)
        split.addWidget(timeline)
        split.setSizes([420, 380])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        hint = QLabel(
            "Double-click an actor to see their events. Timeline: sessions (shaded), actions "
            "(ticks; exports, downloads, deletes and role changes in red), address changes "
            "(triangles), findings (diamonds, in their severity's colour). Click a lane to "
            "open that actor's events around that time."
        )
        hint.setWordWrap(True)  # a long line would widen the window past the screen
        layout.addWidget(hint)
        layout.addWidget(split, 1)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show times in ``tz`` (read again only when the zone changed)."""
        if tz != self.tz:
            self.tz = tz
            self.model.set_time_zone(tz)
            self.swimlanes.set_time_zone(tz)
            self.invalidate()

    def refresh(self) -> None:
        """Read the actor summary and the busiest actors' swimlanes again."""
        super().refresh()
        rows = []
        for a in self.session.actors():
            rows.append(
                {
                    "actor_id": a.actor_id,
                    "name": a.name,
                    "roles": ", ".join(a.roles),
                    "events": a.events,
                    "first_seen": queries.format_time(a.first_ns, self.tz),
                    "last_seen": queries.format_time(a.last_ns, self.tz),
                    "addresses": ", ".join(a.addresses),
                    "actions": ", ".join(a.actions),
                }
            )
        self.model.set_rows(rows)
        if rows and not self.table.property("sized"):  # once, on the first rows
            self.table.setProperty("sized", True)
            self.table.resizeColumnsToContents()
        # Two aggregate queries for all lanes (core.store.lanes), in a worker: reading each
        # actor's events took 15 s at 10^7 events (bench/bench_gui.py), the aggregates 0.5-1 s.
        from auditlens.gui.charts import Lane

        busiest = [r["actor_id"] for r in rows[: self.SWIMLANES]]
        self.swimlanes.set_lanes([], "reading the actors' timelines…")
        self.read_in_background(
            self.session,
            lambda reader: reader.lanes(busiest, buckets=LANE_BUCKETS),
            lambda marks: self._lanes_read(
                [Lane(m.actor, m.sessions, m.ticks, m.address_changes) for m in marks]
            ),
        )

    def _lanes_read(self, read: list[Any]) -> None:
        self.swimlanes.set_lanes(read)
        self.loaded.emit()

    def read_failed(self, message: str) -> None:
        """Say why the timelines are missing."""
        self.swimlanes.set_lanes([], f"cannot read the timelines: {message}")


class TracesView(LazyView):
    """Trace list, waterfall and span detail (with the span's logs)."""

    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("start", "Start"),
        ("service", "Service"),
        ("root", "First span"),
        ("spans", "Spans"),
        ("logs", "Logs"),
        ("points", "Metric points"),
        ("duration_ms", "Duration (ms)"),
        ("trace_id", "Trace id"),
    ]

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from auditlens.gui.trace_exemplars import ExemplarTable
        from auditlens.gui.waterfall import TraceWaterfallView

        self.session = session
        self.tz: ZoneInfo | None = None
        self._first_trace: queries.Trace | None = None  # read with the list, in the worker
        self._focus: dict[str, Any] | None = None  # a data point whose exemplar to show
        self.filter_bar = FilterBar()
        self.filter_bar.setPlaceholderText("Traces with an event matching, e.g.  actor_id:sup-004")
        self.filter_bar.filter_applied.connect(self.apply_filter)
        self.model = RowsModel(self.COLUMNS, self, time_keys=("start",))
        self.table = _table(self.model)
        self.table.selectionModel().currentRowChanged.connect(self._trace_changed)
        self.waterfall = TraceWaterfallView()
        self.waterfall.span_selected.connect(self._span_selected)
        # The metric exemplars pointing into the trace; one activated shows its data point.
        self.exemplars = ExemplarTable()
        self.exemplars.exemplar_activated.connect(self.show_exemplar)
        self.waterfall.exemplar_activated.connect(self.show_exemplar)
        self.detail = DetailPane()
        self.detail.trace_requested.connect(self.open_trace)
        self.summary = QLabel()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.waterfall)
        right.addWidget(self.exemplars)
        right.addWidget(self.detail)
        right.setSizes([440, 120, 240])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(right)
        split.setSizes([520, 880])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show times in ``tz`` (read again only when the zone changed)."""
        if tz != self.tz:
            self.tz = tz
            self.model.set_time_zone(tz)
            self.exemplars.set_time_zone(tz)
            self.invalidate()

    def refresh(self) -> None:
        """List the traces again (built when first shown: 1.4 s at 10^7 events)."""
        self.apply_filter(self.filter_bar.text())

    def apply_filter(self, text: str) -> None:
        """List the traces that have an event matching ``text``."""
        self.stale = False
        query = queries.EventQuery(text, tz=self.tz)
        try:
            query.where()  # a syntax error shows now, not after a read
        except Error as exc:
            self.summary.setText(exc.diagnostics())
            return
        # In a worker: the trace list groups every event (1.4 s at 10^7 events).
        self.summary.setText("reading the traces…")
        tz = self.tz
        self.read_in_background(
            self.session, lambda reader: read_traces(reader, query, tz), self._traces_read
        )

    def read_failed(self, message: str) -> None:
        """Say why the list is missing."""
        self.summary.setText(message)

    def _traces_read(self, read: tuple[list[dict[str, Any]], queries.Trace | None]) -> None:
        rows, self._first_trace = read
        self.model.set_rows(rows)
        if rows and not self.table.property("sized"):  # once: 50 ms for 2,000 rows
            self.table.setProperty("sized", True)
            self.table.resizeColumnsToContents()
        self.summary.setText(
            f"{len(rows):,} trace(s)" + (" (first 2,000)" if len(rows) >= 2000 else "")
        )
        if rows:
            self.table.selectRow(0)
        self.loaded.emit()

    def focus_point(self, point: dict[str, Any]) -> None:
        """Show the exemplar of data point ``point`` when its trace opens next (events view)."""
        self._focus = point

    def open_trace(self, trace_id: str) -> None:
        """Show one trace whether or not it is in the list."""
        self.filter_bar.set_text(f"trace_id:{trace_id}")
        self.filter_bar.apply()

    def _trace_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.waterfall.set_trace(None)
            self.exemplars.set_trace(None)
            return
        trace_id = self.model.rows[current.row()]["trace_id"]
        first, self._first_trace = self._first_trace, None
        trace = first if first is not None and first.trace_id == trace_id else None
        if trace is None:
            trace = self.session.trace(trace_id)
        self.waterfall.set_trace(trace)
        self.exemplars.set_trace(trace)
        self.waterfall.select(0)  # the root span's detail, rather than an empty pane
        focus, self._focus = self._focus, None
        place = ("stream_id", "seq", "file", "line")
        for exemplar in trace.exemplars if focus is not None else []:
            if all(exemplar.point.get(k) == focus.get(k) for k in place):
                self.show_exemplar(exemplar)  # opened from this data point's row
                break
        from auditlens.gui.waterfall import trace_summary

        self.summary.setText(trace_summary(trace) + " Ctrl+wheel zooms, drag pans.")

    def _span_selected(self, span: dict[str, Any]) -> None:
        self.detail.show_event(span, self.tz)

    def show_exemplar(self, exemplar: queries.Exemplar) -> None:
        """Show an exemplar's data point, ringed on the waterfall and selected in the list."""
        self.waterfall.show_exemplar(exemplar)
        self.exemplars.select(exemplar)
        self.detail.show_event(exemplar.point, self.tz)
