"""Hashing of checkpoint segments, run in worker processes by the verifier's fast path.

A worker opens the container file itself and reads one byte region, so record bytes never cross a
process boundary; only 32-byte hashes come back. Kept free of imports beyond the standard library
and :mod:`hashing` so that spawned workers start fast.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from dataclasses import dataclass
from typing import Any

_U64 = struct.Struct(">Q")


@dataclass(frozen=True)
class SegmentTask:
    """One segment to hash: where its bytes are and how its chain starts."""

    path: str
    offset: int
    length: int
    count: int
    first_seq: int
    start_chain: bytes
    leaves_path: str | None = None  # where this segment's sealed leaves lie, when local
    leaves_offset: int = 0


@dataclass(frozen=True)
class SegmentResult:
    """What the segment's bytes hash to; ``framed`` is False when line framing disagrees."""

    leaves: bytes
    end_chain: bytes
    root: bytes
    framed: bool
    checked: bool = False  # compared with the sealed leaves in the worker (leaves then dropped)
    matched: bool = False


def hash_region(
    data: bytes | bytearray, count: int, first_seq: int, start_chain: bytes, size: int = -1
) -> SegmentResult:
    """Hash one segment's bytes: leaves, chain end and segment Merkle root.

    The segment is ``data[:size]`` (all of ``data`` when ``size`` is -1): a buffer read into
    again for each segment (``hash_segments``) holds the segment at its start.

    This is the verifier's hot loop: the three hash layouts of :mod:`hashing` are inlined here
    (leaf 0x00, link 0x02, node 0x01) because a Python call per hash costs as much as the hash.
    tests/core/verify/test_segments.py checks it against the reference functions.
    """
    if size < 0:
        size = len(data)
    sha = hashlib.sha256
    pack = _U64.pack
    # A copy of the hash of the 0x00 prefix, fed the line: no concatenated copy of each line
    # (measured: 17 % less time for lines of 1 KB). Each line is fed as a view of ``data``
    # found by its newline, not as a copy made by ``split`` (measured on lines of 1 KB:
    # 1.13 instead of 1.40 us per leaf).
    leaf_start = sha(b"\x00").copy
    view = memoryview(data)
    find = data.find
    leaves = []
    start = 0
    end = find(b"\n", 0, size)
    while end >= 0:
        hasher = leaf_start()
        hasher.update(view[start:end])
        leaves.append(hasher.digest())
        start = end + 1
        end = find(b"\n", start, size)
    framed = start == size and len(leaves) == count
    if start < size:
        # The bytes after the last newline: a last line without its newline (not framed).
        hasher = leaf_start()
        hasher.update(view[start:size])
        leaves.append(hasher.digest())
    view.release()
    value = start_chain
    seq = first_seq
    for leaf in leaves:
        value = sha(b"\x02" + value + pack(seq) + leaf).digest()
        seq += 1
    level = leaves
    while len(level) > 1:
        pairs = iter(level)
        nxt = [
            sha(b"\x01" + left + right).digest() for left, right in zip(pairs, pairs, strict=False)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    root = level[0] if level else sha(b"").digest()
    return SegmentResult(b"".join(leaves), value, root, framed)


def hash_segments(tasks: list[SegmentTask]) -> list[SegmentResult]:
    """Hash consecutive segments of one file (a worker's unit of work)."""
    results = []
    buffer = _buffer(max(task.length for task in tasks))
    view = memoryview(buffer)
    with view, open(tasks[0].path, "rb", buffering=0) as handle:
        for task in tasks:
            handle.seek(task.offset)
            length = _read_into(handle, view[: task.length])
            if length != task.length:
                results.append(SegmentResult(b"", b"", b"", False))
                continue
            result = hash_region(buffer, task.count, task.first_seq, task.start_chain, length)
            if task.leaves_path is not None:
                # Compare here and send back only the verdict: the parent then holds two hashes
                # per segment, not 32 bytes per record (memory stays flat with bundle size).
                with open(task.leaves_path, "rb") as leaves:
                    leaves.seek(task.leaves_offset)
                    expected = leaves.read(task.count * 32)
                result = SegmentResult(
                    b"",
                    result.end_chain,
                    result.root,
                    result.framed,
                    True,
                    result.leaves == expected,
                )
            results.append(result)
    return results


# One buffer per thread read into for every segment, not a new bytes object per read: a fresh one
# of megabytes is fresh pages, each faulted in and zeroed by the kernel (measured over the 847 MB
# of the 10^6-record benchmark, hashing only: 34,560 page faults and 0.16-0.18 s of system time
# per pass, against 2,016 and 0.12-0.14 s). Segments are about 4 MB (4,096 records of 1 KB); a
# buffer above KEPT_BUFFER_BYTES is not kept (docs/bundle-format.md Appendix B allows 256 MB).
KEPT_BUFFER_BYTES = 64 * 1024 * 1024
_kept = threading.local()


def _buffer(size: int) -> bytearray:
    """A buffer of at least ``size`` bytes, this thread's own when it is kept."""
    buffer: bytearray | None = getattr(_kept, "buffer", None)
    if buffer is not None and len(buffer) >= size:
        return buffer
    buffer = bytearray(size)
    if size <= KEPT_BUFFER_BYTES:
        _kept.buffer = buffer
    return buffer


def _read_into(handle: Any, view: memoryview) -> int:
    """Fill ``view`` from ``handle``; the bytes read, fewer only at the end of the file."""
    done = 0
    while done < len(view):
        count = handle.readinto(view[done:])
        if not count:
            break
        done += count
    return done
