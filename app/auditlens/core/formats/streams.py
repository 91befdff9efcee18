"""Opening evidence files: zstd or gzip decompression within limits, lines within limits.

Every format reads its input through :func:`open_decompressed` (a whole file compressed with zstd
or gzip is read as what it decompresses to, bounded in size and ratio against decompression
bombs, and a zstd stream cut inside a frame is refused as truncated) and, for text formats,
:func:`iter_lines` (no line beyond :data:`~auditlens.core.formats.jsontext.MAX_JSON_LINE`).
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from auditlens.core.errors import InvalidInputError, LimitExceededError
from auditlens.core.formats.jsontext import MAX_JSON_LINE

MAX_DECOMPRESSED = 64 * 1024 * 1024 * 1024  # 64 GiB: stops a decompression bomb.
# The ratio limit of an archive's entries (bundle/container.py, which sits above this package):
# tests/core/formats/test_formats.py holds the two equal.
MAX_COMPRESSION_RATIO = 200  # JSON compresses ~10-20x; a ratio beyond this is a bomb.
MIN_RATIO_CHECK_BYTES = 64 * 1024 * 1024  # tiny inputs may compress absurdly well; don't care.

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZSTD_SKIPPABLE = b"\x2a\x4d\x18"  # bytes 1-3 of a skippable frame's magic (byte 0 is 0x5?)
_GZIP_MAGIC = b"\x1f\x8b"


def _is_skippable(head: bytes) -> bool:
    return len(head) >= 4 and head[0] & 0xF0 == 0x50 and head[1:4] == _ZSTD_SKIPPABLE


class _ZstdFrames:
    """Follows the frame and block structure of zstd data as it is read (RFC 8878 §3.1).

    zstandard's stream reader returns what it decoded and then end-of-data when its input stops
    inside a frame, without an error; a file cut at a block boundary then reads as whole lines.
    Block headers give each block's stored size, so following them needs no decompression: the
    data is complete only if it ends exactly after the last block (and checksum) of a frame.
    """

    _MAGIC, _SKIPPABLE_SIZE, _DESCRIPTOR, _BLOCK = range(4)

    def __init__(self) -> None:
        self._state = self._MAGIC
        self._need = 4  # bytes of the next header to gather
        self._header = bytearray()
        self._skip = 0  # bytes to pass over (block contents, skippable frames)
        self._checksum = False
        self.position = 0  # compressed bytes seen
        self.problem: str | None = None  # set when the data is not a zstd stream

    def feed(self, data: bytes) -> None:
        """Account for the next compressed bytes."""
        view = memoryview(data)
        at = 0
        while at < len(view) and self.problem is None:
            if self._skip:
                step = min(self._skip, len(view) - at)
                self._skip -= step
                at += step
                continue
            take = min(self._need - len(self._header), len(view) - at)
            self._header += view[at : at + take]
            at += take
            if len(self._header) == self._need:
                header = bytes(self._header)
                self._header.clear()
                self._advance(header, self.position + at - len(header))
        self.position += len(view)

    def _advance(self, header: bytes, offset: int) -> None:
        if self._state == self._MAGIC:
            if header == _ZSTD_MAGIC:
                self._state, self._need = self._DESCRIPTOR, 1
            elif _is_skippable(header):
                self._state, self._need = self._SKIPPABLE_SIZE, 4
            else:
                self.problem = f"data at byte {offset} is not a zstd frame"
        elif self._state == self._SKIPPABLE_SIZE:
            self._skip = int.from_bytes(header, "little")
            self._state, self._need = self._MAGIC, 4
        elif self._state == self._DESCRIPTOR:
            descriptor = header[0]
            single_segment = descriptor >> 5 & 1
            self._checksum = bool(descriptor >> 2 & 1)
            window = 0 if single_segment else 1
            dictionary = (0, 1, 2, 4)[descriptor & 3]
            content_size = (single_segment, 2, 4, 8)[descriptor >> 6]
            self._skip = window + dictionary + content_size
            self._state, self._need = self._BLOCK, 3
        else:
            value = int.from_bytes(header, "little")
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            self._skip = 1 if kind == 1 else size  # an RLE block stores its one byte
            if last:
                self._skip += 4 if self._checksum else 0
                self._state, self._need = self._MAGIC, 4

    def check_complete(self, path: str) -> None:
        """Raise unless the data seen so far ends exactly at the end of a frame.

        Raises:
            InvalidInputError: naming ``path`` and saying where the data stops.
        """
        if self.problem is not None:
            raise InvalidInputError(self.problem, path=path)
        if self._state != self._MAGIC or self._header or self._skip:
            raise InvalidInputError(
                f"zstd data ends inside a frame after {self.position} bytes (truncated)",
                path=path,
            )


class _ObservedFile(io.RawIOBase):
    """A file whose bytes, as they are read, are shown to a :class:`_ZstdFrames`."""

    def __init__(self, inner: IO[bytes], frames: _ZstdFrames) -> None:
        self._inner = inner
        self._frames = frames

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._frames.feed(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


class _BoundedReader(io.RawIOBase):
    """Caps how many bytes may be decompressed (decompression bombs), and checks the end.

    Two limits, whichever is lower: :data:`MAX_DECOMPRESSED` in all, and
    :data:`MAX_COMPRESSION_RATIO` times the compressed size (past
    :data:`MIN_RATIO_CHECK_BYTES`), as for an archive's entries: evidence compresses about
    10-20 times, and without the ratio a small bomb would keep an import busy for hours before
    reaching the total. Both are enforced while reading, never trusted from a header.
    """

    def __init__(
        self,
        inner: IO[bytes],
        *,
        path: str,
        compressed: int,
        frames: _ZstdFrames | None = None,
        underlying: IO[bytes] | None = None,
    ) -> None:
        self._inner = inner
        self._underlying = underlying  # the file, when closing ``inner`` leaves it open
        self._path = path
        self._compressed = compressed
        self._frames = frames
        self._total = 0
        limit = MAX_DECOMPRESSED  # read now: tests lower the module's value
        budget = max(MIN_RATIO_CHECK_BYTES, MAX_COMPRESSION_RATIO * compressed)
        self._limit = min(limit, budget)
        self._by_ratio = budget < limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(min(len(buffer), 1 << 20))
        if not data and self._frames is not None:
            self._frames.check_complete(self._path)
        self._total += len(data)
        if self._total > self._limit:
            message = f"decompresses to more than {self._limit} bytes"
            if self._by_ratio:
                message += (
                    f" from {self._compressed} compressed: exceeds the ratio limit of "
                    f"{MAX_COMPRESSION_RATIO}"
                )
            raise LimitExceededError(message, path=self._path)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        if self._underlying is not None:
            self._underlying.close()
        super().close()


def open_decompressed(path: Path) -> IO[bytes]:
    """Open ``path`` read-only, transparently decompressing zstd or gzip, within limits.

    Decompressed data is bounded in size and by its compression ratio (:class:`_BoundedReader`);
    zstd data that stops inside a frame is reported as truncated when its end is read.
    """
    raw = path.open("rb")
    try:
        head = raw.read(4)
        raw.seek(0)
        compressed = os.fstat(raw.fileno()).st_size
    except BaseException:
        raw.close()
        raise
    inner: IO[bytes]
    frames = None
    if head.startswith(_ZSTD_MAGIC) or _is_skippable(head):
        import zstandard

        frames = _ZstdFrames()
        inner = zstandard.ZstdDecompressor().stream_reader(
            io.BufferedReader(_ObservedFile(raw, frames), 1 << 17),
            read_across_frames=True,
            closefd=True,
        )
    elif head.startswith(_GZIP_MAGIC):
        inner = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
    else:
        return raw
    reader = _BoundedReader(
        inner, path=str(path), compressed=compressed, frames=frames, underlying=raw
    )
    return io.BufferedReader(reader, 1 << 20)


def iter_lines(
    stream: IO[bytes], *, path: str, limit: int = MAX_JSON_LINE, keep_endings: bool = False
) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line_number, line)``, without the line ending unless kept; no over-long line."""
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            raise LimitExceededError(f"line longer than {limit} bytes", path=path, line=number)
        yield number, line if keep_endings else line.rstrip(b"\r\n")


class Prepend(io.RawIOBase):
    """A stream that reads ``head`` first, then the rest of another stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        """Always: it is read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` from the head, then from the rest."""
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
