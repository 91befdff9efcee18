"""The importer's file digest read into one buffer equals SHA-256 of the file's bytes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from auditlens.core.progress import CancelToken
from auditlens.core.store import importer


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 3 * 4096, 3 * 4096 + 17])
def test_a_file_read_into_one_buffer_hashes_as_its_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    # A small chunk, so that files of several chunks, of exactly one and of a last short one
    # go through the reused buffer.
    monkeypatch.setattr(importer, "HASH_CHUNK", 4096)
    data = os.urandom(size)
    path = tmp_path / "evidence.jsonl"
    path.write_bytes(data)
    assert importer._sha256_file(path, CancelToken()) == (hashlib.sha256(data).hexdigest(), size)


def test_a_file_that_grew_after_its_size_was_taken_is_hashed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The buffer is sized to the file as it was opened; bytes appended meanwhile are read too
    # (the digest is of what was read; the fingerprint re-check refuses a changed input).
    monkeypatch.setattr(importer, "HASH_CHUNK", 4096)
    path = tmp_path / "evidence.jsonl"
    path.write_bytes(b"a" * 100)
    real_fstat = os.fstat

    def fstat_then_grow(fd: int) -> os.stat_result:
        result = real_fstat(fd)
        with path.open("ab") as handle:
            handle.write(b"b" * 10_000)
        return result

    monkeypatch.setattr(importer.os, "fstat", fstat_then_grow)
    data = b"a" * 100 + b"b" * 10_000
    assert importer._sha256_file(path, CancelToken()) == (hashlib.sha256(data).hexdigest(), 10_100)
