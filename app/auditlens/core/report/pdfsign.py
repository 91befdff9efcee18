"""The examiner's signature of a PDF report (docs/report-signature.md, "Signing").

The writer (pdf.py) lays the signature out in one pass, with no incremental update: a signature
field on the last page whose value is a /Sig dictionary with a /ByteRange of fixed width and a
/Contents placeholder of :data:`SIGNATURE_SPACE` bytes. Once the whole file is written, the byte
range is filled in, the bytes it covers (everything but the /Contents hex string) are signed as
a detached CMS SignedData (RFC 5652) with the examiner's certificate, and the signature is
written into the placeholder. ISO 32000-1 §12.8.1 and §12.8.3.3 (adbe.pkcs7.detached).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

from auditlens.core.crypto.keys import (
    ALGORITHM_ALIASES,
    MIN_RSA_BITS,
    RSA_PSS_SALT,
    algorithm_of,
    generate,
    load_private,
    read_small,
)
from auditlens.core.errors import SigningKeyError

if TYPE_CHECKING:
    from auditlens.core.report.pdf import _Objects

# Room for the DER SignedData: a certificate (about 0.5 KB for P-256, 1.5 KB for RSA-3072) and
# the signer info; 8 KB leaves space for a certificate with long names and extensions.
SIGNATURE_SPACE = 8192
_BYTE_RANGE_PLACEHOLDER = b"/ByteRange [0 0000000000 0000000000 0000000000]"
_CONTENTS_PLACEHOLDER = b"/Contents <" + b"0" * (2 * SIGNATURE_SPACE) + b">"


@dataclass(frozen=True)
class ReportSigner:
    """The examiner's key and certificate, and what the signature says.

    ``signed_at`` is the signing time written in the signature dictionary (/M) and claimed by
    the examiner; it is not a trusted timestamp (docs/report-signature.md, "What a signature
    proves").
    """

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    reason: str = "Examination report signed by its examiner"
    signed_at: datetime | None = None

    def __post_init__(self) -> None:
        # What a PDF validator accepts and cryptography's CMS builder makes: ECDSA P-256 or RSA
        # (docs/report-signature.md, "Key type"); Ed25519 is refused by both.
        why = _not_for_reports(self.key)
        if why:
            raise SigningKeyError(
                f"a report is signed with an ECDSA P-256 or RSA (>= {MIN_RSA_BITS} bits) key "
                f"({why}); make one with 'auditlens keygen --examiner NAME'"
            )
        if self.key.public_key() != self.certificate.public_key():
            raise SigningKeyError("the certificate is not the certificate of this key")

    @property
    def name(self) -> str:
        """The examiner's name: the certificate subject's common name, else the whole subject."""
        names = self.certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        value = names[0].value if names else self.certificate.subject.rfc4514_string()
        return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _not_for_reports(key: object) -> str:
    """Why ``key`` cannot sign a report, or "" when it can.

    The curve and the RSA size are those of every key of AuditLens (crypto.keys.algorithm_of).
    """
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return f"not {type(key).__name__}"
    try:
        algorithm_of(key.public_key())
    except SigningKeyError as exc:
        return exc.message
    return ""


@dataclass(frozen=True)
class SignatureSlot:
    """The object numbers of the signature field (a widget annotation) and its /Sig value."""

    field: int
    value: int


def _pdf_date(moment: datetime) -> str:
    """A PDF date (ISO 32000-1 §7.9.4) in UTC."""
    return moment.astimezone(UTC).strftime("(D:%Y%m%d%H%M%SZ)")


def add_signature_objects(objects: _Objects, signer: ReportSigner, page: int) -> SignatureSlot:
    """Add the /Sig dictionary and its field (on ``page``) with placeholders; the slot."""
    # pdf.py imports this module only when it signs; the writer's own text strings serve here.
    from auditlens.core.report.pdf import _text_string

    signed_at = signer.signed_at or datetime.now(UTC)
    value = objects.add(
        b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached "
        + _BYTE_RANGE_PLACEHOLDER
        + b"\n"
        + _CONTENTS_PLACEHOLDER
        + f"\n/Name {_text_string(signer.name)} /Reason {_text_string(signer.reason)} "
        f"/M {_pdf_date(signed_at)} >>".encode("ascii")
    )
    # Invisible (empty /Rect), printable and locked (/F 132: Print | Locked, §12.5.3).
    field = objects.add(
        f"<< /Type /Annot /Subtype /Widget /FT /Sig /T {_text_string('Examiner signature')} "
        f"/V {value} 0 R /Rect [0 0 0 0] /F 132 /P {page} 0 R >>"
    )
    return SignatureSlot(field, value)


def _placeholders(out: bytes | bytearray) -> tuple[int, int, int]:
    """Where the byte range field starts, and where the /Contents hex string starts and ends."""
    at = out.find(_BYTE_RANGE_PLACEHOLDER)
    if at < 0 or out.find(_BYTE_RANGE_PLACEHOLDER, at + 1) >= 0:
        raise ValueError("the signature's /ByteRange placeholder is not in the file exactly once")
    start = out.index(b"/Contents <", at) + len(b"/Contents ")
    return at, start, start + 2 + 2 * SIGNATURE_SPACE


def fill_byte_range(body: bytearray, length: int) -> tuple[int, int]:
    """Write the byte range of a file of ``length`` bytes whose start is ``body``.

    Returns:
        Where the /Contents hex string starts (its ``<``) and ends (after its ``>``).
    """
    at, start, end = _placeholders(body)
    value = f"/ByteRange [0 {start} {end} {length - end}]".encode("ascii")
    body[at : at + len(_BYTE_RANGE_PLACEHOLDER)] = value.ljust(len(_BYTE_RANGE_PLACEHOLDER))
    return start, end


def _rsa_padding(signer: ReportSigner) -> padding.PSS | None:
    # RSA signs with PSS as every RSA key of AuditLens does (core/crypto/keys.py): a trust store
    # pins an RSA key to rsa-pss-sha256, so a report signed with it says the same.
    if isinstance(signer.key, rsa.RSAPrivateKey):
        return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=RSA_PSS_SALT)
    return None


def sign_byte_ranges(out: bytearray, signer: ReportSigner, start: int, end: int) -> None:
    """Sign everything but the /Contents hex string ``out[start:end]``; write the signature in."""
    covered = bytes(out[:start]) + bytes(out[end:])
    cms = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(covered)
        .add_signer(
            signer.certificate, signer.key, hashes.SHA256(), rsa_padding=_rsa_padding(signer)
        )
        .sign(
            serialization.Encoding.DER,
            # Detached: the PDF holds the data. Binary: sign the bytes as they are (no MIME
            # line-ending conversion). No S/MIME capabilities: they mean nothing in a PDF.
            [
                pkcs7.PKCS7Options.DetachedSignature,
                pkcs7.PKCS7Options.Binary,
                pkcs7.PKCS7Options.NoCapabilities,
            ],
        )
    )
    if len(cms) > SIGNATURE_SPACE:
        raise SigningKeyError(
            f"the signature takes {len(cms)} bytes, more than the {SIGNATURE_SPACE} reserved"
        )
    out[start + 1 : start + 1 + 2 * len(cms)] = cms.hex().upper().encode("ascii")


# -- the examiner's key and certificate ---------------------------------------------------------

EXAMINER_KEY = "examiner-key.pem"
EXAMINER_PUBLIC = "examiner-key.pub.pem"
EXAMINER_CERTIFICATE = "examiner-cert.pem"
MAX_CERTIFICATE_FILE = 64 * 1024  # a PEM certificate is a few KiB
# Extended key usages: id-kp-documentSigning (RFC 9336) says the certificate signs documents;
# emailProtection as well, because NSS (poppler's pdfsig on Debian 12) checks a PDF signer's
# certificate for e-mail signing and, with documentSigning alone, reports "Unknown issue with
# Certificate or corrupted data" instead of the expected "Certificate issuer is unknown".
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
EXTENDED_KEY_USAGES = (DOCUMENT_SIGNING, x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION)


@dataclass(frozen=True)
class ExaminerFiles:
    """What ``auditlens keygen --examiner`` wrote."""

    key: Path
    public: Path
    certificate: Path
    key_id: str


def examiner_certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    name: str,
    *,
    valid_from: datetime,
    days: int = 3 * 365,
) -> x509.Certificate:
    """A self-signed certificate naming the examiner ``name`` as the key's holder.

    Self-signed: it says who the examiner claims to be; whether the key is believed is the
    trust store's answer (docs/report-signature.md, "Trust").
    """
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_from + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(list(EXTENDED_KEY_USAGES)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def write_examiner_files(out_dir: Path, name: str, algorithm: str = "ecdsa-p256") -> ExaminerFiles:
    """Make an examiner key (private file mode 0600), its public key and a certificate.

    Raises:
        SigningKeyError: for an algorithm a report cannot be signed with (Ed25519), an empty
            name, or when a file would be overwritten (a lost key is not undoable).
    """
    if not name.strip():
        raise SigningKeyError("the examiner's name is empty")
    if ALGORITHM_ALIASES.get(algorithm) == "ed25519":
        raise SigningKeyError(
            "Ed25519 cannot sign a PDF report (neither cryptography's CMS builder nor PDF "
            "validators take it); use ecdsa-p256 or rsa-pss-3072"
        )
    signing = generate(algorithm)
    private = signing.private
    assert isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)  # not Ed25519
    certificate = examiner_certificate(private, name, valid_from=datetime.now(UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ExaminerFiles(
        out_dir / EXAMINER_KEY, out_dir / EXAMINER_PUBLIC, out_dir / EXAMINER_CERTIFICATE, ""
    )
    for path in (files.key, files.public, files.certificate):
        if path.exists():
            raise SigningKeyError("refusing to overwrite an existing file", path=str(path))
    fd = os.open(files.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signing.private_pem())
    files.public.write_bytes(signing.public_pem())
    files.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return ExaminerFiles(files.key, files.public, files.certificate, signing.key_id)


def default_certificate(key_path: Path) -> Path:
    """The certificate that goes with the examiner key ``key_path`` unless another is named.

    ``keygen --examiner`` writes both into one folder; the CLI (``report --sign KEY``) and the
    workbench both look there.
    """
    return key_path.parent / EXAMINER_CERTIFICATE


def load_signer(key_path: Path, certificate_path: Path, *, reason: str = "") -> ReportSigner:
    """The examiner's signer from their key file and certificate file.

    Every error names the file it is about: the certificate's path when it is not the key's.

    Raises:
        SigningKeyError: when either cannot be read, or they do not belong together.
    """
    signing = load_private(key_path)
    data = read_small(certificate_path, "certificate", MAX_CERTIFICATE_FILE)
    try:
        certificate = x509.load_pem_x509_certificate(data)
    except ValueError as exc:
        raise SigningKeyError(f"not a PEM certificate: {exc}", path=str(certificate_path)) from exc
    private = signing.private
    if not isinstance(private, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise SigningKeyError(
            "an Ed25519 key cannot sign a PDF report; make an examiner key with "
            "'auditlens keygen --examiner NAME'",
            path=str(key_path),
        )
    if private.public_key() != certificate.public_key():
        raise SigningKeyError(
            f"the certificate is not the certificate of this key ({key_path})",
            path=str(certificate_path),
        )
    try:
        if reason:
            return ReportSigner(private, certificate, reason=reason)
        return ReportSigner(private, certificate)
    except SigningKeyError as exc:  # a key type or size a report is not signed with
        raise SigningKeyError(exc.message, path=str(key_path)) from exc
