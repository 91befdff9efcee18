"""The legal API (core/report/session.py): each action journaled once, with its origin.

Each test works on its own copy of the sample case (nine sealed bundles of March 2026); expected
events and digests are read from the case database and the written files directly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.conftest import drive

from auditlens.core.errors import CancelledError, UsageError
from auditlens.core.progress import CancelToken
from auditlens.core.report import bookmarks as bookmarks_module
from auditlens.core.report.exhibit import INDEX_NAME, verify_exhibit
from auditlens.core.report.session import Legal
from auditlens.core.resources import sample_case_dir
from auditlens.core.store import queries
from auditlens.core.store.journal import JournalStatus, verify_journal
from auditlens.core.store.session import Examination
from auditlens.core.verify.findings import Verdict
from auditlens.core.verify.trust import load_trust


@pytest.fixture
def case(sample_case: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "case"
    shutil.copytree(sample_case, copy)
    return copy


def journal(case: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (case / "journal.jsonl").read_text().splitlines()]


def db(case: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(case / "case.duckdb"), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_of_an_examination_journals_with_its_origin_and_leaves_it_open(case: Path) -> None:
    rows = db(
        case,
        "SELECT ord, stream_id, seq FROM events WHERE action = 'EXPORT' ORDER BY ord LIMIT 3",
    )
    assert len(rows) == 3
    with Examination.open(case, origin="workbench") as examination:
        with Legal.of(examination) as legal:
            refs = legal.refs_at([int(r[0]) for r in reversed(rows)])
            assert refs == [f"stream:{s}#{q}" for _, s, q in reversed(rows)]
            mark = legal.bookmark(refs=refs, tags=["exfiltration"], note="three exports")
        # Closing the Legal left the examination's case open.
        assert examination.count(queries.EventQuery("action:EXPORT")) > 0
    (entry,) = [e for e in journal(case) if e["action"] == "bookmark"]
    assert entry["details"]["origin"] == "workbench"
    assert entry["details"]["count"] == 3
    # Stored and journaled in time order, whatever order they were given in.
    assert entry["details"]["refs"] == [f"stream:{s}#{q}" for _, s, q in rows] == list(mark.refs)
    assert entry["details"]["tags"] == ["exfiltration"]
    assert entry["details"]["note"] == "three exports"
    assert verify_journal(case).status is JournalStatus.INTACT


def test_a_bookmark_whose_entry_cannot_be_written_is_removed(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = journal(case)
    with Legal.open(case, origin="cli") as legal:

        def refuse(*_args: Any, **_kwargs: Any) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(legal.case, "journal", refuse)
        with pytest.raises(OSError, match="disk full"):
            legal.bookmark(query=queries.EventQuery("action:EXPORT"), tags=["x"])
        monkeypatch.undo()
        assert bookmarks_module.list_bookmarks(legal.case) == []
    assert journal(case) == before


def test_bookmarks_lists_in_time_order_and_journals_rows_and_digest(case: Path) -> None:
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(query=queries.EventQuery("action:EXPORT"), tags=["a"])
        legal.bookmark(query=queries.EventQuery("action:LOGIN_FAILURE"), note="failures")
        listed = legal.bookmarks()
    want = db(
        case,
        "SELECT stream_id, seq FROM events WHERE action IN ('EXPORT', 'LOGIN_FAILURE') "
        "ORDER BY ord",
    )
    assert [e.ref for e in listed] == [f"stream:{s}#{q}" for s, q in want]
    entry = journal(case)[-1]
    assert (entry["action"], entry["details"]["command"]) == ("query", "bookmarks")
    assert entry["details"]["rows"] == len(want)
    text = json.dumps([e.ref for e in listed], sort_keys=True, separators=(",", ":"))
    assert entry["details"]["digest"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    assert entry["details"]["origin"] == "cli"


def test_an_export_journals_the_sha256_of_the_file_it_wrote(case: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports.jsonl"
    with Legal.open(case, origin="cli") as legal:
        result = drive(legal.export(queries.EventQuery("action:EXPORT"), fmt="jsonl", out=out))
    data = out.read_bytes()
    (count,) = db(case, "SELECT count(*) FROM events WHERE action = 'EXPORT'")[0]
    assert result.rows == count == len(data.splitlines())
    details = journal(case)[-1]["details"]
    assert journal(case)[-1]["action"] == "export"
    assert details["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert (details["rows"], details["size"], details["output"]) == (count, len(data), str(out))
    assert (details["filter"], details["format"], details["origin"]) == (
        "action:EXPORT",
        "jsonl",
        "cli",
    )


def test_a_cancelled_export_writes_no_file_and_no_entry(case: Path, tmp_path: Path) -> None:
    before = journal(case)
    token = CancelToken()
    with Legal.open(case, origin="workbench") as legal:
        job = legal.export(queries.EventQuery(), fmt="csv", out=tmp_path / "all.csv", token=token)
        next(job)
        token.cancel()
        with pytest.raises(CancelledError):
            drive(job)
    assert journal(case) == before
    assert not (tmp_path / "all.csv").exists()


def test_an_exhibit_is_journaled_once_and_verifies(case: Path, tmp_path: Path) -> None:
    out = tmp_path / "exhibit"
    with Examination.open(case, origin="workbench") as examination:
        legal = Legal.of(examination)
        result = drive(legal.exhibit(out, query=queries.EventQuery("action:EXPORT")))
    entries = [e for e in journal(case) if e["action"] == "exhibit"]
    assert len(entries) == 1
    details = entries[0]["details"]
    assert details["origin"] == "workbench"
    assert details["index_sha256"] == hashlib.sha256((out / INDEX_NAME).read_bytes()).hexdigest()
    assert details["count"] == result.sealed == len(details["refs"])
    report = verify_exhibit(out, load_trust(sample_case_dir() / "truststore.json"))
    assert report.verdict is Verdict.VERIFIED
    assert report.proven == result.sealed


def test_an_unknown_origin_is_refused(case: Path) -> None:
    with pytest.raises(UsageError, match="unknown origin"):
        Legal.open(case, origin="web")


def test_a_note_given_twice_to_an_event_is_listed_once(case: Path) -> None:
    with Legal.open(case, origin="cli") as legal:
        legal.bookmark(query=queries.EventQuery("action:EXPORT"), tags=["a"], note="seen")
        legal.bookmark(query=queries.EventQuery("action:EXPORT"), tags=["b"], note="seen")
        legal.bookmark(query=queries.EventQuery("action:EXPORT"), note="checked")
        listed = legal.bookmarks()
    assert listed
    assert {(tuple(e.tags), tuple(e.notes), tuple(e.bookmark_ids)) for e in listed} == {
        (("a", "b"), ("seen", "checked"), (1, 2, 3))
    }


def test_marks_at_names_the_bookmarks_of_the_positions_asked_and_journals_nothing(
    case: Path,
) -> None:
    exports = db(case, "SELECT ord, time_ns FROM events WHERE action = 'EXPORT' ORDER BY ord")
    others = db(case, "SELECT ord FROM events WHERE action <> 'EXPORT' ORDER BY ord LIMIT 5")
    assert len(exports) > 3 and all(t > 1_767_225_600_000_000_000 for _, t in exports)  # 2026
    with Legal.open(case, origin="cli") as legal:
        assert legal.marks_at([int(o) for o, _ in exports]) == {}  # no bookmark table yet
        legal.bookmark(query=queries.EventQuery("action:EXPORT"), tags=["exfil"], note="seen")
        first = legal.refs_at([int(exports[0][0])])
        legal.bookmark(refs=first, tags=["exfil", "first"], note="the first one")
        before = journal(case)
        asked = [int(exports[0][0]), int(exports[1][0]), *(int(o) for (o,) in others)]
        marks = legal.marks_at(asked)
        assert journal(case) == before  # a derived read: no entry
    # Only the bookmarked positions, each with every bookmark naming it.
    assert set(marks) == {int(exports[0][0]), int(exports[1][0])}
    head = marks[int(exports[0][0])]
    assert (head.ref, head.bookmark_ids, head.tags, head.notes) == (
        first[0],
        [1, 2],
        ["exfil", "first"],
        ["seen", "the first one"],
    )
    second = marks[int(exports[1][0])]
    assert (second.bookmark_ids, second.tags, second.notes) == ([1], ["exfil"], ["seen"])
