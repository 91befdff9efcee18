"""The examiner's journal: format, append, verification of every tamper kind, locking.

Expected problems are derived from what each tamper did to the file (which entry, which line),
and hashes are recomputed here from the documented definition (SHA-256 over the canonical JSON of
the entry without ``hash``), never read back from the verifier.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import multiprocessing
import platform
import re
import shutil
import socket
import subprocess
import sys
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import auditlens
from auditlens.core.store import journal as journal_module
from auditlens.core.store.journal import (
    GENESIS_PREV,
    JOURNAL_NAME,
    Journal,
    JournalEntry,
    JournalError,
    JournalReport,
    JournalStatus,
    ProblemKind,
    verify_journal,
)

N = 8  # entries in the pristine journal


# --- helpers ---------------------------------------------------------------------------------


def canonical(value: Any) -> bytes:
    # For these entries (ASCII keys, strings, ints, objects, arrays) RFC 8785 is exactly sorted
    # keys, no whitespace, UTF-8: an independent implementation of the documented hash input.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def hash_of(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def line_of(entry: dict[str, Any]) -> bytes:
    return canonical(entry) + b"\n"


def read_lines(case: Path) -> list[bytes]:
    return (case / JOURNAL_NAME).read_bytes().splitlines(keepends=True)


def write_lines(case: Path, lines: list[bytes]) -> None:
    (case / JOURNAL_NAME).write_bytes(b"".join(lines))


def entries_of(lines: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines]


def problems(report: JournalReport) -> list[tuple[str, int | None, int | None]]:
    return [(p.kind.value, p.index, p.line) for p in report.problems]


@pytest.fixture(scope="session")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    case = tmp_path_factory.mktemp("pristine-case")
    journal = Journal(case)
    journal.append("case_created", {"name": "test case"})
    for i in range(1, N):
        journal.append("query", {"text": f"actor:alice AND n:{i}", "rows": i, "ok": True})
    return case


@pytest.fixture
def case(pristine: Path, tmp_path: Path) -> Path:
    target = tmp_path / "case"
    shutil.copytree(pristine, target)
    return target


# --- format and append -----------------------------------------------------------------------


def test_each_line_is_the_documented_canonical_entry(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    assert len(entries) == N
    prev = "0" * 64
    for i, (raw, entry) in enumerate(zip(lines, entries, strict=True)):
        assert set(entry) == {
            "index", "time", "action", "details", "user", "host", "tool", "libraries", "prev",
            "hash",
        }  # fmt: skip
        assert raw == line_of(entry)  # canonical bytes, one line, newline-terminated
        assert entry["index"] == i
        assert entry["prev"] == prev
        assert entry["hash"] == hash_of(entry)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", entry["time"])
        assert datetime.fromisoformat(entry["time"]).utcoffset().total_seconds() == 0
        assert entry["user"] == getpass.getuser()
        assert entry["host"] == socket.gethostname()
        assert entry["tool"] == {"name": "auditlens", "version": auditlens.__version__}
        assert entry["libraries"]["python"] == platform.python_version()
        for name in ("duckdb", "pyarrow", "cryptography"):
            assert entry["libraries"][name] == metadata.version(name)
        prev = entry["hash"]
    assert entries[0]["action"] == "case_created"
    assert entries[3]["details"] == {"text": "actor:alice AND n:3", "rows": 3, "ok": True}


def test_append_returns_the_written_entry_and_head(case: Path) -> None:
    journal = Journal(case)
    before = journal.head()
    entry = journal.append("import", {"inputs": [("a.jsonl", "ab" * 32)], "verdict": "verified"})
    written = entries_of(read_lines(case))[-1]
    assert entry.as_dict() == written
    assert written["details"]["inputs"] == [["a.jsonl", "ab" * 32]]  # tuples become arrays
    assert before == (N, entries_of(read_lines(case))[N - 1]["hash"])
    assert entry.index == N and entry.prev == before[1]
    assert entry.head == journal.head() == (N + 1, hash_of(written))


def test_head_of_an_absent_journal_and_first_prev(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.head() == (0, GENESIS_PREV) == (0, "0" * 64)
    first = journal.append("case_created", {})
    assert first.index == 0 and first.prev == "0" * 64
    assert journal.head() == (1, first.hash)


@pytest.mark.parametrize(
    ("details", "where", "what"),
    [
        ({"elapsed": 1.5}, "details.elapsed", "float"),
        ({"rows": [1, 2.0]}, "details.rows[1]", "float"),
        ({"path": Path("/x")}, "details.path", "PosixPath"),
        ({"big": 2**60}, "details.big", "integer range"),
        ({"bytes": b"\x00"}, "details.bytes", "bytes"),
        ({1: "x"}, "details", "not a string"),
    ],
)
def test_details_outside_canonical_json_are_refused_and_nothing_written(
    case: Path, details: dict[Any, Any], where: str, what: str
) -> None:
    before = (case / JOURNAL_NAME).read_bytes()
    with pytest.raises(JournalError) as caught:
        Journal(case).append("query", details)
    assert where in caught.value.message
    assert what in caught.value.message
    assert (case / JOURNAL_NAME).read_bytes() == before


def test_bad_action_names_are_refused(tmp_path: Path) -> None:
    for action in ("", "two words", "line\nbreak", "9lives"):
        with pytest.raises(JournalError):
            Journal(tmp_path).append(action, {})
    assert not (tmp_path / JOURNAL_NAME).exists()


def test_append_reads_only_the_tail(case: Path) -> None:
    # A damaged middle line does not stop the next append (only the last line is read), but
    # verification still reports it.
    lines = read_lines(case)
    lines[2] = b"this line was damaged\n"
    write_lines(case, lines)
    entry = Journal(case).append("note", {"text": "after damage"})
    assert entry.index == N
    assert entry.prev == entries_of(lines[-1:])[0]["hash"]
    report = verify_journal(case)
    assert problems(report) == [("malformed", None, 3)]


@pytest.mark.parametrize(
    "damage",
    ["garbage", "no_newline", "cut_mid_line", "hash_mismatch"],
)
def test_append_refuses_a_journal_whose_last_line_is_damaged(case: Path, damage: str) -> None:
    lines = read_lines(case)
    last = entries_of(lines[-1:])[0]
    if damage == "garbage":
        lines.append(b"{not json\n")
    elif damage == "no_newline":
        lines[-1] = lines[-1].rstrip(b"\n")
    elif damage == "cut_mid_line":
        lines[-1] = lines[-1][:40]
    else:
        last["details"]["rows"] = 999
        lines[-1] = line_of(last)
    write_lines(case, lines)
    before = (case / JOURNAL_NAME).read_bytes()
    with pytest.raises(JournalError) as caught:
        Journal(case).append("query", {"text": "x"})
    assert caught.value.line == len(lines)  # names the damaged last line
    assert (case / JOURNAL_NAME).read_bytes() == before
    with pytest.raises(JournalError):
        Journal(case).head()


def test_symlinked_journal_is_refused(tmp_path: Path, case: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / JOURNAL_NAME).symlink_to(case / JOURNAL_NAME)
    with pytest.raises(JournalError):
        Journal(other).append("query", {})
    with pytest.raises(JournalError):
        verify_journal(other)


def _append_many(case: str, writer: int, count: int, barrier: Any) -> None:
    journal = Journal(Path(case))
    barrier.wait()  # both writers start together, so their appends contend for the lock
    for n in range(count):
        journal.append("query", {"writer": writer, "n": n})


def test_concurrent_appends_from_two_processes_keep_one_chain(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [
        context.Process(target=_append_many, args=(str(tmp_path), w, 50, barrier)) for w in (1, 2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert [worker.exitcode for worker in workers] == [0, 0]

    report = verify_journal(tmp_path)
    assert report.ok, [p.describe() for p in report.problems]
    assert report.entries == 100
    entries = entries_of(read_lines(tmp_path))
    assert [e["index"] for e in entries] == list(range(100))
    for writer in (1, 2):
        mine = [e["details"]["n"] for e in entries if e["details"]["writer"] == writer]
        assert mine == list(range(50))
    assert report.head == Journal(tmp_path).head() == (100, entries[-1]["hash"])


def test_journal_module_never_loads_qt(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib\n"
        "from auditlens.core.store.journal import Journal, verify_journal\n"
        f"case = pathlib.Path({str(tmp_path)!r})\n"
        "Journal(case).append('case_created', {})\n"
        "assert verify_journal(case).ok\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- verification --------------------------------------------------------------------------


def test_intact_journal_verifies(case: Path) -> None:
    report = verify_journal(case, expected_head=Journal(case).head())
    assert report.ok
    assert report.problems == []
    assert report.entries == N
    last = entries_of(read_lines(case))[-1]
    assert report.head == (N, last["hash"])


def test_report_has_no_truth_value(case: Path) -> None:
    report = verify_journal(case)
    with pytest.raises(TypeError):
        bool(report)


def test_edited_detail_value_is_reported_with_both_hashes(case: Path) -> None:
    lines = read_lines(case)
    k = 4
    entry = entries_of(lines)[k]
    recorded = entry["hash"]
    entry["details"]["text"] = "actor:mallory"
    lines[k] = line_of(entry)  # content changed, hash left as recorded
    write_lines(case, lines)
    report = verify_journal(case)
    assert not report.ok
    assert problems(report) == [("edited", k, k + 1)]
    assert report.problems[0].expected == recorded
    assert report.problems[0].actual == hash_of(entry)
    assert report.problems[0].actual != recorded


def test_edit_with_recomputed_hash_is_caught_by_the_next_link(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    k = 3
    entry = entries[k]
    entry["details"]["rows"] = 0
    entry["hash"] = hash_of(entry)  # the forger recomputes the hash
    lines[k] = line_of(entry)
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("edited", k, k + 1)]
    assert report.problems[0].expected == entries[k + 1]["prev"]  # what entry k+1 committed to
    assert report.problems[0].actual == entry["hash"]


def test_deleted_middle_entry(case: Path) -> None:
    lines = read_lines(case)
    k = 4
    follower = lines[k + 1]
    del lines[k]
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("deleted", k, lines.index(follower) + 1)]
    assert report.entries == N - 1


def test_deleted_head_entries_are_truncation(case: Path) -> None:
    lines = read_lines(case)
    write_lines(case, lines[2:])
    report = verify_journal(case)
    assert problems(report) == [("truncated", 0, 1)]


def test_inserted_forged_entry_with_recomputed_hash(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    k = 2
    forged = dict(entries[k + 1])
    forged["details"] = {"text": "actor:nobody", "rows": 0, "ok": True}
    forged["index"] = k + 1
    forged["prev"] = entries[k]["hash"]
    forged["hash"] = hash_of(forged)  # internally consistent, linked to entry k
    lines.insert(k + 1, line_of(forged))
    write_lines(case, lines)
    report = verify_journal(case)
    forged_line = lines.index(line_of(forged)) + 1
    assert problems(report) == [("inserted", k + 1, forged_line)]
    assert report.problems[0].actual == forged["hash"]


def test_inserted_forged_entry_with_unlinked_prev(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    k = 5
    forged = dict(entries[k])
    forged["details"] = {"text": "planted"}
    forged["prev"] = "f" * 64
    forged["hash"] = hash_of(forged)  # claims index k, links to nothing
    lines.insert(k + 1, line_of(forged))
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("inserted", k, lines.index(line_of(forged)) + 1)]


def test_duplicated_entry_later_in_the_file(case: Path) -> None:
    lines = read_lines(case)
    copy = lines[1]
    lines.insert(5, copy)
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("inserted", 1, 6)]


def test_swapped_entries_are_reordered(case: Path) -> None:
    lines = read_lines(case)
    k = 3
    lines[k], lines[k + 1] = lines[k + 1], lines[k]
    write_lines(case, lines)
    report = verify_journal(case)
    # Entry k+1 now sits on line k+1, before its chain predecessor k (line k+2).
    assert problems(report) == [("reordered", k + 1, k + 1)]
    assert f"line {k + 2}" in report.problems[0].message


def test_entry_moved_later_is_one_reorder(case: Path) -> None:
    lines = read_lines(case)
    k = 2
    moved = lines.pop(k)
    lines.insert(k + 3, moved)  # entries k+1..k+3 now precede entry k
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("reordered", k + 1, k + 1)]
    assert f"entries {k + 1}-{k + 3}" in report.problems[0].message


def test_truncated_tail_needs_the_recorded_head(case: Path) -> None:
    recorded = Journal(case).head()
    lines = read_lines(case)
    write_lines(case, lines[:-2])
    # The documented limit: from the file alone a shorter chain is a valid chain.
    alone = verify_journal(case)
    assert alone.ok
    assert alone.entries == N - 2
    with_head = verify_journal(case, expected_head=recorded)
    assert problems(with_head) == [("truncated", N - 2, None)]
    assert with_head.problems[0].expected == recorded[1]
    assert with_head.problems[0].actual == entries_of(lines)[N - 3]["hash"]


def test_rewritten_last_entry_needs_the_recorded_head(case: Path) -> None:
    recorded = Journal(case).head()
    lines = read_lines(case)
    last = entries_of(lines)[-1]
    last["details"] = {"text": "innocent"}
    last["hash"] = hash_of(last)
    lines[-1] = line_of(last)
    write_lines(case, lines)
    assert verify_journal(case).ok  # nothing after it commits to its hash
    report = verify_journal(case, expected_head=recorded)
    assert problems(report) == [("edited", N - 1, N)]
    assert (report.problems[0].expected, report.problems[0].actual) == (recorded[1], last["hash"])


def test_entries_beyond_the_recorded_head_are_reported(case: Path) -> None:
    recorded = Journal(case).head()
    Journal(case).append("note", {"text": "appended without updating the case"})
    report = verify_journal(case, expected_head=recorded)
    assert problems(report) == [("inserted", N, N + 1)]


@pytest.mark.parametrize(
    ("replacement", "reason"),
    [
        (b"not json at all\n", "not valid JSON"),
        (b"\n", "empty line"),
        (b'{"index":1,"index":2}\n', "duplicate key"),
        (b"[1,2,3]\n", "not an entry object"),
        (b'{"index":3,"nan":NaN}\n', "NaN"),
    ],
)
def test_malformed_line(case: Path, replacement: bytes, reason: str) -> None:
    lines = read_lines(case)
    k = 3
    lines[k] = replacement
    write_lines(case, lines)
    report = verify_journal(case)
    # The unreadable line stands in the place of entry k: no deletion is reported besides it.
    assert [(kind, line) for kind, _, line in problems(report)] == [("malformed", k + 1)]
    assert reason in report.problems[0].message


def test_entry_with_an_extra_member_is_malformed(case: Path) -> None:
    lines = read_lines(case)
    entry = entries_of(lines)[2]
    entry["approved_by"] = "mallory"
    entry["hash"] = hash_of(entry)
    lines[2] = line_of(entry)
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("malformed", 2, 3)]
    assert "approved_by" in report.problems[0].message


def test_invalid_utf8_is_malformed_at_its_line(case: Path) -> None:
    lines = read_lines(case)
    k = 5
    lines[k] = lines[k].replace(b"actor:alice", b"actor:\xffalice")
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("malformed", k, k + 1)]
    assert "UTF-8" in report.problems[0].message


def test_noncanonical_bytes_are_an_edit(case: Path) -> None:
    lines = read_lines(case)
    k = 1
    entry = entries_of(lines)[k]
    lines[k] = json.dumps(entry, indent=None).encode() + b"\n"  # same content, other bytes
    assert lines[k] != line_of(entry)
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("edited", k, k + 1)]
    assert "canonical" in report.problems[0].message


def test_torn_last_line_is_truncation(case: Path) -> None:
    lines = read_lines(case)
    lines[-1] = lines[-1][:50]
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("truncated", None, N)]


def test_oversized_line_is_malformed_without_being_read_whole(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_LINE_BYTES", 10_000)
    with pytest.raises(JournalError):
        Journal(case).append("note", {"text": "x" * 20_000})
    lines = read_lines(case)
    lines[4] = b'{"padding":"' + b"y" * 50_000 + b'"}\n'
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("malformed", None, 5)]
    assert "longer than" in report.problems[0].message


def test_every_problem_is_reported_not_only_the_first(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    entries[1]["details"]["rows"] = 42
    lines[1] = line_of(entries[1])  # edit entry 1
    lines[6] = b"garbage\n"  # damage entry 6
    del lines[4]  # delete entry 4
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("edited", 1, 2), ("deleted", 4, 5), ("malformed", None, 6)]


def test_missing_journal(tmp_path: Path) -> None:
    (tmp_path / "case.duckdb").write_bytes(b"")
    report = verify_journal(tmp_path)
    assert not report.ok
    assert problems(report) == [("deleted", None, None)]
    assert JOURNAL_NAME in report.problems[0].message


def test_missing_journal_with_recorded_head(tmp_path: Path) -> None:
    report = verify_journal(tmp_path, expected_head=(3, "a" * 64))
    assert problems(report) == [("deleted", None, None)]


def test_folder_that_is_not_a_case(tmp_path: Path) -> None:
    with pytest.raises(JournalError):
        verify_journal(tmp_path)
    with pytest.raises(JournalError):
        verify_journal(tmp_path / "absent")


@pytest.mark.parametrize("head", [(-1, "0" * 64), (1, "XYZ"), (True, "0" * 64), (1, "A" * 64)])
def test_bad_expected_head_is_refused(case: Path, head: tuple[int, str]) -> None:
    with pytest.raises(JournalError):
        verify_journal(case, expected_head=head)


def test_problem_kinds_are_the_documented_names() -> None:
    assert {kind.value for kind in ProblemKind} == {
        "edited", "deleted", "inserted", "reordered", "truncated", "malformed",
    }  # fmt: skip


def test_stray_entry_with_a_far_index_is_inserted(case: Path) -> None:
    lines = read_lines(case)
    entries = entries_of(lines)
    stray = dict(entries[3])
    stray["index"] = 1000
    stray["hash"] = hash_of(stray)
    lines.insert(4, line_of(stray))
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("inserted", 1000, 5)]


def test_recorded_head_tells_which_of_two_last_entries_is_genuine(case: Path) -> None:
    recorded = Journal(case).head()
    lines = read_lines(case)
    forged = entries_of(lines)[-1]
    forged["details"] = {"text": "planted"}
    forged["hash"] = hash_of(forged)
    lines.insert(N - 1, line_of(forged))  # the forgery now comes first
    write_lines(case, lines)
    report = verify_journal(case, expected_head=recorded)
    assert problems(report) == [("inserted", N - 1, N)]
    assert "head the case recorded" in report.problems[0].message


def test_moves_beyond_the_lookahead_are_deleted_then_reordered(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_LOOKAHEAD", 3)
    lines = read_lines(case)
    moved = lines.pop(1)
    lines.append(moved)  # entry 1 now at the very end, 6 lines from its place
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("deleted", 1, 2), ("reordered", 1, N)]


def test_deletion_found_through_the_lookahead_limit(
    case: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "MAX_LOOKAHEAD", 2)
    lines = read_lines(case)
    del lines[2]
    write_lines(case, lines)
    report = verify_journal(case)
    assert problems(report) == [("deleted", 2, 3)]


# --- the recorded head on append, and interrupted actions ------------------------------------


def forge_next(case: Path, text: str) -> dict[str, Any]:
    """A well-formed entry after the last one, as anyone able to write the file could make."""
    last = entries_of(read_lines(case))[-1]
    entry = dict(last, index=last["index"] + 1, details={"text": text}, prev=last["hash"])
    entry["hash"] = hash_of(entry)
    return entry


def test_append_refuses_a_journal_that_does_not_end_at_the_expected_head(case: Path) -> None:
    recorded = Journal(case).head()
    lines = read_lines(case)
    shorter = lines[:-1]
    write_lines(case, shorter)
    with pytest.raises(JournalError) as caught:
        Journal(case).append("query", {"text": "after a cut"}, expected_head=recorded)
    assert "refusing to append" in caught.value.message
    assert read_lines(case) == shorter  # nothing written
    write_lines(case, [*lines, line_of(forge_next(case, "planted"))])
    with pytest.raises(JournalError):
        Journal(case).append("query", {"text": "after a plant"}, expected_head=recorded)
    write_lines(case, lines)
    assert Journal(case).append("query", {}, expected_head=recorded).index == N


def test_append_expecting_no_head_needs_an_absent_journal(tmp_path: Path, case: Path) -> None:
    empty = (0, GENESIS_PREV)
    with pytest.raises(JournalError):
        Journal(case).append("case_created", {}, expected_head=empty)
    assert Journal(tmp_path).append("case_created", {}, expected_head=empty).index == 0


def test_announce_sees_the_entry_before_its_line_is_written(case: Path) -> None:
    seen: list[tuple[JournalEntry, int]] = []

    def announce(entry: JournalEntry) -> None:
        seen.append((entry, len(read_lines(case))))

    entry = Journal(case).append("query", {"text": "x"}, announce=announce)
    assert seen == [(entry, N)]  # called once, with the entry, while the file held N lines
    assert entries_of(read_lines(case))[-1] == entry.as_dict()


def test_a_failed_announcement_writes_nothing(case: Path) -> None:
    before = read_lines(case)

    def announce(entry: JournalEntry) -> None:
        raise OSError("the case database is full")

    with pytest.raises(OSError):
        Journal(case).append("query", {"text": "x"}, announce=announce)
    assert read_lines(case) == before


def test_last_entry_is_the_last_line(case: Path, tmp_path: Path) -> None:
    last = Journal(case).last_entry()
    assert last is not None and last.as_dict() == entries_of(read_lines(case))[-1]
    assert Journal(tmp_path).last_entry() is None


def test_the_announced_entry_after_the_head_is_an_interruption(case: Path) -> None:
    lines = read_lines(case)
    recorded = (N - 1, entries_of(lines)[N - 2]["hash"])  # the case did not record entry N - 1
    last = entries_of(lines)[N - 1]
    report = verify_journal(case, expected_head=recorded, announced=(N, last["hash"]))
    assert report.status is JournalStatus.INTERRUPTED
    assert not report.ok and report.problems == []
    note = report.interrupted
    assert note is not None
    assert (note.index, note.line, note.hash, note.action) == (N - 1, N, last["hash"], "query")
    assert note.written
    assert "was written but the case did not record it" in note.describe()
    # Without the announcement the same file is tampering, as before.
    assert problems(verify_journal(case, expected_head=recorded)) == [("inserted", N - 1, N)]


def test_a_forged_entry_is_not_an_interruption(case: Path) -> None:
    recorded = Journal(case).head()
    announced = recorded  # the last append completed: announced and recorded agree
    write_lines(case, [*read_lines(case), line_of(forge_next(case, "planted"))])
    report = verify_journal(case, expected_head=recorded, announced=announced)
    assert report.status is JournalStatus.TAMPERED
    assert problems(report) == [("inserted", N, N + 1)]


def test_an_entry_other_than_the_announced_one_is_tampering(case: Path) -> None:
    lines = read_lines(case)
    recorded = (N - 1, entries_of(lines)[N - 2]["hash"])
    genuine = entries_of(lines)[N - 1]
    rewritten = dict(genuine, details={"text": "rewritten"})
    rewritten["hash"] = hash_of(rewritten)
    write_lines(case, [*lines[:-1], line_of(rewritten)])
    report = verify_journal(case, expected_head=recorded, announced=(N, genuine["hash"]))
    assert report.status is JournalStatus.TAMPERED
    assert problems(report) == [("inserted", N - 1, N)]
    assert report.interrupted is None


def test_two_entries_beyond_the_head_are_tampering(case: Path) -> None:
    lines = read_lines(case)
    recorded = (N - 2, entries_of(lines)[N - 3]["hash"])
    # Whichever of the two the case announced, only one append can be interrupted.
    for announced in (N - 1, N):
        head = (announced, entries_of(lines)[announced - 1]["hash"])
        report = verify_journal(case, expected_head=recorded, announced=head)
        assert report.status is JournalStatus.TAMPERED
        assert problems(report) == [("inserted", N - 2, N - 1)]


def test_an_interruption_does_not_hide_other_problems(case: Path) -> None:
    lines = read_lines(case)
    recorded = (N - 1, entries_of(lines)[N - 2]["hash"])
    announced = (N, entries_of(lines)[N - 1]["hash"])
    edited = entries_of(lines)[2]
    edited["details"]["rows"] = 99
    lines[2] = line_of(edited)
    write_lines(case, lines)
    report = verify_journal(case, expected_head=recorded, announced=announced)
    assert report.status is JournalStatus.TAMPERED
    assert problems(report) == [("edited", 2, 3)]
    assert report.interrupted is not None and report.interrupted.index == N - 1


def test_an_announced_entry_never_written_is_an_interruption(case: Path) -> None:
    recorded = Journal(case).head()
    announced = (N + 1, "c" * 64)
    report = verify_journal(case, expected_head=recorded, announced=announced)
    assert report.status is JournalStatus.INTERRUPTED
    note = report.interrupted
    assert note is not None and not note.written
    assert (note.index, note.line, note.hash) == (N, None, "c" * 64)
    assert "never written" in note.describe()


def test_an_announcement_no_interruption_explains_is_tampering(case: Path) -> None:
    recorded = Journal(case).head()
    for announced in ((N + 2, "c" * 64), (N - 1, "c" * 64), (N, "c" * 64)):
        report = verify_journal(case, expected_head=recorded, announced=announced)
        assert report.status is JournalStatus.TAMPERED, announced
        assert problems(report) == [("edited", None, None)]


def test_a_cut_tail_stays_truncation_whatever_was_announced(case: Path) -> None:
    recorded = Journal(case).head()
    write_lines(case, read_lines(case)[:-1])
    report = verify_journal(case, expected_head=recorded, announced=recorded)
    assert problems(report) == [("truncated", N - 1, None)]


def test_a_torn_announced_line_is_truncation(case: Path) -> None:
    # The documented limit: a line cut inside (power loss during the write) is not accepted as
    # an interruption; the chain cannot tell a torn write from a cut file.
    lines = read_lines(case)
    recorded = (N - 1, entries_of(lines)[N - 2]["hash"])
    announced = (N, entries_of(lines)[N - 1]["hash"])
    write_lines(case, [*lines[:-1], lines[-1][:50]])
    report = verify_journal(case, expected_head=recorded, announced=announced)
    assert report.status is JournalStatus.TAMPERED
    assert ("truncated", None, N) in problems(report)


def test_missing_journal_of_an_empty_case_is_an_interrupted_creation(tmp_path: Path) -> None:
    (tmp_path / "case.duckdb").write_bytes(b"")
    nothing = (0, GENESIS_PREV)
    for announced in (None, (1, "d" * 64)):
        report = verify_journal(
            tmp_path, expected_head=nothing, announced=announced, case_empty=True
        )
        assert report.status is JournalStatus.INTERRUPTED
        assert report.problems == []
        assert report.interrupted is not None and report.interrupted.index == 0
        assert "creating the case was interrupted" in report.interrupted.message


def test_missing_journal_of_a_case_with_a_head_or_data_is_deleted(tmp_path: Path) -> None:
    (tmp_path / "case.duckdb").write_bytes(b"")
    nothing = (0, GENESIS_PREV)
    for head, announced, empty in [
        (nothing, None, False),  # the case holds data
        ((1, "a" * 64), (1, "a" * 64), True),  # the case recorded an entry
        (nothing, (2, "a" * 64), True),  # an announcement no creation explains
    ]:
        report = verify_journal(tmp_path, expected_head=head, announced=announced, case_empty=empty)
        assert report.status is JournalStatus.TAMPERED
        assert problems(report) == [("deleted", None, None)]


def test_entries_in_a_case_that_recorded_none_are_inserted(case: Path) -> None:
    report = verify_journal(case, expected_head=(0, GENESIS_PREV))
    assert problems(report) == [("inserted", 0, 1)]


def test_statuses_are_the_documented_names() -> None:
    assert {status.value for status in JournalStatus} == {"intact", "interrupted", "tampered"}
