"""The trace view's list of the metric exemplars that point into the trace (docs/case.md, Metrics).

One row per exemplar: its own time, the metric, its value, the span it names, and its data
point's value and time. Activating a row (double-click, Enter) reports the exemplar: the trace
view then shows its data point and rings it on the waterfall. The rows come with the trace the
view opened (``queries.Trace.exemplars``): nothing is read here.
"""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QAbstractItemView, QLabel, QTableView, QVBoxLayout, QWidget

from auditlens.core.store import queries
from auditlens.gui.models import RowsModel


def _value(value: Any, unit: str) -> str:
    if value is None:
        return ""
    return f"{value} {unit}".strip()


class ExemplarTable(QWidget):
    """The exemplars of a trace, one per row; activating one emits ``exemplar_activated``."""

    exemplar_activated = Signal(object)  # a queries.Exemplar

    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("time", "Time"),
        ("metric", "Metric"),
        ("value", "Exemplar value"),
        ("span", "Span"),
        ("point_value", "Data point"),
        ("point_time", "Data point time"),
    ]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz: ZoneInfo | None = None
        self.trace: queries.Trace | None = None
        self.title = QLabel()
        self.model = RowsModel(self.COLUMNS, self, time_keys=("time", "point_time"))
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.activated.connect(self._activated)  # double-click, or Enter
        self.table.setToolTip("Double-click (or Enter) to show the exemplar's data point")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        self.set_trace(None)

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show the times in ``tz``."""
        self.tz = tz
        self.model.set_time_zone(tz)
        self.set_trace(self.trace)

    def set_trace(self, trace: queries.Trace | None) -> None:
        """List the exemplars pointing into ``trace`` (none: an empty list)."""
        self.trace = trace
        exemplars = trace.exemplars if trace is not None else []
        spans: dict[str, dict[str, Any]] = {}
        stack = list(trace.roots) if trace is not None else []
        while stack:
            node = stack.pop()
            spans[node.span.get("span_id") or ""] = node.span
            stack.extend(node.children)
        rows = []
        for exemplar in exemplars:
            point = exemplar.point
            span = spans.get(exemplar.span_id or "")
            shown = str(point.get("body") or "").removeprefix(f"{exemplar.metric} = ")
            rows.append(
                {
                    "time": queries.format_time(exemplar.time_ns, self.tz),
                    "metric": exemplar.metric,
                    "value": _value(exemplar.value, exemplar.unit),
                    "span": (
                        f"{span.get('service') or '?'}: {span.get('name') or ''}"
                        if span is not None
                        else f"{exemplar.span_id or '(none)'} (not in the case)"
                    ),
                    "point_value": shown,
                    "point_time": queries.format_time(point.get("time_ns"), self.tz),
                    "exemplar": exemplar,
                }
            )
        self.model.set_rows(rows)
        if rows:
            self.table.resizeColumnsToContents()
        count = len(rows)
        self.title.setText(
            f"{count} metric exemplar(s) point into this trace"
            + (": double-click one for its data point" if count else "")
        )

    def exemplars(self) -> list[queries.Exemplar]:
        """The exemplars listed, in the order shown."""
        return [row["exemplar"] for row in self.model.rows]

    def select(self, exemplar: queries.Exemplar) -> None:
        """Select the row of ``exemplar`` (without activating it)."""
        for index, shown in enumerate(self.exemplars()):
            if shown is exemplar:
                self.table.selectRow(index)
                return

    def activate(self, row: int) -> None:
        """Activate the exemplar of ``row`` (as a double-click does)."""
        if 0 <= row < len(self.model.rows):
            self.exemplar_activated.emit(self.model.rows[row]["exemplar"])

    def _activated(self, index: QModelIndex) -> None:
        self.activate(index.row())
