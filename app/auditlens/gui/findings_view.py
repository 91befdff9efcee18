"""The findings of the analysis (docs/detections.md): run the rules, list, open, corroborate.

Everything goes through :class:`auditlens.core.analysis.Analysis`, made from the window's
examination (``Analysis.of``) or, for a job off the GUI thread, from a reader of it; each call
journals itself with the origin ``workbench``. The view keeps the findings it was given to show
them, never the case's state: a detection run stores them in the case, and the list is read
again from there.

* **Run detections** runs every shipped rule in a worker (progress, Cancel).
* The table lists the findings worst first, sortable by any column (severity by its rank),
  filtered by the least severity shown.
* Activating a finding opens exactly its events in the events view: a filter naming each
  record by stream and sequence number, within the finding's time span, applied as a pivot.
* Under the table, the selected finding's explanation and events; selecting an event shows the
  action it records with its witnesses (audit record, log, span) and, flagged, the streams that
  should have recorded it and did not.
* **Compliance…** shows the compliance lens, as ``auditlens compliance`` prints it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from auditlens.core.analysis import Analysis
from auditlens.core.analysis.corroboration import ActionWitnesses
from auditlens.core.analysis.findings import (
    SEVERITIES,
    EventRef,
    Finding,
    events_filter,
    events_span,
    severity_rank,
    streams_filter,
)
from auditlens.core.progress import CancelToken
from auditlens.core.store import queries
from auditlens.core.store.session import Examination
from auditlens.gui import finding_marks
from auditlens.gui.models import RowsModel, status_colour
from auditlens.gui.views import LazyView, _table
from auditlens.gui.worker import JobWorker, LatestJob, query_job

SHOW_FROM = [
    ("all severities", 0),
    ("low and above", 1),
    ("medium and above", 2),
    ("high and above", 3),
    ("critical only", 4),
]


@dataclass(frozen=True)
class FindingEvents:
    """What the events view applies to show one finding's events (journaled as a pivot).

    ``exact`` is False when the finding names more records than a filter can (thousands,
    scattered): the filter is then its streams, over its time span, and the window says so.
    """

    filter: str
    time_range: tuple[int, int]
    pivot: dict[str, str]
    count: int
    exact: bool


def finding_events(finding: Finding) -> FindingEvents:
    """The filter and range selecting exactly ``finding``'s events, and the pivot they are."""
    exact = events_filter(finding.events)
    return FindingEvents(
        exact if exact is not None else streams_filter(finding.events),
        events_span(finding),
        {"finding": finding.rule, "title": finding.title, "events": str(len(finding.events))},
        len(finding.events),
        exact is not None,
    )


def detect_job(session: Examination) -> Any:
    """A worker job running the shipped rules on a reader of ``session`` (journaled there)."""
    reader = session.reader()

    def job(token: CancelToken) -> Any:
        token.on_cancel(reader.interrupt)
        try:
            return (yield from Analysis.of(reader).detect(token=token))
        finally:
            reader.close()

    return job


class FindingsModel(RowsModel):
    """The findings table: severity sorts by rank (critical above high), not by its letters."""

    # Times sort as instants: their text in a zone with daylight saving is not in time order.
    INSTANTS: ClassVar[dict[str, str]] = {"first": "first_ns", "last": "last_ns"}

    def _sort_rows(self, column: int, order: Qt.SortOrder) -> None:
        key = self.columns[column][0]
        descending = order == Qt.SortOrder.DescendingOrder
        if key == "severity":
            self.rows.sort(
                key=lambda r: (severity_rank(r["severity"]), -r["first_ns"]), reverse=descending
            )
        elif key in self.INSTANTS:
            self.rows.sort(key=lambda r: r[self.INSTANTS[key]], reverse=descending)
        else:
            super()._sort_rows(column, order)

    def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Severity cells in their colour (as on the charts)."""
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and index.isValid()
            and self.columns[index.column()][0] == "severity"
        ):
            return QBrush(finding_marks.colour(self.rows[index.row()]["severity"]))
        return super().data(index, role)


class WitnessesPane(QTreeWidget):
    """One action and its witnesses; a stream expected to witness it and lacking it, flagged."""

    # A witness's record to open in the events view: stream, seq.
    record_requested = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(5)
        self.setHeaderLabels(["Witness", "Stream", "Seq", "Time", "Trace / span"])
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setAlternatingRowColors(True)
        self.action: ActionWitnesses | None = None
        self.itemActivated.connect(self._activated)

    def show_message(self, text: str) -> None:
        """No action to show: say why."""
        self.clear()
        self.action = None
        QTreeWidgetItem(self, [text])

    def show_action(self, found: ActionWitnesses | None, tz: ZoneInfo | None) -> None:
        """Show ``found``: the action, each witness, each missing witness in red."""
        self.clear()
        self.action = found
        if found is None:
            QTreeWidgetItem(self, ["the case holds no such record (imported again since?)"])
            return
        what = found.action or "an event naming no action"
        title = f"{what} by {found.actor_id or 'nobody named'}" + (
            f" on {found.resource_id}" if found.resource_id else ""
        )
        top = QTreeWidgetItem(
            self,
            [
                f"{title}: {len(found.witnesses)} witness(es)"
                + (f", {len(found.missing)} missing" if found.missing else "")
            ],
        )
        top.setFirstColumnSpanned(True)
        for w in found.witnesses:
            trace = str(w.get("trace_id") or "")
            if w.get("span_id"):
                trace += f" / {w['span_id']}"
            item = QTreeWidgetItem(
                top,
                [
                    str(w["kind"]),
                    str(w["stream_id"]),
                    str(w["seq"]),
                    queries.format_time(w["time_ns"], tz) or "",  # type: ignore[arg-type]
                    trace,
                ],
            )
            item.setData(0, Qt.ItemDataRole.UserRole, (w["stream_id"], w["seq"]))
        red = QBrush(finding_marks.colour("high"))
        for m in found.missing:
            item = QTreeWidgetItem(top, ["✗ missing", m.stream_id, "", "", "expected, absent"])
            # The reason on a line of its own, as wide as the pane: it is the point of the row.
            reason = QTreeWidgetItem(item, [m.reason])
            reason.setFirstColumnSpanned(True)
            for row in (item, reason):
                row.setToolTip(0, m.reason)
                for column in range(5):
                    row.setForeground(column, red)
        self.expandAll()

    def missing_rows(self) -> list[tuple[str, str]]:
        """The missing witnesses shown: (stream, reason)."""
        if self.action is None:
            return []
        return [(m.stream_id, m.reason) for m in self.action.missing]

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        place = item.data(0, Qt.ItemDataRole.UserRole)
        if place:
            self.record_requested.emit(str(place[0]), int(place[1]))


class FindingsView(LazyView):
    """The findings table, Run detections, Compliance…, and the selected finding's witnesses."""

    # A finding was activated: the events view shows its events (a FindingEvents).
    events_requested = Signal(object)
    # The findings to mark on the charts changed (a list of finding_marks.FindingMark).
    marks_changed = Signal(object)
    # A witness's record to show: stream, seq.
    record_requested = Signal(str, object)
    status = Signal(str)

    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("severity", "Severity"),
        ("rule", "Rule"),
        ("title", "Title"),
        ("actor_id", "Actor"),
        ("first", "First"),
        ("last", "Last"),
        ("events", "Events"),
        ("score", "Score"),
        ("explanation", "Explanation"),
    ]
    EVENT_COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("time", "Time"),
        ("kind", "Kind"),
        ("stream_id", "Stream"),
        ("seq", "Seq"),
    ]

    def __init__(self, session: Examination, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.tz: ZoneInfo | None = None
        self.findings: list[Finding] = []  # as last read or run, worst first
        # An event from the events view whose witnesses wait for the list being read (which
        # clears the panes when it arrives).
        self.pending: EventRef | None = None
        self.detect_worker: JobWorker | None = None
        self.witness_reader = LatestJob()
        self.compliance_reader = LatestJob()
        self.run_button = QPushButton("Run detections")
        self.run_button.setToolTip(
            "Run every shipped rule, the baselines and the corroboration over the case; the "
            "findings replace the last run's (journaled)"
        )
        self.run_button.clicked.connect(self.run_detections)
        self.compliance_button = QPushButton("Compliance…")
        self.compliance_button.setToolTip(
            "What the evidence holds of each framework's audit requirements (as 'auditlens "
            "compliance' prints it)"
        )
        self.compliance_button.clicked.connect(self.show_compliance)
        self.severity_box = QComboBox()
        for text, _rank in SHOW_FROM:
            self.severity_box.addItem(text)
        self.severity_box.currentIndexChanged.connect(lambda _i: self._show_rows())
        self.summary = QLabel("no detection run yet")
        self.model = FindingsModel(self.COLUMNS, self, time_keys=("first", "last"))
        self.table = _table(self.model)
        self.table.setSelectionMode(self.table.SelectionMode.SingleSelection)
        # Enter, or a double-click (the style's activation): one pivot, journaled once.
        self.table.activated.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(self._finding_changed)
        self.explanation = QTextBrowser()
        self.explanation.setOpenLinks(False)
        self.event_model = RowsModel(self.EVENT_COLUMNS, self, time_keys=("time",))
        self.event_table = _table(self.event_model)
        self.event_table.setSelectionMode(self.event_table.SelectionMode.SingleSelection)
        self.event_table.selectionModel().currentRowChanged.connect(self._event_changed)
        self.witnesses = WitnessesPane()
        self.witnesses.record_requested.connect(self.record_requested)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.explanation)
        left.addWidget(self.event_table)
        left.setSizes([120, 220])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(left)
        bottom.addWidget(self.witnesses)
        bottom.setSizes([600, 700])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(bottom)
        split.setSizes([430, 340])
        bar = QHBoxLayout()
        bar.addWidget(self.run_button)
        bar.addWidget(self.compliance_button)
        bar.addWidget(QLabel(" Show: "))
        bar.addWidget(self.severity_box)
        bar.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        hint = QLabel(
            "Double-click (or Enter on) a finding to see exactly its events. Select one of "
            "its events to see the action's witnesses; a missing witness is flagged in red."
        )
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addWidget(split, 1)

    # -- reading -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """List the stored findings again (journaled: the examiner looks at the list)."""
        super().refresh()
        self.summary.setText("reading the findings…")
        self.read_in_background(self.session, lambda r: Analysis.of(r).findings(), self._read)

    def read_marks(self) -> None:
        """Read the stored findings for the charts only (not journaled: nothing is listed)."""
        self.read_in_background(
            self.session, lambda r: Analysis.of(r).marked_findings(), self._marks_read
        )

    def _marks_read(self, found: list[Finding]) -> None:
        self.marks_changed.emit(finding_marks.marks_of(found))

    def _read(self, found: list[Finding]) -> None:
        self.set_findings(found)
        if not found:
            self.summary.setText("no detection run yet, or no findings")
        if self.pending is not None:
            ref, self.pending = self.pending, None
            self._show_event(ref)
        self.loaded.emit()

    def read_failed(self, message: str) -> None:
        """Say why the list is missing."""
        self.summary.setText(f"cannot read the findings: {message}")

    def set_findings(self, found: list[Finding]) -> None:
        """Show ``found`` (worst first) and mark them on the charts."""
        self.findings = list(found)
        self._show_rows()
        self.marks_changed.emit(finding_marks.marks_of(self.findings))

    def _counts(self) -> str:
        by = {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}
        parts = [f"{n} {s}" for s, n in reversed(by.items()) if n]
        return f"{len(self.findings)} finding(s): " + ", ".join(parts)

    def least_severity(self) -> int:
        """The least severity rank listed (the Show box)."""
        return SHOW_FROM[max(self.severity_box.currentIndex(), 0)][1]

    def _show_rows(self) -> None:
        tz, least = self.tz, self.least_severity()
        rows = [
            {
                "severity": f.severity,
                "rule": f.rule,
                "title": f.title,
                "actor_id": f.actor_id,
                "first": queries.format_time(f.time_first_ns, tz),
                "last": queries.format_time(f.time_last_ns, tz),
                "first_ns": f.time_first_ns,
                "last_ns": f.time_last_ns,
                "events": len(f.events),
                "score": f.score,  # how far from normal (docs/detections.md, "Scores")
                "explanation": f.explanation,
                "finding": f,
            }
            for f in self.findings
            if severity_rank(f.severity) >= least
        ]
        self.model.set_rows(rows)
        if self.findings:
            hidden = len(self.findings) - len(rows)
            self.summary.setText(
                self._counts() + (f"; {hidden} below the severity shown" if hidden else "")
            )
        if rows and not self.table.property("sized"):
            self.table.setProperty("sized", True)
            self.table.resizeColumnsToContents()
            # The explanation, last, takes the room the others leave.
            widest = {"title": 300, "score": 60, "events": 60}
            for column, (key, _title) in enumerate(self.COLUMNS):
                cap = widest.get(key, 320)
                self.table.setColumnWidth(column, min(self.table.columnWidth(column), cap))
        self.explanation.clear()
        self.event_model.set_rows([])
        self.witnesses.clear()

    def set_time_zone(self, tz: ZoneInfo | None) -> None:
        """Show times in ``tz``."""
        if tz != self.tz:
            self.tz = tz
            self.model.set_time_zone(tz)
            self.event_model.set_time_zone(tz)
            self._show_rows()

    def stop_background(self) -> None:
        """Stop every read and a detection run (the case is closing)."""
        super().stop_background()
        self.witness_reader.stop(wait=True)
        self.compliance_reader.stop(wait=True)
        worker, self.detect_worker = self.detect_worker, None
        if worker is not None and worker.is_running():
            worker.cancel()
            worker.wait()

    # -- running -------------------------------------------------------------------------------

    def run_detections(self) -> JobWorker | None:
        """Run the shipped rules in a worker with a progress dialog and Cancel."""
        if self.detect_worker is not None and self.detect_worker.is_running():
            return None
        worker = JobWorker(detect_job(self.session), self)
        dialog = QProgressDialog("Running detections…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Detections")
        dialog.setMinimumDuration(0)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(worker.cancel)
        worker.progress.connect(lambda step: self._progress(dialog, step))
        worker.finished.connect(lambda report: self._detected(dialog, report))
        worker.failed.connect(lambda message: self._ended(dialog, f"detections failed: {message}"))
        worker.cancelled.connect(
            lambda: self._ended(dialog, "detections cancelled: the findings are as they were")
        )
        self.run_button.setEnabled(False)
        self.detect_worker = worker
        self.summary.setText("running detections…")
        worker.start()
        return worker

    def _progress(self, dialog: QProgressDialog, step: Any) -> None:
        dialog.setMaximum(step.total or 0)
        dialog.setValue(min(step.done, step.total or 0))
        counted = f"{step.done} of {step.total or '?'} rules"
        dialog.setLabelText(f"{step.stage}: {counted}\n{step.message}")

    def _ended(self, dialog: QProgressDialog, message: str) -> None:
        if self.detect_worker is not None:
            self.detect_worker.wait()
        dialog.reset()
        dialog.deleteLater()
        self.run_button.setEnabled(True)
        self.summary.setText(message)
        self.status.emit(message)

    def _detected(self, dialog: QProgressDialog, report: Any) -> None:
        self.set_findings(report.findings)
        self.stale = False
        text = (
            f"{self._counts()} (from {report.rules} rules over {report.actions:,} actions)"
            if report.findings
            else f"no findings (from {report.rules} rules over {report.actions:,} actions)"
        )
        self._ended(dialog, text)
        self.loaded.emit()

    # -- a finding, its events and witnesses ---------------------------------------------------

    def finding_at(self, row: int) -> Finding:
        """The finding shown in ``row``."""
        return self.model.rows[row]["finding"]  # type: ignore[no-any-return]

    def select_rule(self, rule: str) -> bool:
        """Select the first listed finding of ``rule`` (its events and witnesses show)."""
        for row, r in enumerate(self.model.rows):
            if r["rule"] == rule:
                self.table.selectRow(row)
                return True
        return False

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_events(self.finding_at(index.row()))

    def open_events(self, finding: Finding) -> None:
        """Ask the events view to show exactly ``finding``'s events."""
        self.events_requested.emit(finding_events(finding))

    def _finding_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        f = self.finding_at(current.row())
        self.explanation.setHtml(
            f"<b style='color:{finding_marks.colour(f.severity).name()}'>"
            f"{html.escape(f.severity)}</b> <b>{html.escape(f.title)}</b> "
            # The rule file by name (its folder is the shipped rules' or the one given).
            f"<i>({html.escape(f.rule)}, {html.escape(Path(f.source).name or f.source)})</i><br>"
            f"{html.escape(f.explanation)}"
        )
        self.event_model.set_rows(
            [
                {
                    "time": queries.format_time(e.time_ns, self.tz),
                    "kind": e.kind,
                    "stream_id": e.stream_id,
                    "seq": e.seq,
                    "ref": e,
                }
                for e in f.events
            ]
        )
        if f.events and not self.event_table.property("sized"):  # once, on the first rows
            self.event_table.setProperty("sized", True)
            self.event_table.resizeColumnsToContents()
        if f.events:
            self.event_table.selectRow(0)
        else:
            self.witnesses.show_message("this finding names no event")

    def _event_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_witnesses(self.event_model.rows[current.row()]["ref"])

    def show_event_witnesses(self, event: dict[str, Any]) -> None:
        """Show the witnesses of an event of the events view (named by its place and time)."""
        ref = EventRef(
            int(event["time_ns"]),
            str(event["stream_id"]),
            int(event["seq"]),
            event.get("ord"),
            event.get("kind"),
        )
        if self.stale or self.reader.running():
            self.pending = ref
        else:
            self._show_event(ref)

    def _show_event(self, ref: EventRef) -> None:
        self.table.clearSelection()
        self.event_model.set_rows([])
        when = queries.format_time(ref.time_ns, self.tz) or ""
        self.explanation.setHtml(
            f"Witnesses of the event at {html.escape(when)} ({html.escape(ref.stream_id)} seq "
            f"{ref.seq}), asked from the events view."
        )
        self.show_witnesses(ref)

    def show_witnesses(self, ref: EventRef) -> JobWorker | None:
        """Read the action of ``ref`` with its witnesses (journaled) in a worker and show it."""
        if self.session.closed:
            return None
        self.witnesses.show_message("reading the witnesses…")
        tz = self.tz
        return self.witness_reader.start(
            query_job(self.session, lambda r: Analysis.of(r).action(ref)),
            lambda found: self.witnesses.show_action(found, tz),
            lambda message: self.witnesses.show_message(f"cannot read the witnesses: {message}"),
        )

    # -- compliance ----------------------------------------------------------------------------

    def show_compliance(self) -> JobWorker | None:
        """Read the compliance lens (journaled) in a worker, then show it in a dialog."""
        if self.session.closed:
            return None
        self.compliance_button.setEnabled(False)
        self.status.emit("reading the compliance lens…")

        def failed(message: str) -> None:
            self.compliance_button.setEnabled(True)
            self.status.emit(f"compliance failed: {message}")

        return self.compliance_reader.start(
            query_job(self.session, lambda r: Analysis.of(r).compliance()),
            self._compliance_read,
            failed,
        )

    def _compliance_read(self, report: Any) -> None:
        self.compliance_button.setEnabled(True)
        self.compliance_dialog = ComplianceDialog(report, self)
        self.compliance_dialog.show()
        self.status.emit("compliance lens read")


STATUS_SEVERITY = {"held": None, "partial": "medium", "missing": "high", "not_checkable": None}


class ComplianceDialog(QDialog):
    """The compliance lens: per framework, each requirement's status; gaps; GDPR Art. 33."""

    def __init__(self, report: Any, parent: QWidget | None = None) -> None:
        from auditlens.core.analysis.compliance import render

        super().__init__(parent)
        self.setWindowTitle("Compliance lens")
        self.resize(1100, 700)
        self.report = report
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Requirement", "Status", "What it asks", "In the evidence"])
        self.tree.setAlternatingRowColors(True)
        for name, checks in report.frameworks.items():
            counts = {s: sum(1 for c in checks if c.status == s) for s in STATUS_SEVERITY}
            top = QTreeWidgetItem(
                self.tree,
                [name, ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items() if n)],
            )
            for c in checks:
                item = QTreeWidgetItem(top, [c.ref, c.status.replace("_", " "), c.text, c.detail])
                item.setToolTip(3, c.detail)
                shade = STATUS_SEVERITY.get(c.status)
                if shade is not None:
                    item.setForeground(1, QBrush(finding_marks.colour(shade)))
                elif c.status == "held" and (held := status_colour("verified")) is not None:
                    item.setForeground(1, QBrush(held))
        gaps = QTreeWidgetItem(self.tree, ["Audit trail gaps", str(len(report.gaps))])
        for gap in report.gaps:
            item = QTreeWidgetItem(gaps, ["", "gap", gap])
            item.setToolTip(2, gap)
        window = QTreeWidgetItem(
            self.tree, ["GDPR Art. 33 window", str(report.window.get("status", ""))]
        )
        for key, value in report.window.items():
            QTreeWidgetItem(window, [key, "", str(value)])
        self.tree.expandAll()
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setColumnWidth(2, 380)
        self.text = QPlainTextEdit("\n".join(render(report)))
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        tabs = QTabWidget()
        tabs.addTab(self.tree, "Table")
        tabs.addTab(self.text, "Text (as the CLI prints it)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs, 1)
        layout.addWidget(buttons)
