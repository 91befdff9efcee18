"""DSSE envelopes (Dead Simple Signing Envelope v1) over the manifest bytes.

The signature covers the pre-authentication encoding
``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` (LEN: ASCII decimal byte count), never the
JSON envelope itself, so the envelope's own formatting cannot matter.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.jsontext import strict_json_loads
from auditlens.core.verify.keys import SigningKey

MAX_ENVELOPE_BYTES = 32 * 1024 * 1024  # payload is the manifest (<= 16 MiB) in base64.


def pae(payload_type: str, payload: bytes) -> bytes:
    """Return the DSSE v1 pre-authentication encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Signature:
    """One signature of an envelope."""

    key_id: str
    sig: bytes


@dataclass(frozen=True)
class Envelope:
    """A parsed DSSE envelope."""

    payload_type: str
    payload: bytes
    signatures: tuple[Signature, ...]


def sign_envelope(payload_type: str, payload: bytes, key: SigningKey) -> bytes:
    """Return the envelope file bytes (compact JSON, one signature by ``key``)."""
    document = {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {
                "keyid": key.key_id,
                "sig": base64.b64encode(key.sign(pae(payload_type, payload))).decode("ascii"),
            }
        ],
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("ascii") + b"\n"


def parse_envelope(data: bytes, *, source: str) -> Envelope:
    """Parse envelope bytes strictly.

    Raises:
        InvalidInputError: when the envelope is not DSSE JSON with base64 fields.
    """
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InvalidInputError(f"envelope larger than {MAX_ENVELOPE_BYTES} bytes", path=source)
    document = strict_json_loads(data, path=source)
    if not isinstance(document, dict):
        raise InvalidInputError("envelope is not a JSON object", path=source)
    try:
        payload_type = document["payloadType"]
        payload = base64.b64decode(document["payload"], validate=True)
        signatures = []
        for item in document["signatures"]:
            signatures.append(
                Signature(str(item.get("keyid", "")), base64.b64decode(item["sig"], validate=True))
            )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # binascii.Error is a ValueError; so is a non-ASCII str handed to b64decode.
        raise InvalidInputError(f"envelope field missing or malformed: {exc}", path=source) from exc
    if not isinstance(payload_type, str):
        raise InvalidInputError("envelope payloadType is not a string", path=source)
    return Envelope(payload_type, payload, tuple(signatures))
