"""The examiner's journal: a hash-chained, append-only log of every action on a case.

A case folder holds ``case.duckdb`` and ``journal.jsonl``. The journal is UTF-8 JSON Lines: each
line is the RFC 8785 canonical form of one entry followed by a newline. An entry is an object with
exactly these members:

* ``index``: 0-based position in the chain.
* ``time``: RFC 3339 UTC with microseconds, ``2025-01-31T12:00:00.123456Z``.
* ``action``: what was done (``case_created``, ``import``, ``query``, ``bookmark``, ...).
* ``details``: a JSON object, e.g. ``{"inputs": [{"path": ..., "sha256": ...}], "verdict": ...}``;
  strings, integers (|n| <= 2**53 - 1), booleans, ``null``, arrays and objects only, no floats.
* ``user``: the operating-system user; ``host``: the host name (no network is used).
* ``tool``: ``{"name": "auditlens", "version": ...}``.
* ``libraries``: versions of python, duckdb, pyarrow, cryptography and PySide6 when installed.
* ``prev``: the ``hash`` of the previous entry, 64 zeros for entry 0.
* ``hash``: hex SHA-256 of the RFC 8785 bytes of the entry without ``hash``.

Invariants kept by :meth:`Journal.append`: entry ``n`` is line ``n + 1``; every line is written
whole by one ``write`` on an ``O_APPEND`` descriptor, then ``fsync``; the tail is read and the line
appended under an exclusive ``flock``, so concurrent writers (CLI and GUI at once) neither
interleave bytes nor fork the chain. Append reads only the last line, and refuses to extend a
journal whose last line is torn, malformed or fails its hash, or (given ``expected_head``) one that
does not end at the head the case recorded: appending would make the case record a head that
covers what was removed or added.

The case's side of an append (``case.py``), in this order: (1) *announce*: the case database
durably records the head the new entry will make, ``(index + 1, hash)``, before the line is
written; (2) the line is written and synced; (3) the database records the new head. A process
killed between (1) and (3) leaves exactly one of two states, which :func:`verify_journal` reports
as an *interruption* (not tampering) when it is given the announcement: the announced entry was
never written (the journal ends at the recorded head), or it was written and is the one trailing
entry after the recorded head, linked to it, whose hash is the announced one. The next open of
the case for writing records the interruption in the journal (``journal_recovered``).

:func:`verify_journal` streams the file and reports every problem it finds, each with its entry
index and 1-based line, kind (``edited``, ``deleted``, ``inserted``, ``reordered``, ``truncated``,
``malformed``) and expected versus actual hash, and its status: ``intact``, ``interrupted`` (no
problem, but the last action was interrupted as described above) or ``tampered``.

Honest limits, to be stated wherever the journal is relied on:

* The chain is tamper-evident, not tamper-proof, and it is not signed. Whoever can write the file
  can append well-formed entries, or rewrite every entry from some point on with recomputed hashes
  and links; the file alone then looks intact.
* Removing the last entries (tail truncation) leaves a valid, shorter chain: it cannot be seen from
  the file alone. The case therefore records the journal head (entry count and last hash, from
  :meth:`Journal.head` or the entry :meth:`Journal.append` returns) after each append, and passes
  it as ``expected_head``; verification then detects truncation, a rewritten tail and entries
  appended outside AuditLens. Someone who can rewrite both the journal and the case database
  defeats this too; a head copied into a signed report or kept off the machine does not.
* The interruption rule accepts one trailing entry beyond the recorded head only when the
  database announced exactly that entry's hash, so writing the journal alone cannot pass off an
  appended entry as an interruption. What it cannot tell apart: an entry announced and never
  written from one written and then removed before the case recorded it; both are reported as an
  interruption, never as intact. A case whose database holds no head, no announcement and no
  data, with no journal, is reported as a creation that was interrupted: it has nothing to lose.
* Which of two entries is the forged one is inferred from the links around them: a forgery that
  leaves a link or an index out of place is always reported, but which entry of a multi-entry
  forgery is named is best effort. Entries moved more than
  :data:`MAX_LOOKAHEAD` lines away from their place are reported as deleted, then as reordered.
* Locking uses ``fcntl.flock``: POSIX only, and only as reliable as the file system's support
  (local disks are fine; some network file systems are not).
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import os
import platform
import re
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, BinaryIO

from auditlens import __version__
from auditlens.core.bundle.canonical import MAX_SAFE_INTEGER, canonicalize
from auditlens.core.errors import Error, InvalidInputError
from auditlens.core.formats.jsontext import strict_json_loads

JOURNAL_NAME = "journal.jsonl"
CASE_DB_NAME = "case.duckdb"
GENESIS_PREV = "0" * 64
"""The ``prev`` of entry 0, and the head hash of an empty journal."""

MAX_LINE_BYTES = 1024 * 1024
"""Longest entry line (without its newline). An entry holds a handful of input digests or one
query; anything longer is a bug or an attack, and the verifier must stay in bounded memory."""

MAX_DETAILS_DEPTH = 32
"""Deepest nesting accepted in ``details``; far below the JSON parser's recursion limit."""

MAX_LOOKAHEAD = 4096
"""Entries held while looking for a missing one. Bounds the verifier's memory; an entry moved
farther than this from its place is reported as deleted, then as reordered where it turns up."""

MAX_PROBLEMS = 1000
"""Problems listed in a report; further ones are only counted (``JournalReport.unlisted``)."""

_TAIL_CHUNK = 64 * 1024
_COUNT_CHUNK = 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_ACTION = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")
_ENTRY_KEYS = frozenset(
    {"index", "time", "action", "details", "user", "host", "tool", "libraries", "prev", "hash"}
)
# Library versions recorded with every entry. PySide6 is asked for by distribution name only:
# core must never import Qt (STYLE point 2). The project installs it as PySide6-Essentials.
_LIBRARIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("duckdb", ("duckdb",)),
    ("pyarrow", ("pyarrow",)),
    ("cryptography", ("cryptography",)),
    ("PySide6", ("PySide6", "PySide6-Essentials")),
)


class JournalError(Error):
    """The examiner's journal cannot be used."""


class ProblemKind(StrEnum):
    """What verification found wrong with the journal."""

    EDITED = "edited"
    DELETED = "deleted"
    INSERTED = "inserted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class JournalProblem:
    """One problem, located by entry index and 1-based line where those are known.

    Attributes:
        kind: the class of tampering or damage.
        index: the entry concerned (its claimed or expected 0-based index), or None.
        line: the 1-based line in ``journal.jsonl``, or None when no line holds it.
        message: what was found, for a person.
        expected: the hash (or value) the chain requires, when one applies.
        actual: the hash (or value) found, when one applies.
    """

    kind: ProblemKind
    index: int | None
    line: int | None
    message: str
    expected: str | None = None
    actual: str | None = None

    def describe(self) -> str:
        """One line for a person: location, kind, message, expected versus actual."""
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.index is not None:
            where.append(f"entry {self.index}")
        text = f"{', '.join(where) or 'journal'}: {self.kind.value}: {self.message}"
        if self.expected is not None and self.actual is not None:
            text += f" (expected {self.expected}, actual {self.actual})"
        elif self.expected is not None:
            text += f" (expected {self.expected})"
        elif self.actual is not None:
            text += f" (hash {self.actual})"
        return text


class JournalStatus(StrEnum):
    """The outcome of verification, for a person and for the exit status."""

    INTACT = "intact"
    """No problem, and the chain ends at the head the case recorded (when one was given)."""
    INTERRUPTED = "interrupted"
    """No problem, but the last action was interrupted between its entry and the case recording
    it (see :class:`Interruption`): a warning, not a sign of tampering."""
    TAMPERED = "tampered"
    """At least one problem: the journal is not the one AuditLens wrote."""


@dataclass(frozen=True)
class Interruption:
    """An action interrupted between announcing its entry and recording the new head.

    Attributes:
        index: the entry concerned.
        line: its 1-based line when it was written, None when it was never written.
        hash: the entry's hash (the one the case announced).
        action: the entry's action when it was written, else None.
        message: what happened, for a person.
    """

    index: int
    line: int | None
    hash: str | None
    action: str | None
    message: str

    @property
    def written(self) -> bool:
        """Whether the entry reached the journal."""
        return self.line is not None

    def describe(self) -> str:
        """One line for a person: location and message."""
        where = f"line {self.line}, entry {self.index}" if self.line else f"entry {self.index}"
        return f"{where}: interrupted: {self.message}"


@dataclass(frozen=True)
class JournalReport:
    """The outcome of :func:`verify_journal`. Inspect ``status``; the object has no truth value.

    Attributes:
        status: intact, interrupted (a warning, no problem) or tampered (any problem).
        path: the journal file.
        entries: lines read from the journal (one entry each when intact).
        head: ``(count, last hash)`` of the chain as read: last entry's index + 1 and its hash.
        problems: every problem found, in line order (at most :data:`MAX_PROBLEMS`).
        unlisted: problems found beyond :data:`MAX_PROBLEMS`.
        interrupted: the interrupted action, when the case's records show one.
    """

    status: JournalStatus
    path: Path
    entries: int
    head: tuple[int, str]
    problems: list[JournalProblem] = field(default_factory=list)
    unlisted: int = 0
    interrupted: Interruption | None = None

    @property
    def ok(self) -> bool:
        """True only when the status is ``intact``: no problem and no interruption."""
        return self.status is JournalStatus.INTACT

    def __bool__(self) -> bool:
        # STYLE "avoid": a truthy result object must not decide a security question.
        raise TypeError("a JournalReport has no truth value: read its .ok")


@dataclass(frozen=True)
class JournalEntry:
    """One appended entry, exactly as written (see the module docstring for the fields)."""

    index: int
    time: str
    action: str
    details: dict[str, Any]
    user: str
    host: str
    tool: dict[str, str]
    libraries: dict[str, str]
    prev: str
    hash: str

    @property
    def head(self) -> tuple[int, str]:
        """The journal head right after this entry: ``(index + 1, hash)``."""
        return self.index + 1, self.hash

    def as_dict(self) -> dict[str, Any]:
        """The entry as the JSON object stored on its line."""
        return {
            "index": self.index,
            "time": self.time,
            "action": self.action,
            "details": self.details,
            "user": self.user,
            "host": self.host,
            "tool": self.tool,
            "libraries": self.libraries,
            "prev": self.prev,
            "hash": self.hash,
        }


def entry_hash(entry: Mapping[str, Any]) -> str:
    """The hex SHA-256 of the RFC 8785 bytes of ``entry`` without its ``hash`` member.

    Raises:
        InvalidInputError: if the entry holds a float, an unsafe integer or a non-JSON value.
    """
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(canonicalize(body)).hexdigest()


class Journal:
    """The append side of a case's journal.

    Args:
        case_dir: the case folder; it must exist. The journal file is created by the first append.
    """

    def __init__(self, case_dir: Path) -> None:
        self.case_dir = Path(case_dir)
        self.path = self.case_dir / JOURNAL_NAME

    def append(
        self,
        action: str,
        details: Mapping[str, Any],
        *,
        expected_head: tuple[int, str] | None = None,
        announce: Callable[[JournalEntry], None] | None = None,
    ) -> JournalEntry:
        """Append one entry and make it durable before returning it.

        Args:
            action: what was done; a letter then letters, digits, ``_ . : -`` (at most 100).
            details: a JSON object without floats; tuples are stored as arrays.
            expected_head: the head the case recorded, ``(0, 64 zeros)`` for none; the journal
                must end there, or nothing is written.
            announce: called with the entry, under the lock, after it is built and before its
                line is written; if it raises, nothing is written. The case records the head the
                entry will make here (see the module docstring).

        Returns:
            The entry as written; ``entry.head`` is the new journal head for the case to record.

        Raises:
            JournalError: for bad arguments, a journal whose last line is torn, malformed or fails
                its hash (naming the line), a journal that does not end at ``expected_head``, or a
                failed write.
        """
        if not isinstance(action, str) or not _ACTION.fullmatch(action):
            raise JournalError(
                f"action {action!r} is not a name: a letter, then letters, digits or _ . : -"
            )
        if not isinstance(details, Mapping):
            raise JournalError(f"details must be a JSON object, not {type(details).__name__}")
        clean = _json_value(details, "details", 0)
        # Refuse oversized details before the file is touched (the exact check follows).
        if len(canonicalize(clean)) > MAX_LINE_BYTES - 4096:
            raise JournalError(f"details exceed the journal's {MAX_LINE_BYTES}-byte line limit")
        if not self.case_dir.is_dir():
            raise JournalError("the case folder does not exist", path=str(self.case_dir))

        # A case that recorded entries never starts a new journal: a missing one was removed.
        fd, created = self._open_append(create=expected_head is None or expected_head[0] == 0)
        try:
            _flock(fd, fcntl.LOCK_EX, self.path)
            size = os.fstat(fd).st_size
            tail = _read_tail(fd, size, self.path)
            if expected_head is not None:
                _check_expected_head(tail, expected_head, self.path)
            body: dict[str, Any] = {
                "index": 0 if tail is None else tail.index + 1,
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "action": action,
                "details": clean,
                "user": _user(),
                "host": _host(),
                "tool": {"name": "auditlens", "version": __version__},
                "libraries": dict(_libraries()),
                "prev": GENESIS_PREV if tail is None else tail.hash,
            }
            record = {**body, "hash": entry_hash(body)}
            line = canonicalize(record) + b"\n"
            if len(line) - 1 > MAX_LINE_BYTES:
                raise JournalError(f"entry exceeds the journal's {MAX_LINE_BYTES}-byte line limit")
            entry = JournalEntry(**record)
            if announce is not None:
                announce(entry)
            _write_line(fd, line, size, self.path)
            if created:
                # A new file's directory entry must be durable too, or a crash can lose it.
                _fsync_dir(self.case_dir)
        finally:
            os.close(fd)  # closing the descriptor releases the lock
        return entry

    def head(self) -> tuple[int, str]:
        """The journal head: ``(entry count, hash of the last entry)``, ``(0, 64 zeros)`` if empty.

        Reads the last line only. The case stores this after each append and hands it back to
        :func:`verify_journal` as ``expected_head``, which is how tail truncation is detected.

        Raises:
            JournalError: if the last line is torn, malformed or fails its hash.
        """
        last = self.last_entry()
        return (0, GENESIS_PREV) if last is None else last.head

    def last_entry(self) -> JournalEntry | None:
        """The last entry (None for an absent or empty journal), read from the last line only.

        Raises:
            JournalError: if the last line is torn, malformed or fails its hash.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise JournalError(
                f"cannot open the journal: {exc.strerror}", path=str(self.path)
            ) from exc
        try:
            _flock(fd, fcntl.LOCK_SH, self.path)
            return _read_tail(fd, os.fstat(fd).st_size, self.path)
        finally:
            os.close(fd)

    def _open_append(self, *, create: bool) -> tuple[int, bool]:
        flags = os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW
        if create:
            try:
                return os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o644), True
            except FileExistsError:
                pass
            except OSError as exc:
                raise JournalError(
                    f"cannot create the journal: {exc.strerror}", path=str(self.path)
                ) from exc
        try:
            return os.open(self.path, flags), False
        except FileNotFoundError as exc:
            raise JournalError(
                "the journal is missing but the case recorded entries; refusing to start a new "
                "one: run 'auditlens journal verify'",
                path=str(self.path),
            ) from exc
        except OSError as exc:
            # ELOOP here means journal.jsonl is a symbolic link: refused, never followed.
            raise JournalError(
                f"cannot open the journal: {exc.strerror}", path=str(self.path)
            ) from exc


def verify_journal(
    case_dir: Path,
    *,
    expected_head: tuple[int, str] | None = None,
    announced: tuple[int, str] | None = None,
    case_empty: bool = False,
    entries: Callable[[dict[str, Any]], None] | None = None,
) -> JournalReport:
    """Check the whole journal of a case and report every problem found.

    Steps:
        1. A missing journal is a problem when ``case.duckdb`` exists or ``expected_head`` is not
           empty, except in a case that holds nothing (``case_empty``, no head, nothing announced
           beyond entry 0): its creation was interrupted before its first entry was written. A
           folder with neither file is not a case (:class:`JournalError`).
        2. Each line, streamed: it must end with a newline (else ``truncated``), be at most
           :data:`MAX_LINE_BYTES`, valid UTF-8 JSON without duplicate keys, an object with exactly
           the entry members and types (else ``malformed``).
        3. Its content must hash to its recorded ``hash`` (else ``edited``, expected the recorded
           hash, actual the recomputed one) and the line must be the canonical bytes AuditLens
           writes (else ``edited``).
        4. Chain order: indices must run 0, 1, 2, ... and each ``prev`` must equal the previous
           entry's hash: gaps are ``deleted`` (``truncated`` at the start), extra entries or
           duplicate indices ``inserted``, entries out of file order ``reordered``, a broken link
           between consecutive indices ``edited`` on the entry the link no longer matches.
        5. With ``expected_head=(count, hash)`` from the case: a shorter chain is ``truncated``, a
           different hash at that position ``edited``, entries beyond it ``inserted``, with one
           exception, an interruption: a single entry beyond the head, linked to it, whose head
           ``(count + 1, its hash)`` is ``announced``. A chain that ends at the head while
           ``announced`` is ``(count + 1, some hash)`` is an interruption too (the entry was never
           written); any other ``announced`` that is not the head is ``edited`` (the case's own
           records disagree).

    Without ``expected_head`` the removal of the last entries cannot be detected (see the module
    docstring). Memory is bounded by :data:`MAX_LINE_BYTES` and :data:`MAX_LOOKAHEAD`.

    Args:
        case_dir: the case folder.
        expected_head: the head the case recorded, ``(0, 64 zeros)`` when it recorded none.
        announced: the head the case announced before its last append (see the module
            docstring), if any.
        case_empty: the case database exists and holds no head, announcement, input or event.
        entries: called with each line that is an entry object, in file order, so a reader of
            the entries (the report's table of them) reads the very lines checked, in one read.

    Raises:
        JournalError: when the folder is not a case, a head is not ``(int >= 0, 64 hex)``, or
            the journal cannot be opened.
    """
    case_dir = Path(case_dir)
    path = case_dir / JOURNAL_NAME
    for name, head in (("expected head", expected_head), ("announced head", announced)):
        if head is not None:
            count, head_hash = head
            if (
                not isinstance(count, int)
                or isinstance(count, bool)
                or count < 0
                or not isinstance(head_hash, str)
                or not _HEX64.fullmatch(head_hash)
            ):
                raise JournalError(f"{name} {head!r} is not (count >= 0, 64 hex)")
    sink = _Problems()

    # Step 1: the file itself.
    if not case_dir.is_dir():
        said = (
            "is a file, not a case folder"
            if case_dir.exists()
            else "the case folder does not exist"
        )
        raise JournalError(said, path=str(case_dir))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        has_db = (case_dir / CASE_DB_NAME).exists()
        recorded = 0 if expected_head is None else expected_head[0]
        if (
            case_empty
            and has_db
            and recorded == 0
            and (announced is None or announced[0] in (0, 1))
        ):
            # Killed after creating case.duckdb and before (or while) writing entry 0.
            sink.interrupted = Interruption(
                0,
                None,
                None if announced is None or announced[0] == 0 else announced[1],
                None,
                f"{JOURNAL_NAME} was never written and {CASE_DB_NAME} holds nothing: creating "
                "the case was interrupted before its first entry",
            )
            return sink.report(path, 0, (0, GENESIS_PREV))
        if has_db or recorded:
            because = (
                f"{CASE_DB_NAME} exists" if has_db else f"the case recorded {recorded} entries"
            )
            sink.add(
                ProblemKind.DELETED,
                None,
                None,
                f"{JOURNAL_NAME} is missing from the case ({because})",
            )
            return sink.report(path, 0, (0, GENESIS_PREV))
        raise JournalError(
            f"neither {JOURNAL_NAME} nor {CASE_DB_NAME} exists: not a case folder",
            path=str(case_dir),
        ) from None
    except OSError as exc:
        raise JournalError(f"cannot open the journal: {exc.strerror}", path=str(path)) from exc

    chain = _Chain(sink, expected_head, announced)
    lines = 0
    with os.fdopen(fd, "rb") as stream:
        # Shared lock: never read a line an appender is half-way through writing.
        _flock(stream.fileno(), fcntl.LOCK_SH, path)
        for lineno, raw, complete in _lines(stream):
            lines = lineno
            entry = _check_line(raw, lineno, complete, path, sink, chain)
            if entry is not None and entries is not None:
                entries(entry)
    chain.finish()
    return sink.report(path, lines, chain.head())


# --- verification internals ------------------------------------------------------------------


class _Problems:
    """The findings sink: keeps the first MAX_PROBLEMS problems and counts the rest."""

    def __init__(self) -> None:
        self.items: list[JournalProblem] = []
        self.unlisted = 0
        self.interrupted: Interruption | None = None

    def add(
        self,
        kind: ProblemKind,
        index: int | None,
        line: int | None,
        message: str,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        if len(self.items) >= MAX_PROBLEMS:
            self.unlisted += 1
            return
        self.items.append(JournalProblem(kind, index, line, message, expected, actual))

    def report(self, path: Path, entries: int, head: tuple[int, str]) -> JournalReport:
        ordered = sorted(
            self.items,
            key=lambda p: (
                p.line if p.line is not None else 1 << 62,
                -1 if p.index is None else p.index,
            ),
        )
        if self.items or self.unlisted:
            status = JournalStatus.TAMPERED
        elif self.interrupted is not None:
            status = JournalStatus.INTERRUPTED
        else:
            status = JournalStatus.INTACT
        return JournalReport(
            status=status,
            path=path,
            entries=entries,
            head=head,
            problems=ordered,
            unlisted=self.unlisted,
            interrupted=self.interrupted,
        )


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None, bool]]:
    """Yield ``(lineno, bytes without newline, ended_with_newline)``; oversized lines as None."""
    lineno = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        lineno += 1
        if raw.endswith(b"\n"):
            yield lineno, raw[:-1], True
        elif len(raw) > MAX_LINE_BYTES:
            # Oversized: skip to the end of the line without holding it.
            while True:
                rest = stream.readline(_TAIL_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield lineno, None, True
        else:
            yield lineno, raw, False


def _check_line(
    raw: bytes | None,
    lineno: int,
    complete: bool,
    path: Path,
    sink: _Problems,
    chain: _Chain,
) -> dict[str, Any] | None:
    """Steps 2 and 3 for one line, then hand the entry to the chain (step 4); the entry read."""
    if not complete:
        sink.add(
            ProblemKind.TRUNCATED,
            None,
            lineno,
            "the last line ends without a newline: the file was cut inside an entry or a write "
            "was interrupted",
        )
    if raw is None:
        sink.add(ProblemKind.MALFORMED, None, lineno, f"line longer than {MAX_LINE_BYTES} bytes")
        chain.unreadable(lineno)
        return None
    parsed = _read_entry(raw, lineno, path)
    if isinstance(parsed, str):
        if complete:  # a torn last line is already reported as truncated
            sink.add(ProblemKind.MALFORMED, _index_hint(raw), lineno, parsed)
        chain.unreadable(lineno)
        return None
    entry, body, whole = parsed
    index: int = entry["index"]
    recorded: str = entry["hash"]
    computed = hashlib.sha256(body).hexdigest()
    if computed != recorded:
        sink.add(
            ProblemKind.EDITED,
            index,
            lineno,
            "the entry's content no longer matches its recorded hash",
            expected=recorded,
            actual=computed,
        )
    elif whole != raw:
        sink.add(
            ProblemKind.EDITED,
            index,
            lineno,
            "the line's bytes are not the canonical form AuditLens writes (it was rewritten), "
            "although its content still matches its hash",
        )
    # The chain links through the recorded hash: the next entry committed to it when written.
    chain.feed(_Node(lineno, index, entry["prev"], recorded, entry["action"]))
    return entry


def _read_entry(raw: bytes, lineno: int, path: Path) -> tuple[dict[str, Any], bytes, bytes] | str:
    """Parse one line into ``(entry, canonical bytes without hash, canonical bytes)``, or why not.

    Both canonical forms come from one canonicalization of each member (the verifier's hot
    path): an RFC 8785 object is ``{``, its ``"key":value`` members sorted by key and joined by
    commas, then ``}``; the entry's keys are the fixed ASCII set, so UTF-16 code-unit order is
    plain string order.
    """
    if not raw:
        return "empty line"
    try:
        value = strict_json_loads(raw, path=str(path), line=lineno)
    except InvalidInputError as exc:
        return exc.message
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not an entry object"
    reason = _structure_problem(value)
    if reason is not None:
        return reason
    members: list[tuple[str, bytes]] = []
    try:
        for key in sorted(value):
            members.append((key, canonicalize(key) + b":" + canonicalize(value[key])))
    except InvalidInputError as exc:
        return f"not canonical JSON AuditLens could have written: {exc.message}"
    body = b"{" + b",".join(member for key, member in members if key != "hash") + b"}"
    whole = b"{" + b",".join(member for _, member in members) + b"}"
    return value, body, whole


def _structure_problem(entry: dict[str, Any]) -> str | None:
    """Why ``entry`` is not a journal entry, or None when its members and types are right."""
    keys = set(entry)
    if keys != _ENTRY_KEYS:
        missing = sorted(_ENTRY_KEYS - keys)
        extra = sorted(keys - _ENTRY_KEYS)
        return f"entry members wrong: missing {missing}, unexpected {extra}"
    index = entry["index"]
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        return f"index {index!r} is not a non-negative integer"
    if not isinstance(entry["time"], str) or not _TIME.fullmatch(entry["time"]):
        return f"time {entry['time']!r} is not RFC 3339 UTC with microseconds"
    if not isinstance(entry["action"], str) or not _ACTION.fullmatch(entry["action"]):
        return f"action {entry['action']!r} is not an action name"
    if not isinstance(entry["details"], dict):
        return "details is not an object"
    for name in ("user", "host"):
        if not isinstance(entry[name], str):
            return f"{name} is not a string"
    for name in ("tool", "libraries"):
        table = entry[name]
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            return f"{name} is not an object of strings"
    for name in ("prev", "hash"):
        if not isinstance(entry[name], str) or not _HEX64.fullmatch(entry[name]):
            return f"{name} is not 64 lower-case hex digits"
    return None


def _index_hint(raw: bytes) -> int | None:
    """The index a malformed line claims, when it can be read at all (for the report only)."""
    match = re.search(rb'"index":(\d{1,15})[,}]', raw)
    return int(match.group(1)) if match else None


@dataclass
class _Node:
    """What the chain needs of one well-formed entry line."""

    line: int
    index: int
    prev: str
    hash: str
    action: str = ""
    # (index, line) of an entry earlier in the chain that this one appeared before in the file.
    early: tuple[int, int] | None = None


@dataclass
class _Group:
    """The entries claiming one index; the successor's ``prev`` decides which one is genuine."""

    index: int
    nodes: list[_Node]
    after_gap: bool  # the predecessor is missing or unreadable: no link to check


class _Chain:
    """Step 4: rebuilds the chain in index order from the lines in file order.

    Entries arrive in file order. The one with the expected next index is accepted; one with a
    higher index waits (at most MAX_LOOKAHEAD of them) for the entries before it, which tells a
    reorder (they turn up) from a deletion (they do not); one with a lower index is a duplicate or
    an insertion. A group of entries claiming the same index is settled when the next index
    arrives: its ``prev`` names the genuine one. Links are checked backwards, from each settled
    entry to the settled one before it.
    """

    def __init__(
        self,
        sink: _Problems,
        expected_head: tuple[int, str] | None,
        announced: tuple[int, str] | None,
    ) -> None:
        self.sink = sink
        self.expected_head = expected_head
        self.announced = announced
        self.expect = 0
        self.group: _Group | None = None
        self.pred: _Node | None = None  # last settled genuine entry
        self.pending: dict[int, list[_Node]] = {}
        self.pending_count = 0
        self.missing: list[tuple[int, int]] = []  # index ranges reported deleted
        self.unreadable_lines: list[int] = []  # since the last entry accepted from the file
        self.highest: _Node | None = None  # accepted entry with the highest line so far
        self.at_head: _Node | None = None  # settled entry at expected_head count - 1
        self.past_head: _Node | None = None  # settled entry at expected_head count
        self.run: list[Any] | None = None  # reorder run being merged: [first, last, trigger]

    # Feeding ------------------------------------------------------------------------------------

    def unreadable(self, lineno: int) -> None:
        if len(self.unreadable_lines) < MAX_LOOKAHEAD:
            self.unreadable_lines.append(lineno)

    def feed(self, node: _Node) -> None:
        if node.index == self.expect:
            self._accept(node, after_gap=False)
            self._file_accepted(node)
        elif node.index > self.expect:
            gap = node.index - self.expect
            if not self.pending and gap <= len(self.unreadable_lines):
                # The entries between are the unreadable lines just reported: not deletions.
                self._accept(node, after_gap=True)
                self._file_accepted(node)
                return
            self.pending.setdefault(node.index, []).append(node)
            self.pending_count += 1
            if self.pending_count > MAX_LOOKAHEAD:
                self._jump_gap()
        elif self.group is not None and node.index == self.group.index:
            self.group.nodes.append(node)  # settled when the next index arrives
        elif any(first <= node.index <= last for first, last in self.missing):
            self.sink.add(
                ProblemKind.REORDERED,
                node.index,
                node.line,
                f"entry {node.index} appears far from its place (more than {MAX_LOOKAHEAD} "
                "lines): it was reported deleted where it belongs",
            )
        else:
            self.sink.add(
                ProblemKind.INSERTED,
                node.index,
                node.line,
                f"a second entry with index {node.index}, after the chain has passed that index",
                actual=node.hash,
            )

    def _file_accepted(self, node: _Node) -> None:
        self.unreadable_lines.clear()
        self._drain()

    def _accept(self, node: _Node, *, after_gap: bool) -> None:
        if self.group is not None:
            self._settle(self.group, None if after_gap else node.prev)
        # An entry read before one that precedes it in the chain is out of order.
        high = self.highest
        if high is not None and node.line < high.line:
            node.early = (high.index, high.line)
        else:
            self.highest = node
        self.group = _Group(node.index, [node], after_gap=after_gap)
        self.expect = node.index + 1

    def _drain(self) -> None:
        """Accept the waiting entries that now follow in index order."""
        while self.expect in self.pending:
            nodes = self.pending.pop(self.expect)
            self.pending_count -= len(nodes)
            self._accept(nodes[0], after_gap=False)
            assert self.group is not None
            self.group.nodes.extend(nodes[1:])

    def _jump_gap(self) -> None:
        """Declare the indices before the lowest waiting entry deleted, and go on from it."""
        low = min(self.pending)
        first_line = min(node.line for node in self.pending[low])
        gap = low - self.expect
        explained = sum(1 for line in self.unreadable_lines if line < first_line)
        if gap > explained:
            self._report_gap(self.expect, low - 1, first_line, explained)
            if len(self.missing) < MAX_PROBLEMS:
                self.missing.append((self.expect, low - 1))
        self.unreadable_lines = [line for line in self.unreadable_lines if line > first_line]
        nodes = self.pending.pop(low)
        self.pending_count -= len(nodes)
        self._accept(nodes[0], after_gap=True)
        assert self.group is not None
        self.group.nodes.extend(nodes[1:])
        self._drain()

    def _report_gap(self, first: int, last: int, line: int, explained: int) -> None:
        which = f"entry {first} is" if first == last else f"entries {first}-{last} are"
        note = f" ({explained} unreadable lines may hold some of them)" if explained else ""
        if self.group is None and self.pred is None:
            self.sink.add(
                ProblemKind.TRUNCATED,
                first,
                line,
                f"{which} missing before line {line}: the start of the journal was removed{note}",
            )
        else:
            self.sink.add(
                ProblemKind.DELETED, first, line, f"{which} missing before line {line}{note}"
            )

    # Settling -----------------------------------------------------------------------------------

    def _settle(
        self, group: _Group, successor_prev: str | None, successor: str | None = None
    ) -> None:
        """Pick the genuine entry of ``group``; report the others and its predecessor's link.

        Args:
            group: the entries claiming one index.
            successor_prev: the hash the next entry (or the recorded head) commits to, if known.
            successor: who commits to it, for messages; the next entry by default.
        """
        nodes = group.nodes
        genuine = next((n for n in nodes if n.hash == successor_prev), None)
        linked_by_successor = genuine is not None
        if genuine is None and not group.after_gap:
            want = self._predecessor_hash(group)
            genuine = next((n for n in nodes if n.prev == want), None) if want else None
        if genuine is None:
            genuine = nodes[0]
        for node in nodes:
            if node is genuine:
                continue
            if node.hash == genuine.hash:
                why = f"an exact copy of the entry at line {genuine.line}"
            elif linked_by_successor:
                why = (
                    f"not in the chain: {successor or f'entry {group.index + 1}'} links to the "
                    f"entry with this index at line {genuine.line}"
                )
            else:
                why = (
                    f"a second entry claiming index {group.index}; the file alone cannot tell "
                    f"which is genuine, the one at line {genuine.line} is taken as the chain's"
                )
            self.sink.add(ProblemKind.INSERTED, group.index, node.line, why, actual=node.hash)

        if not group.after_gap:
            if group.index == 0:
                if genuine.prev != GENESIS_PREV:
                    self.sink.add(
                        ProblemKind.EDITED,
                        0,
                        genuine.line,
                        "the first entry's prev is not 64 zeros: it was forged or entries before "
                        "it were removed",
                        expected=GENESIS_PREV,
                        actual=genuine.prev,
                    )
            elif self.pred is not None and genuine.prev != self.pred.hash:
                pred = self.pred
                self.sink.add(
                    ProblemKind.EDITED,
                    pred.index,
                    pred.line,
                    f"entry {genuine.index} (line {genuine.line}) committed to a different hash "
                    f"for entry {pred.index}: entry {pred.index} was rewritten with a recomputed "
                    "hash, or the link was altered",
                    expected=genuine.prev,
                    actual=pred.hash,
                )
        self._note_reorder(genuine)
        if self.expected_head is not None:
            if genuine.index == self.expected_head[0] - 1:
                self.at_head = genuine
            elif genuine.index == self.expected_head[0]:
                self.past_head = genuine
        self.pred = genuine

    def _predecessor_hash(self, group: _Group) -> str | None:
        if group.index == 0:
            return GENESIS_PREV
        if self.pred is not None and self.pred.index == group.index - 1:
            return self.pred.hash
        return None

    def _note_reorder(self, node: _Node) -> None:
        """Merge consecutive early entries sharing one trigger into one ``reordered`` problem."""
        run = self.run
        if (
            run is not None
            and node.early is not None
            and node.early == run[2]
            and node.index == run[1].index + 1
        ):
            run[1] = node
            return
        self._flush_reorder()
        if node.early is not None:
            self.run = [node, node, node.early]

    def _flush_reorder(self) -> None:
        if self.run is None:
            return
        first, last, (trigger_index, trigger_line) = self.run
        self.run = None
        if first is last:
            which = f"entry {first.index} (line {first.line}) appears"
        else:
            which = f"entries {first.index}-{last.index} (lines {first.line}-{last.line}) appear"
        self.sink.add(
            ProblemKind.REORDERED,
            first.index,
            first.line,
            f"{which} before entry {trigger_index} (line {trigger_line}), which precedes "
            f"{'it' if first is last else 'them'} in the chain",
        )

    # End of file --------------------------------------------------------------------------------

    def finish(self) -> None:
        while self.pending:
            # Waiting entries that sit before the last line the chain has reached do not belong
            # to it: had they been its far side, everything after them would be waiting too.
            reached = 0 if self.highest is None else self.highest.line
            for index in sorted(self.pending):
                stray = [n for n in self.pending[index] if n.line < reached]
                for node in stray:
                    self.sink.add(
                        ProblemKind.INSERTED,
                        node.index,
                        node.line,
                        f"index {node.index} does not fit the chain, which reaches entry "
                        f"{self.expect - 1} at line {reached}",
                        actual=node.hash,
                    )
                kept = [n for n in self.pending[index] if n.line >= reached]
                self.pending_count -= len(stray)
                if kept:
                    self.pending[index] = kept
                else:
                    del self.pending[index]
            if self.pending:
                self._jump_gap()
        if self.group is not None:
            head_prev = None
            if self.expected_head is not None and self.expected_head[0] == self.group.index + 1:
                head_prev = self.expected_head[1]
            self._settle(self.group, head_prev, "the head the case recorded")
            self.group = None
        self._flush_reorder()
        if self.expected_head is not None:
            self._check_head(*self.expected_head)

    def head(self) -> tuple[int, str]:
        return (0, GENESIS_PREV) if self.pred is None else (self.pred.index + 1, self.pred.hash)

    def _check_announced_unwritten(self, count: int) -> None:
        """The chain ends at the recorded head, and the case announced something else."""
        assert self.announced is not None
        announced_count, announced_hash = self.announced
        if announced_count == count + 1:
            self.sink.interrupted = Interruption(
                count,
                None,
                announced_hash,
                None,
                f"the case announced entry {count} (hash {announced_hash}) but it was never "
                "written: the action was interrupted before its entry (opening the case for "
                "writing records it)",
            )
            return
        self.sink.add(
            ProblemKind.EDITED,
            None,
            None,
            f"the case announced a head of {announced_count} entries but recorded {count}: its "
            "records of the journal disagree, which no interruption explains",
            expected=announced_hash,
        )

    def _check_head(self, count: int, head_hash: str) -> None:
        """Step 5: compare the chain with the head the case recorded."""
        last = self.pred
        have = 0 if last is None else last.index + 1
        if have < count:
            ends = "is empty" if last is None else f"ends at entry {last.index} (line {last.line})"
            self.sink.add(
                ProblemKind.TRUNCATED,
                have,
                None,
                f"the journal {ends} but the case recorded {count} entries: the last "
                f"{count - have} entries were removed",
                expected=head_hash,
                actual=GENESIS_PREV if last is None else last.hash,
            )
            return
        at = self.at_head
        if count and at is not None and at.hash != head_hash:
            self.sink.add(
                ProblemKind.EDITED,
                at.index,
                at.line,
                f"entry {at.index} is not the head the case recorded after {count} entries: the "
                "tail was rewritten",
                expected=head_hash,
                actual=at.hash,
            )
        if have == count and self.announced is not None and self.announced != (have, head_hash):
            self._check_announced_unwritten(count)
            return
        if have > count:
            past = self.past_head
            if (
                have == count + 1
                and last is not None
                and past is last
                and self.announced == (have, last.hash)
                and last.prev == head_hash
            ):
                self.sink.interrupted = Interruption(
                    last.index,
                    last.line,
                    last.hash,
                    last.action,
                    f"entry {last.index} was written but the case did not record it: the action "
                    "was interrupted (the case announced this entry before writing it; opening "
                    "the case for writing records it)",
                )
                return
            self.sink.add(
                ProblemKind.INSERTED,
                count,
                None if past is None else past.line,
                f"entries {count}-{have - 1} come after the head the case recorded ({count} "
                "entries): they were appended outside AuditLens (an interrupted action leaves at "
                "most one, the entry the case announced)",
            )


# --- append internals ------------------------------------------------------------------------


def _check_expected_head(
    tail: JournalEntry | None, expected_head: tuple[int, str], path: Path
) -> None:
    """Refuse to extend a journal that does not end at the head the case recorded.

    Appending would make the case record a head covering entries removed or added outside
    AuditLens, and verification would then find nothing wrong.
    """
    have = (0, GENESIS_PREV) if tail is None else tail.head
    if have == tuple(expected_head):
        return
    count, head_hash = expected_head
    ends = "is empty" if tail is None else f"ends at entry {tail.index} (hash {tail.hash})"
    recorded = "no entry" if count == 0 else f"{count} entries, the last with hash {head_hash}"
    raise JournalError(
        f"the journal {ends} but the case recorded {recorded}; refusing to append: run "
        "'auditlens journal verify'",
        path=str(path),
    )


def _read_tail(fd: int, size: int, path: Path) -> JournalEntry | None:
    """Read and check the last line only, seeking back from the end (never the whole file)."""
    if size == 0:
        return None
    if os.pread(fd, 1, size - 1) != b"\n":
        raise JournalError(
            "the last line ends without a newline (a write was cut short or the file was "
            "truncated); refusing to append: run 'auditlens journal verify'",
            path=str(path),
            line=_count_lines(fd, size),
        )
    end = size - 1  # offset of the final newline
    low = max(0, end - MAX_LINE_BYTES - 1)
    start: int | None = None
    pos = end
    while pos > low:
        begin = max(low, pos - _TAIL_CHUNK)
        chunk = os.pread(fd, pos - begin, begin)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            start = begin + cut + 1
            break
        pos = begin
    if start is None:
        if low > 0:
            raise JournalError(
                f"the last line is longer than {MAX_LINE_BYTES} bytes; refusing to append",
                path=str(path),
                line=_count_lines(fd, size),
            )
        start = 0
    raw = os.pread(fd, end - start, start)
    parsed = _read_entry(raw, 0, path)
    if isinstance(parsed, str):
        raise JournalError(
            f"the last line is not a journal entry ({parsed}); refusing to append: run "
            "'auditlens journal verify'",
            path=str(path),
            line=_count_lines(fd, size),
        )
    entry, body, _ = parsed
    computed = hashlib.sha256(body).hexdigest()
    if computed != entry["hash"]:
        raise JournalError(
            f"the last entry does not match its hash (recorded {entry['hash']}, computed "
            f"{computed}); refusing to append: run 'auditlens journal verify'",
            path=str(path),
            line=_count_lines(fd, size),
        )
    return JournalEntry(**entry)


def _count_lines(fd: int, size: int) -> int:
    """The 1-based number of the last line; only used to name the line in an error."""
    newlines = 0
    offset = 0
    last = b""
    while offset < size:
        chunk = os.pread(fd, min(_COUNT_CHUNK, size - offset), offset)
        if not chunk:
            break
        newlines += chunk.count(b"\n")
        last = chunk[-1:]
        offset += len(chunk)
    return newlines if last == b"\n" else newlines + 1


def _write_line(fd: int, line: bytes, size: int, path: Path) -> None:
    """Write ``line`` with one ``write`` and make it durable; undo a partial write."""
    try:
        written = os.write(fd, line)
    except OSError as exc:
        _undo_partial(fd, size)
        raise JournalError(f"could not write the journal: {exc.strerror}", path=str(path)) from exc
    if written != len(line):
        # Still under the exclusive lock, so nobody appended after us: cutting back to the
        # size read under the lock removes only our torn line (which would block all appends).
        _undo_partial(fd, size)
        raise JournalError(
            f"short write to the journal ({written} of {len(line)} bytes), entry not recorded",
            path=str(path),
        )
    try:
        os.fsync(fd)
    except OSError as exc:
        raise JournalError(
            f"the entry was written but could not be made durable: {exc.strerror}",
            path=str(path),
        ) from exc


def _undo_partial(fd: int, size: int) -> None:
    try:
        if os.fstat(fd).st_size > size:
            os.ftruncate(fd, size)
            os.fsync(fd)
    except OSError:
        pass  # the next append or verify reports the torn line


def _fsync_dir(directory: Path) -> None:
    try:
        dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the file itself is synced
    finally:
        os.close(dfd)


def _flock(fd: int, operation: int, path: Path) -> None:
    try:
        fcntl.flock(fd, operation)
    except OSError as exc:
        raise JournalError(f"cannot lock the journal: {exc.strerror}", path=str(path)) from exc


def _json_value(value: Any, where: str, depth: int) -> Any:
    """A plain-JSON copy of ``value`` for canonical hashing, or a JournalError naming ``where``."""
    if depth > MAX_DETAILS_DEPTH:
        raise JournalError(f"{where} is nested deeper than {MAX_DETAILS_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = str.__str__(value)  # a plain str, also for str subclasses and enums
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise JournalError(f"{where} holds a lone surrogate, which is not UTF-8") from exc
        return text
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise JournalError(
                f"{where} = {value} is outside the I-JSON integer range (|n| <= 2**53 - 1): "
                "store it as a decimal string"
            )
        return int(value)
    if isinstance(value, float):
        raise JournalError(
            f"{where} is a float ({value!r}): the journal is canonical JSON (RFC 8785) without "
            "floats; store it as a string or an integer"
        )
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise JournalError(f"{where} has a key {key!r} that is not a string")
            out[str.__str__(key)] = _json_value(item, f"{where}.{key}", depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_json_value(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise JournalError(
        f"{where} is a {type(value).__name__}, not a JSON value: convert it first "
        "(e.g. str() for a path, .hex() for bytes)"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        # No login name in the environment and no passwd entry (e.g. a container uid).
        getuid = getattr(os, "getuid", None)
        return f"uid:{getuid()}" if getuid is not None else "unknown"


def _host() -> str:
    try:
        return socket.gethostname()  # the local name only: no DNS, no network
    except OSError:
        return "unknown"


@cache
def _libraries() -> tuple[tuple[str, str], ...]:
    versions = [("python", platform.python_version())]
    for name, distributions in _LIBRARIES:
        for distribution in distributions:
            try:
                versions.append((name, metadata.version(distribution)))
                break
            except metadata.PackageNotFoundError:
                continue
    return tuple(versions)
