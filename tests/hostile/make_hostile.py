"""Generate hostile inputs for ``auditlens verify`` (docs/robustness.md) from one small bundle.

Every case starts from a bundle sealed here (ten audit-JSON records, checkpoints every four, eight
records per data file, so ``data/00001.jsonl`` holds lines 1-8 and ``data/00002.jsonl`` lines
1-2) and damages it, or its container, the way an attacker or a broken copy would. Each case says
what verify must report: a finding code at an exact place (bundle, ``bundle!entry``, line), and
sometimes a word of its message or its ``actual`` value. Those expectations come from what the
case did, never from running the verifier.

Bombs are made cheaply: a deflate stream of zeros is a run of identical blocks (each block
compressed after a full flush depends on nothing before it), so gigabytes are written as a few
megabytes of one repeated block, and the CRC-32 of the zeros is computed in O(log n).

Run as a script to write every case into a folder (e.g. to try them by hand)::

    .venv/bin/python tests/hostile/make_hostile.py /tmp/hostile
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import os
import random
import shutil
import stat
import struct
import sys
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.bundle.container import MAX_COMPRESSION_RATIO, MIN_RATIO_CHECK_BYTES
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    ENVELOPE_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
    PAYLOAD_TYPE,
)
from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.dsse import sign_envelope
from auditlens.core.crypto.keys import sample_key

KEY_LABEL = "bad-input-test"
RECORDS = 10
CHECKPOINT_EVERY = 4
RECORDS_PER_FILE = 8
DATA1 = "data/00001.jsonl"
DATA2 = "data/00002.jsonl"
GIANT_LINE = 100 * 1024 * 1024  # docs/robustness.md "giant lines": a 100 MB record.
BOMB_SIZE = 3 * 1024**3  # declared/expanded size of the bombs; stays below zip64's 4 GiB.
BOMB_UNIT = 1024 * 1024  # zeros per repeated deflate block


@dataclasses.dataclass(frozen=True)
class Base:
    """The valid bundle every case starts from."""

    folder: Path  # the bundle as a folder
    trust: Path  # PEM public key of its signer (trusted: the intact bundle verifies)

    def read(self, member: str) -> bytes:
        """One file of the bundle."""
        return (self.folder / member).read_bytes()

    def members(self) -> list[tuple[str, bytes]]:
        """Every file, in the sealer's order: manifest, envelope, index, data."""
        names = [MANIFEST_PATH, ENVELOPE_PATH, CHECKPOINTS_PATH, LEAVES_PATH, DATA1, DATA2]
        found = [p.relative_to(self.folder).as_posix() for p in self.folder.rglob("*")]
        assert sorted(names) == sorted(n for n in found if (self.folder / n).is_file()), found
        return [(name, self.read(name)) for name in names]

    def manifest(self) -> dict[str, Any]:
        """The manifest as JSON."""
        document: dict[str, Any] = json.loads(self.read(MANIFEST_PATH))
        return document

    def lines(self, member: str) -> list[bytes]:
        """The record lines of a data file, without newlines."""
        return self.read(member).split(b"\n")[:-1]


@dataclasses.dataclass(frozen=True)
class Case:
    """One hostile input and what ``auditlens verify`` must say about it."""

    what: str  # the hostile input, in a phrase
    path: Path  # what to verify
    code: str  # a finding with this code must be reported ...
    where: str  # ... at exactly this place: the bundle, or "bundle!entry"
    line: int | None = None  # ... at this 1-based line, for a record
    mentions: str | None = None  # ... whose message holds this text
    actual: str | None = None  # ... whose actual value is this
    name: str = ""  # the case's name (set by build)


# Cases verify does not handle yet (bugs outside container.py and formats/, reported with a
# reproduction). Their tests are expected to fail, strictly: a fix makes them pass and the entry
# must then go.
# Open bugs, each a strict xfail in tests/cli/test_bad_input.py: remove an entry when it is fixed.
KNOWN_BUGS: dict[str, str] = {}

Builder = Callable[[Base, Path], Case]
BUILDERS: dict[str, Builder] = {}


def case(name: str) -> Callable[[Builder], Builder]:
    """Register a case builder under ``name``."""

    def register(builder: Builder) -> Builder:
        assert name not in BUILDERS, name
        BUILDERS[name] = builder
        return builder

    return register


# --- the base bundle ---------------------------------------------------------------------------


def audit_lines(count: int = RECORDS) -> list[bytes]:
    """Audit-logger JSON records, one per line, as the platform writes them."""
    lines = []
    for i in range(count):
        record = {
            "timestamp": f"2026-03-02T08:00:{i:02d}.000Z",
            "user_id": f"u-{i % 3}",
            "user_name": ["alice", "bob", "carol"][i % 3],
            "action": ["LOGIN_SUCCESS", "UPDATE", "EXPORT"][i % 3],
            "resource": "contact",
            "resource_id": f"c-{i}",
            "source_ip_address": f"10.0.0.{i + 1}",
            "attributes": {"service": "crm", "tenantId": "acme", "updated_data": {"n": i}},
            "type": "audit_logging",
            "level": "INFO",
        }
        lines.append(json.dumps(record, separators=(",", ":")).encode())
    return lines


def make_base(root: Path) -> Base:
    """Seal the valid bundle (a folder) under ``root``; write its signer's public key."""
    root.mkdir(parents=True, exist_ok=True)
    raw = root / "audit.jsonl"
    raw.write_bytes(b"".join(line + b"\n" for line in audit_lines()))
    key = sample_key(KEY_LABEL)
    job = seal(
        [raw],
        key,
        root / "bundle",
        stream_id="bad-input",
        checkpoint_every=CHECKPOINT_EVERY,
        records_per_file=RECORDS_PER_FILE,
        sealed_at="2026-03-02T09:00:00Z",
    )
    for _ in job:
        pass
    trust = root / "signer.pub.pem"
    trust.write_bytes(key.public_pem())
    return Base(root / "bundle", trust)


# --- container writers -------------------------------------------------------------------------


def copy_folder(base: Base, out: Path, name: str = "bundle") -> Path:
    """A copy of the base bundle as a folder."""
    target = out / name
    shutil.copytree(base.folder, target)
    return target


def zip_info(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    """A zip entry with a Unix mode (type and permission bits)."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix: the high bits of external_attr are st_mode
    return info


def write_zip(path: Path, members: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    """A zip of ``members`` (duplicates allowed: zipfile only warns)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(zip_info(name) if isinstance(name, str) else name, data)
    return path


def tar_info(name: str, size: int = 0, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    """A tar member header."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.type = kind
    info.mode = 0o644
    return info


def tar_bytes(members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """An uncompressed PAX tar of ``members`` (the data of links and devices is None)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def regular(members: Iterable[tuple[str, bytes]]) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    """Tar members for plain files."""
    return [(tar_info(name, len(data)), data) for name, data in members]


def write_tar(path: Path, members: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    """A .tar, or a .tar.gz when the name says so."""
    data = tar_bytes(members)
    if path.name.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


# --- bombs -------------------------------------------------------------------------------------


def _gf2_times(matrix: list[int], vector: int) -> int:
    total = 0
    for column in matrix:
        if not vector:
            break
        if vector & 1:
            total ^= column
        vector >>= 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, column) for column in matrix]


def crc32_zeros(crc: int, count: int) -> int:
    """``zlib.crc32(data + bytes(count))`` from ``crc = zlib.crc32(data)``, in O(log count).

    Appending zero bytes is linear on the CRC register, so it is a 32x32 matrix over GF(2)
    raised to the power ``count`` by squaring (the idea of zlib's ``crc32_combine``).
    """
    operator = [0xEDB88320] + [1 << n for n in range(31)]  # one zero bit
    for _ in range(3):
        operator = _gf2_square(operator)  # one zero byte
    register = crc ^ 0xFFFFFFFF
    while count:
        if count & 1:
            register = _gf2_times(operator, register)
        count >>= 1
        if count:
            operator = _gf2_square(operator)
    return register ^ 0xFFFFFFFF


def deflate_flushed(data: bytes) -> bytes:
    """Raw deflate blocks of ``data`` ending in a full flush: independent of what precedes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


def deflate_final(data: bytes) -> bytes:
    """Raw deflate blocks of ``data`` that end the stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(zlib.Z_FINISH)


def zero_blocks(size: int) -> Iterator[bytes]:
    """Raw deflate of ``size`` zero bytes (a multiple of BOMB_UNIT) as repeated blocks."""
    assert size % BOMB_UNIT == 0
    unit = deflate_flushed(bytes(BOMB_UNIT))
    for _ in range(size // BOMB_UNIT):
        yield unit


@dataclasses.dataclass(frozen=True)
class RawEntry:
    """A zip entry written byte by byte: sizes and CRC are whatever the caller declares."""

    name: str
    method: int
    crc: int
    compressed: int
    size: int
    chunks: Callable[[], Iterable[bytes]]
    mode: int = stat.S_IFREG | 0o644


def write_raw_zip(path: Path, entries: list[RawEntry], *, overlap: int = 0) -> dict[str, int]:
    """Write a zip by hand; returns each entry's local header offset.

    With ``overlap`` > 0, that many extra central-directory entries point at the first entry's
    data (the overlapping-entries bomb): names ``overlap/00001``..., same sizes as entry 0.
    """
    offsets: dict[str, int] = {}
    central = b""
    with path.open("wb") as out:
        for entry in entries:
            name = entry.name.encode()
            offsets[entry.name] = out.tell()
            out.write(
                struct.pack(
                    "<4sHHHHHIIIHH",
                    b"PK\x03\x04",
                    20,
                    0,
                    entry.method,
                    0,
                    0x21,
                    entry.crc,
                    entry.compressed,
                    entry.size,
                    len(name),
                    0,
                )
                + name
            )
            written = 0
            for chunk in entry.chunks():
                out.write(chunk)
                written += len(chunk)
            assert written == entry.compressed, (entry.name, written, entry.compressed)
            central += _central(entry, name, offsets[entry.name])
        for i in range(overlap):
            first = entries[0]
            central += _central(first, f"overlap/{i + 1:05d}".encode(), offsets[first.name])
        start = out.tell()
        out.write(central)
        count = len(entries) + overlap
        out.write(
            struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), start, 0)
        )
    return offsets


def _central(entry: RawEntry, name: bytes, offset: int) -> bytes:
    return (
        struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            0x0314,  # made by Unix, spec 2.0
            20,
            0,
            entry.method,
            0,
            0x21,
            entry.crc,
            entry.compressed,
            entry.size,
            len(name),
            0,
            0,
            0,
            0,
            entry.mode << 16,
            offset,
        )
        + name
    )


def stored(name: str, data: bytes) -> RawEntry:
    """A stored (uncompressed) raw entry."""
    return RawEntry(
        name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), len(data), lambda: [data]
    )


def zero_bomb(name: str, size: int = BOMB_SIZE, *, declared: int | None = None) -> RawEntry:
    """A deflated entry of ``size`` zero bytes; ``declared`` overrides the size it claims."""
    unit = len(deflate_flushed(bytes(BOMB_UNIT)))
    end = deflate_final(b"")
    compressed = unit * (size // BOMB_UNIT) + len(end)
    return RawEntry(
        name,
        zipfile.ZIP_DEFLATED,
        crc32_zeros(0, size),
        compressed,
        size if declared is None else declared,
        lambda: [*zero_blocks(size), end],
    )


def gzip_with_zeros(path: Path, before: bytes, zeros: int, after: bytes) -> None:
    """A gzip file of ``before + bytes(zeros) + after``, written without compressing the zeros."""
    crc = zlib.crc32(after, crc32_zeros(zlib.crc32(before), zeros))
    total = len(before) + zeros + len(after)
    with path.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # deflate, no name, mtime 0
        out.write(deflate_flushed(before))
        for block in zero_blocks(zeros):
            out.write(block)
        out.write(deflate_final(after))
        out.write(struct.pack("<II", crc, total & 0xFFFFFFFF))


# --- helpers for the cases ---------------------------------------------------------------------


def manifest_variant(base: Base, out: Path, data: bytes) -> Path:
    """A folder copy whose manifest.json is ``data``."""
    bundle = copy_folder(base, out)
    (bundle / MANIFEST_PATH).write_bytes(data)
    return bundle


def insert_into_producer(base: Base, member_text: bytes) -> bytes:
    """The manifest bytes with ``"x":<member_text>`` as the first member of ``producer``."""
    manifest = base.read(MANIFEST_PATH)
    marker = b'"producer":{'
    assert manifest.count(marker) == 1
    return manifest.replace(marker, marker + b'"x":' + member_text + b",")


def in_bundle(bundle: Path, member: str) -> str:
    """The place of a bundle member in findings."""
    return f"{bundle}!{member}"


def sparse_file(path: Path, size: int) -> None:
    """A file of ``size`` zero bytes that takes no disk space."""
    with path.open("wb") as handle:
        handle.truncate(size)


def png_1x1() -> bytes:
    """A valid one-pixel PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# --- entries: traversal, links, devices, duplicates --------------------------------------------


@case("zip_dotdot_name")
def _zip_dotdot(base: Base, out: Path) -> Case:
    path = write_zip(out / "b.zip", [*base.members(), ("../evil.txt", b"escaped")])
    return Case(
        "zip entry named ../evil.txt",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "../evil.txt"),
        mentions="..",
    )


@case("zip_absolute_name")
def _zip_absolute(base: Base, out: Path) -> Case:
    path = write_zip(out / "b.zip", [*base.members(), ("/etc/passwd", b"root:x:0:0")])
    return Case(
        "zip entry named /etc/passwd",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "/etc/passwd"),
        mentions="absolute",
    )


@case("zip_backslash_name")
def _zip_backslash(base: Base, out: Path) -> Case:
    name = "data\\..\\..\\evil.txt"
    path = write_zip(out / "b.zip", [*base.members(), (name, b"escaped on Windows")])
    return Case(
        "zip entry climbing out with backslashes",
        path,
        "UNSAFE_PATH",
        in_bundle(path, name),
        mentions="backslash",
    )


@case("zip_deep_name")
def _zip_deep(base: Base, out: Path) -> Case:
    name = "/".join(["d"] * 40) + "/x.jsonl"
    path = write_zip(out / "b.zip", [*base.members(), (name, b"deep")])
    return Case(
        "zip entry nested 40 folders deep",
        path,
        "UNSAFE_PATH",
        in_bundle(path, name),
        mentions="deeper",
    )


@case("tar_dotdot_name")
def _tar_dotdot(base: Base, out: Path) -> Case:
    members = [*regular(base.members()), (tar_info("../evil.txt", 7), b"escaped")]
    path = write_tar(out / "b.tar.gz", members)
    return Case(
        "tar.gz member named ../evil.txt",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "../evil.txt"),
        mentions="..",
    )


@case("tar_absolute_name")
def _tar_absolute(base: Base, out: Path) -> Case:
    members = [*regular(base.members()), (tar_info("/etc/passwd", 10), b"root:x:0:0")]
    path = write_tar(out / "b.tar", members)
    return Case(
        "tar member named /etc/passwd",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "/etc/passwd"),
        mentions="absolute",
    )


@case("zip_symlink")
def _zip_symlink(base: Base, out: Path) -> Case:
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = [
        (name, data) for name, data in base.members() if name != DATA1
    ]
    members.append((zip_info(DATA1, stat.S_IFLNK | 0o777), b"/etc/passwd"))
    path = write_zip(out / "b.zip", members)
    return Case(
        "zip entry data/00001.jsonl is a symlink to /etc/passwd",
        path,
        "UNSAFE_PATH",
        in_bundle(path, DATA1),
        mentions="symlink",
    )


@case("tar_symlink")
def _tar_symlink(base: Base, out: Path) -> Case:
    link = tar_info(DATA1, kind=tarfile.SYMTYPE)
    link.linkname = "/etc/passwd"
    members = [(i, d) if i.name != DATA1 else (link, None) for i, d in regular(base.members())]
    path = write_tar(out / "b.tar.gz", members)
    return Case(
        "tar.gz member data/00001.jsonl is a symlink to /etc/passwd",
        path,
        "UNSAFE_PATH",
        in_bundle(path, DATA1),
        mentions="symlink",
    )


@case("tar_hardlink")
def _tar_hardlink(base: Base, out: Path) -> Case:
    link = tar_info(DATA2, kind=tarfile.LNKTYPE)
    link.linkname = "/etc/shadow"
    members = [(i, d) if i.name != DATA2 else (link, None) for i, d in regular(base.members())]
    path = write_tar(out / "b.tar", members)
    return Case(
        "tar member data/00002.jsonl is a hard link to /etc/shadow",
        path,
        "UNSAFE_PATH",
        in_bundle(path, DATA2),
        mentions="hardlink",
    )


@case("tar_char_device")
def _tar_device(base: Base, out: Path) -> Case:
    device = tar_info("data/zero", kind=tarfile.CHRTYPE)
    device.devmajor, device.devminor = 1, 5  # /dev/zero: endless bytes if ever read
    path = write_tar(out / "b.tar", [*regular(base.members()), (device, None)])
    return Case(
        "tar member data/zero is the character device /dev/zero",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "data/zero"),
        mentions="device",
    )


@case("tar_fifo")
def _tar_fifo(base: Base, out: Path) -> Case:
    fifo = tar_info(DATA2, kind=tarfile.FIFOTYPE)
    members = [(i, d) if i.name != DATA2 else (fifo, None) for i, d in regular(base.members())]
    path = write_tar(out / "b.tar.gz", members)
    return Case(
        "tar.gz member data/00002.jsonl is a FIFO",
        path,
        "UNSAFE_PATH",
        in_bundle(path, DATA2),
        mentions="device",
    )


@case("dir_symlink_file")
def _dir_symlink_file(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    outside = out / "outside.jsonl"
    outside.write_bytes(base.read(DATA1))  # same bytes: only the link itself is wrong
    (bundle / DATA1).unlink()
    (bundle / DATA1).symlink_to(outside)
    return Case(
        "data/00001.jsonl is a symlink to a file outside",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, DATA1),
        mentions="symlink",
    )


@case("dir_symlink_folder")
def _dir_symlink_folder(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    shutil.move(bundle / "data", out / "elsewhere")
    (bundle / "data").symlink_to(out / "elsewhere", target_is_directory=True)
    return Case(
        "data/ is a symlink to a folder outside",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, "data"),
        mentions="symlink",
    )


@case("dir_hardlink")
def _dir_hardlink(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    os.link(bundle / DATA2, out / "second-name.jsonl")
    return Case(
        "data/00002.jsonl has a second hard link outside the bundle",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, DATA2),
        mentions="hardlink",
    )


@case("dir_fifo")
def _dir_fifo(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    (bundle / DATA2).unlink()
    os.mkfifo(bundle / DATA2)  # opening it for reading would block forever
    return Case(
        "data/00002.jsonl is a FIFO",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, DATA2),
        mentions="device",
    )


@case("dir_non_utf8_name")
def _dir_non_utf8(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    (bundle / "data").joinpath(os.fsdecode(b"\xff\xfe.jsonl")).write_bytes(b"{}\n")
    return Case(
        "a file whose name is not UTF-8 (bytes ff fe) in data/",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, "data/\\xff\\xfe.jsonl"),  # shown escaped: printable, never opened
        mentions="not UTF-8",
    )


@case("tar_non_utf8_name")
def _tar_non_utf8(base: Base, out: Path) -> Case:
    odd = tar_info(os.fsdecode(b"data/\xff\xfe.jsonl"), 3)
    path = out / "b.tar"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for info, data in [*regular(base.members()), (odd, b"{}\n")]:
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return Case(
        "a tar member whose name is not UTF-8 (bytes ff fe)",
        path,
        "UNSAFE_PATH",
        in_bundle(path, "data/\\xff\\xfe.jsonl"),
        mentions="not UTF-8",
    )


@case("zip_duplicate_entry")
def _zip_duplicate(base: Base, out: Path) -> Case:
    lines = base.lines(DATA1)
    forged = b"".join(
        line + b"\n" for line in [*lines[:2], lines[2].replace(b"bob", b"eve"), *lines[3:]]
    )
    path = write_zip(out / "b.zip", [*base.members(), (DATA1, forged)])
    return Case(
        "data/00001.jsonl twice, the second copy altered",
        path,
        "DUPLICATE_ENTRY",
        in_bundle(path, DATA1),
    )


@case("tar_duplicate_entry")
def _tar_duplicate(base: Base, out: Path) -> Case:
    members = [*regular(base.members()), *regular([(MANIFEST_PATH, b"{}")])]
    path = write_tar(out / "b.tar.gz", members)
    return Case(
        "manifest.json twice (tar extraction keeps the last)",
        path,
        "DUPLICATE_ENTRY",
        in_bundle(path, MANIFEST_PATH),
    )


# --- bombs -------------------------------------------------------------------------------------


def _bomb_zip(base: Base, path: Path, bomb: RawEntry, *, overlap: int = 0) -> Path:
    entries = [stored(n, d) for n, d in base.members() if n != bomb.name]
    write_raw_zip(path, [bomb, *entries] if overlap else [*entries, bomb], overlap=overlap)
    return path


@case("zip_bomb")
def _zip_bomb(base: Base, out: Path) -> Case:
    path = _bomb_zip(base, out / "b.zip", zero_bomb(DATA1))
    return Case(
        f"data/00001.jsonl deflates {BOMB_SIZE} zero bytes into ~3 MB",
        path,
        "LIMIT_EXCEEDED",
        in_bundle(path, DATA1),
        mentions=f"ratio limit of {MAX_COMPRESSION_RATIO}",
    )


@case("zip_bomb_understated")
def _zip_bomb_understated(base: Base, out: Path) -> Case:
    size = len(base.read(DATA1))
    path = _bomb_zip(base, out / "b.zip", zero_bomb(DATA1, declared=size))
    return Case(
        f"data/00001.jsonl declares {size} bytes but inflates to {BOMB_SIZE}",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
    )


@case("zip_overlap_bomb")
def _zip_overlap_bomb(base: Base, out: Path) -> Case:
    # Each entry alone stays under the per-entry check (MIN_RATIO_CHECK_BYTES); together the
    # 200 entries sharing one run of zeros declare about 12 GB from an 80 KB archive.
    size = 60 * 1024 * 1024
    assert size <= MIN_RATIO_CHECK_BYTES
    path = _bomb_zip(base, out / "b.zip", zero_bomb(DATA1, size), overlap=200)
    budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * path.stat().st_size)
    with zipfile.ZipFile(path) as archive:
        declared = 0
        for info in archive.infolist():
            declared += info.file_size
            if declared > budget:
                first_over = info.filename
                break
    return Case(
        "200 zip entries overlap one 60 MiB run of zeros",
        path,
        "LIMIT_EXCEEDED",
        in_bundle(path, first_over),
        mentions=f"ratio limit of {MAX_COMPRESSION_RATIO}",
    )


@case("targz_bomb")
def _targz_bomb(base: Base, out: Path) -> Case:
    before = [(n, d) for n, d in base.members() if n != DATA2]
    head = _strip_tar_end(tar_bytes(regular(before)))
    header = tar_info(DATA2, BOMB_SIZE).tobuf(tarfile.PAX_FORMAT)
    path = out / "b.tar.gz"
    gzip_with_zeros(path, head + header, BOMB_SIZE, bytes(1024))
    return Case(
        f"tar.gz member data/00002.jsonl of {BOMB_SIZE} zero bytes",
        path,
        "LIMIT_EXCEEDED",
        in_bundle(path, DATA2),
        mentions=f"ratio limit of {MAX_COMPRESSION_RATIO}",
    )


def _strip_tar_end(data: bytes) -> bytes:
    """A tar stream without its end-of-archive marker and padding (to append members)."""
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.getmembers()
        end = archive.offset
    assert not data[end:].strip(b"\x00")
    return data[:end]


@case("targz_long_header_bomb")
def _targz_header_bomb(base: Base, out: Path) -> Case:
    head = _strip_tar_end(tar_bytes(regular(base.members()[:2])))
    extended = tar_info("PaxHeaders/bomb", BOMB_SIZE // 3, tarfile.XHDTYPE)
    header = extended.tobuf(tarfile.USTAR_FORMAT)
    path = out / "b.tar.gz"
    gzip_with_zeros(path, head + header, BOMB_SIZE // 3, bytes(1024))
    return Case(
        "tar.gz pax extended header of 1 GiB of zeros",
        path,
        "LIMIT_EXCEEDED",
        str(path),
        mentions="extended header",
    )


@case("tar_gnu_long_name")
def _tar_gnu_long_name(base: Base, out: Path) -> Case:
    # GNU's 'L' header names the next member; the spec allows ustar and pax only, and readers
    # that do not know 'L' extract it as a file of its own.
    members = [(tar_info(name, len(data)), data) for name, data in base.members()]
    path = out / "b.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data))
        long = tar_info("data/" + "x" * 120 + ".jsonl", 3)
        archive.addfile(long, io.BytesIO(b"{}\n"))
    return Case(
        "a member named by a GNU long-name ('L') header",
        path,
        "ARCHIVE_CORRUPT",
        str(path),
        mentions="GNU long-name header",
    )


# --- truncated and trailing data in archives ---------------------------------------------------


@case("targz_truncated")
def _targz_truncated(base: Base, out: Path) -> Case:
    data = gzip.compress(tar_bytes(regular(base.members())), mtime=0)
    path = out / "b.tar.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    return Case(
        "tar.gz cut at two thirds",
        path,
        "ARCHIVE_CORRUPT",
        str(path),
        mentions="truncated",
    )


@case("targz_truncated_trailer")
def _targz_truncated_trailer(base: Base, out: Path) -> Case:
    data = gzip.compress(tar_bytes(regular(base.members())), mtime=0)
    path = out / "b.tar.gz"
    path.write_bytes(data[:-4])  # every member intact; only the gzip length field is gone
    return Case(
        "tar.gz missing the last 4 bytes of its trailer",
        path,
        "ARCHIVE_CORRUPT",
        str(path),
        mentions="truncated",
    )


@case("targz_trailing_garbage")
def _targz_garbage(base: Base, out: Path) -> Case:
    garbage = b"hidden data after the gzip stream"
    data = gzip.compress(tar_bytes(regular(base.members())), mtime=0) + garbage
    path = out / "b.tar.gz"
    path.write_bytes(data)
    return Case(
        "bytes appended after the gzip stream",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(garbage)),
    )


@case("targz_hidden_member")
def _targz_hidden_member(base: Base, out: Path) -> Case:
    hidden = b"hidden data in a second gzip member, after the tar's end"
    data = gzip.compress(tar_bytes(regular(base.members())), mtime=0)
    path = out / "b.tar.gz"
    path.write_bytes(data + gzip.compress(hidden, mtime=0))
    return Case(
        "a second gzip member after the tar end marker",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(hidden)),
    )


@case("tar_trailing_garbage")
def _tar_garbage(base: Base, out: Path) -> Case:
    garbage = b"hidden data after the tar end marker"
    path = out / "b.tar"
    path.write_bytes(tar_bytes(regular(base.members())) + garbage)
    return Case(
        "bytes appended after a tar's end-of-archive marker",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(garbage)),
    )


@case("tar_truncated")
def _tar_truncated(base: Base, out: Path) -> Case:
    data = tar_bytes(regular(base.members()))
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        victim = archive.getmember(DATA1)
    path = out / "b.tar"
    path.write_bytes(data[: victim.offset_data + victim.size // 2])  # cut inside its data
    return Case(
        "tar cut in the middle of data/00001.jsonl",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
        mentions="truncated",
    )


@case("zip_truncated")
def _zip_truncated(base: Base, out: Path) -> Case:
    data = write_zip(out / "whole.zip", base.members()).read_bytes()
    path = out / "b.zip"
    path.write_bytes(data[: len(data) // 2])
    return Case(
        "zip cut in half (no central directory left)",
        path,
        "NOT_A_BUNDLE",
        str(path),
        mentions="zip",
    )


@case("zip_trailing_garbage")
def _zip_garbage(base: Base, out: Path) -> Case:
    garbage = b"hidden data after the end of the zip"
    path = write_zip(out / "b.zip", base.members())
    path.write_bytes(path.read_bytes() + garbage)
    return Case(
        "bytes appended after the zip end record",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(garbage)),
    )


@case("zip_with_stub")
def _zip_stub(base: Base, out: Path) -> Case:
    stub = b"#!/bin/sh\necho a self-extracting stub before the zip\nexit 0\n"
    path = write_zip(out / "b.zip", base.members())
    path.write_bytes(stub + path.read_bytes())
    return Case(
        "a shell stub before the zip (zipfile itself would read it)",
        path,
        "NOT_A_BUNDLE",
        str(path),
    )


@case("zip_hidden_local_entry")
def _zip_hidden_entry(base: Base, out: Path) -> Case:
    # A complete local entry before the first listed one: zip readers that trust the central
    # directory never see it, so it can carry anything.
    loose = out / "loose.zip"
    entry = stored("hidden.txt", b"data no entry lists")
    write_raw_zip(loose, [entry])
    hidden = loose.read_bytes()[: 30 + len(entry.name) + entry.compressed]  # header + data
    path = write_zip(out / "b.zip", base.members())
    path.write_bytes(hidden + path.read_bytes())
    return Case(
        "a local zip entry no central-directory record lists, before the first",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(hidden)),
    )


# --- one reading of every archive (bundle-format §2.1, issue 16 point 1) -------------------------

FORGED = b'{"timestamp":"2026-03-02T08:00:09.000Z","action":"EXPORT","user_id":"forged"}\n'


@dataclasses.dataclass(frozen=True)
class ZipPart:
    """One entry of a zip built byte by byte: what its headers say and what follows them."""

    name: str
    body: bytes  # the bytes after the local header (compressed data, and whatever follows)
    method: int
    crc: int
    compressed: int
    size: int
    local_name: str | None = None


def parts_zip(path: Path, parts: list[ZipPart]) -> Path:
    """A zip whose central directory points at each part (offsets right whatever the bodies)."""
    out = bytearray()
    central = bytearray()
    for part in parts:
        offset = len(out)
        local = (part.local_name or part.name).encode()
        out += struct.pack(
            "<4sHHHHHIIIHH",
            b"PK\x03\x04",
            20,
            0,
            part.method,
            0,
            0x21,
            part.crc,
            part.compressed,
            part.size,
            len(local),
            0,
        )
        out += local + part.body
        name = part.name.encode()
        central += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            0x0314,
            20,
            0,
            part.method,
            0,
            0x21,
            part.crc,
            part.compressed,
            part.size,
            len(name),
            0,
            0,
            0,
            0,
            0o100644 << 16,
            offset,
        )
        central += name
    start = len(out)
    out += central + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(central), start, 0
    )
    path.write_bytes(bytes(out))
    return path


def plain_parts(base: Base) -> list[ZipPart]:
    """The base bundle's files as stored parts."""
    return [
        ZipPart(name, data, zipfile.ZIP_STORED, zlib.crc32(data), len(data), len(data))
        for name, data in base.members()
    ]


@case("zip_deflate_past_size")
def _zip_deflate_past_size(base: Base, out: Path) -> Case:
    # The declared compressed size ends where the sealed bytes' deflate blocks end and the CRC
    # is theirs; the stream goes on with a forged record. unzip inflates to the stream's end.
    sealed = base.read(DATA2)
    stream = deflate_flushed(sealed)
    parts = [p for p in plain_parts(base) if p.name != DATA2]
    parts.append(
        ZipPart(
            DATA2,
            stream + deflate_final(FORGED),
            zipfile.ZIP_DEFLATED,
            zlib.crc32(sealed),
            len(stream),
            len(sealed),
        )
    )
    path = parts_zip(out / "b.zip", parts)
    return Case(
        "data/00002.jsonl's deflate stream runs past its declared size into a forged record",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA2),
        mentions="does not end at the entry's declared compressed size",
    )


@case("zip_bytes_between_entries")
def _zip_between(base: Base, out: Path) -> Case:
    parts = plain_parts(base)
    first = parts[0]
    parts[0] = dataclasses.replace(first, body=first.body + FORGED)
    path = parts_zip(out / "b.zip", parts)
    return Case(
        "a forged record hidden between two zip entries",
        path,
        "TRAILING_DATA",
        str(path),
        actual=str(len(FORGED)),
    )


@case("zip_local_name_differs")
def _zip_local_name(base: Base, out: Path) -> Case:
    parts = [
        dataclasses.replace(p, local_name="data/00009.jsonl") if p.name == DATA2 else p
        for p in plain_parts(base)
    ]
    path = parts_zip(out / "b.zip", parts)
    return Case(
        "data/00002.jsonl's local header names data/00009.jsonl (streaming readers use it)",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA2),
        mentions="local name",
    )


@case("zip_stored_bad_crc")
def _zip_stored_crc(base: Base, out: Path) -> Case:
    parts = [
        dataclasses.replace(p, crc=p.crc ^ 1) if p.name == DATA1 else p for p in plain_parts(base)
    ]
    path = parts_zip(out / "b.zip", parts)
    return Case(
        "a stored data/00001.jsonl whose CRC-32 does not match (stored entries are checked too)",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
        mentions="Bad CRC-32",
    )


@case("tar_folder_with_data")
def _tar_folder_with_data(base: Base, out: Path) -> Case:
    # GNU tar ignores a folder's size and reads its "data" as the next header: it extracts a
    # second data/00001.jsonl (with a forged record) that tarfile skips.
    forged = base.read(DATA1) + FORGED
    hidden = tar_info(DATA1, len(forged)).tobuf(tarfile.USTAR_FORMAT) + forged
    hidden += bytes(-len(hidden) % 512)
    folder = tar_info("data/x/", len(hidden), tarfile.DIRTYPE)
    head = _strip_tar_end(tar_bytes(regular(base.members())))
    path = out / "b.tar"
    path.write_bytes(head + folder.tobuf(tarfile.USTAR_FORMAT) + hidden + bytes(10240))
    return Case(
        "a folder member whose size hides another data/00001.jsonl",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, "data/x/"),
        mentions="carries",
    )


@case("tar_nonzero_padding")
def _tar_padding(base: Base, out: Path) -> Case:
    data = bytearray(tar_bytes(regular(base.members())))
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as archive:
        member = archive.getmember(DATA1)
    end = member.offset_data + member.size
    assert member.size % 512, "the padding must exist"
    data[end : end + len(b"hidden")] = b"hidden"
    path = out / "b.tar"
    path.write_bytes(bytes(data))
    return Case(
        "bytes hidden in the zero padding after data/00001.jsonl",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
        mentions="padding",
    )


@case("zip_corrupt_deflate")
def _zip_corrupt(base: Base, out: Path) -> Case:
    path = write_zip(out / "b.zip", base.members())
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(DATA1)
    start = info.header_offset + 30 + len(DATA1)
    for i in range(start + 4, start + info.compress_size - 4):
        data[i] ^= 0x5A  # scramble the deflate stream, keep the headers
    path.write_bytes(bytes(data))
    return Case(
        "the deflate stream of data/00001.jsonl scrambled",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
    )


@case("zip_lzma_entry")
def _zip_lzma(base: Base, out: Path) -> Case:
    members: list[tuple[str | zipfile.ZipInfo, bytes]] = []
    for name, data in base.members():
        info = zip_info(name)
        if name == DATA1:
            info.compress_type = zipfile.ZIP_LZMA
        members.append((info, data))
    path = write_zip(out / "b.zip", members)
    return Case(
        "data/00001.jsonl compressed with LZMA (not allowed)",
        path,
        "ARCHIVE_CORRUPT",
        in_bundle(path, DATA1),
        mentions="compression method",
    )


# --- the manifest ------------------------------------------------------------------------------


def _manifest_case(name: str, what: str, data: Callable[[Base], bytes], mentions: str) -> None:
    def build(base: Base, out: Path) -> Case:
        bundle = manifest_variant(base, out, data(base))
        return Case(
            what,
            bundle,
            "MANIFEST_INVALID",
            in_bundle(bundle, MANIFEST_PATH),
            mentions=mentions,
        )

    case(name)(build)


_manifest_case(
    "manifest_not_json", "manifest.json is prose", lambda b: b"not JSON at all\n", "not valid JSON"
)
_manifest_case(
    "manifest_truncated",
    "manifest.json cut in half",
    lambda b: b.read(MANIFEST_PATH)[: len(b.read(MANIFEST_PATH)) // 2],
    "not valid JSON",
)
_manifest_case("manifest_empty", "manifest.json is empty", lambda b: b"", "not valid JSON")
_manifest_case(
    "manifest_duplicate_key",
    "manifest.json repeats producer.name",
    lambda b: b.read(MANIFEST_PATH).replace(b'"producer":{', b'"producer":{"name":"x",'),
    "duplicate key 'name'",
)
_manifest_case(
    "manifest_nan", "a NaN in manifest.json", lambda b: insert_into_producer(b, b"NaN"), "NaN"
)
_manifest_case(
    "manifest_infinity",
    "-Infinity in manifest.json",
    lambda b: insert_into_producer(b, b"-Infinity"),
    "Infinity",
)
_manifest_case(
    "manifest_number_overflow",
    "1e400 (infinite as a double) in manifest.json",
    lambda b: insert_into_producer(b, b"1e400"),
    "overflows",
)
_manifest_case(
    "manifest_huge_version",
    "manifest version is a 400-digit integer",
    lambda b: b.read(MANIFEST_PATH).replace(b'"version":1', b'"version":' + b"9" * 400),
    "version",
)
_manifest_case(
    "manifest_deep_nesting",
    "100,000 nested arrays in manifest.json",
    lambda b: insert_into_producer(b, b"[" * 100_000 + b"]" * 100_000),
    "nested",
)


@case("manifest_invalid_utf8")
def _manifest_utf8(base: Base, out: Path) -> Case:
    latin1 = "café".encode("latin-1")
    data = insert_into_producer(base, b'"' + latin1 + b'"')
    bundle = manifest_variant(base, out, data)
    return Case(
        "Latin-1 bytes in manifest.json",
        bundle,
        "MANIFEST_INVALID",
        in_bundle(bundle, MANIFEST_PATH),
        mentions=f"invalid UTF-8 at byte {data.index(latin1) + 3}",
    )


@case("manifest_huge_integer")
def _manifest_huge_integer(base: Base, out: Path) -> Case:
    bundle = manifest_variant(base, out, insert_into_producer(base, b"9" * 400))
    return Case(
        "a 400-digit integer in a free-form manifest field",
        bundle,
        "MANIFEST_INVALID",
        in_bundle(bundle, MANIFEST_PATH),
        mentions="integer",
    )


@case("manifest_float")
def _manifest_float(base: Base, out: Path) -> Case:
    bundle = manifest_variant(base, out, insert_into_producer(base, b"1.5"))
    return Case(
        "a float in a free-form manifest field (manifests have none)",
        bundle,
        "MANIFEST_INVALID",
        in_bundle(bundle, MANIFEST_PATH),
        mentions="float",
    )


@case("manifest_too_large")
def _manifest_too_large(base: Base, out: Path) -> Case:
    from auditlens.core.bundle.manifest import MAX_MANIFEST_BYTES

    bundle = copy_folder(base, out)
    sparse_file(bundle / MANIFEST_PATH, MAX_MANIFEST_BYTES + 1024)
    return Case(
        "manifest.json 1 KiB over MAX_MANIFEST_BYTES (zeros)",
        bundle,
        "LIMIT_EXCEEDED",
        in_bundle(bundle, MANIFEST_PATH),
        mentions=str(MAX_MANIFEST_BYTES),
    )


def _relisted(base: Base, out: Path, old: str, new: str) -> Path:
    """A folder copy whose (canonical) manifest lists ``old`` under the name ``new``."""
    document = base.manifest()
    entries = [f for f in document["files"] if f["path"] == old]
    assert len(entries) == 1
    entries[0]["path"] = new
    return manifest_variant(base, out, canonicalize(document))


@case("manifest_lists_dotdot")
def _manifest_dotdot(base: Base, out: Path) -> Case:
    bundle = _relisted(base, out, DATA2, "../x")
    return Case(
        "the manifest lists a data file ../x",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, "../x"),
        mentions="..",
    )


@case("manifest_lists_absolute")
def _manifest_absolute(base: Base, out: Path) -> Case:
    # A data file: the index files' paths are fixed (bundle-format §7.2, MANIFEST_INVALID).
    bundle = _relisted(base, out, DATA2, "/etc/passwd")
    return Case(
        "the manifest lists its second data file as /etc/passwd",
        bundle,
        "UNSAFE_PATH",
        in_bundle(bundle, "/etc/passwd"),
        mentions="absolute",
    )


@case("manifest_unknown_key_type")
def _manifest_unknown_key(base: Base, out: Path) -> Case:
    import base64

    document = base.manifest()
    pem = document["signer"]["public_key"]
    lines = pem.strip().splitlines()
    der = base64.b64decode("".join(lines[1:-1]))
    ed25519_oid = bytes.fromhex("06032b6570")  # 1.3.101.112
    assert der.count(ed25519_oid) == 1
    der = der.replace(ed25519_oid, bytes.fromhex("06032b6563"))  # 1.3.101.99: no such key type
    body = base64.b64encode(der).decode()
    document["signer"]["public_key"] = f"{lines[0]}\n{body}\n{lines[-1]}\n"
    data = canonicalize(document)
    bundle = manifest_variant(base, out, data)
    # The envelope carries the same manifest, so that its signer is the one judged (when the
    # two differ, the payload's signer is: bundle-format §9.1).
    (bundle / ENVELOPE_PATH).write_bytes(sign_envelope(PAYLOAD_TYPE, data, sample_key(KEY_LABEL)))
    return Case(
        "the manifest's signer key has an unknown algorithm OID",
        bundle,
        "ALGORITHM_REJECTED",
        in_bundle(bundle, ENVELOPE_PATH),
    )


@case("manifest_seq_overflow")
def _manifest_seq_overflow(base: Base, out: Path) -> Case:
    # Each field alone is a valid u64, but sequence numbers from 2**64 - 1 on do not fit one.
    document = base.manifest()
    document["records"]["first_seq"] = str(2**64 - 1)
    bundle = manifest_variant(base, out, canonicalize(document))
    return Case(
        "records.first_seq is 2**64 - 1 for ten records: beyond the 2**63 - 1 sequence limit",
        bundle,
        "MANIFEST_INVALID",
        in_bundle(bundle, MANIFEST_PATH),
    )


@case("checkpoints_json_bomb")
def _checkpoints_bomb(base: Base, out: Path) -> Case:
    # 150 MB of "{}," is under MAX_CHECKPOINTS_BYTES but 50 million dicts as Python objects.
    import hashlib

    count = 50_000_000
    data = b"[" + b"{}," * (count - 1) + b"{}]"
    bundle = copy_folder(base, out)
    (bundle / CHECKPOINTS_PATH).write_bytes(data)
    document = base.manifest()
    for entry in document["files"]:
        if entry["path"] == CHECKPOINTS_PATH:
            entry["size"] = str(len(data))
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    (bundle / MANIFEST_PATH).write_bytes(canonicalize(document))
    return Case(
        "index/checkpoints.json: 150 MB of empty objects",
        bundle,
        "CHECKPOINT_MISMATCH",
        in_bundle(bundle, CHECKPOINTS_PATH),
    )


# --- the envelope ------------------------------------------------------------------------------


def _envelope_case(name: str, what: str, data: Callable[[Base], bytes], mentions: str) -> None:
    def build(base: Base, out: Path) -> Case:
        bundle = copy_folder(base, out)
        (bundle / ENVELOPE_PATH).write_bytes(data(base))
        return Case(
            what,
            bundle,
            "ENVELOPE_INVALID",
            in_bundle(bundle, ENVELOPE_PATH),
            mentions=mentions,
        )

    case(name)(build)


_envelope_case(
    "envelope_garbage",
    "manifest.dsse.json is random bytes",
    lambda b: random.Random(6).randbytes(4096),
    "UTF-8",
)
_envelope_case(
    "envelope_non_ascii_base64",
    "a non-ASCII character inside the envelope's base64 payload",
    lambda b: '{"payload":"\u00e9","payloadType":"x","signatures":[]}'.encode(),
    "malformed",
)
_envelope_case("envelope_empty", "manifest.dsse.json is empty", lambda b: b"", "not valid JSON")
_envelope_case(
    "envelope_not_base64",
    "the envelope payload is not base64",
    lambda b: b'{"payload":"%%%","payloadType":"x","signatures":[]}',
    "malformed",
)
_envelope_case(
    "envelope_wrong_shape", "the envelope is a JSON list", lambda b: b"[1,2,3]", "not a JSON object"
)


@case("envelope_too_large")
def _envelope_too_large(base: Base, out: Path) -> Case:
    from auditlens.core.crypto.dsse import MAX_ENVELOPE_BYTES

    bundle = copy_folder(base, out)
    sparse_file(bundle / ENVELOPE_PATH, MAX_ENVELOPE_BYTES + 1)
    return Case(
        "manifest.dsse.json one byte over MAX_ENVELOPE_BYTES",
        bundle,
        "ENVELOPE_INVALID",
        in_bundle(bundle, ENVELOPE_PATH),
        mentions=str(MAX_ENVELOPE_BYTES),
    )


# --- empty things ------------------------------------------------------------------------------


@case("empty_folder")
def _empty_folder(base: Base, out: Path) -> Case:
    path = out / "empty"
    path.mkdir()
    return Case("an empty folder", path, "MANIFEST_MISSING", str(path))


@case("empty_file")
def _empty_file(base: Base, out: Path) -> Case:
    path = out / "empty.zip"
    path.write_bytes(b"")
    return Case("an empty file named .zip", path, "NOT_A_BUNDLE", str(path))


@case("empty_zip")
def _empty_zip(base: Base, out: Path) -> Case:
    path = write_zip(out / "empty.zip", [])
    return Case("a zip with no entries", path, "MANIFEST_MISSING", str(path))


@case("empty_targz")
def _empty_targz(base: Base, out: Path) -> Case:
    path = out / "empty.tar.gz"
    path.write_bytes(gzip.compress(b"", mtime=0))
    return Case("a .tar.gz of nothing", path, "NOT_A_BUNDLE", str(path))


@case("empty_data_file")
def _empty_data_file(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    (bundle / DATA1).write_bytes(b"")
    return Case(
        "data/00001.jsonl emptied",
        bundle,
        "FILE_DIGEST_MISMATCH",
        in_bundle(bundle, DATA1),
        actual=f"0 bytes sha256:{_sha256(b'')}",
    )


@case("empty_data_folder")
def _empty_data_folder(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    for member in (DATA1, DATA2):
        (bundle / member).unlink()
    return Case("data/ left empty", bundle, "MISSING_FILE", in_bundle(bundle, DATA1))


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


# --- bounded work: lines appended after the sealed records (issue 16, point 5) -------------------

BLANK_BOMB = 60 * 1024 * 1024  # newlines, below MIN_RATIO_CHECK_BYTES: deflates to ~60 KB


@case("zip_blank_lines_bomb")
def _zip_blank_lines(base: Base, out: Path) -> Case:
    # Tens of MB of newlines after the sealed records, deflated to a few KB: every blank line
    # used to be a stored record to localize (minutes, 8 GB). The verifier compares at most the
    # sealed count and as many again; the rest is counted in one finding.
    blank = b"\n" * (1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    sealed = base.read(DATA2)
    stream = compressor.compress(sealed)
    crc = zlib.crc32(sealed)
    for _ in range(BLANK_BOMB // len(blank)):
        stream += compressor.compress(blank)
        crc = zlib.crc32(blank, crc)
    stream += compressor.flush()
    size = len(sealed) + BLANK_BOMB
    entries = [stored(name, data) for name, data in base.members() if name != DATA2]
    entries.append(RawEntry(DATA2, zipfile.ZIP_DEFLATED, crc, len(stream), size, lambda: [stream]))
    path = out / "b.zip"
    write_raw_zip(path, entries)
    return Case(
        f"data/00002.jsonl: the sealed records then {BLANK_BOMB} newlines, deflated",
        path,
        "RECORD_INSERTED",
        in_bundle(path, DATA2),
        line=3,
    )


@case("dir_blank_lines")
def _dir_blank_lines(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    with (bundle / DATA2).open("ab") as handle:
        handle.write(b"\n" * (1024 * 1024))
    return Case(
        "a folder bundle's data/00002.jsonl followed by 1 MiB of blank lines",
        bundle,
        "RECORD_INSERTED",
        in_bundle(bundle, DATA2),
        # The verifier compares 10 + max(10, 1000) stored lines: data/00001.jsonl's 8, then 2
        # sealed and 1,000 blank ones here; the summary names the first line past them.
        line=2 + 1000 + 1,
        mentions="more lines from here on were never sealed",
    )


# --- giant lines -------------------------------------------------------------------------------


def giant_record() -> bytes:
    """A 100 MB audit record (a huge updated_data value), without its newline."""
    head = b'{"timestamp":"2026-03-02T08:00:02.000Z","action":"UPDATE","updated_data":"'
    tail = b'"}'
    return head + b"A" * (GIANT_LINE - len(head) - len(tail)) + tail


@case("giant_line_modified")
def _giant_modified(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    lines = base.lines(DATA1)
    with (bundle / DATA1).open("wb") as handle:
        for number, line in enumerate(lines, 1):
            handle.write((giant_record() if number == 3 else line) + b"\n")
    return Case(
        "line 3 of data/00001.jsonl replaced by a 100 MB record",
        bundle,
        "RECORD_MODIFIED",
        in_bundle(bundle, DATA1),
        line=3,
    )


@case("giant_line_unterminated")
def _giant_unterminated(base: Base, out: Path) -> Case:
    bundle = copy_folder(base, out)
    with (bundle / DATA2).open("ab") as handle:
        handle.write(giant_record())
    line = len(base.lines(DATA2)) + 1
    return Case(
        "100 MB without a newline after data/00002.jsonl",
        bundle,
        "TRAILING_DATA",
        in_bundle(bundle, DATA2),
        line=line,
        actual=f"{GIANT_LINE} bytes without one",
    )


# --- not a bundle at all -----------------------------------------------------------------------


@case("random_bytes")
def _random_bytes(base: Base, out: Path) -> Case:
    path = out / "noise.bin"
    path.write_bytes(b"\xfe" + random.Random(7).randbytes(65535))  # 0xFE: no format's magic
    return Case("64 KiB of random bytes", path, "NOT_A_BUNDLE", str(path))


@case("random_bytes_named_zip")
def _random_zip(base: Base, out: Path) -> Case:
    path = out / "bundle.zip"
    path.write_bytes(b"PK\x03\x04" + random.Random(8).randbytes(4096))
    return Case(
        "a zip signature followed by random bytes",
        path,
        "NOT_A_BUNDLE",
        str(path),
        mentions="zip",
    )


@case("gzip_not_tar")
def _gzip_not_tar(base: Base, out: Path) -> Case:
    path = out / "bundle.tar.gz"
    path.write_bytes(gzip.compress(b"just some text, not a tar archive\n" * 40, mtime=0))
    return Case("gzip of text, named .tar.gz", path, "NOT_A_BUNDLE", str(path))


@case("image")
def _image(base: Base, out: Path) -> Case:
    path = out / "photo.png"
    path.write_bytes(png_1x1())
    return Case("a PNG image", path, "NOT_A_BUNDLE", str(path))


@case("missing_path")
def _missing(base: Base, out: Path) -> Case:
    path = out / "does-not-exist.zip"
    return Case(
        "a path that does not exist",
        path,
        "NOT_A_BUNDLE",
        str(path),
        mentions="no such file",
    )


# --- raw evidence for `auditlens import` ------------------------------------------------------
#
# Raw (unsealed) inputs are not verified but parsed: a record that does not parse rejects the
# whole input, naming its file and line (or byte offset for protobuf). These cases are for
# tests/cli/test_bad_input_import.py (verify has no raw reader); each says where the error must
# point and, when it matters, a word or a limit's value its message must hold.


@dataclasses.dataclass(frozen=True)
class RawCase:
    """One hostile raw-evidence input and how ``auditlens import`` must refuse it."""

    what: str  # the hostile input, in a phrase
    path: Path  # what to import
    where: str  # the error names this place: "file", "file:line" or "file@offset"
    mentions: str | None = None  # ... and its message holds this text
    name: str = ""  # the case's name (set by build_raw)


RawBuilder = Callable[[Path], RawCase]
RAW_BUILDERS: dict[str, RawBuilder] = {}


def raw_case(name: str) -> Callable[[RawBuilder], RawBuilder]:
    """Register a raw-evidence case builder under ``name``."""

    def register(builder: RawBuilder) -> RawBuilder:
        assert name not in RAW_BUILDERS, name
        RAW_BUILDERS[name] = builder
        return builder

    return register


def build_raw(name: str, root: Path) -> RawCase:
    """Build raw case ``name`` in a fresh folder ``root / name``."""
    out = root / name
    out.mkdir(parents=True)
    return dataclasses.replace(RAW_BUILDERS[name](out), name=name)


GOOD_LINE = audit_lines(1)[0]  # a valid audit-logger record: line 1 of the line-based cases
BAD_RECORD_HEAD = b'{"timestamp":"2026-03-02T08:00:01.000Z","action":"UPDATE","data":'


def second_line(out: Path, name: str, bad: bytes) -> Path:
    """A JSON-lines file: a good record, then ``bad`` as line 2."""
    path = out / name
    path.write_bytes(GOOD_LINE + b"\n" + bad + b"\n")
    return path


def good_lines(count: int, width: int = 0) -> bytes:
    """``count`` valid audit records of exactly ``width`` bytes each (newline included) if set."""
    lines = []
    for i in range(count):
        line = (
            b'{"timestamp":"2026-03-02T08:00:00.000Z","user_id":"u-1","action":"READ",'
            b'"n":"%06d","pad":"' % i
        )
        tail = b'"}\n'
        pad = max(0, width - len(line) - len(tail)) if width else 8
        lines.append(line + b"x" * pad + tail)
        assert not width or len(lines[-1]) == width
    return b"".join(lines)


def otlp_log_frame() -> bytes:
    """One Collector ``format: proto`` frame: a 4-byte big-endian length and a logs request."""
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    request = logs_service_pb2.ExportLogsServiceRequest()
    record = request.resource_logs.add().scope_logs.add().log_records.add()
    record.time_unix_nano = 1_772_438_400_000_000_000
    record.body.string_value = "user u-1 exported contact c-7"
    message = request.SerializeToString()
    return struct.pack(">I", len(message)) + message


def zstd_first_block_end(frame: bytes) -> int:
    """Byte offset where the first block of a zstd frame ends (RFC 8878 §3.1.1)."""
    descriptor = frame[4]
    single_segment = (descriptor >> 5) & 1
    dictionary = (0, 1, 2, 4)[descriptor & 3]
    content_size = ((1 if single_segment else 0), 2, 4, 8)[descriptor >> 6]
    start = 5 + (0 if single_segment else 1) + dictionary + content_size
    header = int.from_bytes(frame[start : start + 3], "little")
    kind, size = (header >> 1) & 3, header >> 3
    return start + 3 + (1 if kind == 1 else size)  # an RLE block stores one byte


def gzip_repeated(path: Path, head: bytes, unit: bytes, count: int, tail: bytes = b"") -> None:
    """A gzip file of ``head + unit * count + tail``, compressing ``unit`` once (a cheap bomb)."""
    block = deflate_flushed(unit)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(unit, crc)
    crc = zlib.crc32(tail, crc)
    with path.open("wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        out.write(deflate_flushed(head))
        for _ in range(count):
            out.write(block)
        out.write(deflate_final(tail))
        size = len(head) + len(unit) * count + len(tail)
        out.write(struct.pack("<II", crc, size & 0xFFFFFFFF))


def textured(fill: bytes, sprinkle: bytes, size: int = 1024 * 1024, every: int = 64) -> bytes:
    """``size`` bytes of ``fill`` with a byte drawn from ``sprinkle`` every ``every`` bytes.

    Deflates about 40 to 1: a large input that is not a compression bomb, so the limit a case
    aims at (line, document) is the one that stops it, not container.MAX_COMPRESSION_RATIO.
    """
    rng = random.Random(size ^ every)
    data = bytearray(fill * size)
    for at in range(every - 1, size, every):
        data[at] = rng.choice(sprinkle)
    return bytes(data)


def check_ratio(path: Path, expanded: int) -> None:
    """Assert that ``path``, expanding to ``expanded`` bytes, is well within the ratio limit."""
    assert expanded < MAX_COMPRESSION_RATIO // 2 * path.stat().st_size, (expanded, path)


@raw_case("raw_giant_line")
def _raw_giant_line(out: Path) -> RawCase:
    from auditlens.core.formats.jsontext import MAX_JSON_LINE

    path = second_line(out, "giant.jsonl", giant_record())
    assert GIANT_LINE > MAX_JSON_LINE
    return RawCase(
        "line 2 is a 100 MB record", path, f"{path}:2", mentions=f"longer than {MAX_JSON_LINE}"
    )


@raw_case("raw_giant_line_gzip")
def _raw_giant_line_gzip(out: Path) -> RawCase:
    from auditlens.core.formats.jsontext import MAX_JSON_LINE

    path = out / "giant.jsonl.gz"
    head, unit = GOOD_LINE + b"\n" + BAD_RECORD_HEAD + b'"', textured(b"A", b"BCDEFGH")
    gzip_repeated(path, head, unit, GIANT_LINE // len(unit), b'"}\n')
    check_ratio(path, GIANT_LINE)
    return RawCase(
        "line 2 of a gzip file is a 100 MB record (compressed within the ratio limit)",
        path,
        f"{path}:2",
        mentions=f"longer than {MAX_JSON_LINE}",
    )


@raw_case("raw_deep_nesting")
def _raw_deep_nesting(out: Path) -> RawCase:
    bad = BAD_RECORD_HEAD + b"[" * 100_000 + b"]" * 100_000 + b"}"
    path = second_line(out, "deep.jsonl", bad)
    return RawCase("line 2 nests 100,000 arrays", path, f"{path}:2", mentions="nested")


@raw_case("raw_invalid_utf8")
def _raw_invalid_utf8(out: Path) -> RawCase:
    latin1 = "é".encode("latin-1")
    bad = BAD_RECORD_HEAD + b'"caf' + latin1 + b'"}'
    path = second_line(out, "latin1.jsonl", bad)
    return RawCase(
        "line 2 holds a Latin-1 byte",
        path,
        f"{path}:2",
        mentions=f"invalid UTF-8 at byte {bad.index(latin1)}",
    )


@raw_case("raw_duplicate_key")
def _raw_duplicate_key(out: Path) -> RawCase:
    bad = b'{"timestamp":"2026-03-02T08:00:01.000Z","action":"READ","action":"DELETE"}'
    path = second_line(out, "duplicate.jsonl", bad)
    return RawCase(
        "line 2 names action twice", path, f"{path}:2", mentions="duplicate key 'action'"
    )


@raw_case("raw_nan")
def _raw_nan(out: Path) -> RawCase:
    path = second_line(out, "nan.jsonl", BAD_RECORD_HEAD + b"NaN}")
    return RawCase("a NaN on line 2", path, f"{path}:2", mentions="NaN")


@raw_case("raw_infinity")
def _raw_infinity(out: Path) -> RawCase:
    path = second_line(out, "infinity.jsonl", BAD_RECORD_HEAD + b"-Infinity}")
    return RawCase("-Infinity on line 2", path, f"{path}:2", mentions="Infinity")


@raw_case("raw_number_overflow")
def _raw_number_overflow(out: Path) -> RawCase:
    path = second_line(out, "overflow.jsonl", BAD_RECORD_HEAD + b"1e400}")
    return RawCase("1e400 (infinite as a double) on line 2", path, f"{path}:2", "overflows")


@raw_case("raw_huge_integer")
def _raw_huge_integer(out: Path) -> RawCase:
    path = second_line(out, "integer.jsonl", BAD_RECORD_HEAD + b"9" * 400 + b"}")
    return RawCase("a 400-digit integer on line 2", path, f"{path}:2", mentions="integer")


@raw_case("raw_integer_past_limit")
def _raw_integer_past_limit(out: Path) -> RawCase:
    from auditlens.core.formats.jsontext import MAX_INT_DIGITS

    digits = b"1" + b"0" * MAX_INT_DIGITS  # one digit more than the limit, inside an array
    path = second_line(out, "integer.jsonl", BAD_RECORD_HEAD + b"[1,-" + digits + b"]}")
    return RawCase(
        f"a {MAX_INT_DIGITS + 1}-digit negative integer on line 2",
        path,
        f"{path}:2",
        mentions=f"limit of {MAX_INT_DIGITS} digits",
    )


@raw_case("proto_length_past_end")
def _proto_past_end(out: Path) -> RawCase:
    frame = otlp_log_frame()
    path = out / "logs.binpb"
    path.write_bytes(frame + struct.pack(">I", 1000) + frame[4:])
    return RawCase(
        "the second message claims 1000 bytes; the file ends before",
        path,
        f"{path}@{len(frame)}",
        mentions="truncated",
    )


@raw_case("proto_length_4gib")
def _proto_4gib(out: Path) -> RawCase:
    from auditlens.core.formats.otlp_proto import MAX_PROTO_MESSAGE

    frame = otlp_log_frame()
    path = out / "logs.binpb"
    path.write_bytes(frame + b"\xff\xff\xff\xff" + frame[4:])
    return RawCase(
        "the second message claims 4 GiB - 1 bytes",
        path,
        f"{path}@{len(frame)}",
        mentions=f"exceeds the limit of {MAX_PROTO_MESSAGE}",
    )


@raw_case("proto_truncated_prefix")
def _proto_truncated_prefix(out: Path) -> RawCase:
    frame = otlp_log_frame()
    path = out / "logs.binpb"
    path.write_bytes(frame + frame[:2])
    return RawCase(
        "the file ends two bytes into a length prefix",
        path,
        f"{path}@{len(frame)}",
        mentions="truncated",
    )


@raw_case("gzip_truncated")
def _gzip_truncated(out: Path) -> RawCase:
    data = gzip.compress(good_lines(2000), mtime=0)
    path = out / "logs.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    return RawCase("a gzip file cut in half", path, str(path), mentions="truncated")


@raw_case("gzip_trailing_garbage")
def _gzip_garbage(out: Path) -> RawCase:
    path = out / "logs.jsonl.gz"
    path.write_bytes(gzip.compress(good_lines(200), mtime=0) + b"garbage after the gzip member")
    return RawCase("bytes after the end of a gzip file", path, str(path))


@raw_case("zstd_truncated")
def _zstd_truncated(out: Path) -> RawCase:
    import zstandard

    data = zstandard.ZstdCompressor().compress(good_lines(20_000))
    path = out / "logs.jsonl.zst"
    path.write_bytes(data[: len(data) // 2])
    return RawCase("a zstd file cut in half", path, str(path), mentions="truncated")


@raw_case("zstd_truncated_at_block")
def _zstd_truncated_at_block(out: Path) -> RawCase:
    # 128-byte records fill the first 128 KiB block exactly: a cut after it leaves whole lines.
    import zstandard

    data = zstandard.ZstdCompressor().compress(good_lines(4 * 1024, width=128))
    path = out / "logs.jsonl.zst"
    path.write_bytes(data[: zstd_first_block_end(data)])
    reader = zstandard.ZstdDecompressor().stream_reader(path.read_bytes())
    assert reader.read().endswith(b"\n")  # what a reader that ignores the cut sees: whole lines
    return RawCase(
        "a zstd file cut after its first block (1,024 of 4,096 records)",
        path,
        str(path),
        mentions="truncated",
    )


@raw_case("zstd_second_frame_truncated_at_block")
def _zstd_second_frame_truncated(out: Path) -> RawCase:
    # Two frames (as a tool appending to a .zst log writes them); the second is cut after its
    # first block, so the file still ends with a whole line.
    import zstandard

    first = zstandard.ZstdCompressor().compress(good_lines(100))
    second = zstandard.ZstdCompressor().compress(good_lines(4 * 1024, width=128))
    path = out / "logs.jsonl.zst"
    path.write_bytes(first + second[: zstd_first_block_end(second)])
    return RawCase(
        "a two-frame zstd file cut after the first block of its second frame",
        path,
        str(path),
        mentions="truncated",
    )


@raw_case("zstd_truncated_in_skippable_frame")
def _zstd_truncated_in_skippable(out: Path) -> RawCase:
    import zstandard

    skippable = b"\x50\x2a\x4d\x18" + (64).to_bytes(4, "little") + b"s" * 64  # RFC 8878 §3.1.2
    path = out / "logs.jsonl.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(good_lines(100)) + skippable[:40])
    return RawCase(
        "a zstd file ending 32 bytes into a 64-byte skippable frame",
        path,
        str(path),
        mentions="truncated",
    )


@raw_case("zstd_trailing_garbage")
def _zstd_garbage(out: Path) -> RawCase:
    import zstandard

    path = out / "logs.jsonl.zst"
    data = zstandard.ZstdCompressor().compress(good_lines(200))
    path.write_bytes(data + b"garbage after the zstd frame")
    return RawCase("bytes after the end of a zstd frame", path, str(path))


@raw_case("zstd_ratio_bomb")
def _zstd_ratio_bomb(out: Path) -> RawCase:
    import zstandard

    path = out / "logs.jsonl.zst"
    blank = b" " * (1024 * 1024 - 1) + b"\n"  # blank lines: cheap to parse, if it got that far
    expanded = 2 * MIN_RATIO_CHECK_BYTES
    with path.open("wb") as file, zstandard.ZstdCompressor(level=1).stream_writer(file) as out_:
        out_.write(GOOD_LINE + b"\n")
        for _ in range(expanded // len(blank)):
            out_.write(blank)
    assert expanded > MAX_COMPRESSION_RATIO * path.stat().st_size
    return RawCase(
        f"a zstd file of {expanded} bytes of blank lines ({path.stat().st_size} compressed)",
        path,
        str(path),
        mentions=f"exceeds the ratio limit of {MAX_COMPRESSION_RATIO}",
    )


@raw_case("raw_empty_file")
def _raw_empty_file(out: Path) -> RawCase:
    path = out / "logs.jsonl"
    path.write_bytes(b"")
    return RawCase("an empty .jsonl file", path, str(path), mentions="empty")


@raw_case("raw_folder_with_an_empty_file")
def _raw_folder_empty_file(out: Path) -> RawCase:
    folder = out / "export"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(GOOD_LINE + b"\n")
    (folder / "b.jsonl").write_bytes(b"")
    return RawCase(
        "a folder whose second file is empty", folder, str(folder / "b.jsonl"), mentions="empty"
    )


@raw_case("raw_empty_folder")
def _raw_empty_folder(out: Path) -> RawCase:
    folder = out / "export"
    folder.mkdir()
    return RawCase("an empty folder", folder, str(folder), mentions="empty")


@raw_case("raw_document_too_large")
def _raw_document_too_large(out: Path) -> RawCase:
    # One pretty-printed JSON document is read whole, so it has its own bound.
    from auditlens.core.formats.jsontext import MAX_JSON_DOCUMENT

    unit = textured(b" ", b"\t\r", size=1024 * 1024 - 1, every=16) + b"\n"
    path = out / "document.json.gz"
    count = MAX_JSON_DOCUMENT // len(unit) + 8
    gzip_repeated(path, b"{\n", unit, count)
    check_ratio(path, len(unit) * count)
    return RawCase(
        "a gzip file of one JSON document over MAX_JSON_DOCUMENT (whitespace, compressed within "
        "the ratio limit)",
        path,
        str(path),
        mentions=f"larger than {MAX_JSON_DOCUMENT}",
    )


# --- entry points ------------------------------------------------------------------------------


def build(name: str, base: Base, root: Path) -> Case:
    """Build case ``name`` in a fresh folder ``root / name``."""
    out = root / name
    out.mkdir(parents=True)
    return dataclasses.replace(BUILDERS[name](base, out), name=name)


def make_all(root: Path) -> list[Case]:
    """Write the base bundle and every case under ``root``."""
    base = make_base(root / "base")
    return [build(name, base, root / "cases") for name in BUILDERS]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_hostile.py OUT_FOLDER")
    for made in make_all(Path(sys.argv[1])):
        sys.stdout.write(f"{made.name:28} {made.code:20} {made.path}\n")
