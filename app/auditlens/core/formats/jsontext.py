"""The one JSON reading of AuditLens: strict, with the same rules for sealing and importing.

Evidence records, manifests, envelopes, trust stores and the journal are all read here
(docs/case.md, "Accepted formats"). The rules are those of I-JSON (RFC 7493): UTF-8 text, no
duplicate object keys (§2.3), no lone surrogates (§2.1), no NaN, Infinity or numbers that
overflow a double (§2.2); nesting is bounded by the interpreter's recursion limit and, for
evidence, integers by :data:`MAX_INT_DIGITS` digits.

The reference reading is Python's ``json`` module with hooks that enforce each rule
(:func:`python_json_loads`); it costs about 7 us per audit record. :func:`strict_json_loads`
first tries msgspec (about 1.5 us with the checks below) and keeps its answer only when it is
provably the reference's: msgspec refuses NaN, Infinity, numbers beyond a double, lone
surrogates, control characters and invalid UTF-8 on its own; a duplicated key is ruled out by
:func:`keys_unique`; long digit runs (a possible integer beyond :data:`MAX_INT_DIGITS` digits)
and many brackets (a possible nesting near the recursion limit) go to the reference. Anything
msgspec refuses or cannot prove is read by the reference, so every error message is the
reference's. tests/core/formats/test_jsontext.py holds the two to the same answers.

The importer decodes stored records with msgspec for speed (``store/normalize.py``), and msgspec
keeps the last of duplicated keys and refuses lone surrogates on its own.
:func:`keys_unique` lets it prove, from two counts, that a record it decoded had no duplicated key,
and :func:`duplicate_key` names the key when the proof fails: a record the sealer refuses is
never shown by the importer with one of its values silently dropped.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import msgspec

from auditlens.core.errors import InvalidInputError, LimitExceededError

MAX_JSON_LINE = 64 * 1024 * 1024  # the Collector batches; 64 MiB is far above its 4 MiB default.
MAX_JSON_DOCUMENT = 256 * 1024 * 1024  # a single pretty-printed export read whole.
# Digits of a JSON integer (sign aside). A 128-bit value has 39; nothing an audit or telemetry
# record counts needs more, and a longer run of digits is an attempt on the readers after us
# (number parsers, the case database, the display) rather than a value.
MAX_INT_DIGITS = 40

# Opening brackets a line may hold and still be read by msgspec: its nesting is then far below
# the recursion limit at which the reference refuses (about 1,000 levels less the caller's stack).
FAST_MAX_BRACKETS = 256
# A run of more digits than an integer may have (inside a string too: the reference decides).
# (Found by mapping every digit to "0" and every other byte to "." then looking for the run:
# 0.4 us per audit record, where a regular expression took 2.7.)
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_LONG_DIGITS = b"0" * (MAX_INT_DIGITS + 1)
_fast_decode = msgspec.json.Decoder().decode
_fast_encode = msgspec.json.encode
_NOT_PROVED = object()

# A ``\uD800``-``\uDFFF`` escape: the only way JSON text can spell a surrogate (UTF-8 cannot).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


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


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def _check_unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKeyError(key)
        result[key] = value
    return result


def _check_surrogates(data: bytes, value: Any) -> None:
    r"""Refuse a string holding a lone surrogate (RFC 7493 §2.1), which no UTF-8 can carry.

    Python's reader turns ``"\ud800"`` into a string that cannot be written as UTF-8, msgspec
    (the importer's reader) refuses it: the text is checked here so that both agree. A pair of
    escapes spelling one character (``"\ud83d\ude00"``) is one character and passes.
    """
    if _SURROGATE_ESCAPE.search(data) is None:
        return
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        lone = exc.object[exc.start : exc.end]
        raise ValueError(
            f"lone surrogate \\u{ord(lone[0]):04x} in a string (not Unicode text: RFC 8259 "
            f"§8.2, RFC 7493 §2.1)"
        ) from None


def strict_json_loads(
    data: bytes, *, path: str, line: int | None = None, bounded_integers: bool = False
) -> Any:
    """Parse JSON strictly: UTF-8, unique keys, no lone surrogate, no NaN/Infinity/overflow.

    Nesting is bounded. With ``bounded_integers`` (evidence records, which reach the case as
    they are), an integer has at most :data:`MAX_INT_DIGITS` digits. Documents whose parsers
    check the range of each field (manifest, envelope, trust store) leave it off, so a bad value
    is named by its field.

    The answer is always :func:`python_json_loads`'s; msgspec gives it faster when it can prove
    it is the same (module docstring).

    Raises:
        InvalidInputError: naming ``path`` and ``line`` with the parser's reason.
    """
    value = _fast_loads(data)
    if value is _NOT_PROVED:
        return python_json_loads(data, path=path, line=line, bounded_integers=bounded_integers)
    return value


def _fast_loads(data: bytes) -> Any:
    """The msgspec reading of ``data`` when it is provably the reference's, else ``_NOT_PROVED``."""
    if type(data) is not bytes or data.count(b"{") + data.count(b"[") > FAST_MAX_BRACKETS:
        return _NOT_PROVED
    try:
        value = _fast_decode(data)
    except (msgspec.DecodeError, RecursionError):
        return _NOT_PROVED  # the reference refuses it with its own message, or reads it
    # An integer of many digits: refused with bounded integers; without, Python's int() limit
    # (4,300 digits) applies. Neither is msgspec's rule.
    if _LONG_DIGITS in data.translate(_DIGITS_AS_ZERO) or not keys_unique(
        data, _fast_encode(value)
    ):
        return _NOT_PROVED
    return value


def python_json_loads(
    data: bytes, *, path: str, line: int | None = None, bounded_integers: bool = False
) -> Any:
    """:func:`strict_json_loads` by Python's ``json`` module: the reference reading of the rules.

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
        value = json.loads(
            text,
            object_pairs_hook=_check_unique,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int if bounded_integers else None,
        )
        _check_surrogates(data, value)
        return value
    except RecursionError as exc:
        # The C scanner stops at the interpreter's recursion limit (about 1,000 levels): deep
        # nesting is refused in bounded time and memory rather than parsed.
        raise LimitExceededError("JSON nested too deeply", path=path, line=line) from exc
    except _IntegerTooLongError as exc:
        raise LimitExceededError(str(exc), path=path, line=line) from exc
    except ValueError as exc:
        raise InvalidInputError(f"not valid JSON: {exc}", path=path, line=line) from exc


def json_or_none(data: bytes, *, path: str, line: int | None = None) -> Any:
    """``data`` read strictly when it is JSON at all; ``None`` when it is not JSON (a text line).

    A text that is JSON but breaks the rules (a duplicated key, a lone surrogate, NaN, a number
    beyond a double, too deep, an integer of too many digits) is refused, never taken for text.

    Raises:
        InvalidInputError: naming ``path`` and ``line`` with the reason.
    """
    try:
        return strict_json_loads(data, path=path, line=line, bounded_integers=True)
    except InvalidInputError as exc:
        if isinstance(exc.__cause__, json.JSONDecodeError) and not isinstance(
            exc.__cause__.__context__, (_DuplicateKeyError, _IntegerTooLongError)
        ):
            return None
        raise


def dumps_compact(value: Any) -> bytes:
    """Serialize a record the one way the sealer stores it: compact, UTF-8, key order kept."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode(
        "utf-8"
    )


def keys_unique(line: bytes, encoded: bytes) -> bool:
    r"""Whether ``line`` provably has no duplicated object key; False: ask :func:`duplicate_key`.

    ``encoded`` is a compact re-encoding of what ``line`` decoded to (duplicates dropped, every
    ``"`` inside a string written ``\"``). When no key of ``line`` is followed by whitespace
    before its colon and none ends in an escaped backslash, each of its K key tokens ends in
    ``":`` and every other ``":`` sits inside a string as ``\":``; so
    ``count('":') - count('\":')`` is K for ``line`` and, likewise, at most the D keys kept for
    ``encoded``. Equal counts give K <= D, and as D <= K there was no duplicate. Four scans of
    the bytes; a line equal to ``encoded`` (a compact line in its own key order) needs none.
    """
    if encoded == line:
        return True  # the line is its own compact re-encoding: nothing was dropped
    # Tabs, line feeds and carriage returns can only be whitespace between tokens (inside
    # strings they are escaped): a one-byte search, much cheaper than looking for them after a
    # quote. (A record line has no line feed; a document read whole may.)
    if b"\t" in line or b"\n" in line or b"\r" in line or b'" ' in line or b'\\\\":' in line:
        return False
    return line.count(b'":') - line.count(b'\\":') == encoded.count(b'":') - encoded.count(b'\\":')


def duplicate_key(line: bytes) -> str | None:
    """The first key that an object of the JSON text ``line`` holds twice, or None."""
    try:
        json.loads(line, object_pairs_hook=_check_unique)
    except _DuplicateKeyError as exc:
        return exc.key
    except (ValueError, RecursionError):
        return None  # not JSON: the caller's own reader says why
    return None
