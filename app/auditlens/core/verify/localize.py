"""Localizing damaged records (docs/verification.md §2.1).

When the stored records no longer reproduce the sealed leaves, the two lists of leaf hashes are
compared, stored (from the data files, with file and line) against sealed (``index/leaves.bin``,
with sequence numbers), and every difference is named. The same comparison says what each stored
record is (:class:`~auditlens.core.verify.report.RecordMatches`), which the importer uses to mark
each event.
"""

from __future__ import annotations

import bisect
import itertools
from array import array
from collections import deque

from auditlens.core.bundle.manifest import MANIFEST_PATH, Manifest
from auditlens.core.crypto.hashing import HASH_SIZE
from auditlens.core.verify.check import BundleCheck
from auditlens.core.verify.report import NO_SEQ, RecordMatches


class Stored:
    """The records as stored, compactly: 32-byte leaves, data file and 1-based line of each.

    A tuple per record cost about 1.6 KB at 10^6 records (measured); parallel arrays cost about
    50 bytes, which keeps a damaged bundle's localization within the memory budget.
    """

    def __init__(self) -> None:
        self.leaves = bytearray()
        self.lines = array("q")
        self.file_index = array("l")
        self.files: list[str] = []
        self.counts: list[int] = []  # stored lines per file of ``files``

    def add(self, leaf: bytes, path: str, line: int) -> None:
        """Append one stored record."""
        if not self.files or self.files[-1] != path:
            self.files.append(path)
            self.counts.append(0)
        self.counts[-1] += 1
        self.leaves += leaf
        self.lines.append(line)
        self.file_index.append(len(self.files) - 1)

    def __len__(self) -> int:
        return len(self.lines)

    def leaf(self, pos: int) -> bytes:
        """The leaf of stored record ``pos``."""
        return bytes(self.leaves[pos * HASH_SIZE : pos * HASH_SIZE + HASH_SIZE])

    def where(self, pos: int) -> tuple[str, int]:
        """Data file and line of stored record ``pos``."""
        return self.files[self.file_index[pos]], self.lines[pos]


def localize(
    check: BundleCheck,
    manifest: Manifest,
    expected: bytes,
    actual: Stored,
) -> RecordMatches:
    """Compare the stored records with the sealed leaf index and name every difference.

    The four rules of docs/verification.md §2.1, in order: match by leaf hash (identical records
    in order); keep one longest increasing run as anchors, the other matches were moved; pair the
    unmatched between two anchors as modifications; the rest are deletions (truncation at either
    end) or insertions. Returns what each stored record is, which the importer uses as it is.
    """
    name = check.name
    first = manifest.first_seq
    size = HASH_SIZE
    count = len(expected) // size
    first_index: dict[bytes, int] = {}
    repeats: dict[bytes, deque[int]] = {}
    for index in range(count):
        leaf = expected[index * size : index * size + size]
        if leaf in first_index:
            repeats.setdefault(leaf, deque([first_index[leaf]])).append(index)
        else:
            first_index[leaf] = index
    used = bytearray(count)
    extra_flags = bytearray(len(actual))
    seqs = array("q", [NO_SEQ]) * len(actual)
    intact = bytearray(len(actual))
    matched_pos = array("q")
    matched_idx = array("q")
    for pos in range(len(actual)):
        leaf = actual.leaf(pos)
        found: int | None
        queue = repeats.get(leaf)
        if queue is not None:
            found = queue.popleft() if queue else None
        else:
            found = first_index.get(leaf)
            if found is not None and used[found]:
                found = None
        if found is not None:
            used[found] = 1
            matched_pos.append(pos)
            matched_idx.append(found)
        elif leaf in first_index:
            path, line = actual.where(pos)
            check.add(
                "DUPLICATE_RECORD",
                "a sealed record appears again",
                path=f"{name}!{path}",
                line=line,
            )
        else:
            extra_flags[pos] = 1
    del first_index, repeats
    keep = lis_keep(list(matched_idx))
    anchors: list[tuple[int, int]] = []
    for k in range(len(matched_pos)):
        pos, index = matched_pos[k], matched_idx[k]
        seqs[pos] = first + index
        if k in keep:
            anchors.append((pos, index))
            intact[pos] = 1
        else:
            path, line = actual.where(pos)
            check.add(
                "RECORDS_REORDERED",
                f"record sealed as seq {first + index} is out of its sealed place",
                path=f"{name}!{path}",
                line=line,
                seq=first + index,
                expected=f"line {file_of(manifest, first + index)[1]}",
                actual=f"line {line}",
            )
    # Walk the gaps between anchors (with sentinels at both ends).
    bounds = [(-1, -1), *anchors, (len(actual), count)]
    for (pos_a, idx_a), (pos_b, idx_b) in itertools.pairwise(bounds):
        if idx_b - idx_a <= 1 and pos_b - pos_a <= 1:
            continue
        missing = [i for i in range(idx_a + 1, idx_b) if not used[i]]
        extra = [p for p in range(pos_a + 1, pos_b) if extra_flags[p]]
        pairs = min(len(missing), len(extra))
        for i, p in zip(missing[:pairs], extra[:pairs], strict=True):
            seqs[p] = first + i  # a modified record takes the place of the one it replaced
            path, line = actual.where(p)
            check.add(
                "RECORD_MODIFIED",
                f"record seq {first + i} differs from the sealed record",
                path=f"{name}!{path}",
                line=line,
                seq=first + i,
                expected=expected[i * size : i * size + size].hex(),
                actual=actual.leaf(p).hex(),
            )
        rest = missing[pairs:]
        at_head = idx_a == -1 and not extra
        at_tail = idx_b == count and pos_b == len(actual) and not extra[pairs:]
        for run in runs(rest):
            seq_lo, seq_hi = first + run[0], first + run[-1]
            path, line = file_of(manifest, seq_lo)
            code = (
                "TRUNCATED"
                if (at_head and run[0] == 0) or (at_tail and run[-1] == count - 1)
                else "RECORD_DELETED"
            )
            what = "head" if code == "TRUNCATED" and run[0] == 0 else "tail"
            text = f"{len(run)} sealed record(s) seq {seq_lo}-{seq_hi} missing" + (
                f" (truncated {what})" if code == "TRUNCATED" else ""
            )
            check.add(
                code,
                text,
                path=f"{name}!{path}",
                line=line,
                seq=seq_lo,
                expected=f"{len(run)} record(s)",
                actual="absent",
            )
        for p in extra[pairs:]:
            path, line = actual.where(p)
            check.add(
                "RECORD_INSERTED",
                "a record that was never sealed",
                path=f"{name}!{path}",
                line=line,
                expected="no record",
                actual=actual.leaf(p).hex(),
            )
    files = list(zip(actual.files, actual.counts, strict=True))
    if len(anchors) == count == len(actual):
        return RecordMatches(first, files, exact=True)
    return RecordMatches(first, files, seqs=seqs, intact=intact)


def lis_keep(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence of ``values``."""
    tails: list[int] = []
    tail_pos: list[int] = []
    parent = [-1] * len(values)
    for pos, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_pos.append(pos)
        else:
            tails[k] = value
            tail_pos[k] = pos
        parent[pos] = tail_pos[k - 1] if k else -1
    keep: set[int] = set()
    pos = tail_pos[-1] if tail_pos else -1
    while pos != -1:
        keep.add(pos)
        pos = parent[pos]
    return keep


def runs(indices: list[int]) -> list[list[int]]:
    """Split sorted indices into runs of consecutive ones."""
    runs: list[list[int]] = []
    for index in indices:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def file_of(manifest: Manifest, seq: int) -> tuple[str, int]:
    """The data file that held ``seq`` when sealed, and its 1-based line there."""
    files = manifest.data_files()
    starts = [f.first_seq or 0 for f in files]
    i = max(bisect.bisect_right(starts, seq) - 1, 0)
    entry = files[i] if files else None
    if entry is None:
        return MANIFEST_PATH, 0
    return entry.path, seq - (entry.first_seq or 0) + 1
