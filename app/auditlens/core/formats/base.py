"""What every evidence format is: a name, a recognition, a split into records, a sample.

A format (one module each, registered in :mod:`auditlens.core.formats.registry`, in the manner of
plaso's parsers) answers three questions about an input file:

* **recognise**: given the input's first bytes and its first non-blank line (:class:`Sample`),
  is the input in this format? The answer is ``None`` (yes) or the reason why not, so that an
  input no format reads is refused with every format's reason (docs/case.md, "Accepted formats").
* **split**: the input's records, one :class:`SourceRecord` each, in input order: the lines the
  sealer stores and the raw importer indexes.
* **event**: how a stored record becomes a normalized event is the record form's
  (:func:`auditlens.core.formats.records.record_form`): the same for a record sealed in a bundle
  and for one read raw.

Recognition runs once per input and the split once per line of it, never per stored record:
the importer's hot path (``store/normalize.py``) pays nothing for the registry.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any, ClassVar, NamedTuple

from auditlens.core.errors import InvalidInputError, LimitExceededError
from auditlens.core.formats.jsontext import MAX_JSON_DOCUMENT, MAX_JSON_LINE, strict_json_loads
from auditlens.core.formats.streams import Prepend, iter_lines


class SourceRecord(NamedTuple):
    """One record ready for sealing.

    A named tuple, immutable as the hand-over of its ``value`` needs (formats/podlogs.py), and
    built once per record of every input: 0.25 against 0.67 us for the frozen dataclass it was
    (``timeit``, this machine). ``value`` takes no part in equality, hashing or ``repr``: it
    is the line's reading, so two records of equal lines are equal whatever reading is kept.

    Attributes:
        line: the canonical single-record line to store (no newline).
        time_ns: the record's event time in Unix nanoseconds, or 0 when it has none.
        kind: ``log``, ``span``, ``audit`` or ``opensearch``.
        path: the input file.
        origin: 1-based line of a text input, or byte offset of a proto message.
        value: ``line`` as the split already read it (strictly), when the format has it: equal
            to what decoding ``line`` gives, so the raw importer maps it without decoding the
            line a second time (``Normalizer.row``); None when the format does not keep it.
    """

    line: bytes
    time_ns: int
    kind: str
    path: str
    origin: int
    value: Any = None

    def _identity(self) -> tuple[bytes, int, str, str, int]:
        return (self.line, self.time_ns, self.kind, self.path, self.origin)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SourceRecord):
            return NotImplemented
        return self._identity() == other._identity()

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, SourceRecord):
            return NotImplemented
        return self._identity() != other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return (
            f"SourceRecord(line={self.line!r}, time_ns={self.time_ns!r}, kind={self.kind!r}, "
            f"path={self.path!r}, origin={self.origin!r})"
        )


_UNREAD = object()


@dataclass
class Sample:
    """The start of an input, as every format's recognition sees it.

    Attributes:
        path: the input file, for messages.
        head: its first (up to) 64 bytes, after decompression.
        number: 1-based line number of the first non-blank line; 0 for binary input.
        line: that line, without its ending (empty for binary input).
    """

    path: str
    head: bytes
    number: int = 0
    line: bytes = b""
    _stream: IO[bytes] | None = field(default=None, repr=False)
    _consumed: bytes = field(default=b"", repr=False)
    _value: Any = field(default=_UNREAD, repr=False)
    _error: InvalidInputError | None = field(default=None, repr=False)
    _document: Any = field(default=_UNREAD, repr=False)
    _text_line: bytes | None = field(default=None, repr=False)

    @property
    def is_text(self) -> bool:
        """Whether the input starts like JSON text (``{`` or ``[`` after blanks)."""
        return self.head.lstrip()[:1] in (b"{", b"[")

    def value(self) -> Any:
        """The first line parsed as strict JSON; raises its error when it is not JSON."""
        if self._value is _UNREAD:
            try:
                self._value = strict_json_loads(
                    self.line, path=self.path, line=self.number, bounded_integers=True
                )
            except InvalidInputError as exc:
                self._value, self._error = None, exc
        if self._error is not None:
            raise self._error
        return self._value

    def text_line(self) -> bytes | None:
        """The first non-blank line of a text input (JSON or not), or None for binary input."""
        if self.is_text:
            return self.line
        return self._text_line

    def line_error(self) -> InvalidInputError | None:
        """Why the first line alone is no strict JSON value, or None (or binary input)."""
        if not self.is_text:
            return None
        try:
            self.value()
        except InvalidInputError as exc:
            return exc
        return None

    def line_is_json(self) -> bool:
        """Whether the first line alone is a JSON value (JSON Lines) or not (a document)."""
        try:
            self.value()
        except LimitExceededError:
            raise
        except InvalidInputError:
            return False
        return True

    def document(self) -> Any:
        """The whole input as one (pretty-printed) JSON document, read once, bounded in size.

        Reading it consumes the input: only a format that splits a whole document calls it.
        """
        if self._document is _UNREAD:
            assert self._stream is not None
            parts = [self._consumed]
            size = len(self._consumed)
            while True:
                chunk = self._stream.read(1 << 20)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_JSON_DOCUMENT:
                    raise LimitExceededError(
                        f"JSON document larger than {MAX_JSON_DOCUMENT} bytes", path=self.path
                    )
                parts.append(chunk)
            self._document = strict_json_loads(
                b"".join(parts), path=self.path, line=1, bounded_integers=True
            )
            self._stream = None
        return self._document

    def stream(self) -> IO[bytes]:
        """The whole input from its first byte (what was sampled, then the rest)."""
        assert self._stream is not None, "the input was read whole as a document"
        stream, self._stream = self._stream, None
        return io.BufferedReader(Prepend(self._consumed, stream), 1 << 20)


_BYTE_ORDER_MARKS = (
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)


def take_sample(stream: IO[bytes], path: str) -> Sample:
    """Read the start of ``stream`` (decompressed) for recognition; it reads on from there.

    Raises:
        InvalidInputError: the input is empty.
    """
    head = stream.read(64)
    if not head:
        raise InvalidInputError("file is empty", path=path)
    for mark, what in _BYTE_ORDER_MARKS:
        if head.startswith(mark):
            # JSON evidence carries none (RFC 8259 §8.1) and a record is sealed as it is: say
            # what the bytes are instead of reading them as a protobuf length prefix.
            raise InvalidInputError(
                f"the file starts with a {what} byte order mark ({mark.hex(' ')}): evidence is "
                "read as UTF-8 JSON without one or as OTLP protobuf; remove the mark from a "
                "copy and give that",
                path=path,
                offset=0,
            )
    replay = io.BufferedReader(Prepend(head, stream), 1 << 20)
    sample = Sample(path, head, _stream=replay)
    if not sample.is_text:
        if b"\x00" in head:
            # Binary: protobuf framing starts with a zero byte for any message below 16 MiB.
            sample._consumed = head
            sample._stream = stream
            return sample
        _sample_text_line(sample, replay)
        return sample
    consumed = bytearray()
    for number, line in iter_lines(replay, path=path, keep_endings=True):
        consumed += line
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            sample.number, sample.line = number, stripped
            break
    sample._consumed = bytes(consumed)
    return sample


MAX_TEXT_LINE = 1 << 20  # a first line of a text log longer than this is no log line


def _sample_text_line(sample: Sample, replay: IO[bytes]) -> None:
    """Read the first non-blank line of a text input that is not JSON (pod logs, ...)."""
    consumed = bytearray()
    number = 0
    while True:
        line = replay.readline(MAX_TEXT_LINE + 1)
        if not line:
            break
        consumed += line
        if len(line) > MAX_TEXT_LINE and not line.endswith(b"\n"):
            break  # no line of text within the bound: the formats reading lines say so
        number += 1
        stripped = line.rstrip(b"\r\n")
        if stripped.strip():
            sample.number, sample._text_line = number, stripped
            break
    sample._consumed = bytes(consumed)


class EvidenceFormat(ABC):
    """One evidence format: its name, how it is recognised and how it is split into records."""

    name: ClassVar[str]
    """Short stable name, as error messages and docs/case.md give it."""
    title: ClassVar[str]
    """What the format is, for a person."""

    @abstractmethod
    def recognise(self, sample: Sample) -> str | None:
        """``None`` when this format reads the input, else why it does not (one short clause)."""

    @abstractmethod
    def split(self, sample: Sample) -> Iterator[SourceRecord]:
        """The input's records in input order; errors name the file and line or offset."""


def json_lines(sample: Sample) -> Iterator[tuple[int, bytes, Any]]:
    """``(number, line, value)`` of every non-blank line of a JSON Lines input, strictly parsed."""
    for number, line in iter_lines(sample.stream(), path=sample.path):
        if line.strip():
            yield (
                number,
                line,
                strict_json_loads(line, path=sample.path, line=number, bounded_integers=True),
            )


def first_line_reason(sample: Sample, form: str, wanted: str) -> str | None:
    """Why a JSON Lines format of record form ``form`` does not read ``sample``, or None."""
    from auditlens.core.formats.records import FORM_TITLES, record_form

    if not sample.is_text:
        return f"starts with bytes {sample.head[:8].hex(' ')}, not JSON text"
    if not sample.line_is_json():
        return f"line {sample.number} is not a JSON value on its own"
    found = record_form(sample.value())
    if found != form:
        return f"line {sample.number} is {FORM_TITLES[found]}, not {wanted}"
    return None


__all__ = [
    "MAX_JSON_LINE",
    "EvidenceFormat",
    "Sample",
    "SourceRecord",
    "first_line_reason",
    "json_lines",
    "take_sample",
]
