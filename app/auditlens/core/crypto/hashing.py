r"""Leaf, chain and Merkle hashing of bundle format v1 (docs/bundle-format.md §4-§6).

Invariants:
    * A leaf is ``SHA-256(0x00 || line)`` over the exact stored line bytes without its ``\n``;
      records are never re-serialized (OTLP int64 values and protobuf are not canonical).
    * Interior Merkle nodes are ``SHA-256(0x01 || left || right)`` (RFC 9162 §2.1.1), so the leaf
      hash doubles as the RFC 9162 leaf hash.
    * The chain link is ``SHA-256(0x02 || prev || u64be(seq) || leaf)``; the genesis link
      ``SHA-256(0x03 || tag || u32be(len(stream)) || stream || u64be(epoch) || prev_final)``.
      Domain bytes 0x00-0x03 keep the four kinds of hash from ever colliding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
CHAIN_TAG = b"AUDITLENS-CHAIN-V1"

_LEAF = b"\x00"
_NODE = b"\x01"
_LINK = b"\x02"
_GENESIS = b"\x03"

_sha256 = hashlib.sha256


def leaf_hash(line: bytes) -> bytes:
    """Return the leaf hash of one stored record line (without its newline)."""
    return _sha256(_LEAF + line).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash of two subtree hashes."""
    return _sha256(_NODE + left + right).digest()


def genesis_hash(stream_id: str, epoch: int, previous_final: bytes | None) -> bytes:
    """Return ``C_0``, the chain value before the first record of a bundle.

    Args:
        stream_id: the stream's id (UTF-8, at most 255 bytes).
        epoch: the stream's epoch (unsigned 64-bit).
        previous_final: the previous bundle's final chain hash, or ``None`` for a stream's first
            bundle (then 32 zero bytes are used).
    """
    stream = stream_id.encode("utf-8")
    prev = ZERO_HASH if previous_final is None else previous_final
    if len(prev) != HASH_SIZE:
        raise ValueError("previous final chain hash must be 32 bytes")
    return _sha256(
        _GENESIS
        + CHAIN_TAG
        + len(stream).to_bytes(4, "big")
        + stream
        + epoch.to_bytes(8, "big")
        + prev
    ).digest()


def chain_step(previous: bytes, seq: int, leaf: bytes) -> bytes:
    """Return ``C_i`` from ``C_(i-1)``, the record's sequence number and its leaf hash."""
    return _sha256(_LINK + previous + seq.to_bytes(8, "big") + leaf).digest()


def chain_over(start: bytes, first_seq: int, leaves: bytes) -> bytes:
    """Fold :func:`chain_step` over concatenated 32-byte leaves starting at ``first_seq``."""
    sha = _sha256
    value = start
    seq = first_seq
    for offset in range(0, len(leaves), HASH_SIZE):
        value = sha(
            _LINK + value + seq.to_bytes(8, "big") + leaves[offset : offset + HASH_SIZE]
        ).digest()
        seq += 1
    return value


def split_leaves(leaves: bytes) -> list[bytes]:
    """Split concatenated leaf hashes into a list of 32-byte hashes."""
    if len(leaves) % HASH_SIZE:
        raise ValueError("leaf data is not a multiple of 32 bytes")
    return [leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)]


def merkle_root(hashes: Sequence[bytes]) -> bytes:
    """Return the RFC 9162 Merkle tree hash of a list of leaf hashes.

    The empty tree hashes to ``SHA-256("")`` as RFC 9162 §2.1.1 defines. Computed bottom-up with
    the RFC's split rule: the left subtree always holds the largest power of two below ``n``. The
    level-by-level pairing below yields the same tree because an odd last node is promoted
    unchanged to the next level.
    """
    if not hashes:
        return _sha256(b"").digest()
    level = list(hashes)
    while len(level) > 1:
        nxt = [
            _sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def merkle_root_of_segments(segment_roots: Sequence[bytes], segment_size: int, total: int) -> bytes:
    """Combine the roots of consecutive aligned segments into the root of the whole tree.

    Valid when ``segment_size`` is a power of two and every segment but the last is full: each
    full segment is then a complete subtree of the RFC 9162 tree, so the tree over the segment
    roots, built with the same split rule, is the tree over all leaves.
    """
    if segment_size & (segment_size - 1) or segment_size <= 0:
        raise ValueError("segment size must be a power of two")
    expected = -(-total // segment_size) if total else 0
    if len(segment_roots) != expected:
        raise ValueError("segment count does not match the record count")
    if total == 0:
        return merkle_root([])
    return merkle_root(segment_roots)


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """Return the RFC 9162 inclusion proof (audit path) for leaf ``index``."""
    if not 0 <= index < len(hashes):
        raise IndexError("leaf index out of range")
    proof: list[bytes] = []
    level = list(hashes)
    pos = index
    while len(level) > 1:
        sibling = pos ^ 1
        if sibling < len(level):
            proof.append(level[sibling])
        nxt = [
            _sha256(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
        pos //= 2
    return proof


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Iterable[bytes]) -> bytes | None:
    """The root an RFC 9162 §2.1.3.2 inclusion proof leads to, or ``None`` if it is malformed.

    Equal to the signed root means the leaf is at ``index`` of the tree of ``size`` leaves with
    that root; a caller that reports a mismatch shows the root it reached.
    """
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    value = leaf
    for sibling in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    return value if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Iterable[bytes], root: bytes
) -> bool:
    """Check an RFC 9162 §2.1.3.2 inclusion proof of ``leaf`` at ``index`` in a tree of ``size``."""
    return root_from_inclusion(leaf, index, size, proof) == root
