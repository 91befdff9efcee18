"""Step 6, Structure (docs/verification.md §2; checkpoints: docs/bundle-format.md §8.1)."""

from __future__ import annotations

from collections import defaultdict

from auditlens.core.bundle.container import Container
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
    Checkpoint,
    FileEntry,
    Manifest,
    derive_bundle_id,
    parse_checkpoints,
)
from auditlens.core.crypto import hashing
from auditlens.core.errors import InvalidInputError
from auditlens.core.verify.check import BundleCheck

# docs/bundle-format.md Appendix B: the checkpoint file is bounded by the records it describes.
MAX_CHECKPOINTS_BYTES = 256 * 1024 * 1024
CHECKPOINT_ENTRY_BYTES = 2048  # one canonical checkpoint is about 700 bytes; room to spare.


def check_structure(
    check: BundleCheck, container: Container, manifest: Manifest, ok_files: dict[str, FileEntry]
) -> list[Checkpoint] | None:
    """Step 6: sequence ranges, genesis chain value, bundle id, leaf index size, checkpoints.

    Drops ``index/leaves.bin`` from ``ok_files`` when its size is wrong; returns the checkpoints
    when their layout fits the manifest, else ``None`` (step 7 then works without them).
    """
    where = f"{check.name}!{MANIFEST_PATH}"
    check.count_check()
    data_files = manifest.data_files()
    expected_next = manifest.first_seq
    total = 0
    for entry in data_files:
        assert (
            entry.first_seq is not None and entry.last_seq is not None and entry.count is not None
        )
        if entry.first_seq != expected_next or entry.count != entry.last_seq - entry.first_seq + 1:
            check.add(
                "SEQUENCE_GAP",
                "data file sequence range does not continue the previous one",
                path=f"{check.name}!{entry.path}",
                seq=entry.first_seq,
                expected=str(expected_next),
                actual=f"{entry.first_seq}-{entry.last_seq} ({entry.count} records)",
            )
        expected_next = entry.last_seq + 1
        total += entry.count
    span = manifest.last_seq - manifest.first_seq + 1
    if total != manifest.count or span != manifest.count or manifest.merkle_size != manifest.count:
        check.add(
            "SEQUENCE_GAP",
            "record counts in the manifest disagree",
            path=where,
            expected=f"{span} records (seq {manifest.first_seq}-{manifest.last_seq})",
            actual=f"count {manifest.count}, files {total}, merkle size {manifest.merkle_size}",
        )
    if manifest.previous is None and manifest.first_seq != 1:
        # A stream's first bundle starts at seq 1 (bundle-format §1): records before this one
        # were never sealed, or their bundles were cut off from this one's chain.
        check.add(
            "SEQUENCE_GAP",
            "a stream's first bundle (no chain.previous) must start at seq 1",
            path=where,
            seq=manifest.first_seq,
            expected="1",
            actual=str(manifest.first_seq),
        )
    if manifest.previous is not None and manifest.previous.last_seq + 1 != manifest.first_seq:
        check.add(
            "SEQUENCE_GAP",
            "first sequence number does not follow the previous bundle's last",
            path=where,
            seq=manifest.first_seq,
            expected=str(manifest.previous.last_seq + 1),
            actual=str(manifest.first_seq),
        )
    check.count_check()
    previous_final = bytes.fromhex(manifest.previous.final_hash) if manifest.previous else None
    genesis = hashing.genesis_hash(manifest.stream_id, manifest.epoch, previous_final).hex()
    if genesis != manifest.chain_initial:
        check.add(
            "CHAIN_MISMATCH",
            "initial chain value does not derive from stream, epoch and previous link",
            path=where,
            seq=manifest.first_seq,
            expected=genesis,
            actual=manifest.chain_initial,
        )
    check.count_check()
    derived = derive_bundle_id(
        manifest.stream_id,
        manifest.epoch,
        manifest.first_seq,
        bytes.fromhex(manifest.chain_initial),
        bytes.fromhex(manifest.chain_final),
    )
    if derived != manifest.bundle_id:
        check.add(
            "BUNDLE_ID_MISMATCH",
            "bundle id does not derive from stream, epoch, first seq and chain",
            path=where,
            expected=derived,
            actual=manifest.bundle_id,
        )
    check.count_check()
    leaves = ok_files.get(LEAVES_PATH)
    if leaves is not None and leaves.size != manifest.count * hashing.HASH_SIZE:
        check.add(
            "INDEX_MISMATCH",
            "index/leaves.bin does not hold one hash per record",
            path=f"{check.name}!{LEAVES_PATH}",
            expected=str(manifest.count * hashing.HASH_SIZE),
            actual=str(leaves.size),
        )
        ok_files.pop(LEAVES_PATH)
    if CHECKPOINTS_PATH not in ok_files:
        return None
    check.count_check()
    cp_where = f"{check.name}!{CHECKPOINTS_PATH}"
    try:
        interval, checkpoints = parse_checkpoints(
            container.read(CHECKPOINTS_PATH, _checkpoints_limit(manifest)), source=cp_where
        )
    except InvalidInputError as exc:
        check.add("CHECKPOINT_MISMATCH", exc.message, path=cp_where)
        return None
    problem = _checkpoint_layout_problem(manifest, interval, checkpoints)
    if problem:
        check.add("CHECKPOINT_MISMATCH", problem, path=cp_where)
        return None
    return checkpoints


# -- step 7 -----------------------------------------------------------------------------


def _checkpoints_limit(manifest: Manifest) -> int:
    """The checkpoint file can only be as large as the records it describes need."""
    segments = manifest.count // max(manifest.checkpoint_interval, 1) + 1
    return min(MAX_CHECKPOINTS_BYTES, 4096 + segments * CHECKPOINT_ENTRY_BYTES)


def _checkpoint_layout_problem(
    manifest: Manifest, interval: int, checkpoints: list[Checkpoint]
) -> str | None:
    if interval != manifest.checkpoint_interval:
        return f"interval {interval} differs from the manifest's {manifest.checkpoint_interval}"
    expected_seq = manifest.first_seq
    files = {f.path: f for f in manifest.data_files()}
    offsets: dict[str, int] = defaultdict(int)
    for i, cp in enumerate(checkpoints):
        last = i == len(checkpoints) - 1
        if (
            cp.index != i
            or cp.first_seq != expected_seq
            or cp.count != cp.last_seq - cp.first_seq + 1
        ):
            return f"checkpoint {i} does not continue at seq {expected_seq}"
        if cp.count != interval and not last:
            return f"checkpoint {i} holds {cp.count} records, not {interval}"
        entry = files.get(cp.file)
        if entry is None or not (entry.first_seq or 0) <= cp.first_seq <= cp.last_seq <= (
            entry.last_seq or 0
        ):
            return f"checkpoint {i} names a file that does not hold its records"
        if cp.offset != offsets[cp.file]:
            return f"checkpoint {i} starts at byte {cp.offset}, expected {offsets[cp.file]}"
        offsets[cp.file] = cp.offset + cp.length
        expected_seq = cp.last_seq + 1
    if expected_seq != manifest.last_seq + 1:
        return f"checkpoints end at seq {expected_seq - 1}, the manifest at {manifest.last_seq}"
    return None
