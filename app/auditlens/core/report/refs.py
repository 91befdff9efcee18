"""Stable references to events, the same for a record in any case it is imported into.

Issue 14: a bookmark or an exported row must keep naming its record across re-imports.
``stream:STREAM#SEQ`` names a sealed record by its stream and sequence number, which the seal
fixes; ``raw:SHA256#LINE`` names a raw record by its input's SHA-256 and its line (its byte offset
in a protobuf file). A line (or protobuf message) holding several records (an OTLP batch of
spans, the data points of a metrics request) names each as ``raw:SHA256#LINE.K``, its K-th
record (from 1, in the line's order): ``#LINE`` alone would name every record of the batch, and a
bookmark of one span showed another. Neither depends on the order of import, the case's row
numbers or ``ord``. A stream id may hold any character, so the sequence number is what follows
the last ``#``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from auditlens.core.errors import UsageError

# The raw lines holding more than one record, with the first record's number in the input
# (``seq``: a raw input's records are numbered from 1 in file order, so a line's are consecutive).
RAW_LINES_SQL = (
    "SELECT input_id, line, min(seq) AS line_first_seq FROM events "
    "WHERE integrity = 'unsealed' GROUP BY input_id, line HAVING count(*) > 1"
)

# The joins REF_SQL needs after a selection ``(SELECT * FROM events ...) AS events``: the raw
# input's digest, and the first record of the event's line when that line holds several. The
# line is looked up for the selection's own events only (DuckDB joins the distinct lines of the
# selection against ``events``), so a page or an export slice costs one scan of ``events`` and
# binds nothing whose size grows with the case.
REF_JOIN = (
    "LEFT JOIN (SELECT input_id, sha256 FROM inputs) AS inputs USING (input_id) "
    "LEFT JOIN LATERAL (SELECT min(o.seq) AS line_first_seq FROM events AS o "
    "WHERE events.integrity = 'unsealed' AND o.integrity = 'unsealed' "
    "AND o.input_id = events.input_id AND o.line = events.line HAVING count(*) > 1) "
    "AS raw_lines ON TRUE"
)


# The reference of each row of ``events`` with REF_JOIN's tables.
REF_SQL = (
    "CASE WHEN integrity = 'unsealed' THEN 'raw:' || inputs.sha256 || '#' || CAST(line AS VARCHAR)"
    " || CASE WHEN line_first_seq IS NULL THEN ''"
    " ELSE '.' || CAST(seq - line_first_seq + 1 AS VARCHAR) END"
    " ELSE 'stream:' || stream_id || '#' || CAST(seq AS VARCHAR) END"
)

# A raw event's reference without K (``raw:SHA256#LINE``) when its line holds several records,
# else NULL: what bookmarks stored before K existed name such a record by.
LINE_REF_SQL = (
    "CASE WHEN integrity = 'unsealed' AND line_first_seq IS NOT NULL THEN 'raw:' || "
    "inputs.sha256 || '#' || CAST(line AS VARCHAR) END"
)

_RAW = re.compile(r"raw:(?P<digest>[0-9a-f]{64})#(?P<line>[0-9]+)(?:\.(?P<part>[1-9][0-9]*))?")
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
    part: int | None = None  # K of raw:SHA256#LINE.K: the K-th record of a shared line


def parse_ref(text: str) -> EventRef:
    """Read ``stream:STREAM#SEQ`` or ``raw:SHA256#LINE`` (``raw:SHA256#LINE.K``).

    Raises:
        UsageError: if ``text`` is neither.
    """
    if len(text) <= MAX_REF_LENGTH:
        if m := _RAW.fullmatch(text):
            part = int(m["part"]) if m["part"] else None
            return EventRef(text, input_sha256=m["digest"], line=int(m["line"]), part=part)
        if m := _STREAM.fullmatch(text):
            return EventRef(text, stream_id=m["stream"], seq=int(m["seq"]))
    raise UsageError(
        f"{text[:80]!r} is not an event reference: stream:STREAM#SEQ for a sealed record, "
        "raw:SHA256#LINE (or #LINE.K, the K-th record of a line) for raw evidence"
    )
