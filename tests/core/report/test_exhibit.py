"""Exhibits (issue 14, point 4; docs/exhibit-format.md): made from a case, proven without it.

The case is built once from copies of the sample's evidence (a sealed audit bundle, a sealed
OTLP-logs zip and a raw audit file); each test writes its own exhibit and changes only its own
copy. Expected records are read from the case database and the bundle files directly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import drive

from auditlens.core.crypto import hashing
from auditlens.core.errors import UsageError
from auditlens.core.report.exhibit import (
    INDEX_NAME,
    make_exhibit,
    verify_exhibit,
)
from auditlens.core.report.session import Legal
from auditlens.core.resources import sample_case_dir
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.store.journal import JournalStatus, verify_journal
from auditlens.core.verify.findings import Verdict
from auditlens.core.verify.trust import TrustStore, load_trust

SAMPLE = sample_case_dir()
TRUST = SAMPLE / "truststore.json"
AUDIT = SAMPLE / "bundles" / "cc-prod.audit" / "cc-prod.audit-0002"
LOGS = SAMPLE / "bundles" / "cc-prod.otel-logs" / "cc-prod.otel-logs-0001.zip"
RAW = sorted((SAMPLE / "raw" / "audit").glob("*.jsonl"))[0]
FILTER = "actor_id:agent-023"


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exhibit")
    ev = root / "evidence"
    ev.mkdir()
    shutil.copytree(AUDIT, ev / AUDIT.name)
    shutil.copyfile(LOGS, ev / LOGS.name)
    shutil.copyfile(RAW, ev / RAW.name)
    with Case.open(root / "case", create=True) as case:
        drive(import_inputs(case, sorted(ev.iterdir()), load_trust(TRUST)))
    return root


@pytest.fixture
def case(evidence: Path) -> Generator[Case, None, None]:
    with Case.open(evidence / "case") as opened:
        yield opened


def trust() -> TrustStore:
    return load_trust(TRUST)


def index(folder: Path) -> dict[str, Any]:
    return json.loads((folder / INDEX_NAME).read_bytes())


def sealed_line(row: dict[str, Any], evidence: Path) -> bytes:
    """The record's line read straight from its bundle file, without AuditLens."""
    bundle, member = str(row["file"]).split("!", 1)
    if bundle.endswith(".zip"):
        with zipfile.ZipFile(bundle) as archive:
            data = archive.read(member)
    else:
        data = (Path(bundle) / member).read_bytes()
    return data.split(b"\n")[int(row["line"]) - 1]


def test_a_filters_records_are_written_as_sealed_bytes_with_proofs_and_verify(
    case: Case, evidence: Path, tmp_path: Path
) -> None:
    rows = queries.events_page(case, queries.EventQuery(FILTER), limit=10_000)
    sealed = [r for r in rows if r["integrity"] != "unsealed"]
    raw = [r for r in rows if r["integrity"] == "unsealed"]
    assert sealed and raw and len({r["bundle_id"] for r in sealed}) == 2
    before = digests(evidence / "evidence")
    result = drive(make_exhibit(case, tmp_path / "ex", query=queries.EventQuery(FILTER)))
    assert digests(evidence / "evidence") == before  # nothing written into the evidence
    assert (result.sealed, result.unsealed, result.bundles) == (len(sealed), len(raw), 2)
    listed = index(tmp_path / "ex")
    by_seq = {(r["stream_id"], r["seq"]): r for r in sealed}
    records = [r for r in listed["records"] if r["status"] == "sealed"]
    assert len(records) == len(sealed)
    for entry in records:
        row = by_seq[(entry["stream_id"], int(entry["seq"]))]
        data = (tmp_path / "ex" / entry["record"]).read_bytes()
        assert data == sealed_line(row, evidence)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["ref"] == f"stream:{row['stream_id']}#{row['seq']}"
        assert entry["data_file"] == str(row["file"]).split("!", 1)[1]
        assert int(entry["line"]) == row["line"]
    unsealed = [r for r in listed["records"] if r["status"] == "unsealed"]
    raw_digest = hashlib.sha256(RAW.read_bytes()).hexdigest()
    assert sorted(int(r["line"]) for r in unsealed) == sorted(r["line"] for r in raw)
    assert {r["input_sha256"] for r in unsealed} == {raw_digest}
    assert all("proof" not in r and "record" not in r for r in unsealed)
    assert "that the content of a record is true" in listed["statement"]
    readme = (tmp_path / "ex" / "README.txt").read_text()
    assert "What it does not prove" in readme and "not proven" in readme
    for entry in listed["records"]:
        digest = entry.get("sha256") or entry["input_sha256"]
        assert f"{int(entry['number']):06d}  {entry['ref']}  {entry['status']}  {digest}" in readme

    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.VERIFIED, [f.to_json() for f in report.findings]
    assert (report.proven, report.sealed, report.unsealed) == (len(sealed), len(sealed), len(raw))


def test_an_exhibit_by_reference_holds_exactly_those_events(case: Case, tmp_path: Path) -> None:
    rows = queries.events_page(case, queries.EventQuery(FILTER), limit=10_000)
    sealed = [r for r in rows if r["integrity"] != "unsealed"][:2]
    raw = next(r for r in rows if r["integrity"] == "unsealed")
    refs = [f"stream:{r['stream_id']}#{r['seq']}" for r in sealed]
    refs.append(f"raw:{hashlib.sha256(RAW.read_bytes()).hexdigest()}#{raw['line']}")
    result = drive(make_exhibit(case, tmp_path / "ex", refs=refs))
    assert (result.sealed, result.unsealed) == (2, 1)
    assert sorted(r["ref"] for r in index(tmp_path / "ex")["records"]) == sorted(refs)
    assert verify_exhibit(tmp_path / "ex", trust()).verdict == Verdict.VERIFIED


def one_record_exhibit(case: Case, folder: Path, count: int = 3) -> dict[str, Any]:
    rows = queries.events_page(case, queries.EventQuery("integrity:verified"), limit=count)
    drive(make_exhibit(case, folder, refs=[f"stream:{r['stream_id']}#{r['seq']}" for r in rows]))
    return index(folder)


def test_a_changed_byte_in_one_record_is_named(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    target = listed["records"][1]
    path = tmp_path / "ex" / target["record"]
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    assert report.proven == 2
    [finding] = [f for f in report.findings if f.severity == "error"]
    assert finding.code == "RECORD_MODIFIED"
    assert finding.path == str(path)
    assert finding.seq == int(target["seq"]) and finding.stream_id == target["stream_id"]
    assert f"record {target['number']}" in finding.message
    assert finding.expected == f"sha256 {target['sha256']}"
    assert finding.actual == f"sha256 {hashlib.sha256(bytes(data)).hexdigest()}"


def test_a_record_changed_with_its_index_digest_still_fails_its_proof(
    case: Case, tmp_path: Path
) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    target = listed["records"][0]
    path = tmp_path / "ex" / target["record"]
    changed = path.read_bytes().replace(b"agent", b"AGENT", 1)
    assert changed != path.read_bytes()
    path.write_bytes(changed)
    target["sha256"] = hashlib.sha256(changed).hexdigest()
    (tmp_path / "ex" / INDEX_NAME).write_text(json.dumps(listed))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    assert [f.code for f in report.findings if f.severity == "error"] == ["PROOF_INVALID"]


def test_a_changed_proof_hash_fails(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    proof_path = tmp_path / "ex" / listed["records"][2]["proof"]
    proof = json.loads(proof_path.read_bytes())
    first = proof["audit_path"][0]
    proof["audit_path"][0] = ("0" if first[0] != "0" else "1") + first[1:]
    proof_path.write_text(json.dumps(proof))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    [finding] = [f for f in report.findings if f.severity == "error"]
    assert finding.code == "PROOF_INVALID" and finding.path == str(proof_path)
    assert finding.expected == f"root {proof['root']}"
    assert finding.actual != finding.expected


def test_an_altered_manifest_fails_its_signature(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    manifest = tmp_path / "ex" / listed["bundles"][0]["manifest"]
    text = manifest.read_bytes()
    manifest.write_bytes(text.replace(b'"sealed_at":"2026', b'"sealed_at":"2025', 1))
    assert manifest.read_bytes() != text
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    assert "MANIFEST_MISMATCH" in [f.code for f in report.findings]


def test_an_altered_signature_fails(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    envelope_path = tmp_path / "ex" / listed["bundles"][0]["envelope"]
    envelope = json.loads(envelope_path.read_bytes())
    sig = envelope["signatures"][0]["sig"]
    envelope["signatures"][0]["sig"] = ("A" if sig[0] != "A" else "B") + sig[1:]
    envelope_path.write_text(json.dumps(envelope))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    assert "BAD_SIGNATURE" in [f.code for f in report.findings]


def test_without_trust_the_exhibit_is_untrusted(case: Case, tmp_path: Path) -> None:
    one_record_exhibit(case, tmp_path / "ex")
    report = verify_exhibit(tmp_path / "ex", TrustStore())
    assert report.verdict == Verdict.UNTRUSTED
    assert {f.code for f in report.findings} == {"UNTRUSTED_SIGNER"}


def test_an_index_that_moves_a_record_is_refused(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    listed["records"][0]["seq"] = str(int(listed["records"][0]["seq"]) + 1)
    (tmp_path / "ex" / INDEX_NAME).write_text(json.dumps(listed))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict != Verdict.VERIFIED
    assert any(
        f.code == "EXHIBIT_INVALID" and "contradicts the signed manifest" in f.message
        for f in report.findings
    )


def test_the_exhibit_is_journaled_and_the_journal_verifies(
    case: Case, evidence: Path, tmp_path: Path
) -> None:
    before = (evidence / "case" / "journal.jsonl").read_text()
    drive(make_exhibit(case, tmp_path / "made", query=queries.EventQuery(FILTER)))
    # Core writes; the legal API (core/report/session.py) is what journals an examiner's action.
    assert (evidence / "case" / "journal.jsonl").read_text() == before
    legal = Legal(case, "cli", owns_case=False)
    result = drive(legal.exhibit(tmp_path / "ex", query=queries.EventQuery(FILTER)))
    entries = [
        json.loads(line) for line in (evidence / "case" / "journal.jsonl").read_text().splitlines()
    ]
    entry = entries[-1]
    assert entry["action"] == "exhibit"
    details = entry["details"]
    assert details["origin"] == "cli"
    assert details["out"] == str(tmp_path / "ex")
    assert details["bundles"] == sorted(b["bundle_id"] for b in index(tmp_path / "ex")["bundles"])
    assert details["selection"] == f"filter: {FILTER}"
    assert details["count"] == result.sealed + result.unsealed
    assert details["sealed"] == result.sealed and details["unsealed"] == result.unsealed
    index_bytes = (tmp_path / "ex" / INDEX_NAME).read_bytes()
    assert details["index_sha256"] == hashlib.sha256(index_bytes).hexdigest()
    assert sorted(details["refs"]) == sorted(r["ref"] for r in index(tmp_path / "ex")["records"])
    assert verify_journal(evidence / "case").status is JournalStatus.INTACT


def test_a_non_empty_folder_or_the_evidence_is_never_written(
    case: Case, evidence: Path, tmp_path: Path
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        drive(make_exhibit(case, out, query=queries.EventQuery(FILTER)))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    inside = evidence / "evidence" / "exhibit"
    with pytest.raises(UsageError, match="inside the evidence"):
        drive(make_exhibit(case, inside, query=queries.EventQuery(FILTER)))
    assert not inside.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    drive(make_exhibit(case, empty, query=queries.EventQuery(FILTER)))
    assert (empty / INDEX_NAME).is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 21])
def test_root_from_inclusion_matches_the_tree(size: int) -> None:
    leaves = [hashing.leaf_hash(f"record {i}".encode()) for i in range(size)]
    root = hashing.merkle_root(leaves)
    for i in range(size):
        path = hashing.inclusion_proof(leaves, i)
        assert hashing.root_from_inclusion(leaves[i], i, size, path) == root
        if size > 1:
            assert hashing.root_from_inclusion(leaves[i], (i + 1) % size, size, path) != root
    assert hashing.root_from_inclusion(leaves[0], size, size, []) is None


# --- the published vector (docs/exhibit-format.md §8) -----------------------------------------

REPO = Path(__file__).resolve().parents[3]
VECTOR = REPO / "docs" / "vectors" / "exhibit-tiny"


def independent_root(leaf: bytes, m: int, n: int, path: list[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2 as docs/exhibit-format.md §5 spells it, with hashlib only."""
    if m >= n:
        return None
    fn, sn, r = m, n - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def test_the_published_vector_is_what_the_tool_writes(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    try:
        import make_exhibit_vectors
    finally:
        sys.path.remove(str(REPO / "tools"))
    make_exhibit_vectors.build(tmp_path / "v")
    assert digests(tmp_path / "v") == digests(VECTOR)
    doc = (REPO / "docs" / "exhibit-format.md").read_text(encoding="utf-8")
    assert make_exhibit_vectors.section(VECTOR) in doc


def test_the_published_vector_proves_with_independent_code() -> None:
    folder = VECTOR / "exhibit"
    listed = index(folder)
    assert [r["seq"] for r in listed["records"]] == ["2", "5"]
    for entry in listed["records"]:
        manifest = json.loads(
            (folder / "bundles" / entry["bundle_id"] / "manifest.json").read_bytes()
        )
        data = (folder / entry["record"]).read_bytes()
        proof = json.loads((folder / entry["proof"]).read_bytes())
        m = int(entry["seq"]) - int(manifest["records"]["first_seq"])
        n = int(manifest["merkle"]["size"])
        leaf = hashlib.sha256(b"\x00" + data).digest()
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
        assert independent_root(leaf, m, n, path) == bytes.fromhex(manifest["merkle"]["root"])
        # The record is byte for byte the bundle's line.
        lines = (REPO / "docs" / "vectors" / "tiny-bundle" / entry["data_file"]).read_bytes()
        assert lines.split(b"\n")[int(entry["line"]) - 1] == data
    report = verify_exhibit(folder, load_trust(VECTOR / "truststore.json"))
    assert report.verdict == Verdict.VERIFIED and report.proven == 2


def test_an_exhibit_of_raw_events_only_proves_nothing(case: Case, tmp_path: Path) -> None:
    raw = queries.events_page(case, queries.EventQuery("integrity:unsealed"), limit=2)
    digest = hashlib.sha256(RAW.read_bytes()).hexdigest()
    result = drive(
        make_exhibit(case, tmp_path / "ex", refs=[f"raw:{digest}#{r['line']}" for r in raw])
    )
    assert (result.sealed, result.unsealed, result.bundles) == (0, 2, 0)
    assert not (tmp_path / "ex" / "records").exists()
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.UNSEALED and report.proven == 0


@pytest.mark.parametrize("size", [1, 2, 3, 6, 7, 8, 9, 31])
def test_paths_read_off_the_levels_are_rfc_9162_paths(size: int) -> None:
    from auditlens.core.report.exhibit import _audit_path, _levels

    leaves = [hashing.leaf_hash(f"line {i}".encode()) for i in range(size)]
    levels = _levels(leaves)
    assert levels[-1] == [hashing.merkle_root(leaves)]
    for i in range(size):
        assert _audit_path(levels, i) == hashing.inclusion_proof(leaves, i)


def test_a_file_the_index_does_not_name_is_reported(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    first = tmp_path / "ex" / listed["records"][0]["record"]
    extra = tmp_path / "ex" / "records" / "000004.json"
    extra.write_bytes(first.read_bytes().replace(b"agent", b"AGENT", 1))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.TAMPERED
    [finding] = [f for f in report.findings if f.severity == "error"]
    assert finding.code == "UNLISTED_FILE" and finding.path == str(extra)


def test_counts_that_disagree_with_the_records_are_refused(case: Case, tmp_path: Path) -> None:
    listed = one_record_exhibit(case, tmp_path / "ex")
    listed["counts"]["sealed"] = "4"
    (tmp_path / "ex" / INDEX_NAME).write_text(json.dumps(listed))
    report = verify_exhibit(tmp_path / "ex", trust())
    assert report.verdict == Verdict.INVALID
    assert [f.code for f in report.findings if f.severity == "error"] == ["EXHIBIT_INVALID"]
