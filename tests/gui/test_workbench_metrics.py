"""The workbench shows OTLP metrics (issue 17, point 3): exemplars in the trace view, and a
metric chart on the events histogram's time axis.

The case is ``auditlens sample --metrics`` evidence (the sample's sealed bundles and its OTLP
metrics: a day of 2026, nanosecond times), imported once; each test opens a copy. What the
views must show is read from the metrics file or asked of the core, never typed in.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.store import queries
from auditlens.gui.main_window import MainWindow

METRIC = "cc.audit.events"


@pytest.fixture(scope="module")
def metrics_evidence(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(case folder, metrics file): the sample's bundles and metrics imported."""
    from auditlens.cli.main import main
    from auditlens.core.store.case import Case
    from auditlens.core.store.importer import import_inputs
    from auditlens.core.verify.trust import load_trust
    from golden.make_golden import run

    out = tmp_path_factory.mktemp("metrics-gui") / "sample"
    assert main(["sample", "--out", str(out), "--records", "3000", "--days", "1", "--metrics"]) == 0
    (measured,) = sorted((out / "raw" / "metrics").glob("*.jsonl"))
    folder = out.parent / "case"
    with Case.open(folder, create=True) as case:
        inputs = [*sorted((out / "bundles").glob("*/*")), measured]
        run(import_inputs(case, inputs, load_trust(out / "truststore.json")))
        queries.refresh_order(case)
    return folder, measured


@pytest.fixture
def window(qtbot, metrics_evidence, settings, tmp_path):
    case_dir = tmp_path / "case"
    shutil.copytree(metrics_evidence[0], case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    yield window
    window.close()


def exemplars_in(measured: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """``(data point, exemplar)`` for every exemplar of the metrics file."""
    found = []
    for line in measured.read_text().splitlines():
        for resource in json.loads(line)["resourceMetrics"]:
            for scope in resource["scopeMetrics"]:
                for metric in scope["metrics"]:
                    for point in metric["sum"]["dataPoints"]:
                        found += [(point, e) for e in point.get("exemplars", [])]
    return found


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def test_a_metric_rows_trace_id_opens_the_trace_with_its_exemplars(qtbot, window, metrics_evidence):
    _case, measured = metrics_evidence
    every = exemplars_in(measured)
    point, exemplar = every[len(every) // 3]
    trace_id = exemplar["traceId"]
    wanted = sorted(
        (int(e["timeUnixNano"]), int(e["asInt"]), e["spanId"])
        for _, e in every
        if e["traceId"] == trace_id
    )

    # The events view: the metric row, its detail, the trace id there double-clicked.
    window.tabs.setCurrentWidget(window.events)
    events = window.events
    events.show_filter(f"kind:metric AND trace_id:{trace_id}", via="filter")
    rows = [events.model.event(r) for r in range(events.model.rowCount())]
    (row,) = [r for r in rows if r["time_ns"] == int(point["timeUnixNano"])]
    events.jump_to(rows.index(row))
    links = events.detail.trace_items()
    assert [item.text(1) for item in links] == [trace_id, trace_id]  # the event's, the exemplar's
    with qtbot.waitSignal(window.traces.loaded, timeout=30_000):
        events.detail.itemActivated.emit(links[0], 1)
    traces = window.traces
    assert window.tabs.currentWidget() is traces
    # Opened from the data point's row: at its exemplar, the point in the detail pane.
    opened = traces.waterfall.active_exemplar
    assert opened is not None and opened.time_ns == int(exemplar["timeUnixNano"])
    assert opened.point["time_ns"] == row["time_ns"]
    item = traces.detail.topLevelItem(0)
    shown_fields = {item.child(i).text(0): item.child(i).text(1) for i in range(item.childCount())}
    assert (shown_fields["kind"], shown_fields["seq"]) == ("metric", str(row["seq"]))

    # The trace view lists the exemplars pointing into the trace, at their own times.
    listed = traces.exemplars.exemplars()
    assert sorted((e.time_ns, e.value, e.span_id) for e in listed) == wanted
    assert {e.metric for e in listed} == {METRIC}
    assert traces.exemplars.model.rows[0]["time"] == queries.format_time(listed[0].time_ns)
    # Each is a marker on the row of the span it names.
    markers = traces.waterfall.exemplar_markers()
    assert sorted((e.time_ns, traces.waterfall.rows[i].span["span_id"]) for e, _, i in markers) == (
        sorted((t, s) for t, _, s in wanted)
    )

    # The summary counts each kind apart: a data point is no log, orphan or not (the core's
    # counts of the trace's events by kind).
    def count(where: str) -> int:
        return window.case.count(queries.EventQuery(f"trace_id:{trace_id}{where}"))

    spans, points = count(" AND kind:span"), count(" AND kind:metric")
    logs = count("") - spans - points
    assert points > 0 and logs > 0
    summary = traces.summary.text()
    (listed_row,) = [r for r in traces.model.rows if r["trace_id"] == trace_id]
    assert (listed_row["spans"], listed_row["logs"], listed_row["points"]) == (spans, logs, points)
    assert summary.startswith(f"trace {trace_id}: {spans} span(s), {logs} log(s) (0 orphan), ")
    assert f"{len(wanted)} metric exemplar(s) from {points} data point(s) (0 naming" in summary
    # No data point is drawn as a log tick: ticks are the logs' times.
    ticks = sorted(t for r in traces.waterfall.rows for t in r.log_times)
    assert len(ticks) == logs
    assert int(point["timeUnixNano"]) not in ticks

    # Activating one in the list shows its data point (and rings it on the waterfall).
    (shown,) = [e for e in listed if e.time_ns == int(exemplar["timeUnixNano"])]
    traces.exemplars.activate(listed.index(shown))
    assert traces.waterfall.active_exemplar is shown
    event = traces.detail.topLevelItem(0)
    fields = {event.child(i).text(0): event.child(i).text(1) for i in range(event.childCount())}
    assert fields["kind"] == "metric"
    assert fields["time"] == queries.format_time(int(point["timeUnixNano"]))
    assert fields["body"] == f"{METRIC} = {int(point['asInt'])} {{event}}"

    # A click on a marker activates its exemplar too.
    traces.waterfall.select(0)
    assert traces.waterfall.active_exemplar is None
    exemplar_shown, x, index = traces.waterfall.exemplar_markers()[0]
    y = (index - traces.waterfall.verticalScrollBar().value()) * 20 + 10
    from PySide6.QtCore import QPoint, Qt

    with qtbot.waitSignal(traces.waterfall.exemplar_activated) as activated:
        qtbot.mouseClick(traces.waterfall.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert activated.args == [exemplar_shown]
    assert traces.waterfall.active_exemplar is exemplar_shown


def core_count(window: MainWindow, lo: int, hi: int) -> int:
    """The core's answer: data points of the metric with ``lo <= time < hi``."""
    query = queries.EventQuery(f'kind:metric AND name:"{METRIC}"', lo, hi)
    return window.case.count(query)


def test_the_metric_chart_plots_the_points_of_the_histograms_range_and_follows_it(qtbot, window):
    window.tabs.setCurrentWidget(window.events)
    events = window.events
    panel = events.metric_chart
    qtbot.waitUntil(lambda: METRIC in panel.metric_names(), timeout=30_000)
    qtbot.waitUntil(lambda: bool(events.histogram.buckets), timeout=30_000)
    assert panel.isVisible()

    with qtbot.waitSignal(panel.drawn, timeout=30_000):
        panel.choose(METRIC)
    lo, hi = events.histogram._span()
    assert (panel.chart.lo, panel.chart.hi) == (lo, hi)  # the histogram's axis, pixel for pixel
    count = core_count(window, lo, hi)
    assert count > 0
    assert panel.points is not None
    assert panel.points.count == len(panel.points.points) == count
    panel.set_summed(False)  # each series: a dot per data point
    assert len(panel.chart.point_pixels()) == count
    # A time is at the same pixel column as on the histogram above.
    area = events.histogram.rect().adjusted(2, 4, -2, -18)
    point, x, _y = panel.chart.point_pixels()[0]
    assert x == area.left() + int((point.time_ns - lo) / (hi - lo) * area.width())

    # A range dragged on the histogram: the chart follows it (read again, not journaled).
    start, end = lo + (hi - lo) // 3, lo + (hi - lo) // 2
    charted = len(
        [e for e in journal(window.case_dir) if e["details"].get("command") == "metric_chart"]
    )
    with qtbot.waitSignal(panel.drawn, timeout=30_000):
        events.histogram.range_selected.emit(start, end)
    new_lo, new_hi = events.histogram._span()
    assert (panel.chart.lo, panel.chart.hi) == (new_lo, new_hi)
    read_from, read_to = max(new_lo, start), min(new_hi, end)
    assert (panel.points.time_from_ns, panel.points.time_to_ns) == (read_from, read_to)
    within = core_count(window, read_from, read_to)
    assert 0 < within < count
    assert panel.points.count == len(panel.chart.point_pixels()) == within
    assert all(read_from <= p.time_ns < read_to for p in panel.points.points)
    entries = journal(window.case_dir)
    assert len([e for e in entries if e["details"].get("command") == "metric_chart"]) == charted
    filters = [e["details"] for e in entries if e["details"].get("command") == "filter"]
    assert filters[-1]["via"] == "range"  # the range applied is the journaled action

    # The time zone: the chart's axis is labelled in it.
    window.zone_box.setCurrentText("America/Sao_Paulo")
    assert panel.chart.tz is not None and panel.chart.tz.key == "America/Sao_Paulo"

    # Choosing the metric was journaled once, with the range it was drawn over.
    (chosen,) = [e for e in entries if e["details"].get("command") == "metric_chart"]
    assert chosen["details"]["metric"] == METRIC
    assert chosen["details"]["points"] == count
    assert (chosen["details"]["from"], chosen["details"]["to"]) == (
        queries.format_time(lo),
        queries.format_time(hi),
    )


def test_a_case_without_metrics_shows_no_metric_chart(qtbot, sample_case_dir, settings, tmp_path):
    case_dir = tmp_path / "case"
    shutil.copytree(sample_case_dir, case_dir)
    window = MainWindow(case_dir, settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.events)
    panel = window.events.metric_chart
    with qtbot.waitSignal(panel.names_read, timeout=30_000):
        panel.refresh_names()
    assert panel.metric_names() == [] and not panel.isVisible()
    window.close()
