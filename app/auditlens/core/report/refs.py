"""Stable references to events, the same for a record in any case it is imported into.

Issue 14: a bookmark or an exported row must keep naming its record across re-imports.
``stream:STREAM#SEQ`` names a sealed record by its stream and sequence number, which the seal
fixes; ``raw:SHA256#LINE`` names a raw record by its input's SHA-256 and its line (its byte offset
in a protobuf file). Neither depends on the order of import, the case's row numbers or ``ord``.
A stream id may hold any character, so the sequence number is what follows the last ``#``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from auditlens.core.errors import UsageError

# The reference of each row of ``events`` joined to ``inputs`` (for the raw input's digest).
REF_SQL = (
    "CASE WHEN integrity = 'unsealed' THEN 'raw:' || inputs.sha256 || '#' || CAST(line AS VARCHAR)"
    " ELSE 'stream:' || stream_id || '#' || CAST(seq AS VARCHAR) END"
)
_RAW = re.compile(r"raw:(?P<digest>[0-9a-f]{64})#(?P<line>[0-9]+)")
_STREAM = re.compile(r"stream:(?P<stream>.+)#(?P<seq>[0-9]+)", re.DOTALL)
MAX_REF_LENGTH = 1024  # a stream id is a short name; a longer reference is a mistake


@dataclass(frozen=True)
class EventRef:
    """A parsed reference: a sealed record (stream, seq) or a raw one (input digest, line)."""

    text: str
    stream_id: str | None = None
    seq: int | None = None
    input_sha256: str | None = None
    line: int | None = None


def parse_ref(text: str) -> EventRef:
    """Read ``stream:STREAM#SEQ`` or ``raw:SHA256#LINE``.

    Raises:
        UsageError: if ``text`` is neither.
    """
    if len(text) <= MAX_REF_LENGTH:
        if m := _RAW.fullmatch(text):
            return EventRef(text, input_sha256=m["digest"], line=int(m["line"]))
        if m := _STREAM.fullmatch(text):
            return EventRef(text, stream_id=m["stream"], seq=int(m["seq"]))
    raise UsageError(
        f"{text[:80]!r} is not an event reference: stream:STREAM#SEQ for a sealed record, "
        "raw:SHA256#LINE for raw evidence"
    )


def event_ref(row: dict[str, Any], input_sha256: str | None = None) -> str:
    """The reference of an event row (``integrity``, ``stream_id``, ``seq``, ``line``).

    Raises:
        UsageError: for a raw event without its input's digest.
    """
    if row.get("integrity") == "unsealed":
        if not input_sha256:
            raise UsageError("a raw event's reference needs its input's SHA-256")
        return f"raw:{input_sha256}#{row['line']}"
    return f"stream:{row['stream_id']}#{row['seq']}"
