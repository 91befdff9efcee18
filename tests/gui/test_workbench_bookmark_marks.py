"""The events table marks bookmarked rows (gui/models.py, ``Legal.marks_at``).

Over a copy of the sample case (nine sealed bundles of March 2026): rows bookmarked in the
workbench are tinted, carry a ribbon in their row header and their tags and note in the tooltip,
as soon as the bookmark is made and wherever the events show (another filter, the whole
timeline); reading the marks journals nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from auditlens.core.report.bookmarks import BookmarkedEvent
from auditlens.gui.legal_actions import mark_text

MARCH_2026 = (1_772_323_200_000_000_000, 1_775_001_600_000_000_000)  # 2026-03-01 .. 04-01 UTC
BACKGROUND = Qt.ItemDataRole.BackgroundRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]


def marked_rows(model: Any) -> dict[tuple[str, int], str]:
    """Every row the model marks, by stream and sequence number, with its tooltip."""
    found = {}
    for row in range(model.rowCount()):
        if model.data(model.index(row, 4), BACKGROUND) is not None:
            event = model.event(row)
            found[(event["stream_id"], event["seq"])] = model.data(model.index(row, 4), TOOLTIP)
    return found


def test_rows_bookmarked_in_the_workbench_are_marked_at_once_and_everywhere(
    qtbot: Any, window: Any, case_copy: Path
) -> None:
    window.tabs.setCurrentWidget(window.events)
    window.events.show_filter("action:EXPORT", via="filter")
    model = window.events.model
    assert model.rowCount() > 3
    assert marked_rows(model) == {}  # nothing bookmarked yet
    table = window.events.table
    table.selectRow(0)
    table.selectionModel().select(
        model.index(2, 0),
        table.selectionModel().SelectionFlag.Select | table.selectionModel().SelectionFlag.Rows,
    )
    chosen = [model.event(0), model.event(2)]
    assert all(MARCH_2026[0] <= e["time_ns"] < MARCH_2026[1] for e in chosen)
    want = {(e["stream_id"], e["seq"]) for e in chosen}

    dialog = window.legal.bookmark_selected()
    assert dialog is not None
    qtbot.keyClicks(dialog.tags, "exfiltration, after-hours")
    qtbot.keyClicks(dialog.note, "two exports by one agent")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    (entry,) = [e for e in journal(case_copy) if e["action"] == "bookmark"]
    assert entry["details"]["count"] == 2

    # Marked as soon as the bookmark is made, without another filter applied.
    before = journal(case_copy)
    marks = marked_rows(model)
    assert set(marks) == want
    for tip in marks.values():
        assert "EXPORT" in tip  # the cell's own text first
        assert "Bookmarked (bookmark 1)" in tip
        assert "Tags: exfiltration, after-hours" in tip
        assert "Note: two exports by one agent" in tip
    assert model.data(model.index(1, 4), BACKGROUND) is None
    assert "Bookmarked" not in (model.data(model.index(1, 4), TOOLTIP) or "")
    # The row header: the ribbon and the same words (for a page already read).
    header = model.headerData(0, Qt.Orientation.Vertical, TOOLTIP)
    assert header is not None and header.startswith("Bookmarked (bookmark 1)")
    assert model.headerData(1, Qt.Orientation.Vertical, TOOLTIP) is None
    marked_icon = model.headerData(0, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole)
    blank_icon = model.headerData(1, Qt.Orientation.Vertical, Qt.ItemDataRole.DecorationRole)
    assert marked_icon.cacheKey() != blank_icon.cacheKey()

    # The whole timeline (6,000 events, 30 pages): exactly those two rows are marked.
    window.events.show_filter("", via="filter")
    assert model.rowCount() == 6000
    assert set(marked_rows(model)) == want
    # Reading the marks is not an examiner action: only the filters applied were journaled.
    added = journal(case_copy)[len(before) :]
    assert [(e["action"], e["details"].get("via")) for e in added] == [("query", "filter")]


def test_the_tooltip_names_every_bookmark_and_cuts_long_notes() -> None:
    mark = BookmarkedEvent(
        "stream:contact-center/agent-desktop#41",
        bookmark_ids=[2, 5],
        tags=["exfiltration"],
        notes=["first", "x" * 500, "third", "fourth"],
    )
    text = mark_text(mark).splitlines()
    assert text[0] == "Bookmarked (bookmarks 2, 5)"
    assert text[1] == "Tags: exfiltration"
    assert text[2:4] == ["Note: first", "Note: " + "x" * 199 + "…"]
    assert text[-1] == "… and 1 more note(s): see the Bookmarks tab"


def test_the_bookmarks_tab_is_rendered_by_gui_screenshot(case_copy: Path, tmp_path: Path) -> None:
    """``auditlens gui CASE --tab bookmarks --screenshot PNG`` (make screenshots) lists them."""
    from tests.conftest import gui_screenshot

    from auditlens.core.report.session import Legal
    from auditlens.core.store import queries

    with Legal.open(case_copy, origin="cli") as legal:
        mark = legal.bookmark(
            query=queries.EventQuery("actor_id:sup-004 AND action:ROLE_CHANGE"),
            tags=["privilege-escalation"],
            note="sup-004 grants itself a role",
        )
    image = gui_screenshot(str(case_copy), "--tab", "bookmarks", out=tmp_path / "bookmarks.png")
    assert (image.width(), image.height()) == (1400, 900)
    # The tab was shown and read before the picture: its listing is journaled by the workbench.
    listing = [
        e["details"]
        for e in journal(case_copy)
        if e["action"] == "query" and e["details"].get("command") == "bookmarks"
    ]
    assert [(d["origin"], d["rows"]) for d in listing] == [("workbench", len(mark.refs))]
