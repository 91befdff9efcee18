"""How the case database is opened and how decoded events reach it (core/store/case.py, decode.py).

The case file is attached to an in-memory DuckDB (only ATTACH takes a row group size), shared by
every open of the same file in one process, and decoding builds the columns every line of a task
shares as whole Arrow arrays.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from tests.conftest import drive

from auditlens.core.crypto import hashing
from auditlens.core.errors import InvalidInputError
from auditlens.core.resources import profiles_dir, sample_case_dir
from auditlens.core.store import case as case_module
from auditlens.core.store import importer as importer_module
from auditlens.core.store.case import Case
from auditlens.core.store.decode import DecodeTask, decode_task, read_table
from auditlens.core.store.importer import Importer
from auditlens.core.verify.trust import TrustStore, load_trust

AUDIT = {"timestamp": "2026-03-03T10:00:00.123Z", "user_id": "u-1", "action": "EXPORT"}


def audit_lines(count: int) -> bytes:
    return b"".join(
        json.dumps({**AUDIT, "resource_id": f"r-{i}"}).encode() + b"\n" for i in range(count)
    )


def test_events_are_stored_in_row_groups_of_the_case_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB's smallest row group is one vector (2048 rows); the default would be 122,880.
    monkeypatch.setattr(case_module, "ROW_GROUP_SIZE", 2048)
    source = tmp_path / "audit.jsonl"
    count = 5000
    source.write_bytes(audit_lines(count))
    with Case.open(tmp_path / "case", create=True) as case:
        drive(Importer(case, TrustStore(), workers=1).run([source]))
        case.db.execute("CHECKPOINT")
        groups = case.scalar("SELECT max(row_group_id) + 1 FROM pragma_storage_info('events')")
        stored = case.scalar("SELECT count(*) FROM events")
    assert stored == count
    assert groups == -(-count // 2048)


def test_a_case_opened_twice_in_one_process_is_one_database(tmp_path: Path) -> None:
    folder = tmp_path / "case"
    first = Case.open(folder, create=True)
    second = Case.open(folder)
    first.db.execute("INSERT INTO meta VALUES ('probe', 'seen')")
    assert second.scalar("SELECT value FROM meta WHERE key = 'probe'") == "seen"
    first.close()
    assert second.scalar("SELECT value FROM meta WHERE key = 'probe'") == "seen"
    second.close()
    with Case.open(folder, read_only=True) as reader:
        assert reader.scalar("SELECT value FROM meta WHERE key = 'probe'") == "seen"
        assert reader.scalar("SELECT current_database()") == case_module.DATABASE


def test_a_case_open_for_writing_refuses_a_read_only_open_in_the_same_process(
    tmp_path: Path,
) -> None:
    with Case.open(tmp_path / "case", create=True), pytest.raises(InvalidInputError):
        Case.open(tmp_path / "case", read_only=True)


def test_a_path_with_a_quote_opens(tmp_path: Path) -> None:
    folder = tmp_path / "it's a case"
    with Case.open(folder, create=True) as case:
        case.db.execute("INSERT INTO meta VALUES ('probe', 'quoted')")
    with Case.open(folder, read_only=True) as case:
        assert case.scalar("SELECT value FROM meta WHERE key = 'probe'") == "quoted"
    assert (folder / case_module.DB_NAME).is_file()


def decode_audit(count: int, **fields: object) -> pa.Table:
    data = audit_lines(count)
    lines = data.split(b"\n")[:-1]
    task = DecodeTask(
        stream_id="stream-1",
        bundle_id="bundle-1",
        file_label="bundle!data/00001.jsonl",
        first_line=3,
        first_seq=10,
        base_integrity="verified",
        profile_dirs=(str(profiles_dir()),),
        expected=b"".join(hashing.leaf_hash(line) for line in lines),
        data=data,
    )
    return read_table(decode_task(dataclasses.replace(task, **fields)))


def test_a_proven_task_decodes_as_the_same_lines_checked_one_by_one() -> None:
    proven = decode_audit(5, proven=True)
    checked = decode_audit(5)
    assert proven.equals(checked)
    assert proven.column("seq").to_pylist() == [10, 11, 12, 13, 14]
    assert proven.column("line").to_pylist() == [3, 4, 5, 6, 7]
    assert set(proven.column("stream_id").to_pylist()) == {"stream-1"}
    assert set(proven.column("bundle_id").to_pylist()) == {"bundle-1"}
    assert set(proven.column("integrity").to_pylist()) == {"verified"}
    lines = audit_lines(5).split(b"\n")[:-1]
    assert proven.column("leaf_hash").to_pylist() == [hashing.leaf_hash(line) for line in lines]


def test_only_the_line_whose_leaf_differs_is_tampered() -> None:
    lines = audit_lines(4).split(b"\n")[:-1]
    leaves = [hashing.leaf_hash(line) for line in lines]
    leaves[2] = bytes(32)
    table = decode_audit(4, expected=b"".join(leaves))
    assert table.column("integrity").to_pylist() == ["verified", "verified", "tampered", "verified"]
    unsealed = decode_audit(
        2, expected=b"", base_integrity="unsealed", bundle_id=None, seqs=(7, None)
    )
    assert unsealed.column("integrity").to_pylist() == ["unsealed", "unsealed"]
    assert unsealed.column("bundle_id").to_pylist() == [None, None]
    assert unsealed.column("seq").to_pylist() == [7, None]


def _compression(case: Case, column: str) -> set[str]:
    case.db.execute("CHECKPOINT")
    rows = case.db.execute(
        "SELECT DISTINCT compression FROM pragma_storage_info('events') "
        "WHERE column_name = ? AND segment_type <> 'VALIDITY'",
        [column],
    ).fetchall()
    return {str(row[0]).upper() for row in rows}


def test_long_text_columns_are_stored_with_the_chosen_compression(tmp_path: Path) -> None:
    source = tmp_path / "audit.jsonl"
    source.write_bytes(audit_lines(3000))
    with Case.open(tmp_path / "case", create=True) as case:
        drive(Importer(case, TrustStore(), workers=1).run([source]))
        assert _compression(case, "attributes") == {"ZSTD"}
        assert _compression(case, "body") == {"ZSTD"}
        assert _compression(case, "leaf_hash") == {"UNCOMPRESSED"}
        # the others keep DuckDB's own choice per segment
        assert "ZSTD" not in _compression(case, "resource_id")
        stored = case.db.execute(
            "SELECT resource_id, attributes FROM events ORDER BY seq LIMIT 2"
        ).fetchall()
    assert [row[0] for row in stored] == ["r-0", "r-1"]
    assert all(json.loads(row[1]) == {} for row in stored)


def test_a_duckdb_refusing_the_compression_gets_the_events_table_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB 2 refuses to compress with FSST alone (deprecated): the clause is dropped.
    monkeypatch.setattr(case_module, "COLUMN_COMPRESSION", {"body": "fsst"})
    source = tmp_path / "audit.jsonl"
    source.write_bytes(audit_lines(3000))
    with Case.open(tmp_path / "case", create=True) as case:
        drive(Importer(case, TrustStore(), workers=1).run([source]))
        assert case.scalar("SELECT count(*) FROM events") == 3000
        assert _compression(case, "body") != {"FSST"}


def test_duckdb_keeps_to_one_thread_while_workers_decode_and_gets_its_own_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The case's DuckDB is shared with the workbench's queries: one thread only while workers
    # decode an input, its own number again for everything else.
    monkeypatch.setattr(importer_module, "PARALLEL_MIN_RECORDS", 1)
    bundle = sorted((sample_case_dir() / "bundles" / "cc-prod.audit").iterdir())[0]
    raw = tmp_path / "audit.jsonl"
    raw.write_bytes(audit_lines(300))
    with Case.open(tmp_path / "case", create=True) as case:
        own = case.scalar("SELECT current_setting('threads')")
        trust = load_trust(sample_case_dir() / "truststore.json")
        job = Importer(case, trust, workers=2).run([bundle, raw])
        seen: dict[str, set[Any]] = {}
        while True:
            try:
                step = next(job)
            except StopIteration:
                break
            threads = case.scalar("SELECT current_setting('threads')")
            seen.setdefault(step.stage, set()).add(threads)
        after = case.scalar("SELECT current_setting('threads')")
    assert seen["indexing"] >= {1}  # the bundle's records, decoded by the workers
    assert own in seen["importing"]  # between inputs
    assert after == own
