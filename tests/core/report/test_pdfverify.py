"""Checking a signed PDF report (core/report/pdfverify.py): valid, altered, unsigned, untrusted.

Every examiner key here is a THROWAWAY TEST KEY made in a temporary folder for the run.
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import zlib
from pathlib import Path

import pytest
from cryptography import x509
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditlens.core.crypto.keys import load_public_pem
from auditlens.core.errors import SigningKeyError
from auditlens.core.report.document import Document, Heading, Paragraph
from auditlens.core.report.pdf import render_pdf
from auditlens.core.report.pdfsign import (
    ExaminerFiles,
    load_signer,
    write_examiner_files,
)
from auditlens.core.report.pdfverify import ReportSignatureCheck, verify_report_pdf
from auditlens.core.verify.findings import Verdict
from auditlens.core.verify.trust import TrustStore, load_trust, truststore_document


class Signed:
    """A signed report and its examiner's files (a plain class: hypothesis prints it short)."""

    def __init__(self, files: ExaminerFiles, pdf: bytes) -> None:
        self.files = files
        self.pdf = pdf

    def __repr__(self) -> str:  # hypothesis prints a failing case's arguments: not 40 KB of PDF
        return f"Signed({self.files.key_id}, {len(self.pdf)} bytes)"


def _document() -> Document:
    doc = Document(
        "Examination report: case contact-center-2026-11",
        "case contact-center-2026-11 · examiner Zoë Ørsted",
        "journal head 9f2c4e81d7a0b3c5e6f7081928374655a6b7c8d9e0f1a2b3c4d5e6f708192a3b",
    )
    doc.add(
        Heading("Summary"),
        Paragraph("Bundle audit-0003 verified; operator 李雷 exported 1,204 records."),
    )
    return doc


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> Signed:
    folder = tmp_path_factory.mktemp("examiner")
    files = write_examiner_files(folder, "Zoë Ørsted (THROWAWAY TEST KEY)")
    signer = load_signer(files.key, files.certificate)
    return Signed(files, render_pdf(_document(), signer=signer))


def _trust(files: ExaminerFiles) -> TrustStore:
    return load_trust(files.public)


def _check(tmp_path: Path, data: bytes, trust: TrustStore) -> ReportSignatureCheck:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return verify_report_pdf(path, trust)


def _codes(check: ReportSignatureCheck) -> list[str]:
    return [f.code for f in check.findings]


def _pdfsig(data: bytes, tmp_path: Path) -> str:
    tool = shutil.which("pdfsig")
    assert tool, "pdfsig not found: run tools/system-deps.sh --test (poppler-utils)"
    path = tmp_path / "for-pdfsig.pdf"
    path.write_bytes(data)
    run = subprocess.run([tool, str(path)], capture_output=True, text=True, timeout=60)
    return run.stdout


def _contents(data: bytes) -> tuple[int, int]:
    """Where the /Contents hex digits start and end."""
    start = data.index(b"/Contents <") + len(b"/Contents <")
    return start, data.index(b">", start)


def test_a_signed_report_verifies_here_and_with_pdfsig(signed: Signed, tmp_path: Path) -> None:
    check = _check(tmp_path, signed.pdf, _trust(signed.files))
    assert check.verdict is Verdict.VERIFIED, check.findings
    assert check.findings == []
    assert check.signed
    assert check.signer == "CN=Zoë Ørsted (THROWAWAY TEST KEY)"
    assert check.key_id == signed.files.key_id
    certificate = x509.load_pem_x509_certificate(signed.files.certificate.read_bytes())
    assert certificate.public_key() == load_public_pem(signed.files.public.read_bytes())
    start, end = _contents(signed.pdf)
    assert check.signed_bytes == len(signed.pdf) - (end - start) - 2  # all but "<hex>"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", check.signed_at)
    report = _pdfsig(signed.pdf, tmp_path)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    # The self-signed certificate reads as such: known issue, not "corrupted data" (pdfsign.py,
    # EXTENDED_KEY_USAGES); which key to trust is the trust store's answer, not a CA's.
    assert "Certificate Validation: Certificate issuer is unknown." in report


def test_a_changed_byte_of_the_text_is_a_digest_mismatch(signed: Signed, tmp_path: Path) -> None:
    # Change one byte of the first page's compressed text (the first content stream that
    # inflates to text operators), not a byte that merely breaks the file's structure.
    data = bytearray(signed.pdf)
    for match in re.finditer(rb"stream\n", data):
        body = match.end()
        try:
            if b" Tj" in zlib.decompressobj().decompress(bytes(data[body : body + 4096])):
                break
        except zlib.error:
            continue
    else:
        raise AssertionError("no page content stream found")
    data[body + 20] ^= 0x01
    check = _check(tmp_path, bytes(data), _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_DIGEST_MISMATCH"]
    finding = check.findings[0]
    assert finding.expected != finding.actual and len(finding.actual or "") == 64
    assert "Signature is Valid" not in _pdfsig(bytes(data), tmp_path)


def test_a_changed_title_is_a_digest_mismatch(signed: Signed, tmp_path: Path) -> None:
    data = signed.pdf.replace(b"/Title <FEFF0045", b"/Title <FEFF0046", 1)  # "E" -> "F"
    assert data != signed.pdf
    check = _check(tmp_path, data, _trust(signed.files))
    assert _codes(check) == ["REPORT_DIGEST_MISMATCH"]


def test_a_changed_signature_byte_is_a_bad_signature(signed: Signed, tmp_path: Path) -> None:
    start, end = _contents(signed.pdf)
    digits = signed.pdf[start:end].rstrip(b"0")
    # The last bytes of the DER are the signature value: change one hex digit of it.
    at = start + len(digits) - 6
    data = bytearray(signed.pdf)
    data[at] = ord("0") if data[at] != ord("0") else ord("1")
    check = _check(tmp_path, bytes(data), _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_BAD_SIGNATURE"]


def test_a_changed_padding_of_the_contents_is_caught(signed: Signed, tmp_path: Path) -> None:
    _start, end = _contents(signed.pdf)
    data = bytearray(signed.pdf)
    data[end - 1] = ord("7")  # the zero padding after the DER SignedData
    check = _check(tmp_path, bytes(data), _trust(signed.files))
    assert _codes(check) == ["REPORT_BAD_SIGNATURE"]
    assert "non-zero bytes after the SignedData" in check.findings[0].message


def test_bytes_appended_after_eof_are_not_covered(signed: Signed, tmp_path: Path) -> None:
    data = signed.pdf + b"% appended after the signature\n"
    check = _check(tmp_path, data, _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_NOT_COVERED"]
    assert check.findings[0].offset == len(signed.pdf)


def test_an_incremental_update_is_not_covered(signed: Signed, tmp_path: Path) -> None:
    # A real incremental update (ISO 32000-1 §7.5.6): a new Info object replacing the title,
    # a cross-reference section for it and a trailer pointing back to the signed one. A viewer
    # shows the new title; the signature still holds for the bytes before it.
    data = signed.pdf
    info = int(re.search(rb"/Info (\d+) 0 R", data).group(1))  # type: ignore[union-attr]
    size = int(re.search(rb"/Size (\d+)", data).group(1))  # type: ignore[union-attr]
    previous = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    at = len(data)
    update = b"%d 0 obj\n<< /Title (A different title) >>\nendobj\n" % info
    xref = at + len(update)
    update += b"xref\n%d 1\n%010d 00000 n \n" % (info, at)
    update += b"trailer\n<< /Size %d /Prev %d /Info %d 0 R >>\n" % (size, previous, info)
    update += b"startxref\n%d\n%%%%EOF\n" % xref
    changed = data + update
    check = _check(tmp_path, changed, _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_NOT_COVERED"]
    # poppler reads the update: the signature of the signed revision holds, the whole does not.
    report = _pdfsig(changed, tmp_path)
    assert "Not total document signed" in report


def test_every_changed_digit_of_the_signature_is_caught(signed: Signed, tmp_path: Path) -> None:
    # Not only the bytes the signature covers: every hex digit of the DER SignedData (versions,
    # algorithm identifiers, the certificate, lengths) and the padding after it.
    start, end = _contents(signed.pdf)
    der_digits = len(signed.pdf[start:end].rstrip(b"0"))
    trust = _trust(signed.files)
    missed = []
    for at in range(start, start + der_digits + 4):
        data = bytearray(signed.pdf)
        data[at] = ord("0") if data[at] != ord("0") else ord("F")
        check = _check(tmp_path, bytes(data), trust)
        codes = set(_codes(check))
        if check.verdict is not Verdict.TAMPERED or not codes <= {
            "REPORT_BAD_SIGNATURE",
            "REPORT_DIGEST_MISMATCH",
        }:
            missed.append((at - start, check.verdict.value, sorted(codes)))
    assert der_digits > 1_000
    assert missed == []


def test_a_renamed_certificate_is_caught(signed: Signed, tmp_path: Path) -> None:
    # "Zoë" -> "Yoë" wherever the name is in the signature (certificate subject and issuer, the
    # signer's issuer name): the DER still reads, the key and the signature over the document
    # are untouched, but the certificate's own signature no longer binds that name to the key.
    start, end = _contents(signed.pdf)
    hexed = signed.pdf[start:end]
    name = "Zoë".encode().hex().upper().encode()
    assert hexed.count(name) == 3
    data = (
        signed.pdf[:start]
        + hexed.replace(name, "Yoë".encode().hex().upper().encode())
        + signed.pdf[end:]
    )
    check = _check(tmp_path, data, _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_BAD_SIGNATURE"]
    assert "not self-signed by its key" in check.findings[0].message


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(keep=st.integers(min_value=0))
def test_a_cut_short_report_is_caught_never_a_crash(
    signed: Signed, tmp_path: Path, keep: int
) -> None:
    data = signed.pdf[: keep % len(signed.pdf)]
    check = _check(tmp_path, data, _trust(signed.files))
    # Never "unsealed": a signed report cut before its signature used to pass as merely unsigned.
    assert check.verdict in (Verdict.TAMPERED, Verdict.INVALID)
    assert check.findings


def test_a_signed_report_cut_before_its_signature_is_invalid_not_unsigned(
    signed: Signed, tmp_path: Path
) -> None:
    cut = signed.pdf[: signed.pdf.index(b"/ByteRange") - 100]
    check = _check(tmp_path, cut, _trust(signed.files))
    assert check.verdict is Verdict.INVALID
    assert _codes(check) == ["REPORT_INVALID"]
    assert "does not end with %%EOF" in check.findings[0].message
    # A whole unsigned report ending with blank lines after %%EOF is still just unsigned.
    whole = _check(tmp_path, render_pdf(_document()) + b"\r\n\n", TrustStore())
    assert whole.verdict is Verdict.UNSEALED


def test_an_unsigned_report_says_so(tmp_path: Path) -> None:
    check = _check(tmp_path, render_pdf(_document()), TrustStore())
    assert check.verdict is Verdict.UNSEALED
    assert _codes(check) == ["REPORT_UNSIGNED"]
    assert not check.signed and check.signer == ""


def test_a_signature_stripped_to_unreadable_is_not_taken_for_unsigned(
    signed: Signed, tmp_path: Path
) -> None:
    data = signed.pdf.replace(b"/ByteRange [0 ", b"/ByteRange [x ", 1)
    check = _check(tmp_path, data, _trust(signed.files))
    assert check.verdict is Verdict.TAMPERED
    assert _codes(check) == ["REPORT_BAD_SIGNATURE"]


def test_without_trust_or_with_another_key_the_signer_is_untrusted(
    signed: Signed, tmp_path: Path
) -> None:
    alone = _check(tmp_path, signed.pdf, TrustStore())
    assert alone.verdict is Verdict.UNTRUSTED
    assert _codes(alone) == ["UNTRUSTED_SIGNER"]
    assert "no trust store was given" in alone.findings[0].message
    other = write_examiner_files(tmp_path / "other", "Another Examiner (THROWAWAY TEST KEY)")
    wrong = _check(tmp_path, signed.pdf, _trust(other))
    assert wrong.verdict is Verdict.UNTRUSTED
    assert _codes(wrong) == ["UNTRUSTED_SIGNER"]
    assert "not in the trust store" in wrong.findings[0].message
    assert wrong.findings[0].actual == signed.files.key_id


def _trusting(signed: Signed, tmp_path: Path, **limits: str) -> TrustStore:
    """A trust store holding the examiner's key with ``limits`` (revocation, validity)."""
    entry = {
        "key_id": signed.files.key_id,
        "algorithm": "ecdsa-p256-sha256",
        "public_key": signed.files.public.read_text(),
        "owner": "Zoë Ørsted, examiner",
        **limits,
    }
    store = tmp_path / "truststore.json"
    store.write_bytes(truststore_document([entry]))
    return load_trust(store)


def test_a_revoked_examiner_key_is_untrusted(signed: Signed, tmp_path: Path) -> None:
    trust = _trusting(
        signed, tmp_path, revoked_at="2026-11-30T00:00:00Z", revocation_reason="laptop lost"
    )
    check = _check(tmp_path, signed.pdf, trust)
    assert check.verdict is Verdict.UNTRUSTED
    assert _codes(check) == ["KEY_REVOKED"]
    assert "laptop lost" in check.findings[0].message
    assert check.owner == "Zoë Ørsted, examiner"


def test_a_key_valid_only_before_the_signing_is_expired(signed: Signed, tmp_path: Path) -> None:
    trust = _trusting(
        signed, tmp_path, not_before="2025-01-01T00:00:00Z", not_after="2025-12-31T23:59:59Z"
    )
    check = _check(tmp_path, signed.pdf, trust)
    assert _codes(check) == ["KEY_EXPIRED"]


def test_a_file_that_is_not_a_pdf_is_invalid(tmp_path: Path) -> None:
    check = _check(tmp_path, b"GIF89a not a report", TrustStore())
    assert check.verdict is Verdict.INVALID
    assert _codes(check) == ["REPORT_INVALID"]


def test_examiner_files_keep_the_key_private_and_refuse_to_overwrite(tmp_path: Path) -> None:
    files = write_examiner_files(tmp_path, "Examiner (THROWAWAY TEST KEY)", "rsa-pss-3072")
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    certificate = x509.load_pem_x509_certificate(files.certificate.read_bytes())
    assert certificate.subject.rfc4514_string() == "CN=Examiner (THROWAWAY TEST KEY)"
    assert certificate.issuer == certificate.subject
    with pytest.raises(SigningKeyError, match="refusing to overwrite"):
        write_examiner_files(tmp_path, "Examiner")
    with pytest.raises(SigningKeyError, match="Ed25519 cannot sign a PDF report"):
        write_examiner_files(tmp_path / "ed", "Examiner", "ed25519")
    # An RSA examiner key signs with PSS, as its trust store entry pins it (rsa-pss-sha256).
    pdf = render_pdf(_document(), signer=load_signer(files.key, files.certificate))
    check = _check(tmp_path, pdf, load_trust(files.public))
    assert check.verdict is Verdict.VERIFIED, check.findings
    assert "Signature is Valid." in _pdfsig(pdf, tmp_path)


def test_a_key_and_a_certificate_that_do_not_belong_together_are_refused(
    signed: Signed, tmp_path: Path
) -> None:
    other = write_examiner_files(tmp_path, "Another (THROWAWAY TEST KEY)")
    with pytest.raises(SigningKeyError, match="not the certificate of this key") as refused:
        load_signer(other.key, signed.files.certificate)
    # The error names both files: the certificate, and the key it does not belong to.
    assert refused.value.path == str(signed.files.certificate)
    assert str(other.key) in refused.value.diagnostics()
