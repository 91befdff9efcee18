"""The case: a folder with ``case.duckdb`` (index, registry, findings) and ``journal.jsonl``.

Invariants:
    * Evidence is never written; the case folder is the only place AuditLens writes.
    * Each input is imported in one DuckDB transaction: a crash leaves the case as it was before
      that input (DuckDB's write-ahead log discards the uncommitted transaction on reopen).
    * DuckDB's spill directory is set explicitly inside the case folder, never the system default.
    * Every journal entry goes through :meth:`Case.journal`: the head the entry will make is
      announced in ``meta`` (``journal_announced``) before the line is written, and the new head
      (``journal_head``, with ``journaled_input`` for an input, in one statement) is recorded
      after. The journal is only extended when it ends at the recorded head, so the case never
      records a head covering entries it did not write. A process killed in between leaves an
      interruption that ``journal verify`` reports as such and the next open for writing records
      (``journal_recovered``); see journal.py.
    * A cancel never cuts an append short: :meth:`Case.interrupt` waits for the journal lock,
      so the statements recording the head are never the ones interrupted. An interrupted head
      write left the line written and the head unrecorded, and every later append of the
      session was refused (the journal no longer ended at the recorded head).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from auditlens.core.errors import InvalidInputError
from auditlens.core.schema import FIELDS

if TYPE_CHECKING:
    from auditlens.core.store.journal import JournalEntry

SCHEMA_VERSION = 1
DB_NAME = "case.duckdb"
# DuckDB's share of the 1.5 GB import budget (docs/architecture.md §8); the decoding workers and
# Python take the rest (measured at 10^7 events: 1.54 GB peak with 1 GB here). Beyond it DuckDB
# spills to the case's temporary folder.
MEMORY_LIMIT = "640MB"
# The case database is attached to an in-memory DuckDB under this name (and made the default
# with USE): only ATTACH takes a row group size. A cursor of the connection starts in the
# in-memory database and must ``USE`` it too (gui/worker.py).
DATABASE = "auditlens_case"
# Rows per row group of the tables written (DuckDB's default: 122,880). Measured on the 10^6-record
# benchmark (9 bundles of 60k-137k records, each one transaction): the commits' CPU fell by about
# a third, the whole import's CPU from 31.9 to 25.9 us per record together with decode.py's
# column building, peak RSS from 1,046 to 873 MB and the case file from 256 to 204 MB; the
# queries of bench_case.py were no slower.
ROW_GROUP_SIZE = 32_768

_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS inputs (
        input_id BIGINT PRIMARY KEY, path VARCHAR, kind VARCHAR, sha256 VARCHAR, size BIGINT,
        imported_at VARCHAR, verdict VARCHAR, bundle_id VARCHAR, record_count BIGINT)""",
    """CREATE TABLE IF NOT EXISTS bundles (
        bundle_id VARCHAR, input_id BIGINT, path VARCHAR, stream_id VARCHAR, epoch BIGINT,
        first_seq BIGINT, last_seq BIGINT, record_count BIGINT, chain_initial VARCHAR,
        chain_final VARCHAR, merkle_root VARCHAR, manifest_sha256 VARCHAR,
        previous_bundle_id VARCHAR,
        signer_key_id VARCHAR, sealed_at VARCHAR, time_first_ns BIGINT, time_last_ns BIGINT,
        verdict VARCHAR, manifest BLOB)""",
    """CREATE TABLE IF NOT EXISTS findings (
        input_id BIGINT, bundle_id VARCHAR, code VARCHAR, severity VARCHAR, path VARCHAR,
        line BIGINT, seq BIGINT, stream_id VARCHAR, message VARCHAR, expected VARCHAR,
        actual VARCHAR)""",
    # Each stream's state over every bundle the case holds (docs/verification.md §3.1),
    # recomputed whenever a bundle of it is imported (store/streams.py).
    """CREATE TABLE IF NOT EXISTS streams (
        stream_id VARCHAR, epoch BIGINT, verdict VARCHAR, bundle_count BIGINT, first_seq BIGINT,
        last_seq BIGINT, open_gaps BIGINT, updated_input_id BIGINT,
        PRIMARY KEY (stream_id, epoch))""",
    # Findings between bundles, with their history: opened by the input whose import revealed
    # them, closed (``closed_input_id``) by the one after which they no longer hold, e.g. the
    # bundle that fills a gap. Open findings are those with ``closed_input_id`` NULL.
    """CREATE TABLE IF NOT EXISTS stream_findings (
        stream_id VARCHAR, epoch BIGINT, code VARCHAR, severity VARCHAR, bundle_id VARCHAR,
        path VARCHAR, seq BIGINT, message VARCHAR, expected VARCHAR, actual VARCHAR,
        opened_input_id BIGINT, closed_input_id BIGINT)""",
    # The events table: _events_ddl.
]

# Columns stored with a compression method of our choosing instead of DuckDB's pick per segment.
# The long texts compress with zstd to a third less than with DuckDB's own choice (dictionary and
# FSST), and cheaper: measured on 300,000 benchmark rows inserted 32,768 at a time, 4.6 against
# 5.3 us of CPU per row, 100 against 162 bytes per row on disk; at 10^7 events the case file is
# 1,140 MB against 1,743 MB, and fetching 1,000 rows spread over the whole case takes as long
# (65 against 52-78 ms). Leaf hashes are random: DuckDB's search for a compression finds none, at
# 0.4 us per row (measured on the same rows with real leaves: 5.3 against 4.9 us, 1 % larger).
# A DuckDB that refuses the clause gets the table without it.
COLUMN_COMPRESSION = {"body": "zstd", "attributes": "zstd", "leaf_hash": "uncompressed"}


def _events_ddl(compression: dict[str, str]) -> str:
    """``CREATE TABLE events``; ``ord`` is the time-order position (queries.refresh_order)."""
    columns = ", ".join(
        f"{f.name} {f.sql}"
        + (f" USING COMPRESSION {compression[f.name]}" if f.name in compression else "")
        for f in FIELDS
    )
    return f"CREATE TABLE IF NOT EXISTS events (ord BIGINT, {columns}, input_id BIGINT)"


# One lock per case file in this process: the workbench journals from its GUI thread, its
# readers' threads and an import's worker, each through its own connection, and an append reads
# the recorded head before it writes (journal.py refuses a journal that moved meanwhile).
_JOURNAL_LOCKS: dict[str, threading.RLock] = {}
_JOURNAL_LOCKS_GUARD = threading.Lock()


def _journal_lock(folder: Path) -> threading.RLock:
    key = str(folder.resolve())
    with _JOURNAL_LOCKS_GUARD:
        return _JOURNAL_LOCKS.setdefault(key, threading.RLock())


# Actions whose entry names an input (``details.input_id``) committed to the database.
_INPUT_ACTIONS = ("import", "import_recovered")
# Tables that hold evidence or findings: a case with rows in any of them is not empty.
_ANY_ROW = {
    "inputs": "SELECT EXISTS (SELECT 1 FROM inputs)",
    "events": "SELECT EXISTS (SELECT 1 FROM events)",
    "bundles": "SELECT EXISTS (SELECT 1 FROM bundles)",
    "findings": "SELECT EXISTS (SELECT 1 FROM findings)",
}


@dataclass(frozen=True)
class JournalRecord:
    """What the case database recorded about its journal, for ``journal verify``.

    Attributes:
        head: the head recorded after the last completed append, ``(0, 64 zeros)`` for none.
        announced: the head announced before the last append began, if any.
        empty: no head, no announcement, no journaled input, and no input, event, bundle or
            finding: nothing the journal could have recorded.
        unjournaled: inputs (id, path) committed to the case that no journal entry names yet (a
            process killed between an input's commit and its entry; the next open for writing
            journals them as ``import_recovered``).
    """

    head: tuple[int, str]
    announced: tuple[int, str] | None
    empty: bool
    unjournaled: tuple[tuple[int, str], ...] = ()


def read_journal_record(folder: Path) -> JournalRecord | None:
    """The case's record of its journal, read-only; None when there is no ``case.duckdb``.

    A database whose tables were never created (a case killed while being made) reads as empty.

    Raises:
        InvalidInputError: if the database cannot be opened or read (e.g. another process is
            writing it), or its records are malformed.
    """
    if not (folder / DB_NAME).exists():
        return None
    with Case.open(folder, read_only=True) as case:
        try:
            tables = {
                str(row[0])
                for row in case.db.execute(
                    "SELECT table_name FROM duckdb_tables() "
                    "WHERE schema_name = 'main' AND database_name = current_database()"
                ).fetchall()
            }
            head = case.journal_head() if "meta" in tables else None
            announced = case.journal_announced() if "meta" in tables else None
            journaled = "meta" in tables and case._meta("journaled_input") is not None
            holds_rows = any(
                bool(case.scalar(sql)) for table, sql in _ANY_ROW.items() if table in tables
            )
            pending = (
                case.db.execute(
                    "SELECT input_id, path FROM inputs WHERE input_id > ? ORDER BY input_id",
                    [case._journaled_input()],
                ).fetchall()
                if {"meta", "inputs"} <= tables
                else []
            )
        except duckdb.Error as exc:
            raise InvalidInputError(
                f"cannot read the case database: {exc}", path=str(folder / DB_NAME)
            ) from exc
    from auditlens.core.store.journal import GENESIS_PREV

    named = _journaled_input_ids(folder) if pending else set()
    return JournalRecord(
        head or (0, GENESIS_PREV),
        announced,
        head is None and announced is None and not journaled and not holds_rows,
        tuple((int(i), str(p)) for i, p in pending if int(i) not in named),
    )


def _journaled_input_ids(folder: Path) -> set[int]:
    """The input ids that entries of the journal name.

    Lines that do not parse are skipped: judging them is `journal verify`'s work.
    """
    from auditlens.core.store.journal import JOURNAL_NAME

    named: set[int] = set()
    try:
        lines = (folder / JOURNAL_NAME).read_bytes().splitlines()
    except OSError:
        return named
    for line in lines:
        try:
            details = json.loads(line).get("details")
        except (ValueError, AttributeError):
            continue
        if isinstance(details, dict) and isinstance(details.get("input_id"), int):
            named.add(details["input_id"])
    return named


class Case:
    """An open case folder."""

    def __init__(self, folder: Path, connection: duckdb.DuckDBPyConnection) -> None:
        self.folder = folder
        self.db = connection
        # Where the examiner acts from (``cli``, ``workbench``): every entry journaled through
        # this case says so (docs/case.md, "What is journaled"); set by core.store.session.
        self.origin: str | None = None
        self._closed = False

    @classmethod
    def open(cls, folder: Path, *, create: bool = False, read_only: bool = False) -> Case:
        """Open (or with ``create`` make) the case in ``folder``."""
        path = folder / DB_NAME
        if folder.exists() and not folder.is_dir():
            # Checked first: a file where the case should be is named as such, never a traceback
            # from mkdir or "no case.duckdb" (docs/robustness.md: an error naming the place).
            raise InvalidInputError("is a file, not a case folder", path=str(folder))
        existed = path.exists()
        if not existed and not create:
            raise InvalidInputError("not a case folder (no case.duckdb)", path=str(folder))
        tmp = folder / ".duckdb-tmp"
        try:
            if not existed:
                folder.mkdir(parents=True, exist_ok=True)
            tmp.mkdir(exist_ok=True)
        except OSError as exc:
            # A folder without write permission, a read-only disk, a parent that is a file.
            what = "write in the case folder" if folder.is_dir() else "create the case folder"
            raise InvalidInputError(
                f"cannot {what}: {exc.strerror or exc}", path=str(folder)
            ) from exc
        resolved = str(path.resolve())
        options = "READ_ONLY" if read_only else f"ROW_GROUP_SIZE {ROW_GROUP_SIZE}"
        # One named in-memory DuckDB per case file and mode, shared by the opens of this process
        # (as DuckDB shares a file's instance between its connections): a file can be attached
        # to only one instance at a time.
        instance = hashlib.sha256(f"{options}:{resolved}".encode()).hexdigest()
        try:
            connection = duckdb.connect(
                f":memory:auditlens-{instance}",
                config={
                    "temp_directory": str(tmp),
                    "memory_limit": MEMORY_LIMIT,
                    # The air gap (docs/robustness.md "No network"): DuckDB would otherwise fetch
                    # extensions by itself.
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                },
            )
        except duckdb.Error as exc:
            raise InvalidInputError(
                f"cannot open the case database: {exc}", path=str(path)
            ) from exc
        # An absolute path: a relative "md:..." would name a remote MotherDuck database.
        literal = resolved.replace("'", "''")
        try:
            connection.execute(f"ATTACH IF NOT EXISTS '{literal}' AS {DATABASE} ({options})")
            connection.execute(f"USE {DATABASE}")
        except duckdb.Error as exc:
            connection.close()
            raise InvalidInputError(
                f"cannot open the case database: {exc}", path=str(path)
            ) from exc
        case = cls(folder, connection)
        if not read_only:
            case._migrate()
            case._recover_journal(existed)
            case._journal_unjournaled_inputs()
        return case

    def _migrate(self) -> None:
        for statement in _DDL:
            self.db.execute(statement)
        try:
            self.db.execute(_events_ddl(COLUMN_COMPRESSION))
        except (duckdb.BinderException, duckdb.ParserException, duckdb.NotImplementedException):
            # This DuckDB does not take the method (or the clause): its own choice is as safe.
            self.db.execute(_events_ddl({}))
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def journal(
        self, action: str, details: dict[str, Any], *, input_id: int | None = None
    ) -> JournalEntry:
        """Append an examiner action to ``journal.jsonl`` and keep the journal's head here.

        The head (entry count and last hash) in the database is what lets ``journal verify``
        notice entries cut from the end of the file (see journal.py). The entry's head is
        announced before its line is written, and the journal is only extended when it ends at
        the recorded head (see the module docstring).

        Args:
            action: the journal action.
            details: the entry's details.
            input_id: the committed input the entry names; recorded as journaled together with
                the head, so no later open journals it again.

        Returns:
            The entry as written.

        Raises:
            JournalError: if the journal does not end at the recorded head, or cannot be written.
        """
        from auditlens.core.store.journal import GENESIS_PREV, Journal

        if self.origin is not None and "origin" not in details:
            details = {**details, "origin": self.origin}
        with _journal_lock(self.folder):
            entry = Journal(self.folder).append(
                action,
                details,
                expected_head=self.journal_head() or (0, GENESIS_PREV),
                announce=self._announce,
            )
            self._record_head(entry, input_id)
        return entry

    def journal_input(self, action: str, input_id: int, details: dict[str, Any]) -> None:
        """Journal a committed input and remember that it is journaled.

        An input is committed to the database first and journaled second; a process killed in
        between leaves an input the journal does not name. The next open finds it by its id and
        journals it then (``import_recovered``), so no evidence in the case goes unrecorded. The
        head and the input's flag are recorded in one statement: never one without the other.
        """
        self.journal(action, {**details, "input_id": input_id}, input_id=input_id)

    def _announce(self, entry: JournalEntry) -> None:
        count, last = entry.head
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('journal_announced', ?)", [f"{count}:{last}"]
        )

    def _record_head(self, entry: JournalEntry, input_id: int | None) -> None:
        count, last = entry.head
        if input_id is None:
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('journal_head', ?)", [f"{count}:{last}"]
            )
        else:
            # One statement is one transaction: a kill cannot separate the head from the flag
            # (it once could, and the next open journaled the input a second time).
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('journal_head', ?), ('journaled_input', ?)",
                [f"{count}:{last}", str(input_id)],
            )

    def _recover_journal(self, existed: bool) -> None:
        """Record in the journal what an interrupted action left (see the module docstring).

        * The journal ends one entry past the recorded head, linked to it, and that entry is the
          one announced: its action was interrupted before the case recorded it. The head (and
          the input it names) is recorded now, and ``journal_recovered`` says so.
        * The journal ends at the recorded head but the case announced the next entry: the
          action was interrupted before its entry was written; ``journal_recovered`` says so.
        * A database that existed before this open, holds nothing, and has no journal: its
          creation was never journaled; ``case_created`` is journaled now, saying so.

        Anything else is left as found: :meth:`journal` refuses to extend a journal that does
        not end at the recorded head, and ``journal verify`` reports it.
        """
        from auditlens.core.store.journal import GENESIS_PREV, Journal, JournalError

        try:
            last = Journal(self.folder).last_entry()
        except JournalError:
            return  # a damaged last line: appends refuse it, `journal verify` names it
        head = self.journal_head() or (0, GENESIS_PREV)
        announced = self.journal_announced()
        tail = (0, GENESIS_PREV) if last is None else last.head
        if tail == head:
            if (
                last is None
                and existed
                and (announced is None or announced[0] == 1)
                and self._holds_nothing()
            ):
                self.journal(
                    "case_created",
                    {
                        "folder": str(self.folder.resolve()),
                        "note": "the case database existed without a journal and held nothing: "
                        "its creation was interrupted (or not journaled); journaled at this open",
                    },
                )
            elif announced is not None and announced != head and announced[0] == head[0] + 1:
                self.journal(
                    "journal_recovered",
                    {
                        "entry": head[0],
                        "hash": announced[1],
                        "written": False,
                        "note": "an action was interrupted after the case announced this entry "
                        "and before it was written",
                    },
                )
            return
        if (
            last is not None
            and announced == tail
            and last.index == head[0]
            and last.prev == head[1]
        ):
            input_id = last.details.get("input_id")
            named = (
                input_id
                if last.action in _INPUT_ACTIONS
                and isinstance(input_id, int)
                and not isinstance(input_id, bool)
                and input_id > self._journaled_input()
                else None
            )
            self._record_head(last, named)
            self.journal(
                "journal_recovered",
                {
                    "entry": last.index,
                    "hash": last.hash,
                    "action": last.action,
                    "written": True,
                    "note": "the action was interrupted after this entry was written and before "
                    "the case recorded it; recorded at this open",
                },
            )

    def _holds_nothing(self) -> bool:
        if self.journal_head() is not None or self._meta("journaled_input") is not None:
            return False
        return not any(bool(self.scalar(sql)) for sql in _ANY_ROW.values())

    def _journaled_input(self) -> int:
        value = self._meta("journaled_input")
        return 0 if value is None else int(value)

    def _journal_unjournaled_inputs(self) -> None:
        from auditlens.core.store.journal import JOURNAL_NAME, JournalError

        if (self.folder / JOURNAL_NAME).exists():
            pass
        elif not self.scalar(_ANY_ROW["inputs"]):
            return
        elif self.journal_head() is None:
            # A case journals its creation before any input, so inputs without a journal and
            # without a recorded head are not what an interruption leaves: `journal verify`
            # reports the journal deleted, and starting a new one here would hide that.
            raise JournalError(
                "the case holds inputs but its journal is missing; refusing to start a new one: "
                "run 'auditlens journal verify'",
                path=str(self.folder / JOURNAL_NAME),
            )
        done = self._journaled_input()
        rows = self.db.execute(
            "SELECT input_id, path, kind, sha256, verdict, bundle_id, record_count FROM inputs "
            "WHERE input_id > ? ORDER BY input_id",
            [done],
        ).fetchall()
        for input_id, path, kind, sha256, verdict, bundle_id, records in rows:
            self.journal_input(
                "import_recovered",
                int(input_id),
                {
                    "inputs": [
                        {
                            "path": path,
                            "kind": kind,
                            "sha256": sha256,
                            "verdict": verdict,
                            "bundle_id": bundle_id,
                            "events": int(records or 0),
                        }
                    ],
                    "note": "imported before an interruption; journaled at the next open",
                },
            )

    def journal_head(self) -> tuple[int, str] | None:
        """The journal head recorded by the last :meth:`journal`, if any."""
        return self._head_value("journal_head")

    def journal_announced(self) -> tuple[int, str] | None:
        """The head announced before the last journal append began, if any."""
        return self._head_value("journal_announced")

    def _head_value(self, key: str) -> tuple[int, str] | None:
        value = self._meta(key)
        if not value:
            return None
        count, _, last = value.partition(":")
        if not count.isdigit() or len(last) != 64:
            raise InvalidInputError(
                f"the case's {key} {value!r} is not COUNT:HASH", path=str(self.folder / DB_NAME)
            )
        return int(count), last

    def _meta(self, key: str) -> str | None:
        # The key is a bound parameter: only the statements that write meta name their key.
        value = self.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return None if value is None else str(value)

    def interrupt(self) -> None:
        """Stop the statement running on this connection (any thread), never a journal append.

        Waits while an append is under way (milliseconds: one line and its fsync), so the
        interrupt falls on the next statement instead of the head the case records. A case
        closed meanwhile (the read ended while the Cancel waited) has nothing to stop.
        """
        with _journal_lock(self.folder):
            if not self._closed:
                self.db.interrupt()

    def close(self) -> None:
        """Close the database.

        Under the journal lock, so never between an interrupt's check and its call.
        """
        with _journal_lock(self.folder):
            self._closed = True
            self.db.close()

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """Run a query that returns one value."""
        # fetchall, not fetchone: DuckDB 2 refuses further work on a connection that still has
        # an unfinished result.
        rows = self.db.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None
