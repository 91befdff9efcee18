"""Leaf, chain and Merkle hashing against their definitions (RFC 9162 §2.1)."""

import hashlib

import pytest

from auditlens.core.crypto import hashing


def rfc9162_mth(leaves: list[bytes]) -> bytes:
    """The recursive definition, written straight from RFC 9162 §2.1.1 (leaves are leaf hashes)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + rfc9162_mth(leaves[:k]) + rfc9162_mth(leaves[k:])).digest()


def leaves_of(n: int) -> list[bytes]:
    return [hashing.leaf_hash(f"record {i}".encode()) for i in range(n)]


def test_leaf_hash_prefixes_zero_byte():
    assert hashing.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 33, 100])
def test_merkle_root_matches_rfc9162_definition(n):
    leaves = leaves_of(n)
    assert hashing.merkle_root(leaves) == rfc9162_mth(leaves)


@pytest.mark.parametrize(
    ("n", "segment"), [(1, 4), (4, 4), (5, 4), (17, 4), (64, 8), (65, 8), (100, 16)]
)
def test_segment_roots_compose_into_the_tree_root(n, segment):
    leaves = leaves_of(n)
    roots = [hashing.merkle_root(leaves[i : i + segment]) for i in range(0, n, segment)]
    assert hashing.merkle_root_of_segments(roots, segment, n) == rfc9162_mth(leaves)


def test_segment_composition_refuses_non_power_of_two():
    with pytest.raises(ValueError, match="power of two"):
        hashing.merkle_root_of_segments([b"x" * 32], 3, 3)


@pytest.mark.parametrize("n", [1, 2, 3, 6, 13])
def test_inclusion_proofs_verify_and_fail_for_wrong_leaf(n):
    leaves = leaves_of(n)
    root = hashing.merkle_root(leaves)
    for index in range(n):
        proof = hashing.inclusion_proof(leaves, index)
        assert hashing.verify_inclusion(leaves[index], index, n, proof, root)
        assert not hashing.verify_inclusion(hashing.leaf_hash(b"forged"), index, n, proof, root)


def test_chain_step_layout():
    prev = bytes(range(32))
    leaf = hashing.leaf_hash(b"x")
    expected = hashlib.sha256(b"\x02" + prev + (7).to_bytes(8, "big") + leaf).digest()
    assert hashing.chain_step(prev, 7, leaf) == expected


def test_chain_over_equals_repeated_steps():
    leaves = leaves_of(10)
    value = start = hashing.genesis_hash("s", 1, None)
    for i, leaf in enumerate(leaves):
        value = hashing.chain_step(value, 5 + i, leaf)
    assert hashing.chain_over(start, 5, b"".join(leaves)) == value


def test_genesis_layout_and_dependence_on_every_input():
    g = hashing.genesis_hash("stream-a", 3, None)
    expected = hashlib.sha256(
        b"\x03AUDITLENS-CHAIN-V1"
        + (8).to_bytes(4, "big")
        + b"stream-a"
        + (3).to_bytes(8, "big")
        + bytes(32)
    ).digest()
    assert g == expected
    assert hashing.genesis_hash("stream-b", 3, None) != g
    assert hashing.genesis_hash("stream-a", 4, None) != g
    assert hashing.genesis_hash("stream-a", 3, b"\x01" * 32) != g
