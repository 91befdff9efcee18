"""Decoded rows come back from the workers as files in a spool folder, mapped into memory.

The rows stored must be those of an import decoded in this process; the spool folder must be
gone after the import, whether it ended, was stopped or dropped decoding it had started; and a
spool that cannot be written sends the rows through the pipe instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.errors import CancelledError
from auditlens.core.progress import CancelToken
from auditlens.core.resources import profiles_dir, sample_case_dir
from auditlens.core.sample.case import sample_signing_key
from auditlens.core.store import importer as importer_module
from auditlens.core.store.case import Case
from auditlens.core.store.decode import DecodeTask, decode_task, read_table
from auditlens.core.store.importer import Importer
from auditlens.core.verify.trust import load_trust
from golden.make_golden import run

SAMPLE = sample_case_dir()
RAW = SAMPLE / "raw" / "audit"
EVENTS = "SELECT * FROM events ORDER BY input_id, seq"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("spool-bundles")
    key = sample_signing_key()
    first, second = root / "cc-prod.audit-a", root / "cc-prod.audit-b"
    run(seal([RAW / "audit-2026-03-02.jsonl"], key, first, checkpoint_every=16))
    run(seal([RAW / "audit-2026-03-03.jsonl"], key, second, previous=first, checkpoint_every=16))
    return [first, second, first]  # the third is a replay: decoding started for it is dropped


@pytest.fixture
def spool_parent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the spool is made in; small inputs decoded in workers."""
    parent = tmp_path / "tmp"
    parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(parent))
    monkeypatch.setattr(importer_module, "PARALLEL_MIN_RECORDS", 1)
    monkeypatch.setattr(importer_module, "DECODE_TASK_BYTES", 1)
    return parent


def test_spooled_rows_are_the_rows_and_the_spool_is_removed(
    tmp_path: Path, bundles: list[Path], spool_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust = load_trust(SAMPLE / "truststore.json")
    with Case.open(tmp_path / "reference", create=True) as case:
        run(Importer(case, trust, workers=1).run(bundles))
        expected = case.db.execute(EVENTS).fetchall()
    spooled: list[str] = []
    original = importer_module.read_table

    def spy(result: Any) -> Any:
        if result.path is not None:
            assert Path(result.path).parent.parent == spool_parent
            spooled.append(result.path)
        table = original(result)
        if result.path is not None:
            assert not Path(result.path).exists()  # removed once mapped
        return table

    monkeypatch.setattr(importer_module, "read_table", spy)
    with Case.open(tmp_path / "case", create=True) as case:
        report = run(Importer(case, trust, workers=2).run(bundles))
        stored = case.db.execute(EVENTS).fetchall()
    assert [r.replay for r in report.inputs] == [False, False, True]
    assert stored == expected
    assert len(spooled) == -(-report.inputs[0].records // 16) + -(-report.inputs[1].records // 16)
    assert list(spool_parent.iterdir()) == []


def test_a_stopped_import_leaves_no_spool(
    tmp_path: Path, bundles: list[Path], spool_parent: Path
) -> None:
    token = CancelToken()
    trust = load_trust(SAMPLE / "truststore.json")
    with Case.open(tmp_path / "case", create=True) as case:
        job = Importer(case, trust, token=token, workers=2).run(bundles)
        with pytest.raises(CancelledError):
            for progress in job:
                if progress.stage == "indexing":
                    token.cancel()
        assert case.scalar("SELECT count(*) FROM events") == 0
    assert list(spool_parent.iterdir()) == []


def test_a_spool_that_cannot_be_written_sends_the_rows_through_the_pipe(tmp_path: Path) -> None:
    data = (RAW / "audit-2026-03-02.jsonl").read_bytes()
    count = data.count(b"\n")
    fields: dict[str, Any] = {
        "stream_id": "raw:audit",
        "bundle_id": None,
        "file_label": "audit-2026-03-02.jsonl",
        "first_line": 1,
        "first_seq": 1,
        "base_integrity": "unsealed",
        "profile_dirs": (str(profiles_dir()),),
        "data": data,
    }
    plain = decode_task(DecodeTask(**fields))
    assert plain.path is None and plain.count == count
    spooled = decode_task(DecodeTask(**fields, spool=str(tmp_path)))
    assert spooled.path is not None and spooled.ipc == b""
    missing = decode_task(DecodeTask(**fields, spool=str(tmp_path / "gone")))
    assert missing.path is None and missing.ipc
    expected = read_table(plain)
    assert read_table(spooled).equals(expected)
    assert read_table(missing).equals(expected)
    assert list(tmp_path.iterdir()) == []


def test_spools_of_processes_that_died_are_removed_by_the_next_import(
    spool_parent: Path,
) -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = spool_parent / f"{importer_module.SPOOL_PREFIX}{int(finished.stdout)}-abc"
    dead.mkdir()
    (dead / "1-0.arrow").write_bytes(b"rows never read")
    alive = spool_parent / f"{importer_module.SPOOL_PREFIX}{os.getppid()}-def"
    alive.mkdir()
    other = spool_parent / "someone-else"
    other.mkdir()
    made = Path(importer_module.new_spool())
    assert made.parent == spool_parent and made.name.startswith(
        f"{importer_module.SPOOL_PREFIX}{os.getpid()}-"
    )
    assert sorted(p.name for p in spool_parent.iterdir()) == sorted(
        [alive.name, other.name, made.name]
    )
