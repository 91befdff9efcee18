"""Reading a bundle's signature envelope file, ``manifest.dsse.json`` (docs/bundle-format.md §9.1).

The envelope is read under the same strict JSON rules as every other document of a bundle; its
structure and the signature's pre-authentication encoding are :mod:`auditlens.core.crypto.dsse`.
"""

from __future__ import annotations

from auditlens.core.crypto.dsse import MAX_ENVELOPE_BYTES, Envelope, envelope_from_json
from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.jsontext import strict_json_loads


def parse_envelope(data: bytes, *, source: str) -> Envelope:
    """Parse envelope bytes strictly.

    Raises:
        InvalidInputError: when the envelope is too large, not strict JSON, or not DSSE with
            base64 fields.
    """
    if len(data) > MAX_ENVELOPE_BYTES:
        raise InvalidInputError(f"envelope larger than {MAX_ENVELOPE_BYTES} bytes", path=source)
    return envelope_from_json(strict_json_loads(data, path=source), source=source)
