"""The importer reads the next input ahead (hash, then verify) while the current one is stored.

What was read ahead must be exactly what the input's own turn would have found: the same digest,
the same verdict and findings, and a refusal when the evidence changed after it was read.
Cancelling stops the read-ahead thread with the job.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.errors import CancelledError, InvalidInputError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.resources import sample_case_dir
from auditlens.core.store import importer as importer_module
from auditlens.core.store.case import Case
from auditlens.core.store.importer import Importer, ImportReport
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
