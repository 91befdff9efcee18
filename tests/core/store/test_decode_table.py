"""A decoding task's rows become the Arrow table of the event schema, column for column.

``decode._table`` converts the normalizer's row tuples in one pass, as one Arrow struct whose
fields are the columns. These tests hold it to converting each column apart (the reference):
the same values, types and nulls, for the sample's records and for rows of odd values.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from auditlens.core.errors import InvalidInputError
from auditlens.core.resources import profiles_dir, sample_case_dir
from auditlens.core.schema import EVENT_SCHEMA
from auditlens.core.store import decode
from auditlens.core.store.decode import DecodeTask, decode_task, read_table
from auditlens.core.store.normalize import ROW_COLUMNS, row_values

RAW = sample_case_dir() / "raw"
TYPES = {f.name: f.type for f in EVENT_SCHEMA}


def reference(rows: list[tuple[Any, ...]]) -> dict[str, pa.Array]:
    """Each normalizer column converted on its own, from the transposed rows."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in ROW_COLUMNS]
    return {
        name: pa.array(list(column), type=TYPES[name])
        for name, column in zip(ROW_COLUMNS, columns, strict=True)
    }


def task(count: int) -> DecodeTask:
    return DecodeTask(
        stream_id="cc-prod.audit",
        bundle_id="0b6f0c3f4a5d4e5f8a9b0c1d2e3f4a5b",
        file_label="bundle!data/000001.jsonl",
        first_line=1,
        first_seq=1,
        base_integrity="verified",
        profile_dirs=(str(profiles_dir()),),
        expected=bytes(range(32)) * count,
        proven=True,
        data=b"",
    )


def sample_lines() -> list[bytes]:
    lines: list[bytes] = []
    for path in sorted(RAW.rglob("*.jsonl")):
        lines.extend(line for line in path.read_bytes().split(b"\n")[:400] if line)
    return lines


def test_the_sample_records_give_the_columns_converted_apart() -> None:
    lines = sample_lines()
    assert len(lines) > 500
    normalizer = decode._normalizer((str(profiles_dir()),))
    rows = []
    for line in lines:
        try:
            rows.append(row_values(normalizer.row(line)))
        except InvalidInputError:
            continue  # a raw line that is no record by itself (an export batch): not a row here
    assert len(rows) > 500
    table = decode._table(task(len(rows)), rows, len(rows), [], bytearray())
    assert table.schema == EVENT_SCHEMA
    for name, column in reference(rows).items():
        assert table.column(name).combine_chunks().equals(column), name


def odd_row(index: int) -> tuple[Any, ...]:
    values: dict[str, Any] = dict.fromkeys(ROW_COLUMNS)
    for name in ROW_COLUMNS:
        kind = TYPES[name]
        if index % 3 == 0:
            continue  # every column null
        if pa.types.is_integer(kind):
            values[name] = [1772409601613911145, 2**63 - 1, -(2**63), 0][index % 4]
        else:
            texts = ["", "\u00e9t\u00e9 \u4e2d \U0001f600", "x" * 70_000, "a\x00b"]
            values[name] = texts[index % 4]
    return tuple(values[name] for name in ROW_COLUMNS)


@pytest.mark.parametrize("count", [0, 1, 2, 13])
def test_odd_values_and_nulls_give_the_columns_converted_apart(count: int) -> None:
    rows = [odd_row(i) for i in range(count)]
    table = decode._table(task(count), rows, count, [], bytearray())
    assert table.num_rows == count
    for name, column in reference(rows).items():
        assert table.column(name).combine_chunks().equals(column), name


def test_a_value_that_does_not_fit_its_column_is_refused_as_before() -> None:
    row = list(odd_row(1))
    row[ROW_COLUMNS.index("time_ns")] = 2**63
    with pytest.raises((pa.ArrowInvalid, OverflowError)):
        reference([tuple(row)])
    with pytest.raises((pa.ArrowInvalid, OverflowError)):
        decode._table(task(1), [tuple(row)], 1, [], bytearray())


def test_a_task_of_sample_lines_decodes_to_the_reference_columns(tmp_path: Path) -> None:
    lines = (RAW / "audit" / "audit-2026-03-02.jsonl").read_bytes().split(b"\n")
    data = b"\n".join(line for line in lines[:300] if line) + b"\n"
    count = data.count(b"\n")
    base = task(count)
    decoded = read_table(decode_task(DecodeTask(**{**base.__dict__, "data": data})))
    normalizer = decode._normalizer((str(profiles_dir()),))
    rows = [row_values(normalizer.row(line)) for line in data.split(b"\n")[:-1]]
    for name, column in reference(rows).items():
        assert decoded.column(name).combine_chunks().equals(column), name
    assert decoded.column("seq").to_pylist() == list(range(1, count + 1))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"\n\n",
        b"a",
        b"a\n",
        b"a\nb",
        b"a\n\nb\n\n",
        b'{"x":1}\r\n{"y":2}\n',
        "\u00e9\n\u4e2d".encode(),
        b"\x00\n\xff\xfe\n",
    ],
)
def test_task_lines_found_by_newline_equal_a_split(data: bytes) -> None:
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    lines = decode._lines(data)
    assert lines == expected
    assert all(type(line) is bytes for line in lines)


@pytest.mark.parametrize("bad_at", [None, 0, 7, -1])
def test_a_proven_task_decodes_as_the_per_line_loop_decodes_it(bad_at: int | None) -> None:
    # A proven task's rows come from one comprehension; a line that does not decode sends the
    # task to the per-line loop. Both must give what the loop gives for the same lines when it
    # checks each leaf itself (the task not proven, its sealed leaves the lines' own).
    lines = sample_lines()[:300:3]
    if bad_at is not None:
        lines.insert(bad_at if bad_at >= 0 else len(lines), b'{"timestamp":"2026-03-02T25:00:00Z"}')
    data = b"".join(line + b"\n" for line in lines)
    leaves = b"".join(hashlib.sha256(b"\x00" + line).digest() for line in lines)
    proven = replace(task(len(lines)), data=data, expected=leaves)
    per_line = replace(proven, proven=False)
    fast, slow = decode_task(proven), decode_task(per_line)
    assert fast.count == slow.count == len(lines)
    assert fast.unreadable == slow.unreadable
    assert (bad_at is None) == (not fast.unreadable)
    assert read_table(fast).equals(read_table(slow))
