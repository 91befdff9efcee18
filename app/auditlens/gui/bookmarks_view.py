"""The Bookmarks tab and the bookmark dialog (issue 14, point 1; docs/case.md "Bookmarks").

The tab lists every bookmarked event once, in time order, with all its tags and notes, as the
legal API gives them (``Legal.bookmarks``, read on a worker's cursor and journaled there);
activating one asks the window to show that event in the Events tab. The dialog asks for the
tags and the note of a bookmark; the bookmark itself is made by the legal API
(gui/legal_actions.py). Nothing here reads the case but through that API.
"""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from auditlens.core.errors import UsageError
from auditlens.core.report.bookmarks import MAX_TAG_LENGTH, BookmarkedEvent, check_labels
from auditlens.core.report.session import Legal
from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.gui.models import RowsModel
from auditlens.gui.views import LazyView, _table


def split_tags(text: str) -> list[str]:
    """The tags typed in the dialog: comma separated, blanks dropped, each once, in order."""
    return list(dict.fromkeys(t.strip() for t in text.split(",") if t.strip()))


class BookmarkDialog(QDialog):
    """Tags and a note for the events about to be bookmarked."""

    def __init__(
        self,
        count: int,
        span: tuple[str, str] | None,
        known_tags: list[str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Bookmark events")
        self.setObjectName("bookmark-dialog")
        what = f"{count:,} selected event{'s' if count != 1 else ''}"
        if span is not None:
            what += f"<br>from {span[0]}<br>to {span[1]}" if span[0] != span[1] else f", {span[0]}"
        self.heading = QLabel(f"<b>Bookmark {what}</b>")
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("exfiltration, after-hours")
        self.tags.setMaxLength(MAX_TAG_LENGTH * 10)
        if known_tags:
            from PySide6.QtWidgets import QCompleter

            completer = QCompleter(known_tags, self.tags)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.tags.setCompleter(completer)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What these events show, and why they matter")
        self.note.setTabChangesFocus(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c62828")
        self.error.hide()
        form = QFormLayout()
        form.addRow("Tags (comma separated):", self.tags)
        form.addRow("Note:", self.note)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Bookmark")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(
            QLabel(
                "The bookmark names each event by its stream and sequence number (or its "
                "input's SHA-256 and line) and is kept in the journal."
            )
        )
        layout.addWidget(buttons)
        self.resize(520, 300)

    def chosen(self) -> tuple[list[str], str]:
        """The tags and the note entered."""
        return split_tags(self.tags.text()), self.note.toPlainText().strip()

    def _check(self) -> None:
        # The core's rules (bookmarks.check_labels), so the dialog stays open on what the
        # bookmark would be refused for, saying it in the core's words.
        try:
            check_labels(*self.chosen())
        except UsageError as exc:
            self.show_error(exc.message)
        else:
            self.accept()

    def show_error(self, message: str) -> None:
        """Say what is wrong under the fields (the dialog stays open)."""
        self.error.setText(message)
        self.error.show()


class BookmarksView(LazyView):
    """Every bookmarked event in time order, with its tags and notes."""

    # A bookmarked event was activated (double-click, Enter): show it in the Events tab.
    event_activated = Signal(object)
    status = Signal(str)
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("time", "Time"),
        ("tags", "Tags"),
        ("notes", "Notes"),
        ("actor_id", "Actor"),
        ("action", "Action"),
        ("resource_id", "Resource"),
        ("integrity", "Integrity"),
        ("ref", "Reference"),
        ("body", "Body"),
    ]

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tz: ZoneInfo | None = None
        self.entries: list[BookmarkedEvent] = []
        self.model = RowsModel(self.COLUMNS, self, time_keys=("time",))
        self.table = _table(self.model)
        self.table.doubleClicked.connect(self._activated)
        self.table.activated.connect(self._activated)
        self.summary = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self._show_summary()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show the times in ``tz`` (the rows read are formatted again, not read again)."""
        if tz != self.tz:
            self.tz = tz
            self.model.set_time_zone(tz)
            self._fill()

    def refresh(self) -> None:
        """Read the bookmarked events again, on a worker (journaled by the legal API)."""
        super().refresh()
        self.read_in_background(
            self.session, lambda reader: Legal.of(reader).bookmarks(), self._read
        )

    def read_failed(self, message: str) -> None:
        """Say why the list is missing."""
        self.summary.setText(f"Cannot read the bookmarks: {message}")

    def _read(self, entries: list[BookmarkedEvent]) -> None:
        self.entries = entries
        self._fill()
        self.loaded.emit()

    def tags(self) -> list[str]:
        """Every tag used so far, in order of first use (the dialog offers them)."""
        return list(dict.fromkeys(t for e in self.entries for t in e.tags))

    def _fill(self) -> None:
        rows: list[dict[str, Any]] = []
        for entry in self.entries:
            event = entry.event or {}
            rows.append(
                {
                    "time": queries.format_time(event.get("time_ns"), self.tz),
                    "tags": ", ".join(entry.tags),
                    "notes": " | ".join(entry.notes),
                    "actor_id": event.get("actor_id"),
                    "action": event.get("action"),
                    "resource_id": event.get("resource_id"),
                    "integrity": event.get("integrity", "(not in the case)"),
                    "body": event.get("body"),
                    "ref": entry.ref,
                    "entry": entry,  # not a column: what activating the row shows
                }
            )
        self.model.set_rows(rows)
        if rows and not self.table.property("sized"):
            self.table.setProperty("sized", True)
            self.table.resizeColumnsToContents()
            header = self.table.horizontalHeader()
            for column in range(len(self.COLUMNS)):
                header.resizeSection(column, min(header.sectionSize(column), 320))
        self._show_summary()

    def _show_summary(self) -> None:
        if not self.entries:
            self.summary.setText(
                "No bookmarks yet. Select rows in the Events tab and press Ctrl+B (or use the "
                "right-click menu) to bookmark them with tags and a note."
            )
            return
        self.summary.setText(
            f"{len(self.entries):,} bookmarked event(s), in time order. Double-click one to show "
            "it in the Events tab."
        )

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid() and 0 <= index.row() < len(self.model.rows):
            entry = self.model.rows[index.row()]["entry"]
            if entry.event is None:
                self.status.emit(f"{entry.ref} is not in the case: its evidence is not imported")
                return
            self.event_activated.emit(entry)
