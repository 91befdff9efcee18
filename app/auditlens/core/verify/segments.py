"""Hashing of checkpoint segments, run in worker processes by the verifier's fast path.

A worker opens the container file itself and reads one byte region, so record bytes never cross a
process boundary; only 32-byte hashes come back. Kept free of imports beyond the standard library
and :mod:`hashing` so that spawned workers start fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditlens.core.verify.hashing import HASH_SIZE, chain_over, leaf_hash, merkle_root


@dataclass(frozen=True)
class SegmentTask:
    """One segment to hash: where its bytes are and how its chain starts."""

    path: str
    offset: int
    length: int
    count: int
    first_seq: int
    start_chain: bytes


@dataclass(frozen=True)
class SegmentResult:
    """What the segment's bytes hash to; ``framed`` is False when line framing disagrees."""

    leaves: bytes
    end_chain: bytes
    root: bytes
    framed: bool


def hash_region(data: bytes, count: int, first_seq: int, start_chain: bytes) -> SegmentResult:
    """Hash one segment's bytes: leaves, chain end and segment Merkle root."""
    lines = data.split(b"\n")
    framed = lines[-1] == b"" and len(lines) - 1 == count
    if lines[-1] == b"":
        lines.pop()
    leaves = b"".join([leaf_hash(line) for line in lines])
    end = chain_over(start_chain, first_seq, leaves)
    root = merkle_root([leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)])
    return SegmentResult(leaves, end, root, framed)


def hash_segments(tasks: list[SegmentTask]) -> list[SegmentResult]:
    """Hash consecutive segments of one file (a worker's unit of work)."""
    results = []
    with open(tasks[0].path, "rb") as handle:
        for task in tasks:
            handle.seek(task.offset)
            data = handle.read(task.length)
            if len(data) != task.length:
                results.append(SegmentResult(b"", b"", b"", False))
                continue
            results.append(hash_region(data, task.count, task.first_seq, task.start_chain))
    return results
