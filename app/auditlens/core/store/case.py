"""The case: a folder with ``case.duckdb`` (index, registry, findings) and ``journal.jsonl``.

Invariants:
    * Evidence is never written; the case folder is the only place AuditLens writes.
    * Each input is imported in one DuckDB transaction: a crash leaves the case as it was before
      that input (DuckDB's write-ahead log discards the uncommitted transaction on reopen).
    * DuckDB's spill directory is set explicitly inside the case folder, never the system default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from auditlens.core.errors import InvalidInputError
from auditlens.core.store.schema import FIELDS

SCHEMA_VERSION = 1
DB_NAME = "case.duckdb"
# DuckDB's share of the 1.5 GB import budget (DESIGN §5); the decoding workers and Python take
# the rest (measured at 10^7 events: 1.54 GB peak with 1 GB here). Beyond it DuckDB spills to
# the case's temporary folder.
MEMORY_LIMIT = "640MB"

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
    # ord: the event's position in time order over the whole case (queries.refresh_order).
    "CREATE TABLE IF NOT EXISTS events (ord BIGINT, "
    + ", ".join(f"{f.name} {f.sql}" for f in FIELDS)
    + ", input_id BIGINT)",
]


class Case:
    """An open case folder."""

    def __init__(self, folder: Path, connection: duckdb.DuckDBPyConnection) -> None:
        self.folder = folder
        self.db = connection

    @classmethod
    def open(cls, folder: Path, *, create: bool = False, read_only: bool = False) -> Case:
        """Open (or with ``create`` make) the case in ``folder``."""
        path = folder / DB_NAME
        if not path.exists():
            if not create:
                raise InvalidInputError("not a case folder (no case.duckdb)", path=str(folder))
            folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".duckdb-tmp"
        tmp.mkdir(exist_ok=True)
        try:
            connection = duckdb.connect(
                # An absolute path: a relative "md:..." would name a remote MotherDuck database.
                str(path.resolve()),
                read_only=read_only,
                config={
                    "temp_directory": str(tmp),
                    "memory_limit": MEMORY_LIMIT,
                    # The air gap (DESIGN §6): DuckDB would otherwise fetch extensions by itself.
                    "autoinstall_known_extensions": False,
                    "autoload_known_extensions": False,
                },
            )
        except duckdb.Error as exc:
            raise InvalidInputError(
                f"cannot open the case database: {exc}", path=str(path)
            ) from exc
        case = cls(folder, connection)
        if not read_only:
            case._migrate()
            case._journal_unjournaled_inputs()
        return case

    def _migrate(self) -> None:
        for statement in _DDL:
            self.db.execute(statement)
        self.db.execute(
            "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
        )

    def journal(self, action: str, details: dict[str, Any]) -> None:
        """Append an examiner action to ``journal.jsonl`` and keep the journal's head here.

        The head (entry count and last hash) in the database is what lets ``journal verify``
        notice entries cut from the end of the file (see journal.py).
        """
        from auditlens.core.store.journal import Journal

        count, last = Journal(self.folder).append(action, details).head
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('journal_head', ?)", [f"{count}:{last}"]
        )

    def journal_input(self, action: str, input_id: int, details: dict[str, Any]) -> None:
        """Journal a committed input and remember that it is journaled.

        An input is committed to the database first and journaled second; a process killed in
        between leaves an input the journal does not name. The next open finds it by its id and
        journals it then (``import_recovered``), so no evidence in the case goes unrecorded.
        """
        self.journal(action, {**details, "input_id": input_id})
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('journaled_input', ?)", [str(input_id)]
        )

    def _journal_unjournaled_inputs(self) -> None:
        if not (self.folder / "journal.jsonl").exists() and not self.scalar(
            "SELECT count(*) FROM inputs"
        ):
            return
        done = int(
            self.scalar(
                "SELECT coalesce(max(value::BIGINT), 0) FROM meta WHERE key = 'journaled_input'"
            )
        )
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
        value = self.scalar("SELECT value FROM meta WHERE key = 'journal_head'")
        if not value:
            return None
        count, _, last = str(value).partition(":")
        return int(count), last

    def close(self) -> None:
        """Close the database."""
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
