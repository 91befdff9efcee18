"""The workbench's legal actions (issue 14 points 1, 2, 4): bookmark, export, exhibit.

Each test drives a window over its own copy of the sample case (nine sealed bundles of March
2026) and checks what the legal API journaled (origin ``workbench``) against the case database
and the files written, read without AuditLens.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QMessageBox

from auditlens.core.errors import UsageError
from auditlens.core.report.bookmarks import MAX_NOTE_LENGTH, MAX_TAG_LENGTH, check_labels
from auditlens.gui.legal_actions import export_format

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"


def entries(case: Path, action: str) -> list[dict[str, Any]]:
    lines = (case / "journal.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def click_rows(qtbot: Any, window: Any, rows: list[int]) -> None:
    table = window.events.table
    for n, row in enumerate(rows):
        modifier = Qt.KeyboardModifier.ControlModifier if n else Qt.KeyboardModifier.NoModifier
        rect = table.visualRect(window.events.model.index(row, 1))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def wait_job(qtbot: Any, worker: Any) -> None:
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    worker.wait()


def test_three_selected_rows_are_bookmarked_by_key_listed_and_shown(
    qtbot: Any, window: Any, case_copy: Path
) -> None:
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("action:EXPORT", via="filter")
    assert window.events.model.rowCount() > 5
    click_rows(qtbot, window, [4, 0, 2])
    # The events the rows show (the case's database is held open by the window).
    chosen = [window.events.model.event(r) for r in (0, 2, 4)]
    want = [(e["stream_id"], e["seq"], e["time_ns"]) for e in chosen]
    assert all(e["integrity"] == "verified" for e in chosen)
    assert len(want) == 3 and [w[2] for w in want] == sorted(w[2] for w in want)
    assert all(w[2] > 1_767_225_600_000_000_000 for w in want)  # times of 2026, in ns

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    qtbot.keyClick(window.events.table, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    dialog = window.legal.dialog
    assert dialog is not None and dialog.isVisible()
    assert "3 selected events" in dialog.heading.text()
    qtbot.keyClicks(dialog.tags, "exfiltration, after-hours, exfiltration")
    qtbot.keyClicks(dialog.note, "three exports by one agent")
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert not dialog.isVisible()

    (entry,) = entries(case_copy, "bookmark")
    details = entry["details"]
    assert details["origin"] == "workbench"
    assert details["selection"] == "events"
    assert details["refs"] == [f"stream:{s}#{q}" for s, q, _ in want]
    assert (details["count"], details["tags"], details["note"]) == (
        3,
        ["exfiltration", "after-hours"],
        "three exports by one agent",
    )

    bookmarks = window.bookmarks
    with qtbot.waitSignal(bookmarks.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(bookmarks)
    rows = bookmarks.model.rows
    assert [r["ref"] for r in rows] == details["refs"]  # in time order
    assert {(r["tags"], r["notes"], r["action"]) for r in rows} == {
        ("exfiltration, after-hours", "three exports by one agent", "EXPORT")
    }
    listing = entries(case_copy, "query")[-1]["details"]
    assert (listing["command"], listing["rows"], listing["origin"]) == (
        "bookmarks",
        3,
        "workbench",
    )

    # Activating the second shows that very event in the Events tab.
    rect = bookmarks.table.visualRect(bookmarks.model.index(1, 0))
    qtbot.mouseClick(bookmarks.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(bookmarks.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.events
    shown = window.events.model.event(0)
    assert window.events.model.rowCount() == 1
    assert (shown["stream_id"], shown["seq"]) == (want[1][0], want[1][1])


def test_the_bookmark_dialog_stays_open_with_the_cores_reason_until_the_tags_are_allowed(
    qtbot: Any, window: Any, case_copy: Path
) -> None:
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("action:EXPORT", via="filter")
    click_rows(qtbot, window, [1])
    dialog = window.legal.bookmark_selected()
    assert dialog is not None and dialog.isVisible()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    long_tag = "exfiltration-" + "x" * MAX_TAG_LENGTH
    for tags, note in (
        (f"after-hours, {long_tag}", "one export"),
        ("after-hours", "n" * (MAX_NOTE_LENGTH + 1)),
    ):
        dialog.tags.setText(tags)
        dialog.note.setPlainText(note)
        with pytest.raises(UsageError) as refused:
            check_labels(*dialog.chosen())
        qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
        assert dialog.isVisible() and dialog.error.isVisible()
        assert dialog.error.text() == refused.value.message
    assert entries(case_copy, "bookmark") == []
    dialog.tags.setText("after-hours, exfiltration")
    dialog.note.setPlainText("one export")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    (entry,) = entries(case_copy, "bookmark")
    assert entry["details"]["tags"] == ["after-hours", "exfiltration"]


def test_the_context_menu_offers_the_bookmark_and_the_exhibit(window: Any) -> None:
    assert window.legal.bookmark_action in window.events.row_actions
    assert window.legal.exhibit_action in window.events.row_actions
    assert window.legal.bookmark_action.shortcut().toString() == "Ctrl+B"


def test_a_bookmark_without_a_selection_asks_for_one(window: Any, case_copy: Path) -> None:
    window.events.table.clearSelection()
    assert window.legal.bookmark_selected() is None
    assert "select the events" in window.legal.message
    assert entries(case_copy, "bookmark") == []


def test_the_view_is_exported_and_the_journal_records_the_files_sha256(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.tabs.setCurrentWidget(window.events)
    low, high = 1_772_496_000_000_000_000, 1_772_582_400_000_000_000  # 2026-03-03, a day
    window.events.show_filter("kind:audit", via="filter", time_range=(low, high))
    shown = window.events.model.rowCount()
    assert shown > 0
    target = tmp_path / "out" / "audit-day"
    target.parent.mkdir()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "JSON lines (*.jsonl)")
    )
    wait_job(qtbot, window.legal.ask_export())
    written = target.with_name("audit-day.jsonl")
    data = written.read_bytes()
    rows = [json.loads(line) for line in data.splitlines()]
    assert len(rows) == shown
    assert all(low <= r["time_ns"] < high and r["kind"] == "audit" for r in rows)
    (entry,) = entries(case_copy, "export")
    details = entry["details"]
    assert details["sha256"] == hashlib.sha256(data).hexdigest()
    assert details["origin"] == "workbench"
    assert (details["filter"], details["format"], details["output"], details["rows"]) == (
        "kind:audit",
        "jsonl",
        str(written),
        shown,
    )
    assert details["sha256"] in window.legal.message and str(written) in window.legal.message


def test_an_export_never_replaces_a_file(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "evidence.csv"
    existing.write_bytes(b"original\n")
    warned: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warned.append(text))
    worker = window.legal.export_view(existing, "csv")
    with qtbot.waitSignal(worker.failed, timeout=60_000):
        pass
    worker.wait()
    qtbot.waitUntil(lambda: bool(warned))
    assert "never overwrites" in warned[0]
    assert existing.read_bytes() == b"original\n"
    assert entries(case_copy, "export") == []


def test_the_export_format_comes_from_the_name_or_the_choice() -> None:
    assert export_format(Path("/x/a.PARQUET")) == (Path("/x/a.PARQUET"), "parquet")
    assert export_format(Path("/x/a.json")) == (Path("/x/a.json"), "jsonl")
    # The CLI's names (one table in core): .ndjson is JSON lines, not 'a.ndjson.csv'.
    assert export_format(Path("/x/a.ndjson"), "CSV (*.csv)") == (Path("/x/a.ndjson"), "jsonl")
    assert export_format(Path("/x/a"), "CSV (*.csv)") == (Path("/x/a.csv"), "csv")
    with pytest.raises(ValueError, match="name the file"):
        export_format(Path("/x/a.txt"))


def test_an_exhibit_of_selected_rows_verifies_with_auditlens_verify(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, cli: Any
) -> None:
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("action:EXPORT", via="filter")
    click_rows(qtbot, window, [1, 3])
    positions = window.legal.selected_positions()
    assert positions is not None and len(positions) == 2
    out = tmp_path / "exhibit"
    wait_job(qtbot, window.legal.export_exhibit(out, positions))
    (entry,) = entries(case_copy, "exhibit")
    details = entry["details"]
    assert details["origin"] == "workbench" and details["sealed"] == 2
    index = (out / "exhibit.json").read_bytes()
    assert details["index_sha256"] == hashlib.sha256(index).hexdigest()
    result = cli("verify", out, "--trust", SAMPLE / "truststore.json")
    assert result.code == 0, result.out + result.err
    assert "2 of 2 sealed record(s) proven" in result.out
    assert str(out) in window.legal.message


def test_an_exhibit_of_the_view_holds_its_events(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, cli: Any
) -> None:
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("actor_id:sup-004 AND action:EXPORT", via="filter")
    shown = window.events.model.rowCount()
    assert shown > 0
    window.events.table.clearSelection()
    out = tmp_path / "view-exhibit"
    wait_job(qtbot, window.legal.export_exhibit(out))
    (entry,) = entries(case_copy, "exhibit")
    assert entry["details"]["count"] == shown
    assert entry["details"]["selection"] == "filter: actor_id:sup-004 AND action:EXPORT"
    assert cli("verify", out, "--trust", SAMPLE / "truststore.json").code == 0


def test_the_report_is_written_from_the_workbench_and_journaled(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.zone_box.setCurrentText("Europe/Berlin")
    target = tmp_path / "examination"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "HTML (*.html)")
    )
    wait_job(qtbot, window.legal.ask_report())
    written = tmp_path / "examination.html"
    data = written.read_bytes()
    assert b"<html" in data[:400].lower()
    assert b"+01:00" in data  # March 2026 in Berlin: the zone shown is the report's
    (entry,) = entries(case_copy, "report")
    details = entry["details"]
    assert details["origin"] == "workbench"
    assert details["sha256"] == hashlib.sha256(data).hexdigest()
    assert details["sha256"] in window.legal.message and str(written) in window.legal.message


def test_a_cancelled_export_writes_nothing_and_journals_nothing(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.report import export as export_module

    # Slices of 64 positions: the 6,000 events take about 94 of them, each a point to stop at.
    monkeypatch.setattr(export_module, "SLICE", 64)
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "all.parquet"
    worker = window.legal.export_view(out, "parquet")
    with qtbot.waitSignal(worker.cancelled, timeout=60_000):
        worker.cancel()  # what the progress dialog's Cancel does
    worker.wait()
    assert list(folder.iterdir()) == []  # no file, no partial file
    assert entries(case_copy, "export") == []
    assert "nothing was written" in window.legal.message


def test_more_rows_than_a_bookmark_holds_are_refused(
    window: Any, case_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.gui import legal_actions

    monkeypatch.setattr(legal_actions, "MAX_BOOKMARK_EVENTS", 4)
    window.tabs.setCurrentWidget(window.events)
    window.events.table.selectAll()
    assert window.legal.bookmark_selected() is None
    assert "6,000 rows are selected" in window.legal.message
    assert entries(case_copy, "bookmark") == []


def test_export_exhibit_asks_selected_or_view_then_a_new_folder(
    qtbot: Any, window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("action:EXPORT", via="filter")
    click_rows(qtbot, window, [0, 1, 2])
    out = tmp_path / "three"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    offered: list[str] = []

    def choose_selected() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        offered.extend(b.text() for b in box.buttons())
        box.buttons()[[b.text() for b in box.buttons()].index("The 3 selected")].click()

    QTimer.singleShot(0, choose_selected)
    wait_job(qtbot, window.legal.ask_exhibit())
    assert f"All {window.events.model.rowCount():,} of the view" in offered
    (entry,) = entries(case_copy, "exhibit")
    assert entry["details"]["count"] == 3 and entry["details"]["selection"].startswith("events")
    assert (out / "exhibit.json").is_file()


def test_opening_another_case_stops_a_running_export_first(
    qtbot: Any,
    window: Any,
    case_copy: Path,
    sample_case_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from auditlens.core.report import export as export_module

    monkeypatch.setattr(export_module, "SLICE", 64)
    other = tmp_path / "other"
    shutil.copytree(sample_case_dir, other)
    folder = tmp_path / "out"
    folder.mkdir()
    worker = window.legal.export_view(folder / "all.csv", "csv")
    window.open_case(other)  # closes the case the export reads
    assert not worker.is_running()
    assert window.case_dir == other and window.events.model.rowCount() == 6000
    assert list(folder.iterdir()) == []
    assert entries(case_copy, "export") == []
