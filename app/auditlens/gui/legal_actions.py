"""The workbench's legal actions (issue 14): bookmarks, exports, exhibits and the report.

Each goes through the legal API (``Legal`` in core/report/session.py), on the window's
examination or, for the long jobs, on a reader of it in a worker (``Legal.of``), so every action
is journaled once with origin ``workbench``, exactly as the CLI's (docs/case.md, "What is
journaled, and from where"). This module holds no SQL and no state of the case.

* **Bookmark** (Evidence > Bookmark selected events, Ctrl+B, the events table's context menu):
  the selected rows, named by their stable references, with the tags and note of a small dialog.
  The events table marks bookmarked rows (a tint, a ribbon in the row header, the tags and notes
  in the tooltip), read a page at a time by ``Legal.marks_at``: a derived read, not journaled.
* **Export view** (Evidence > Export view…): the applied filter and time range, in the format
  the file's name says (or the one chosen), written by a worker with progress and Cancel. The
  core never replaces a file and refuses a place inside the evidence; the window says where it
  wrote and the file's SHA-256.
* **Export exhibit** (Evidence > Export exhibit…): the selected rows or the view's events, into a
  new folder that ``auditlens verify DIR`` checks.
* **Report** (Evidence > Report…): the examination report (docs/report.md) as a new PDF or HTML
  file, times in the zone shown, written by a worker; the window says where and its SHA-256. A
  PDF may be signed with the examiner's key (gui/report_dialog.py, docs/report-signature.md §4),
  journaled ``signed`` as the CLI's ``report --sign``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QTabWidget

from auditlens.core.errors import Error, UsageError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.query import record_filter
from auditlens.core.report.bookmarks import MAX_BOOKMARK_EVENTS, BookmarkedEvent
from auditlens.core.report.export import SUFFIX_FORMATS
from auditlens.core.report.session import Legal
from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.core.words import counted
from auditlens.gui.bookmarks_view import BookmarkDialog, BookmarksView
from auditlens.gui.report_dialog import ReportSigningDialog
from auditlens.gui.views import EventsView
from auditlens.gui.worker import Job, JobWorker

if TYPE_CHECKING:
    from auditlens.core.report.pdfsign import ReportSigner
    from auditlens.gui.main_window import MainWindow

# The save dialog's choices, in the order offered; the file's suffix decides first.
EXPORT_FILTERS = {
    "csv": "CSV (*.csv)",
    "jsonl": "JSON lines (*.jsonl)",
    "parquet": "Parquet (*.parquet)",
}


REPORT_FILTERS = {"pdf": "PDF (*.pdf)", "html": "HTML (*.html)"}


def export_format(path: Path, chosen_filter: str = "") -> tuple[Path, str]:
    """The format of an export to ``path``: its suffix, else the dialog's filter (suffix added).

    Raises:
        ValueError: if neither names one of the export formats.
    """
    named = SUFFIX_FORMATS.get(path.suffix.lower())
    if named is not None:
        return path, named
    for fmt, name in EXPORT_FILTERS.items():
        if name == chosen_filter:
            return path.with_name(f"{path.name}.{fmt}"), fmt
    raise ValueError(f"{path.name}: name the file .csv, .jsonl or .parquet")


MARK_NOTES = 3  # notes a row's tooltip shows; the Bookmarks tab lists them all
MARK_NOTE_LENGTH = 200


def mark_text(mark: BookmarkedEvent) -> str:
    """What a bookmarked row's tooltip says: its bookmarks, tags and notes."""
    numbers = ", ".join(str(b) for b in mark.bookmark_ids)
    lines = [f"Bookmarked ({'bookmarks' if len(mark.bookmark_ids) > 1 else 'bookmark'} {numbers})"]
    if mark.tags:
        lines.append("Tags: " + ", ".join(mark.tags))
    for note in mark.notes[:MARK_NOTES]:
        cut = note if len(note) <= MARK_NOTE_LENGTH else note[: MARK_NOTE_LENGTH - 1] + "…"
        lines.append("Note: " + cut.replace("\n", " "))
    if len(mark.notes) > MARK_NOTES:
        lines.append(f"… and {len(mark.notes) - MARK_NOTES} more note(s): see the Bookmarks tab")
    return "\n".join(lines)


def legal_job(
    session: Examination,
    run: Callable[[Legal, CancelToken], Generator[Progress, None, Any]],
) -> Job:
    """A worker job running ``run(legal, token)`` on a reader of ``session`` (its own cursor).

    The reader is made here, on the GUI thread (see worker.query_job); Cancel interrupts it.
    """
    reader = session.reader()

    def job(token: CancelToken) -> Generator[Progress, None, Any]:
        token.on_cancel(reader.interrupt)
        try:
            return (yield from run(Legal.of(reader), token))
        finally:
            reader.close()

    return job


class LegalActions(QObject):
    """The Evidence menu and the bookmark key of one window; the Bookmarks tab's owner."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.session: Examination | None = None
        self.events: EventsView | None = None
        self.bookmarks: BookmarksView | None = None
        self.worker: JobWorker | None = None
        self.dialog: BookmarkDialog | None = None
        self.signing: ReportSigningDialog | None = None
        self.message = ""  # what the last action said (also in the status bar and a box)
        self.bookmark_action = self._action(
            "&Bookmark selected events…", "Ctrl+B", self.bookmark_selected
        )
        self.export_action = self._action("&Export view…", "Ctrl+E", self.ask_export)
        self.exhibit_action = self._action("Export e&xhibit…", "Ctrl+Shift+E", self.ask_exhibit)
        self.report_action = self._action("&Report…", None, self.ask_report)
        self.bookmarks_tab_action = self._action("Show &bookmarks", None, self.show_bookmarks)
        menu = window.menuBar().addMenu("E&vidence")
        menu.addAction(self.bookmark_action)
        menu.addAction(self.bookmarks_tab_action)
        menu.addSeparator()
        menu.addAction(self.export_action)
        menu.addAction(self.exhibit_action)
        menu.addSeparator()
        menu.addAction(self.report_action)
        self.menu = menu
        self._enable(False)

    def _action(self, text: str, shortcut: str | None, slot: Callable[[], Any]) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _enable(self, on: bool) -> None:
        for action in (
            self.bookmark_action,
            self.export_action,
            self.exhibit_action,
            self.report_action,
            self.bookmarks_tab_action,
        ):
            action.setEnabled(on)

    # -- the case's views ----------------------------------------------------------------------

    def attach(self, session: Examination, tabs: QTabWidget, events: EventsView) -> BookmarksView:
        """Act on ``session``'s events view; add the Bookmarks tab to ``tabs`` and return it."""
        self.session, self.events = session, events
        self.bookmarks = BookmarksView(session)
        self.bookmarks.event_activated.connect(self.show_bookmarked)
        self.bookmarks.status.connect(self._say)
        tabs.addTab(self.bookmarks, "Bookmarks")
        events.row_actions.extend([self.bookmark_action, self.exhibit_action])
        events.model.mark_reader = self.read_marks
        self._enable(True)
        return self.bookmarks

    def show_bookmarks(self) -> None:
        """Bring the Bookmarks tab forward."""
        if self.bookmarks is not None:
            self.window.tabs.setCurrentWidget(self.bookmarks)

    def show_bookmarked(self, entry: BookmarkedEvent) -> None:
        """Show a bookmarked event in the Events tab: the pivot to its record (journaled)."""
        if self.events is None or entry.event is None:
            return
        event = entry.event
        self.window.tabs.setCurrentWidget(self.events)
        self.events.show_filter(
            record_filter(str(event["stream_id"]), int(event["seq"])),
            via="pivot",
            pivot={"bookmark": entry.ref},
            time_range=(None, None),
        )
        if self.events.model.rowCount():
            self.events.jump_to(0)

    # -- bookmarks -------------------------------------------------------------------------------

    def selected_positions(self) -> list[int] | None:
        """The timeline positions of the selected rows; None when some are not read yet.

        Raises:
            UsageError: when more rows are selected than one bookmark may hold.
        """
        if self.events is None:
            return []
        selected = self.events.table.selectionModel().selectedRows()
        if len(selected) > MAX_BOOKMARK_EVENTS:
            raise UsageError(
                f"{len(selected):,} rows are selected, more than the {MAX_BOOKMARK_EVENTS:,} one "
                "bookmark or exhibit may hold: narrow the filter"
            )
        found = self.events.selected_events()
        if len(found) != len(selected):
            return None
        return [int(e["ord"]) for e in found]

    def bookmark_selected(self) -> BookmarkDialog | None:
        """Ask tags and a note for the selected rows; bookmark them when the dialog is accepted."""
        try:
            positions = self.selected_positions()
        except UsageError as exc:
            self._say(exc.diagnostics())
            return None
        if positions is None:
            self._say("some selected rows are not read yet: scroll through them first")
            return None
        if not positions:
            self._say("select the events to bookmark in the Events tab first")
            return None
        assert self.events is not None
        times = sorted(e["time_ns"] for e in self.events.selected_events())
        span = (
            queries.format_time(times[0], self.events.tz) or "",
            queries.format_time(times[-1], self.events.tz) or "",
        )
        known = self.bookmarks.tags() if self.bookmarks is not None else []
        dialog = BookmarkDialog(len(positions), span, known, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda: self.bookmark(positions, *dialog.chosen()))
        self.dialog = dialog
        dialog.open()
        return dialog

    def read_marks(self, positions: list[int]) -> dict[int, str]:
        """The bookmarks of the events at ``positions``, in words, by position (not journaled)."""
        if self.session is None or self.session.closed:
            return {}
        return {p: mark_text(m) for p, m in Legal.of(self.session).marks_at(positions).items()}

    def bookmark(self, positions: list[int], tags: list[str], note: str) -> bool:
        """Bookmark the events at ``positions`` with ``tags`` and ``note`` (journaled)."""
        if self.session is None:
            return False
        try:
            legal = Legal.of(self.session)
            mark = legal.bookmark(refs=legal.refs_at(positions), tags=tags, note=note)
        except Error as exc:
            self._warn("Not bookmarked", exc.diagnostics())
            return False
        tagged = f", tagged {', '.join(mark.tags)}" if mark.tags else ""
        self._say(f"bookmark {mark.bookmark_id}: {counted(len(mark.refs), 'event')}{tagged}")
        if self.bookmarks is not None:
            self.bookmarks.invalidate()
        if self.events is not None:
            self.events.model.refresh_marks()
        return True

    # -- export and exhibit ----------------------------------------------------------------------

    def applied_query(self) -> queries.EventQuery | None:
        """The filter and time range the events view shows (None while its filter is invalid)."""
        if self.events is None or self.events.model.view is None:
            return None
        return self.events.model.query

    def ask_export(self) -> JobWorker | None:
        """Choose a new file and export the view to it."""
        query = self.applied_query()
        if query is None:
            self._say("the filter is invalid: nothing to export")
            return None
        named = self._ask_new(
            "Export the view's events to a new file", "events.csv", EXPORT_FILTERS
        )
        if named is None:
            return None
        try:
            out, fmt = export_format(*named)
        except ValueError as exc:
            self._warn("Not exported", str(exc))
            return None
        return self.export_view(out, fmt)

    def export_view(self, out: Path, fmt: str) -> JobWorker | None:
        """Export the applied filter and range to the new file ``out`` in a worker."""
        query = self.applied_query()
        if query is None or self.session is None:
            return None

        def run(legal: Legal, token: CancelToken) -> Generator[Progress, None, Any]:
            return legal.export(query, fmt=fmt, out=out, token=token)

        def done(result: Any) -> None:
            self._tell(
                "Exported",
                f"Exported {result.rows:,} events ({result.size:,} bytes, {result.format}) to\n"
                f"{result.path}\n\nSHA-256: {result.sha256}\n\nThe journal records the filter, "
                "the file and this digest.",
            )

        return self._start(legal_job(self.session, run), "Exporting the view…", done)

    def ask_exhibit(self) -> JobWorker | None:
        """Choose the selected rows or the view's events, and a new folder; write the exhibit."""
        try:
            positions = self.selected_positions()
        except UsageError as exc:
            self._say(exc.diagnostics())
            return None
        query = self.applied_query()
        if positions is None:
            self._say("some selected rows are not read yet: scroll through them first")
            return None
        use_selection = bool(positions)
        if positions and query is not None and self.events is not None:
            box = QMessageBox(self.window)
            box.setWindowTitle("Export exhibit")
            box.setText("Which events go into the exhibit?")
            selected = box.addButton(
                f"The {len(positions):,} selected", QMessageBox.ButtonRole.AcceptRole
            )
            view = box.addButton(
                f"All {self.events.model.rowCount():,} of the view",
                QMessageBox.ButtonRole.AcceptRole,
            )
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() not in (selected, view):
                return None
            use_selection = box.clickedButton() is selected
        elif query is None:
            self._say("the filter is invalid and no row is selected: nothing to export")
            return None
        named = self._ask_new("New folder for the exhibit", "exhibit")
        if named is None:
            return None
        return self.export_exhibit(named[0], positions if use_selection else None)

    def export_exhibit(self, out: Path, positions: list[int] | None = None) -> JobWorker | None:
        """Write an exhibit of the events at ``positions`` (else the view's) into ``out``."""
        if self.session is None:
            return None
        refs: list[str] | None = None
        query: queries.EventQuery | None = None
        if positions:
            try:
                refs = Legal.of(self.session).refs_at(positions)
            except Error as exc:
                self._warn("No exhibit written", exc.diagnostics())
                return None
        else:
            query = self.applied_query()
            if query is None:
                return None

        def run(legal: Legal, token: CancelToken) -> Generator[Progress, None, Any]:
            return legal.exhibit(out, query=query, refs=refs, token=token)

        def done(result: Any) -> None:
            unsealed = (
                f"\n{result.unsealed:,} unsealed event(s) are listed without proof."
                if result.unsealed
                else ""
            )
            self._tell(
                "Exhibit written",
                f"Exhibit written to\n{result.path}\n\n{result.sealed:,} sealed record(s) with "
                f"their inclusion proofs and {result.bundles} signed manifest(s).{unsealed}\n\n"
                f"Index SHA-256: {result.index_sha256}\n\nAnyone can check it with:\n"
                f"auditlens verify {result.path} --trust TRUSTSTORE",
            )

        return self._start(legal_job(self.session, run), "Writing the exhibit…", done)

    def ask_report(self) -> JobWorker | None:
        """Choose a new PDF or HTML file, for a PDF whether to sign it; write the report."""
        named = self._ask_new(
            "Write the examination report to a new file", "report.pdf", REPORT_FILTERS
        )
        if named is None:
            return None
        out, chosen = named
        if out.suffix.lower() not in (".pdf", ".html", ".htm"):
            fmt = next((f for f, n in REPORT_FILTERS.items() if n == chosen), "pdf")
            out = out.with_name(f"{out.name}.{fmt}")
        signer = None
        if out.suffix.lower() == ".pdf":  # only a PDF is signed (docs/report-signature.md)
            self.signing = ReportSigningDialog(out, self.window.settings, self.window)
            accepted = self.signing.exec() == ReportSigningDialog.DialogCode.Accepted
            signer = self.signing.signer
            self.signing.deleteLater()
            self.signing = None
            if not accepted:
                self._say("no report written")
                return None
        return self.write_report(out, signer=signer)

    def write_report(self, out: Path, *, signer: ReportSigner | None = None) -> JobWorker | None:
        """Write the examination report to the new file ``out`` (``.pdf``, ``.html``) in a worker.

        Times in the report are in the zone the window shows; a PDF is signed by ``signer`` when
        given (the journal's entry says ``signed``, as for ``auditlens report --sign``).
        """
        if self.session is None:
            return None
        tz = self.events.tz if self.events is not None else None

        def run(legal: Legal, token: CancelToken) -> Generator[Progress, None, Any]:
            return legal.report(out, tz=tz, signer=signer, token=token)

        def done(result: Any) -> None:
            signed = (
                f"\n\nSigned by {signer.name}; anyone holding your public key checks it with:"
                f"\nauditlens verify {result.path} --trust examiner-key.pub.pem"
                if signer is not None
                else ""
            )
            self._tell(
                "Report written",
                f"Report written to\n{result.path}\n({result.size:,} bytes, {result.format})"
                f"\n\nSHA-256: {result.sha256}\n\nIt names the journal's head (entry "
                f"{result.journal_head[0]}); the journal records the file and this digest.{signed}",
            )

        return self._start(legal_job(self.session, run), "Writing the report…", done)

    def _ask_new(
        self, title: str, default: str, filters: dict[str, str] | None = None
    ) -> tuple[Path, str] | None:
        """The new file or folder the person names, with the filter chosen; None if cancelled.

        The dialog does not ask before replacing: the core never replaces what is there, it
        refuses (an export's or a report's file, an exhibit's folder unless empty).
        """
        name, chosen = QFileDialog.getSaveFileName(
            self.window,
            title,
            default,
            ";;".join(filters.values()) if filters else "",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        return (Path(name), chosen) if name else None

    # -- the worker and what the person is told ------------------------------------------------

    def _start(self, job: Job, label: str, done: Callable[[Any], None]) -> JobWorker | None:
        if self.worker is not None and self.worker.is_running():
            self._say("an export or report is already running")
            return None
        produced: list[Any] = []

        def recorded(token: CancelToken) -> Generator[Progress, None, Any]:
            result = yield from job(token)
            produced.append(result)
            return result

        worker = JobWorker(recorded, self)
        dialog = QProgressDialog(label, "Cancel", 0, 0, self.window)
        dialog.setWindowTitle(label.rstrip("…"))
        dialog.setMinimumDuration(500)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(worker.cancel)
        worker.progress.connect(lambda step: self.window._progress(dialog, step))

        def ended(then: Callable[[], None]) -> None:
            dialog.reset()
            worker.wait()
            then()

        worker.finished.connect(lambda result: ended(lambda: done(result)))
        worker.failed.connect(lambda message: ended(lambda: self._warn("Not written", message)))
        # Cancel pressed as the job ended: the file is written and journaled, and is said so.
        worker.cancelled.connect(
            lambda: ended(
                lambda: (
                    done(produced[0])
                    if produced
                    else self._say("cancelled: nothing was written, nothing journaled")
                )
            )
        )
        self.worker = worker
        worker.start()
        return worker

    def stop(self) -> None:
        """Cancel a running export and wait for it (the window is closing)."""
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.worker.wait()

    def _say(self, text: str) -> None:
        self.message = text
        self.window.statusBar().showMessage(text, 30_000)

    def _tell(self, title: str, text: str) -> None:
        self._say(text.replace("\n\n", "; ").replace("\n", " "))
        box = QMessageBox(QMessageBox.Icon.Information, title, text, parent=self.window)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()  # not modal: the digest stays on screen while the person works on

    def _warn(self, title: str, text: str) -> None:
        self._say(f"{title}: {text.splitlines()[0] if text else ''}")
        QMessageBox.warning(self.window, title, text)
