"""The examiner's signature of a PDF report (core/report/pdfsign.py), checked by poppler's pdfsig.

Keys here are THROWAWAY TEST KEYS, generated for each run and never written to the repository.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from auditlens.core.errors import SigningKeyError
from auditlens.core.report.document import Document, Heading, Paragraph
from auditlens.core.report.pdf import render_pdf
from auditlens.core.report.pdfsign import (
    MAX_CERTIFICATE_FILE,
    ReportSigner,
    load_signer,
    write_examiner_files,
)

SIGNED_AT = datetime(2026, 12, 5, 10, 30, tzinfo=UTC)


def _certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey, name: str
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(20261205)
        .not_valid_before(SIGNED_AT - timedelta(days=1))
        .not_valid_after(SIGNED_AT + timedelta(days=365))
        .sign(key, algorithm)
    )


def _document() -> Document:
    doc = Document("Signed report", "case contact-center-2026-11", "journal head 9f2c4e81")
    doc.add(Heading("Summary"), Paragraph("Examined by Zoë Ørsted; operator 李雷."))
    return doc


def _pdfsig(path: Path) -> str:
    tool = shutil.which("pdfsig")
    assert tool, "pdfsig not found: run tools/system-deps.sh --test (poppler-utils)"
    return subprocess.run(
        [tool, str(path)], capture_output=True, text=True, check=False, timeout=60
    ).stdout


@pytest.mark.parametrize("kind", ["ecdsa-p256", "rsa-3072"])
def test_pdfsig_validates_the_signature(tmp_path: Path, kind: str) -> None:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    if kind == "ecdsa-p256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    signer = ReportSigner(
        key, _certificate(key, "Zoë Ørsted (THROWAWAY TEST KEY)"), signed_at=SIGNED_AT
    )
    path = tmp_path / "signed.pdf"
    path.write_bytes(render_pdf(_document(), signer=signer))
    report = _pdfsig(path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "Signer Certificate Common Name: Zoë Ørsted (THROWAWAY TEST KEY)" in report
    assert "Signature Type: adbe.pkcs7.detached" in report


def test_an_altered_byte_is_caught_by_pdfsig(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signer = ReportSigner(key, _certificate(key, "Examiner (THROWAWAY TEST KEY)"))
    data = bytearray(render_pdf(_document(), signer=signer))
    at = data.index(b"/Title <FEFF") + len(b"/Title <FEFF")
    data[at : at + 4] = b"0041" if data[at : at + 4] != b"0041" else b"0042"
    path = tmp_path / "altered.pdf"
    path.write_bytes(bytes(data))
    report = _pdfsig(path)
    assert "Signature is Valid" not in report
    assert "Signature Validation: Digest Mismatch." in report


def test_the_unsigned_report_is_the_same_document_without_the_field() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    signed = render_pdf(_document(), signer=ReportSigner(key, _certificate(key, "Examiner")))
    unsigned = render_pdf(_document())
    assert b"/AcroForm" in signed and b"/AcroForm" not in unsigned
    assert b"/Type /Sig" in signed and b"/Type /Sig" not in unsigned


def test_an_ed25519_key_is_refused_with_the_reason() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(SigningKeyError, match="ECDSA P-256 or RSA"):
        ReportSigner(key, _certificate(key, "Examiner"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (ec.generate_private_key(ec.SECP384R1()), "elliptic curve secp384r1 is not allowed"),
        (rsa.generate_private_key(65537, 2048), "RSA key of 2048 bits is below the minimum"),
    ],
    ids=["p384", "rsa2048"],
)
def test_a_key_of_another_curve_or_too_small_is_refused_with_the_reason(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, reason: str
) -> None:
    # The key rules of every AuditLens key (crypto.keys.algorithm_of) say which rule failed.
    with pytest.raises(SigningKeyError, match=f"ECDSA P-256 or RSA .*{reason}"):
        ReportSigner(key, _certificate(key, "Examiner"))


def test_a_certificate_file_too_large_is_refused_unread_naming_it(tmp_path: Path) -> None:
    files = write_examiner_files(tmp_path, "Zoë Ørsted (THROWAWAY TEST KEY)")
    pem = files.certificate.read_bytes()
    files.certificate.write_bytes(pem + b"\n" * (MAX_CERTIFICATE_FILE + 1 - len(pem)))
    with pytest.raises(SigningKeyError, match=f"certificate is {MAX_CERTIFICATE_FILE + 1} bytes"):
        load_signer(files.key, files.certificate)
    with pytest.raises(SigningKeyError, match="cannot read certificate") as missing:
        load_signer(files.key, tmp_path / "elsewhere.pem")
    assert missing.value.path == str(tmp_path / "elsewhere.pem")


def test_a_certificate_of_another_key_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(SigningKeyError, match="not the certificate of this key"):
        ReportSigner(key, _certificate(other, "Examiner"))
