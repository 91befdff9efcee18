"""PNG charts as PDF image XObjects, decoded with zlib alone (no imaging library).

docs/report-signature.md, "Images": the frozen build carries neither Pillow nor numpy, so a PNG
(ISO/IEC 15948) is read here: 8-bit greyscale or RGB, with or without alpha, not interlaced
(what matplotlib writes). The colour becomes a /FlateDecode image; an alpha channel becomes its
soft mask (/SMask), so a transparent chart shows the page through it.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

from auditlens.core.errors import InvalidInputError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A chart is a few megapixels; the limit keeps a corrupt header from asking for gigabytes.
MAX_PIXELS = 40_000_000
# Colour type -> (channels, has alpha) for the 8-bit types read here (ISO/IEC 15948 §11.2.2).
_COLOUR_TYPES = {0: (1, False), 2: (3, False), 4: (2, True), 6: (4, True)}


@dataclass(frozen=True)
class DecodedPng:
    """The pixels of a PNG split for PDF: colour samples (1 or 3 per pixel) and alpha, if any."""

    width: int
    height: int
    colours: int
    colour: bytes
    alpha: bytes | None


def decode_png(data: bytes, where: str = "image") -> DecodedPng:
    """Decode an 8-bit, non-interlaced greyscale or RGB(A) PNG.

    Raises:
        InvalidInputError: for anything else, or a damaged file, naming what was found.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise InvalidInputError(f"{where}: not a PNG file")
    at = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    idat = bytearray()
    while at + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, at)
        chunk = data[at + 8 : at + 8 + length]
        if len(chunk) != length:
            raise InvalidInputError(f"{where}: PNG chunk {kind!r} at byte {at} is cut short")
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
        at += 12 + length
    if header is None:
        raise InvalidInputError(f"{where}: PNG without an IHDR chunk")
    width, height, depth, colour_type, _compression, _filter, interlace = header
    if depth != 8 or colour_type not in _COLOUR_TYPES or interlace:
        raise InvalidInputError(
            f"{where}: PNG of bit depth {depth}, colour type {colour_type}, interlace {interlace};"
            " expected 8-bit greyscale or RGB, with or without alpha, not interlaced"
        )
    if not 0 < width * height <= MAX_PIXELS:
        raise InvalidInputError(f"{where}: PNG of {width}x{height} pixels (limit {MAX_PIXELS})")
    channels, has_alpha = _COLOUR_TYPES[colour_type]
    try:
        filtered = zlib.decompress(bytes(idat))
    except zlib.error as exc:
        raise InvalidInputError(f"{where}: PNG image data is damaged: {exc}") from exc
    stride = width * channels
    if len(filtered) != (stride + 1) * height:
        raise InvalidInputError(
            f"{where}: PNG image data holds {len(filtered)} bytes, expected {(stride + 1) * height}"
        )
    pixels = _unfilter(filtered, stride, channels, height, where)
    if not has_alpha:
        return DecodedPng(width, height, channels, pixels, None)
    colours = channels - 1
    colour = bytearray(width * height * colours)
    for c in range(colours):
        colour[c::colours] = pixels[c::channels]
    alpha = pixels[colours::channels]
    return DecodedPng(width, height, colours, bytes(colour), bytes(alpha))


def _unfilter(data: bytes, stride: int, bpp: int, height: int, where: str) -> bytes:
    """Undo the per-row filters (ISO/IEC 15948 §9.2) and return the bare samples."""
    out = bytearray(stride * height)
    previous = bytearray(stride)
    for row in range(height):
        kind = data[row * (stride + 1)]
        line = bytearray(data[row * (stride + 1) + 1 : (row + 1) * (stride + 1)])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                if i >= bpp:
                    a, c = line[i - bpp], previous[i - bpp]
                else:
                    a = c = 0
                b = previous[i]
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 0xFF
        elif kind != 0:
            raise InvalidInputError(f"{where}: PNG row {row} has unknown filter type {kind}")
        out[row * stride : (row + 1) * stride] = line
        previous = line
    return bytes(out)
