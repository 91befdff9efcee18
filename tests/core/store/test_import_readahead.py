"""The importer reads the next input ahead (hash, then verify) while the current one is stored.

What was read ahead must be exactly what the input's own turn would have found: the same digest,
the same verdict and findings, and a refusal when the evidence changed after it was read.
Cancelling stops the read-ahead thread with the job. A bundle folder's record files are hashed
while it is verified, yet every file is still hashed before anything parses it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle import envelope as envelope_module
from auditlens.core.bundle import manifest as manifest_module
from auditlens.core.bundle.seal import seal
from auditlens.core.errors import CancelledError, InvalidInputError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.resources import sample_case_dir
from auditlens.core.sample.case import sample_signing_key
from auditlens.core.store import importer as importer_module
from auditlens.core.store.case import Case
from auditlens.core.store.importer import Importer, ImportReport
from auditlens.core.verify.steps import manifest as manifest_step
from auditlens.core.verify.trust import load_trust
from auditlens.core.verify.verifier import BundleVerifier
from golden.make_golden import run

SAMPLE = sample_case_dir()
BUNDLES = SAMPLE / "bundles"
LOGS_ZIP = sorted((BUNDLES / "cc-prod.otel-logs").iterdir())[0]
TRACES_TAR = sorted((BUNDLES / "cc-prod.otel-traces").iterdir())[0]
AUDIT_DIR = sorted((BUNDLES / "cc-prod.audit").iterdir())[0]
AUDIT_RECORD = {
    "timestamp": "2026-03-03T10:00:00.123Z",
    "user_id": "sup-004",
    "action": "EXPORT",
    "resource": "contact",
    "resource_id": "ct-1",
}


def folder_sha256(path: Path) -> str:
    listing = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file()):
        digest = hashlib.sha256(item.read_bytes()).hexdigest()
        listing.update(item.relative_to(path).as_posix().encode() + b"\0" + digest.encode() + b"\n")
    return listing.hexdigest()


def sha256_of(path: Path) -> str:
    return folder_sha256(path) if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()


def raw_audit(path: Path, count: int = 3) -> Path:
    """Audit JSON lines, different for every file name (identical files would be replays)."""
    lines = (json.dumps({**AUDIT_RECORD, "resource_id": f"{path.stem}-{i}"}) for i in range(count))
    path.write_text("".join(line + "\n" for line in lines))
    return path


def readahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("auditlens-hash")]


def test_inputs_read_ahead_get_the_digest_and_verdict_of_their_own_turn(tmp_path: Path) -> None:
    raw = raw_audit(tmp_path / "audit.jsonl")
    inputs = [AUDIT_DIR, LOGS_ZIP, raw, TRACES_TAR]
    trust = load_trust(SAMPLE / "truststore.json")
    ahead: list[Path] = []
    original = importer_module._digest_ahead

    def spy(path: Path, token: CancelToken, trust_store: Any) -> Any:
        ahead.append(path)
        return original(path, token, trust_store)

    importer_module._digest_ahead = spy  # type: ignore[assignment]
    try:
        with Case.open(tmp_path / "case", create=True) as case:
            report: ImportReport = run(Importer(case, trust, workers=1).run(inputs))
    finally:
        importer_module._digest_ahead = original  # type: ignore[assignment]
    # Every input after the first was read ahead (the test is about them).
    assert ahead == inputs[1:]
    assert [r.sha256 for r in report.inputs] == [sha256_of(p) for p in inputs]
    for path, result in zip(inputs, report.inputs, strict=True):
        if path == raw:
            assert (result.kind, result.verdict.value, result.records) == ("raw", "unsealed", 3)
            continue
        own = run(BundleVerifier(path, trust, token=CancelToken(), workers=1).run())
        assert result.verdict == own.verdict
        assert [(f.code, f.path, f.line) for f in result.findings] == [
            (f.code, f.path, f.line) for f in own.findings
        ]
        assert own.manifest is not None
        assert result.records == own.manifest.count


def test_evidence_changed_after_it_was_read_ahead_is_refused(tmp_path: Path) -> None:
    first = raw_audit(tmp_path / "first.jsonl")
    second = raw_audit(tmp_path / "second.jsonl")
    trust = load_trust(SAMPLE / "truststore.json")
    with Case.open(tmp_path / "case", create=True) as case:
        importer = Importer(case, trust, workers=1)
        job = importer.run([first, second])
        changed = False
        with pytest.raises(InvalidInputError, match="changed while it was being imported"):
            for progress in job:
                if not changed and progress.stage == "importing" and progress.done == 1:
                    # The second input was hashed ahead; now it changes before its turn.
                    assert importer._ahead[second].result() is not None
                    with second.open("a") as handle:
                        handle.write(json.dumps({**AUDIT_RECORD, "resource_id": "late"}) + "\n")
                    changed = True
        assert changed
        stored = case.db.execute("SELECT path FROM inputs ORDER BY input_id").fetchall()
        events = case.scalar("SELECT count(*) FROM events")
    assert stored == [(str(first),)]
    assert events == 3
    assert readahead_threads() == []


def test_cancelling_stops_the_read_ahead_with_the_job(tmp_path: Path) -> None:
    big = raw_audit(tmp_path / "big.jsonl", count=20_000)
    inputs = [raw_audit(tmp_path / "first.jsonl"), big, AUDIT_DIR]
    token = CancelToken()
    with Case.open(tmp_path / "case", create=True) as case:
        job: Generator[Progress, None, ImportReport] = Importer(
            case, load_trust(SAMPLE / "truststore.json"), token=token, workers=1
        ).run(inputs)
        with pytest.raises(CancelledError):
            for progress in job:
                if progress.stage == "importing" and progress.done == 1:
                    token.cancel()
        assert readahead_threads() == []
        assert case.db.execute("SELECT path FROM inputs").fetchall() == [(str(inputs[0]),)]


def test_a_bundle_folder_is_hashed_file_by_file_before_anything_parses_it(tmp_path: Path) -> None:
    """Its metadata is hashed before verification parses it, its record files (hashed in the
    digest thread, alongside verification) before the first record is decoded."""
    trust = load_trust(SAMPLE / "truststore.json")
    events: list[tuple[str, str, str]] = []  # (what, file name or "", thread name)
    hash_file = importer_module._sha256_file
    parse = manifest_step.strict_json_loads
    decode = importer_module.decode_task

    def spy_hash(path: Path, token: CancelToken) -> tuple[str, int]:
        result = hash_file(path, token)
        events.append(("hashed", path.relative_to(AUDIT_DIR).as_posix(), thread()))
        return result

    def spy_parse(data: bytes, **where: Any) -> Any:
        events.append(("parsed", str(where.get("path")), thread()))
        return parse(data, **where)

    def spy_decode(task: Any) -> Any:
        events.append(("decoded", task.file_label, thread()))
        return decode(task)

    def thread() -> str:
        return threading.current_thread().name

    # Every module that parses bundle metadata holds its own name for the parser.
    parsers = [manifest_step, manifest_module, envelope_module]
    patches: dict[tuple[Any, str], Any] = {
        (importer_module, "_sha256_file"): spy_hash,
        **{(module, "strict_json_loads"): spy_parse for module in parsers},
        (importer_module, "decode_task"): spy_decode,
    }
    originals = {key: getattr(*key) for key in patches}
    for (module, name), spy in patches.items():
        setattr(module, name, spy)
    try:
        with Case.open(tmp_path / "case", create=True) as case:
            report = run(Importer(case, trust, workers=1).run([AUDIT_DIR]))
    finally:
        for (module, name), original in originals.items():
            setattr(module, name, original)
    assert report.inputs[0].sha256 == folder_sha256(AUDIT_DIR)
    assert report.inputs[0].records > 0
    hashed = [name for what, name, _ in events if what == "hashed"]
    files = sorted(p.relative_to(AUDIT_DIR).as_posix() for p in AUDIT_DIR.rglob("*") if p.is_file())
    assert sorted(hashed) == files
    first_parse = next(i for i, e in enumerate(events) if e[0] == "parsed")
    first_decode = next(i for i, e in enumerate(events) if e[0] == "decoded")
    for index, (what, name, thread_name) in enumerate(events):
        if what != "hashed":
            continue
        if name.startswith("data/"):
            assert thread_name.startswith("auditlens-digest")
            assert index < first_decode, name
        else:
            assert index < first_parse, name


class SpyPool:
    """A worker pool that records which decode tasks were submitted, in order."""

    def __init__(self, pool: Any, log: list[tuple[str, str]]) -> None:
        self.pool, self.log = pool, log

    def submit(self, fn: Any, task: Any) -> Any:
        self.log.append(("submitted", task.file_label))
        return self.pool.submit(fn, task)

    def map(self, *args: Any, **kwargs: Any) -> Any:
        return self.pool.map(*args, **kwargs)

    def shutdown(self, *args: Any, **kwargs: Any) -> None:
        self.pool.shutdown(*args, **kwargs)


def test_the_next_bundle_is_decoding_while_one_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once every task of an input is submitted, the next input's first tasks are (its hash and
    verification done): each is decoded once, and the case holds what a plain import gives."""
    key = sample_signing_key()
    raw = SAMPLE / "raw" / "audit"
    first, second = tmp_path / "cc-prod.audit-a", tmp_path / "cc-prod.audit-b"
    run(seal([raw / "audit-2026-03-02.jsonl"], key, first, checkpoint_every=16))
    run(seal([raw / "audit-2026-03-03.jsonl"], key, second, previous=first, checkpoint_every=16))
    trust = load_trust(SAMPLE / "truststore.json")
    inputs = [first, second, first]  # the third is a replay: not decoded ahead

    reference_case = tmp_path / "reference"
    with Case.open(reference_case, create=True) as case:
        run(Importer(case, trust, workers=1).run(inputs))
        expected = case.db.execute("SELECT * FROM events ORDER BY input_id, seq").fetchall()

    # Small inputs decoded in workers, one checkpoint (16 records) per task.
    monkeypatch.setattr(importer_module, "PARALLEL_MIN_RECORDS", 1)
    monkeypatch.setattr(importer_module, "DECODE_TASK_BYTES", 1)
    log: list[tuple[str, str]] = []
    pool = importer_module.worker_pool
    monkeypatch.setattr(importer_module, "worker_pool", lambda n: SpyPool(pool(n), log))
    speculate = Importer._speculate
    check = Importer._check_unchanged

    def wait_then_speculate(self: Importer) -> None:
        if self._next_input is not None:
            self._ahead[self._next_input].result()  # the read-ahead is done (timing aside)
        speculate(self)

    def committing(self: Importer, path: Path) -> None:
        log.append(("committing", path.name))
        check(self, path)

    planned: list[str] = []
    plan = Importer._plan

    def planning(self: Importer, container: Any, bundle: Any, manifest: Any) -> Any:
        planned.append(Path(bundle.path).name)
        return plan(self, container, bundle, manifest)

    monkeypatch.setattr(Importer, "_speculate", wait_then_speculate)
    monkeypatch.setattr(Importer, "_check_unchanged", committing)
    monkeypatch.setattr(Importer, "_plan", planning)
    with Case.open(tmp_path / "case", create=True) as case:
        report = run(Importer(case, trust, workers=2).run(inputs))
        stored = case.db.execute("SELECT * FROM events ORDER BY input_id, seq").fetchall()

    assert [r.replay for r in report.inputs] == [False, False, True]
    assert stored == expected
    # Each bundle decoded is planned (its sealed leaves read) once: the second's plan, made when
    # its decoding started, serves its turn too.
    assert planned == [first.name, second.name]
    tasks_of_second = [
        i for i, (what, label) in enumerate(log) if what == "submitted" and second.name in label
    ]
    checkpoints = -(-report.inputs[1].records // 16)
    assert len(tasks_of_second) == checkpoints > 1  # each decoded once
    first_commit = log.index(("committing", first.name))
    assert tasks_of_second[0] < first_commit  # decoding while the first input was committed
    # The replay (the first bundle again, already in the case) is not decoded ahead at all.
    own = -(-report.inputs[0].records // 16)
    submitted_first = sum(1 for what, label in log if what == "submitted" and first.name in label)
    assert submitted_first == own


def test_a_large_bundle_starts_the_workers_with_the_import_and_raw_evidence_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workers load what decoding needs while the first input is hashed and verified; raw
    evidence is decoded in the importing process, and a small bundle in order."""
    raw = raw_audit(tmp_path / "raw.jsonl")
    trust = load_trust(SAMPLE / "truststore.json")
    monkeypatch.setattr(importer_module, "WARM_UP_BYTES", 1)  # every bundle is large
    assert importer_module._large_bundle(AUDIT_DIR)
    assert importer_module._large_bundle(LOGS_ZIP)
    assert not importer_module._large_bundle(raw)
    assert not importer_module._large_bundle(tmp_path / "missing")
    with Case.open(tmp_path / "case", create=True) as case:
        for inputs, started in (([raw], False), ([raw, AUDIT_DIR], True)):
            job = Importer(case, trust, workers=2)
            steps = job.run(inputs)
            next(steps)  # nothing hashed yet
            assert (job.executor is not None) is started, inputs
            steps.close()
            assert job.executor is None  # closed with the job
    monkeypatch.setattr(importer_module, "WARM_UP_BYTES", 10**12)
    assert not importer_module._large_bundle(AUDIT_DIR)
