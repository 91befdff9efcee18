"""Interrupted journaling: what ``journal verify`` says, and what the next open records.

An input committed but not journaled (process killed in between) is journaled on the next open;
an entry written but not recorded by the case, or announced and never written, is an interruption
(not tampering) and the next open records it; nothing else is ever made to look intact.
"""

import json
from pathlib import Path

import duckdb
import pytest

from auditlens.core.store import importer as importer_module
from auditlens.core.store import journal as journal_module
from auditlens.core.store.case import Case, read_journal_record
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.journal import (
    GENESIS_PREV,
    Journal,
    JournalError,
    JournalReport,
    JournalStatus,
    verify_journal,
)
from auditlens.core.verify.trust import TrustStore


class Killed(BaseException):
    """Stands for SIGKILL between the database commit and the journal append."""


def drive(job):
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def audit_file(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {
                    "timestamp": f"2026-03-02T08:00:{i:02d}.000Z",
                    "user_id": f"u{i}",
                    "action": "READ",
                }
            )
            + "\n"
            for i in range(count)
        )
    )
    return path


def journal_entries(case_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (case_dir / "journal.jsonl").read_text().splitlines()]


def test_committed_but_unjournaled_input_is_journaled_on_next_open(tmp_path, monkeypatch):
    case_dir = tmp_path / "case"
    first = audit_file(tmp_path / "a.jsonl", 3)
    second = audit_file(tmp_path / "b.jsonl", 4)
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [first], TrustStore()))

    def killed(self, action, input_id, details):
        raise Killed()

    monkeypatch.setattr(Case, "journal_input", killed)
    with Case.open(case_dir) as case, pytest.raises(Killed):
        drive(import_inputs(case, [second], TrustStore()))
    monkeypatch.undo()

    before = [e["action"] for e in journal_entries(case_dir)]
    assert before == ["import"]  # the second input is in the database but not in the journal
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM events") == 7
        head = case.journal_head()
    entries = journal_entries(case_dir)
    assert [e["action"] for e in entries] == ["import", "import_recovered"]
    recovered = entries[-1]["details"]["inputs"][0]
    assert recovered["path"] == str(second)
    assert recovered["events"] == 4
    assert verify_journal(case_dir, expected_head=head).ok
    # Opening again adds nothing more.
    with Case.open(case_dir):
        pass
    assert len(journal_entries(case_dir)) == 2


def test_importer_module_journals_every_committed_input(tmp_path):
    case_dir = tmp_path / "case"
    files = [audit_file(tmp_path / f"{n}.jsonl", count) for count, n in enumerate("xyz", start=1)]
    with Case.open(case_dir, create=True) as case:
        report = drive(importer_module.import_inputs(case, files, TrustStore()))
    ids = [r.input_id for r in report.inputs]
    assert ids == [1, 2, 3]
    entries = journal_entries(case_dir)
    assert [e["details"]["input_id"] for e in entries if e["action"] == "import"] == ids


def verify(case_dir: Path) -> JournalReport:
    """``journal verify`` as the CLI runs it: with what the case database recorded, read-only."""
    record = read_journal_record(case_dir)
    assert record is not None
    return verify_journal(
        case_dir,
        expected_head=record.head,
        announced=record.announced,
        case_empty=record.empty,
    )


def imported_once(case_dir: Path) -> list[int]:
    """The input ids the journal names, in order (each must appear once)."""
    return [
        e["details"]["input_id"]
        for e in journal_entries(case_dir)
        if e["action"] in ("import", "import_recovered")
    ]


def test_an_entry_written_but_not_recorded_is_an_interruption_then_recorded(tmp_path, monkeypatch):
    case_dir = tmp_path / "case"
    first = audit_file(tmp_path / "a.jsonl", 3)
    second = audit_file(tmp_path / "b.jsonl", 4)
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [first], TrustStore()))
        head_before = case.journal_head()

    def killed(self, entry, input_id):
        raise Killed()

    monkeypatch.setattr(Case, "_record_head", killed)
    with Case.open(case_dir) as case, pytest.raises(Killed):
        drive(import_inputs(case, [second], TrustStore()))
    monkeypatch.undo()

    written = journal_entries(case_dir)[-1]
    assert (written["action"], written["details"]["input_id"]) == ("import", 2)
    report = verify(case_dir)
    assert report.status is JournalStatus.INTERRUPTED and report.problems == []
    assert report.interrupted is not None
    assert (report.interrupted.index, report.interrupted.hash) == (1, written["hash"])
    with Case.open(case_dir, read_only=True) as case:
        assert case.journal_head() == head_before  # verifying changed nothing

    with Case.open(case_dir) as case:
        head = case.journal_head()
    entries = journal_entries(case_dir)
    assert [e["action"] for e in entries] == ["import", "import", "journal_recovered"]
    assert entries[2]["details"]["entry"] == 1 and entries[2]["details"]["written"] is True
    assert imported_once(case_dir) == [1, 2]  # not journaled again as import_recovered
    assert head == (3, entries[2]["hash"])
    assert verify(case_dir).status is JournalStatus.INTACT


def test_an_entry_announced_but_never_written_is_an_interruption_then_recorded(
    tmp_path, monkeypatch
):
    case_dir = tmp_path / "case"
    first = audit_file(tmp_path / "a.jsonl", 3)
    second = audit_file(tmp_path / "b.jsonl", 4)
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [first], TrustStore()))

    def killed(fd, line, size, path):
        raise Killed()

    monkeypatch.setattr(journal_module, "_write_line", killed)
    with Case.open(case_dir) as case, pytest.raises(Killed):
        drive(import_inputs(case, [second], TrustStore()))
    monkeypatch.undo()

    assert [e["action"] for e in journal_entries(case_dir)] == ["import"]
    report = verify(case_dir)
    assert report.status is JournalStatus.INTERRUPTED
    assert report.interrupted is not None and not report.interrupted.written

    with Case.open(case_dir):
        pass
    entries = journal_entries(case_dir)
    assert [e["action"] for e in entries] == ["import", "journal_recovered", "import_recovered"]
    assert entries[1]["details"]["written"] is False
    assert entries[1]["details"]["hash"] == report.interrupted.hash
    assert imported_once(case_dir) == [1, 2]
    assert verify(case_dir).status is JournalStatus.INTACT


def test_an_interrupted_creation_is_journaled_at_the_next_open(tmp_path):
    case_dir = tmp_path / "case"
    Case.open(case_dir, create=True).close()  # created, never journaled
    assert not (case_dir / "journal.jsonl").exists()
    record = read_journal_record(case_dir)
    assert record is not None and record.empty and record.head == (0, GENESIS_PREV)
    assert verify(case_dir).status is JournalStatus.INTERRUPTED
    with Case.open(case_dir):
        pass
    entries = journal_entries(case_dir)
    assert [e["action"] for e in entries] == ["case_created"]
    assert "creation was interrupted" in entries[0]["details"]["note"]
    assert verify(case_dir).status is JournalStatus.INTACT
    with Case.open(case_dir):
        pass
    assert len(journal_entries(case_dir)) == 1


def test_a_database_without_tables_reads_as_an_empty_case(tmp_path):
    case_dir = tmp_path / "case"
    case_dir.mkdir()
    duckdb.connect(str(case_dir / "case.duckdb")).close()  # killed before the schema existed
    record = read_journal_record(case_dir)
    assert record is not None and record.empty and record.announced is None
    assert verify(case_dir).status is JournalStatus.INTERRUPTED


@pytest.mark.parametrize("tamper", ["appended", "cut", "deleted"])
def test_opening_for_writing_never_makes_a_tampered_journal_intact(tmp_path, tamper):
    case_dir = tmp_path / "case"
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [audit_file(tmp_path / "a.jsonl", 3)], TrustStore()))
        case.journal("query", {"command": "stats"})
        head = case.journal_head()
    path = case_dir / "journal.jsonl"
    if tamper == "appended":
        Journal(case_dir).append("note", {"text": "written outside AuditLens"})
    elif tamper == "cut":
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:-1]))
    else:
        path.unlink()
    before = path.read_bytes() if path.exists() else None
    assert verify(case_dir).status is JournalStatus.TAMPERED

    with Case.open(case_dir) as case:
        with pytest.raises(JournalError) as caught:
            case.journal("query", {"command": "events"})
        assert "refusing to" in caught.value.message
        assert "auditlens journal verify" in caught.value.message
        assert case.journal_head() == head
    assert (path.read_bytes() if path.exists() else None) == before
    assert verify(case_dir).status is JournalStatus.TAMPERED


def test_an_unjournaled_input_in_a_tampered_case_refuses_the_open(tmp_path, monkeypatch):
    case_dir = tmp_path / "case"
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [audit_file(tmp_path / "a.jsonl", 3)], TrustStore()))

    def killed(self, action, input_id, details):
        raise Killed()

    monkeypatch.setattr(Case, "journal_input", killed)
    with Case.open(case_dir) as case, pytest.raises(Killed):
        drive(import_inputs(case, [audit_file(tmp_path / "b.jsonl", 2)], TrustStore()))
    monkeypatch.undo()
    (case_dir / "journal.jsonl").unlink()
    with pytest.raises(JournalError):
        Case.open(case_dir)
    assert not (case_dir / "journal.jsonl").exists()


def test_inputs_without_any_journal_are_not_journaled_as_if_nothing_happened(tmp_path, monkeypatch):
    # Only possible through the API (the CLI and the workbench journal the creation first): an
    # input committed, then the first journal append killed. `journal verify` says the journal
    # was deleted, and the next open must not start a fresh journal that looks intact.
    case_dir = tmp_path / "case"

    def killed(self, action, input_id, details):
        raise Killed()

    monkeypatch.setattr(Case, "journal_input", killed)
    with Case.open(case_dir, create=True) as case, pytest.raises(Killed):
        drive(import_inputs(case, [audit_file(tmp_path / "a.jsonl", 2)], TrustStore()))
    monkeypatch.undo()
    report = verify(case_dir)
    assert report.status is JournalStatus.TAMPERED
    assert [p.kind.value for p in report.problems] == ["deleted"]
    with pytest.raises(JournalError):
        Case.open(case_dir)
    assert not (case_dir / "journal.jsonl").exists()
    assert verify(case_dir).status is JournalStatus.TAMPERED


def test_journal_verify_names_inputs_committed_but_not_yet_journaled(tmp_path, monkeypatch, cli):
    case_dir = tmp_path / "case"
    first = audit_file(tmp_path / "a.jsonl", 3)
    second = audit_file(tmp_path / "b.jsonl", 4)
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [first], TrustStore()))
    done = cli("journal", "verify", case_dir)
    assert done.code == 0 and "not yet named in the journal" not in done.out
    assert read_journal_record(case_dir).unjournaled == ()

    def killed(self, action, input_id, details):
        raise Killed()

    monkeypatch.setattr(Case, "journal_input", killed)
    with Case.open(case_dir) as case, pytest.raises(Killed):
        drive(import_inputs(case, [second], TrustStore()))
    monkeypatch.undo()

    record = read_journal_record(case_dir)
    assert [path for _, path in record.unjournaled] == [str(second)]
    done = cli("journal", "verify", case_dir)
    assert done.code == 0, done.out  # the entries themselves are intact
    assert done.out.startswith("journal intact")
    assert "1 input(s) committed to the case but not yet named in the journal" in done.out
    assert f"input {record.unjournaled[0][0]}: {second}" in done.out
    with Case.open(case_dir):  # the next open journals it as import_recovered
        pass
    assert read_journal_record(case_dir).unjournaled == ()
    done = cli("journal", "verify", case_dir)
    assert done.code == 0 and "not yet named in the journal" not in done.out


class _InterruptedAfterCommit:
    """The case's connection, with Ctrl+C arriving just after an input's commit returned."""

    def __init__(self, db):
        self._db = db

    def commit(self):
        self._db.commit()
        raise KeyboardInterrupt

    def __getattr__(self, name):
        return getattr(self._db, name)


def test_ctrl_c_after_the_commit_is_the_interruption_and_the_input_is_recovered(tmp_path):
    case_dir = tmp_path / "case"
    first = audit_file(tmp_path / "a.jsonl", 3)
    second = audit_file(tmp_path / "b.jsonl", 4)
    with Case.open(case_dir, create=True) as case:
        drive(import_inputs(case, [first], TrustStore()))
    with Case.open(case_dir) as case:
        case.db = _InterruptedAfterCommit(case.db)
        # Not DuckDB's "cannot rollback - no transaction is active" from undoing a commit.
        with pytest.raises(KeyboardInterrupt):
            drive(import_inputs(case, [second], TrustStore()))
        case.db = case.db._db
    with Case.open(case_dir) as case:
        assert case.scalar("SELECT count(*) FROM events") == 7
    entries = journal_entries(case_dir)
    assert [e["action"] for e in entries] == ["import", "import_recovered"]
    assert entries[-1]["details"]["inputs"][0]["path"] == str(second)
