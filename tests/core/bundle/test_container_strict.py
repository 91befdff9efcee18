"""The strict container reader's own rules, one by one (docs/bundle-format.md §2.1).

tests/core/bundle/test_container_differential.py holds the reader against the real tools; these pin
the rules that no tool disagreement shows: limits checked before parsing, the CRC of stored
entries read in place, the pax keys allowed.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import pytest

from auditlens.core.bundle.container import MAX_ENTRIES, open_container
from auditlens.core.errors import InvalidInputError, LimitExceededError

RECORD = b'{"timestamp":"2026-03-02T08:00:00.000Z","user_id":"agent-042","action":"LOGIN"}\n'


def test_a_zip_claiming_too_many_entries_is_refused_before_its_directory_is_parsed(tmp_path):
    # The central directory is garbage: had it been parsed first, the error would name a
    # damaged record instead of the limit.
    directory = b"\xee" * 4096
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, len(directory), 4, 0)
    zip64_end = struct.pack(
        "<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, 300_000, 300_000, len(directory), 4
    )
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, 4 + len(directory), 1)
    path = tmp_path / "b.zip"
    path.write_bytes(b"PK\x03\x04" + directory + zip64_end + locator + end)
    with open_container(path) as container, pytest.raises(LimitExceededError) as caught:
        container.files()
    assert f"300000 entries exceeds the limit of {MAX_ENTRIES}" in caught.value.message


def stored_zip(path: Path, data: bytes, crc: int) -> Path:
    name = b"data/00001.jsonl"
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, crc, len(data), len(data), len(name), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        0x0314,
        20,
        0,
        0,
        0,
        0x21,
        crc,
        len(data),
        len(data),
        len(name),
        0,
        0,
        0,
        0,
        0o100644 << 16,
        0,
    )
    body = local + name + data
    directory = central + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(directory), len(body), 0)
    path.write_bytes(body + directory + end)
    return path


def test_a_stored_entry_with_a_wrong_crc_is_refused_when_read_and_when_read_in_place(tmp_path):
    path = stored_zip(tmp_path / "b.zip", RECORD, zlib.crc32(RECORD) ^ 1)
    with open_container(path) as container:
        assert list(container.files()) == ["data/00001.jsonl"]
        with pytest.raises(InvalidInputError, match="Bad CRC-32"):
            container.read("data/00001.jsonl", 1 << 20)
        # The fast path hashes stored entries in place: the CRC is checked first there too.
        with pytest.raises(InvalidInputError, match="Bad CRC-32"):
            container.region("data/00001.jsonl")


def test_a_stored_entry_with_its_crc_is_read_in_place(tmp_path):
    path = stored_zip(tmp_path / "b.zip", RECORD, zlib.crc32(RECORD))
    with open_container(path) as container:
        region = container.region("data/00001.jsonl")
    assert region is not None
    file, offset, size = region
    assert Path(file).read_bytes()[offset : offset + size] == RECORD


def test_python_zipfile_archives_with_zip64_local_headers_are_read(tmp_path):
    path = tmp_path / "b.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("data/00001.jsonl", "w", force_zip64=True) as handle,
    ):
        handle.write(RECORD * 50)
    with open_container(path) as container:
        assert container.read("data/00001.jsonl", 1 << 20) == RECORD * 50
        assert container.trailing_bytes() == 0


def pax_tar(path: Path, headers: dict[str, str], name: str = "data/00001.jsonl") -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(RECORD)
        info.pax_headers = headers
        archive.addfile(info, io.BytesIO(RECORD))
    path.write_bytes(buffer.getvalue())
    return path


def refusal(path: Path) -> InvalidInputError:
    """The error of opening or listing ``path`` (a first header refused stops the opening)."""
    try:
        with open_container(path) as container:
            container.files()
    except InvalidInputError as exc:
        return exc
    raise AssertionError(f"{path} was accepted")


def test_a_pax_path_names_the_member(tmp_path):
    long_name = "data/" + "x" * 120 + ".jsonl"
    path = pax_tar(tmp_path / "b.tar", {}, long_name)
    with open_container(path) as container:
        assert container.read(long_name, 1 << 20) == RECORD


@pytest.mark.parametrize(
    ("key", "value"),
    [("comment", "hidden text"), ("hdrcharset", "BINARY"), ("GNU.sparse.size", "99")],
)
def test_pax_keys_that_change_the_reading_or_hide_text_are_refused(tmp_path, key, value):
    path = pax_tar(tmp_path / "b.tar", {key: value})
    assert f"pax key {key!r} is not allowed" in refusal(path).message


def test_a_tar_ending_with_a_single_zero_block_is_truncated(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("manifest.json")
        info.size = 2
        archive.addfile(info, io.BytesIO(b"{}"))
    data = buffer.getvalue()
    end = data.rstrip(b"\x00")
    end += bytes(-len(end) % 512)
    path = tmp_path / "b.tar"
    path.write_bytes(end + bytes(512))
    assert "single zero block" in refusal(path).message
