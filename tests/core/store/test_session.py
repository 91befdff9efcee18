"""The examination API journals each examiner call itself, once, with its origin (issue 11.1)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.errors import UsageError
from auditlens.core.store.case import read_journal_record
from auditlens.core.store.journal import JournalStatus, verify_journal
from auditlens.core.store.queries import EventQuery
from auditlens.core.store.session import Examination
from auditlens.core.verify.trust import load_trust

SAMPLE = Path(__file__).resolve().parents[3] / "resources" / "samples" / "contact-center"


def entries(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "journal.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("session") / "case"
    bundles = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())
    with Examination.open(folder, origin="cli", create=True) as session:
        for _ in session.import_evidence(bundles, load_trust(SAMPLE / "truststore.json")):
            pass
    return folder


def test_an_unknown_origin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Examination.open(tmp_path / "case", origin="script", create=True)
    assert not (tmp_path / "case").exists()


def test_creation_and_imports_are_journaled_with_the_origin(case_dir: Path) -> None:
    journal = entries(case_dir)
    assert [e["action"] for e in journal[:4]] == ["case_created", "import", "import", "import"]
    assert {e["details"]["origin"] for e in journal} == {"cli"}


def test_each_call_is_one_entry_and_pages_are_none(case_dir: Path) -> None:
    before = len(entries(case_dir))
    with Examination.open(case_dir, origin="workbench") as session:
        view = session.apply(EventQuery("action:READ"), via="filter")
        for offset in range(0, view.count, 50):  # scrolling
            view.rows(offset, 50)
        session.apply(EventQuery("action:READ"), sort=("actor_id", True), via="sort")
        actors = session.actors()
        session.trace("0" * 32)
        overview = session.integrity()
        session.stats()
        session.overview_histogram(EventQuery("action:READ"))  # drawn with the filter: no entry
        session.completion_values()  # typing help: no entry
    added = entries(case_dir)[before:]
    assert [(e["action"], e["details"].get("command")) for e in added] == [
        ("query", "filter"),
        ("query", "filter"),
        ("query", "actors"),
        ("query", "trace"),
        ("query", "integrity"),
        ("query", "stats"),
    ]
    assert {e["details"]["origin"] for e in added} == {"workbench"}
    first, sort = added[0]["details"], added[1]["details"]
    assert (first["filter"], first["via"], first["matches"]) == (
        "action:READ",
        "filter",
        view.count,
    )
    assert sort["sort"] == {"column": "actor_id", "descending": True}
    assert added[2]["details"]["rows"] == len(actors)
    assert added[4]["details"]["bundles"] == len(overview.bundles) == 3
    assert all(e["details"].get("digest", "sha256:").startswith("sha256:") for e in added)


def test_a_proof_is_journaled_with_its_outcome_and_the_journal_verifies(case_dir: Path) -> None:
    with Examination.open(case_dir, origin="workbench") as session:
        (event,) = session.events(EventQuery("seq:500"), limit=1)
        proof = session.prove(event)
    assert proof.verified
    last = entries(case_dir)[-1]
    assert last["action"] == "prove"
    assert (last["details"]["seq"], last["details"]["verified"]) == (500, True)
    assert last["details"]["root"] == proof.root
    record = read_journal_record(case_dir)
    assert record is not None
    report = verify_journal(
        case_dir, expected_head=record.head, announced=record.announced, case_empty=record.empty
    )
    assert report.status is JournalStatus.INTACT


def test_a_reader_works_on_its_own_cursor_and_closes_alone(case_dir: Path) -> None:
    with Examination.open(case_dir, origin="workbench") as session:
        reader = session.reader()
        assert reader.counts() == session.counts()
        reader.close()
        reader.interrupt()  # closed: nothing to stop, no error
        assert session.counts().events > 0  # the examination's own connection is untouched


def test_an_import_records_the_trust_store_keys_and_absolute_input_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditlens.core.store.case import Case
    from auditlens.core.store.queries import trust_used

    bundle = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())[0]
    monkeypatch.chdir(bundle.parent)
    store_file = SAMPLE / "truststore.json"
    with Examination.open(tmp_path / "case", origin="cli", create=True) as session:
        for _ in session.import_evidence([Path(bundle.name)], load_trust(store_file)):
            pass
    with Case.open(tmp_path / "case", read_only=True) as case:
        (path,) = case.db.execute("SELECT path FROM inputs").fetchone()
        keys = trust_used(case)
    # Given relative, recorded absolute: the report can find the input again from anywhere.
    assert path == str(bundle)
    document = json.loads(store_file.read_text())["keys"][0]
    (key,) = keys
    assert key["key_id"] == document["key_id"]
    assert key["owner"] == document["owner"] and key["obtained"] == document["obtained"]
    assert key["public_key"] == document["public_key"]
    import hashlib

    assert key["sources"] == [
        {"path": str(store_file), "sha256": hashlib.sha256(store_file.read_bytes()).hexdigest()}
    ]


def test_a_cancel_waits_for_a_journal_append_under_way(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Cancel landing while a reader journals falls after the append, not on its head write.

    The workbench cancels a reader (say, the witnesses of the row left) while that reader
    journals its read. Interrupted there, the line was written and the head never recorded:
    every later append of the session was refused ("the journal ends at entry N but the case
    recorded N entries").
    """
    from auditlens.core.store.case import Case

    inside, release = threading.Event(), threading.Event()
    record_head = Case._record_head

    def slow_record_head(self: Case, entry: Any, input_id: int | None) -> None:
        inside.set()
        assert release.wait(30)
        record_head(self, entry, input_id)

    with Examination.open(case_dir, origin="workbench") as session:
        reader = session.reader()
        monkeypatch.setattr(Case, "_record_head", slow_record_head)
        journaling = threading.Thread(target=reader.stats)  # a journaled read, on a worker
        journaling.start()
        assert inside.wait(30)
        cancel = threading.Thread(target=reader.interrupt)
        cancel.start()
        cancel.join(0.5)
        waited = cancel.is_alive()  # still waiting for the append to finish
        release.set()
        journaling.join(30)
        cancel.join(30)
        monkeypatch.undo()
        reader.close()
        assert waited
        session.stats()  # the next append is accepted: the head was recorded
    record = read_journal_record(case_dir)
    assert record is not None
    report = verify_journal(
        case_dir, expected_head=record.head, announced=record.announced, case_empty=record.empty
    )
    assert report.status is JournalStatus.INTACT


def test_a_cancel_that_waited_for_an_append_finds_the_read_closed_and_does_nothing(
    case_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read journals, ends and closes while the Cancel waits: nothing to stop, no error."""
    from auditlens.core.store.case import Case

    inside, release = threading.Event(), threading.Event()
    record_head = Case._record_head
    errors: list[BaseException] = []

    with Examination.open(case_dir, origin="workbench") as session:
        reader = session.reader()

        def record_then_close(self: Case, entry: Any, input_id: int | None) -> None:
            inside.set()
            assert release.wait(30)
            record_head(self, entry, input_id)
            reader.close()  # the job's end, before the waiting Cancel gets its turn

        def cancel() -> None:
            try:
                reader.interrupt()
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        monkeypatch.setattr(Case, "_record_head", record_then_close)
        journaling = threading.Thread(target=reader.stats)
        journaling.start()
        assert inside.wait(30)
        cancelling = threading.Thread(target=cancel)
        cancelling.start()
        release.set()
        journaling.join(30)
        cancelling.join(30)
        monkeypatch.undo()
        assert errors == []
        session.stats()
