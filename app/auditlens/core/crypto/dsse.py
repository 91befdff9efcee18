"""DSSE envelopes (Dead Simple Signing Envelope v1) over the manifest bytes.

Specified in docs/bundle-format.md §9.1.

The signature covers the pre-authentication encoding
``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` (LEN: ASCII decimal byte count), never the
JSON envelope itself, so the envelope's own formatting cannot matter.

This module knows the envelope's structure only; reading the envelope file (its size bound and the
strict JSON rules every bundle document shares) is :mod:`auditlens.core.bundle.envelope`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from auditlens.core.crypto.keys import SigningKey
from auditlens.core.errors import InvalidInputError

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


def envelope_from_json(document: Any, *, source: str) -> Envelope:
    """Return the envelope held by an already parsed JSON document.

    Raises:
        InvalidInputError: when the document is not a DSSE envelope with base64 fields.
    """
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
