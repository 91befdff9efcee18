"""Integrity precision in the workbench (issue 12): records on the map, findings open their place.

Two cases from the shipped sample's audit stream: one whose second bundle has a record modified
(line 101, seq 533) and one deleted (line 201, seq 633), imported with its trust store; and one
missing its second bundle (a gap of seq 433-886 between the first and the third). Each again with
a second stream whose id differs only in case (CC-PROD.AUDIT, the first two days' records sealed
with the sample key): a place names its stream exactly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from tests.conftest import drive

from auditlens.core.bundle.seal import seal
from auditlens.core.sample.case import sample_signing_key
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import load_trust
from auditlens.gui.main_window import MainWindow

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"
AUDIT = SAMPLE / "bundles" / "cc-prod.audit"
DATA = "data/00001.jsonl"
TWIN = "CC-PROD.AUDIT"  # cc-prod.audit but for case: another stream


def build(folder: Path, bundles: list[Path]) -> Path:
    with Examination.open(folder, origin="cli", create=True) as session:
        job = session.import_evidence(bundles, load_trust(SAMPLE / "truststore.json"))
        for _ in job:
            pass
    return folder


@pytest.fixture(scope="module")
def tampered_case(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tampered")
    copies = []
    for bundle in sorted(AUDIT.iterdir()):
        copies.append(root / bundle.name)
        shutil.copytree(bundle, copies[-1])
    data = copies[1] / DATA
    lines = data.read_bytes().split(b"\n")
    assert b'"action"' in lines[100]
    lines[100] = lines[100].replace(b'"action"', b'"acti0n"', 1)  # line 101: modified
    del lines[200]  # line 201: deleted
    data.write_bytes(b"\n".join(lines))
    return build(root / "case", copies)


@pytest.fixture(scope="module")
def gap_case(tmp_path_factory) -> Path:
    first, _, third = sorted(AUDIT.iterdir())
    return build(tmp_path_factory.mktemp("gap") / "case", [first, third])


def twin_stream(folder: Path) -> Path:
    """A bundle of stream TWIN: the first two days' audit records, seq 1-886."""
    raw = sorted((SAMPLE / "raw" / "audit").iterdir())[:2]
    return drive(seal(raw, sample_signing_key(), folder / "twin", stream_id=TWIN)).path


@pytest.fixture(scope="module")
def twin_cases(tmp_path_factory, tampered_case, gap_case) -> dict[str, Path]:
    """The tampered and the gap case's bundles, each with the TWIN stream's bundle."""
    root = tmp_path_factory.mktemp("twin")
    twin = twin_stream(root)
    first, _, third = sorted(AUDIT.iterdir())
    tampered = sorted(p for p in tampered_case.parent.iterdir() if p.name != "case")
    return {
        "RECORD_DELETED": build(root / "tampered", [*tampered, twin]),
        "BUNDLE_GAP": build(root / "gap", [first, third, twin]),
    }


def open_window(qtbot, settings, tmp_path, case: Path) -> MainWindow:
    copy = tmp_path / "case"
    shutil.copytree(case, copy)
    window = MainWindow(copy, settings=settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    window.tabs.setCurrentWidget(window.integrity)
    return window


def activate(qtbot, window: MainWindow, code: str) -> None:
    rows = window.integrity.findings.rows
    (row,) = [i for i, f in enumerate(rows) if f["code"] == code]
    table = window.integrity.finding_table
    table.scrollTo(window.integrity.findings.index(row, 0))
    rect = table.visualRect(window.integrity.findings.index(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tabs.currentWidget() is window.events


def shown(window: MainWindow) -> list[dict]:
    model = window.events.model
    return [model.event(r) for r in range(model.rowCount())]


def test_the_map_marks_the_records_not_the_whole_bundle(qtbot, settings, tmp_path, tampered_case):
    window = open_window(qtbot, settings, tmp_path, tampered_case)
    integrity = window.integrity
    verdicts = [b["verdict"] for b in integrity.bundles.rows]
    assert verdicts == ["verified", "tampered", "verified"]  # the table keeps the bundle verdict
    states = [s.state for s in integrity.map.stretches if s.label.startswith("seq")]
    assert states == ["verified", "verified", "verified"]  # its intact records stay verified
    kinds = sorted((m.kind, m.seq) for m in integrity.map.marks)
    assert kinds == [("deleted", 633), ("modified", 533)]
    image = integrity.map.grab().toImage()
    marks = integrity.map.mark_pixels()
    second = integrity.bundles.rows[1]
    lo = min(s.start_ns for s in integrity.map.stretches)
    hi = max(s.end_ns for s in integrity.map.stretches)
    left, right = integrity.map._plot_x()
    x0 = left + int((second["time_first_ns"] - lo) / (hi - lo) * (right - left))
    x1 = left + int((second["time_last_ns"] - lo) / (hi - lo) * (right - left))
    green = image.pixelColor((x0 + x1) // 2 + 40, 18).name()
    for mark, x, row in marks:
        assert x0 <= x <= x1 and row == 0
        colour = image.pixelColor(x, 18).name()
        assert colour == ("#6a1b9a" if mark.kind == "deleted" else "#e53935")
    assert green == "#43a047"  # beside the marks, the bundle is its records' green
    window.close()


def test_a_tampered_bundle_is_outlined_in_red_and_intact_ones_are_not(
    qtbot, settings, tmp_path, tampered_case
):
    window = open_window(qtbot, settings, tmp_path, tampered_case)
    integrity = window.integrity
    outlined = [s.outlined for s in integrity.map.stretches if s.label.startswith("seq")]
    assert outlined == [False, True, False]  # the table's verdicts: verified, tampered, verified
    image = integrity.map.grab().toImage()
    lo = min(s.start_ns for s in integrity.map.stretches)
    hi = max(s.end_ns for s in integrity.map.stretches)
    left, right = integrity.map._plot_x()
    for bundle, edge in zip(integrity.bundles.rows, ("#43a047", "#e53935", "#43a047"), strict=True):
        x0 = left + int((bundle["time_first_ns"] - lo) / (hi - lo) * (right - left))
        x1 = left + int((bundle["time_last_ns"] - lo) / (hi - lo) * (right - left))
        middle = (x0 + x1) // 2 + 40  # beside the record marks
        # Lane 0's bar spans y 8..27: its top and bottom rows are the outline, if any.
        assert image.pixelColor(middle, 8).name() == edge
        assert image.pixelColor(middle, 27).name() == edge
        assert image.pixelColor(middle, 18).name() == "#43a047"  # inside: its records' state
        assert image.pixelColor(x0, 18).name() == edge  # and its left end
    window.close()


def test_each_finding_opens_its_place(qtbot, settings, tmp_path, tampered_case):
    window = open_window(qtbot, settings, tmp_path, tampered_case)
    path = next(f["path"] for f in window.integrity.findings.rows if f["code"] == "RECORD_MODIFIED")
    activate(qtbot, window, "RECORD_MODIFIED")
    (record,) = shown(window)
    assert (record["seq"], record["line"], record["integrity"]) == (533, 101, "tampered")
    window.tabs.setCurrentWidget(window.integrity)
    activate(qtbot, window, "FILE_DIGEST_MISMATCH")
    rows = shown(window)
    assert len(rows) == 453 and {r["file"] for r in rows} == {path}  # the file's records
    window.tabs.setCurrentWidget(window.integrity)
    activate(qtbot, window, "RECORD_DELETED")
    seqs = [r["seq"] for r in shown(window)]
    assert seqs == [s for s in range(623, 644) if s != 633]  # around the deleted record
    window.close()


def test_a_gap_opens_with_the_events_around_it_and_is_marked_on_the_histogram(
    qtbot, settings, tmp_path, gap_case
):
    window = open_window(qtbot, settings, tmp_path, gap_case)
    gaps = [s for s in window.integrity.map.stretches if s.state == "missing"]
    assert len(gaps) == 1
    # Each bundle speaks of itself; the gap belongs to the stream, whose verdict says so.
    assert {b["verdict"] for b in window.integrity.bundles.rows} == {"verified"}
    summary = window.integrity.summary.text()
    assert "stream cc-prod.audit:" in summary and "1 open gap(s)" in summary
    assert [s.state for s in window.integrity.map.stretches if s.label.startswith("seq")] == [
        "verified",
        "verified",
    ]
    activate(qtbot, window, "BUNDLE_GAP")
    seqs = [r["seq"] for r in shown(window)]
    assert seqs == list(range(422, 433)) + list(range(887, 897))
    with qtbot.waitSignal(window.events.loaded, timeout=30_000):
        window.events.show_filter("", via="filter")
    histogram = window.events.histogram
    assert histogram.gaps == [(gaps[0].start_ns, gaps[0].end_ns)]
    ((g0, g1),) = histogram.gap_pixels()
    assert 0 < g0 < g1 < histogram.width()
    # Inside the gap the histogram has no events.
    lo, _ = histogram._span()
    assert all(
        not (gaps[0].start_ns < start < gaps[0].end_ns - histogram.bucket_ns)
        for start, count in histogram.buckets
        if count
    )
    assert lo <= gaps[0].start_ns
    window.close()


@pytest.mark.parametrize(
    ("code", "seqs"),
    [
        ("RECORD_DELETED", [s for s in range(623, 644) if s != 633]),
        ("BUNDLE_GAP", list(range(422, 433)) + list(range(887, 897))),
    ],
)
def test_a_gap_or_deleted_record_opens_its_own_stream_only(
    qtbot, settings, tmp_path, twin_cases, code, seqs
):
    window = open_window(qtbot, settings, tmp_path, twin_cases[code])
    activate(qtbot, window, code)
    rows = shown(window)
    assert {r["stream_id"] for r in rows} == {"cc-prod.audit"}  # not TWIN's records of those seqs
    assert [r["seq"] for r in rows] == seqs
    window.close()


def test_seal_times_follow_the_zone(qtbot, settings, tmp_path, gap_case):
    window = open_window(qtbot, settings, tmp_path, gap_case)
    bundles = window.integrity.bundles
    column = [key for key, _ in bundles.columns].index("sealed_at")
    assert bundles.rows[0]["sealed_at"] == "2026-03-03T00:05:00.000000000Z"
    window.zone_box.setCurrentText("Europe/Berlin")
    assert bundles.rows[0]["sealed_at"] == "2026-03-03T01:05:00.000000000+01:00"
    assert bundles.headerData(column, Qt.Orientation.Horizontal) == "Sealed at (Europe/Berlin)"
    window.close()


def test_a_raw_only_case_says_why_its_bundle_and_finding_tables_are_empty(
    qtbot, settings, tmp_path
):
    raw = sorted((SAMPLE / "raw" / "audit").iterdir())[:2]
    case = build(tmp_path / "raw-case", raw)
    window = open_window(qtbot, settings, tmp_path, case)
    view = window.integrity
    assert view.bundles.rowCount() == 0 and view.findings.rowCount() == 0
    assert "2 raw files (unsealed, grey on the map)" in view.summary.text()
    assert "nothing here can prove them unaltered" in view.summary.text()
    window.close()


def test_a_sealed_case_says_nothing_of_raw_files(qtbot, settings, tmp_path, gap_case):
    window = open_window(qtbot, settings, tmp_path, gap_case)
    assert "raw file" not in window.integrity.summary.text()
    window.close()
