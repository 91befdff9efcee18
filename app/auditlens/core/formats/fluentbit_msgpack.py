"""Fluent Bit's file output in its ``msgpack`` form: its own event stream, written as it is.

Each event is a MessagePack array: ``[[TIME, {metadata}], {record}]`` (Fluent Bit 2.1 and later)
or ``[TIME, {record}]`` (earlier), ``TIME`` an EventTime (extension type 0: 4-byte big-endian
seconds, 4-byte big-endian nanoseconds), an integer or a float of seconds. Events follow each
other with nothing between them.

Recognised by the first bytes: an array of two whose first item is a time or an array.

Split: each event's record becomes a pod log entry as in :mod:`.fluentbit` (the record's own
``time`` first, else the event's); its origin is the event's byte offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

import msgspec

from auditlens.core.errors import InvalidInputError, LimitExceededError
from auditlens.core.formats.base import EvidenceFormat, Sample, SourceRecord
from auditlens.core.formats.fluentbit import fluentbit_record, rfc3339
from auditlens.core.formats.jsontext import MAX_JSON_LINE

MAX_EVENT = MAX_JSON_LINE  # an event is at most as long as a record line may be
MAX_CONTAINERS = 100_000  # maps and arrays in one event: bounded work on hostile input
_EVENT_TIME = 0  # Fluent Bit's extension type for EventTime


class _TruncatedError(Exception):
    """The data ends inside an object: more is needed."""


def _need(data: bytes, at: int, size: int) -> int:
    if at + size > len(data):
        raise _TruncatedError
    return at + size


def _skip(data: bytes, at: int) -> tuple[int, int]:
    """The end of the MessagePack object at ``at`` and how many pairs its maps hold (bounded).

    Iterative, so that nesting costs no recursion; each map's pairs are counted as written, so
    that a map giving a key twice (which a decoder keeps one of) is noticed.
    """
    pending = 1
    depth = 0
    entries = 0
    while pending:
        pending -= 1
        _need(data, at, 1)
        byte = data[at]
        at += 1
        if byte <= 0x7F or byte >= 0xE0 or byte in (0xC0, 0xC2, 0xC3):
            continue  # fixint, negative fixint, nil, false, true
        if 0xA0 <= byte <= 0xBF:  # fixstr
            at = _need(data, at, byte & 0x1F)
            continue
        if 0x80 <= byte <= 0x8F or 0x90 <= byte <= 0x9F:  # fixmap, fixarray
            count = byte & 0x0F
            pending += count * 2 if byte <= 0x8F else count
            entries += count if byte <= 0x8F else 0
            depth += 1
        elif byte in (0xC4, 0xD9):  # bin8, str8
            at = _need(data, at, 1)
            at = _need(data, at, data[at - 1])
        elif byte in (0xC5, 0xDA):  # bin16, str16
            at = _need(data, at, 2)
            at = _need(data, at, int.from_bytes(data[at - 2 : at], "big"))
        elif byte in (0xC6, 0xDB):  # bin32, str32
            at = _need(data, at, 4)
            at = _need(data, at, int.from_bytes(data[at - 4 : at], "big"))
        elif byte in (0xDC, 0xDE):  # array16, map16
            at = _need(data, at, 2)
            count = int.from_bytes(data[at - 2 : at], "big")
            pending += count * 2 if byte == 0xDE else count
            entries += count if byte == 0xDE else 0
            depth += 1
        elif byte in (0xDD, 0xDF):  # array32, map32
            at = _need(data, at, 4)
            count = int.from_bytes(data[at - 4 : at], "big")
            pending += count * 2 if byte == 0xDF else count
            entries += count if byte == 0xDF else 0
            depth += 1
        elif byte in (0xCC, 0xD0):
            at = _need(data, at, 1)
        elif byte in (0xCD, 0xD1):
            at = _need(data, at, 2)
        elif byte in (0xCA, 0xCE, 0xD2):
            at = _need(data, at, 4)
        elif byte in (0xCB, 0xCF, 0xD3):
            at = _need(data, at, 8)
        elif 0xD4 <= byte <= 0xD8:  # fixext 1, 2, 4, 8, 16 (type byte first)
            at = _need(data, at, 1 + (1, 2, 4, 8, 16)[byte - 0xD4])
        elif byte in (0xC7, 0xC8, 0xC9):  # ext8, ext16, ext32
            width = (1, 2, 4)[byte - 0xC7]
            at = _need(data, at, width)
            at = _need(data, at, 1 + int.from_bytes(data[at - width : at], "big"))
        else:  # 0xC1 is never used
            raise ValueError(f"byte 0x{byte:02x} is no MessagePack type")
        if depth > MAX_CONTAINERS:
            raise ValueError(f"more than {MAX_CONTAINERS} maps and arrays in one event")
    return at, entries


def _entries(value: Any) -> int:
    """How many key-value pairs the maps of a decoded value hold (duplicates already dropped)."""
    if type(value) is dict:
        return len(value) + sum(_entries(v) for v in value.values())
    if type(value) is list:
        return sum(_entries(v) for v in value)
    return 0


def _ext_hook(code: int, data: memoryview) -> Any:
    if code == _EVENT_TIME and len(data) == 8:
        return (int.from_bytes(data[:4], "big"), int.from_bytes(data[4:], "big"))
    raise ValueError(f"MessagePack extension type {code} is no Fluent Bit EventTime")


_decode = msgspec.msgpack.Decoder(ext_hook=_ext_hook).decode


# The fast reading of an event (_fast_event), proved equal to _skip plus _decode or not used.
def _keep_event_time(code: int, data: memoryview) -> Any:
    if code == _EVENT_TIME and len(data) == 8:
        return msgspec.msgpack.Ext(code, bytes(data))
    raise ValueError("not an EventTime")


_decode_kept = msgspec.msgpack.Decoder(ext_hook=_keep_event_time).decode
_skip_one = msgspec.msgpack.Decoder(type=msgspec.Raw).decode
_encode = msgspec.msgpack.encode
_TRAILING = re.compile(r"MessagePack data is malformed: trailing characters \(byte (\d+)\)")
_FIXEXT8_EVENT_TIME = bytes((0xD7, _EVENT_TIME))


def _fast_event(buffer: bytes, at: int) -> tuple[int, Any] | None:
    """The end and value of the event at ``at`` as :func:`_skip` and :func:`_decode` give them.

    ``None`` when it is not proved the same; the caller then reads it the careful way. msgspec
    reads one object and says where the rest starts (its message for trailing bytes): a pass
    in C where _skip walked every item in Python (about 20 us of 25 per event, measured). The
    event is then decoded keeping its EventTimes as written; when encoding that value gives the
    event's bytes back, every map held as many pairs as it was written with (no key given
    twice, which _skip counted for) and it has at most the header's EventTime (``d7 00``), which
    becomes the ``(seconds, nanoseconds)`` that _ext_hook gives.
    """
    try:
        _skip_one(memoryview(buffer)[at:])
        end = len(buffer)
    except msgspec.DecodeError as exc:
        trailing = _TRAILING.fullmatch(str(exc))
        if trailing is None:
            return None  # truncated or not MessagePack: _skip says which, and where
        end = at + int(trailing.group(1))
    except RecursionError:
        return None
    if end - at > MAX_CONTAINERS:
        return None  # it could hold more maps and arrays than allowed: _skip counts them
    data = buffer[at:end]
    # The event's end is found first (in C, without building it), then compared with the last
    # metadata's bytes: searching ahead for those bytes instead made every event without
    # metadata (a host's log among pods') pay a search, a copy and a failed reading.
    tail, metadata = _last_tail  # one read: another thread may replace it meanwhile
    if data.endswith(tail):
        event = _with_last_metadata(data, len(tail), metadata)
        if event is not None:
            return end, event
    event = _proved(data)
    if event is not None:
        _learn(data, event)
        return end, event
    return None


def _proved(data: bytes) -> Any:
    """``data`` (one whole event) decoded as :func:`_skip` plus :func:`_decode`, or None."""
    try:
        event = _decode_kept(data)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    if _encode(event) != data:
        return None
    times = data.count(_FIXEXT8_EVENT_TIME)
    if times == 0:
        return event
    if times > 1 or type(event) is not list or len(event) != 2:
        return None
    header = event[0]
    holder = header if type(header) is list and header else event  # [[TIME, {}], {}] or [TIME, {}]
    stamp = holder[0]
    if type(stamp) is not msgspec.msgpack.Ext:
        return None
    when = bytes(stamp.data)
    holder[0] = (int.from_bytes(when[:4], "big"), int.from_bytes(when[4:], "big"))
    return event


# An event whose record's Kubernetes metadata is its predecessor's (as in formats/fluentbit.py,
# read_record): the record is the event's last item and the metadata the record's last entry, so
# the event ends with the same bytes, ``kubernetes`` and its map. The rest is read (the record
# with one entry less) and the metadata's reading kept is added, one object for the run.
_K8S_KEY = _encode("kubernetes")
_last_tail: tuple[bytes, dict[str, Any]] = (b"\x00", {})
_NEW_FORM = b"\x92\x92" + _FIXEXT8_EVENT_TIME  # [[EventTime, {}], {record}]: Fluent Bit 2.1+
_OLD_FORM = b"\x92" + _FIXEXT8_EVENT_TIME  # [EventTime, {record}]: earlier


def _record_start(data: bytes) -> int:
    """Where the record of an event in Fluent Bit's own forms starts (no metadata), or 0."""
    if data.startswith(_NEW_FORM) and data[12:13] == b"\x80":
        return 13  # the outer array, the header array, the EventTime (10 bytes), {}
    if data.startswith(_OLD_FORM):
        return 11  # the outer array, the EventTime
    return 0


def _learn(data: bytes, event: Any) -> None:
    """Keep the tail of an event whose record ends with a Kubernetes metadata map."""
    global _last_tail
    if type(event) is not list or len(event) != 2 or type(event[1]) is not dict:
        return
    metadata = event[1].get("kubernetes")
    if type(metadata) is not dict:
        return
    # The event was proved to be its value encoded: it ends with this when the metadata is the
    # record's last entry.
    tail = _K8S_KEY + _encode(metadata)
    if data.endswith(tail):
        _last_tail = (tail, metadata)


def _with_last_metadata(data: bytes, size: int, metadata: dict[str, Any]) -> Any:
    """The event ``data`` ending with the last tail (``size`` bytes) read with its metadata.

    Why it agrees with reading ``data`` whole: the record's map header at ``start`` counts N
    entries; the same bytes with N - 1 and without the tail are proved one whole event by
    :func:`_proved` (decoded, encoded back to the same bytes: every map's entries as written),
    whose record holds the first N - 1 entries; the tail is the N-th, ``kubernetes`` and a map
    whose reading is ``metadata``. A record holding ``kubernetes`` already is read whole.
    """
    start = _record_start(data)
    if not start:
        return None
    count = data[start] if start < len(data) - size else 0
    if not 0x81 <= count <= 0x8F:
        return None  # a record of more than 15 entries, or not a map: read whole
    event = _proved(data[:start] + bytes((count - 1,)) + data[start + 1 : len(data) - size])
    if type(event) is not list or len(event) != 2 or type(event[1]) is not dict:
        return None
    record = event[1]
    if "kubernetes" in record:
        return None
    record["kubernetes"] = metadata
    return event


def _event_time(value: Any) -> str | None:
    if type(value) is tuple:
        seconds, nanos = value
        return rfc3339(seconds, nanos) if nanos < 1_000_000_000 else None
    if type(value) is int and value >= 0:
        return rfc3339(value, 0)
    if type(value) is float and 0 <= value < 2**33:
        seconds = int(value)
        return rfc3339(seconds, round((value - seconds) * 1e6) * 1000)
    return None


def _events(stream: IO[bytes], path: str) -> Iterator[tuple[int, Any]]:
    buffer = b""
    offset = 0  # of buffer[0] in the input
    while True:
        chunk = stream.read(1 << 20)
        buffer += chunk
        at = 0
        while at < len(buffer):
            fast = _fast_event(buffer, at)
            if fast is not None:
                yield offset + at, fast[1]
                at = fast[0]
                continue
            try:
                end, entries = _skip(buffer, at)
            except _TruncatedError:
                if not chunk:
                    raise InvalidInputError(
                        "the input ends inside an event (truncated)", path=path, offset=offset + at
                    ) from None
                if len(buffer) - at > MAX_EVENT:
                    raise LimitExceededError(
                        f"an event longer than {MAX_EVENT} bytes", path=path, offset=offset + at
                    ) from None
                break
            except ValueError as exc:
                raise InvalidInputError(
                    f"not MessagePack: {exc}", path=path, offset=offset + at
                ) from exc
            try:
                event = _decode(buffer[at:end])
            except (msgspec.DecodeError, ValueError, RecursionError) as exc:
                raise InvalidInputError(
                    f"not a Fluent Bit event: {exc}", path=path, offset=offset + at
                ) from exc
            if _entries(event) != entries:
                raise InvalidInputError(
                    "a map gives a key twice: which value holds is not said by MessagePack",
                    path=path,
                    offset=offset + at,
                )
            yield offset + at, event
            at = end
        buffer = buffer[at:]
        offset += at
        if not chunk:
            return


class FluentBitMsgpack(EvidenceFormat):
    """Fluent Bit's file output, ``Format msgpack``: its event stream as MessagePack."""

    name = "fluentbit-msgpack"
    title = "Fluent Bit file output, msgpack form: [[TIME, {meta}], {record}] events"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        head = sample.head
        if len(head) < 2 or head[0] != 0x92:
            return f"starts with bytes {head[:2].hex(' ')}, not a MessagePack array of two"
        if head[1] not in (0x92, 0xD7, 0xCB, 0xCE, 0xCF) and head[1] > 0x7F:
            return f"the event's first item (byte 0x{head[1]:02x}) is no time nor array"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        for offset, event in _events(sample.stream(), path):
            if type(event) is not list or len(event) != 2:
                raise InvalidInputError("an event is not [time, record]", path=path, offset=offset)
            header, record = event
            when = header[0] if type(header) is list and header else header
            if type(record) is not dict:
                raise InvalidInputError("an event's record is not a map", path=path, offset=offset)
            yield fluentbit_record(record, _event_time(when), path, offset)
