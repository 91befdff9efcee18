"""An input committed but not journaled (process killed in between) is journaled on next open."""

import json
from pathlib import Path

import pytest

from auditlens.core.store import importer as importer_module
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.journal import verify_journal
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
