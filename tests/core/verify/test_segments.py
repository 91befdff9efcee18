"""The verifier's inlined segment hashing equals the reference hashing functions."""

import pytest

from auditlens.core.crypto import hashing
from auditlens.core.verify.segments import SegmentTask, hash_region, hash_segments


def lines(n):
    return [f'{{"n":{i},"pad":"{"x" * (i % 7)}"}}'.encode() for i in range(n)]


@pytest.mark.parametrize("n", [1, 2, 3, 8, 13])
def test_hash_region_matches_reference(n):
    records = lines(n)
    data = b"".join(r + b"\n" for r in records)
    start = hashing.genesis_hash("s", 1, None)
    result = hash_region(data, n, 10, start)
    leaves = [hashing.leaf_hash(r) for r in records]
    assert result.framed
    assert result.leaves == b"".join(leaves)
    assert result.end_chain == hashing.chain_over(start, 10, b"".join(leaves))
    assert result.root == hashing.merkle_root(leaves)


def test_framing_detects_missing_newline_and_wrong_count():
    data = b"a\nb\nc"
    assert not hash_region(data, 3, 1, bytes(32)).framed
    assert not hash_region(b"a\nb\n", 3, 1, bytes(32)).framed
    assert hash_region(b"a\nb\n", 2, 1, bytes(32)).framed


def test_hash_segments_reads_regions_and_flags_short_reads(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"xx" + b"a\nb\n" + b"c\n")
    tasks = [
        SegmentTask(str(path), 2, 4, 2, 1, bytes(32)),
        SegmentTask(str(path), 6, 2, 1, 3, bytes(32)),
        SegmentTask(str(path), 8, 5, 1, 4, bytes(32)),
    ]
    first, second, short = hash_segments(tasks)
    assert first.leaves == hashing.leaf_hash(b"a") + hashing.leaf_hash(b"b")
    assert second.leaves == hashing.leaf_hash(b"c")
    assert not short.framed


def _split_reference(data, count, first_seq, start):
    """The leaves and framing as a plain split of the bytes gives them."""
    parts = data.split(b"\n")
    framed = parts[-1] == b"" and len(parts) - 1 == count
    if parts[-1] == b"":
        parts.pop()
    leaves = [hashing.leaf_hash(p) for p in parts]
    root = hashing.merkle_root(leaves) if leaves else None
    return framed, b"".join(leaves), hashing.chain_over(start, first_seq, b"".join(leaves)), root


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\n",
        b"\n\n\n",
        b"a",
        b"a\nb",
        b"a\n\nb\n",
        b'{"x":1}\r\n{"y":2}\n',
        b"\n" + b"z" * 5000 + b"\n",
        b"a\nb\n\n",
        "\u00e9t\u00e9\n\u4e2d\n".encode(),
    ],
)
@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_hash_region_lines_found_by_newline_equal_a_split(data, count):
    start = hashing.genesis_hash("s", 1, None)
    framed, leaves, chain, root = _split_reference(data, count, 5, start)
    result = hash_region(data, count, 5, start)
    assert result.framed == framed
    assert result.leaves == leaves
    assert result.end_chain == chain
    if root is not None:
        assert result.root == root


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"a", b"a\nb", b"a\n\nb\n", b"\n" + b"z" * 5000 + b"\n", b"a\nb\n\n"],
)
@pytest.mark.parametrize("count", [0, 1, 2, 3])
def test_a_segment_at_the_start_of_a_larger_buffer_hashes_as_its_own_bytes(data, count):
    # hash_segments reads each segment into the start of one reused buffer: whatever lies past
    # the segment (an earlier, longer segment's bytes, newlines among them) must not count.
    start = hashing.genesis_hash("s", 1, None)
    buffer = bytearray(data + b"x\ny\n" * 50)
    assert hash_region(buffer, count, 5, start, len(data)) == hash_region(data, count, 5, start)


def test_hash_segments_reusing_its_buffer_gives_each_segment_its_own_hashes(tmp_path):
    # A long segment, then shorter ones and a short read, in one buffer: each result is the one
    # its bytes alone give, and a second call (the buffer kept by the thread) gives the same.
    long = b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, b"y" * 300) for i in range(40))
    short = b'{"a":1}\n{"b":2}\n'
    path = tmp_path / "f"
    path.write_bytes(long + short + b"c\n")
    size = len(long) + len(short) + 2
    tasks = [
        SegmentTask(str(path), 0, len(long), 40, 1, bytes(32)),
        SegmentTask(str(path), len(long), len(short), 2, 41, bytes(32)),
        SegmentTask(str(path), size - 2, 2, 1, 43, bytes(32)),
        SegmentTask(str(path), size - 2, 9, 1, 44, bytes(32)),
    ]
    expected = [
        hash_region(long, 40, 1, bytes(32)),
        hash_region(short, 2, 41, bytes(32)),
        hash_region(b"c\n", 1, 43, bytes(32)),
    ]
    for _ in range(2):
        *results, past_the_end = hash_segments(tasks)
        assert results == expected
        assert not past_the_end.framed and past_the_end.leaves == b""
