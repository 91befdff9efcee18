"""The filter bar: the CLI's filter language, with the error underlined where the parser says.

A one-line QPlainTextEdit rather than a QLineEdit, because only a text document can draw a wavy
underline under a span of the text. History (Up/Down) and completion of field names and of
values seen in the case come with it.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QCompleter, QPlainTextEdit, QTextEdit, QWidget

from auditlens.core.errors import QuerySyntaxError
from auditlens.core.query import parse


class FilterBar(QPlainTextEdit):
    """Emits ``filter_applied`` with valid text on Enter; shows parse errors in place."""

    filter_applied = Signal(str)
    # Enter on an invalid filter: the QuerySyntaxError (the view must not keep the old result).
    filter_rejected = Signal(object)
    # Asked once, when completion is first needed: the values seen in the case cost a scan of
    # every event (0.15-0.3 s at 10^7 events) that must not delay the window.
    completions_wanted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Filter, e.g.  actor_id:sup-004 AND action:(EXPORT OR DOWNLOAD)")
        height = self.fontMetrics().height() + 14
        self.setFixedHeight(height)
        self.history: list[str] = []
        self._history_pos = 0
        self.error: QuerySyntaxError | None = None
        self._completer = QCompleter(self)
        self._completer.setWidget(self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.activated.connect(self._insert_completion)
        self._words = QStringListModel(self)
        self._completer.setModel(self._words)
        self.textChanged.connect(self._check)
        self._completions_asked = False

    def set_completions(self, words: list[str]) -> None:
        """Field names and values the completer offers."""
        self._words.setStringList(sorted(set(words)))

    def reset_completions(self, words: list[str]) -> None:
        """Offer ``words``; ask again (``completions_wanted``) when completion is next needed."""
        self.set_completions(words)
        self._completions_asked = False

    def text(self) -> str:
        """The filter text."""
        return self.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the filter text."""
        self.setPlainText(text)
        self.moveCursor(QTextCursor.MoveOperation.End)

    def _check(self) -> None:
        text = self.text()
        try:
            parse(text)  # the syntax only: compiling to SQL is the examination's
            self.error = None
            self.setExtraSelections([])
            self.setToolTip("")
        except QuerySyntaxError as exc:
            self.error = exc
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor("#d32f2f"))
            selection.format = fmt
            cursor = QTextCursor(self.document())
            start = max(0, min(exc.start, len(text)))
            end = max(start + 1, min(exc.end, len(text)))
            cursor.setPosition(start)
            cursor.setPosition(min(end, len(text)), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            self.setExtraSelections([selection])
            self.setToolTip(exc.message)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        """Enter applies, Up/Down walk the history, Ctrl+Space completes."""
        popup = self._completer.popup()
        if (
            popup is not None
            and popup.isVisible()
            and event.key()
            in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Escape)
        ):
            event.ignore()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.apply()
            return
        if event.key() == Qt.Key.Key_Up and self.history:
            self._history_pos = max(0, self._history_pos - 1)
            self.set_text(self.history[self._history_pos])
            return
        if event.key() == Qt.Key.Key_Down and self.history:
            self._history_pos = min(len(self.history), self._history_pos + 1)
            self.set_text(
                self.history[self._history_pos] if self._history_pos < len(self.history) else ""
            )
            return
        super().keyPressEvent(event)
        if (
            event.key() == Qt.Key.Key_Space
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ) or (event.text() and (event.text().isalnum() or event.text() in "._-")):
            self._complete()

    def _current_word(self) -> str:
        cursor = self.textCursor()
        text = self.text()[: cursor.position()]
        start = max(text.rfind(c) for c in " ():[{") + 1
        return text[start:]

    def _complete(self) -> None:
        if not self._completions_asked:
            self._completions_asked = True
            self.completions_wanted.emit()
        prefix = self._current_word()
        if len(prefix) < 1:
            self._completer.popup().hide()
            return
        self._completer.setCompletionPrefix(prefix)
        if self._completer.completionCount() == 0:
            self._completer.popup().hide()
            return
        rect = self.cursorRect()
        rect.setWidth(260)
        self._completer.complete(rect)

    def _insert_completion(self, completion: str) -> None:
        prefix = self._current_word()
        cursor = self.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix)
        )
        cursor.insertText(completion)
        self.setTextCursor(cursor)

    def apply(self) -> None:
        """Apply the filter when it parses; otherwise leave the error showing."""
        self._check()
        if self.error is not None:
            self.filter_rejected.emit(self.error)
            return
        text = self.text().strip()
        self.remember(text)
        self.filter_applied.emit(text)

    def remember(self, text: str) -> None:
        """Add ``text`` to the history Up/Down walk (applied from here or put here by a pivot)."""
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._history_pos = len(self.history)
