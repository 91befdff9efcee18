"""Read-only access to a bundle in any of its containers: directory, .zip, .tar, .tar.gz.

Invariants:
    * Nothing is ever extracted or written: entries are read as streams.
    * Links, devices and names that are absolute or climb with ``..`` are listed (so they can be
      reported as ``UNSAFE_PATH``) but can never be opened.
    * The same bundle in any container reads the same bytes (docs/bundle-format.md §2).
    * Every container is hostile until verified (DESIGN.md §6): listing and reading are bounded in
      memory and work (entry count, header size, decompression ratio, tail scan), and every
      failure while listing or reading is an :class:`InvalidInputError` naming the archive and,
      when known, the entry. A listing that stopped early (truncated or corrupt archive, a limit)
      keeps what it read in ``entries`` and makes :meth:`Container.files` raise, so a caller
      can report the entries seen but can never mistake a partial listing for the whole bundle.
"""

from __future__ import annotations

import io
import itertools
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from auditlens.core.errors import InvalidInputError, LimitExceededError

MAX_ENTRIES = 200_000  # a bundle has a handful of files; far more is an attack on the reader.
MAX_DEPTH = 16  # bundle paths are at most two levels deep.
MAX_COMPRESSION_RATIO = 200  # JSON compresses ~10-20x; a ratio beyond this is a bomb.
MIN_RATIO_CHECK_BYTES = 64 * 1024 * 1024  # tiny entries may compress absurdly well; don't care.
# tarfile reads a pax or GNU long-name header whole into memory before we see the member; in a
# bundle such headers hold a path or two (a few hundred bytes), so a large one is a memory bomb.
MAX_TAR_HEADER_BYTES = 1024 * 1024
# After a tar's end-of-archive marker only zero padding may follow (at most one 10 KiB record
# from common writers). Scanning stops here: a longer tail is hidden data whatever it holds.
MAX_TAIL_SCAN = 64 * 1024 * 1024
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # DESIGN.md §2: stored or deflated.
SCAN_CHUNK = 1024 * 1024

# What reading an archive stream can raise besides our own errors: a corrupt or truncated
# deflate/gzip stream, a bad CRC, a member running past the end of the file.
_READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, OSError, ValueError)
# tarfile's reasons for a header it cannot read (not in its __all__, so not in typeshed): a zero
# block is the proper end-of-archive marker; no or a partial block at the end is truncation.
_END_MARKER: type[Exception] = tarfile.EOFHeaderError  # type: ignore[attr-defined]
_NO_HEADER: tuple[type[Exception], ...] = (
    tarfile.EmptyHeaderError,  # type: ignore[attr-defined]
    tarfile.TruncatedHeaderError,  # type: ignore[attr-defined]
)
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
    if len(parts) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    return None


class _GuardedReader(io.RawIOBase):
    """A raw stream over an archive entry that reports read failures as InvalidInputError."""

    def __init__(self, inner: IO[bytes], where: str) -> None:
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


def _guarded(inner: IO[bytes], where: str) -> IO[bytes]:
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


def _zip_kind(info: zipfile.ZipInfo) -> str:
    # The high 16 bits of external_attr are a Unix st_mode when the writer set them. Writers
    # often store permission bits alone (Python's writestr: 0o600, no file type), which is a
    # plain file; only an explicit type other than a regular file or folder is suspicious.
    file_type = stat.S_IFMT(info.external_attr >> 16)
    if file_type == stat.S_IFLNK:
        return "symlink"
    if info.filename.endswith("/") or file_type == stat.S_IFDIR:
        return "dir"
    if file_type in (0, stat.S_IFREG):
        return "file"
    return "device"


class ZipContainer(Container):
    """A bundle in a .zip archive (stored or deflated)."""

    kind = "zip"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            EOFError,
            struct.error,
            NotImplementedError,
        ) as exc:
            raise InvalidInputError(f"not a readable zip archive: {exc}", path=str(path)) from exc
        try:
            self._list()
        except OSError as exc:
            self._zip.close()
            raise InvalidInputError(f"cannot read the archive: {exc}", path=str(path)) from exc
        except BaseException:
            self._zip.close()
            raise

    def _list(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise LimitExceededError(
                f"{len(infos)} entries exceeds the limit of {MAX_ENTRIES}", path=str(self.path)
            )
        self._infos: dict[str, zipfile.ZipInfo] = {}
        archive_size = self.path.stat().st_size
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * archive_size)
        declared = 0
        for info in infos:
            kind = _zip_kind(info)
            self.entries.append(Entry(info.filename, info.file_size, kind, info.compress_size))
            self._infos.setdefault(info.filename, info)
            if kind != "file" or self._is_bomb(info):
                continue  # never opened; a single bomb is refused, by name, when opened
            # Entries may share (overlap) compressed bytes, so each one's own ratio can look
            # sane while all of them together expand without bound: cap the archive's total.
            declared += info.file_size
            if declared > budget:
                self._stop(
                    LimitExceededError,
                    f"entries up to this one declare {declared} bytes from an archive of "
                    f"{archive_size} bytes: exceeds the ratio limit of {MAX_COMPRESSION_RATIO}",
                    f"{self.path}!{info.filename}",
                )
                break
        self._hidden = self._hidden_bytes(infos, archive_size)

    @staticmethod
    def _is_bomb(info: zipfile.ZipInfo) -> bool:
        return info.file_size > MIN_RATIO_CHECK_BYTES and info.file_size > (
            MAX_COMPRESSION_RATIO * max(info.compress_size, 1)
        )

    def _hidden_bytes(self, infos: list[zipfile.ZipInfo], size: int) -> int:
        """Bytes before the first entry, in the comment, and after the end record.

        The end record is found the way :mod:`zipfile` finds it (at the very end, else the last
        signature in the final 64 KiB), so this measures the archive that was actually read.
        """
        with self.path.open("rb") as handle:
            start = max(size - (1 << 16) - _ZIP_EOCD_SIZE, 0)
            handle.seek(start)
            tail = handle.read()
        if tail[-_ZIP_EOCD_SIZE:][:4] == _ZIP_EOCD and tail[-2:] == b"\x00\x00":
            end = size
        else:
            found = tail.rfind(_ZIP_EOCD)
            record = tail[found : found + _ZIP_EOCD_SIZE]
            if found < 0 or len(record) < _ZIP_EOCD_SIZE:
                end = size  # zipfile read it, so this cannot happen; count nothing extra
            else:
                (comment_len,) = struct.unpack("<H", record[20:22])
                end = min(start + found + _ZIP_EOCD_SIZE + comment_len, size)
        before = min((i.header_offset for i in infos), default=0)
        return before + len(self._zip.comment) + (size - end)

    def open(self, name: str) -> IO[bytes]:
        """Stream one entry, refusing a decompression bomb and methods a bundle never uses."""
        where = f"{self.path}!{name}"
        if name not in self._safe_files():
            raise InvalidInputError("no such safe file in the bundle", path=where)
        info = self._infos[name]
        if self._is_bomb(info):
            raise LimitExceededError(
                f"entry claims {info.file_size} bytes from {info.compress_size} compressed: "
                f"exceeds the ratio limit of {MAX_COMPRESSION_RATIO}",
                path=where,
            )
        if info.compress_type not in ZIP_METHODS:
            raise InvalidInputError(
                f"compression method {info.compress_type} is not allowed "
                "(a bundle is stored or deflated)",
                path=where,
            )
        if info.flag_bits & 0x1:
            raise InvalidInputError("entry is encrypted", path=where)
        try:
            return _guarded(self._zip.open(info), where)
        except (*_READ_ERRORS, NotImplementedError, RuntimeError, struct.error) as exc:
            raise InvalidInputError(f"cannot read entry: {exc}", path=where) from exc

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Stored entries can be read in place: offset after the local header."""
        info = self._infos.get(name)
        if (
            info is None
            or info.compress_type != zipfile.ZIP_STORED
            or name not in self._safe_files()
        ):
            return None
        with self.path.open("rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return (str(self.path), info.header_offset + 30 + name_len + extra_len, info.file_size)

    def trailing_bytes(self) -> int:
        """Bytes no entry lists: before the first entry, the comment, after the end record."""
        return self._hidden

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()


_LONG_HEADERS = (
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
)


class _TarInfo(tarfile.TarInfo):
    """tarfile's header parser, with a size limit on the headers it reads whole."""

    @classmethod
    def fromtarfile(cls, archive: tarfile.TarFile) -> _TarInfo:
        try:
            return super().fromtarfile(archive)
        except tarfile.HeaderError as exc:
            # tarfile ends a listing silently on a bad or missing header after the first
            # member; remember why, to tell a proper end marker from truncation or garbage.
            if isinstance(archive, _TarFile):
                archive.end_reason = exc
            raise

    def _proc_member(self, archive: tarfile.TarFile) -> Any:
        if self.type in _LONG_HEADERS and self.size > MAX_TAR_HEADER_BYTES:
            raise LimitExceededError(
                f"extended header of {self.size} bytes at byte {self.offset} exceeds the limit "
                f"of {MAX_TAR_HEADER_BYTES}"
            )
        return super()._proc_member(archive)  # type: ignore[misc]


class _TarFile(tarfile.TarFile):
    """A TarFile that remembers why its listing ended."""

    tarinfo = _TarInfo
    end_reason: Exception | None = None


class TarContainer(Container):
    """A bundle in a .tar or .tar.gz archive."""

    kind = "tar"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            with path.open("rb") as handle:
                self._compressed = handle.read(2) == _GZIP_MAGIC
            self._archive_size = path.stat().st_size
            tar = _TarFile.open(path, mode="r:gz" if self._compressed else "r:")
        except LimitExceededError as exc:
            raise LimitExceededError(exc.message, path=str(path)) from exc
        except (*_READ_ERRORS, struct.error) as exc:
            raise InvalidInputError(f"not a readable tar archive: {exc}", path=str(path)) from exc
        assert isinstance(tar, _TarFile)
        self._tar = tar
        self._members: dict[str, tarfile.TarInfo] = {}
        self._hidden = 0
        try:
            if self._list():
                self._check_end()
        except BaseException:
            self._tar.close()
            raise

    def _list(self) -> bool:
        """List members; False when the listing stopped early (recorded by ``_stop``)."""
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * self._archive_size)
        declared = 0
        last = "the start"
        while True:
            try:
                member = self._tar.next()
            except LimitExceededError as exc:
                self._stop(LimitExceededError, f"after entry {last}: {exc.message}", str(self.path))
                return False
            except (*_READ_ERRORS, struct.error) as exc:
                self._stop(
                    InvalidInputError,
                    f"archive unreadable after entry {last} (truncated or corrupt): {exc}",
                    str(self.path),
                )
                return False
            if member is None:
                return True
            kind = _tar_kind(member)
            name = printable_name(member.name)
            name += "/" if kind == "dir" and not name.endswith("/") else ""
            last = repr(name)
            self.entries.append(Entry(name, member.size, kind))
            self._members.setdefault(name, member)
            if len(self.entries) > MAX_ENTRIES:
                self._stop(
                    LimitExceededError,
                    f"more than {MAX_ENTRIES} entries exceeds the limit",
                    str(self.path),
                )
                return False
            if self._compressed and kind == "file":
                # Listing a .tar.gz decompresses every member to reach the next header: stop
                # before a member whose declared size would make this a decompression bomb.
                declared += member.size
                if declared > budget:
                    self._stop(
                        LimitExceededError,
                        f"members up to this one declare {declared} bytes from "
                        f"{self._archive_size} compressed: exceeds the ratio limit of "
                        f"{MAX_COMPRESSION_RATIO}",
                        f"{self.path}!{name}",
                    )
                    return False
            elif not self._compressed and member.offset_data + member.size > self._archive_size:
                self._stop(
                    InvalidInputError,
                    f"entry needs {member.size} bytes at byte {member.offset_data} but the "
                    f"archive ends at byte {self._archive_size} (truncated)",
                    f"{self.path}!{name}",
                )
                return False

    def _check_end(self) -> None:
        """The listing ended: insist on an end-of-archive marker, then measure the tail."""
        reason = self._tar.end_reason
        if not isinstance(reason, _END_MARKER):
            what = (
                "no end-of-archive marker (truncated)"
                if isinstance(reason, _NO_HEADER)
                else f"an unreadable header ({reason})"
            )
            self._stop(
                InvalidInputError,
                f"the archive ends with {what} at byte {self._tar.offset}",
                str(self.path),
            )
            return
        # Positioned right after the first zero block of the marker: all that follows must be
        # zero padding (in the tar stream) and, for .tar.gz, nothing may follow the gzip stream.
        fileobj = self._tar.fileobj
        assert fileobj is not None
        tail = 0
        first_data: int | None = None
        try:
            while tail <= MAX_TAIL_SCAN and (chunk := fileobj.read(SCAN_CHUNK)):
                if first_data is None and chunk.count(0) != len(chunk):
                    first_data = tail + len(chunk) - len(chunk.lstrip(b"\x00"))
                tail += len(chunk)
        except (*_READ_ERRORS, struct.error):
            # Only a gzip stream fails here: garbage after it, or it is truncated or corrupt.
            garbage, problem = _gzip_garbage(self.path)
            if problem:
                self._stop(InvalidInputError, problem, str(self.path))
                return
            self._hidden = garbage + (tail - first_data if first_data is not None else 0)
            return
        if first_data is not None:
            self._hidden = tail - first_data
        elif tail > MAX_TAIL_SCAN:
            self._hidden = tail

    def open(self, name: str) -> IO[bytes]:
        """Stream one regular member."""
        where = f"{self.path}!{name}"
        if name not in self._safe_files():
            raise InvalidInputError("no such safe file in the bundle", path=where)
        try:
            handle = self._tar.extractfile(self._members[name])
        except (*_READ_ERRORS, struct.error) as exc:
            raise InvalidInputError(f"cannot read entry: {exc}", path=where) from exc
        if handle is None:
            raise InvalidInputError("entry has no data", path=where)
        return _guarded(handle, where)

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Members of an uncompressed tar lie in place after their header."""
        member = self._members.get(name)
        if self._compressed or member is None or name not in self._safe_files():
            return None
        return (str(self.path), member.offset_data, member.size)

    def trailing_bytes(self) -> int:
        """Non-zero bytes after the end-of-archive marker, or after the gzip stream."""
        return self._hidden

    def close(self) -> None:
        """Close the archive."""
        self._tar.close()


def _tar_kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return "symlink"
    if member.islnk():
        return "hardlink"
    if member.isdir():
        return "dir"
    if member.issparse():
        return "other"  # holes read back as zeros: a small member that expands; never ours
    if member.isreg():
        return "file"
    if member.isdev() or member.isfifo():
        return "device"
    return "other"


def _gzip_garbage(path: Path) -> tuple[int, str | None]:
    """Walk the gzip members of ``path``: bytes after the last one that are not zero padding.

    Returns ``(hidden bytes, None)``, or ``(0, reason)`` when a member is truncated or corrupt.
    Output is discarded in bounded steps, so a bomb costs time in proportion, never memory.
    Zero bytes between or after members are padding, as :mod:`gzip` reads them.
    """
    size = path.stat().st_size
    with path.open("rb") as handle:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending = b""
        while True:
            if not pending:
                pending = handle.read(SCAN_CHUNK)
                if not pending:
                    return 0, "the gzip stream is truncated"
            try:
                decompressor.decompress(pending, SCAN_CHUNK)
            except zlib.error as exc:
                return 0, f"the gzip stream is corrupt: {exc}"
            if not decompressor.eof:
                pending = decompressor.unconsumed_tail
                continue
            pending = decompressor.unused_data.lstrip(b"\x00")
            while not pending:
                chunk = handle.read(SCAN_CHUNK)
                if not chunk:
                    return 0, None
                pending = chunk.lstrip(b"\x00")
            if len(pending) < len(_GZIP_MAGIC):
                pending += handle.read(len(_GZIP_MAGIC))
            if not pending.startswith(_GZIP_MAGIC):
                return size - handle.tell() + len(pending), None
            decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)


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
