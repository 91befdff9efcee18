"""``auditlens report CASE_DIR --out FILE.pdf|FILE.html`` (issue 14, point 3)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

from auditlens.core.resources import sample_case_dir

SAMPLE = sample_case_dir()
RAW = sorted((SAMPLE / "raw" / "audit").glob("*.jsonl"))


def make_case(cli: Any, tmp_path: Path) -> Path:
    raw = tmp_path / RAW[0].name
    shutil.copyfile(RAW[0], raw)
    result = cli("import", tmp_path / "case", raw)
    assert result.code == 3, result.err  # raw evidence: unsealed
    return tmp_path / "case"


def test_report_writes_the_html_and_journals_its_digest(cli: Any, tmp_path: Path) -> None:
    case = make_case(cli, tmp_path)
    out = tmp_path / "report.html"
    result = cli("report", case, "--out", out, "--tz", "Europe/Lisbon")
    assert result.code == 0, result.err
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest in result.out
    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["action"] == "report" and entry["details"]["sha256"] == digest
    assert entry["details"]["origin"] == "cli" and entry["details"]["format"] == "html"
    # Times in the zone asked for, with their offset (Lisbon is UTC+00:00 in March).
    assert "+00:00" in out.read_text("utf-8")


def test_report_refuses_an_existing_file_and_an_unknown_suffix(cli: Any, tmp_path: Path) -> None:
    case = make_case(cli, tmp_path)
    existing = tmp_path / "old.html"
    existing.write_text("keep me")
    before = (case / "journal.jsonl").read_bytes()
    refused = cli("report", case, "--out", existing)
    assert refused.code == 2 and "never overwrites" in refused.err
    wrong = cli("report", case, "--out", tmp_path / "report.txt")
    assert wrong.code == 2 and "FILE.pdf or FILE.html" in wrong.err
    assert existing.read_text() == "keep me"
    assert not (tmp_path / "report.txt").exists()
    assert (case / "journal.jsonl").read_bytes() == before


def test_report_writes_a_pdf_journaled_with_its_digest(cli: Any, tmp_path: Path) -> None:
    case = make_case(cli, tmp_path)
    out = tmp_path / "report.pdf"
    result = cli("report", case, "--out", out)
    assert result.code == 0, result.err
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["details"]["format"] == "pdf"
    assert entry["details"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["details"]["size"] == len(data)


def test_a_signed_pdf_report_verifies_with_the_examiners_key(cli: Any, tmp_path: Path) -> None:
    from auditlens.core.report.pdfsign import write_examiner_files

    case = make_case(cli, tmp_path)
    files = write_examiner_files(tmp_path / "keys", "Ana Examiner (test key, throwaway)")
    out = tmp_path / "signed.pdf"
    result = cli("report", case, "--out", out, "--sign", files.key)
    assert result.code == 0, result.err
    assert "signed by Ana Examiner" in result.out
    entry = json.loads((case / "journal.jsonl").read_text().splitlines()[-1])
    assert entry["details"]["signed"] is True
    assert entry["details"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    checked = cli("verify", out, "--trust", files.public)
    assert checked.code == 0, checked.out + checked.err
    # An HTML report is not signed: refused before anything is written or journaled.
    refused = cli("report", case, "--out", tmp_path / "r.html", "--sign", files.key)
    assert refused.code == 2 and not (tmp_path / "r.html").exists()
