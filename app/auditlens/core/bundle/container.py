"""Read-only access to a bundle in any of its containers: directory, .zip, .tar, .tar.gz.

Invariants:
    * Nothing is ever extracted or written: entries are read as streams.
    * Links, devices and names that are absolute or climb with ``..`` are listed (so they can be
      reported as ``UNSAFE_PATH``) but can never be opened.
    * The same bundle in any container reads the same bytes (docs/bundle-format.md §2).
"""

from __future__ import annotations

import io
import os
import stat
import struct
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from auditlens.core.errors import InvalidInputError, LimitExceededError

MAX_ENTRIES = 200_000  # a bundle has a handful of files; far more is an attack on the reader.
MAX_DEPTH = 16  # bundle paths are at most two levels deep.
MAX_COMPRESSION_RATIO = 200  # JSON compresses ~10-20x; a ratio beyond this is a bomb.
MIN_RATIO_CHECK_BYTES = 64 * 1024 * 1024  # tiny entries may compress absurdly well; don't care.


@dataclass(frozen=True)
class Entry:
    """One entry of a container as listed, before any judgement."""

    name: str
    size: int
    kind: str  # file, dir, symlink, hardlink, device, other
    compressed_size: int | None = None


def unsafe_reason(entry: Entry) -> str | None:
    """Why an entry must never be opened, or ``None`` when its name and type are safe."""
    name = entry.name
    if entry.kind not in ("file", "dir"):
        return f"entry is a {entry.kind}"
    if not name or "\x00" in name:
        return "empty name or NUL byte in the name"
    if "\\" in name:
        return "backslash in the name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute name"
    parts = PurePosixPath(name).parts
    if ".." in parts:
        return "name climbs out with '..'"
    if len(parts) > MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    return None


class Container:
    """Base of the three container readers."""

    kind = "container"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.entries: list[Entry] = []

    def files(self) -> dict[str, Entry]:
        """Safe regular-file entries by name (the first of duplicates)."""
        result: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.kind == "file" and unsafe_reason(entry) is None:
                result.setdefault(entry.name, entry)
        return result

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
        """Bytes hidden after the container's logical end (0 for directories)."""
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

    def _walk(self, folder: Path, prefix: str) -> None:
        try:
            scan = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise InvalidInputError(
                f"cannot list folder: {exc.strerror}", path=str(folder)
            ) from exc
        for item in scan:
            name = prefix + item.name
            if len(self.entries) >= MAX_ENTRIES:
                raise LimitExceededError(f"more than {MAX_ENTRIES} entries", path=str(self.path))
            info = item.stat(follow_symlinks=False)
            mode = info.st_mode
            if stat.S_ISLNK(mode):
                self.entries.append(Entry(name, 0, "symlink"))
            elif stat.S_ISDIR(mode):
                self.entries.append(Entry(name + "/", 0, "dir"))
                if name.count("/") < MAX_DEPTH:
                    self._walk(Path(item.path), name + "/")
            elif stat.S_ISREG(mode):
                kind = "hardlink" if info.st_nlink > 1 else "file"
                self.entries.append(Entry(name, info.st_size, kind))
            else:
                self.entries.append(Entry(name, 0, "device"))

    def _local(self, name: str) -> Path:
        if name not in self.files():
            raise InvalidInputError("no such safe file in the bundle", path=f"{self.path}/{name}")
        return self.path / name

    def open(self, name: str) -> IO[bytes]:
        """Open the file read-only without following a final symlink."""
        local = self._local(name)
        fd = os.open(local, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Files of a directory are always local and uncompressed."""
        entry = self.files().get(name)
        return (str(self._local(name)), 0, entry.size) if entry else None


class ZipContainer(Container):
    """A bundle in a .zip archive (stored or deflated)."""

    kind = "zip"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InvalidInputError(f"not a readable zip archive: {exc}", path=str(path)) from exc
        infos = self._zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise LimitExceededError(f"more than {MAX_ENTRIES} entries", path=str(path))
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                kind = "symlink"
            elif info.is_dir():
                kind = "dir"
            elif mode and not stat.S_ISREG(mode):
                kind = "device"
            else:
                kind = "file"
            self.entries.append(Entry(info.filename, info.file_size, kind, info.compress_size))
            self._infos.setdefault(info.filename, info)

    def open(self, name: str) -> IO[bytes]:
        """Stream one entry, refusing a decompression bomb."""
        if name not in self.files():
            raise InvalidInputError("no such safe file in the bundle", path=f"{self.path}!{name}")
        info = self._infos[name]
        if info.file_size > MIN_RATIO_CHECK_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
            info.compress_size, 1
        ):
            raise LimitExceededError(
                f"entry claims {info.file_size} bytes from {info.compress_size} compressed "
                f"(ratio above {MAX_COMPRESSION_RATIO})",
                path=f"{self.path}!{name}",
            )
        try:
            return self._zip.open(info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            raise InvalidInputError(
                f"cannot read entry: {exc}", path=f"{self.path}!{name}"
            ) from exc

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Stored entries can be read in place: offset after the local header."""
        info = self._infos.get(name)
        if info is None or info.compress_type != zipfile.ZIP_STORED or name not in self.files():
            return None
        with self.path.open("rb") as handle:
            handle.seek(info.header_offset)
            header = handle.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return (str(self.path), info.header_offset + 30 + name_len + extra_len, info.file_size)

    def trailing_bytes(self) -> int:
        """Length of the archive comment: data hidden where no entry lists it."""
        return len(self._zip.comment)

    def close(self) -> None:
        """Close the archive."""
        self._zip.close()


class TarContainer(Container):
    """A bundle in a .tar or .tar.gz archive."""

    kind = "tar"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            self._tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by close()
            members = []
            for member in self._tar:
                members.append(member)
                if len(members) > MAX_ENTRIES:
                    raise LimitExceededError(f"more than {MAX_ENTRIES} entries", path=str(path))
        except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
            raise InvalidInputError(f"not a readable tar archive: {exc}", path=str(path)) from exc
        self._compressed = not isinstance(self._tar.fileobj, io.BufferedReader)
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            if member.issym():
                kind = "symlink"
            elif member.islnk():
                kind = "hardlink"
            elif member.isdir():
                kind = "dir"
            elif member.isreg():
                kind = "file"
            elif member.isdev() or member.isfifo():
                kind = "device"
            else:
                kind = "other"
            name = member.name + ("/" if kind == "dir" and not member.name.endswith("/") else "")
            self.entries.append(Entry(name, member.size, kind))
            self._members.setdefault(name, member)

    def open(self, name: str) -> IO[bytes]:
        """Stream one regular member."""
        if name not in self.files():
            raise InvalidInputError("no such safe file in the bundle", path=f"{self.path}!{name}")
        handle = self._tar.extractfile(self._members[name])
        if handle is None:
            raise InvalidInputError("entry has no data", path=f"{self.path}!{name}")
        return handle

    def region(self, name: str) -> tuple[str, int, int] | None:
        """Members of an uncompressed tar lie in place after their header."""
        member = self._members.get(name)
        if self._compressed or member is None or name not in self.files():
            return None
        return (str(self.path), member.offset_data, member.size)

    def close(self) -> None:
        """Close the archive."""
        self._tar.close()


def open_container(path: Path) -> Container:
    """Open a bundle container by what it is, not by its name.

    Raises:
        InvalidInputError: when the path is none of the supported containers.
    """
    if path.is_symlink():
        raise InvalidInputError(
            "the bundle path is a symbolic link; give its target", path=str(path)
        )
    if path.is_dir():
        return DirectoryContainer(path)
    if not path.is_file():
        raise InvalidInputError("no such file or folder", path=str(path))
    with path.open("rb") as handle:
        head = handle.read(262)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return ZipContainer(path)
    if head.startswith(b"\x1f\x8b") or head[257:262] == b"ustar":
        return TarContainer(path)
    raise InvalidInputError(
        "not a bundle: neither a folder, a zip nor a tar archive", path=str(path)
    )


def iter_file_chunks(handle: IO[bytes], size: int = 8 << 20) -> Iterator[bytes]:
    """Yield a stream's bytes in chunks."""
    while chunk := handle.read(size):
        yield chunk
