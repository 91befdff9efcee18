"""A split's record: immutable, and equal to another by what it stores, not by the reading kept.

``value`` is the line as the split read it (a dict, unhashable): two records of the same line,
time, kind and place are the same record whether or not a reading was kept, as they were when
the record was a dataclass whose ``value`` took no part in comparison.
"""

import pytest

from auditlens.core.formats.base import SourceRecord

LINE = b'{"timestamp":"2026-03-02T08:00:00.250Z","user_id":"sup-004","action":"EXPORT"}'
T_NS = 1_772_438_400_250_000_000


def test_records_of_the_same_line_are_equal_and_hash_alike_whatever_reading_is_kept():
    read = SourceRecord(LINE, T_NS, "audit", "audit.jsonl", 7, {"action": "EXPORT"})
    bare = SourceRecord(LINE, T_NS, "audit", "audit.jsonl", 7)
    assert read == bare
    assert hash(read) == hash(bare)
    assert len({read, bare}) == 1


@pytest.mark.parametrize(
    "other",
    [
        SourceRecord(LINE + b" ", T_NS, "audit", "audit.jsonl", 7),
        SourceRecord(LINE, T_NS + 1, "audit", "audit.jsonl", 7),
        SourceRecord(LINE, T_NS, "log", "audit.jsonl", 7),
        SourceRecord(LINE, T_NS, "audit", "other.jsonl", 7),
        SourceRecord(LINE, T_NS, "audit", "audit.jsonl", 8),
    ],
)
def test_records_differing_in_what_is_stored_differ(other):
    record = SourceRecord(LINE, T_NS, "audit", "audit.jsonl", 7, {"action": "EXPORT"})
    assert record != other


def test_a_record_cannot_be_changed_and_its_repr_leaves_the_reading_out():
    record = SourceRecord(LINE, T_NS, "audit", "audit.jsonl", 7, {"secret": "not shown"})
    with pytest.raises(AttributeError):
        record.value = None  # type: ignore[misc]
    assert "not shown" not in repr(record)
    assert repr(record).startswith("SourceRecord(line=b'{")
