"""Step 7, Records (docs/verification.md §2; hashing: docs/bundle-format.md §4-§6).

The fast path hashes whole checkpoint segments, in worker processes for large bundles
(:mod:`auditlens.core.verify.segments`), and compares them with the signed checkpoints, leaf
index and root. The slow path reads every record, digests every data file and hands the
differences to :mod:`auditlens.core.verify.localize` (§2.1).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Generator, Iterator
from typing import Any

from auditlens.core.bundle.container import Container
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
    Checkpoint,
    FileEntry,
    Manifest,
)
from auditlens.core.crypto import hashing
from auditlens.core.progress import Progress
from auditlens.core.verify.check import BundleCheck
from auditlens.core.verify.localize import Stored, localize
from auditlens.core.verify.report import RecordMatches
from auditlens.core.verify.segments import SegmentResult, SegmentTask, hash_region, hash_segments
from auditlens.core.workers import worker_pool

# docs/bundle-format.md Appendix B: the fast path reads a segment whole; beyond, it is streamed.
MAX_SEGMENT_BYTES = 256 * 1024 * 1024
PARALLEL_MIN_RECORDS = 100_000  # below this, spawning workers costs more than it saves.
TASK_BYTES = 16 * 1024 * 1024  # bytes a worker hashes per task.
READ_CHUNK = 8 * 1024 * 1024
# Stored lines compared record by record when the data no longer match (the slow path): at most
# the sealed count plus as many again (and 1,000). Past that, lines are only counted: work and
# memory follow what was sealed, not what was appended (tens of MB of blank lines were tens of
# millions of records to localize: minutes and 8 GB). docs/robustness.md, "Bounded work".
LOCALIZE_EXTRA_MIN = 1000


def localize_bound(manifest: Manifest) -> int:
    """How many stored lines are compared (and become events at import), at most."""
    return manifest.count + max(manifest.count, LOCALIZE_EXTRA_MIN)


def check_records(
    check: BundleCheck,
    container: Container,
    manifest: Manifest,
    ok_files: dict[str, FileEntry],
    checkpoints: list[Checkpoint] | None,
) -> Generator[Progress, None, RecordMatches]:
    """Step 7: the stored records reproduce the sealed leaves, chain and Merkle root.

    The fast path proves the records segment by segment; when it cannot, or finds a difference,
    the slow path reads every record and names each difference. Returns what each stored record
    is, for the importer.
    """
    check.count_check()
    data_files = manifest.data_files()
    fast_ok = (
        checkpoints is not None
        and LEAVES_PATH in ok_files
        and all(f.path in ok_files for f in data_files)
    )
    if fast_ok:
        assert checkpoints is not None
        intact = yield from fast_path(check, container, manifest, checkpoints)
        if intact:
            check.report.segments_proven = True
            files = [(f.path, f.count or 0) for f in data_files]
            return RecordMatches(manifest.first_seq, files, exact=True)
    return (yield from slow_path(check, container, manifest, ok_files, checkpoints))


def fast_path(
    check: BundleCheck, container: Container, manifest: Manifest, checkpoints: list[Checkpoint]
) -> Generator[Progress, None, bool]:
    """Hash every segment (in parallel when large); True when all of it matches."""
    sizes = {f.path: f.size for f in manifest.data_files()}
    regions = {name: container.region(name) for name in sizes}
    listed = container.files()
    for name, region in regions.items():
        if listed[name].size != sizes[name] or (region is not None and region[2] != sizes[name]):
            return False  # a size difference: let the slow path explain it
    if any(c.length > MAX_SEGMENT_BYTES for c in checkpoints):
        return False  # the slow path hashes lines incrementally, whatever their length
    for name in sizes:
        last = [c for c in checkpoints if c.file == name]
        if not last or last[-1].offset + last[-1].length != sizes[name]:
            return False
    starts = [bytes.fromhex(manifest.chain_initial)] + [
        bytes.fromhex(c.chain_hash) for c in checkpoints[:-1]
    ]
    leaves_region = container.region(LEAVES_PATH)
    tasks_by_file: list[list[SegmentTask]] = []
    inline: list[tuple[Checkpoint, bytes]] = []
    for cp, start in zip(checkpoints, starts, strict=True):
        region = regions[cp.file]
        if region is None:
            inline.append((cp, start))
            continue
        leaves_at = (
            leaves_region[1] + (cp.first_seq - manifest.first_seq) * hashing.HASH_SIZE
            if leaves_region
            else 0
        )
        task = SegmentTask(
            region[0],
            region[1] + cp.offset,
            cp.length,
            cp.count,
            cp.first_seq,
            start,
            leaves_region[0] if leaves_region else None,
            leaves_at,
        )
        if (
            tasks_by_file
            and tasks_by_file[-1][0].path == task.path
            and sum(t.length for t in tasks_by_file[-1]) + task.length <= TASK_BYTES
        ):
            tasks_by_file[-1].append(task)
        else:
            tasks_by_file.append([task])
    results: dict[int, SegmentResult] = {}
    if inline:
        for name in sizes:
            if regions[name] is None:
                with container.open(name) as handle:
                    for cp in (c for c in checkpoints if c.file == name):
                        data = handle.read(cp.length)
                        start = starts[cp.index]
                        results[cp.index] = (
                            hash_region(data, cp.count, cp.first_seq, start)
                            if len(data) == cp.length
                            else SegmentResult(b"", b"", b"", False)
                        )
                        check.token.check()
                    if handle.read(1):
                        return False  # bytes beyond the sealed records: slow path reports
    ordered = [cp for cp in checkpoints if regions[cp.file] is not None]
    batches: Iterator[list[SegmentResult]]
    if manifest.count >= PARALLEL_MIN_RECORDS and check.workers > 1 and tasks_by_file:
        if check.executor is None:
            check.executor = worker_pool(check.workers)
        batches = check.executor.map(hash_segments, tasks_by_file)
    else:
        batches = map(hash_segments, tasks_by_file)
    position = 0
    for batch in batches:
        for result in batch:
            results[ordered[position].index] = result
            position += 1
        check.token.check()
        done = ordered[position - 1].last_seq - manifest.first_seq + 1
        yield Progress("verifying", done, manifest.count, "records")
    with container.open(LEAVES_PATH) as leaves_file:
        for cp in checkpoints:
            result = results[cp.index]
            if result.checked:
                matched = result.matched
                if leaves_file.seekable():  # keep the stream in step with the segments
                    leaves_file.seek(cp.count * hashing.HASH_SIZE, 1)
                else:
                    leaves_file.read(cp.count * hashing.HASH_SIZE)
            else:
                matched = result.leaves == leaves_file.read(cp.count * hashing.HASH_SIZE)
            if (
                not result.framed
                or not matched
                or result.end_chain.hex() != cp.chain_hash
                or result.root.hex() != cp.segment_root
            ):
                return False
    if checkpoints[-1].chain_hash != manifest.chain_final:
        return False
    roots = [results[c.index].root for c in checkpoints]
    root = hashing.merkle_root_of_segments(roots, manifest.checkpoint_interval, manifest.count)
    return root.hex() == manifest.merkle_root


def slow_path(
    check: BundleCheck,
    container: Container,
    manifest: Manifest,
    ok_files: dict[str, FileEntry],
    checkpoints: list[Checkpoint] | None,
) -> Generator[Progress, None, RecordMatches]:
    """Read every record, digest every data file and localize each difference."""
    actual = Stored()
    bound = localize_bound(manifest)
    beyond: tuple[str, int] | None = None  # where lines stopped being compared
    beyond_count = 0
    for entry in manifest.data_files():
        if entry.path not in ok_files:
            continue
        where = f"{check.name}!{entry.path}"
        digest = hashlib.sha256()
        size = 0
        line_no = 0
        # A line is hashed as its bytes arrive: an endless line costs time, not memory.
        pending: Any = None  # SHA-256 state of the unterminated line so far
        pending_size = 0
        with container.open(entry.path) as handle:
            while chunk := handle.read(READ_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if len(actual) >= bound:
                    # Past the bound lines are only counted, at memory speed (LOCALIZE_EXTRA_MIN).
                    lines = chunk.count(b"\n")
                    if lines:
                        beyond = beyond or (entry.path, line_no + 1)
                        pending, pending_size = None, 0
                    line_no += lines
                    beyond_count += lines
                    if not chunk.endswith(b"\n"):
                        pending = pending or hashlib.sha256(b"\x00")
                        pending_size += len(chunk) - chunk.rfind(b"\n") - 1
                    check.token.check()
                    continue
                parts = chunk.split(b"\n")
                tail = parts.pop()
                for index, line in enumerate(parts):
                    line_no += 1
                    if len(actual) >= bound:
                        beyond = beyond or (entry.path, line_no)
                        beyond_count += 1
                        pending = None
                        continue
                    if index == 0 and pending is not None:
                        pending.update(line)
                        leaf = pending.digest()
                        pending = None
                    else:
                        leaf = hashing.leaf_hash(line)
                    actual.add(leaf, entry.path, line_no)
                if parts:
                    pending_size = 0
                if tail:
                    if pending is None:
                        pending = hashlib.sha256(b"\x00")
                    pending.update(tail)
                    pending_size += len(tail)
                check.token.check()
                yield Progress("localizing", len(actual), manifest.count, "records")
        if pending is not None:
            line_no += 1
            if len(actual) < bound:
                actual.add(pending.digest(), entry.path, line_no)
            else:
                beyond = beyond or (entry.path, line_no)
                beyond_count += 1
            check.add(
                "TRAILING_DATA",
                f"{pending_size} bytes after the last newline (an unterminated line)",
                path=where,
                line=line_no,
                expected="file ends with a newline",
                actual=f"{pending_size} bytes without one",
            )
        if digest.hexdigest() != entry.sha256 or size != entry.size:
            check.add(
                "FILE_DIGEST_MISMATCH",
                "data file differs from the manifest",
                path=where,
                expected=f"{entry.size} bytes sha256:{entry.sha256}",
                actual=f"{size} bytes sha256:{digest.hexdigest()}",
            )
    if beyond is not None:
        check.add(
            "RECORD_INSERTED",
            f"{beyond_count:,} more lines from here on were never sealed: the data files hold "
            f"more than {bound:,} lines for {manifest.count:,} sealed records, so lines past "
            "that bound are counted, not compared",
            path=f"{check.name}!{beyond[0]}",
            line=beyond[1],
            expected=f"at most {manifest.count:,} lines",
            actual=f"{bound + beyond_count:,} lines",
        )
    actual_leaves = bytes(actual.leaves)
    expected_leaves: bytes | None = None
    if LEAVES_PATH in ok_files:
        with container.open(LEAVES_PATH) as handle:
            expected_leaves = handle.read(ok_files[LEAVES_PATH].size)
        if not check_index(check, manifest, expected_leaves):
            # The signed index contradicts the signed chain: it cannot be the reference.
            blame_index(check, manifest, expected_leaves, actual_leaves)
            expected_leaves = None
    if expected_leaves is not None:
        if checkpoints is not None:
            check_checkpoints(check, manifest, checkpoints, expected_leaves)
        return localize(check, manifest, expected_leaves, actual)
    files = list(zip(actual.files, actual.counts, strict=True))
    if check_without_index(check, manifest, actual_leaves, checkpoints):
        # The stored records reproduce the signed chain and root: they are the sealed ones.
        return RecordMatches(manifest.first_seq, files, exact=True)
    # Nothing to match against: each record keeps the number its place claims, none is intact.
    firsts = {f.path: f.first_seq or 0 for f in manifest.data_files()}
    seqs = array(
        "q",
        (
            firsts[actual.files[actual.file_index[pos]]] + actual.lines[pos] - 1
            for pos in range(len(actual))
        ),
    )
    return RecordMatches(manifest.first_seq, files, seqs=seqs, intact=bytearray(len(actual)))


def check_checkpoints(
    check: BundleCheck, manifest: Manifest, checkpoints: list[Checkpoint], leaves: bytes
) -> None:
    """Each signed checkpoint must match the chain and segment root of the signed leaves."""
    check.count_check()
    # The leaves here reproduce the signed chain, so the recomputed chain values are the true
    # ones: continuing from them names a bad checkpoint alone, not every one after it.
    value = bytes.fromhex(manifest.chain_initial)
    for cp in checkpoints:
        lo = (cp.first_seq - manifest.first_seq) * hashing.HASH_SIZE
        segment = leaves[lo : lo + cp.count * hashing.HASH_SIZE]
        value = hashing.chain_over(value, cp.first_seq, segment)
        root = hashing.merkle_root(hashing.split_leaves(segment)).hex()
        if value.hex() != cp.chain_hash or root != cp.segment_root:
            check.add(
                "CHECKPOINT_MISMATCH",
                f"checkpoint {cp.index} disagrees with the sealed leaves",
                path=f"{check.name}!{CHECKPOINTS_PATH}",
                seq=cp.first_seq,
                expected=f"chain {value.hex()} root {root}",
                actual=f"chain {cp.chain_hash} root {cp.segment_root}",
            )


def blame_index(check: BundleCheck, manifest: Manifest, index: bytes, actual: bytes) -> None:
    """If the stored records reproduce the signed chain, name the index entries that differ."""
    initial = bytes.fromhex(manifest.chain_initial)
    if hashing.chain_over(initial, manifest.first_seq, actual).hex() != manifest.chain_final:
        return
    size = hashing.HASH_SIZE
    for i in range(min(len(index), len(actual)) // size):
        if index[i * size : (i + 1) * size] != actual[i * size : (i + 1) * size]:
            check.add(
                "INDEX_MISMATCH",
                "leaf index entry differs from the intact record it indexes",
                path=f"{check.name}!{LEAVES_PATH}",
                seq=manifest.first_seq + i,
                expected=actual[i * size : (i + 1) * size].hex(),
                actual=index[i * size : (i + 1) * size].hex(),
            )


def check_index(check: BundleCheck, manifest: Manifest, expected: bytes) -> bool:
    """The signed index must itself reproduce the signed chain and root; True when it does."""
    check.count_check()
    initial = bytes.fromhex(manifest.chain_initial)
    where = f"{check.name}!{LEAVES_PATH}"
    final = hashing.chain_over(initial, manifest.first_seq, expected).hex()
    if final != manifest.chain_final:
        check.add(
            "INDEX_MISMATCH",
            "leaf index does not reproduce the signed final chain hash",
            path=where,
            expected=manifest.chain_final,
            actual=final,
        )
    root = hashing.merkle_root(hashing.split_leaves(expected)).hex()
    if root != manifest.merkle_root:
        check.add(
            "INDEX_MISMATCH",
            "leaf index does not reproduce the signed Merkle root",
            path=where,
            expected=manifest.merkle_root,
            actual=root,
        )
    return final == manifest.chain_final and root == manifest.merkle_root


def check_without_index(
    check: BundleCheck, manifest: Manifest, actual: bytes, checkpoints: list[Checkpoint] | None
) -> bool:
    """Without a trustworthy leaf index, check the chain and root and bound the damage.

    Returns whether the stored records reproduce both the signed chain and the signed root.
    """
    where = f"{check.name}!{MANIFEST_PATH}"
    initial = bytes.fromhex(manifest.chain_initial)
    final = hashing.chain_over(initial, manifest.first_seq, actual).hex()
    count = len(actual) // hashing.HASH_SIZE
    if final != manifest.chain_final:
        located = ""
        if checkpoints:
            value = initial
            for cp in checkpoints:
                lo = (cp.first_seq - manifest.first_seq) * hashing.HASH_SIZE
                value = hashing.chain_over(
                    value, cp.first_seq, actual[lo : lo + cp.count * hashing.HASH_SIZE]
                )
                if value.hex() != cp.chain_hash:
                    located = f"; first differing segment holds seq {cp.first_seq}-{cp.last_seq}"
                    check.add(
                        "CHECKPOINT_MISMATCH",
                        "records of this segment differ from the sealed ones",
                        path=f"{check.name}!{cp.file}",
                        seq=cp.first_seq,
                        expected=cp.chain_hash,
                        actual=value.hex(),
                    )
                    break
        check.add(
            "CHAIN_MISMATCH",
            f"recomputed chain differs from the signed final hash{located}",
            path=where,
            expected=manifest.chain_final,
            actual=final,
        )
    root = hashing.merkle_root(hashing.split_leaves(actual)).hex()
    if root != manifest.merkle_root:
        check.add(
            "MERKLE_MISMATCH",
            "recomputed Merkle root differs from the signed root",
            path=where,
            expected=f"{manifest.merkle_root} over {manifest.count}",
            actual=f"{root} over {count}",
        )
    return final == manifest.chain_final and root == manifest.merkle_root
