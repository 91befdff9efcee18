"""Readers that turn raw evidence files into single-record lines for sealing.

A sealed data file holds one record per line (docs/bundle-format.md §3): an OTLP/JSON
``ExportLogsServiceRequest`` or ``ExportTraceServiceRequest`` with exactly one resource, one scope
and one log record or span, or an audit-logger JSON object, or an OpenSearch hit, verbatim.

Inputs understood here:

* OTel Collector file-exporter JSON Lines: one export request per line, many records per line;
* a single OTLP/JSON document (pretty-printed, as the OTLP project's examples);
* Collector ``format: proto``: messages behind a 4-byte big-endian length;
* audit-logger JSON Lines and OpenSearch ``_search`` responses or NDJSON of hits;
* any of these compressed whole with zstd or gzip.

Each reader yields :class:`SourceRecord` in input order and never reorders: order of occurrence is
evidence. Errors name the file and the 1-based line (or byte offset for binary input).
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from auditlens.core.bundle.container import MAX_COMPRESSION_RATIO, MIN_RATIO_CHECK_BYTES
from auditlens.core.errors import InvalidInputError, LimitExceededError, UnsupportedFormatError

MAX_JSON_LINE = 64 * 1024 * 1024  # the Collector batches; 64 MiB is far above its 4 MiB default.
MAX_JSON_DOCUMENT = 256 * 1024 * 1024  # a single pretty-printed export read whole.
MAX_PROTO_MESSAGE = 64 * 1024 * 1024  # a length prefix beyond this is corruption, not a batch.
MAX_DECOMPRESSED = 64 * 1024 * 1024 * 1024  # 64 GiB: stops a decompression bomb.
# Digits of a JSON integer (sign aside). A 128-bit value has 39; nothing an audit or telemetry
# record counts needs more, and a longer run of digits is an attempt on the readers after us
# (number parsers, the case database, the display) rather than a value.
MAX_INT_DIGITS = 40

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = b"\x2a\x4d\x18"  # bytes 1-3 of a skippable frame's magic (byte 0 is 0x5?)
_GZIP_MAGIC = b"\x1f\x8b"
_HEX_FIELDS = ("traceId", "spanId", "parentSpanId")


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record ready for sealing.

    Attributes:
        line: the canonical single-record line to store (no newline).
        time_ns: the record's event time in Unix nanoseconds, or 0 when it has none.
        kind: ``log``, ``span``, ``audit`` or ``opensearch``.
        path: the input file.
        origin: 1-based line of a text input, or byte offset of a proto message.
    """

    line: bytes
    time_ns: int
    kind: str
    path: str
    origin: int


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # json turns a number too large for a double (1e400) into inf without complaint; I-JSON
    # (RFC 7493 §2.2) and our canonical form have no infinities, so refuse it like "Infinity".
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} overflows a double")
    return value


class _IntegerTooLongError(ValueError):
    pass


def _bounded_int(text: str) -> int:
    # The scanner calls this for integers only, so records without any pay nothing; int() alone
    # would take up to sys.int_max_str_digits (4,300) digits.
    digits = len(text) - (text[0] == "-")
    if digits > MAX_INT_DIGITS:
        raise _IntegerTooLongError(
            f"integer of {digits} digits exceeds the limit of {MAX_INT_DIGITS} digits"
        )
    return int(text)


def _check_unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def strict_json_loads(
    data: bytes, *, path: str, line: int | None = None, bounded_integers: bool = False
) -> Any:
    """Parse JSON strictly: UTF-8, unique keys, no NaN/Infinity/overflow, bounded nesting.

    With ``bounded_integers`` (evidence records, which reach the case as they are), an integer
    has at most :data:`MAX_INT_DIGITS` digits. Documents whose parsers check the range of each
    field (manifest, envelope, trust store) leave it off, so a bad value is named by its field.

    Raises:
        InvalidInputError: naming ``path`` and ``line`` with the parser's reason.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"invalid UTF-8 at byte {exc.start} of the record", path=path, line=line
        ) from exc
    try:
        return json.loads(
            text,
            object_pairs_hook=_check_unique,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int if bounded_integers else None,
        )
    except RecursionError as exc:
        # The C scanner stops at the interpreter's recursion limit (about 1,000 levels): deep
        # nesting is refused in bounded time and memory rather than parsed.
        raise LimitExceededError("JSON nested too deeply", path=path, line=line) from exc
    except _IntegerTooLongError as exc:
        raise LimitExceededError(str(exc), path=path, line=line) from exc
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", path=path, line=line) from exc


def dumps_compact(value: Any) -> bytes:
    """Serialize a record the one way the sealer stores it: compact, UTF-8, key order kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def _int64(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("boolean is not a timestamp")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 20:
        return int(value)
    if value is None or value == "":
        return 0
    raise ValueError(f"not a 64-bit integer: {value!r}")


_ISO = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$"
)


def parse_time_ns(text: str) -> int:
    """Parse an ISO-8601 / RFC 3339 time (UTC when no offset is given) to Unix nanoseconds."""
    match = _ISO.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO-8601 time: {text!r}")
    date_part, time_part, fraction, zone = match.groups()
    zone = "+00:00" if zone in (None, "Z") else zone
    if len(zone) == 5:
        zone = zone[:3] + ":" + zone[3:]
    moment = datetime.fromisoformat(f"{date_part}T{time_part}{zone}")
    nanos = int((fraction or "0").ljust(9, "0"))
    return int(moment.timestamp()) * 1_000_000_000 + nanos


# --- opening and sniffing -------------------------------------------------------------------


def _is_skippable(head: bytes) -> bool:
    return len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _ZSTD_SKIPPABLE


class _ZstdFrames:
    """Follows the frame and block structure of zstd data as it is read (RFC 8878 §3.1).

    zstandard's stream reader returns what it decoded and then end-of-data when its input stops
    inside a frame, without an error; a file cut at a block boundary then reads as whole lines.
    Block headers give each block's stored size, so following them needs no decompression: the
    data is complete only if it ends exactly after the last block (and checksum) of a frame.
    """

    _MAGIC, _SKIPPABLE_SIZE, _DESCRIPTOR, _BLOCK = range(4)

    def __init__(self) -> None:
        self._state = self._MAGIC
        self._need = 4  # bytes of the next header to gather
        self._header = bytearray()
        self._skip = 0  # bytes to pass over (block contents, skippable frames)
        self._checksum = False
        self.position = 0  # compressed bytes seen
        self.problem: str | None = None  # set when the data is not a zstd stream

    def feed(self, data: bytes) -> None:
        """Account for the next compressed bytes."""
        view = memoryview(data)
        at = 0
        while at < len(view) and self.problem is None:
            if self._skip:
                step = min(self._skip, len(view) - at)
                self._skip -= step
                at += step
                continue
            take = min(self._need - len(self._header), len(view) - at)
            self._header += view[at : at + take]
            at += take
            if len(self._header) == self._need:
                header = bytes(self._header)
                self._header.clear()
                self._advance(header, self.position + at - len(header))
        self.position += len(view)

    def _advance(self, header: bytes, offset: int) -> None:
        if self._state == self._MAGIC:
            if header == _ZSTD_MAGIC:
                self._state, self._need = self._DESCRIPTOR, 1
            elif _is_skippable(header):
                self._state, self._need = self._SKIPPABLE_SIZE, 4
            else:
                self.problem = f"data at byte {offset} is not a zstd frame"
        elif self._state == self._SKIPPABLE_SIZE:
            self._skip = int.from_bytes(header, "little")
            self._state, self._need = self._MAGIC, 4
        elif self._state == self._DESCRIPTOR:
            descriptor = header[0]
            single_segment = descriptor >> 5 & 1
            self._checksum = bool(descriptor >> 2 & 1)
            window = 0 if single_segment else 1
            dictionary = (0, 1, 2, 4)[descriptor & 3]
            content_size = (single_segment, 2, 4, 8)[descriptor >> 6]
            self._skip = window + dictionary + content_size
            self._state, self._need = self._BLOCK, 3
        else:
            value = int.from_bytes(header, "little")
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            self._skip = 1 if kind == 1 else size  # an RLE block stores its one byte
            if last:
                self._skip += 4 if self._checksum else 0
                self._state, self._need = self._MAGIC, 4

    def check_complete(self, path: str) -> None:
        """Raise unless the data seen so far ends exactly at the end of a frame.

        Raises:
            InvalidInputError: naming ``path`` and saying where the data stops.
        """
        if self.problem is not None:
            raise InvalidInputError(self.problem, path=path)
        if self._state != self._MAGIC or self._header or self._skip:
            raise InvalidInputError(
                f"zstd data ends inside a frame after {self.position} bytes (truncated)",
                path=path,
            )


class _ObservedFile(io.RawIOBase):
    """A file whose bytes, as they are read, are shown to a :class:`_ZstdFrames`."""

    def __init__(self, inner: IO[bytes], frames: _ZstdFrames) -> None:
        self._inner = inner
        self._frames = frames

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._frames.feed(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _BoundedReader(io.RawIOBase):
    """Caps how many bytes may be decompressed (decompression bombs), and checks the end.

    Two limits, whichever is lower: :data:`MAX_DECOMPRESSED` in all, and
    ``container.MAX_COMPRESSION_RATIO`` times the compressed size (past
    ``container.MIN_RATIO_CHECK_BYTES``), as for an archive's entries: evidence compresses about
    10-20 times, and without the ratio a small bomb would keep an import busy for hours before
    reaching the total. Both are enforced while reading, never trusted from a header.
    """

    def __init__(
        self,
        inner: IO[bytes],
        *,
        path: str,
        compressed: int,
        frames: _ZstdFrames | None = None,
        underlying: IO[bytes] | None = None,
    ) -> None:
        self._inner = inner
        self._underlying = underlying  # the file, when closing ``inner`` leaves it open
        self._path = path
        self._compressed = compressed
        self._frames = frames
        self._total = 0
        limit = MAX_DECOMPRESSED  # read now: tests lower the module's value
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * compressed)
        self._limit = min(limit, budget)
        self._by_ratio = budget < limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(min(len(buffer), 1 << 20))
        if not data and self._frames is not None:
            self._frames.check_complete(self._path)
        self._total += len(data)
        if self._total > self._limit:
            message = f"decompresses to more than {self._limit} bytes"
            if self._by_ratio:
                message += (
                    f" from {self._compressed} compressed: exceeds the ratio limit of "
                    f"{MAX_COMPRESSION_RATIO}"
                )
            raise LimitExceededError(message, path=self._path)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        if self._underlying is not None:
            self._underlying.close()
        super().close()


def open_decompressed(path: Path) -> IO[bytes]:
    """Open ``path`` read-only, transparently decompressing zstd or gzip, within limits.

    Decompressed data is bounded in size and by its compression ratio (:class:`_BoundedReader`);
    zstd data that stops inside a frame is reported as truncated when its end is read.
    """
    raw = path.open("rb")
    try:
        head = raw.read(4)
        raw.seek(0)
        compressed = os.fstat(raw.fileno()).st_size
    except BaseException:
        raw.close()
        raise
    inner: IO[bytes]
    frames = None
    if head.startswith(_ZSTD_MAGIC) or _is_skippable(head):
        import zstandard

        frames = _ZstdFrames()
        inner = zstandard.ZstdDecompressor().stream_reader(
            io.BufferedReader(_ObservedFile(raw, frames), 1 << 17),
            read_across_frames=True,
            closefd=True,
        )
    elif head.startswith(_GZIP_MAGIC):
        inner = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    else:
        return raw
    reader = _BoundedReader(
        inner, path=str(path), compressed=compressed, frames=frames, underlying=raw
    )
    return io.BufferedReader(reader, 1 << 20)


def iter_lines(
    stream: IO[bytes], *, path: str, limit: int = MAX_JSON_LINE
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)`` without the line ending, refusing over-long lines."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            raise LimitExceededError(f"line longer than {limit} bytes", path=path, line=number)
        yield number, line.rstrip(b"\r\n")


# --- OTLP/JSON ------------------------------------------------------------------------------


def _split_otlp(document: dict[str, Any], *, path: str, line: int) -> Iterator[SourceRecord]:
    if "resourceLogs" in document:
        outer, inner, items, kind, time_key = (
            "resourceLogs",
            "scopeLogs",
            "logRecords",
            "log",
            "timeUnixNano",
        )
    elif "resourceSpans" in document:
        outer, inner, items, kind, time_key = (
            "resourceSpans",
            "scopeSpans",
            "spans",
            "span",
            "startTimeUnixNano",
        )
    else:
        raise UnsupportedFormatError("not an OTLP logs or traces export", path=path, line=line)
    resources = document[outer]
    if not isinstance(resources, list):
        raise InvalidInputError(f"{outer} is not a list", path=path, line=line)
    for resource_entry in resources:
        if not isinstance(resource_entry, dict):
            raise InvalidInputError(f"an entry of {outer} is not an object", path=path, line=line)
        resource_part = {k: v for k, v in resource_entry.items() if k != inner}
        for scope_entry in resource_entry.get(inner) or []:
            if not isinstance(scope_entry, dict):
                raise InvalidInputError(
                    f"an entry of {inner} is not an object", path=path, line=line
                )
            scope_part = {k: v for k, v in scope_entry.items() if k != items}
            for record in scope_entry.get(items) or []:
                if not isinstance(record, dict):
                    raise InvalidInputError(
                        f"an entry of {items} is not an object", path=path, line=line
                    )
                try:
                    time_ns = _int64(record.get(time_key))
                    if kind == "log" and not time_ns:
                        time_ns = _int64(record.get("observedTimeUnixNano"))
                except ValueError as exc:
                    raise InvalidInputError(f"{time_key}: {exc}", path=path, line=line) from exc
                single = {outer: [{**resource_part, inner: [{**scope_part, items: [record]}]}]}
                yield SourceRecord(dumps_compact(single), time_ns, kind, path, line)


def _audit_record(document: dict[str, Any], raw: bytes, *, path: str, line: int) -> SourceRecord:
    try:
        time_ns = parse_time_ns(str(document["timestamp"]))
    except (KeyError, ValueError) as exc:
        raise InvalidInputError(
            f"audit record has no valid timestamp: {exc}", path=path, line=line
        ) from exc
    return SourceRecord(raw, time_ns, "audit", path, line)


def _hit_time(source: dict[str, Any]) -> int:
    for key in ("startTime", "time", "@timestamp", "timestamp", "observedTime"):
        value = source.get(key)
        if isinstance(value, str):
            try:
                return parse_time_ns(value)
            except ValueError:
                continue
    return 0


def _hit_record(hit: dict[str, Any], raw: bytes, *, path: str, line: int) -> SourceRecord:
    source = hit.get("_source")
    if not isinstance(source, dict):
        raise InvalidInputError("OpenSearch hit has no _source object", path=path, line=line)
    return SourceRecord(raw, _hit_time(source), "opensearch", path, line)


def classify_document(document: Any) -> str:
    """Name the kind of a parsed JSON document: otlp, search-response, hit, audit or unknown."""
    if not isinstance(document, dict):
        return "unknown"
    if "resourceLogs" in document or "resourceSpans" in document:
        return "otlp"
    if isinstance(document.get("hits"), dict) and "hits" in document["hits"]:
        return "search-response"
    if "_source" in document:
        return "hit"
    if "timestamp" in document and ("action" in document or "user_id" in document):
        return "audit"
    return "unknown"


def _records_from_document(
    document: Any, raw: bytes, *, path: str, line: int
) -> Iterator[SourceRecord]:
    kind = classify_document(document)
    if kind == "otlp":
        yield from _split_otlp(document, path=path, line=line)
    elif kind == "audit":
        yield _audit_record(document, raw, path=path, line=line)
    elif kind == "hit":
        yield _hit_record(document, raw, path=path, line=line)
    elif kind == "search-response":
        for hit in document["hits"]["hits"]:
            if not isinstance(hit, dict):
                raise InvalidInputError("a search hit is not an object", path=path, line=line)
            yield _hit_record(hit, dumps_compact(hit), path=path, line=line)
    else:
        raise UnsupportedFormatError(
            "record is neither OTLP, audit JSON nor an OpenSearch document", path=path, line=line
        )


# --- OTLP protobuf --------------------------------------------------------------------------


def _hexify(value: Any) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _HEX_FIELDS and isinstance(item, str):
                out[key] = base64.b64decode(item).hex()
            else:
                out[key] = _hexify(item)
        return out
    if isinstance(value, list):
        return [_hexify(item) for item in value]
    return value


def _proto_messages(stream: IO[bytes], *, path: str) -> Iterator[tuple[int, bytes]]:
    offset = 0
    while True:
        prefix = stream.read(4)
        if not prefix:
            return
        if len(prefix) < 4:
            raise InvalidInputError(
                f"truncated length prefix ({len(prefix)} of 4 bytes)", path=path, offset=offset
            )
        size = int.from_bytes(prefix, "big")
        if size > MAX_PROTO_MESSAGE:
            raise LimitExceededError(
                f"length prefix {size} exceeds the limit of {MAX_PROTO_MESSAGE} bytes",
                path=path,
                offset=offset,
            )
        body = stream.read(size)
        if len(body) < size:
            raise InvalidInputError(
                f"message of {size} bytes ends after {len(body)} bytes (truncated)",
                path=path,
                offset=offset,
            )
        yield offset, body
        offset += 4 + size


def _records_from_proto(stream: IO[bytes], *, path: str) -> Iterator[SourceRecord]:
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    for offset, body in _proto_messages(stream, path=path):
        message: Any = None
        try:
            trace = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
            spans = [s for r in trace.resource_spans for sc in r.scope_spans for s in sc.spans]
            # A LogRecord read as a Span has no 16-byte trace id (field 1 is a fixed64 there), so
            # this tells the two signals apart without trusting a file name.
            if spans and all(len(s.trace_id) == 16 for s in spans):
                message = trace
        except DecodeError:
            pass  # a logs request's wire types need not fit the trace schema at all
        if message is None:
            try:
                message = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
            except DecodeError as exc:
                raise InvalidInputError(
                    f"not an OTLP protobuf message: {exc}", path=path, offset=offset
                ) from exc
        document = _hexify(
            json_format.MessageToDict(
                message, use_integers_for_enums=True, preserving_proto_field_name=False
            )
        )
        yield from _split_otlp(document, path=path, line=offset)


# --- entry point ----------------------------------------------------------------------------


def read_records(path: Path) -> Iterator[SourceRecord]:
    """Yield the records of one raw evidence file, in input order.

    Raises:
        InvalidInputError: (or a subclass) naming the file and line or offset of the problem.
    """
    import zstandard

    name = str(path)
    last = 0
    try:
        for record in _read_records(path, name):
            last = record.origin
            yield record
    except InvalidInputError:
        raise
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        # Corrupt compressed data (zstd, gzip, deflate) surfaces from the decompressor.
        raise InvalidInputError(
            f"corrupt or truncated data: {exc}", path=name, line=last or None
        ) from exc
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        # A field of the wrong JSON type (a number where a list belongs, ...).
        raise InvalidInputError(
            f"malformed record: {type(exc).__name__}: {exc}", path=name, line=last + 1
        ) from exc


_BYTE_ORDER_MARKS = (
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def _read_records(path: Path, name: str) -> Iterator[SourceRecord]:
    try:
        stream = open_decompressed(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot open: {exc.strerror}", path=name) from exc
    with stream:
        head = stream.read(64)
        stream.seek(0) if stream.seekable() else None
        if not stream.seekable():
            stream = io.BufferedReader(_Prepend(head, stream))
        first = head.lstrip()[:1]
        if not head:
            raise InvalidInputError("file is empty", path=name)
        for mark, what in _BYTE_ORDER_MARKS:
            if head.startswith(mark):
                # JSON evidence carries none (RFC 8259 §8.1) and a record is sealed as it is:
                # say what the bytes are instead of reading them as a protobuf length prefix.
                raise InvalidInputError(
                    f"the file starts with a {what} byte order mark ({mark.hex(' ')}): evidence "
                    "is read as UTF-8 JSON without one or as OTLP protobuf; remove the mark "
                    "from a copy and give that",
                    path=name,
                    offset=0,
                )
        if first in (b"{", b"["):
            yield from _records_from_json(stream, path=name)
        else:
            yield from _records_from_proto(stream, path=name)


class _Prepend(io.RawIOBase):
    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _records_from_json(stream: IO[bytes], *, path: str) -> Iterator[SourceRecord]:
    lines = iter_lines(stream, path=path)
    for number, line in lines:
        if not line.strip():
            continue
        try:
            document = strict_json_loads(line, path=path, line=number, bounded_integers=True)
        except InvalidInputError:
            if number == 1 or not line.strip().startswith(b"{"):
                # Not JSON Lines: a single (pretty-printed) document. Read it whole, bounded
                # while reading (not after: the rest of the file may be any size).
                parts = [line, b"\n"]
                size = len(line) + 1
                for _, part in lines:
                    size += len(part) + 1
                    if size > MAX_JSON_DOCUMENT:
                        raise LimitExceededError(
                            f"JSON document larger than {MAX_JSON_DOCUMENT} bytes", path=path
                        ) from None
                    parts += (part, b"\n")
                document = strict_json_loads(
                    b"".join(parts), path=path, line=1, bounded_integers=True
                )
                yield from _records_from_document(
                    document, dumps_compact(document), path=path, line=1
                )
                return
            raise
        yield from _records_from_document(document, line, path=path, line=number)
