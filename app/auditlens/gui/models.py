"""Qt models over the case, read through the examination API; none holds a whole result set.

:class:`EventTableModel` serves millions of rows (STYLE point 5): the row count comes from the
view's ``COUNT``, rows are fetched a page at a time into a small cache as the view asks for them,
and each fetch is tagged with the model's generation so an answer for an old filter is dropped.

Sorting happens in SQL, in core. Time order is the case's own (``ord``): ascending is the core
view, descending reads it from the end. Any other column is sorted once per query in a worker
thread (``queries.sorted_positions``: 0.4-1.3 s at 10^7 events, 4 s for the body) into an array
of positions; a page is then the rows at 200 of those positions (about 10 ms at any offset), so
the table scrolls and jumps as fast as in time order.

Applying a filter, a range or a sort goes through ``Examination.apply``, which journals it once;
the pages fetched as the table scrolls are not examiner actions and are not journaled.

Rows may be marked (bookmarked events: gui/legal_actions.py sets ``mark_reader``): the marks of a
page are read once, with the page's positions, when a cell of it is first drawn, and dropped with
the page; a mark tints the row, puts a glyph in its row header and adds its text to the tooltip.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPointF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap

from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.gui.worker import LatestJob, query_job

PAGE = 200
CACHE_PAGES = 64  # 12,800 rows at most in memory, whatever the case holds

Index = QModelIndex | QPersistentModelIndex

EVENT_COLUMNS: list[tuple[str, str]] = [
    ("time", "Time"),
    ("kind", "Kind"),
    ("service", "Service"),
    ("actor_id", "Actor"),
    ("action", "Action"),
    ("outcome", "Outcome"),
    # Integrity early: at 1400 pixels across, the columns after Tenant need scrolling to.
    ("integrity", "Integrity"),
    ("resource_type", "Resource type"),
    ("resource_id", "Resource"),
    ("source_ip", "Source address"),
    ("tenant", "Tenant"),
    ("name", "Name"),
    ("body", "Body"),
]

INTEGRITY_COLOURS = {
    "verified": "#2e7d32",
    "untrusted": "#f9a825",
    "unsealed": "#757575",
    "tampered": "#c62828",
    "invalid": "#6a1b9a",
    "error": "#c62828",
    "warning": "#ef6c00",
}
# The same meanings on a dark background: the light palette's shades are too dark to read there.
DARK_INTEGRITY_COLOURS = {
    "verified": "#66bb6a",
    "untrusted": "#fdd835",
    "unsealed": "#bdbdbd",
    "tampered": "#ef5350",
    "invalid": "#ce93d8",
    "error": "#ef5350",
    "warning": "#ffa726",
}


def dark_background() -> bool:
    """Whether the application's palette is dark (the text colours must be light)."""
    return QGuiApplication.palette().color(QPalette.ColorRole.Base).lightness() < 128


def status_colour(name: str) -> QColor | None:
    """The colour of a verdict, integrity state or severity, readable on the current palette."""
    colour = (DARK_INTEGRITY_COLOURS if dark_background() else INTEGRITY_COLOURS).get(name)
    return QColor(colour) if colour else None


# A marked (bookmarked) row: a blue tint under the text (the integrity colours stay readable on
# it) and a ribbon in its row header; the tooltip says the same in words.
MARK_TINT = ("#e3f0fc", "#1d3550")  # light palette, dark palette
MARK_GLYPH = ("#1565c0", "#64b5f6")


def mark_icon(marked: bool) -> QIcon:
    """A bookmark ribbon, or a blank of its size (row headers keep one width either way)."""
    pixmap = QPixmap(12, 14)
    pixmap.fill(Qt.GlobalColor.transparent)
    if marked:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(MARK_GLYPH[dark_background()]))
        points = [(1, 0), (11, 0), (11, 14), (6, 9.5), (1, 14)]
        painter.drawPolygon([QPointF(x, y) for x, y in points])
        painter.end()
    return QIcon(pixmap)


class ReversedView:
    """A core event view read from its end: the case's time order, newest first."""

    def __init__(self, view: queries.EventView) -> None:
        self.view = view
        self.count = view.count

    def rows(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset`` .. ``offset + limit`` counted from the newest."""
        end = self.count - offset
        start = max(end - limit, 0)
        if end <= 0 or limit <= 0:
            return []
        return list(reversed(self.view.rows(start, end - start)))


def sort_and_first_page(
    reader: Examination, query: queries.EventQuery, column: str, descending: bool
) -> tuple[Any, list[dict[str, Any]]]:
    """The sorted positions and the rows of their first page (run in a worker)."""
    positions = reader.sorted_positions(query, column, descending)
    return positions, reader.rows_at(positions[:PAGE].to_pylist())


class EventTableModel(QAbstractTableModel):
    """The events matching a query, fetched by pages; time order unless sorted by a column."""

    # The sort asked for is in place (after a worker sorted a column): column, Qt order.
    sorted_ready = Signal(int, object)
    # A column sort is running in a worker (column) or failed (message).
    sorting = Signal(int)
    sort_failed = Signal(str)

    def __init__(self, session: Examination, parent: Any = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tz: ZoneInfo | None = None
        self.view: queries.EventView | ReversedView | queries.PositionsView | None = None
        self.query = queries.EventQuery()
        self.sort_column = -1  # -1: the case's time order
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.sorter = LatestJob()  # the column sort in a worker: a new one cancels the one before
        self.base: queries.EventView | None = None
        self._sort_key: tuple[queries.EventQuery, int, Qt.SortOrder] | None = None
        self.generation = 0
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        # Marks of rows by position (``ord``), read a page at a time: what each mark says.
        self.mark_reader: Callable[[list[int]], dict[int, str]] | None = None
        self._marks: dict[int, dict[int, str]] = {}
        self._icons = (mark_icon(False), mark_icon(True))
        self.set_query(queries.EventQuery(), via="open")

    def sort_spec(self) -> tuple[str, bool] | None:
        """The sort shown, as journaled: (column name, descending); None for time ascending."""
        name = EVENT_COLUMNS[self.sort_column][0] if self.sort_column >= 0 else "time"
        descending = self.sort_order == Qt.SortOrder.DescendingOrder
        return None if (name, descending) == ("time", False) else (name, descending)

    def set_query(
        self,
        query: queries.EventQuery,
        *,
        via: str = "filter",
        pivot: dict[str, str] | None = None,
    ) -> None:
        """Show the events of ``query`` (may raise the filter's QuerySyntaxError).

        Applied (and journaled) through the examination, ``via`` and ``pivot`` saying how. The
        current sort is kept: time order at once, another column once its worker sorted it (the
        rows show in time order meanwhile).
        """
        view = self.session.apply(query, sort=self.sort_spec(), via=via, pivot=pivot)
        self.query, self.base = query, view
        self._show(view)
        self._apply_sort(view)

    def clear(self) -> None:
        """Show no rows (an invalid filter was applied): nothing stays under the new text."""
        self.stop_sorting()
        self._sort_key = None
        self.beginResetModel()
        self.generation += 1
        self.view = None
        self._pages.clear()
        self._marks.clear()
        self.endResetModel()

    def _show(self, view: queries.EventView | ReversedView | queries.PositionsView) -> None:
        self.beginResetModel()
        self.generation += 1
        self.view = view
        self._pages.clear()
        self._marks.clear()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by ``column`` in SQL (-1 or time ascending: the case's time order).

        Asking again for the sort shown or running does nothing (``QTableView.sortByColumn``
        asks twice: through the header's signal, then directly).
        """
        if column >= len(EVENT_COLUMNS) or self._sort_key == (self.query, column, order):
            return
        self.sort_column, self.sort_order = column, order
        # A sort is an examiner action: applied (and journaled) with the filter it orders.
        self.base = self.session.apply(self.query, sort=self.sort_spec(), via="sort")
        self._apply_sort(self.base)

    def _apply_sort(self, base: queries.EventView) -> None:
        self.stop_sorting()
        column, order = self.sort_column, self.sort_order
        self._sort_key = (self.query, column, order)
        name = EVENT_COLUMNS[column][0] if column >= 0 else "time"
        descending = order == Qt.SortOrder.DescendingOrder
        if name == "time":
            wanted = ReversedView(base) if descending else base
            if wanted is not self.view:
                self._show(wanted)
            self.sorted_ready.emit(column, order)
            return
        if self.view is not base:
            self._show(base)
        query = self.query
        self.sorter.start(
            query_job(
                self.session, lambda reader: sort_and_first_page(reader, query, name, descending)
            ),
            self._sorted,
            self._sort_failed,
        )
        self.sorting.emit(column)

    def _sorted(self, read: tuple[Any, list[Any]]) -> None:
        # Only the newest sort's answer arrives here (LatestJob): a newer query or sort dropped
        # the ones before.
        positions, first_page = read
        self._show(self.session.positions_view(positions))
        self._pages[0] = first_page  # read with the sort: the table shows it without a query
        self.sorted_ready.emit(self.sort_column, self.sort_order)

    def _sort_failed(self, message: str) -> None:
        self._sort_key = None  # asking again tries again
        self.sort_failed.emit(message)

    def stop_sorting(self, *, wait: bool = False) -> None:
        """Stop a column sort still running (a new one, a new query; ``wait`` when closing).

        Without ``wait`` the GUI thread does not block on it: DuckDB may take a while to notice
        the interrupt, and its answer is dropped anyway.
        """
        self.sorter.stop(wait=wait)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show times in ``tz`` (UTC when None)."""
        self.tz = tz
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """Rows in the view (0 under a parent: the model is flat)."""
        if parent.isValid() or self.view is None:
            return 0
        return self.view.count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """The fixed event columns."""
        return 0 if parent.isValid() else len(EVENT_COLUMNS)

    def event(self, row: int) -> dict[str, Any] | None:  # type: ignore[override]
        """The full event of ``row`` (fetching its page when needed).

        The name shadows ``QObject.event``: Qt's own events (a child added, say) still go there.
        """
        if not isinstance(row, int):
            return super().event(row)  # type: ignore[no-any-return]
        if self.view is None or not 0 <= row < self.view.count:
            return None
        page = row // PAGE
        rows = self._pages.get(page)
        if rows is None:
            generation = self.generation
            rows = self.view.rows(page * PAGE, PAGE)
            if generation != self.generation:  # a newer query replaced the view meanwhile
                return None
            self._pages[page] = rows
            while len(self._pages) > CACHE_PAGES:
                self._marks.pop(self._pages.popitem(last=False)[0], None)
        else:
            self._pages.move_to_end(page)
        offset = row - page * PAGE
        return rows[offset] if offset < len(rows) else None

    def row_mark(self, row: int, *, fetch: bool = True) -> str | None:
        """What marks the event of ``row`` (its bookmarks, in words), or None.

        Read with the rest of its page the first time; without ``fetch``, only when the page and
        its marks are already read (the row header asks, it does not read).
        """
        if self.mark_reader is None:
            return None
        page = row // PAGE
        marks = self._marks.get(page)
        if marks is None and not fetch:
            return None
        event = self.event(row)  # reads the page when needed; its marks go with it
        rows = self._pages.get(page)
        if event is None or rows is None:
            return None
        if marks is None:
            marks = self._marks[page] = self.mark_reader([int(e["ord"]) for e in rows])
            if marks:  # row headers drawn before this read show the ribbons now
                first, last = page * PAGE, page * PAGE + len(rows) - 1
                QTimer.singleShot(
                    0,
                    self,  # not called once the model is gone
                    lambda: self.headerDataChanged.emit(Qt.Orientation.Vertical, first, last),
                )
        return marks.get(int(event["ord"]))

    def refresh_marks(self) -> None:
        """Read the marks again as rows are drawn (a bookmark was added)."""
        self._marks.clear()
        if self.rowCount():
            last = self.rowCount() - 1
            self.dataChanged.emit(self.index(0, 0), self.index(last, len(EVENT_COLUMNS) - 1))
            self.headerDataChanged.emit(Qt.Orientation.Vertical, 0, last)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, integrity colours, tooltips, and the tint of a marked row."""
        if not index.isValid():
            return None
        event = self.event(index.row())
        if event is None:
            return None
        name = EVENT_COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.BackgroundRole:
            marked = self.row_mark(index.row()) is not None
            return QBrush(QColor(MARK_TINT[dark_background()])) if marked else None
        if role == Qt.ItemDataRole.ToolTipRole and (mark := self.row_mark(index.row())):
            value = event.get(name)
            text = queries.format_time(event.get("time_ns"), self.tz) if name == "time" else value
            return mark if text in (None, "") else f"{text}\n\n{mark}"
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if name == "time":
                return queries.format_time(event.get("time_ns"), self.tz)
            value = event.get(name)
            if value is None:
                return "" if role == Qt.ItemDataRole.DisplayRole else None
            text = str(value)
            if role == Qt.ItemDataRole.DisplayRole and len(text) > 200:
                return text[:199] + "…"
            return text
        if role == Qt.ItemDataRole.ForegroundRole and name == "integrity":
            colour = status_colour(str(event.get("integrity")))
            return QBrush(colour) if colour else None
        if role == Qt.ItemDataRole.UserRole:
            return event.get(name) if name != "time" else event.get("time_ns")
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles (the time column names its zone), row numbers and their marks."""
        if orientation == Qt.Orientation.Vertical and self.mark_reader is not None:
            if role == Qt.ItemDataRole.DecorationRole:
                return self._icons[self.row_mark(section, fetch=False) is not None]
            if role == Qt.ItemDataRole.ToolTipRole:
                return self.row_mark(section, fetch=False)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if not 0 <= section < len(EVENT_COLUMNS):
                return None
            title = EVENT_COLUMNS[section][1]
            if EVENT_COLUMNS[section][0] == "time":
                return f"{title} ({self.tz.key if self.tz else 'UTC'})"
            return title
        return str(section + 1)


class RowsModel(QAbstractTableModel):
    """A small, fully loaded table (bundles, findings, actors): at most a few thousand rows."""

    def __init__(
        self,
        columns: list[tuple[str, str]],
        parent: Any = None,
        time_keys: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[dict[str, Any]] = []
        self.time_keys = time_keys  # columns holding times: their titles name the zone
        self.tz: ZoneInfo | None = None
        self.sort_key: tuple[int, Qt.SortOrder] | None = None  # as loaded until one is asked

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Name ``tz`` in the time columns' titles (the rows are formatted by the view)."""
        self.tz = tz
        if self.time_keys:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.columns) - 1)

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Replace the rows (kept in the sort asked for last)."""
        self.beginResetModel()
        self.rows = rows
        if self.sort_key is not None:
            self._sort_rows(*self.sort_key)
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the loaded rows by ``column`` (a few thousand at most: sorted here, not in SQL).

        Empty cells come last either way; numbers compare as numbers.
        """
        if not 0 <= column < len(self.columns):
            return
        self.layoutAboutToBeChanged.emit()
        self.sort_key = (column, order)
        self._sort_rows(column, order)
        self.layoutChanged.emit()

    def _sort_rows(self, column: int, order: Qt.SortOrder) -> None:
        key = self.columns[column][0]
        present = [r for r in self.rows if r.get(key) not in (None, "")]
        empty = [r for r in self.rows if r.get(key) in (None, "")]

        def value(row: dict[str, Any]) -> tuple[int, Any]:
            item = row[key]
            if isinstance(item, int | float) and not isinstance(item, bool):
                return (0, item)
            return (
                1,
                json.dumps(item, ensure_ascii=False)
                if isinstance(item, list | dict)
                else str(item),
            )

        present.sort(key=value, reverse=order == Qt.SortOrder.DescendingOrder)
        self.rows = present + empty

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """Rows loaded."""
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: N802, B008
        """Columns declared."""
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text; verdict and integrity cells are coloured."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        key = self.columns[index.column()][0]
        value = self.rows[index.row()].get(key)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if value is None:
                return "" if role == Qt.ItemDataRole.DisplayRole else None
            if isinstance(value, list | dict):
                return json.dumps(value, ensure_ascii=False)
            return str(value)
        if role == Qt.ItemDataRole.ForegroundRole and key in ("verdict", "integrity", "severity"):
            colour = status_colour(str(value))
            return QBrush(colour) if colour else None
        if role == Qt.ItemDataRole.UserRole:
            return value
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles."""
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            key, title = self.columns[section]
            if key in self.time_keys:
                return f"{title} ({self.tz.key if self.tz else 'UTC'})"
            return title
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None
