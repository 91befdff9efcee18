"""The workbench: models, filter bar, right-click filtering, the import worker, the window."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt

from auditlens.core.progress import CancelToken, Progress
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.gui.filter_bar import FilterBar
from auditlens.gui.main_window import MainWindow, import_job
from auditlens.gui.models import EVENT_COLUMNS, EventTableModel, RowsModel
from auditlens.gui.views import EventsView, quote_value
from auditlens.gui.worker import JobWorker

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"


def test_event_model_passes_the_model_tester(qtmodeltester, sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        model = EventTableModel(case)
        model.set_query(queries.EventQuery("actor_id:sup-004"))
        qtmodeltester.check(model, force_py=True)
        assert model.rowCount() == case.count(queries.EventQuery("actor_id:sup-004"))


def test_rows_model_passes_the_model_tester(qtmodeltester):
    model = RowsModel([("verdict", "Verdict"), ("path", "Path")])
    model.set_rows([{"verdict": "verified", "path": "a"}, {"verdict": "tampered", "path": None}])
    qtmodeltester.check(model, force_py=True)


def test_event_model_rows_match_the_core_query_anywhere(sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        model = EventTableModel(case)
        total = model.rowCount()
        assert total == 6000
        for row in (0, 1999, 3000, total - 1):
            expected = case.events(queries.EventQuery(), offset=row, limit=1)[0]
            assert model.event(row)["seq"] == expected["seq"]
            assert model.event(row)["stream_id"] == expected["stream_id"]
            time_column = [c for c, _ in EVENT_COLUMNS].index("time")
            assert model.data(model.index(row, time_column)) == queries.format_time(
                expected["time_ns"]
            )
        assert model.event(total) is None


def test_a_new_query_drops_pages_of_the_old_one(sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        model = EventTableModel(case)
        assert model.event(0)["kind"] == "span"  # the sample's first event, now cached
        generation = model.generation
        model.set_query(queries.EventQuery("kind:audit"))
        assert model.generation == generation + 1
        assert model.rowCount() == case.count(queries.EventQuery("kind:audit"))
        assert {model.event(r)["kind"] for r in range(0, model.rowCount(), 97)} == {"audit"}


def test_filter_bar_underlines_the_error_where_the_parser_says(qtbot):
    bar = FilterBar()
    qtbot.addWidget(bar)
    applied = []
    bar.filter_applied.connect(applied.append)
    bar.set_text("actor_id:alice AND bogus:1")
    assert bar.error is not None
    (selection,) = bar.extraSelections()
    assert selection.cursor.selectionStart() == bar.error.start == len("actor_id:alice AND ")
    assert selection.cursor.selectedText() == "bogus"
    bar.apply()
    assert applied == []  # an invalid filter is never applied
    bar.set_text("actor_id:alice")
    assert bar.error is None and bar.extraSelections() == []
    bar.apply()
    assert applied == ["actor_id:alice"]
    assert bar.history == ["actor_id:alice"]


def test_right_click_filter_and_exclude(qtbot, sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        total = view.model.rowCount()
        view.add_term("actor_id", "sup-004", exclude=False)
        only = view.model.rowCount()
        assert view.filter_bar.text() == "actor_id:sup-004"
        assert only == case.count(queries.EventQuery("actor_id:sup-004"))
        assert all(view.model.event(r)["actor_id"] == "sup-004" for r in range(only))
        view.filter_bar.set_text("")
        view.filter_bar.apply()
        view.add_term("actor_id", "sup-004", exclude=True)
        assert view.model.rowCount() == total - only


def test_quote_value_makes_phrases_for_odd_values():
    assert quote_value("sup-004") == "sup-004"
    assert quote_value('a "b" c') == '"a \\"b\\" c"'


def test_time_zone_is_shown_in_the_header_and_times(qtbot, sample_case_dir, open_case):
    from zoneinfo import ZoneInfo

    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        view.set_time_zone(ZoneInfo("Europe/Berlin"))
        assert view.model.headerData(0, Qt.Orientation.Horizontal) == "Time (Europe/Berlin)"
        assert view.model.data(view.model.index(0, 0)).endswith("+01:00")


def counting_job(steps: int):
    def job(token: CancelToken):
        for i in range(steps):
            token.check()
            yield Progress("working", i, steps, "steps")
        return steps

    return job


def test_worker_reports_progress_and_finishes(qtbot):
    worker = JobWorker(counting_job(5))
    seen = []
    worker.progress.connect(seen.append)
    with qtbot.waitSignal(worker.finished, timeout=10_000) as blocker:
        worker.start()
    assert blocker.args == [5]
    assert seen and seen[0].stage == "working"
    assert worker.wait(5000)


def test_worker_cancel_reports_cancelled(qtbot):
    import threading

    gate = threading.Event()

    def job(token: CancelToken):
        yield Progress("waiting", 0, None, "")
        while not gate.wait(0.01):
            token.check()
        return "never"

    worker = JobWorker(job)
    with qtbot.waitSignal(worker.progress, timeout=10_000):
        worker.start()
    with qtbot.waitSignal(worker.cancelled, timeout=10_000):
        worker.cancel()
    assert worker.wait(5000)


def test_worker_reports_failures_as_text(qtbot):
    def job(token: CancelToken):
        yield Progress("x")
        raise ValueError("boom")

    worker = JobWorker(job)
    with qtbot.waitSignal(worker.failed, timeout=10_000) as blocker:
        worker.start()
    assert "boom" in blocker.args[0]
    assert worker.wait(5000)


def test_a_cancelled_import_leaves_the_case_as_before(qtbot, tmp_path):
    case_dir = tmp_path / "case"
    audit = SAMPLE / "bundles" / "cc-prod.audit"
    first = sorted(audit.iterdir())[0]
    with Case.open(case_dir, create=True) as case:
        from auditlens.core.store.importer import import_inputs
        from auditlens.core.verify.trust import TrustStore

        job = import_inputs(case, [first], TrustStore())
        for _ in job:
            pass
        before = case.scalar("SELECT count(*) FROM events")
    big = tmp_path / "big.jsonl"
    big.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": f"2026-03-02T08:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
                    "user_id": f"u{i}",
                    "action": "READ",
                }
            )
            + "\n"
            for i in range(200_000)
        )
    )
    worker = JobWorker(import_job(case_dir, [big], []))
    with qtbot.waitSignal(worker.progress, timeout=30_000):
        worker.start()
    with qtbot.waitSignals([worker.cancelled], timeout=60_000):
        worker.cancel()
    assert worker.wait(30_000)
    with Case.open(case_dir, read_only=True) as case:
        assert case.scalar("SELECT count(*) FROM events") == before
        assert case.scalar("SELECT count(*) FROM inputs") == 1


def test_main_window_opens_the_sample_case_with_its_views(
    qtbot, sample_case_dir, settings, tmp_path
):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.show()
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Integrity",
        "Events",
        "Actors",
        "Traces",
        "Findings",
        "Bookmarks",
    ]
    assert window.integrity.bundles.rowCount() == 9
    assert {r["verdict"] for r in window.integrity.bundles.rows} == {"verified"}
    assert window.events.model.rowCount() == 6000
    # Views nobody looked at yet have not read the case; showing one reads it.
    assert window.actors.stale and window.actors.model.rowCount() == 0
    assert window.traces.stale and window.traces.model.rowCount() == 0
    with qtbot.waitSignal(window.actors.loaded, timeout=30_000):  # lanes: read in a worker
        window.tabs.setCurrentWidget(window.actors)
    assert not window.actors.stale
    assert window.actors.model.rowCount() > 10
    lanes = window.actors.swimlanes.lanes
    assert [lane.actor for lane in lanes] == [
        r["actor_id"] for r in window.actors.model.rows[: len(lanes)]
    ]
    assert all(lane.actions for lane in lanes)
    window.follow_actor("sup-004")
    assert window.tabs.currentWidget() is window.events
    assert window.events.filter_bar.text() == 'actor_id="sup-004"'
    image = window.grab().toImage()
    assert image.width() > 600 and image.height() > 400
    assert window.recent_cases()[0] == str(case_dir)
    window.close()
    assert settings.value("window/geometry") is not None


def test_finding_opens_its_record(qtbot, sample_case_dir, settings, tmp_path):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.show_record("cc-prod.audit", 5)
    assert window.events.model.rowCount() == 1
    event = window.events.model.event(0)
    assert (event["stream_id"], event["seq"]) == ("cc-prod.audit", 5)
    window.close()


@pytest.mark.parametrize("tab", ["integrity", "events", "actors", "traces"])
def test_screenshot_option_writes_a_png(tab, sample_case_dir, tmp_path):
    import subprocess
    import sys

    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    out = tmp_path / f"{tab}.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditlens.entry",
            "gui",
            str(case_dir),
            "--tab",
            tab,
            "--screenshot",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() == 1400 and image.height() == 900
    # Not a blank window: many distinct colours are drawn.
    colours = {image.pixel(x, y) for x in range(0, 1400, 37) for y in range(0, 900, 29)}
    assert len(colours) > 5


def test_model_index_outside_is_empty(sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        model = EventTableModel(case)
        assert model.data(QModelIndex()) is None
        assert model.rowCount(model.index(0, 0)) == 0


def synthetic_trace(count: int, *, chain: bool):
    spans = {}
    for i in range(count):
        parent = (i - 1 if chain else 0) if i else None
        span = {
            "kind": "span",
            "span_id": f"{i:016x}",
            "parent_span_id": None if parent is None else f"{parent:016x}",
            "time_ns": 1_000_000 * i,
            "duration_ns": 5_000_000,
            "service": f"svc{i % 7}",
            "name": f"op{i}",
        }
        spans[span["span_id"]] = queries.SpanNode(span)
    roots = []
    for node in spans.values():
        parent = node.span["parent_span_id"]
        if parent:
            spans[parent].children.append(node)
        else:
            roots.append(node)
    return queries.Trace("ab" * 16, roots, [], count, [])


def test_waterfall_of_100000_spans_draws_only_what_is_visible(qtbot):
    from auditlens.gui.waterfall import ROW_HEIGHT, TraceWaterfallView, flatten

    view = TraceWaterfallView()
    qtbot.addWidget(view)
    view.resize(1200, 600)
    view.show()
    trace = synthetic_trace(100_000, chain=False)
    view.set_trace(trace)
    assert len(view.rows) == 100_000
    visible = view.viewport().height() // ROW_HEIGHT
    assert view.verticalScrollBar().maximum() == 100_000 - visible
    view.verticalScrollBar().setValue(50_000)
    image = view.viewport().grab().toImage()  # paints rows 50,000.. only
    assert image.width() > 0
    chain = flatten(synthetic_trace(100_000, chain=True))  # 100,000 levels deep: no recursion
    assert [r.depth for r in chain[:3]] == [0, 1, 2] and chain[-1].depth == 99_999


def test_waterfall_click_selects_and_ctrl_wheel_zooms(qtbot):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    from auditlens.gui.waterfall import ROW_HEIGHT, TraceWaterfallView

    view = TraceWaterfallView()
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    view.set_trace(synthetic_trace(20, chain=False))
    with qtbot.waitSignal(view.span_selected) as blocker:
        qtbot.mouseClick(
            view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(600, ROW_HEIGHT * 2 + 5)
        )
    assert blocker.args[0]["name"] == view.rows[2].span["name"]
    span = view.view_end - view.view_start
    event = QWheelEvent(
        QPointF(700, 50),
        QPointF(700, 50),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    view.wheelEvent(event)
    assert view.view_end - view.view_start < span


def test_traces_view_lists_call_traces_with_their_spans(qtbot, sample_case_dir, open_case):
    from auditlens.gui.views import TracesView

    with open_case(sample_case_dir) as case:
        view = TracesView(case)
        qtbot.addWidget(view)
        view.filter_bar.set_text('name:"inbound call"')
        with qtbot.waitSignal(view.loaded, timeout=30_000):  # read in a worker
            view.filter_bar.apply()
        assert view.model.rowCount() > 10
        first = view.model.rows[0]
        assert first["root"] == "inbound call"
        assert len(view.waterfall.rows) == first["spans"]
        assert view.waterfall.rows[0].span["name"] == "inbound call"


def test_painting_keeps_reference_counts_of_none(qapp):
    """Guards the PySide6 pin: 6.12.0 decrements None's count on each void QPainter call."""
    import sys

    from PySide6.QtGui import QColor, QImage, QPainter

    image = QImage(50, 50, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(5000):
        painter.setPen(QColor("#123456"))
        painter.drawLine(1, 1, 20, 20)
    after = sys.getrefcount(None)
    painter.end()
    assert abs(after - before) < 100


def test_detail_pane_shows_the_raw_record_and_its_proof(qtbot, sample_case_dir, open_case):
    with open_case(sample_case_dir) as case:
        view = EventsView(case)
        qtbot.addWidget(view)
        view.add_term("actor_id", "sup-004", exclude=False)
        view.jump_to(0)
        view.prove_current()
        top = [view.detail.topLevelItem(i).text(0) for i in range(view.detail.topLevelItemCount())]
        assert top[-2:] == ["Raw record", "Proof"]
        proof = view.detail.topLevelItem(len(top) - 1)
        assert proof.text(1) == "proves into the signed Merkle root"
        raw = view.detail.topLevelItem(len(top) - 2).child(0).text(1)
        assert "sup-004" in raw


def test_import_progress_shows_counts_and_time_left(qtbot, settings, monkeypatch):
    import time as time_module

    from PySide6.QtWidgets import QProgressDialog

    window = MainWindow(None, settings=settings)
    qtbot.addWidget(window)
    dialog = QProgressDialog()
    qtbot.addWidget(dialog)
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(time_module, "monotonic", lambda: next(clock))
    window._progress(dialog, Progress("indexing", 0, 1000, "records"))
    window._progress(dialog, Progress("indexing", 250, 1000, "records"))
    # 250 records in 2 s: 750 more take about 6 s.
    assert dialog.labelText().startswith("indexing: 250 of 1,000 records  (about 6 s left)")
    assert (dialog.value(), dialog.maximum()) == (250, 1000)


def test_the_waterfall_ruler_follows_zoom(qtbot):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    from auditlens.gui.waterfall import RULER_HEIGHT, TraceWaterfallView

    view = TraceWaterfallView()
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    assert view.ticks() == []
    view.set_trace(synthetic_trace(20, chain=False))
    assert view.ruler.geometry().bottom() < view.viewport().geometry().top()
    assert view.ruler.height() == RULER_HEIGHT
    before = view.ticks()
    assert before[0] == (view.start_ns, "+0 ms")
    event = QWheelEvent(
        QPointF(700, 50),
        QPointF(700, 50),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    for _ in range(6):
        view.wheelEvent(event)
    after = view.ticks()
    assert after[1][0] - after[0][0] < before[1][0] - before[0][0]  # finer steps when zoomed in
    assert all(view.view_start <= ns <= view.view_end for ns, _ in after)
    image = view.ruler.grab().toImage()
    assert len({image.pixel(x, image.height() - 2) for x in range(image.width())}) > 1
