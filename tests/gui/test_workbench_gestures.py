"""The workbench's drill-down gestures with real 2026 times (issue 12).

Each test drives a widget as a person does (mouse on the histogram, a click on a lane, keys on
the filter bar) over the shipped sample, whose events lie in March 2026: nanosecond times near
1.77 * 10^18, far beyond 32 bits.
"""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPoint, Qt

from auditlens.core.store import queries
from auditlens.gui.main_window import MainWindow
from auditlens.gui.views import EventsView, actor_term

HOUR_NS = 3_600_000_000_000
MARCH_2026_NS = 1_772_323_200_000_000_000  # 2026-03-01T00:00:00Z


def drag(qtbot, widget, x0: int, x1: int) -> None:
    y = widget.height() // 2
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(x0, y))
    qtbot.mouseMove(widget, QPoint((x0 + x1) // 2, y))
    qtbot.mouseMove(widget, QPoint(x1, y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(x1, y))


@pytest.fixture
def events_view(qtbot, sample_case_dir, open_case):
    with open_case(sample_case_dir) as session:
        view = EventsView(session)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        with qtbot.waitSignal(view.loaded, timeout=30_000):
            view.show()
            view.refresh()
        yield view, session
        view.stop_background()


def test_dragging_a_2026_range_on_the_histogram_shows_that_range(qtbot, events_view):
    view, session = events_view
    histogram = view.histogram
    width = histogram.width()
    x0, x1 = width // 4, width * 3 // 5
    lo, hi = histogram._x_to_ns(x0), histogram._x_to_ns(x1)
    assert MARCH_2026_NS < lo < hi
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        drag(qtbot, histogram, x0, x1)
    assert view.time_range == (lo, hi)
    expected = session.count(queries.EventQuery("", lo, hi))
    assert 0 < expected < 6000
    assert view.model.rowCount() == expected
    times = [view.model.event(r)["time_ns"] for r in (0, expected // 2, expected - 1)]
    assert all(lo <= t < hi for t in times)


@pytest.fixture
def window(qtbot, sample_case_dir, settings, tmp_path):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    yield window
    window.close()


def test_clicking_an_actor_lane_opens_their_events_around_that_time(qtbot, window):
    with qtbot.waitSignal(window.actors.loaded, timeout=30_000):
        window.tabs.setCurrentWidget(window.actors)
    lanes = window.actors.swimlanes
    lane = lanes.lanes[0]
    first_ns = lane.actions[0][0]
    x = lanes._x(first_ns) + 1
    y = 4 + lanes.LANE // 2
    qtbot.mouseClick(lanes, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert window.tabs.currentWidget() is window.events
    assert window.events.filter_bar.text() == actor_term(lane.actor)
    lo, hi = window.events.time_range
    assert lo is not None and hi is not None
    assert hi - lo == 2 * HOUR_NS and lo < first_ns < hi and lo > MARCH_2026_NS
    expected = window.case.count(queries.EventQuery(actor_term(lane.actor), lo, hi))
    assert expected > 0
    assert window.events.model.rowCount() == expected
    assert {window.events.model.event(r)["actor_id"] for r in range(expected)} == {lane.actor}


def test_the_range_is_a_removable_chip_and_back_forward_step_through_it(qtbot, events_view):
    view, _session = events_view
    assert view.range_chip.isHidden()
    histogram = view.histogram
    width = histogram.width()
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        drag(qtbot, histogram, width // 3, width // 2)
    lo, hi = view.time_range
    in_range = view.model.rowCount()
    assert 0 < in_range < 6000
    assert view.range_chip.isVisible()
    assert "2026-03-" in view.range_chip.text() and "✕" in view.range_chip.text()
    # Removing the chip shows the whole span again.
    qtbot.mouseClick(view.range_chip, Qt.MouseButton.LeftButton)
    assert view.time_range == (None, None) and view.model.rowCount() == 6000
    assert view.range_chip.isHidden()
    # Back returns to the range, Forward to the whole span.
    assert view.back_button.isEnabled() and not view.forward_button.isEnabled()
    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    assert view.time_range == (lo, hi) and view.model.rowCount() == in_range
    assert view.range_chip.isVisible()
    qtbot.mouseClick(view.forward_button, Qt.MouseButton.LeftButton)
    assert view.time_range == (None, None) and view.model.rowCount() == 6000


def test_alt_left_and_alt_right_step_through_filters_and_pivots(qtbot, events_view):
    view, _session = events_view
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=5_000)
    qtbot.keyClicks(view.filter_bar, "kind:audit")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    audits = view.model.rowCount()
    view.show_filter("actor_id:sup-004", via="pivot", pivot={"actor": "sup-004"})
    actor = view.model.rowCount()
    assert 0 < actor < audits < 6000
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert (view.filter_bar.text(), view.model.rowCount()) == ("kind:audit", audits)
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert (view.filter_bar.text(), view.model.rowCount()) == ("", 6000)
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert (view.filter_bar.text(), view.model.rowCount()) == ("actor_id:sup-004", actor)
    # A new filter after Back drops what Forward would have shown.
    view.go_back()
    view.show_filter("kind:log", via="filter")
    assert not view.forward_button.isEnabled()


def test_a_bad_filter_clears_the_results_and_says_where(qtbot, events_view):
    view, _session = events_view
    said: list[str] = []
    view.status.connect(said.append)
    qtbot.keyClicks(view.filter_bar, "kind:audit")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.rowCount() > 0
    view.filter_bar.set_text("kind:audit AND (actor_id:sup-004")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.rowCount() == 0  # never the old rows under the new text
    assert not view.table.isEnabled()
    assert view.histogram.buckets == []
    assert said[-1] == "invalid filter"
    assert view.error_label.isVisible()
    message = view.error_label.text()
    error = view.filter_bar.error
    assert error is not None
    assert f"column {error.start + 1}" in message
    assert " " * error.start + "^" in message
    # A good filter brings results back.
    view.filter_bar.set_text("kind:audit")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.rowCount() > 0 and view.table.isEnabled()
    assert not view.error_label.isVisible()
    assert said[-1].endswith("events match")


def test_the_selected_zone_governs_typed_times_the_axis_and_shown_offsets(qtbot, events_view):
    from zoneinfo import ZoneInfo

    view, session = events_view
    view.set_time_zone(ZoneInfo("Europe/Berlin"))
    # 09:00-10:00 typed while Berlin is shown is 08:00-09:00 UTC.
    view.filter_bar.set_text("time:2026-03-02T09")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    lo = 1_772_438_400_000_000_000  # 2026-03-02T08:00:00Z
    expected = session.count(queries.EventQuery("", lo, lo + HOUR_NS))
    assert expected > 0
    assert view.model.rowCount() == expected
    assert expected != session.count(queries.EventQuery("time:2026-03-02T09"))
    # A shown time keeps its offset, and typed back into the filter selects that very event.
    shown = view.model.data(view.model.index(0, 0))
    assert shown.endswith("+01:00")
    header = view.table.horizontalHeader()
    assert header.sectionSize(0) >= view.table.fontMetrics().horizontalAdvance(shown)
    first = view.model.event(0)
    view.filter_bar.set_text(f"time:{shown}")
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.event(0)["time_ns"] == first["time_ns"]
    # The histogram's axis is labelled in the zone.
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        view.show_filter("", via="filter")
    from datetime import datetime

    ticks = view.histogram.ticks()
    assert len(ticks) >= 2
    berlin = ZoneInfo("Europe/Berlin")
    for ns, label in ticks:  # each label reads the wall clock in Berlin at its tick
        moment = datetime.fromtimestamp(ns // 1_000_000_000, berlin)
        assert label.endswith(moment.strftime("%H:%M"))


def test_a_filter_that_finds_nothing_says_what_would_match(qtbot, events_view):
    view, session = events_view
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        view.filter_bar.set_text("action:DOWNLAOD")
        qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.rowCount() == 0
    downloads = session.count(queries.EventQuery("action:DOWNLOAD"))
    assert downloads > 0
    assert view.hint_label.isVisible()
    assert "did you mean action:DOWNLOAD?" in view.hint_label.text()
    assert f"{downloads:,} events" in view.hint_label.text()
    assert view.filter_bar.text() == "action:DOWNLAOD"  # never changed behind the examiner's back
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        view.show_filter("action:DOWNLOAD", via="filter")
    assert not view.hint_label.isVisible()


def test_one_matching_event_is_said_in_the_singular(qtbot, events_view):
    view, _session = events_view
    said: list[str] = []
    view.status.connect(said.append)
    view.filter_bar.set_text('stream_id="cc-prod.audit" AND seq:1')
    qtbot.keyClick(view.filter_bar, Qt.Key.Key_Return)
    assert view.model.rowCount() == 1
    assert said[-1] == "1 event matches"
