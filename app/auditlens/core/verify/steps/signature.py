"""Step 3, Signature (docs/verification.md §2; the envelope: docs/bundle-format.md §9)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from typing import Any, NamedTuple

from auditlens.core.bundle.container import Container, Entry
from auditlens.core.bundle.envelope import parse_envelope
from auditlens.core.bundle.manifest import ENVELOPE_PATH, PAYLOAD_TYPE, Manifest, parse_manifest
from auditlens.core.crypto.dsse import MAX_ENVELOPE_BYTES, pae
from auditlens.core.crypto.keys import (
    ALGORITHMS,
    algorithm_of,
    key_id,
    load_public_pem,
    verify_signature,
)
from auditlens.core.errors import Error, InvalidInputError
from auditlens.core.verify.check import BundleCheck


class Signer(NamedTuple):
    """Who signed: the key id, and the manifest that names it (the signed payload's)."""

    key_id: str
    manifest: Manifest


def check_signature(
    check: BundleCheck,
    container: Container,
    files: dict[str, Entry],
    manifest: Manifest,
    manifest_bytes: bytes,
) -> Signer | None:
    """Step 3: the envelope signs exactly ``manifest.json`` with the manifest's allowed key.

    Returns the signer when the signature verifies (step 4 then runs), else ``None``. When the
    signed payload differs from ``manifest.json``, the signature is checked with the signer the
    payload names, whose bytes were signed, never with what the edited manifest.json claims
    (bundle-format §9.1); step 4 then judges that signer and the payload's ``sealed_at``.
    """
    where = f"{check.name}!{ENVELOPE_PATH}"
    check.count_check()
    if ENVELOPE_PATH not in files:
        check.add(
            "ENVELOPE_MISSING",
            "the manifest is not signed: manifest.dsse.json is absent",
            path=where,
        )
        return None
    try:
        envelope = parse_envelope(container.read(ENVELOPE_PATH, MAX_ENVELOPE_BYTES), source=where)
    except InvalidInputError as exc:
        try:
            envelope_bytes = container.read(ENVELOPE_PATH, MAX_ENVELOPE_BYTES)
        except Error:
            envelope_bytes = b""  # too large or unreadable: the error says all there is
        note = _re_encoded_note(envelope_bytes, manifest_bytes, manifest)
        check.add("ENVELOPE_INVALID", exc.message + note, path=where)
        return None
    if envelope.payload_type != PAYLOAD_TYPE:
        check.add(
            "ENVELOPE_INVALID",
            "wrong payload type",
            path=where,
            expected=PAYLOAD_TYPE,
            actual=envelope.payload_type[:200],
        )
    check.count_check()
    if envelope.payload != manifest_bytes:
        check.add(
            "MANIFEST_MISMATCH",
            "the signed manifest differs from manifest.json",
            path=where,
            expected=hashlib.sha256(envelope.payload).hexdigest(),
            actual=hashlib.sha256(manifest_bytes).hexdigest(),
        )
        # A payload that is not a manifest leaves the signer of manifest.json to be tried.
        with contextlib.suppress(InvalidInputError):
            manifest = parse_manifest(envelope.payload, source=where)
    check.count_check()
    try:
        public = load_public_pem(
            manifest.signer_public_key.encode("ascii", "replace"), source=where
        )
        actual_alg = algorithm_of(public)
    except Error as exc:
        check.add(
            "ALGORITHM_REJECTED",
            f"signer key refused: {exc.message}",
            path=where,
            expected=" | ".join(ALGORITHMS),
            actual=manifest.signer_algorithm[:100],
        )
        return None
    if manifest.signer_algorithm not in ALGORITHMS or manifest.signer_algorithm != actual_alg:
        check.add(
            "ALGORITHM_REJECTED",
            "declared algorithm is not allowed or not the key's",
            path=where,
            expected=actual_alg,
            actual=manifest.signer_algorithm[:100],
        )
        return None
    actual_id = key_id(public)
    if actual_id != manifest.signer_key_id:
        check.add(
            "KEY_ID_MISMATCH",
            "signer key id is not the SHA-256 of the signer key",
            path=where,
            expected=actual_id,
            actual=manifest.signer_key_id,
        )
        return None
    check.count_check()
    signatures = [s for s in envelope.signatures if s.key_id == actual_id]
    if not signatures:
        check.add(
            "BAD_SIGNATURE",
            "no signature by the manifest's signer in the envelope",
            path=where,
            expected=actual_id,
            actual=", ".join(s.key_id[:64] for s in envelope.signatures) or "none",
        )
        return None
    message = pae(envelope.payload_type, envelope.payload)
    if not any(verify_signature(public, actual_alg, s.sig, message) for s in signatures):
        check.add(
            "BAD_SIGNATURE",
            "the signature does not verify with the signer's key",
            path=where,
            expected=f"valid {actual_alg} signature by {actual_id}",
            actual="invalid signature",
        )
        return None
    return Signer(actual_id, manifest)


def _re_encoded_note(data: bytes, manifest_bytes: bytes, manifest: Manifest) -> str:
    """Whether an envelope refused for its encoding still holds the intact signed manifest.

    An envelope re-encoded by a tool (URL-safe base64, padding dropped) is not DSSE as the
    format writes it, and stays refused; but when the re-encoded payload is byte for byte
    manifest.json and a signature by the manifest's signer verifies over it, the finding says
    so: what was signed is intact, only its wrapping changed (bundle-format §9.1).
    """

    def lenient(text: Any) -> tuple[bytes, str] | None:
        if not isinstance(text, str) or not text.isascii():
            return None
        how = "URL-safe base64" if "-" in text or "_" in text else "base64"
        how += " without padding" if len(text) % 4 else ""
        try:
            return base64.urlsafe_b64decode(text.replace("+", "-").replace("/", "_") + "=="), how
        except ValueError:
            return None

    try:
        document = json.loads(data)
        payload = lenient(document.get("payload"))
        if payload is None or payload[0] != manifest_bytes:
            return ""
        public = load_public_pem(manifest.signer_public_key.encode("ascii"), source="")
        message = pae(PAYLOAD_TYPE, payload[0])
        for item in document.get("signatures", []):
            sig = lenient(item.get("sig"))
            if sig is not None and verify_signature(
                public, manifest.signer_algorithm, sig[0], message
            ):
                return (
                    f"; read as {payload[1]}, the payload is byte for byte manifest.json and "
                    f"the signature by {manifest.signer_key_id} verifies over it: the signed "
                    "payload is intact, only the envelope was re-encoded"
                )
    except (ValueError, TypeError, AttributeError, RecursionError, Error):
        return ""
    return ""
