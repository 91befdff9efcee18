"""The workbench's tables and first steps (issue 12): columns, sorting, selection, detail pane,
the empty case, the sample from Help, saved views."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QPushButton

from auditlens.gui import main_window
from auditlens.gui.main_window import MainWindow
from auditlens.gui.views import actor_term

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"
DEFAULT_COLUMNS = [
    "time",
    "kind",
    "service",
    "actor_id",
    "action",
    "outcome",
    "integrity",
    "resource_type",
    "resource_id",
    "source_ip",
    "tenant",
    "name",
    "body",
]


def make_window(qtbot, folder: Path | None, settings) -> MainWindow:
    window = MainWindow(folder, settings=settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    return window


def click_header(qtbot, table, column: int) -> None:
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))


def test_every_table_sorts_by_a_clicked_column(qtbot, case_copy, settings):
    window = make_window(qtbot, case_copy, settings)
    bundles = window.integrity.bundles
    records = [key for key, _ in bundles.columns].index("record_count")
    click_header(qtbot, window.integrity.bundle_table, records)
    counts = [r["record_count"] for r in bundles.rows]
    assert counts == sorted(counts) and len(set(counts)) > 1
    click_header(qtbot, window.integrity.bundle_table, records)
    assert [r["record_count"] for r in bundles.rows] == sorted(counts, reverse=True)
    with qtbot.waitSignal(window.actors.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(window.actors)
    actors = window.actors.model
    events = [key for key, _ in actors.columns].index("events")
    click_header(qtbot, window.actors.table, events)
    assert [r["events"] for r in actors.rows] == sorted(r["events"] for r in actors.rows)
    # Double-clicking a row after sorting follows the actor shown in it.
    shown = actors.rows[0]["actor_id"]
    window.actors.actor_activated.emit(actors.rows[0]["actor_id"])
    assert window.events.filter_bar.text() == actor_term(shown)
    with qtbot.waitSignal(window.traces.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(window.traces)
    traces = window.traces.model
    spans = [key for key, _ in traces.columns].index("spans")
    click_header(qtbot, window.traces.table, spans)
    click_header(qtbot, window.traces.table, spans)
    assert [r["spans"] for r in traces.rows] == sorted(
        (r["spans"] for r in traces.rows), reverse=True
    )
    window.close()


def test_columns_are_chosen_reordered_and_kept_per_case(qtbot, case_copy, settings, tmp_path):
    window = make_window(qtbot, case_copy, settings)
    events = window.events
    assert events.visible_columns() == DEFAULT_COLUMNS
    menu = events.column_menu()
    (service,) = [a for a in menu.actions() if a.text() == "Service"]
    service.trigger()  # unchecked: hidden
    header = events.table.horizontalHeader()
    header.moveSection(header.visualIndex(DEFAULT_COLUMNS.index("actor_id")), 0)  # a drag
    expected = ["actor_id"] + [c for c in DEFAULT_COLUMNS if c not in ("actor_id", "service")]
    assert events.visible_columns() == expected
    window.close()
    again = make_window(qtbot, case_copy, settings)
    assert again.events.visible_columns() == expected
    again.close()
    other = tmp_path / "other"
    shutil.copytree(case_copy, other)
    third = make_window(qtbot, other, settings)
    assert third.events.visible_columns() == DEFAULT_COLUMNS  # kept per case
    third.close()


def test_several_rows_are_selected_and_the_detail_follows(qtbot, case_copy, settings):
    window = make_window(qtbot, case_copy, settings)
    window.tabs.setCurrentWidget(window.events)
    table = window.events.table
    for row, modifier in (
        (0, Qt.KeyboardModifier.NoModifier),
        (2, Qt.KeyboardModifier.ControlModifier),
    ):
        rect = table.visualRect(window.events.model.index(row, 1))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    chosen = window.events.selected_events()
    assert [e["ord"] for e in chosen] == [window.events.model.event(r)["ord"] for r in (0, 2)]
    detail = window.events.detail
    assert detail.topLevelItemCount() > 0  # the current row's event
    window.events.show_filter("kind:audit", via="filter")
    assert detail.topLevelItemCount() == 0  # cleared with the old result
    window.close()


def test_an_empty_case_shows_how_to_import_by_button_or_drop(
    qtbot, settings, tmp_path, monkeypatch
):
    window = make_window(qtbot, None, settings)
    assert not window.empty_panel.isVisible()
    window.open_case(tmp_path / "new", create=True)
    assert window.empty_panel.isVisible()
    raw = tmp_path / "audit.jsonl"
    raw.write_text(
        json.dumps({"timestamp": "2026-03-02T08:00:00.000Z", "user_id": "u1", "action": "READ"})
        + "\n"
    )
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(raw)], ""))
    (button,) = [
        b for b in window.empty_panel.findChildren(QPushButton) if b.text() == "Import evidence…"
    ]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        pass
    window.worker.wait()
    assert not window.empty_panel.isVisible()
    # Dropping files imports them too.
    second = tmp_path / "more.jsonl"
    second.write_text(raw.read_text().replace("u1", "u2"))
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(second))])
    drop = QDropEvent(
        QPointF(200, 200),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(drop)
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        pass
    window.worker.wait()
    assert window.case.counts().events == 2
    window.close()


def test_help_opens_the_sample_case(qtbot, settings, tmp_path, monkeypatch):
    monkeypatch.setattr(
        main_window.QStandardPaths, "writableLocation", lambda *_: str(tmp_path / "appdata")
    )
    window = make_window(qtbot, None, settings)
    window.sample_action.trigger()
    assert window.worker is not None
    with qtbot.waitSignal(window.worker.finished, timeout=120_000):
        pass
    window.worker.wait()
    assert window.case_dir == tmp_path / "appdata" / "sample-case"
    assert {r["verdict"] for r in window.integrity.bundles.rows} == {"verified"}
    assert window.case.counts().events == 6000
    window.close()


def test_saved_views_keep_filter_range_and_columns_and_are_journaled(qtbot, case_copy, settings):
    window = make_window(qtbot, case_copy, settings)
    events = window.events
    events.time_range = (1_772_438_400_000_000_000, 1_772_452_800_000_000_000)
    events.show_filter("kind:audit", via="filter")
    expected = events.model.rowCount()
    events.set_columns(["time", "actor_id", "action", "integrity"])
    events.save_view("morning audits")
    events.set_columns(DEFAULT_COLUMNS)
    events.time_range = (None, None)
    events.show_filter("", via="filter")
    (view,) = window.case.saved_views()
    events.open_view(view)
    assert events.filter_bar.text() == "kind:audit"
    assert events.time_range == (1_772_438_400_000_000_000, 1_772_452_800_000_000_000)
    assert events.model.rowCount() == expected
    assert events.visible_columns() == ["time", "actor_id", "action", "integrity"]
    window.close()
    journal = [json.loads(x) for x in (case_copy / "journal.jsonl").read_text().splitlines()]
    (saved,) = [e["details"] for e in journal if e["action"] == "view_saved"]
    assert (saved["name"], saved["filter"], saved["from"]) == (
        "morning audits",
        "kind:audit",
        "2026-03-02T08:00:00.000000000Z",
    )
    opened = [
        e["details"]
        for e in journal
        if e["action"] == "query" and e["details"].get("via") == "saved view"
    ]
    assert [(o["pivot"], o["matches"]) for o in opened] == [({"view": "morning audits"}, expected)]
