"""Read-only access to a bundle in any of its containers: directory, .zip, .tar, .tar.gz.

Invariants:
    * Nothing is ever extracted or written: entries are read as streams.
    * Links, devices and names that are absolute or climb with ``..`` are listed (so they can be
      reported as ``UNSAFE_PATH``) but can never be opened.
    * The same bundle in any container reads the same bytes (docs/bundle-format.md §2).
    * One strict reading of each archive format (§2.1): zip and tar are parsed here, not by
      :mod:`zipfile` or :mod:`tarfile`, so that an archive is accepted only when every common
      reader (GNU tar, bsdtar, unzip, Python, Java's streaming reader) would extract exactly
      the bytes verified: every byte belongs to a listed entry or to the format's structures,
      headers that describe an entry twice agree, and a compressed stream ends exactly where
      its headers say. ``tests/core/bundle/test_container_differential.py`` holds this against the
      real tools.
    * Every container is hostile until verified (docs/robustness.md): listing and reading are
      bounded in memory and work (entry count, header size, decompression ratio, tail scan), and
      every failure while listing or reading is an :class:`InvalidInputError` naming the archive
      and, when known, the entry. A listing that stopped early (truncated or corrupt archive, a
      limit) keeps what it read in ``entries`` and makes :meth:`Container.files` raise, so a caller
      can report the entries seen but can never mistake a partial listing for the whole bundle.
"""

from __future__ import annotations

import io
import itertools
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from auditlens.core.errors import InvalidInputError, LimitExceededError

MAX_ENTRIES = 200_000  # a bundle has a handful of files; far more is an attack on the reader.
MAX_DEPTH = 16  # bundle paths are at most two levels deep.
MAX_COMPRESSION_RATIO = 200  # JSON compresses ~10-20x; a ratio beyond this is a bomb.
MIN_RATIO_CHECK_BYTES = 64 * 1024 * 1024  # tiny entries may compress absurdly well; don't care.
# A pax extended header is read whole before its member; in a bundle it holds a path or two (a
# few hundred bytes), so a large one is a memory bomb.
MAX_TAR_HEADER_BYTES = 1024 * 1024
# After a tar's end-of-archive marker only zero padding may follow (at most one 10 KiB record
# from common writers). Scanning stops here: a longer tail is hidden data whatever it holds.
MAX_TAIL_SCAN = 64 * 1024 * 1024
# docs/bundle-format.md: stored or deflated only.
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
SCAN_CHUNK = 1024 * 1024

# What reading an archive stream can raise besides our own errors: a failing disk or file system.
_READ_ERRORS = (OSError, EOFError, ValueError, zlib.error)
_ZIP_EOCD = b"PK\x05\x06"
_ZIP_EOCD_SIZE = 22
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Entry:
    """One entry of a container as listed, before any judgement."""

    name: str
    size: int
    kind: str  # file, dir, symlink, hardlink, device, other
    compressed_size: int | None = None


def printable_name(name: str) -> str:
    r"""A listed name as text that can be printed and stored as UTF-8.

    Folder and tar names are bytes; Python decodes those that are not UTF-8 with lone surrogates,
    which no UTF-8 output (a terminal, ``--json``, a report) can encode. Such bytes are shown as
    ``\xNN`` instead: the backslash makes the entry unsafe, so it is reported and never opened.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:
            return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return name


def unsafe_reason(entry: Entry) -> str | None:
    """Why an entry must never be opened, or ``None`` when its name and type are safe."""
    name = entry.name
    if entry.kind not in ("file", "dir"):
        return f"entry is a {entry.kind}"
    if not name or "\x00" in name:
        return "empty name or NUL byte in the name"
    if "\\" in name:
        return "backslash in the name (or bytes that are not UTF-8, shown as \\xNN)"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute name"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "name climbs out with '..'"
    # "a//b" and "a/./b" name "a/b" to an extractor but not to the manifest (§2).
    if any(part in ("", ".") for part in name.removesuffix("/").split("/")):
        return "empty or '.' component in the name"
    if len(parts) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    return None


class _GuardedReader(io.RawIOBase):
    """A raw stream over an archive entry that reports read failures as InvalidInputError."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase, where: str) -> None:
        super().__init__()
        self._inner = inner
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._inner.read(len(buffer))
        except _READ_ERRORS as exc:
            raise InvalidInputError(f"cannot read entry: {exc}", path=self._where) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def _guarded(inner: IO[bytes] | io.RawIOBase, where: str) -> IO[bytes]:
    return io.BufferedReader(_GuardedReader(inner, where), SCAN_CHUNK)


class Container:
    """Base of the three container readers."""

    kind = "container"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Entry] = []
        self._problem: tuple[type[InvalidInputError], str, str] | None = None
        self._safe: dict[str, Entry] | None = None

    def _stop(self, error: type[InvalidInputError], message: str, where: str) -> None:
        """Record why the listing stopped early; :meth:`files` raises it from now on."""
        if self._problem is None:
            self._problem = (error, message, where)

    def _safe_files(self) -> dict[str, Entry]:
        if self._problem is not None:
            error, message, where = self._problem
            raise error(message, path=where)
        if self._safe is None:
            self._safe = {}
            for entry in self.entries:
                if entry.kind == "file" and unsafe_reason(entry) is None:
                    self._safe.setdefault(entry.name, entry)
        return self._safe

    def files(self) -> dict[str, Entry]:
        """Safe regular-file entries by name (the first of duplicates).

        Raises:
            InvalidInputError: when the container could not be listed to its end (truncated or
                corrupt, or stopped at a limit: then a :class:`LimitExceededError`).
        """
        return dict(self._safe_files())

    def open(self, name: str) -> IO[bytes]:
        """Open a safe regular file entry for reading."""
        raise NotImplementedError

    def read(self, name: str, limit: int) -> bytes:
        """Read a whole (small) entry, refusing more than ``limit`` bytes."""
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise LimitExceededError(f"larger than {limit} bytes", path=f"{self.path}!{name}")
        return data

    def region(self, name: str) -> tuple[str, int, int] | None:
        """``(file, offset, size)`` when the entry's bytes lie uncompressed in a local file."""
        return None

    def trailing_bytes(self) -> int:
        """Bytes hidden outside the container's entries (0 for directories)."""
        return 0

    def close(self) -> None:
        """Release the container."""

    def __enter__(self) -> Container:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DirectoryContainer(Container):
    """A bundle laid out as a directory."""

    kind = "directory"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._walk(path, "")

    def _walk(self, folder: Path, prefix: str) -> bool:
        """List ``folder`` into ``entries``; False when the listing had to stop early."""
        try:
            with os.scandir(folder) as scan:
                # Never hold more than the limit: a folder may have millions of entries.
                items = list(itertools.islice(scan, MAX_ENTRIES - len(self.entries) + 1))
        except OSError as exc:
            if not prefix:
                raise InvalidInputError(
                    f"cannot list folder: {exc.strerror}", path=str(folder)
                ) from exc
            self._stop(InvalidInputError, f"cannot list folder: {exc.strerror}", self._at(prefix))
            return False
        if len(self.entries) + len(items) > MAX_ENTRIES:
            self._stop(
                LimitExceededError,
                f"more than {MAX_ENTRIES} entries exceeds the limit",
                str(self.path),
            )
            return False
        for item in sorted(items, key=lambda e: e.name):
            name = prefix + printable_name(item.name)
            try:
                info = item.stat(follow_symlinks=False)
            except OSError as exc:
                self._stop(InvalidInputError, f"cannot inspect: {exc.strerror}", self._at(name))
                return False
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                self.entries.append(Entry(name, 0, "symlink"))
            elif stat.S_ISDIR(mode):
                self.entries.append(Entry(name + "/", 0, "dir"))
                if name.count("/") < MAX_DEPTH and not self._walk(Path(item.path), name + "/"):
                    return False
            elif stat.S_ISREG(mode):
                kind = "hardlink" if info.st_nlink > 1 else "file"
                self.entries.append(Entry(name, info.st_size, kind))
            else:
                self.entries.append(Entry(name, 0, "device"))
        return True

    def _at(self, name: str) -> str:
        return f"{self.path}!{name}"

    def _local(self, name: str) -> Path:
        if name not in self._safe_files():
            raise InvalidInputError("no such safe file in the bundle", path=self._at(name))
        return self.path / name

    def open(self, name: str) -> IO[bytes]:
        """Open the file read-only without following a final symlink or blocking on a FIFO.

        The entry was a regular file when listed; it is checked again once open, so a file
        swapped for a FIFO, device or link since then is refused instead of read (or waited on).
        """
        local = self._local(name)
        where = self._at(name)
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        try:
            fd = os.open(local, flags)
        except OSError as exc:
            raise InvalidInputError(f"cannot open: {exc.strerror}", path=where) from exc
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                raise InvalidInputError("no longer a plain regular file; not read", path=where)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Files of a directory are always local and uncompressed."""
        entry = self._safe_files().get(name)
        return (str(self._local(name)), 0, entry.size) if entry else None


def _bundle_name(name: str) -> str | None:
    """A listed archive name as a bundle name: one leading ``./`` dropped (§2).

    ``tar -C bundle -czf b.tar.gz .`` names every member ``./manifest.json``; every extractor puts
    it where ``manifest.json`` goes, so it names the same file. The ``./`` member itself is the
    bundle's own folder: ``None``, never listed.
    """
    if name.startswith("./"):
        name = name[2:]
    return name or None


# --- zip (APPNOTE.TXT 6.3) ---------------------------------------------------------------------

_ZIP_LOCAL = b"PK\x03\x04"
_ZIP_CENTRAL = b"PK\x01\x02"
_ZIP64_EOCD = b"PK\x06\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP_DESCRIPTOR = b"PK\x07\x08"
_ZIP_LOCAL_SIZE = 30
_ZIP_CENTRAL_SIZE = 46
_ZIP64_EOCD_SIZE = 56
_ZIP64_LOCATOR_SIZE = 20
_U32_MAX = 0xFFFFFFFF
_FLAG_ENCRYPTED = 0x0001
_FLAG_DESCRIPTOR = 0x0008
_FLAG_UTF8 = 0x0800
# Bits 1-2 only record the deflate level; 3 is a data descriptor, 11 UTF-8 names. Every other bit
# (encryption, patched data, strong encryption, masked headers) changes how the bytes are read.
_ZIP_ALLOWED_FLAGS = 0x0002 | 0x0004 | _FLAG_DESCRIPTOR | _FLAG_UTF8
_ZIP64_EXTRA = 0x0001
# Info-ZIP's Unicode path and comment fields name an entry a second time: unzip and bsdtar use
# them, Python's zipfile (before 3.12) and Java do not, so one entry has two names by reader.
_ZIP_FORBIDDEN_EXTRAS = {0x7075: "Info-ZIP Unicode path", 0x6375: "Info-ZIP Unicode comment"}
_HOST_UNIX = 3
_DOS_DIRECTORY = 0x10


@dataclass
class _ZipMember:
    """One central-directory record, as checked against its local header."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int
    kind: str
    data_offset: int = 0
    end: int = 0


def _zip_name(raw: bytes, flags: int) -> str:
    r"""Decode a zip name the one way every reader agrees on, or make it unsafe.

    With the UTF-8 flag the name is UTF-8; without it, readers guess (CP437, the locale, UTF-8),
    so only ASCII names mean the same to all of them. Other bytes are shown as ``\xNN``, which
    makes the entry unsafe (it is reported and never opened).
    """
    if flags & _FLAG_UTF8:
        return printable_name(raw.decode("utf-8", "surrogateescape"))
    if raw.isascii():
        return raw.decode("ascii")
    return "".join(chr(b) if b < 0x80 else f"\\x{b:02x}" for b in raw)


def _zip_extras(data: bytes) -> dict[int, bytes]:
    """The extra fields of a header: ``(id, size, data)`` records that exactly fill the area."""
    fields: dict[int, bytes] = {}
    at = 0
    while at < len(data):
        if at + 4 > len(data):
            raise ValueError("a truncated extra field")
        ident, size = struct.unpack_from("<HH", data, at)
        if at + 4 + size > len(data):
            raise ValueError(f"extra field 0x{ident:04x} runs past the extra area")
        if ident in fields:
            raise ValueError(f"extra field 0x{ident:04x} appears twice")
        if ident in _ZIP_FORBIDDEN_EXTRAS:
            raise ValueError(
                f"{_ZIP_FORBIDDEN_EXTRAS[ident]} extra field: readers disagree on which name to use"
            )
        fields[ident] = data[at + 4 : at + 4 + size]
        at += 4 + size
    return fields


def _zip64_values(extras: dict[int, bytes], wanted: list[bool]) -> list[int | None]:
    """The Zip64 extra field's 8-byte values, one for each field marked ``0xFFFFFFFF``."""
    data = extras.get(_ZIP64_EXTRA, b"")
    count = sum(wanted)
    if len(data) not in (8 * count, 8 * count + 4) and not (count == 0 and len(data) % 8 == 0):
        raise ValueError(f"the Zip64 extra field holds {len(data)} bytes, expected {8 * count}")
    values: list[int | None] = []
    at = 0
    for want in wanted:
        if want:
            (value,) = struct.unpack_from("<Q", data, at)
            values.append(value)
            at += 8
        else:
            values.append(None)
    return values


def _zip_kind(name: str, made_by: int, external: int) -> str:
    # A folder is a name ending in '/'. On Unix-made entries the high 16 bits of the external
    # attributes are an st_mode: a type there that disagrees with the name (a folder mode on a
    # name without '/', a file mode on one with it) is read differently by different tools.
    if made_by >> 8 == _HOST_UNIX:
        file_type = stat.S_IFMT(external >> 16)
        if name.endswith("/"):
            return "dir" if file_type in (0, stat.S_IFDIR) else "other"
        if file_type == stat.S_IFLNK:
            return "symlink"
        if file_type in (0, stat.S_IFREG):
            return "file"
        return "other" if file_type == stat.S_IFDIR else "device"
    if name.endswith("/"):
        return "dir"
    return "other" if external & _DOS_DIRECTORY else "file"


class ZipContainer(Container):
    """A bundle in a .zip archive (stored or deflated), read by its own strict parser.

    Every byte of the archive is accounted for (docs/bundle-format.md §2.1): the local entries
    follow each other from byte 0 without gaps, each exactly as its central-directory record
    describes it (name, flags, method, sizes, CRC), then the central directory, the Zip64 end
    records when present, and the end record. Bytes outside (a gap, a local entry the central
    directory does not list, a comment) are counted in :meth:`trailing_bytes`; a header that
    disagrees, an overlap or a feature a bundle never uses stops the listing.
    """

    kind = "zip"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._members: dict[str, _ZipMember] = {}
        self._hidden = 0
        self._shift = 0
        self._crc_checked: set[str] = set()
        try:
            self._handle = path.open("rb")
        except OSError as exc:
            raise InvalidInputError(f"cannot open: {exc.strerror}", path=str(path)) from exc
        try:
            self._size = os.fstat(self._handle.fileno()).st_size
            self._list()
        except OSError as exc:
            self._handle.close()
            raise InvalidInputError(f"cannot read the archive: {exc}", path=str(path)) from exc
        except BaseException:
            self._handle.close()
            raise

    def _at(self, name: str) -> str:
        return f"{self.path}!{name}"

    def _pread(self, offset: int, size: int) -> bytes:
        self._handle.seek(offset)
        return self._handle.read(size)

    def _end_record(self) -> tuple[int, int, int, int]:
        """``(entry count, central directory offset, its size, where it must end)``.

        Raises:
            InvalidInputError: when there is no end record (not a complete zip archive).
        """
        size = self._size
        start = max(size - (1 << 16) - _ZIP_EOCD_SIZE, 0)
        tail = self._pread(start, size - start)
        found = -1
        if tail[-_ZIP_EOCD_SIZE:][:4] == _ZIP_EOCD:
            found = len(tail) - _ZIP_EOCD_SIZE
        else:
            # A comment follows the end record: find the last record whose comment fits.
            at = tail.rfind(_ZIP_EOCD)
            while at >= 0:
                if at + _ZIP_EOCD_SIZE <= len(tail):
                    found = at
                    break
                at = tail.rfind(_ZIP_EOCD, 0, at)
        if found < 0:
            raise InvalidInputError(
                "not a complete zip archive: no end of central directory record",
                path=str(self.path),
            )
        eocd = start + found
        disk, cd_disk, on_disk, count, cd_size, cd_offset, _comment = struct.unpack_from(
            "<HHHHIIH", tail, found + 4
        )
        # The comment and anything after it are bytes no entry lists (§2: no archive comment).
        self._hidden += size - eocd - _ZIP_EOCD_SIZE
        if disk or cd_disk or on_disk != count:
            raise InvalidInputError(
                "a multi-disk (split) zip archive is not a bundle", path=str(self.path)
            )
        cd_end = eocd
        locator_at = eocd - _ZIP64_LOCATOR_SIZE
        locator = self._pread(locator_at, _ZIP64_LOCATOR_SIZE) if locator_at >= 0 else b""
        if locator[:4] == _ZIP64_LOCATOR:
            # Readers take the Zip64 end record whenever its locator is there (APPNOTE 4.3.15),
            # so this one does too, and insists that both records agree.
            _, record_at, disks = struct.unpack_from("<IQI", locator, 4)
            record = self._pread(record_at, _ZIP64_EOCD_SIZE)
            if (
                record_at + _ZIP64_EOCD_SIZE != locator_at
                or len(record) < _ZIP64_EOCD_SIZE
                or record[:4] != _ZIP64_EOCD
            ):
                raise InvalidInputError(
                    "the Zip64 end record is not right before its locator", path=str(self.path)
                )
            (rest, _, _, disk64, cd_disk64, on_disk64, count64, size64, offset64) = (
                struct.unpack_from("<QHHIIQQQQ", record, 4)
            )
            if rest != _ZIP64_EOCD_SIZE - 12 or disk64 or cd_disk64 or disks != 1:
                raise InvalidInputError(
                    "the Zip64 end record has extensible data or names several disks",
                    path=str(self.path),
                )
            for short, long, limit in (
                (count, count64, 0xFFFF),
                (on_disk, on_disk64, 0xFFFF),
                (cd_size, size64, _U32_MAX),
                (cd_offset, offset64, _U32_MAX),
            ):
                if short not in (limit, long):
                    raise InvalidInputError(
                        "the end record and the Zip64 end record disagree", path=str(self.path)
                    )
            count, cd_size, cd_offset, cd_end = count64, size64, offset64, record_at
        return count, cd_offset, cd_size, cd_end

    def _list(self) -> None:
        count, cd_offset, cd_size, cd_end = self._end_record()
        # The count is checked before a single record is parsed (a central directory of
        # millions of records costs memory and time before any other limit could apply).
        if count > MAX_ENTRIES:
            self._stop(
                LimitExceededError,
                f"{count} entries exceeds the limit of {MAX_ENTRIES}",
                str(self.path),
            )
            return
        if cd_offset + cd_size > cd_end:
            self._stop(
                InvalidInputError,
                f"the central directory ({cd_size} bytes at byte {cd_offset}) runs past the "
                f"end record (byte {cd_end})",
                str(self.path),
            )
            return
        # Bytes put before the archive shift everything: zip readers (Python's, unzip) find the
        # entries anyway by this difference, so this reader does too, and the bytes before the
        # first entry are then counted as hidden (_cover).
        self._shift = cd_end - cd_size - cd_offset
        cd_offset += self._shift
        if cd_size > count * (_ZIP_CENTRAL_SIZE + 3 * 0xFFFF):
            self._stop(
                InvalidInputError,
                f"a central directory of {cd_size} bytes cannot hold {count} entries",
                str(self.path),
            )
            return
        directory = self._pread(cd_offset, cd_size)
        members = self._central(directory, count)
        if members is None or not self._locals(members, cd_offset):
            return
        self._cover(members, cd_offset)

    def _central(self, directory: bytes, count: int) -> list[_ZipMember] | None:
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * self._size)
        declared = 0
        members: list[_ZipMember] = []
        at = 0
        for index in range(count):
            fixed = directory[at : at + _ZIP_CENTRAL_SIZE]
            if len(fixed) < _ZIP_CENTRAL_SIZE or fixed[:4] != _ZIP_CENTRAL:
                self._stop(
                    InvalidInputError,
                    f"central directory record {index} is missing or damaged",
                    str(self.path),
                )
                return None
            (made_by, _, flags, method, _, _, crc, compressed, size, name_len, extra_len) = (
                struct.unpack_from("<HHHHHHIIIHH", fixed, 4)
            )
            comment_len, disk, _, external, offset = struct.unpack_from("<HHHII", fixed, 32)
            raw_name = directory[at + 46 : at + 46 + name_len]
            extra = directory[at + 46 + name_len : at + 46 + name_len + extra_len]
            at += _ZIP_CENTRAL_SIZE + name_len + extra_len + comment_len
            if at > len(directory):
                self._stop(
                    InvalidInputError,
                    f"central directory record {index} runs past the central directory",
                    str(self.path),
                )
                return None
            self._hidden += comment_len  # an entry comment is text no extractor shows
            name = _zip_name(raw_name, flags)
            where = self._at(name)
            try:
                extras = _zip_extras(extra)
                size64, compressed64, offset64 = _zip64_values(
                    extras, [size == _U32_MAX, compressed == _U32_MAX, offset == _U32_MAX]
                )[:3]
            except (ValueError, struct.error) as exc:
                self._stop(InvalidInputError, f"central directory record: {exc}", where)
                return None
            size = size if size64 is None else size64
            compressed = compressed if compressed64 is None else compressed64
            offset = (offset if offset64 is None else offset64) + self._shift
            problem = self._entry_problem(flags, method, disk, compressed, size)
            if problem:
                self._stop(InvalidInputError, problem, where)
                return None
            kind = _zip_kind(name, made_by, external)
            if kind == "dir" and size:  # (a zip symlink's data is its target: listed, unsafe)
                self._stop(
                    InvalidInputError,
                    f"a {kind} entry carries {size} bytes of data, which some readers extract "
                    "and others skip",
                    where,
                )
                return None
            member = _ZipMember(name, raw_name, flags, method, crc, compressed, size, offset, kind)
            members.append(member)
            bundle_name = _bundle_name(name)
            if bundle_name is None:
                continue
            self.entries.append(Entry(bundle_name, size, kind, compressed))
            self._members.setdefault(bundle_name, member)
            if kind != "file" or self._is_bomb(member):
                continue  # never opened; a single bomb is refused, by name, when opened
            # Entries may share compressed bytes, so each one's own ratio can look sane while
            # all of them together expand without bound: cap the archive's total first.
            declared += size
            if declared > budget:
                self._stop(
                    LimitExceededError,
                    f"entries up to this one declare {declared} bytes from an archive of "
                    f"{self._size} bytes: exceeds the ratio limit of {MAX_COMPRESSION_RATIO}",
                    where,
                )
                return None
        if at != len(directory):
            self._stop(
                InvalidInputError,
                f"{len(directory) - at} bytes in the central directory after its {count} records",
                str(self.path),
            )
            return None
        return members

    @staticmethod
    def _entry_problem(flags: int, method: int, disk: int, compressed: int, size: int) -> str:
        if flags & _FLAG_ENCRYPTED:
            return "entry is encrypted"
        if flags & ~_ZIP_ALLOWED_FLAGS:
            return f"general purpose flags 0x{flags:04x} name a feature a bundle never uses"
        if method not in ZIP_METHODS:
            return f"compression method {method} is not allowed (a bundle is stored or deflated)"
        if disk:
            return "entry starts on another disk (a split archive)"
        if method == zipfile.ZIP_STORED and compressed != size:
            return f"stored entry of {size} bytes declares {compressed} bytes of data"
        return ""

    def _locals(self, members: list[_ZipMember], cd_offset: int) -> bool:
        """Check every local header against its central record; False when one disagrees."""
        for member in members:
            where = self._at(member.name)
            try:
                self._local(member, cd_offset)
            except (ValueError, struct.error) as exc:
                self._stop(
                    InvalidInputError,
                    f"local header at byte {member.offset} disagrees with the central "
                    f"directory: {exc}",
                    where,
                )
                return False
        return True

    def _local(self, member: _ZipMember, cd_offset: int) -> None:
        fixed = self._pread(member.offset, _ZIP_LOCAL_SIZE)
        if len(fixed) < _ZIP_LOCAL_SIZE or fixed[:4] != _ZIP_LOCAL:
            raise ValueError("no local header there")
        (_, flags, method, _, _, crc, compressed, size, name_len, extra_len) = struct.unpack_from(
            "<HHHHHIIIHH", fixed, 4
        )
        variable = self._pread(member.offset + _ZIP_LOCAL_SIZE, name_len + extra_len)
        if len(variable) < name_len + extra_len:
            raise ValueError("the header runs past the end of the archive")
        if variable[:name_len] != member.raw_name:
            raise ValueError(f"the local name is {_zip_name(variable[:name_len], flags)!r}")
        if flags != member.flags:
            raise ValueError(f"flags 0x{flags:04x}, central 0x{member.flags:04x}")
        if method != member.method:
            raise ValueError(f"compression method {method}, central {member.method}")
        extras = _zip_extras(variable[name_len:])
        size64, compressed64 = _zip64_values(extras, [size == _U32_MAX, compressed == _U32_MAX])[:2]
        size = size if size64 is None else size64
        compressed = compressed if compressed64 is None else compressed64
        local = (crc, compressed, size)
        central = (member.crc, member.compressed, member.size)
        # With a data descriptor (bit 3) a streaming writer leaves local values it does not know
        # yet at zero and writes them after the data; they must then be there, and agree.
        deferred = bool(flags & _FLAG_DESCRIPTOR)
        if any(a != b and not (deferred and a == 0) for a, b in zip(local, central, strict=True)):
            raise ValueError(f"CRC, compressed and plain size {local}, central {central}")
        member.data_offset = member.offset + _ZIP_LOCAL_SIZE + name_len + extra_len
        member.end = member.data_offset + member.compressed
        if flags & _FLAG_DESCRIPTOR:
            member.end += self._descriptor(member, zip64=_ZIP64_EXTRA in extras)
        if member.end > cd_offset:
            raise ValueError(
                f"its data end at byte {member.end}, inside the central directory "
                f"(byte {cd_offset})"
            )

    def _descriptor(self, member: _ZipMember, *, zip64: bool) -> int:
        """The length of the data descriptor after the entry's data, which must agree."""
        data = self._pread(member.data_offset + member.compressed, 24)
        forms = [("<4sIQQ", 24), ("<IQQ", 20)] if zip64 else [("<4sIII", 16), ("<III", 12)]
        for layout, length in forms:
            if len(data) < length:
                continue
            values = struct.unpack_from(layout, data)
            if len(values) == 4 and values[0] != _ZIP_DESCRIPTOR:
                continue
            if tuple(values[-3:]) == (member.crc, member.compressed, member.size):
                return length
        raise ValueError("the data descriptor after the data is missing or disagrees")

    def _cover(self, members: list[_ZipMember], cd_offset: int) -> None:
        """Every byte before the central directory belongs to exactly one listed entry."""
        at = 0
        previous = "the start of the archive"
        for member in sorted(members, key=lambda m: m.offset):
            if member.offset < at:
                self._stop(
                    InvalidInputError,
                    f"entry at byte {member.offset} overlaps {previous}, which ends at byte {at}",
                    self._at(member.name),
                )
                return
            # A gap: bytes of no listed entry, e.g. a local entry the central directory does not
            # list (streaming readers extract it) or data hidden between two entries.
            self._hidden += member.offset - at
            at = member.end
            previous = repr(member.name)
        self._hidden += cd_offset - at

    @staticmethod
    def _is_bomb(member: _ZipMember) -> bool:
        return member.size > MIN_RATIO_CHECK_BYTES and member.size > (
            MAX_COMPRESSION_RATIO * max(member.compressed, 1)
        )

    def _member(self, name: str) -> _ZipMember:
        if name not in self._safe_files():
            raise InvalidInputError("no such safe file in the bundle", path=self._at(name))
        return self._members[name]

    def open(self, name: str) -> IO[bytes]:
        """Stream one entry, checking that it ends exactly where and as its headers say."""
        member = self._member(name)
        where = self._at(name)
        if self._is_bomb(member):
            raise LimitExceededError(
                f"entry claims {member.size} bytes from {member.compressed} compressed: "
                f"exceeds the ratio limit of {MAX_COMPRESSION_RATIO}",
                path=where,
            )
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise InvalidInputError(f"cannot open: {exc.strerror}", path=where) from exc
        return _guarded(_ZipEntryReader(handle, member, where), where)

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Stored entries are read in place, once their CRC is checked (as for deflated ones)."""
        member = self._members.get(name)
        if member is None or member.method != zipfile.ZIP_STORED or name not in self._safe_files():
            return None
        if name not in self._crc_checked:
            with self.open(name) as handle:
                while handle.read(SCAN_CHUNK):
                    pass
            self._crc_checked.add(name)
        return (str(self.path), member.data_offset, member.size)

    def trailing_bytes(self) -> int:
        """Bytes no listed entry holds: gaps, unlisted local entries, comments, a tail."""
        return self._hidden

    def close(self) -> None:
        """Close the archive."""
        self._handle.close()


class _ZipEntryReader(io.RawIOBase):
    """One entry's bytes: inflated (or copied) from exactly its compressed bytes.

    At the end it insists that the deflate stream ended exactly at the declared compressed size
    (unzip inflates a stream to its own end, past a short declared size), that exactly the
    declared plain size came out, and that the CRC-32 matches: for stored entries as for
    deflated ones.
    """

    def __init__(self, handle: IO[bytes], member: _ZipMember, where: str) -> None:
        super().__init__()
        self._handle = handle
        self._member = member
        self._where = where
        handle.seek(member.data_offset)
        self._left = member.compressed
        self._inflate = (
            zlib.decompressobj(-zlib.MAX_WBITS) if member.method == zipfile.ZIP_DEFLATED else None
        )
        self._pending = b""
        self._out = 0
        self._crc = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _fail(self, message: str) -> InvalidInputError:
        return InvalidInputError(message, path=self._where)

    def _input(self, want: int) -> bytes:
        chunk = self._handle.read(min(want, self._left))
        if not chunk:
            raise self._fail(
                f"the archive ends {self._left} bytes before the entry's data does (truncated)"
            )
        self._left -= len(chunk)
        return chunk

    def _next(self, want: int) -> bytes:
        if self._inflate is None:
            return self._input(want) if self._left else b""
        while True:
            if self._inflate.eof:
                if self._inflate.unused_data or self._pending or self._left:
                    raise self._fail(
                        "the deflate stream ends before the entry's declared compressed size"
                    )
                return b""
            if not self._pending:
                if not self._left:
                    try:  # zlib may still hold output, or the end of the stream, in its state
                        data = self._inflate.decompress(b"", want)
                    except zlib.error as exc:
                        raise self._fail(f"corrupt deflate stream: {exc}") from exc
                    if data:
                        return data
                    if self._inflate.eof:
                        continue
                    raise self._fail(
                        "the deflate stream does not end at the entry's declared compressed "
                        "size (it runs past it, or is truncated)"
                    )
                self._pending = self._input(SCAN_CHUNK)
            try:
                data = self._inflate.decompress(self._pending, want)
            except zlib.error as exc:
                raise self._fail(f"corrupt deflate stream: {exc}") from exc
            self._pending = self._inflate.unconsumed_tail
            if data:
                return data

    def readinto(self, buffer: Any) -> int:
        if self._done:
            return 0
        want = min(len(buffer), SCAN_CHUNK)
        data = self._next(want)
        self._out += len(data)
        if self._out > self._member.size:
            raise self._fail(
                f"the entry inflates past its declared size of {self._member.size} bytes"
            )
        self._crc = zlib.crc32(data, self._crc)
        if not data:
            self._done = True
            if self._out != self._member.size:
                raise self._fail(
                    f"the entry holds {self._out} bytes, its headers declare {self._member.size}"
                )
            if self._crc != self._member.crc:
                raise self._fail(
                    f"Bad CRC-32: the data's is {self._crc:08x}, the headers' "
                    f"{self._member.crc:08x}"
                )
            return 0
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._handle.close()
        finally:
            super().close()


# --- tar (POSIX.1-2001 ustar and pax; GNU tar's default header) ------------------------------

_BLOCK = 512
_ZERO_BLOCK = bytes(_BLOCK)
_USTAR = b"ustar\x0000"  # POSIX ustar and pax
_GNU = b"ustar  \x00"  # GNU tar's default format: the same header for short names
_TAR_FILE_TYPES = (b"0", b"\x00")
_TAR_LISTED_TYPES = {
    b"5": "dir",
    b"1": "hardlink",
    b"2": "symlink",
    b"3": "device",
    b"4": "device",
    b"6": "device",
}
# Keys of a pax extended header a bundle may use. Anything else may change how the member is
# read (GNU.sparse.*, hdrcharset, linkpath on a file) or carry hidden text (comment): refused.
_PAX_KEYS = {"path", "size", "mtime", "atime", "ctime", "uid", "gid", "uname", "gname"}
_PAX_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.", "LIBARCHIVE.creationtime")
# ustar header fields that are text, as (start, end): after the first NUL only NULs may follow.
_TAR_TEXT_FIELDS = {"name": (0, 100), "linkname": (157, 257), "uname": (265, 297)}
_TAR_TEXT_FIELDS |= {"gname": (297, 329)}
_TAR_NUMBERS = {"mode": (100, 108), "uid": (108, 116), "gid": (116, 124), "size": (124, 136)}
_TAR_NUMBERS |= {"mtime": (136, 148), "devmajor": (329, 337), "devminor": (337, 345)}


class _TarError(Exception):
    """A tar structure problem found while listing, with the member it concerns."""

    def __init__(self, message: str, member: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.member = member


def _tar_number(field: bytes, what: str) -> int:
    """An octal header number, strictly: optional leading spaces, digits, NUL or space after."""
    if field[:1] and field[0] & 0x80:
        raise _TarError(f"header field {what} uses base-256 (a GNU extension)")
    text = field.rstrip(b"\x00 ").lstrip(b" ")
    if text and not all(0x30 <= c <= 0x37 for c in text):
        raise _TarError(f"header field {what} is not an octal number: {field!r}")
    return int(text, 8) if text else 0


def _tar_text(block: bytes, what: str, start: int, end: int) -> bytes:
    field = block[start:end]
    text, _, rest = field.partition(b"\x00")
    if rest.strip(b"\x00"):
        raise _TarError(f"bytes hidden after the end of header field {what}")
    return text


def _pax_records(data: bytes) -> dict[str, str]:
    r"""The ``LEN key=value\n`` records of a pax extended header, each key once."""
    records: dict[str, str] = {}
    at = 0
    while at < len(data):
        space = data.find(b" ", at, at + 21)
        digits = data[at:space] if space > 0 else b""
        if not digits.isdigit() or digits.startswith(b"0"):
            raise _TarError(f"malformed pax record at byte {at} of the extended header")
        length = int(digits)
        record = data[at : at + length]
        if len(record) != length or not record.endswith(b"\n") or b"=" not in record:
            raise _TarError(f"malformed pax record at byte {at} of the extended header")
        key_bytes, _, value_bytes = record[len(digits) + 1 : -1].partition(b"=")
        try:
            key = key_bytes.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _TarError("a pax key that is not UTF-8") from exc
        if key not in _PAX_KEYS and not key.startswith(_PAX_PREFIXES):
            raise _TarError(f"pax key {key!r} is not allowed in a bundle")
        if key in records:
            raise _TarError(f"pax key {key!r} appears twice (readers keep different copies)")
        records[key] = value_bytes.decode("utf-8", "surrogateescape")
        at += length
    return records


class _Gunzip:
    """The decompressed bytes of a gzip file: every member in turn, as gzip and tar read them.

    Zero bytes after a member are padding (gzip -d and Python skip them). Anything else after
    the last member is not gzip data: its length is kept in ``garbage`` and the stream ends.
    """

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._ended = False
        self.garbage = 0
        self.position = 0

    def _next_member(self, rest: bytes) -> None:
        rest = rest.lstrip(b"\x00")
        while not rest:
            chunk = self._handle.read(SCAN_CHUNK)
            if not chunk:
                self._ended = True
                return
            rest = chunk.lstrip(b"\x00")
        if len(rest) < len(_GZIP_MAGIC):
            rest += self._handle.read(len(_GZIP_MAGIC))
        if not rest.startswith(_GZIP_MAGIC):
            here = self._handle.tell()
            self._handle.seek(0, os.SEEK_END)
            self.garbage = self._handle.tell() - here + len(rest)
            self._ended = True
            return
        self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = rest

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the gzip data."""
        parts: list[bytes] = []
        got = 0
        while got < size and not self._ended:
            if self._inflate.eof:
                self._next_member(self._inflate.unused_data + self._pending)
                continue
            if not self._pending:
                self._pending = self._handle.read(SCAN_CHUNK)
                if not self._pending:
                    raise _TarError("the gzip stream is truncated")
            try:
                data = self._inflate.decompress(self._pending, min(size - got, SCAN_CHUNK))
            except zlib.error as exc:
                raise _TarError(f"the gzip stream is corrupt: {exc}") from exc
            self._pending = self._inflate.unconsumed_tail
            if self._inflate.eof:
                self._pending = b""  # unused_data holds what follows this member
            parts.append(data)
            got += len(data)
        data = b"".join(parts)
        self.position += len(data)
        return data

    def skip(self, size: int) -> int:
        """Discard ``size`` bytes in bounded steps; the number actually skipped."""
        done = 0
        while done < size:
            step = len(self.read(min(SCAN_CHUNK, size - done)))
            if not step:
                break
            done += step
        return done


class _PlainTar:
    """An uncompressed tar read with the same interface as :class:`_Gunzip`."""

    garbage = 0

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self.position = 0

    def read(self, size: int) -> bytes:
        data = self._handle.read(size)
        self.position += len(data)
        return data

    def skip(self, size: int) -> int:
        end = os.fstat(self._handle.fileno()).st_size
        step = max(0, min(size, end - self.position))
        self._handle.seek(self.position + step)
        self.position += step
        return step


@dataclass(frozen=True)
class _TarMember:
    name: str
    kind: str
    offset: int  # of the data in the (decompressed) tar stream
    size: int


class TarContainer(Container):
    """A bundle in a .tar or .tar.gz archive, read by its own strict parser (§2.1).

    Only ustar and pax headers (and GNU tar's default header, the same for short names) with
    the member types a bundle may hold; header checksums, octal numbers and zero padding are
    checked; no member but a regular file carries data; the archive ends with two zero blocks
    followed by zeros only, and a .tar.gz with the gzip data (members concatenated, as every
    reader concatenates them).
    """

    kind = "tar"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._members: dict[str, _TarMember] = {}
        self._hidden = 0
        # A .tar.gz cannot seek: members are read forward from one shared position when they
        # come in archive order (as the verifier reads them), else from the start again.
        self._cursor: tuple[IO[bytes], _Gunzip] | None = None
        self._cursor_busy = False
        try:
            with path.open("rb") as handle:
                self._compressed = handle.read(2) == _GZIP_MAGIC
                self._archive_size = os.fstat(handle.fileno()).st_size
                handle.seek(0)
                stream: _Gunzip | _PlainTar = (
                    _Gunzip(handle) if self._compressed else _PlainTar(handle)
                )
                try:
                    self._list(stream)
                except _TarError as exc:
                    where = self._at(exc.member) if exc.member else str(self.path)
                    if not self.entries:
                        raise InvalidInputError(
                            f"not a readable tar archive: {exc.message}", path=where
                        ) from exc
                    self._stop(InvalidInputError, exc.message, where)
        except OSError as exc:
            raise InvalidInputError(f"cannot read the archive: {exc}", path=str(path)) from exc

    def _at(self, name: str) -> str:
        return f"{self.path}!{name}"

    def _list(self, stream: _Gunzip | _PlainTar) -> None:
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * self._archive_size)
        declared = 0
        pax: dict[str, str] | None = None
        while True:
            at = stream.position
            block = stream.read(_BLOCK)
            if len(block) < _BLOCK:
                raise _TarError(
                    f"the archive ends at byte {at + len(block)} without an end-of-archive "
                    "marker (truncated)"
                )
            if block == _ZERO_BLOCK:
                if pax is not None:
                    raise _TarError("a pax extended header is followed by no member")
                self._check_end(stream, at)
                return
            name, kind, size, record = self._header(block, at, pax)
            pax = None
            shown = name if kind != "dir" or name.endswith("/") else name + "/"
            if record is not None:
                if size > MAX_TAR_HEADER_BYTES:
                    self._stop(
                        LimitExceededError,
                        f"extended header of {size} bytes at byte {at} exceeds the limit of "
                        f"{MAX_TAR_HEADER_BYTES}",
                        str(self.path),
                    )
                    return
                data = stream.read(size)
                if len(data) < size:
                    raise _TarError(f"the extended header at byte {at} is truncated")
                self._padding(stream, size, "the extended header")
                pax = _pax_records(data)
                continue
            if kind != "file" and size:
                raise _TarError(
                    f"a {kind} member carries {size} bytes of data, which GNU tar extracts and "
                    "other readers skip",
                    shown,
                )
            bundle_name = _bundle_name(shown)
            if bundle_name is not None:
                self.entries.append(Entry(bundle_name, size, kind))
                self._members.setdefault(
                    bundle_name, _TarMember(bundle_name, kind, stream.position, size)
                )
            if len(self.entries) > MAX_ENTRIES:
                self._stop(
                    LimitExceededError,
                    f"more than {MAX_ENTRIES} entries exceeds the limit",
                    str(self.path),
                )
                return
            if self._compressed and kind == "file":
                # Listing a .tar.gz inflates every member to reach the next header: stop before
                # a member whose declared size would make this a decompression bomb.
                declared += size
                if declared > budget:
                    self._stop(
                        LimitExceededError,
                        f"members up to this one declare {declared} bytes from "
                        f"{self._archive_size} compressed: exceeds the ratio limit of "
                        f"{MAX_COMPRESSION_RATIO}",
                        self._at(shown),
                    )
                    return
            start = stream.position
            if stream.skip(size) < size:
                raise _TarError(
                    f"entry needs {size} bytes at byte {start} but the archive ends first "
                    "(truncated)",
                    shown,
                )
            self._padding(stream, size, repr(shown), shown)

    def _header(
        self, block: bytes, at: int, pax: dict[str, str] | None
    ) -> tuple[str, str, int, bool | None]:
        """``(name, kind, data size, True for a pax header else None)`` of one header block."""
        stored = _tar_number(block[148:156], "chksum")
        unsigned = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
        signed = sum(b - 256 if b > 127 else b for b in block[:148] + block[156:]) + 8 * 0x20
        if stored not in (unsigned, signed):
            raise _TarError(f"header checksum mismatch at byte {at} (not a tar header there)")
        magic = block[257:265]
        if magic not in (_USTAR, _GNU):
            raise _TarError(
                f"header at byte {at} is neither POSIX ustar/pax nor GNU tar's (an old or "
                "unknown tar format)"
            )
        if block[500:] != bytes(12) or (magic == _GNU and block[345:500] != bytes(155)):
            raise _TarError(f"header at byte {at}: non-zero bytes in its unused area")
        texts = {what: _tar_text(block, what, *span) for what, span in _TAR_TEXT_FIELDS.items()}
        numbers = {what: _tar_number(block[a:b], what) for what, (a, b) in _TAR_NUMBERS.items()}
        prefix = _tar_text(block, "prefix", 345, 500) if magic == _USTAR else b""
        raw_name = prefix + b"/" + texts["name"] if prefix else texts["name"]
        name = printable_name(raw_name.decode("utf-8", "surrogateescape"))
        size = numbers["size"]
        if pax:
            if "path" in pax:
                name = printable_name(pax["path"])
            if "size" in pax:
                value = pax["size"]
                if not value.isdigit() or (size and int(value) != size):
                    raise _TarError(f"pax size {value!r} disagrees with the header's {size}")
                size = int(value)
        kind_flag = block[156:157]
        if kind_flag in (b"x", b"X"):
            if pax is not None:
                raise _TarError(f"two pax extended headers in a row at byte {at}")
            return name, "pax", size, True
        if kind_flag == b"g":
            raise _TarError(
                f"a pax global header at byte {at}: not allowed (readers apply it differently)"
            )
        if kind_flag in (b"L", b"K"):
            raise _TarError(
                f"a GNU long-name header at byte {at}: the spec allows ustar and pax only"
            )
        if kind_flag in _TAR_FILE_TYPES:
            if name.endswith("/"):
                raise _TarError("a regular member whose name ends in '/'", name)
            return name, "file", size, None
        if kind_flag in _TAR_LISTED_TYPES:
            return name, _TAR_LISTED_TYPES[kind_flag], size, None
        raise _TarError(
            f"member type {kind_flag!r} is not allowed (regular files and folders only)", name
        )

    def _padding(
        self, stream: _Gunzip | _PlainTar, size: int, what: str, member: str | None = None
    ) -> None:
        pad = -size % _BLOCK
        data = stream.read(pad)
        if len(data) < pad:
            raise _TarError(f"the archive ends inside the padding of {what} (truncated)", member)
        if data.count(0) != pad:
            raise _TarError(f"non-zero bytes in the padding after {what}", member)

    def _check_end(self, stream: _Gunzip | _PlainTar, at: int) -> None:
        """After the first zero block: a second one, then zeros only (§2.1 "the end")."""
        second = stream.read(_BLOCK)
        if len(second) < _BLOCK:
            raise _TarError(
                f"the archive ends at byte {at + _BLOCK + len(second)} with a single zero block "
                "(truncated end-of-archive marker)"
            )
        tail = 0
        first_data: int | None = None if second == _ZERO_BLOCK else 0
        while tail <= MAX_TAIL_SCAN and (chunk := stream.read(SCAN_CHUNK)):
            if first_data is None and chunk.count(0) != len(chunk):
                first_data = _BLOCK + tail + len(chunk) - len(chunk.lstrip(b"\x00"))
            tail += len(chunk)
        tail += _BLOCK
        if first_data is not None:
            self._hidden = tail - first_data
        elif tail > MAX_TAIL_SCAN:
            self._hidden = tail
        self._hidden += stream.garbage

    def _member(self, name: str) -> _TarMember:
        if name not in self._safe_files():
            raise InvalidInputError("no such safe file in the bundle", path=self._at(name))
        return self._members[name]

    def open(self, name: str) -> IO[bytes]:
        """Stream one regular member (a .tar.gz read forward from the last position)."""
        member = self._member(name)
        where = self._at(name)
        try:
            if not self._compressed:
                handle = self.path.open("rb")
                handle.seek(member.offset)
                plain = _PlainTar(handle)
                plain.position = member.offset
                return _guarded(_TarEntryReader(plain, member.size, where, handle.close), where)
            stream, release = self._gunzip_at(member.offset)
        except OSError as exc:
            raise InvalidInputError(f"cannot open: {exc.strerror}", path=where) from exc
        try:
            gap = member.offset - stream.position
            if stream.skip(gap) < gap:
                raise InvalidInputError("the archive ends before the entry", path=where)
        except _TarError as exc:
            release()
            raise InvalidInputError(f"cannot read entry: {exc.message}", path=where) from exc
        except BaseException:
            release()
            raise
        return _guarded(_TarEntryReader(stream, member.size, where, release), where)

    def _gunzip_at(self, offset: int) -> tuple[_Gunzip, Callable[[], None]]:
        """A decompressed stream at or before ``offset``, and how to give it back."""
        if self._cursor_busy:  # another member is open: read this one on its own
            handle = self.path.open("rb")
            return _Gunzip(handle), handle.close
        if self._cursor is None or self._cursor[1].position > offset:
            self.close()
            handle = self.path.open("rb")
            self._cursor = (handle, _Gunzip(handle))
        self._cursor_busy = True
        return self._cursor[1], self._release

    def _release(self) -> None:
        self._cursor_busy = False

    def close(self) -> None:
        """Close the shared .tar.gz position."""
        if self._cursor is not None:
            self._cursor[0].close()
            self._cursor = None

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Members of an uncompressed tar lie in place after their header."""
        member = self._members.get(name)
        if self._compressed or member is None or name not in self._safe_files():
            return None
        return (str(self.path), member.offset, member.size)

    def trailing_bytes(self) -> int:
        """Non-zero bytes after the end-of-archive marker, or after the gzip data."""
        return self._hidden


class _TarEntryReader(io.RawIOBase):
    """Exactly ``size`` bytes of a member's data."""

    def __init__(
        self, stream: _Gunzip | _PlainTar, size: int, where: str, release: Callable[[], None]
    ) -> None:
        super().__init__()
        self._stream = stream
        self._left = size
        self._where = where
        self._release = release

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not self._left:
            return 0
        try:
            data = self._stream.read(min(len(buffer), self._left, SCAN_CHUNK))
        except _TarError as exc:
            raise InvalidInputError(f"cannot read entry: {exc.message}", path=self._where) from exc
        if not data:
            raise InvalidInputError(
                f"the archive ends {self._left} bytes before the entry does (truncated)",
                path=self._where,
            )
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            try:
                self._release()
            finally:
                super().close()


_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_input_kind(path: Path) -> None:
    """Refuse, without opening it, an input that is neither a regular file nor a folder.

    Evidence is a file or a folder of files. Opening a FIFO blocks until a writer comes (an
    import would wait forever), and a device or socket has no fixed content to hash, so
    ``verify``, ``import`` and ``seal`` all refuse such paths at once. A symbolic link is judged
    by what it points to here; :func:`open_container` refuses links given as a bundle itself.

    Raises:
        InvalidInputError: naming what the path is.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        reason = "no such file or folder" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise InvalidInputError(str(reason or exc), path=str(path)) from exc
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = next((what for test, what in _SPECIAL_KINDS if test(mode)), "not a regular file")
    raise InvalidInputError(
        f"{kind}, not a regular file or folder: refused without reading", path=str(path)
    )


def open_container(path: Path) -> Container:
    """Open a bundle container by what it is, not by its name.

    Raises:
        InvalidInputError: when the path is none of the supported containers.
    """
    try:
        if path.is_symlink():
            raise InvalidInputError(
                "the bundle path is a symbolic link; give its target", path=str(path)
            )
        check_input_kind(path)
        if path.is_dir():
            return DirectoryContainer(path)
        with path.open("rb") as handle:
            head = handle.read(262)
    except OSError as exc:
        raise InvalidInputError(f"cannot open: {exc.strerror or exc}", path=str(path)) from exc
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return ZipContainer(path)
    if head.startswith(_GZIP_MAGIC) or head[257:262] == b"ustar":
        return TarContainer(path)
    raise InvalidInputError(
        "not a bundle: neither a folder, a zip nor a tar archive", path=str(path)
    )


def iter_file_chunks(handle: IO[bytes], size: int = 8 << 20) -> Iterator[bytes]:
    """Yield a stream's bytes in chunks."""
    while chunk := handle.read(size):
        yield chunk
