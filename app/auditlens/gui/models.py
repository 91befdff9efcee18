"""Qt models over the case. Each reads through core queries; none holds a whole result set.

:class:`EventTableModel` serves millions of rows (STYLE point 5): the row count comes from the
view's ``COUNT``, rows are fetched a page at a time into a small cache as the view asks for them,
and each fetch is tagged with the model's generation so an answer for an old filter is dropped.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from auditlens.core.store import queries
from auditlens.core.store.case import Case

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
    ("resource_type", "Resource type"),
    ("resource_id", "Resource"),
    ("source_ip", "Source address"),
    ("tenant", "Tenant"),
    ("name", "Name"),
    ("integrity", "Integrity"),
    ("body", "Body"),
]

INTEGRITY_COLOURS = {
    "verified": "#2e7d32",
    "untrusted": "#f9a825",
    "unsealed": "#757575",
    "tampered": "#c62828",
    "invalid": "#6a1b9a",
}


class EventTableModel(QAbstractTableModel):
    """The events matching a query, in time order, fetched by pages."""

    def __init__(self, case: Case, parent: Any = None) -> None:
        super().__init__(parent)
        self.case = case
        self.tz: ZoneInfo | None = None
        self.view: queries.EventView | None = None
        self.generation = 0
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self.set_query(queries.EventQuery())

    def set_query(self, query: queries.EventQuery) -> None:
        """Show the events of ``query`` (may raise the filter's QuerySyntaxError)."""
        view = queries.EventView(self.case, query)
        self.beginResetModel()
        self.generation += 1
        self.view = view
        self._pages.clear()
        self.endResetModel()

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
        """The full event of ``row`` (fetching its page when needed)."""
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
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        offset = row - page * PAGE
        return rows[offset] if offset < len(rows) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, integrity colours and tooltips."""
        if not index.isValid():
            return None
        event = self.event(index.row())
        if event is None:
            return None
        name = EVENT_COLUMNS[index.column()][0]
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
            colour = INTEGRITY_COLOURS.get(str(event.get("integrity")))
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.UserRole:
            return event.get(name) if name != "time" else event.get("time_ns")
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Column titles (the time column names its zone) and row numbers."""
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

    def __init__(self, columns: list[tuple[str, str]], parent: Any = None) -> None:
        super().__init__(parent)
        self.columns = columns
        self.rows: list[dict[str, Any]] = []

    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        """Replace the rows."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

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
            colour = INTEGRITY_COLOURS.get(str(value)) or {
                "error": "#c62828",
                "warning": "#ef6c00",
            }.get(str(value))
            return QBrush(QColor(colour)) if colour else None
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
            return self.columns[section][1]
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None
