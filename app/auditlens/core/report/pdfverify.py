"""Checking the examiner's signature of a PDF report (docs/report-signature.md, "Verifying").

The checks read like the steps of the document, each reporting into a finding sink:

1. The file is read once, hashed, and must start as a PDF (else ``REPORT_INVALID``).
2. It holds one signature dictionary (none: ``REPORT_UNSIGNED``, the verdict *unsealed*, if
   the file ends as a PDF does, with %%EOF; else ``REPORT_INVALID``: it was cut short).
3. Its /ByteRange covers the whole file but the /Contents hex string: it starts at byte 0,
   skips exactly the hex string, ends at the file's end (else ``REPORT_NOT_COVERED``: bytes
   appended after %%EOF, an incremental update, are not what was signed).
4. /Contents is a DER CMS SignedData (RFC 5652 §5) in the one form AuditLens writes: one
   signer, SHA-256, signed attributes, the signer's certificate alone, nothing unsigned beside
   them (else ``REPORT_BAD_SIGNATURE``), so that a changed byte anywhere in it is caught.
5. The signed ``messageDigest`` is the SHA-256 of the signed bytes (else
   ``REPORT_DIGEST_MISMATCH``).
6. The signature over the DER SET of signed attributes (RFC 5652 §5.4) verifies with the
   certificate's key, under the algorithm that key allows (core/crypto/keys.py), and the
   self-signed certificate's own signature verifies (it binds the name shown to the key), else
   ``REPORT_BAD_SIGNATURE``.
7. Trust: the key (its id, the SHA-256 of its SubjectPublicKeyInfo, as for a bundle signer) is
   in the trust store, not revoked, and the claimed signing time lies within its validity
   (``UNTRUSTED_SIGNER``, ``KEY_REVOKED``, ``KEY_EXPIRED``, ``SAMPLE_TRUST``, as for bundles).

cryptography builds CMS but does not verify it; the DER is read here, only as far as these
checks need. Nothing of the PDF beyond the signature dictionary is parsed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from auditlens.core.crypto.keys import algorithm_of, verify_signature
from auditlens.core.errors import SigningKeyError
from auditlens.core.verify.findings import Finding, FindingSink, Verdict, verdict_of
from auditlens.core.verify.steps.trust import check_signer
from auditlens.core.verify.trust import TrustStore

# A report of 1,000 bookmarks with charts is about a megabyte; far larger is not our report.
MAX_REPORT_BYTES = 512 * 1024 * 1024
# The signature a writer reserves room for (pdfsign.SIGNATURE_SPACE is 8 KB); larger CMS
# structures (timestamps, revocation data) are not what AuditLens writes.
MAX_SIGNATURE_BYTES = 256 * 1024

_BYTE_RANGE = re.compile(
    rb"/ByteRange\s*\[\s*(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s+(\d{1,12})\s*\]"
)
_HEX = re.compile(rb"[0-9A-Fa-f]*")


def _oid(dotted: str) -> bytes:
    """The DER content octets of an object identifier (X.690 §8.19)."""
    parts = [int(p) for p in dotted.split(".")]
    out = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


OID_SIGNED_DATA = _oid("1.2.840.113549.1.7.2")
OID_DATA = _oid("1.2.840.113549.1.7.1")
OID_CONTENT_TYPE = _oid("1.2.840.113549.1.9.3")
OID_MESSAGE_DIGEST = _oid("1.2.840.113549.1.9.4")
OID_SIGNING_TIME = _oid("1.2.840.113549.1.9.5")
OID_SHA256 = _oid("2.16.840.1.101.3.4.2.1")
_VERSION_1 = b"\x02\x01\x01"
_DATA_TLV = b"\x06" + bytes([len(OID_DATA)]) + OID_DATA
_SHA256_ID = b"\x06" + bytes([len(OID_SHA256)]) + OID_SHA256
# AlgorithmIdentifier of SHA-256, with its NULL parameters or without (RFC 5754 §2).
_SHA256_ALGORITHMS = (b"\x30\x0d" + _SHA256_ID + b"\x05\x00", b"\x30\x0b" + _SHA256_ID)
# The signature algorithm each key type signs a report with (pdfsign.py): ECDSA with SHA-256
# (RFC 5758 §3.2), and RSASSA-PSS with SHA-256, MGF1-SHA-256 and a salt of 32 (RFC 4055 §3.1).
_ECDSA_SHA256 = b"\x30\x0a\x06\x08" + _oid("1.2.840.10045.4.3.2")
_MGF1 = b"\x06\x09" + _oid("1.2.840.113549.1.1.8")
_RSA_PSS_SHA256 = (
    b"\x30\x41\x06\x09"
    + _oid("1.2.840.113549.1.1.10")
    + b"\x30\x34\xa0\x0f"
    + _SHA256_ALGORITHMS[0]
    + b"\xa1\x1c\x30\x1a"
    + _MGF1
    + _SHA256_ALGORITHMS[0]
    + b"\xa2\x03\x02\x01\x20"
)


class _DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True)
class _Tlv:
    tag: int
    start: int  # of the tag byte
    body: int  # of the content
    end: int

    def raw(self, data: bytes) -> bytes:
        return data[self.start : self.end]

    def content(self, data: bytes) -> bytes:
        return data[self.body : self.end]


def _read(data: bytes, at: int, limit: int, what: str) -> _Tlv:
    """One DER tag-length-value at ``at`` that must end by ``limit`` (X.690 §8.1, §10.1)."""
    if at + 2 > limit:
        raise _DerError(f"{what}: ends early at byte {at}")
    tag = data[at]
    if tag & 0x1F == 0x1F:
        raise _DerError(f"{what}: multi-byte tag at byte {at}")
    first = data[at + 1]
    body = at + 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise _DerError(f"{what}: indefinite length (BER, not DER) at byte {at}")
    else:
        count = first & 0x7F
        if count > 4 or body + count > limit:
            raise _DerError(f"{what}: length of {count} bytes at byte {at}")
        length = int.from_bytes(data[body : body + count], "big")
        if length < 0x80 or data[body] == 0:
            raise _DerError(f"{what}: length not in its shortest form (DER) at byte {at}")
        body += count
    if body + length > limit:
        raise _DerError(f"{what}: {length} bytes at byte {at} run past the end")
    return _Tlv(tag, at, body, body + length)


def _children(data: bytes, parent: _Tlv, what: str) -> list[_Tlv]:
    out = []
    at = parent.body
    while at < parent.end:
        child = _read(data, at, parent.end, what)
        out.append(child)
        at = child.end
    return out


def _expect(tlv: _Tlv, tag: int, what: str) -> _Tlv:
    if tlv.tag != tag:
        raise _DerError(f"{what}: expected tag 0x{tag:02x}, found 0x{tlv.tag:02x}")
    return tlv


@dataclass(frozen=True)
class _SignedData:
    """What step 4 reads of the CMS: the signer's certificate and signed attributes."""

    certificate: x509.Certificate
    message_digest: bytes
    signed_attributes: bytes  # DER, re-tagged as a SET (RFC 5652 §5.4)
    signature_algorithm: bytes  # the AlgorithmIdentifier, DER
    signature: bytes
    signing_time: datetime | None


def _parse_cms(data: bytes) -> _SignedData:
    """Step 4: the SignedData in the one form AuditLens writes (docs/report-signature.md §5).

    Every byte of it is either checked here against that form, signed (the signed attributes),
    the signature itself, the certificate (whose own signature is checked), or zero padding:
    so a changed byte anywhere in /Contents is caught, not only one the signature covers.
    """
    info = _expect(_read(data, 0, len(data), "ContentInfo"), 0x30, "ContentInfo")
    if any(data[info.end :]):
        raise _DerError(f"non-zero bytes after the SignedData (byte {info.end})")
    content_type, explicit = _children(data, info, "ContentInfo")
    if _expect(content_type, 0x06, "contentType").content(data) != OID_SIGNED_DATA:
        raise _DerError("the CMS content is not SignedData")
    (signed,) = _children(data, _expect(explicit, 0xA0, "content"), "content")
    fields = _children(data, _expect(signed, 0x30, "SignedData"), "SignedData")
    if len(fields) != 5:
        raise _DerError(
            f"SignedData has {len(fields)} fields; expected version, digest algorithms, "
            "content, certificates, signer infos (RFC 5652 §5.1)"
        )
    version, digests, encapsulated, certificates, signer_infos = fields
    if version.raw(data) != _VERSION_1:
        raise _DerError("SignedData version is not 1")
    encapsulated_fields = _children(data, _expect(encapsulated, 0x30, "encap"), "encap")
    if len(encapsulated_fields) != 1 or encapsulated_fields[0].raw(data) != _DATA_TLV:
        raise _DerError("the signature is not detached over plain data (RFC 5652 §5.2)")
    certs = _children(data, _expect(certificates, 0xA0, "certificates"), "certificates")
    if len(certs) != 1:
        raise _DerError(f"{len(certs)} certificates; a report carries its signer's only")
    certificate = _certificate(certs[0].raw(data))
    infos = _children(data, _expect(signer_infos, 0x31, "signerInfos"), "signerInfos")
    if len(infos) != 1:
        raise _DerError(f"{len(infos)} signers; a report has exactly one")
    parts = _children(data, _expect(infos[0], 0x30, "SignerInfo"), "SignerInfo")
    if len(parts) != 6:
        raise _DerError(
            f"SignerInfo has {len(parts)} fields; expected version, sid, digest algorithm, "
            "signed attributes, signature algorithm, signature (no unsigned attributes)"
        )
    info_version, sid, digest_algorithm, attributes, signature_algorithm, signature = parts
    if info_version.raw(data) != _VERSION_1:
        raise _DerError("SignerInfo version is not 1")
    _signer_certificate(data, sid, certificate)
    if digest_algorithm.raw(data) not in _SHA256_ALGORITHMS or digests.raw(
        data
    ) != b"\x31" + _length(digest_algorithm.raw(data)) + digest_algorithm.raw(data):
        raise _DerError("the digest algorithm is not SHA-256 alone")
    _expect(attributes, 0xA0, "signedAttrs")
    message_digest = b""
    signing_time = None
    seen: set[bytes] = set()
    for attribute in _children(data, attributes, "signedAttrs"):
        kind, values = _children(data, _expect(attribute, 0x30, "Attribute"), "Attribute")
        oid = kind.content(data)
        if oid in seen:
            raise _DerError("a signed attribute appears twice (RFC 5652 §5.3)")
        seen.add(oid)
        (value,) = _children(data, _expect(values, 0x31, "attrValues"), "attrValues")
        if oid == OID_MESSAGE_DIGEST:
            message_digest = _expect(value, 0x04, "messageDigest").content(data)
        elif oid == OID_CONTENT_TYPE and value.content(data) != OID_DATA:
            raise _DerError("the signed content type is not id-data")
        elif oid == OID_SIGNING_TIME:
            signing_time = _time(value.content(data), value.tag)
    if not message_digest:
        raise _DerError("no messageDigest among the signed attributes")
    return _SignedData(
        certificate=certificate,
        message_digest=message_digest,
        signed_attributes=b"\x31" + attributes.raw(data)[1:],
        signature_algorithm=signature_algorithm.raw(data),
        signature=_expect(signature, 0x04, "signature").content(data),
        signing_time=signing_time,
    )


def _certificate(der: bytes) -> x509.Certificate:
    """The certificate, with every part the checks read parsed now.

    cryptography parses a certificate's names and key when they are first asked for; a damaged
    one must fail here, as a finding, not later in the middle of a report.
    """
    try:
        certificate = x509.load_der_x509_certificate(der)
        certificate.public_key()
        certificate.subject.rfc4514_string()
        certificate.issuer.public_bytes()
        _ = certificate.serial_number, certificate.signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise _DerError(f"the certificate cannot be read: {exc}") from exc
    return certificate


def _length(content: bytes) -> bytes:
    """The DER length octets of ``content`` (X.690 §8.1.3, definite form)."""
    size = len(content)
    if size < 0x80:
        return bytes([size])
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets)]) + octets


def _signer_certificate(data: bytes, sid: _Tlv, certificate: x509.Certificate) -> None:
    """``sid`` (issuer and serial number, RFC 5652 §5.3) names ``certificate``."""
    issuer, serial = _children(data, _expect(sid, 0x30, "IssuerAndSerialNumber"), "sid")
    number = int.from_bytes(_expect(serial, 0x02, "serialNumber").content(data), "big", signed=True)
    if certificate.serial_number != number or certificate.issuer.public_bytes() != issuer.raw(data):
        raise _DerError("the signer is not the certificate in the signature")


def _time(content: bytes, tag: int) -> datetime | None:
    text = content.decode("ascii", "replace")
    formats = {0x17: "%y%m%d%H%M%SZ", 0x18: "%Y%m%d%H%M%SZ"}
    try:
        return datetime.strptime(text, formats[tag]).replace(tzinfo=UTC)
    except (KeyError, ValueError):
        return None


@dataclass
class ReportSignatureCheck:
    """What ``auditlens verify REPORT.pdf`` found: the verdict, the signer, every finding."""

    path: str
    sha256: str
    size: int
    findings: list[Finding] = field(default_factory=list)
    signed: bool = False
    signer: str = ""  # the certificate's subject (RFC 4514)
    key_id: str = ""  # SHA-256 of the key's SubjectPublicKeyInfo, as in a trust store
    certificate_sha256: str = ""
    signed_at: str = ""  # claimed by the signer (CMS signingTime), RFC 3339
    signed_bytes: int = 0
    owner: str = ""  # the trust store's owner of the key, when trusted

    @property
    def verdict(self) -> Verdict:
        """The verdict from the findings (docs/verification.md §3)."""
        return verdict_of(self.findings, sealed=self.signed)

    def to_json(self) -> dict[str, Any]:
        """The JSON form used by ``verify --json``."""
        return {
            "path": self.path,
            "verdict": self.verdict.value,
            "sha256": self.sha256,
            "size": self.size,
            "signed": self.signed,
            "signer": self.signer,
            "key_id": self.key_id,
            "certificate_sha256": self.certificate_sha256,
            "signed_at": self.signed_at,
            "signed_bytes": self.signed_bytes,
            "owner": self.owner,
            "findings": [f.to_json() for f in self.findings],
        }


def is_pdf(path: Path) -> bool:
    """Whether ``path`` is a file that ``auditlens verify`` reads as a PDF report."""
    if not path.is_file():
        return False
    if path.suffix.lower() == ".pdf":
        return True
    try:
        with path.open("rb") as stream:
            return stream.read(5) == b"%PDF-"
    except OSError:
        return False


def _ends_at_eof(data: bytes) -> bool:
    """Whether the last line of ``data`` is ``%%EOF`` (end-of-line characters may follow)."""
    return data.rstrip(b"\r\n\t\f \x00").endswith(b"%%EOF")


def verify_report_pdf(path: Path, trust: TrustStore) -> ReportSignatureCheck:
    """Check the signature of the PDF report at ``path`` against ``trust`` (module docstring)."""
    where = str(path)
    sink = FindingSink()
    # Step 1: read once and hash before parsing (docs/robustness.md).
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            check = ReportSignatureCheck(where, "", size)
            sink.add("REPORT_INVALID", f"{size} bytes, larger than {MAX_REPORT_BYTES}", path=where)
            check.findings = sink.findings
            return check
        data = path.read_bytes()
    except OSError as exc:
        check = ReportSignatureCheck(where, "", 0)
        sink.add("REPORT_INVALID", f"cannot read: {exc.strerror}", path=where)
        check.findings = sink.findings
        return check
    check = ReportSignatureCheck(where, hashlib.sha256(data).hexdigest(), len(data))
    check.findings = sink.findings
    if not data.startswith(b"%PDF-"):
        sink.add(
            "REPORT_INVALID",
            "not a PDF file",
            path=where,
            expected="%PDF-",
            actual=data[:8].hex(),
        )
        return check
    # Step 2: one signature dictionary.
    ranges = list(_BYTE_RANGE.finditer(data))
    if not ranges:
        marker = b"/ByteRange" in data or b"/Type /Sig" in data
        if marker:
            sink.add(
                "REPORT_BAD_SIGNATURE",
                "a signature dictionary without a readable /ByteRange",
                path=where,
            )
            check.signed = True
        elif not _ends_at_eof(data):
            # A signed report cut short loses its signature (written last, §4) and would read
            # as merely unsigned: a file that does not end as a PDF must (ISO 32000-1 §7.5.5)
            # is named for what it is.
            sink.add(
                "REPORT_INVALID",
                "the file does not end with %%EOF: it is cut short or not a whole PDF (a "
                "signature written at its end would be lost)",
                path=where,
                expected="%%EOF at the end",
                actual=data[-16:].hex(),
            )
        else:
            sink.add(
                "REPORT_UNSIGNED",
                "the PDF carries no signature: who wrote it, and whether it changed since, "
                "cannot be proven",
                path=where,
            )
        return check
    check.signed = True
    if len(ranges) > 1:
        sink.add(
            "REPORT_BAD_SIGNATURE",
            f"{len(ranges)} signature byte ranges; a report carries exactly one signature",
            path=where,
            expected="1",
            actual=str(len(ranges)),
        )
        return check
    first, length1, second, length2 = (int(v) for v in ranges[0].groups())
    contents = _step3_coverage(data, (first, length1, second, length2), sink, where)
    if contents is None:
        return check
    check.signed_bytes = length1 + length2
    # Hashed from views of the file: a copy of the signed ranges would double a large report.
    view = memoryview(data)
    signed = hashlib.sha256(view[first : first + length1])
    signed.update(view[second : second + length2])
    try:
        cms = _parse_cms(bytes.fromhex(contents.decode("ascii")))
    except (_DerError, ValueError, IndexError) as exc:
        sink.add(
            "REPORT_BAD_SIGNATURE",
            f"the signature is not a readable CMS SignedData: {exc}",
            path=where,
            offset=first + length1,
        )
        return check
    _describe_signer(check, cms)
    # Step 5: the signed digest is the digest of the signed bytes.
    actual = signed.digest()
    if cms.message_digest != actual:
        sink.add(
            "REPORT_DIGEST_MISMATCH",
            "the signed bytes of the report changed after it was signed",
            path=where,
            expected=cms.message_digest.hex(),
            actual=actual.hex(),
        )
    # Step 6: the signature over the signed attributes, and the certificate's own signature.
    problem = _step6_signature(cms)
    if problem:
        sink.add("REPORT_BAD_SIGNATURE", problem, path=where, actual=check.key_id)
        return check
    # Step 7: trust, the check of a bundle's signer (docs/verification.md §2, step 4) with the
    # signing time the report claims.
    trusted = check_signer(
        trust,
        check.key_id,
        check.signed_at,
        sink,
        where=where,
        made="report signed (by its own claim)",
        signer=check.signer,
    )
    if trusted is not None:
        check.owner = trusted.owner
    return check


def _step6_signature(cms: _SignedData) -> str:
    """Step 6: what is wrong with the signature, or "" when it verifies."""
    public = cms.certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return f"the signer's key is a {type(public).__name__}, not ECDSA P-256 or RSA"
    try:
        algorithm = algorithm_of(public)
    except SigningKeyError as exc:
        return f"the signer's key is not allowed: {exc.message}"
    expected = _ECDSA_SHA256 if algorithm == "ecdsa-p256-sha256" else _RSA_PSS_SHA256
    if cms.signature_algorithm != expected:
        return (
            f"the signature algorithm is not the one a {algorithm} key signs reports with "
            f"(found {cms.signature_algorithm.hex()})"
        )
    if not verify_signature(public, algorithm, cms.signature, cms.signed_attributes):
        return f"the signature does not verify with the certificate's key ({algorithm})"
    # The examiner's certificate is self-signed (pdfsign.examiner_certificate): its own
    # signature binds the name shown as the signer to the key, so a changed name is caught.
    try:
        cms.certificate.verify_directly_issued_by(cms.certificate)
    except (ValueError, TypeError, InvalidSignature) as exc:
        return (
            "the certificate is not self-signed by its key, so the name in it is not bound to "
            f"the key: {exc or type(exc).__name__}"
        )
    return ""


def _step3_coverage(
    data: bytes, byte_range: tuple[int, int, int, int], sink: FindingSink, where: str
) -> bytes | None:
    """Step 3: the range covers all but the /Contents hex string; that string's hex digits."""
    first, length1, second, length2 = byte_range
    gap_start, gap_end = first + length1, second
    end = second + length2
    if first != 0 or not 0 < gap_start < gap_end <= end or end > len(data):
        sink.add(
            "REPORT_NOT_COVERED",
            "the signature's byte range does not start at byte 0 and stay within the file",
            path=where,
            expected=f"0 .. {len(data)}",
            actual=f"[{first} {length1} {second} {length2}]",
        )
        return None
    hexed = data[gap_start:gap_end]
    if (
        len(hexed) < 2
        or hexed[:1] != b"<"
        or hexed[-1:] != b">"
        or not _HEX.fullmatch(hexed[1:-1])
        or not data[:gap_start].rstrip().endswith(b"/Contents")
    ):
        sink.add(
            "REPORT_NOT_COVERED",
            "the bytes left out of the signature are not only the /Contents hex string",
            path=where,
            offset=gap_start,
            actual=f"{gap_end - gap_start} bytes from byte {gap_start}",
        )
        return None
    if end < len(data):
        sink.add(
            "REPORT_NOT_COVERED",
            f"{len(data) - end} bytes after the signed range: appended after the signature "
            "(an incremental update or added data), not signed",
            path=where,
            offset=end,
            expected=f"{end} bytes",
            actual=f"{len(data)} bytes",
        )
    digits = hexed[1:-1]
    if len(digits) % 2 or len(digits) > 2 * MAX_SIGNATURE_BYTES:
        sink.add(
            "REPORT_BAD_SIGNATURE",
            f"/Contents holds {len(digits)} hex digits",
            path=where,
            offset=gap_start,
        )
        return None
    return digits


def _describe_signer(check: ReportSignatureCheck, cms: _SignedData) -> None:
    certificate = cms.certificate
    check.signer = certificate.subject.rfc4514_string()
    check.certificate_sha256 = hashlib.sha256(
        certificate.public_bytes(serialization.Encoding.DER)
    ).hexdigest()
    # The key id of core/crypto/keys.key_id (SHA-256 of the DER SubjectPublicKeyInfo), computed
    # here for any key type, so that a refused key is still named.
    check.key_id = hashlib.sha256(
        certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).hexdigest()
    if cms.signing_time is not None:
        check.signed_at = cms.signing_time.strftime("%Y-%m-%dT%H:%M:%SZ")
