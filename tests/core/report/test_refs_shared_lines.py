"""References to raw records that share a line (an OTLP batch): each names its own record.

The OTel Collector's file exporter writes a batch of log records or spans per line (per message
in `format: proto`). ``raw:SHA256#LINE`` named the whole batch: a bookmark of one span listed
another (the batch's first), a filter over 2,727 spans bookmarked 48 "events", and an export's
``ref`` column repeated one reference up to 127 times. Each record of a shared line is now
``raw:SHA256#LINE.K`` (refs.py); a line of one record keeps ``raw:SHA256#LINE``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import drive

from auditlens.core.errors import UsageError
from auditlens.core.report import bookmarks
from auditlens.core.report.exhibit import INDEX_NAME
from auditlens.core.report.refs import parse_ref
from auditlens.core.report.session import Legal
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import TrustStore

T0 = 1_772_445_600_000_000_000  # 2026-03-02T10:00:00Z
USERS = ("agent-007", "sup-004", "adm-002")


def batch_line(first: int, users: tuple[str, ...]) -> str:
    """One ExportLogsServiceRequest holding a log record per user, a second apart."""
    records = [
        {
            "timeUnixNano": str(T0 + (first + i) * 1_000_000_000),
            "body": {"stringValue": f"EXPORT by {user}"},
            "attributes": [
                {"key": "user.id", "value": {"stringValue": user}},
                {"key": "audit.action", "value": {"stringValue": "EXPORT"}},
            ],
        }
        for i, user in enumerate(users)
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "crm"}}]}
    scope = {"scope": {"name": "audit"}, "logRecords": records}
    return json.dumps({"resourceLogs": [{"resource": resource, "scopeLogs": [scope]}]})


@pytest.fixture
def case(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "evidence").mkdir()
    raw = tmp_path / "evidence" / "logs-2026-03-02.jsonl"
    # Line 1: a batch of three records; line 2: one record alone.
    raw.write_text(batch_line(0, USERS) + "\n" + batch_line(10, ("agent-011",)) + "\n")
    folder = tmp_path / "case"
    with Examination.open(folder, origin="cli", create=True) as examination:
        drive(examination.import_evidence([raw], TrustStore()))
    return folder, hashlib.sha256(raw.read_bytes()).hexdigest()


def test_each_record_of_a_batch_has_its_own_reference(case: tuple[Path, str]) -> None:
    folder, digest = case
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        mark = legal.bookmark(query=queries.EventQuery("body:EXPORT"), tags=["all"])
    assert list(mark.refs) == [
        f"raw:{digest}#1.1",
        f"raw:{digest}#1.2",
        f"raw:{digest}#1.3",
        f"raw:{digest}#2",  # a line of one record keeps its plain reference
    ]
    assert parse_ref(f"raw:{digest}#1.2").part == 2 and parse_ref(f"raw:{digest}#2").part is None


def test_a_bookmark_of_one_record_of_a_batch_lists_that_record(case: tuple[Path, str]) -> None:
    folder, digest = case
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        mark = legal.bookmark(query=queries.EventQuery("actor_id:sup-004"), tags=["chosen"])
        assert list(mark.refs) == [f"raw:{digest}#1.2"]
        listed = legal.bookmarks()
    # It used to list the batch's first record (agent-007) for sup-004's bookmark.
    assert [(b.ref, b.event["actor_id"] if b.event else None) for b in listed] == [
        (f"raw:{digest}#1.2", "sup-004")
    ]


def test_a_reference_to_a_whole_batch_is_refused_with_the_way_to_name_one(
    case: tuple[Path, str], tmp_path: Path
) -> None:
    folder, digest = case
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        with pytest.raises(UsageError, match=r"names the 3 records of one line: name one as"):
            legal.bookmark(refs=[f"raw:{digest}#1"])
        with pytest.raises(UsageError, match="no event in the case has the reference"):
            legal.bookmark(refs=[f"raw:{digest}#1.4"])
        mark = legal.bookmark(refs=[f"raw:{digest}#1.3", f"raw:{digest}#2"])
        assert [b.event["actor_id"] for b in legal.bookmarks() if b.event] == [
            "adm-002",
            "agent-011",
        ]
        assert len(mark.refs) == 2
        out = tmp_path / "exhibit"
        drive(legal.exhibit(out, refs=[f"raw:{digest}#1.3"]))
    index = json.loads((out / INDEX_NAME).read_text())
    # One reference, one record listed (the whole batch was listed before).
    assert [(r["ref"], r["line"]) for r in index["records"]] == [(f"raw:{digest}#1.3", "1")]


def test_an_export_names_every_record_once(case: tuple[Path, str], tmp_path: Path) -> None:
    folder, digest = case
    out = tmp_path / "view.jsonl"
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        drive(legal.export(queries.EventQuery(""), fmt="jsonl", out=out))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["ref"], r["actor_id"]) for r in rows] == [
        (f"raw:{digest}#1.1", "agent-007"),
        (f"raw:{digest}#1.2", "sup-004"),
        (f"raw:{digest}#1.3", "adm-002"),
        (f"raw:{digest}#2", "agent-011"),
    ]


class _RecordingConnection:
    """The case's connection, recording the parameters bound to each query."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.bound: list[Any] = []

    def execute(self, sql: str, *args: Any) -> Any:
        self.bound.extend(args[0] if args else [])
        return self._inner.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_page_of_references_binds_nothing_that_grows_with_the_case(tmp_path: Path) -> None:
    # Fifty batches of two records: a reference to one record must not bind the case's fifty
    # shared lines (a page of the events table, an export slice: at 10^6 raw events in batches
    # of four, 750,000 values bound per page, 0.25 s CPU each).
    raw = tmp_path / "logs-2026-03-02.jsonl"
    raw.write_text("".join(batch_line(2 * n, USERS[:2]) + "\n" for n in range(50)))
    folder = tmp_path / "case"
    with Examination.open(folder, origin="cli", create=True) as examination:
        drive(examination.import_evidence([raw], TrustStore()))
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    with Case.open(folder) as case:
        queries.refresh_order(case)
        recording = _RecordingConnection(case.db)
        case.db = recording  # type: ignore[assignment]
        try:
            refs = bookmarks.refs_at(case, [41, 98])
        finally:
            case.db = recording._inner
    assert refs == [f"raw:{digest}#21.2", f"raw:{digest}#50.1"]
    lists = [p for p in recording.bound if isinstance(p, list)]
    assert lists == [[41, 98]]


def test_a_bookmark_stored_without_k_marks_every_record_of_its_line(
    case: tuple[Path, str],
) -> None:
    # A case bookmarked before K existed stored the batch's reference without it; listing it
    # gives the line's three records, and the events table must mark those three rows.
    folder, digest = case
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        legal.bookmark(refs=[f"raw:{digest}#2"], tags=["alone"])
    with Case.open(folder) as case_db:
        case_db.db.execute(
            "INSERT INTO bookmarks VALUES (2, '2026-03-02T10:00:00.000000Z', ['batch'], '', "
            "'events')"
        )
        case_db.db.execute(
            "INSERT INTO bookmark_events VALUES (2, ?, NULL, NULL, ?, 1)",
            [f"raw:{digest}#1", digest],
        )
    with Examination.open(folder, origin="cli") as examination, Legal.of(examination) as legal:
        listed = legal.bookmarks()
        marks = legal.marks_at([0, 1, 2, 3])
    # Each record is listed by its own reference, the one `exhibit --event` takes.
    batch = sorted((b.ref, b.event["seq"]) for b in listed if "batch" in b.tags)
    assert [ref for ref, _ in batch] == [f"raw:{digest}#1.{k}" for k in (1, 2, 3)]
    assert [seq for _, seq in batch] == sorted(seq for _, seq in batch)
    assert [b.ref for b in listed if "alone" in b.tags] == [f"raw:{digest}#2"]
    assert {p: (m.ref, m.tags) for p, m in marks.items()} == {
        0: (f"raw:{digest}#1.1", ["batch"]),
        1: (f"raw:{digest}#1.2", ["batch"]),
        2: (f"raw:{digest}#1.3", ["batch"]),
        3: (f"raw:{digest}#2", ["alone"]),
    }
