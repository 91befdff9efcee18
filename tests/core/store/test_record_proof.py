"""A record read back from its bundle proves into the signed Merkle root (or says why not)."""

import shutil
from pathlib import Path

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import sample_key
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.verify.trust import TrustStore


def drive(job):
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def audit_file(path: Path, count: int) -> Path:
    path.write_text(
        "".join(
            f'{{"timestamp":"2026-03-02T08:{i // 60:02d}:{i % 60:02d}.000Z",'
            f'"user_id":"u{i}","action":"READ"}}\n'
            for i in range(count)
        )
    )
    return path


def build(tmp_path: Path, count: int) -> Path:
    bundle = tmp_path / "bundle"
    drive(
        seal(
            [audit_file(tmp_path / "a.jsonl", count)],
            sample_key("proof-test"),
            bundle,
            stream_id="s",
            checkpoint_every=8,
        )
    )
    return bundle


def test_every_record_of_a_multi_segment_bundle_proves(tmp_path):
    bundle = build(tmp_path, 37)  # 5 segments of 8, the last partial
    with Case.open(tmp_path / "case", create=True) as case:
        drive(import_inputs(case, [bundle], TrustStore()))
        rows = queries.events_page(case, queries.EventQuery(), limit=100)
        assert len(rows) == 37
        for row in rows:
            proof = queries.record_proof(case, row)
            assert proof.verified, (row["seq"], proof.problem)
            assert proof.raw is not None and proof.raw.startswith(b'{"timestamp"')
            assert proof.index == row["seq"] - 1 and proof.tree_size == 37


def test_a_record_changed_after_import_no_longer_proves(tmp_path):
    bundle = build(tmp_path, 20)
    with Case.open(tmp_path / "case", create=True) as case:
        drive(import_inputs(case, [bundle], TrustStore()))
        row = queries.events_page(case, queries.EventQuery("seq:5"), limit=1)[0]
        data = bundle / "data" / "00001.jsonl"
        lines = data.read_bytes().split(b"\n")
        lines[4] = lines[4].replace(b"READ", b"EXPORT")
        data.write_bytes(b"\n".join(lines))
        proof = queries.record_proof(case, row)
        assert not proof.verified
        assert b"EXPORT" in (proof.raw or b"")
        assert "does not prove" in proof.problem


def test_raw_evidence_has_nothing_to_prove(tmp_path):
    raw = audit_file(tmp_path / "raw.jsonl", 3)
    with Case.open(tmp_path / "case", create=True) as case:
        drive(import_inputs(case, [raw], TrustStore()))
        row = queries.events_page(case, queries.EventQuery(), limit=1)[0]
        proof = queries.record_proof(case, row)
        assert not proof.verified and "raw evidence" in proof.problem


def test_a_moved_bundle_is_reported_not_crashed(tmp_path):
    bundle = build(tmp_path, 5)
    with Case.open(tmp_path / "case", create=True) as case:
        drive(import_inputs(case, [bundle], TrustStore()))
        row = queries.events_page(case, queries.EventQuery(), limit=1)[0]
        shutil.rmtree(bundle)
        proof = queries.record_proof(case, row)
        assert not proof.verified and "cannot read" in proof.problem
