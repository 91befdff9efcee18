"""The workbench at scale: views read the case when shown, sorting in SQL, completions off the
GUI thread, and an import that fails leaving the window usable."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import threading
from datetime import UTC as UTC_ZONE
from pathlib import Path
from typing import Any

import duckdb
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.gui import main_window
from auditlens.gui.main_window import MainWindow
from auditlens.gui.models import EVENT_COLUMNS
from auditlens.gui.views import EventsView, TracesView

# 886 events over five pages, a third of them without an actor (sorted last).
SOME = "service:recording-service"
ACTOR = [name for name, _ in EVENT_COLUMNS].index("actor_id")
TIME = [name for name, _ in EVENT_COLUMNS].index("time")


def all_rows(model) -> list[dict[str, Any]]:
    return [model.event(row) for row in range(model.rowCount())]


def by_value(rows: list[dict[str, Any]], field: str, *, descending: bool) -> list[int]:
    """``ord`` of ``rows`` sorted by ``field`` (ties in time order, missing values last)."""
    present = sorted((r for r in rows if r[field] is not None), key=lambda r: r["ord"])
    present.sort(key=lambda r: r[field], reverse=descending)  # stable: ties keep time order
    missing = sorted((r for r in rows if r[field] is None), key=lambda r: r["ord"])
    return [r["ord"] for r in present + missing]


def test_sorting_by_a_column_in_sql(qtbot, qtmodeltester, sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        view.filter_bar.set_text(SOME)
        view.filter_bar.apply()
        model, header = view.model, view.table.horizontalHeader()
        # The default order is the case's time order, with no sort indicator.
        time_order = all_rows(model)
        assert [r["ord"] for r in time_order] == sorted(r["ord"] for r in time_order)
        assert any(r["actor_id"] is None for r in time_order)
        assert header.sortIndicatorSection() == -1
        for order in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder):
            with qtbot.waitSignal(model.sorted_ready, timeout=30_000):
                view.table.sortByColumn(ACTOR, order)
            assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (ACTOR, order)
            descending = order == Qt.SortOrder.DescendingOrder
            assert [r["ord"] for r in all_rows(model)] == by_value(
                time_order, "actor_id", descending=descending
            )
            qtmodeltester.check(model, force_py=True)


def test_the_last_sort_asked_wins_whether_or_not_the_first_ended(qtbot, sample_case_dir, open_case):
    service = [name for name, _ in EVENT_COLUMNS].index("service")
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        model = view.model
        time_order = all_rows(model)
        view.table.sortByColumn(ACTOR, Qt.SortOrder.AscendingOrder)
        first = model.sorter.current
        assert first is not None
        with qtbot.waitSignal(
            model.sorted_ready, timeout=30_000, check_params_cb=lambda column, _o: column == service
        ):
            view.table.sortByColumn(service, Qt.SortOrder.DescendingOrder)
        assert [r["ord"] for r in all_rows(model)] == by_value(
            time_order, "service", descending=True
        )
        qtbot.waitUntil(lambda: not first.is_running(), timeout=30_000)


def test_time_descending_then_back_to_the_case_order(
    qtbot, qtmodeltester, sample_case_dir, open_case
):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        view.filter_bar.set_text(SOME)
        view.filter_bar.apply()
        model = view.model
        time_order = [r["ord"] for r in all_rows(model)]
        with qtbot.waitSignal(model.sorted_ready, timeout=30_000):
            view.table.sortByColumn(TIME, Qt.SortOrder.DescendingOrder)
        assert [r["ord"] for r in all_rows(model)] == time_order[::-1]
        qtmodeltester.check(model, force_py=True)
        with qtbot.waitSignal(model.sorted_ready, timeout=30_000):
            view.table.sortByColumn(TIME, Qt.SortOrder.AscendingOrder)
        assert [r["ord"] for r in all_rows(model)] == time_order


def test_a_new_filter_keeps_the_sort(qtbot, sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        model = view.model
        with qtbot.waitSignal(model.sorted_ready, timeout=30_000):
            view.table.sortByColumn(ACTOR, Qt.SortOrder.DescendingOrder)
        with qtbot.waitSignal(model.sorted_ready, timeout=30_000):
            view.filter_bar.set_text("kind:log")
            view.filter_bar.apply()
        rows = all_rows(model)
        assert len(rows) == case.count(queries.EventQuery("kind:log"))
        assert {r["kind"] for r in rows} == {"log"}
        assert [r["ord"] for r in rows] == by_value(rows, "actor_id", descending=True)


def test_completions_are_read_off_the_gui_thread_when_first_needed(
    qtbot, sample_case_dir, open_case
):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        words = view.filter_bar._words
        # Field names at once; no value read yet (that scans every event).
        assert "actor_id" in words.stringList()
        assert view.completion_worker is None
        assert not any(w.startswith("actor_id:") for w in words.stringList())
        view.show()
        with qtbot.waitSignal(view.filter_bar.completions_wanted, timeout=5_000):
            qtbot.keyClicks(view.filter_bar, "act")
        worker = view.completion_worker
        assert worker is not None
        with qtbot.waitSignal(worker.finished, timeout=30_000):
            pass
        actors = {a.actor_id for a in case.actors()}
        offered = {w.split(":", 1)[1] for w in words.stringList() if w.startswith("actor_id:")}
        assert offered == actors


def test_a_hidden_view_reads_the_case_only_when_shown(
    qtbot, sample_case_dir, monkeypatch, open_case
):
    from zoneinfo import ZoneInfo

    calls = []
    original = queries.trace_list
    monkeypatch.setattr(queries, "trace_list", lambda *a, **k: calls.append(1) or original(*a, **k))
    with open_case(sample_case_dir) as case:
        view = TracesView(case)
        qtbot.addWidget(view)
        view.set_time_zone(ZoneInfo("Europe/Berlin"))
        assert calls == [] and view.model.rowCount() == 0
        with qtbot.waitSignal(view.loaded, timeout=30_000):  # the list is read in a worker
            view.show()
        assert len(calls) == 1 and view.model.rowCount() > 0
        assert view.model.rows[0]["start"].endswith("+01:00")
        view.set_time_zone(ZoneInfo("Europe/Berlin"))  # the same zone: nothing to read
        assert len(calls) == 1
        with qtbot.waitSignal(view.loaded, timeout=30_000):
            view.set_time_zone(None)
        assert len(calls) == 2 and view.model.rows[0]["start"].endswith("Z")


def raw_lines(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": f"2026-03-02T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
                    "user_id": f"late-{i % 3}",
                    "action": "READ",
                }
            )
            + "\n"
            for i in range(count)
        )
    )
    return path


@pytest.fixture
def warnings(monkeypatch) -> list[tuple[str, str]]:
    """Message boxes the window would show (a modal box would wait for a click forever)."""
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda _parent, title, text, *a: shown.append((title, text))
    )
    return shown


@pytest.fixture
def window(qtbot, sample_case_dir, settings, tmp_path, warnings):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.show()
    yield window
    window.close()


def test_the_end_of_an_import_refreshes_the_visible_view_only(qtbot, window, tmp_path, warnings):
    before = window.events.model.rowCount()
    assert window.tabs.currentWidget() is window.integrity
    worker = window.start_import([raw_lines(tmp_path / "late.jsonl", 30)])
    outcome: list[str] = []
    worker.finished.connect(lambda _report: outcome.append("finished"))
    worker.failed.connect(outcome.append)
    qtbot.waitUntil(lambda: bool(outcome), timeout=60_000)
    worker.wait()
    assert (outcome, warnings) == (["finished"], [])
    # The integrity view (visible) was read again; the others wait until shown.
    assert not window.integrity.stale
    assert window.events.stale and window.events.model.rowCount() == before
    assert window.actors.stale and window.traces.stale
    window.tabs.setCurrentWidget(window.events)
    assert not window.events.stale
    assert window.events.model.rowCount() == before + 30


def test_a_failed_import_shows_why_and_leaves_the_window_usable(
    qtbot, window, tmp_path, monkeypatch, warnings
):
    gui_thread_orderings = []
    original = queries.refresh_order

    def refresh_order(case: Case) -> None:
        # DuckDB running out of memory while ordering the timeline, the import's last step (the
        # events are stored by then); on the GUI thread the call is only counted.
        if threading.current_thread() is threading.main_thread():
            gui_thread_orderings.append(1)
            original(case)
            return
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block")

    monkeypatch.setattr(queries, "refresh_order", refresh_order)
    before = window.events.model.rowCount()
    worker = window.start_import([raw_lines(tmp_path / "late.jsonl", 30)])
    with qtbot.waitSignal(worker.failed, timeout=60_000):
        pass
    worker.wait()
    assert gui_thread_orderings == []  # nothing was retried on the GUI thread
    ((title, text),) = warnings
    assert title == "Import failed"
    assert "ran out of memory" in text and "not yet in time order" in text
    assert "internal error" not in text
    assert window.needs_ordering()
    # The window is usable: the views show the case as it was and still answer.
    window.tabs.setCurrentWidget(window.events)
    assert window.events.model.rowCount() == before
    window.events.jump_to(before - 1)
    assert window.events.model.event(before - 1) is not None
    # Refresh orders the timeline in a worker; when that fails again, it says so again.
    window.reload()
    assert window.worker is not None and window.worker is not worker
    with qtbot.waitSignal(window.worker.failed, timeout=60_000):
        pass
    window.worker.wait()
    assert len(warnings) == 2 and gui_thread_orderings == []
    # Once memory suffices, Refresh brings the imported events in.
    monkeypatch.setattr(queries, "refresh_order", original)
    window.reload()
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        pass
    window.worker.wait()
    assert not window.needs_ordering()
    assert window.events.model.rowCount() == before + 30
    assert main_window.MainWindow.needs_ordering(window) is False


def test_the_palette_follows_the_system_scheme_unless_forced(qapp):
    from PySide6.QtGui import QGuiApplication

    from auditlens.gui.app import apply_palette, is_dark
    from auditlens.gui.models import DARK_INTEGRITY_COLOURS, INTEGRITY_COLOURS, status_colour

    hints = QGuiApplication.styleHints()
    try:
        apply_palette(qapp)
        assert is_dark(qapp) == (hints.colorScheme() == Qt.ColorScheme.Dark)
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # the system turns dark
        assert is_dark(qapp)
        assert status_colour("tampered").name() == DARK_INTEGRITY_COLOURS["tampered"]
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert not is_dark(qapp)
        assert status_colour("tampered").name() == INTEGRITY_COLOURS["tampered"]
        apply_palette(qapp, "dark")  # forced: the system's changes no longer apply
        hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
        assert is_dark(qapp)
    finally:
        apply_palette(qapp, "light")
        apply_palette(qapp)


def test_dark_screenshot_is_dark(sample_case_dir, tmp_path):
    from PySide6.QtGui import QColor
    from tests.conftest import gui_screenshot

    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    image = gui_screenshot(
        str(case_dir), "--tab", "events", "--palette", "dark", out=tmp_path / "events-dark.png"
    )
    pixels = [
        QColor(image.pixel(x, y)).lightness()
        for x in range(0, image.width(), 23)
        for y in range(0, image.height(), 19)
    ]
    # Mostly dark background, with light text drawn on it.
    assert sorted(pixels)[len(pixels) // 2] < 80
    assert max(pixels) > 180


@pytest.mark.parametrize("text", ["", "kind:log"])
def test_the_histogram_bucket_is_whole_minutes_and_counts_every_event(
    sample_case_dir, open_case, text
):
    from auditlens.core.store.queries import HISTOGRAM_BUCKETS

    with open_case(sample_case_dir) as case:
        query = queries.EventQuery(text)
        rows = case.events(query, limit=queries.MAX_LIMIT)
        lo, hi = rows[0]["time_ns"], rows[-1]["time_ns"]
        assert (hi - lo) // HISTOGRAM_BUCKETS > queries.MINUTE_NS  # the sample spans days
        bars, bucket = case.overview_histogram(query)
        assert bucket % queries.MINUTE_NS == 0
        assert bucket >= (hi - lo) // HISTOGRAM_BUCKETS
        assert (hi - lo) // bucket <= HISTOGRAM_BUCKETS
        assert sum(count for _, count in bars) == case.count(query)
        starts = [start for start, _ in bars if start is not None]
        assert all(start % bucket == 0 for start in starts)


@pytest.mark.parametrize("zone", [None, "Asia/Kolkata", "America/St_Johns"])
@pytest.mark.parametrize(
    ("lo_s", "hi_s", "width"),
    [(1_772_409_601, 1_772_409_601 + 3 * 86_400, 1200), (1_772_409_601, 1_772_409_661, 900)],
)
def test_time_axis_ticks_fall_on_whole_local_steps_with_room_for_labels(zone, lo_s, hi_s, width):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from auditlens.gui.charts import SECOND_NS, TICK_STEPS_S, time_ticks

    tz = ZoneInfo(zone) if zone else None
    lo, hi = lo_s * SECOND_NS, hi_s * SECOND_NS
    ticks = time_ticks(lo, hi, width, tz, spacing=110)
    assert len(ticks) >= 2
    times = [ns for ns, _ in ticks]
    assert all(lo <= ns <= hi for ns in times)
    steps = {b - a for a, b in itertools.pairwise(times)}
    assert len(steps) == 1
    step_s = steps.pop() // SECOND_NS
    assert step_s in TICK_STEPS_S
    assert step_s * width / (hi_s - lo_s) >= 110  # labels at least 110 px apart
    smaller = [s for s in TICK_STEPS_S if s < step_s]
    assert not smaller or smaller[-1] * width / (hi_s - lo_s) < 110  # the smallest such step
    local = [datetime.fromtimestamp(ns // SECOND_NS, tz or UTC_ZONE) for ns in times]
    seconds_of_day = [m.hour * 3600 + m.minute * 60 + m.second for m in local]
    assert all(s % min(step_s, 86_400) == 0 for s in seconds_of_day)  # whole steps of the clock
    labels = [label for _, label in ticks]
    assert labels[0].startswith(local[0].date().isoformat())
    for previous, moment, label in zip(local, local[1:], labels[1:], strict=False):
        assert label.startswith(moment.date().isoformat()) == (moment.date() != previous.date())


@pytest.mark.parametrize("zone", [None, "America/New_York"])
def test_ticks_of_whole_days_are_labelled_by_date_and_leave_room_between_labels(qapp, zone):
    # A case holding the OTLP project's 2018 examples beside 2026 evidence: the axis spans seven
    # years, and its labels "2019-04-25 00:00" ran into each other with no room between.
    from zoneinfo import ZoneInfo

    from PySide6.QtGui import QFontMetrics

    from auditlens.gui.charts import SECOND_NS, time_ticks

    tz = ZoneInfo(zone) if zone else None
    lo, hi = 1_544_712_660 * SECOND_NS, 1_772_668_655 * SECOND_NS  # 2018-12-13 .. 2026-03-04
    width = 1340
    ticks = time_ticks(lo, hi, width, tz)
    assert len(ticks) >= 5
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", label) for _, label in ticks)
    metrics = QFontMetrics(qapp.font())
    x = [int((ns - lo) / (hi - lo) * width) for ns, _ in ticks]
    for (left, (_, label)), right in zip(zip(x, ticks, strict=True), x[1:], strict=False):
        assert left + 3 + metrics.horizontalAdvance(label) + 12 <= right  # a gap between labels


def test_the_swimlanes_have_a_time_axis_in_the_chosen_zone(qtbot, sample_case_dir, open_case):
    from zoneinfo import ZoneInfo

    from auditlens.gui.views import ActorsView

    with open_case(sample_case_dir) as case:
        view = ActorsView(case)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        view.show()
        qtbot.waitUntil(lambda: bool(view.swimlanes.lanes), timeout=30_000)
        axis = view.swimlanes.axis
        assert axis.isVisible()
        assert (axis.lo, axis.hi) == (view.swimlanes.lo, view.swimlanes.hi)
        assert axis.tz is None
        view.set_time_zone(ZoneInfo("Asia/Tokyo"))
        assert axis.tz == ZoneInfo("Asia/Tokyo")
        qtbot.waitUntil(lambda: bool(view.swimlanes.lanes), timeout=30_000)  # read again
        assert (axis.lo, axis.hi) == (view.swimlanes.lo, view.swimlanes.hi)
        image = axis.grab().toImage()
        assert image.width() > 0
        assert len({image.pixel(x, image.height() - 2) for x in range(image.width())}) > 1


def test_time_column_titles_name_the_zone_in_every_table(
    qtbot, qtmodeltester, sample_case_dir, open_case
):
    from zoneinfo import ZoneInfo

    from auditlens.gui.views import ActorsView

    with open_case(sample_case_dir) as case:
        for view, keys in (
            (ActorsView(case), ("first_seen", "last_seen")),
            (TracesView(case), ("start",)),
        ):
            qtbot.addWidget(view)
            model = view.model

            def titles(m=model):
                return {
                    m.columns[c][0]: m.headerData(c, Qt.Orientation.Horizontal)
                    for c in range(m.columnCount())
                }

            assert all(titles()[k].endswith("(UTC)") for k in keys)
            with qtbot.waitSignal(model.headerDataChanged):
                view.set_time_zone(ZoneInfo("Europe/Paris"))
            named = titles()
            assert all(named[k].endswith("(Europe/Paris)") for k in keys)
            assert all(named[k] == t for k, t in model.columns if k not in keys)
            qtmodeltester.check(model)


@pytest.mark.parametrize(
    ("start", "end", "width"),
    [(0, 525_168_363, 900), (3_000, 7_500, 700), (10**9, 10**9 + 86_400 * 10**9, 1000)],
)
def test_waterfall_ruler_ticks_are_whole_1_2_5_steps_from_the_trace_start(start, end, width):
    from auditlens.gui.waterfall import UNITS, offset_ticks

    origin = 0
    ticks = offset_ticks(start, end, origin, width, spacing=90)
    times = [ns for ns, _ in ticks]
    assert times and all(start <= ns <= end for ns in times)
    steps = {b - a for a, b in itertools.pairwise(times)}
    assert len(steps) <= 1
    step = steps.pop() if steps else end - start
    digits = str(step).rstrip("0")
    assert digits in ("1", "2", "5")
    assert step * width / (end - start) >= 90
    assert all((ns - origin) % step == 0 for ns in times)
    unit, name = next((u, n) for u, n in UNITS if step >= u)
    for ns, label in ticks:
        number, shown_unit = label.lstrip("+").split(" ")
        assert shown_unit == name
        assert float(number) * unit == pytest.approx(ns - origin)


def test_the_integrity_map_axis_follows_the_zone(qtbot, sample_case_dir, open_case):
    from zoneinfo import ZoneInfo

    from auditlens.gui.views import IntegrityView

    with open_case(sample_case_dir) as case:
        view = IntegrityView(case)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        view.show()
        qtbot.waitUntil(lambda: bool(view.map.stretches), timeout=30_000)
        assert view.map.tz is None
        light = view.map.grab().toImage()
        view.set_time_zone(ZoneInfo("Pacific/Auckland"))  # +13:00 in March: other tick labels
        assert view.map.tz == ZoneInfo("Pacific/Auckland")
        assert view.map.grab().toImage() != light


def test_ticks_of_whole_days_stay_at_local_midnight_across_a_daylight_saving_change() -> None:
    # Daily ticks over New York's fall back (2026-11-01): whole days of UTC seconds from the
    # first (an EDT midnight) fell at 23:00 EST afterwards, each labelled with the date of the
    # day before the one it nearly was.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from auditlens.gui.charts import SECOND_NS, time_ticks

    tz = ZoneInfo("America/New_York")
    lo = int(datetime(2026, 10, 27, 9, 30, tzinfo=tz).timestamp()) * SECOND_NS + 123_456_789
    hi = int(datetime(2026, 11, 6, 15, tzinfo=tz).timestamp()) * SECOND_NS
    ticks = time_ticks(lo, hi, 1300, tz)  # about 1,300 pixels: a tick a day
    moments = [datetime.fromtimestamp(ns // SECOND_NS, tz) for ns, _ in ticks]
    assert [label for _, label in ticks] == [f"2026-{m:%m-%d}" for m in moments]
    assert [(m.hour, m.minute) for m in moments] == [(0, 0)] * len(moments)
    assert [m.day for m in moments] == [28, 29, 30, 31, 1, 2, 3, 4, 5, 6]
