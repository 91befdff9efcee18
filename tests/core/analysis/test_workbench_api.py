"""What the workbench calls of the analysis: through its examination, the filter naming a
finding's events, and an action's witnesses with the missing ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import drive

from auditlens.core.analysis import Analysis
from auditlens.core.analysis.findings import (
    FILTER_LIMIT,
    EventRef,
    Finding,
    events_filter,
    events_span,
    streams_filter,
)
from auditlens.core.store import queries
from auditlens.core.store.session import Examination

T0 = 1_772_500_000_123_456_789  # 2026-03-03T01:06:40.123456789Z


@pytest.fixture(scope="module")
def detected(sample_case: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("workbench-api") / "case"
    shutil.copytree(sample_case, folder)
    with Examination.open(folder, origin="workbench") as session:
        drive(Analysis.of(session).detect())
    return folder


def entries(case: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (case / "journal.jsonl").read_text().splitlines()]


def test_an_analysis_of_an_examination_journals_with_its_origin_and_leaves_it_open(
    detected: Path,
) -> None:
    (entry,) = [e for e in entries(detected) if e["action"] == "detect"]
    assert entry["details"]["origin"] == "workbench"  # type: ignore[index]
    with Examination.open(detected, origin="workbench") as session:
        analysis = Analysis.of(session)
        found = analysis.findings()
        analysis.close()
        assert not session.closed and session.counts().events == 6000
        reader = session.reader()
        try:
            assert Analysis.of(reader).marked_findings() == found
        finally:
            reader.close()
    listed = [e for e in entries(detected) if e["details"].get("command") == "findings"]  # type: ignore[union-attr]
    assert len(listed) == 1  # the marks read is no examiner action: not journaled


def test_consecutive_sequence_numbers_become_ranges() -> None:
    refs = [EventRef(T0 + i, "cc-prod.audit", seq) for i, seq in enumerate([7, 3, 4, 5, 9, 10])]
    refs.append(EventRef(T0 + 99, 'odd "stream"\\x', 12))
    assert events_filter(refs) == (
        '(stream_id="cc-prod.audit" AND seq:([3 TO 5] OR 7 OR [9 TO 10])) OR '
        '(stream_id="odd \\"stream\\"\\\\x" AND seq:12)'
    )
    assert events_filter([]) is None
    queries.EventQuery(events_filter(refs) or "").where()  # it parses


def test_too_many_scattered_records_for_one_filter_fall_back_to_their_streams() -> None:
    refs = [EventRef(T0 + i, "cc-prod.otel-logs", 3 * i) for i in range(20_000)]
    assert events_filter(refs) is None
    assert len(events_filter(refs[:1000]) or "") < FILTER_LIMIT
    assert streams_filter([*refs, EventRef(T0, "cc-prod.otel-traces", 1)]) == (
        'stream_id="cc-prod.otel-logs" OR stream_id="cc-prod.otel-traces"'
    )


def test_each_findings_filter_selects_exactly_its_events(detected: Path) -> None:
    with Examination.open(detected, origin="workbench") as session:
        found = Analysis.of(session).marked_findings()
        assert len(found) > 20
        for finding in found:
            query = queries.EventQuery(events_filter(finding.events) or "", *events_span(finding))
            rows = session.events(query, limit=10_000)
            assert sorted((r["time_ns"], r["stream_id"], r["seq"]) for r in rows) == sorted(
                (e.time_ns, e.stream_id, e.seq) for e in finding.events
            ), finding.rule


def test_the_span_holds_every_event_and_ends_after_the_last() -> None:
    refs = (EventRef(T0 + 5, "s", 2), EventRef(T0, "s", 1), EventRef(T0 + 9, "t", 1))
    found = Finding("r", "t", "low", None, T0, T0 + 9, "", refs)
    assert events_span(found) == (T0, T0 + 10)


def test_an_actions_witnesses_and_the_stream_that_lacks_it(detected: Path) -> None:
    with Examination.open(detected, origin="workbench") as session:
        analysis = Analysis.of(session)
        found = analysis.marked_findings()
        grant = next(f for f in found if f.rule == "role-self-grant")
        audited = analysis.action(next(e for e in grant.events if e.kind == "audit"))
        assert audited is not None and audited.action == "ROLE_CHANGE"
        assert sorted(str(w["kind"]) for w in audited.witnesses) == ["audit", "log", "span"]
        assert audited.missing == []
        lost = next(f for f in found if f.rule == "missing-witness")
        unaudited = analysis.action(lost.events[0])
        assert unaudited is not None
        assert {str(w["stream_id"]) for w in unaudited.witnesses} == {
            "cc-prod.otel-logs",
            "cc-prod.otel-traces",
        }
        assert [m.stream_id for m in unaudited.missing] == ["cc-prod.audit"]
        assert analysis.action(EventRef(T0, "cc-prod.audit", 10**9)) is None
    asked = [e["details"] for e in entries(detected) if e["details"].get("command") == "witnesses"]  # type: ignore[union-attr]
    assert [d["missing"] for d in asked[-3:]] == [[], ["cc-prod.audit"], []]  # type: ignore[index]
    assert asked[-1]["events"] == 0  # type: ignore[index]
