"""The investigator's workbench: one window over one case."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from auditlens import __version__
from auditlens.core.analysis.session import Analysis
from auditlens.core.errors import Error
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.query import record_filter
from auditlens.core.store import queries
from auditlens.core.store.session import Examination, may_hold_sealed_bundles
from auditlens.core.verify.trust import TrustStore, load_trust
from auditlens.core.words import counted
from auditlens.gui.finding_marks import first_of
from auditlens.gui.findings_view import FindingsView, finding_events
from auditlens.gui.legal_actions import LegalActions
from auditlens.gui.views import ActorsView, EventsView, IntegrityView, TracesView, actor_term
from auditlens.gui.worker import JobWorker

MAX_RECENT = 8


def counts_line(counts: queries.CaseCounts, detections: int | None) -> str:
    """The status bar's counts, naming which findings are which.

    The case's ``findings`` are the verification's (docs/verification.md §4: a bundle's seal,
    signature, chain); the Findings tab lists the detections' (docs/detections.md), stored by
    the last run, or none before one: two different numbers, never one word "findings".
    """

    def some(n: int, what: str) -> str:
        return f"{n:,} {what}" if n == 1 else f"{n:,} {what}s"

    parts = [
        some(counts.events, "event"),
        some(counts.inputs, "input"),
        some(counts.findings, "verification finding"),
        "no detection run yet" if detections is None else some(detections, "detection finding"),
    ]
    return ", ".join(parts)


def import_job(folder: Path, inputs: list[Path], trust_files: list[Path]) -> Any:
    """A worker job importing ``inputs`` into the case in ``folder`` on its own connection."""

    def job(token: CancelToken) -> Any:
        trust = TrustStore()
        for path in trust_files:
            load_trust(path, trust)
        with Examination.open(folder, origin="workbench", create=True) as session:
            return (yield from session.import_evidence(inputs, trust, token=token))

    return job


def order_job(folder: Path) -> Any:
    """A worker job giving the case's events their time order (after a failed import)."""

    def job(token: CancelToken) -> Any:
        with Examination.open(folder, origin="workbench") as session:
            yield from session.order(token=token)

    return job


class MainWindow(QMainWindow):
    """Tabs for integrity, events and actors over the open case."""

    def __init__(
        self,
        case_dir: Path | None = None,
        settings: QSettings | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        super().__init__()
        self.settings = settings or QSettings("AuditLens", "AuditLens")
        # Without a person to answer a dialog (--screenshot, --time-start) a case that cannot be
        # opened is kept here for the caller to report, never shown in a modal box that waits.
        self.quiet = quiet
        self.open_error: str | None = None
        self.case: Examination | None = None
        self.case_dir: Path | None = None
        self.worker: JobWorker | None = None
        self.trust_files: list[Path] = []
        self.tz: ZoneInfo | None = None
        self.setAcceptDrops(True)
        self.setWindowTitle(f"AuditLens {__version__}")
        self.tabs = QTabWidget()
        self.empty_panel = self._empty_panel()
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.empty_panel)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.placeholder = QLabel(
            "Open a case (Ctrl+O) or create one (Ctrl+N), then import evidence.\n"
            "New here? Help > Open the sample case shows a complete examination."
        )
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.tabs.addTab(self.placeholder, "Start")
        self._actions()
        self.zone_box = QComboBox()
        self.zone_box.addItems(["UTC", *sorted(z for z in available_timezones() if "/" in z)])
        self.zone_box.setEditable(False)
        self.zone_box.currentTextChanged.connect(self.set_time_zone)
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main-toolbar")
        for action in (
            self.open_action,
            self.import_action,
            self.trust_action,
            self.refresh_action,
        ):
            toolbar.addAction(action)
        toolbar.addSeparator()
        toolbar.addWidget(QLabel(" Time zone: "))
        toolbar.addWidget(self.zone_box)
        self.status_label = QLabel()
        self.statusBar().addPermanentWidget(self.status_label)
        self.counts_text = ""  # the case's counts, shown whenever no other message is
        self.statusBar().messageChanged.connect(self._counts_again)
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 900)
        state = self.settings.value("window/state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if case_dir is not None:
            self.open_case(case_dir)

    # -- actions ---------------------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence | str | None, slot: Any) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _actions(self) -> None:
        self.new_action = self._action("&New case…", QKeySequence.StandardKey.New, self._new_case)
        self.open_action = self._action(
            "&Open case…", QKeySequence.StandardKey.Open, self._open_dialog
        )
        self.import_action = self._action("&Import evidence…", "Ctrl+I", self._import_files)
        self.import_folder_action = self._action(
            "Import &folder…", "Ctrl+Shift+I", self._import_folder
        )
        self.trust_action = self._action("&Trust store…", "Ctrl+T", self._choose_trust)
        self.refresh_action = self._action(
            "&Refresh", QKeySequence.StandardKey.Refresh, self.reload
        )
        self.filter_action = self._action(
            "&Filter", QKeySequence.StandardKey.Find, self._focus_filter
        )
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        menu = self.menuBar().addMenu("&File")
        for action in (self.new_action, self.open_action):
            menu.addAction(action)
        self.recent_menu = menu.addMenu("Open &recent")
        menu.addSeparator()
        for action in (self.import_action, self.import_folder_action, self.trust_action):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        view = self.menuBar().addMenu("&View")
        view.addAction(self.refresh_action)
        self.legal = LegalActions(self)  # the Evidence menu: bookmarks, exports, exhibits
        help_menu = self.menuBar().addMenu("&Help")
        self.sample_action = self._action("Open the &sample case", None, self.open_sample)
        help_menu.addAction(self.sample_action)
        view.addAction(self.filter_action)
        for number, name in enumerate(
            ("Integrity", "Events", "Actors", "Traces", "Findings"), start=1
        ):
            view.addAction(
                self._action(
                    name,
                    f"Ctrl+{number}",
                    lambda _=False, n=number: self.tabs.setCurrentIndex(n - 1),
                )
            )
        self._fill_recent()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent_cases():
            self.recent_menu.addAction(path, lambda p=path: self.open_case(Path(p)))

    def recent_cases(self) -> list[str]:
        """Recently opened case folders, newest first."""
        value = self.settings.value("recent/cases") or []
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    # -- cases -----------------------------------------------------------------------------

    def open_case(self, folder: Path, *, create: bool = False) -> None:
        """Open (or create) the case in ``folder`` and build the views."""
        try:
            case = Examination.open(folder, origin="workbench", create=create)
            try:
                for _ in case.order():
                    pass
            except BaseException:
                case.close()
                raise
        except Exception as exc:
            said = exc.diagnostics() if isinstance(exc, Error) else str(exc)  # with its place
            if self.quiet:
                self.open_error = said
            else:
                QMessageBox.warning(self, "Cannot open the case", said)
            return
        if self.case is not None:
            self.legal.stop()  # an export runs on a cursor of the case about to close
            for view in self._views():
                view.stop_background()
            self.case.close()
        self.case, self.case_dir = case, folder
        self.trust_files = case.trust_store()  # the case's own, chosen at an earlier import
        recent = [str(folder)] + [p for p in self.recent_cases() if p != str(folder)]
        self.settings.setValue("recent/cases", recent[:MAX_RECENT])
        self._fill_recent()
        self.setWindowTitle(f"{folder} - AuditLens {__version__}")
        self._build_views()

    def _build_views(self) -> None:
        assert self.case is not None
        current = max(self.tabs.currentIndex(), 0)
        self.tabs.clear()
        self.integrity = IntegrityView(self.case)
        self.events = EventsView(self.case)
        self.actors = ActorsView(self.case)
        self.events.status.connect(self.status_label.setText)
        self.events.follow_actor.connect(self.follow_actor)
        self.actors.actor_activated.connect(self.follow_actor)
        self.actors.mark_clicked.connect(self.actor_around)
        self.integrity.place_requested.connect(self.show_place)
        self.tabs.addTab(self.integrity, "Integrity")
        self.tabs.addTab(self.events, "Events")
        self.tabs.addTab(self.actors, "Actors")
        self.traces = TracesView(self.case)
        self.tabs.addTab(self.traces, "Traces")
        self.events.open_trace.connect(self.open_trace)
        self.events.exemplar_point.connect(self.traces.focus_point)  # a metric row's exemplar
        self._build_findings()
        self.bookmarks = self.legal.attach(self.case, self.tabs, self.events)
        # The event columns chosen and their order, kept per case (in the settings, by folder).
        key = self._columns_key()
        columns = self.settings.value(key)
        if isinstance(columns, list) and columns:
            self.events.set_columns([str(c) for c in columns])
        self.events.columns_changed.connect(lambda names: self.settings.setValue(key, names))
        self.set_time_zone(self.zone_box.currentText())
        # Views read the case when first shown (views.LazyView): only the current one now.
        self.tabs.setCurrentIndex(min(current, self.tabs.count() - 1))
        self._show_counts()

    def _build_findings(self) -> None:
        """The findings tab, and its findings marked on the histogram, lanes and map."""
        assert self.case is not None
        self.findings = FindingsView(self.case)
        self.tabs.addTab(self.findings, "Findings")
        self.findings.events_requested.connect(self.open_finding)
        self.findings.record_requested.connect(self.show_record)
        self.findings.status.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.findings.marks_changed.connect(self.events.histogram.set_findings)
        self.findings.marks_changed.connect(self.actors.swimlanes.set_findings)
        self.findings.marks_changed.connect(self.integrity.map.set_findings)
        self.events.histogram.findings_clicked.connect(self.open_marked)
        self.events.witnesses_wanted.connect(self.show_witnesses)
        self.findings.read_marks()
        # A detection run changes the count of detection findings the status bar gives.
        self.findings.loaded.connect(self._detections_changed)

    def show_witnesses(self, event: dict[str, Any]) -> None:
        """Show the witnesses of an event's action (the Findings tab's witnesses pane)."""
        self.tabs.setCurrentWidget(self.findings)
        self.findings.show_event_witnesses(event)

    def open_marked(self, marks: list[Any]) -> None:
        """Show the events of the worst finding of the marks clicked (finding_marks.first_of)."""
        mark = first_of(marks)
        if mark.finding is not None:
            self.open_finding(finding_events(mark.finding))

    def open_finding(self, request: Any) -> None:
        """Show exactly a finding's events (findings_view.FindingEvents), applied as a pivot."""
        self.tabs.setCurrentWidget(self.events)
        self.events.show_filter(
            request.filter, via="pivot", pivot=request.pivot, time_range=request.time_range
        )
        if not request.exact:
            self.statusBar().showMessage(
                f"The finding names {request.count:,} records, more than a filter holds: "
                "its streams over its time span are shown.",
                30_000,
            )

    def _empty_panel(self) -> QWidget:
        """What an empty case shows above its views: how to bring evidence in."""
        panel = QFrame()
        panel.setObjectName("empty-case")
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(panel)
        row.addWidget(
            QLabel("<b>This case holds no evidence yet.</b> Import sealed bundles or raw logs:")
        )
        for text, slot in (
            ("Import evidence…", self._import_files),
            ("Import folder…", self._import_folder),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            row.addWidget(button)
        row.addWidget(QLabel("or drop files and folders anywhere on this window."))
        row.addStretch(1)
        panel.hide()
        return panel

    def open_sample(self) -> JobWorker | None:
        """Open the shipped sample as a case of its own (made and imported the first time)."""
        from auditlens.core.resources import sample_case_dir

        sample = sample_case_dir()
        folder = (
            Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
            / "sample-case"
        )
        self.open_case(folder, create=True)
        if self.case is None or self.case.counts().inputs:
            return None
        trust = sample / "truststore.json"
        self.case.set_trust_store([trust])
        self.trust_files = [trust]
        return self.start_import(sorted((sample / "bundles").glob("*/*")))

    def _show_counts(self) -> None:
        # Cheap counts only: queries.stats groups every event (0.1 s at 10^7 events).
        assert self.case is not None
        counts = self.case.counts()
        self.empty_panel.setVisible(counts.inputs == 0)
        self.counts_text = counts_line(counts, Analysis.of(self.case).stored_count())
        self.statusBar().showMessage(self.counts_text, 0)

    def _detections_changed(self) -> None:
        """Count again after the findings were read or detected; shown unless a message is."""
        if self.case is None:
            return
        before, bar = self.counts_text, self.statusBar()
        self.counts_text = counts_line(self.case.counts(), Analysis.of(self.case).stored_count())
        if bar.currentMessage() in ("", before):
            bar.showMessage(self.counts_text, 0)

    def _counts_again(self, message: str) -> None:
        """Show the counts again once a passing message has gone (it clears the bar)."""
        if not message and self.counts_text and self.case is not None:
            self.statusBar().showMessage(self.counts_text, 0)

    def _columns_key(self) -> str:
        folder = str((self.case_dir or Path()).resolve())
        return "case-columns/" + hashlib.sha256(folder.encode()).hexdigest()[:32]

    def _views(self) -> list[Any]:
        return [
            self.integrity,
            self.events,
            self.actors,
            self.traces,
            self.findings,
            self.bookmarks,
        ]

    def needs_ordering(self) -> bool:
        """Whether the time order or a lookup table is out of date, to be refreshed in a worker.

        That happens when an import failed at its end, or the case comes from an earlier version.
        """
        if self.case is None:
            return False
        return self.case.needs_ordering()

    def reload(self) -> None:
        """Read the case again (after an import): the visible view now, the others when shown.

        Events added without their time order are ordered in a worker first: that sorts every
        event (seconds at 10^7) and must not freeze the window.
        """
        if self.case is None:
            return
        if self.needs_ordering():
            if self.worker is None or not self.worker.is_running():
                self._start_job(order_job(self.case.folder), "Ordering the timeline…")
            return
        try:
            for view in self._views():
                view.invalidate()
            self._show_counts()
        except Exception as exc:  # the window must stay usable whatever the case says
            QMessageBox.warning(self, "Cannot read the case", str(exc))

    def set_time_zone(self, name: str) -> None:
        """Show every time in ``name`` (UTC by default)."""
        self.tz = queries.zone(name)
        if self.case is not None and hasattr(self, "traces"):
            self.integrity.set_time_zone(self.tz)
            self.events.set_time_zone(self.tz)
            self.actors.set_time_zone(self.tz)
            self.traces.set_time_zone(self.tz)
            self.findings.set_time_zone(self.tz)
            self.bookmarks.set_time_zone(self.tz)

    def follow_actor(self, actor: str) -> None:
        """Show the actor's events."""
        self.tabs.setCurrentWidget(self.events)
        self.events.show_filter(actor_term(actor), via="pivot", pivot={"actor": actor})

    def actor_around(self, actor: str, when_ns: int) -> None:
        """The actor's events within an hour either side of ``when_ns``."""
        hour = 3_600_000_000_000
        self.tabs.setCurrentWidget(self.events)
        self.events.show_filter(
            actor_term(actor),
            via="pivot",
            pivot={"actor": actor, "around": queries.format_time(when_ns) or ""},
            time_range=(when_ns - hour, when_ns + hour),
        )

    def open_trace(self, trace_id: str) -> None:
        """Show a trace's waterfall."""
        self.tabs.setCurrentWidget(self.traces)
        self.traces.open_trace(trace_id)

    def show_place(self, place: Any) -> None:
        """Show the events a finding points at (views.Place), the whole time span."""
        self.tabs.setCurrentWidget(self.events)
        self.events.show_filter(
            place.filter, via="pivot", pivot=place.pivot, time_range=(None, None)
        )
        if self.events.model.rowCount():
            self.events.jump_to(0)

    def show_record(self, stream_id: str, seq: int) -> None:
        """Show the record a finding points at."""
        self.tabs.setCurrentWidget(self.events)
        self.events.show_filter(
            record_filter(stream_id, seq),
            via="pivot",
            pivot={"finding": f"{stream_id} seq {seq}"},
        )
        if self.events.model.rowCount():
            self.events.jump_to(0)

    def _focus_filter(self) -> None:
        if self.case is not None:
            self.tabs.setCurrentWidget(self.events)
            self.events.filter_bar.setFocus()

    def _new_case(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder for the new case")
        if folder:
            self.open_case(Path(folder), create=True)

    def _open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a case folder")
        if folder:
            self.open_case(Path(folder))

    def _choose_trust(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Trust stores or public keys", "", "Trust stores (*.json *.pem);;All files (*)"
        )
        if not files:
            return
        paths = [Path(f) for f in files]
        for path in paths:  # a store that does not load is said now, not mid-import
            try:
                load_trust(path, TrustStore())
            except Error as exc:
                QMessageBox.warning(self, "Not a trust store", exc.diagnostics())
                return
        if self.case is not None:
            try:
                self.case.set_trust_store(paths)  # kept with the case, journaled with digests
            except Error as exc:
                QMessageBox.warning(self, "Cannot keep the trust store", exc.diagnostics())
                return
        self.trust_files = paths
        self.statusBar().showMessage(
            "Trust store for this case: " + ", ".join(p.name for p in paths), 15_000
        )

    def ask_about_trust(self) -> str:
        """Ask before importing sealed evidence without a trust store: choose, without, cancel."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("No trust store")
        box.setText("This case has no trust store.")
        box.setInformativeText(
            "Sealed bundles imported without one are marked untrusted: their seals are checked, "
            "but no key you trust vouches for the signer. Choose the trust store (or public key) "
            "you received with the evidence, or import without one."
        )
        choose = box.addButton("Choose trust store…", QMessageBox.ButtonRole.AcceptRole)
        without = box.addButton("Import without", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(choose)
        box.exec()
        clicked = box.clickedButton()
        return "choose" if clicked is choose else "without" if clicked is without else "cancel"

    def _import_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Evidence to import")
        if files:
            self.start_import([Path(f) for f in files])

    def _import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Bundle or folder of evidence")
        if folder:
            self.start_import([Path(folder)])

    # -- import ----------------------------------------------------------------------------

    def start_import(self, inputs: list[Path]) -> JobWorker | None:
        """Import ``inputs`` in a worker with a progress dialog and Cancel."""
        if self.case_dir is None:
            QMessageBox.information(self, "No case", "Open or create a case first.")
            return None
        if self.worker is not None and self.worker.is_running():
            QMessageBox.information(self, "Busy", "An import is already running.")
            return None
        if not self.trust_files and may_hold_sealed_bundles(inputs):
            answer = self.ask_about_trust()
            if answer == "cancel":
                return None
            if answer == "choose":
                self._choose_trust()
                if not self.trust_files:
                    return None
        return self._start_job(import_job(self.case_dir, inputs, self.trust_files), "Importing…")

    def _start_job(self, job: Any, label: str) -> JobWorker:
        worker = JobWorker(job, self)
        dialog = QProgressDialog(label, "Cancel", 0, 0, self)
        dialog.setWindowTitle(label.rstrip("…"))
        dialog.setMinimumDuration(0)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(worker.cancel)
        worker.progress.connect(lambda step: self._progress(dialog, step))
        worker.finished.connect(lambda report: self._import_done(dialog, report))
        worker.failed.connect(lambda message: self._import_failed(dialog, message))
        worker.cancelled.connect(lambda: self._import_cancelled(dialog))
        self.worker = worker
        worker.start()
        return worker

    def _progress(self, dialog: QProgressDialog, step: Progress) -> None:
        import time

        now = time.monotonic()
        if getattr(self, "_stage", None) != (step.stage, step.total):
            self._stage = (step.stage, step.total)
            self._stage_started = (now, step.done)
        total = step.total or 0
        # Progress bars count in int: scale down anything beyond what an int holds.
        scale = max(1, total // 1_000_000_000)
        dialog.setMaximum(total // scale if total else 0)
        dialog.setValue(min(step.done, total) // scale if total else 0)
        counted = f"{step.done:,}" + (f" of {step.total:,}" if step.total else "")
        left = ""
        started, done_then = self._stage_started
        if total and step.done > done_then and now - started > 1:
            rate = (step.done - done_then) / (now - started)
            left = f"  (about {max(total - step.done, 0) / rate:,.0f} s left)"
        dialog.setLabelText(f"{step.stage}: {counted} {step.unit}{left}\n{step.message}")

    def _import_done(self, dialog: QProgressDialog, report: Any) -> None:
        dialog.reset()
        self.reload()
        if report is None:  # the ordering job
            return
        lines = [
            f"{r.verdict.value}: {r.path} ({'replay' if r.replay else counted(r.records, 'event')})"
            for r in report.inputs
        ]
        self.statusBar().showMessage("Imported: " + "; ".join(lines), 15_000)

    def _import_failed(self, dialog: QProgressDialog, message: str) -> None:
        # No reload here: whatever failed (DuckDB out of memory, say) would fail again on the
        # GUI thread, freezing the window first (10 s at 10^7 events) and then raising there.
        dialog.reset()
        if self.needs_ordering():
            after = (
                "The events read so far are stored but not yet in time order: the views show "
                "the case as it was. Refresh (F5) orders them (in the background); it may fail "
                "again for the same reason."
            )
        else:
            after = "The case is as it was before; the views show it unchanged."
        self.statusBar().showMessage(f"Import failed: {message.splitlines()[0]}", 30_000)
        QMessageBox.warning(self, "Import failed", f"{message}\n\n{after}")

    def _import_cancelled(self, dialog: QProgressDialog) -> None:
        dialog.reset()
        if self.needs_ordering():
            # Cancelled while ordering: the inputs before stay imported; ordering them is the
            # person's call (Refresh), not something to start again right after Cancel.
            self.statusBar().showMessage(
                "Import cancelled while ordering the timeline: the inputs imported so far are "
                "stored; Refresh (F5) orders them.",
                30_000,
            )
            return
        self.reload()
        self.statusBar().showMessage(
            "Import cancelled: the case is as it was before that input.", 15_000
        )

    # -- drag and drop, shutdown -------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        """Accept files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        """Import what was dropped."""
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.start_import(paths)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        """Keep the window state; stop a running import cleanly."""
        if self.worker is not None and self.worker.is_running():
            self.worker.cancel()
            self.worker.wait()
        self.legal.stop()
        if self.case is not None:
            for view in self._views():
                view.stop_background()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        if self.case is not None:
            self.case.close()
            self.case = None
        super().closeEvent(event)

    def current_view(self) -> QWidget:
        """The visible tab."""
        return self.tabs.currentWidget()
