"""Decoded rows come back from the workers as files in a spool folder, mapped into memory.

The rows stored must be those of an import decoded in this process; the spool folder must be
gone after the import, whether it ended, was stopped or dropped decoding it had started; and a
spool that cannot be written sends the rows through the pipe instead.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.errors import CancelledError, StorageError
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


def test_spools_left_by_processes_that_died_are_removed_by_the_next_spool(
    spool_parent: Path,
) -> None:
    """A spool is abandoned when nobody holds its lock (its process died, whatever its pid);
    one without a lock file only after a grace period (it may be in the making)."""
    prefix = importer_module.SPOOL_PREFIX

    def folder(name: str, *, lock: bool) -> Path:
        made = spool_parent / f"{prefix}{name}"
        made.mkdir()
        (made / "1-rows.arrow").write_bytes(b"rows never read")
        if lock:
            (made / importer_module.Spool.LOCK).touch()
        return made

    dead = folder("dead", lock=True)
    alive = folder("alive", lock=True)
    held = os.open(alive / importer_module.Spool.LOCK, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    fresh = folder("fresh", lock=False)
    stale = folder("stale", lock=False)
    old = time.time() - importer_module.SPOOL_UNLOCKED_GRACE - 60
    os.utime(stale, (old, old))
    other = spool_parent / "someone-else"
    other.mkdir()
    try:
        spool = importer_module.Spool()
        made = Path(spool.path)
        assert made.parent == spool_parent and made.name.startswith(prefix)
        left = sorted(p.name for p in spool_parent.iterdir())
        assert left == sorted([alive.name, fresh.name, other.name, made.name])
        assert not dead.exists() and not stale.exists()
        # Held by its owner: a second spool leaves it alone; once removed, it is gone.
        second = importer_module.Spool()
        assert made.exists()
        spool.remove()
        second.remove()
        assert not made.exists()
    finally:
        os.close(held)


def test_decoding_whose_rows_are_not_read_leaves_no_file(tmp_path: Path) -> None:
    """Dropped decoding (a replay found at its turn, an input stopped): a task not started is
    cancelled, the file of one that ran is removed once it is done."""
    data = (RAW / "audit-2026-03-02.jsonl").read_bytes()
    task = DecodeTask(
        "raw:audit",
        None,
        "audit",
        1,
        1,
        "unsealed",
        (str(profiles_dir()),),
        data=data,
        spool=str(tmp_path),
    )
    gate = threading.Event()
    started = threading.Event()

    def slow(task: DecodeTask) -> Any:
        started.set()
        gate.wait(10)
        return decode_task(task)

    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(decode_task, task)
        done.result()
        running = pool.submit(slow, task)
        queued = pool.submit(decode_task, task)
        assert started.wait(10)  # running, not only submitted: it cannot be cancelled any more
        assert len(list(tmp_path.glob("*.arrow"))) == 1
        importer_module._discard([done, running, queued])
        assert queued.cancelled()
        assert list(tmp_path.glob("*.arrow")) == []  # the finished one's file went at once
        gate.set()
        running.result()
    assert list(tmp_path.iterdir()) == []  # the running one's file went when it was done


def test_without_a_usable_temporary_folder_rows_come_through_the_pipe(
    tmp_path: Path, bundles: list[Path], spool_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    trust = load_trust(SAMPLE / "truststore.json")
    with Case.open(tmp_path / "reference", create=True) as case:
        run(Importer(case, trust, workers=1).run(bundles[:2]))
        expected = case.db.execute(EVENTS).fetchall()
    with Case.open(tmp_path / "case", create=True) as case:
        report = run(Importer(case, trust, workers=2).run(bundles[:2]))
        assert case.db.execute(EVENTS).fetchall() == expected
    assert [r.records > 0 for r in report.inputs] == [True, True]
    assert not (tmp_path / "missing").exists()


def test_rows_gone_from_the_spool_are_a_clear_error(
    tmp_path: Path, bundles: list[Path], spool_parent: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = importer_module.read_table

    def vanish(result: Any) -> Any:
        if result.path is not None:
            Path(result.path).unlink()  # as if someone cleaned the temporary folder
        return original(result)

    monkeypatch.setattr(importer_module, "read_table", vanish)
    trust = load_trust(SAMPLE / "truststore.json")
    with Case.open(tmp_path / "case", create=True) as case:
        with pytest.raises(StorageError, match="could not be read back from the temporary folder"):
            run(Importer(case, trust, workers=2).run(bundles[:1]))
        assert case.scalar("SELECT count(*) FROM events") == 0
    assert list(spool_parent.iterdir()) == []
