"""``auditlens keygen --examiner`` and ``auditlens verify REPORT.pdf`` (docs/report-signature.md).

The examiner keys are THROWAWAY TEST KEYS made by each test in its temporary folder.
"""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from auditlens.core.report.document import Document, Paragraph
from auditlens.core.report.pdf import render_pdf
from auditlens.core.report.pdfsign import load_signer
from auditlens.core.verify.findings import EXIT_CODES, Verdict


def _examiner(cli: Any, folder: Path, name: str = "Zoë Ørsted (THROWAWAY TEST KEY)") -> str:
    result = cli("keygen", "--examiner", name, "--out", folder)
    assert result.code == 0, result.err
    return str(result.out.strip())


def _signed(folder: Path, out: Path) -> Path:
    signer = load_signer(folder / "examiner-key.pem", folder / "examiner-cert.pem")
    doc = Document("Report", "case contact-center-2026-11", "journal head 9f2c4e81")
    doc.add(Paragraph("Bundle audit-0003 verified on 2026-12-05."))
    out.write_bytes(render_pdf(doc, signer=signer))
    return out


def test_keygen_examiner_writes_a_p256_key_its_public_half_and_a_certificate(
    cli: Any, tmp_path: Path
) -> None:
    key_id = _examiner(cli, tmp_path / "keys")
    private = tmp_path / "keys" / "examiner-key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    public = serialization.load_pem_public_key(
        (tmp_path / "keys" / "examiner-key.pub.pem").read_bytes()
    )
    assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1)
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert key_id == hashlib.sha256(spki).hexdigest()
    certificate = x509.load_pem_x509_certificate(
        (tmp_path / "keys" / "examiner-cert.pem").read_bytes()
    )
    assert certificate.public_key() == public
    assert certificate.subject.rfc4514_string() == "CN=Zoë Ørsted (THROWAWAY TEST KEY)"


def test_keygen_examiner_refuses_ed25519(cli: Any, tmp_path: Path) -> None:
    result = cli("keygen", "--examiner", "X", "--alg", "ed25519", "--out", tmp_path)
    assert result.code == 2
    assert "Ed25519 cannot sign a PDF report" in result.err
    assert not (tmp_path / "examiner-key.pem").exists()


def test_verify_report_exit_codes(cli: Any, tmp_path: Path) -> None:
    _examiner(cli, tmp_path / "keys")
    report = _signed(tmp_path / "keys", tmp_path / "report.pdf")
    trust = tmp_path / "keys" / "examiner-key.pub.pem"

    verified = cli("verify", report, "--trust", trust)
    assert verified.code == EXIT_CODES[Verdict.VERIFIED] == 0, verified.out
    assert "report verdict: VERIFIED" in verified.out
    assert "signed by: CN=Zoë Ørsted (THROWAWAY TEST KEY)" in verified.out

    untrusted = cli("verify", report)
    assert untrusted.code == EXIT_CODES[Verdict.UNTRUSTED] == 3
    assert "UNTRUSTED_SIGNER" in untrusted.out

    altered = tmp_path / "altered.pdf"
    altered.write_bytes(report.read_bytes() + b"\n% added\n")
    tampered = cli("verify", altered, "--trust", trust)
    assert tampered.code == EXIT_CODES[Verdict.TAMPERED] == 1
    assert "REPORT_NOT_COVERED" in tampered.out

    unsigned = tmp_path / "unsigned.pdf"
    unsigned.write_bytes(render_pdf(Document("Report", "h", "f", [Paragraph("text")])))
    plain = cli("verify", unsigned, "--trust", trust)
    assert plain.code == EXIT_CODES[Verdict.UNSEALED] == 3
    assert "REPORT_UNSIGNED" in plain.out

    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_text("not a pdf")
    invalid = cli("verify", not_pdf)
    assert invalid.code == EXIT_CODES[Verdict.INVALID] == 2


def test_verify_report_json(cli: Any, tmp_path: Path) -> None:
    key_id = _examiner(cli, tmp_path / "keys")
    report = _signed(tmp_path / "keys", tmp_path / "report.pdf")
    result = cli("verify", report, "--trust", tmp_path / "keys" / "examiner-key.pub.pem", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["verdict"] == "verified"
    (entry,) = data["reports"]
    assert entry["key_id"] == key_id
    assert entry["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert entry["findings"] == []


def test_verify_refuses_reports_mixed_with_bundles(cli: Any, tmp_path: Path) -> None:
    _examiner(cli, tmp_path / "keys")
    report = _signed(tmp_path / "keys", tmp_path / "report.pdf")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    result = cli("verify", report, bundle)
    assert result.code == 2
    assert "separate runs" in result.err
