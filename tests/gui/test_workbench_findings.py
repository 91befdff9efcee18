"""The detections in the workbench (issue 15 point 6): run, list, open, mark, corroborate.

On the shipped sample: detections run from the Findings tab in a worker and are journaled with
the origin ``workbench``; the planted incident's findings are listed; activating a finding shows
exactly its events; the findings are marked on the histogram, the actor lanes and the integrity
map at their times; an action's witnesses are shown, and the audit record the silent sink lost is
flagged as missing. The incident's facts come from the sample generator, not from this file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QToolTip
from tests.conftest import drive, gui_screenshot

from auditlens.core.analysis import Analysis
from auditlens.core.analysis.compliance import render
from auditlens.core.analysis.findings import Finding, severity_rank
from auditlens.core.sample import generate_raw
from auditlens.core.store import queries
from auditlens.gui.findings_view import FindingsView, finding_events
from auditlens.gui.main_window import MainWindow


def entries(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def pivots(case: Path) -> list[dict[str, Any]]:
    return [e["details"] for e in entries(case) if e["details"].get("via") == "pivot"]


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # The shipped sample is `auditlens sample --records 6000 --days 3 --seed 7` (Makefile).
    return generate_raw(tmp_path_factory.mktemp("facts"), records=6000, days=3, seed=7).incident


@pytest.fixture(scope="module")
def detected_dir(sample_case_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample case with the findings of one detection run stored (by the CLI)."""
    folder = tmp_path_factory.mktemp("findings") / "case"
    shutil.copytree(sample_case_dir, folder)
    with Analysis.open(folder, origin="cli") as analysis:
        drive(analysis.detect())
    return folder


@pytest.fixture
def window(qtbot, settings, detected_dir, tmp_path):
    """The workbench on a copy of the detected case, its findings marks read."""
    folder = tmp_path / "case"
    shutil.copytree(detected_dir, folder)
    window = MainWindow(folder, settings=settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.events.histogram.findings), timeout=30_000)
    yield window
    window.close()


def shown_findings(qtbot, window: MainWindow) -> FindingsView:
    view = window.findings
    if view.stale or not view.findings:
        with qtbot.waitSignal(view.loaded, timeout=30_000):
            window.tabs.setCurrentWidget(view)
    return view


def row_of(view: FindingsView, rule: str, actor: str | None = None) -> int:
    for row, r in enumerate(view.model.rows):
        if r["rule"] == rule and (actor is None or r["actor_id"] == actor):
            return row
    raise AssertionError(f"no {rule} finding listed")


def test_run_detections_from_the_gui_is_journaled_as_workbench(
    qtbot, settings, sample_case_dir, tmp_path, incident
):
    folder = tmp_path / "case"
    shutil.copytree(sample_case_dir, folder)
    window = MainWindow(folder, settings=settings)
    qtbot.addWidget(window)
    window.show()
    view = window.findings
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not view.reader.running(), timeout=30_000)
    assert view.model.rowCount() == 0  # no run yet
    steps: list[Any] = []
    worker = view.run_detections()
    assert worker is not None
    worker.progress.connect(steps.append)
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    worker.wait()
    assert steps and {s.stage for s in steps} == {"detecting"}
    (entry,) = [e for e in entries(folder) if e["action"] == "detect"]
    assert entry["details"]["origin"] == "workbench"
    assert entry["details"]["findings"] == len(view.findings) == view.model.rowCount()
    # The planted incident: each step's rule, for the incident's actor.
    actor = incident["actor_id"]
    listed = {(r["rule"], r["actor_id"]) for r in view.model.rows}
    for rule in (
        "failed-login-new-address",
        "login-new-address",
        "role-self-grant",
        "role-grant-then-use",
        "mass-recording-access",
        "audit-disabled",
        "missing-witness",
    ):
        assert (rule, actor) in listed, rule
    assert ("audit-stream-silence", None) in listed
    # Worst first, and nothing above low that is not the incident's.
    ranks = [severity_rank(r["severity"]) for r in view.model.rows]
    assert ranks == sorted(ranks, reverse=True)
    assert all(
        r["actor_id"] in (actor, None) for r in view.model.rows if severity_rank(r["severity"]) > 1
    )
    # The stored findings are what the list shows (read back from the case).
    with Analysis.open(folder, origin="cli") as analysis:
        assert analysis.marked_findings() == view.findings
    # The charts got the marks of the run.
    assert len(window.events.histogram.findings) == len(view.findings)
    window.close()


def test_cancelling_a_detection_run_stores_and_journals_nothing(
    qtbot, settings, sample_case_dir, tmp_path
):
    folder = tmp_path / "case"
    shutil.copytree(sample_case_dir, folder)
    window = MainWindow(folder, settings=settings)
    qtbot.addWidget(window)
    window.show()
    view = window.findings
    worker = view.run_detections()
    assert worker is not None
    assert not view.run_button.isEnabled()  # one run at a time
    worker.progress.connect(lambda _step: worker.cancel())  # as Cancel pressed at once
    with qtbot.waitSignal(worker.cancelled, timeout=60_000):
        pass
    worker.wait()
    assert "cancelled" in view.summary.text() and view.run_button.isEnabled()
    assert view.findings == []
    window.close()
    with Analysis.open(folder, origin="cli") as analysis:
        assert analysis.marked_findings() == []
    assert "detect" not in [e["action"] for e in entries(folder)]


def test_activating_a_finding_shows_exactly_its_events(qtbot, window: MainWindow):
    view = shown_findings(qtbot, window)
    for rule in ("mass-recording-access", "missing-witness", "audit-stream-silence"):
        row = row_of(view, rule)
        finding: Finding = view.finding_at(row)
        rect = view.table.visualRect(view.model.index(row, 2))
        pivots_before = len(pivots(window.case_dir))
        qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert window.tabs.currentWidget() is window.events
        assert len(pivots(window.case_dir)) == pivots_before + 1  # one double-click, one pivot
        model = window.events.model
        assert model.rowCount() == len(finding.events)
        shown = [model.event(r) for r in range(model.rowCount())]
        assert [(e["time_ns"], e["stream_id"], e["seq"]) for e in shown] == sorted(
            (e.time_ns, e.stream_id, e.seq) for e in finding.events
        )
        # The selection's witnesses are journaled too, in a worker: the pivot is the last filter.
        last = [
            e["details"]
            for e in entries(window.case_dir)
            if e["action"] == "query" and e["details"]["command"] == "filter"
        ][-1]
        assert last["via"] == "pivot"
        assert last["pivot"]["finding"] == rule and last["matches"] == len(finding.events)
        assert last["origin"] == "workbench"
        window.tabs.setCurrentWidget(view)


def test_a_finding_with_more_records_than_a_filter_opens_its_streams_over_its_span():
    from auditlens.core.analysis.findings import EventRef

    start = 1_772_500_000_123_456_789  # 2026-03-03T01:06:40Z and some nanoseconds
    refs = tuple(
        EventRef(start + i * 1_000_003, "cc-prod.otel-logs", 2 * i, None, "log")
        for i in range(20_000)
    )
    found = Finding("missing-witness", "many", "high", None, start, refs[-1].time_ns, "", refs)
    opened = finding_events(found)
    assert not opened.exact
    assert opened.filter == 'stream_id="cc-prod.otel-logs"'
    assert opened.time_range == (start, refs[-1].time_ns + 1)
    assert queries.EventQuery(opened.filter, *opened.time_range).where()


def test_findings_are_marked_on_the_histogram_lanes_and_map_at_their_times(
    qtbot, window: MainWindow, incident
):
    found = Analysis.of(window.case).marked_findings()
    histogram = window.events.histogram
    lo, hi = histogram._span()
    pixels = histogram.finding_pixels()
    assert len(pixels) == len(found)
    area = histogram.rect().adjusted(2, 4, -2, -18)
    per_pixel = (hi - lo) / area.width()
    for mark, x, _y in pixels:
        # The pixel column holds the finding's first event time.
        assert abs(lo + (x - area.left()) * per_pixel - mark.start_ns) <= per_pixel
    assert {(m.rule, m.start_ns, m.severity) for m, _x, _y in pixels} == {
        (f.rule, f.time_first_ns, f.severity) for f in found
    }
    # The pointer on a high finding's flag names it.
    silence = next(f for f in found if f.rule == "audit-stream-silence")
    x = next(x for m, x, _y in pixels if m.rule == "audit-stream-silence")
    marked = [m for m, mx, _y in pixels if abs(mx - x) <= 5]
    from auditlens.gui import finding_marks

    assert silence.title in finding_marks.tooltip(marked, None)

    # Lanes: each finding of an actor drawn on its lane, at its time.
    with qtbot.waitSignal(window.actors.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(window.actors)
    lanes = window.actors.swimlanes
    actor = incident["actor_id"]
    row = [lane.actor for lane in lanes.lanes].index(actor)
    on_lane = [(m, x) for m, x, r in lanes.finding_pixels() if r == row]
    assert {m.start_ns for m, _x in on_lane} == {
        f.time_first_ns for f in found if f.actor_id == actor
    }
    for mark, x in on_lane:
        assert x == lanes._x(mark.start_ns)
    assert all(m.actor == lanes.lanes[r].actor for m, _x, r in lanes.finding_pixels())

    # The integrity map: the audit sink's silence along the audit stream's lane, first to last.
    window.tabs.setCurrentWidget(window.integrity)
    qtbot.waitUntil(lambda: bool(window.integrity.map.stretches), timeout=30_000)
    map_ = window.integrity.map
    lanes_of_map = sorted({s.lane for s in map_.stretches})
    (strip,) = [p for p in map_.finding_pixels() if p[0].rule == "audit-stream-silence"]
    mark, x0, x1, lane = strip
    assert lanes_of_map[lane] == "cc-prod.audit"
    left, right = map_._plot_x()
    map_lo, map_hi = map_._span()
    assert x0 == left + int((silence.time_first_ns - map_lo) / (map_hi - map_lo) * (right - left))
    assert x1 == left + int((silence.time_last_ns - map_lo) / (map_hi - map_lo) * (right - left))
    assert x1 - x0 > 3  # 39 minutes of three days, about 10 pixels at this width


def test_a_corroborated_action_shows_its_witnesses(qtbot, window: MainWindow, incident):
    view = shown_findings(qtbot, window)
    row = row_of(view, "audit-disabled", incident["actor_id"])
    view.table.selectRow(row)
    pane = view.witnesses
    qtbot.waitUntil(lambda: pane.action is not None, timeout=30_000)
    action = pane.action
    assert action.action == "CONFIG_CHANGE" and action.actor_id == incident["actor_id"]
    assert sorted(str(w["kind"]) for w in action.witnesses) == ["audit", "log", "span"]
    assert pane.missing_rows() == []
    # The pane shows each witness, and the log and span share one trace.
    top = pane.topLevelItem(0)
    assert sorted(top.child(i).text(0) for i in range(top.childCount())) == [
        "audit",
        "log",
        "span",
    ]
    assert len({str(w["trace_id"]) for w in action.witnesses if w["kind"] != "audit"}) == 1
    finding = view.finding_at(row)
    assert {(str(w["stream_id"]), int(w["seq"])) for w in action.witnesses} == {
        (e.stream_id, e.seq) for e in finding.events
    }
    last = [e for e in entries(window.case_dir) if e["action"] == "query"][-1]["details"]
    assert last["command"] == "witnesses" and last["origin"] == "workbench"
    assert last["events"] == 3 and last["missing"] == []


def test_the_silent_audit_sinks_missing_witness_is_flagged(qtbot, window: MainWindow, incident):
    view = shown_findings(qtbot, window)
    row = row_of(view, "missing-witness", incident["actor_id"])
    view.table.selectRow(row)
    pane = view.witnesses
    qtbot.waitUntil(lambda: pane.action is not None, timeout=30_000)
    finding = view.finding_at(row)
    first = finding.events[0]
    assert pane.action.witnesses[0]["stream_id"] in {e.stream_id for e in finding.events}
    assert {str(w["kind"]) for w in pane.action.witnesses} == {"log", "span"}
    ((stream, reason),) = pane.missing_rows()
    assert stream == "cc-prod.audit"
    assert "cc-prod.audit holds" in reason
    # The flagged row is in the pane, in the severity's red.
    top = pane.topLevelItem(0)
    flagged = [top.child(i) for i in range(top.childCount()) if top.child(i).text(1) == stream]
    assert len(flagged) == 1 and flagged[0].text(0) == "✗ missing"
    # The record is named by its place, journaled with the stream found missing.
    last = [e for e in entries(window.case_dir) if e["action"] == "query"][-1]["details"]
    assert (last["stream_id"], last["seq"]) == (first.stream_id, first.seq)
    assert last["missing"] == ["cc-prod.audit"]
    # Activating a witness opens its record in the events view.
    witness = next(top.child(i) for i in range(top.childCount()) if top.child(i).text(0) == "log")
    pane.itemActivated.emit(witness, 0)
    assert window.tabs.currentWidget() is window.events
    (event,) = [window.events.model.event(r) for r in range(window.events.model.rowCount())]
    assert (event["stream_id"], str(event["seq"])) == (witness.text(1), witness.text(2))


def test_severity_filter_and_sorting(qtbot, window: MainWindow):
    view = shown_findings(qtbot, window)
    everything = len(view.findings)
    view.severity_box.setCurrentIndex(3)  # high and above
    assert 0 < view.model.rowCount() < everything
    assert {r["severity"] for r in view.model.rows} == {"high"}
    view.severity_box.setCurrentIndex(0)
    assert view.model.rowCount() == everything
    view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    ranks = [severity_rank(r["severity"]) for r in view.model.rows]
    assert ranks == sorted(ranks) and ranks[0] < ranks[-1]
    first = next(c for c, (key, _t) in enumerate(view.COLUMNS) if key == "first")
    view.table.sortByColumn(first, Qt.SortOrder.DescendingOrder)
    times = [r["first_ns"] for r in view.model.rows]
    assert times == sorted(times, reverse=True)
    score = next(c for c, (key, _t) in enumerate(view.COLUMNS) if key == "score")
    view.table.sortByColumn(score, Qt.SortOrder.DescendingOrder)
    scores = [r["score"] for r in view.model.rows]
    scored = [s for s in scores if s is not None]
    assert scored and scored == sorted(scored, reverse=True)
    assert scores == scored + [None] * (len(scores) - len(scored))  # unscored rules last


def test_compliance_shows_what_the_cli_prints(qtbot, window: MainWindow, cli):
    view = shown_findings(qtbot, window)
    worker = view.show_compliance()
    assert worker is not None
    qtbot.waitUntil(lambda: hasattr(view, "compliance_dialog"), timeout=60_000)
    dialog = view.compliance_dialog
    text = dialog.text.toPlainText().splitlines()
    assert text == render(dialog.report)
    printed = cli("compliance", window.case_dir)
    assert printed.code == 0
    # Everything up to the 72-hour window, which counts to the moment each was asked.
    cut = text.index("GDPR Art. 33 window:")
    assert printed.out.splitlines()[:cut] == text[:cut]
    frameworks = [
        dialog.tree.topLevelItem(i).text(0) for i in range(dialog.tree.topLevelItemCount())
    ]
    assert frameworks[: len(dialog.report.frameworks)] == list(dialog.report.frameworks)
    origins = [
        e["details"]["origin"] for e in entries(window.case_dir) if e["action"] == "compliance"
    ]
    assert origins == ["workbench", "cli"]
    dialog.close()


def test_tooltip_over_a_histogram_flag(qtbot, window: MainWindow):
    histogram = window.events.histogram
    window.tabs.setCurrentWidget(window.events)
    mark, x, y = next(p for p in histogram.finding_pixels() if p[0].severity == "high")
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent

    event = QHelpEvent(QEvent.Type.ToolTip, QPoint(x, y), histogram.mapToGlobal(QPoint(x, y)))
    assert histogram.event(event)
    qtbot.waitUntil(QToolTip.isVisible, timeout=5_000)
    assert mark.title in QToolTip.text()


def test_screenshot_of_a_findings_witnesses(detected_dir, tmp_path):
    folder = tmp_path / "case"
    shutil.copytree(detected_dir, folder)
    image = gui_screenshot(
        str(folder), "--tab", "findings", "--finding", "missing-witness", out=tmp_path / "f.png"
    )
    assert (image.width(), image.height()) == (1400, 900)
    # The finding was selected and its first event's witnesses read before the picture.
    asked = [e["details"] for e in entries(folder) if e["details"].get("command") == "witnesses"]
    assert [d["missing"] for d in asked] == [["cc-prod.audit"]]


def test_times_sort_as_instants_across_a_daylight_saving_change(qtbot, window: MainWindow):
    from zoneinfo import ZoneInfo

    view = shown_findings(qtbot, window)
    # 2026-10-25: London leaves summer time at 01:00Z; 00:30Z is 01:30+01:00, 01:10Z 01:10+00:00.
    early, late = 1_792_888_200_000_000_000, 1_792_890_600_000_000_000
    found = [Finding(f"r{t}", "t", "low", None, t, t, "") for t in (late, early)]
    view.set_time_zone(ZoneInfo("Europe/London"))
    view.set_findings(found)
    assert [r["first"][11:16] for r in view.model.rows] == ["01:10", "01:30"]
    first = next(c for c, (key, _t) in enumerate(view.COLUMNS) if key == "first")
    view.table.sortByColumn(first, Qt.SortOrder.AscendingOrder)
    assert [r["first_ns"] for r in view.model.rows] == [early, late]


def test_tooltips_over_a_lane_diamond_and_a_map_mark(qtbot, window: MainWindow, incident):
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QHelpEvent

    def tip_at(widget, x: int, y: int) -> str:
        QToolTip.hideText()
        qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=5_000)
        event = QHelpEvent(QEvent.Type.ToolTip, QPoint(x, y), widget.mapToGlobal(QPoint(x, y)))
        widget.event(event)
        qtbot.waitUntil(QToolTip.isVisible, timeout=5_000)
        return QToolTip.text()

    with qtbot.waitSignal(window.actors.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(window.actors)
    lanes = window.actors.swimlanes
    mark, x, row = next(p for p in lanes.finding_pixels() if p[0].rule == "role-self-grant")
    assert mark.actor == incident["actor_id"]
    assert mark.title in tip_at(lanes, x, 4 + row * lanes.LANE + 11)

    window.tabs.setCurrentWidget(window.integrity)
    qtbot.waitUntil(lambda: bool(window.integrity.map.stretches), timeout=30_000)
    map_ = window.integrity.map
    mark, x0, _x1, row = next(
        p for p in map_.finding_pixels() if p[0].rule == "audit-stream-silence"
    )
    assert mark.title in tip_at(map_, x0, 8 + row * 26 + 10)
    QToolTip.hideText()


def test_a_click_on_a_histogram_flag_opens_the_worst_findings_events(qtbot, window: MainWindow):
    from auditlens.gui.finding_marks import first_of

    window.tabs.setCurrentWidget(window.events)
    histogram = window.events.histogram
    _mark, x, _y = next(p for p in histogram.finding_pixels() if p[0].rule == "missing-witness")
    under = [m for m, mx, _y in histogram.finding_pixels() if abs(mx - x) <= 5]
    opened = first_of(under).finding
    assert opened is not None and opened.severity == "high"
    before = len(pivots(window.case_dir))
    # Low on the plot, along the flag's line: a click, not a drag.
    qtbot.mouseClick(histogram, Qt.MouseButton.LeftButton, pos=QPoint(x, histogram.height() - 30))
    assert len(pivots(window.case_dir)) == before + 1
    assert pivots(window.case_dir)[-1]["pivot"]["finding"] == opened.rule
    model = window.events.model
    shown = [model.event(r) for r in range(model.rowCount())]
    assert sorted((e["stream_id"], e["seq"]) for e in shown) == sorted(
        (e.stream_id, e.seq) for e in opened.events
    )
    # A click away from every flag opens nothing.
    far = next(
        px
        for px in range(10, histogram.width() - 10, 7)
        if all(abs(px - mx) > 8 for _m, mx, _y in histogram.finding_pixels())
    )
    qtbot.mouseClick(histogram, Qt.MouseButton.LeftButton, pos=QPoint(far, histogram.height() - 30))
    assert len(pivots(window.case_dir)) == before + 1


def test_witnesses_of_an_events_action_from_the_events_view(qtbot, window: MainWindow, incident):
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter(
        f"actor_id={incident['actor_id']} AND action:ROLE_CHANGE AND kind:audit", via="filter"
    )
    (event,) = [window.events.model.event(r) for r in range(window.events.model.rowCount())]
    pane = window.findings.witnesses
    window.events.witnesses_wanted.emit(event)  # the row's context menu entry
    assert window.tabs.currentWidget() is window.findings
    qtbot.waitUntil(lambda: pane.action is not None, timeout=30_000)
    assert pane.action.action == "ROLE_CHANGE"
    assert sorted(str(w["kind"]) for w in pane.action.witnesses) == ["audit", "log", "span"]
    assert (event["stream_id"], event["seq"]) in {
        (w["stream_id"], w["seq"]) for w in pane.action.witnesses
    }
    assert "asked from the events view" in window.findings.explanation.toPlainText()
    last = [e for e in entries(window.case_dir) if e["action"] == "query"][-1]["details"]
    assert last["command"] == "witnesses" and last["seq"] == event["seq"]
