"""Step 3, Signature (docs/verification.md §2; the envelope: docs/bundle-format.md §9)."""

from __future__ import annotations

import hashlib

from auditlens.core.bundle.container import Container, Entry
from auditlens.core.bundle.envelope import parse_envelope
from auditlens.core.bundle.manifest import ENVELOPE_PATH, PAYLOAD_TYPE, Manifest
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


def check_signature(
    check: BundleCheck,
    container: Container,
    files: dict[str, Entry],
    manifest: Manifest,
    manifest_bytes: bytes,
) -> str | None:
    """Step 3: the envelope signs exactly ``manifest.json`` with the manifest's allowed key.

    Returns the signer's key id when the signature verifies (step 4 then runs), else ``None``.
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
        check.add("ENVELOPE_INVALID", exc.message, path=where)
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
    return actual_id
