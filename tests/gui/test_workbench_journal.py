"""The workbench's actions are in the journal (issue 11 point 1), and the journal verifies.

A person drives the window: creates a case from the File menu, imports the sample, types a
filter, pivots to an actor, opens a trace and proves a record. Each of those is journaled by the
examination API with origin ``workbench``; scrolling the table adds nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from auditlens.core.store.case import read_journal_record
from auditlens.core.store.journal import JournalStatus, verify_journal
from auditlens.gui.main_window import MainWindow
from auditlens.gui.views import actor_term

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"


def entries(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def test_the_workbench_journals_what_the_examiner_does(qtbot, settings, tmp_path, monkeypatch):
    case_dir = tmp_path / "new-case"
    bundles = sorted(str(p) for p in (SAMPLE / "bundles").glob("*/*"))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(case_dir))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: (bundles, ""))
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, title, *a: warned.append(title))
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()

    window.new_action.trigger()  # File > New case…
    assert (case_dir / "case.duckdb").is_file()
    window.trust_files = [SAMPLE / "truststore.json"]
    window.import_action.trigger()  # File > Import evidence…
    assert window.worker is not None
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        pass
    window.worker.wait()
    assert warned == []

    # A filter typed and applied with Enter: one entry, not one per keystroke.
    window.tabs.setCurrentWidget(window.events)
    qtbot.keyClicks(window.events.filter_bar, "action:EXPORT")
    qtbot.keyClick(window.events.filter_bar, Qt.Key.Key_Return)
    exports = window.events.model.rowCount()
    assert exports > 0
    for row in range(0, exports, 7):  # scrolling through the result is no action
        window.events.jump_to(row)

    # Pivot: double-click an actor in the actors table.
    window.tabs.setCurrentWidget(window.actors)
    table = window.actors.table
    actor = window.actors.model.rows[0]["actor_id"]
    rect = table.visualRect(window.actors.model.index(0, 0))
    # A press first, as a real double-click starts with one (the view remembers its index).
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.events
    assert window.events.filter_bar.text() == actor_term(actor)

    # Open a trace from an event (the context menu's "Open trace waterfall").
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("kind:span", via="filter")
    trace_id = window.events.model.event(0)["trace_id"]
    with qtbot.waitSignal(window.traces.loaded, timeout=30_000):
        window.events.open_trace.emit(trace_id)
    shown = window.traces.waterfall.rows
    assert shown and {r.span["trace_id"] for r in shown} == {trace_id}

    # Prove the selected record.
    window.tabs.setCurrentWidget(window.events)
    window.events.jump_to(0)
    proved = window.events.model.event(0)
    qtbot.mouseClick(window.events.proof_button, Qt.MouseButton.LeftButton)
    window.close()

    journal = entries(case_dir)
    assert journal[0]["action"] == "case_created"
    assert all(e["details"].get("origin") == "workbench" for e in journal)
    imported = [e for e in journal if e["action"] == "import"]
    assert len(imported) == len(bundles)
    assert {i["verdict"] for e in imported for i in e["details"]["inputs"]} == {"verified"}
    queries = [e["details"] for e in journal if e["action"] == "query"]
    filters = [q for q in queries if q["command"] == "filter"]
    typed = [q for q in filters if q["filter"] == "action:EXPORT"]
    assert [(q["via"], q["matches"]) for q in typed] == [("filter", exports)]
    partial = [q for q in filters if q["filter"] and "action:EXPORT".startswith(q["filter"])]
    assert partial == typed  # nothing per keystroke
    pivots = [q for q in filters if q["via"] == "pivot"]
    assert [(q["filter"], q["pivot"]) for q in pivots] == [(actor_term(actor), {"actor": actor})]
    assert any(q["command"] == "actors" and q["rows"] > 10 for q in queries)
    traces = [q for q in queries if q["command"] == "trace"]
    assert trace_id in [q["trace_id"] for q in traces]
    (proof,) = [e["details"] for e in journal if e["action"] == "prove"]
    assert (proof["stream_id"], proof["seq"], proof["verified"]) == (
        proved["stream_id"],
        proved["seq"],
        True,
    )

    record = read_journal_record(case_dir)
    assert record is not None
    report = verify_journal(
        case_dir,
        expected_head=record.head,
        announced=record.announced,
        case_empty=record.empty,
    )
    assert report.status is JournalStatus.INTACT
    assert report.entries == len(journal)
