"""Fluent Bit's file output: the platform's logs as its log shipper keeps them (docs/case.md).

The platform ships pod logs (tail input, CRI or Docker parser, Kubernetes filter) through Fluent
Bit. Its ``file`` output writes each record in one of these forms, one format each:

* ``fluentbit-file``: the output's default (``Format out_file``):
  ``TAG: [SECONDS.NANOSECONDS, {record}]`` per line.
* ``fluentbit-json``: ``Format plain``, and the ``json_lines`` form of Fluent Bit's other
  outputs: the record alone as a JSON object per line (``json_lines`` adds a ``date`` key with
  the time in seconds).
* ``fluentbit-msgpack``: ``Format msgpack``, its event stream as it is
  (:mod:`.fluentbit_msgpack`).

A record of the Kubernetes filter holds the container's line (``log``), the runtime's ``time``
and ``stream`` (and ``_p``, the CRI tag) and ``kubernetes``: ``namespace_name``, ``pod_name``,
``pod_id``, ``container_name``, ``host``, ``container_image``, ``docker_id``, ``labels``,
``annotations``. Recognised by the first line's shape (docs/case.md, "Accepted formats"); a
plain line of ``log``, ``stream`` and ``time`` only is Docker's own form (``docker-json-log``).

Split: each record becomes a pod log entry (formats/podlogs.py) with the whole ``kubernetes``
object: the event time is the record's ``time``, else the output's timestamp, else ``date``.

Event: that of a pod log entry; the Kubernetes metadata becomes ``k8s.*`` attributes (labels as
``k8s.pod.label.<name>``, annotations as ``k8s.pod.annotation.<name>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from auditlens.core.errors import InvalidInputError
from auditlens.core.formats.base import EvidenceFormat, Sample, SourceRecord
from auditlens.core.formats.jsontext import FAST_MAX_BRACKETS, dumps_compact, strict_json_loads
from auditlens.core.formats.podlogs import (
    DOCKER_KEYS,
    entry_reading,
    entry_record,
    first_text_line,
)
from auditlens.core.formats.records import record_form
from auditlens.core.formats.streams import iter_lines

_OUT_FILE = re.compile(r"(\S+): \[(\d{1,12})(?:\.(\d{1,9}))?, (\{.*\})\]", re.ASCII | re.DOTALL)
# The same up to the record's first brace, on the line's bytes: with the line ending in "}]" it
# takes the lines _OUT_FILE takes, cut the same way (\S is no ASCII whitespace in both).
_OUT_FILE_HEAD = re.compile(rb"(\S+): \[(\d{1,12})(?:\.(\d{1,9}))?, \{")
_ENTRY_KEYS = frozenset({"log", "stream", "time", "kubernetes", "_p", "date"})


_MINUTES: dict[int, str] = {}  # Unix minute -> "YYYY-MM-DDTHH:MM:" (a day's log: few minutes)
_MINUTES_KEPT = 100_000


def rfc3339(seconds: int, nanos: int) -> str:
    """Unix seconds and nanoseconds as RFC 3339 text in UTC with nine fraction digits."""
    minute, second = divmod(seconds, 60)
    prefix = _MINUTES.get(minute)
    if prefix is None:
        prefix = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%dT%H:%M:")
        if len(_MINUTES) < _MINUTES_KEPT:
            _MINUTES[minute] = prefix
    return f"{prefix}{second:02d}.{nanos:09d}Z"


def _date_time(value: Any) -> str | None:
    """A ``date`` (seconds, as a JSON number) as RFC 3339 text, or None."""
    if type(value) is int and value >= 0:
        return rfc3339(value, 0)
    if type(value) is float and 0 <= value < 2**33:
        seconds = int(value)
        return rfc3339(seconds, round((value - seconds) * 1e6) * 1000)  # a double: microseconds
    return None


# Reading a record whose Kubernetes metadata is its predecessor's (docs/case.md, "Fluent Bit"):
# the Kubernetes filter writes the same object, byte for byte, in every record of a pod, last in
# the record. Its bytes (about 400 to 1,000) cost most of a record's reading; when a record ends
# with the last one's ``,"kubernetes":{...}}``, the rest is read and the metadata's reading kept
# is added, the same object for every record of the run (the pod log caches key on it).
_K8S_MEMBER = b',"kubernetes":'
# The last record's tail (``,"kubernetes":`` METADATA ``}``) and METADATA's strict reading.
_last_tail: tuple[bytes, dict[str, Any]] = (b"\x00", {})


def read_record(data: bytes, path: str, line: int) -> Any:
    """:func:`strict_json_loads` of a Fluent Bit record line: the same value, or the same error.

    Why the two agree, for a record ``data = A + T`` whose tail ``T`` is ``,"kubernetes":`` K
    ``}`` with K a JSON text read strictly to M before: if ``A + "}"`` reads strictly to a
    non-empty object without a ``kubernetes`` key, its last byte closes the top-level object,
    so A ends inside that object after a member's value; then ``data`` is that object with one
    more member, ``kubernetes``: K, whose tokens are K's own (no token spans the seam). Every
    rule holds for ``data`` as it holds for both parts (no duplicate key: the parts' own and
    ``kubernetes`` new; UTF-8, surrogates, numbers: each byte is in one part; nesting: K has at
    most FAST_MAX_BRACKETS brackets, far below the limit). Anything else is read whole.
    tests/core/formats/test_formats_fluentbit.py holds the two to the same answers.
    """
    global _last_tail
    value = _with_last_metadata(data, path, line)
    if value is not None:
        return value
    value = strict_json_loads(data, path=path, line=line, bounded_integers=True)
    if type(value) is not dict or type(value.get("kubernetes")) is not dict:
        return value
    at = data.rfind(_K8S_MEMBER)
    metadata = data[at + len(_K8S_MEMBER) : -1]
    if at < 0 or metadata.count(b"{") + metadata.count(b"[") > FAST_MAX_BRACKETS:
        return value
    try:
        read = strict_json_loads(metadata, path=path, line=line, bounded_integers=True)
    except InvalidInputError:
        return value
    if type(read) is not dict:
        return value
    _last_tail = (data[at:], read)
    return _with_last_metadata(data, path, line) or value


def _with_last_metadata(data: bytes, path: str, line: int) -> dict[str, Any] | None:
    """``data`` read with the last record's metadata when it ends with it (above), else None."""
    tail, metadata = _last_tail  # one read: another thread may replace it meanwhile
    if len(data) <= len(tail) or not data.endswith(tail):
        return None
    rest = data[: len(data) - len(tail)] + b"}"
    value = entry_reading(rest)  # the CRI parser's record, the common one
    if value is None:
        try:
            value = strict_json_loads(rest, path=path, line=line, bounded_integers=True)
        except InvalidInputError:
            return None  # read whole: the whole record's error
    if type(value) is not dict or not value or "kubernetes" in value:
        return None
    value["kubernetes"] = metadata
    return value


def is_fluentbit_record(value: Any) -> bool:
    """Whether a parsed JSON value is a Fluent Bit record of a container's line (not Docker's)."""
    return (
        type(value) is dict
        and (type(value.get("log")) is str or type(value.get("kubernetes")) is dict)
        and not value.keys() <= DOCKER_KEYS
    )


def fluentbit_record(
    record: dict[str, Any], output_time: str | None, path: str, line: int
) -> SourceRecord:
    """The pod log entry of one Fluent Bit record; ``output_time`` is the event's own time."""
    time_text = record.get("time")
    if type(time_text) is not str:
        time_text = output_time or _date_time(record.get("date"))
    if time_text is None:
        raise InvalidInputError(
            "the record has no time (no time, no date, no output timestamp)", path=path, line=line
        )
    stream = record.get("stream")
    if stream is not None and type(stream) is not str:
        raise InvalidInputError("stream is not text", path=path, line=line)
    kubernetes = record.get("kubernetes")
    if kubernetes is not None and type(kubernetes) is not dict:
        raise InvalidInputError("kubernetes is not an object", path=path, line=line)
    text = record.get("log")
    if type(text) is not str:
        # Merge_Log without Keep_Log: the container's line is the record's other keys.
        rest = {k: v for k, v in record.items() if k not in _ENTRY_KEYS}
        text = dumps_compact(rest).decode("utf-8")
    text = text.rstrip("\n")
    return entry_record(time_text, text, text.encode(), stream, kubernetes, path, line)


class FluentBitFile(EvidenceFormat):
    """Fluent Bit's ``file`` output in its default form: ``TAG: [TIME, {record}]``."""

    name = "fluentbit-file"
    title = "Fluent Bit file output, default form: TAG: [SECONDS.NANOS, {record}] per line"

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        line = first_text_line(sample)
        if line is None:
            return "not a text line"
        if _OUT_FILE.fullmatch(line) is None:
            return f"line {sample.number} is not 'TAG: [TIME, {{record}}]': {line[:40]!r}"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        for number, raw in iter_lines(sample.stream(), path=path):
            head = _OUT_FILE_HEAD.match(raw) if raw.endswith(b"}]") else None
            if head is not None and head.group(1).isascii():
                # The line's bytes as _OUT_FILE cuts its text; the record is read as a line of
                # fluentbit-json (any doubt: the line read as text below says why).
                try:
                    record = read_record(raw[head.end() - 1 : -1], path, number)
                except InvalidInputError:
                    record = None
                if type(record) is dict:
                    _tag, seconds, fraction = head.groups()
                    nanos = int(fraction.ljust(9, b"0")) if fraction else 0
                    yield fluentbit_record(record, rfc3339(int(seconds), nanos), path, number)
                    continue
            if not raw.strip():
                continue
            try:
                match = _OUT_FILE.fullmatch(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise InvalidInputError(
                    f"invalid UTF-8 at byte {exc.start} of the line", path=path, line=number
                ) from exc
            if match is None:
                raise InvalidInputError(
                    f"not 'TAG: [TIME, {{record}}]' (Fluent Bit file output): {raw[:60]!r}",
                    path=path,
                    line=number,
                )
            _tag, seconds, fraction, body = match.groups()
            record = strict_json_loads(
                body.encode("utf-8"), path=path, line=number, bounded_integers=True
            )
            nanos = int(fraction.ljust(9, "0")) if fraction else 0
            yield fluentbit_record(record, rfc3339(int(seconds), nanos), path, number)


class FluentBitJson(EvidenceFormat):
    """Fluent Bit records as JSON objects, one per line (``plain``, ``json_lines``)."""

    name = "fluentbit-json"
    title = "Fluent Bit records as JSON lines (file output plain, json_lines): log, kubernetes, ..."

    def recognise(self, sample: Sample) -> str | None:
        """See :meth:`EvidenceFormat.recognise`."""
        if not sample.is_text or not sample.line_is_json():
            return "the first line is not a JSON object"
        value = sample.value()
        if record_form(value) not in ("unknown", "pod-log") or not is_fluentbit_record(value):
            return f"line {sample.number} is no Fluent Bit record (log or kubernetes)"
        return None

    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """See :meth:`EvidenceFormat.split`."""
        path = sample.path
        for number, raw in iter_lines(sample.stream(), path=path):
            if not raw.strip():
                continue
            record = read_record(raw, path, number)
            if not is_fluentbit_record(record) and not (type(record) is dict and "log" in record):
                raise InvalidInputError(
                    "not a Fluent Bit record (log or kubernetes)", path=path, line=number
                )
            yield fluentbit_record(record, None, path, number)
