"""``auditlens exhibit`` and ``auditlens verify EXHIBIT_DIR`` (issue 14, point 4).

A case is imported from copies of the sample's evidence; each test writes its own exhibit.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.resources import sample_case_dir

SAMPLE = sample_case_dir()
TRUST = SAMPLE / "truststore.json"
AUDIT = SAMPLE / "bundles" / "cc-prod.audit" / "cc-prod.audit-0002"
RAW = sorted((SAMPLE / "raw" / "audit").glob("*.jsonl"))[0]


@pytest.fixture
def case(cli: Any, tmp_path: Path) -> Path:
    ev = tmp_path / "evidence"
    ev.mkdir()
    shutil.copytree(AUDIT, ev / AUDIT.name)
    shutil.copyfile(RAW, ev / RAW.name)
    result = cli("import", tmp_path / "case", ev / AUDIT.name, ev / RAW.name, "--trust", TRUST)
    assert result.code in (0, 3), result.err
    return tmp_path / "case"


def test_an_exhibit_of_a_filter_verifies_and_a_changed_byte_is_named(
    cli: Any, case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ex"
    made = cli("exhibit", case, "--filter", "action:LOGIN_SUCCESS", "--out", out)
    assert made.code == 0, made.err
    index = json.loads((out / "exhibit.json").read_bytes())
    sealed = [r for r in index["records"] if r["status"] == "sealed"]
    assert len(sealed) > 3
    assert f"index sha256 {hashlib.sha256((out / 'exhibit.json').read_bytes()).hexdigest()}" in (
        made.out
    )

    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "exhibit" and entry["details"]["origin"] == "cli"
    assert entry["details"]["selection"] == "filter: action:LOGIN_SUCCESS"
    assert (
        entry["details"]["index_sha256"]
        == hashlib.sha256((out / "exhibit.json").read_bytes()).hexdigest()
    )
    assert cli("journal", "verify", case).code == 0

    ok = cli("verify", out, "--trust", TRUST)
    assert ok.code == 0, ok.out
    assert f"{len(sealed)} of {len(sealed)} sealed record(s) proven" in ok.out

    untrusted = cli("verify", out)
    assert untrusted.code == 3 and "UNTRUSTED_SIGNER" in untrusted.out

    target = sealed[2]
    record = out / target["record"]
    data = bytearray(record.read_bytes())
    data[-2] ^= 0x20
    record.write_bytes(bytes(data))
    bad = cli("verify", out, "--trust", TRUST, "--json")
    assert bad.code == 1
    report = json.loads(bad.out)
    assert report["verdict"] == "tampered"
    [finding] = [f for f in report["exhibits"][0]["findings"] if f["severity"] == "error"]
    assert finding["code"] == "RECORD_MODIFIED"
    assert finding["path"] == str(record) and finding["seq"] == int(target["seq"])
    assert finding["expected"] == f"sha256 {target['sha256']}"


def test_a_changed_proof_hash_exits_1(cli: Any, case: Path, tmp_path: Path) -> None:
    out = tmp_path / "ex"
    assert cli("exhibit", case, "--event", "stream:cc-prod.audit#440", "--out", out).code == 0
    proof_path = out / "proofs" / "000001.json"
    proof = json.loads(proof_path.read_bytes())
    last = proof["audit_path"][-1]
    proof["audit_path"][-1] = last[:-1] + ("0" if last[-1] != "0" else "1")
    proof_path.write_text(json.dumps(proof))
    result = cli("verify", out, "--trust", TRUST)
    assert result.code == 1 and "PROOF_INVALID" in result.out


def test_verify_refuses_an_exhibit_mixed_with_a_bundle(
    cli: Any, case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ex"
    assert cli("exhibit", case, "--event", "stream:cc-prod.audit#440", "--out", out).code == 0
    result = cli("verify", out, AUDIT, "--trust", TRUST)
    assert result.code == 2
    assert "verify exhibit folders and bundles in separate runs" in result.err
    assert result.out == ""


def test_exhibit_refuses_a_non_empty_folder_and_unknown_references(
    cli: Any, case: Path, tmp_path: Path
) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    (out / "x").write_text("x")
    result = cli("exhibit", case, "--filter", "action:LOGIN_SUCCESS", "--out", out)
    assert result.code == 2 and "not empty" in result.err
    result = cli("exhibit", case, "--event", "stream:cc-prod.audit#99999", "--out", tmp_path / "n")
    assert result.code == 2 and "no event in the case" in result.err
    assert not (tmp_path / "n").exists()
    journal = (case / "journal.jsonl").read_text()
    assert '"action":"exhibit"' not in journal
