"""TrueType fonts for the PDF writer: character lookup, advance widths and subsets.

docs/report-signature.md, "Fonts": the report embeds DejaVu Sans, DejaVu Sans Bold and DejaVu Sans
Mono (shipped with matplotlib) and, for a character none of them has, the Last Resort font, whose
glyph names the Unicode block of the character (a visible box, never a silent gap). Only the
glyphs a report uses are embedded: a subset keeps the original glyph ids (the glyphs left out are
empty), so a glyph id read here is the glyph id in the embedded font.

This is a reader of the few tables a PDF needs (``cmap`` formats 4, 12 and 13, ``head``,
``hhea``, ``maxp``, ``hmtx``, ``loca``, ``glyf``), not a general font library: fontTools'
subsetter would bring some 10 MB of modules into a frozen build held under 250 MB.
"""

from __future__ import annotations

import bisect
import hashlib
import importlib.util
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

from auditlens.core.errors import Error


class FontError(Error):
    """A font the report needs cannot be read."""


# The fonts, by role; each role falls back along its chain (first font that has the character).
SANS = "DejaVuSans.ttf"
SANS_BOLD = "DejaVuSans-Bold.ttf"
MONO = "DejaVuSansMono.ttf"
LAST_RESORT = "LastResortHE-Regular.ttf"
CHAINS: dict[str, tuple[str, ...]] = {
    "regular": (SANS, LAST_RESORT),
    "bold": (SANS_BOLD, SANS, LAST_RESORT),
    "mono": (MONO, SANS, LAST_RESORT),
}
REPLACEMENT = "\ufffd"


def font_dir() -> Path:
    """The folder of matplotlib's TrueType fonts, found without importing matplotlib.

    Importing matplotlib loads numpy; the frozen build carries the font files at the same place
    under ``sys._MEIPASS`` (packaging/auditlens.spec).
    """
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "matplotlib" / "mpl-data" / "fonts" / "ttf"
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontError("matplotlib is not installed: its DejaVu fonts are needed for a PDF")
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


def _u16(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">H", data, at)[0])


def _i16(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">h", data, at)[0])


def _u32(data: bytes, at: int) -> int:
    return int(struct.unpack_from(">I", data, at)[0])


class _Cmap:
    """Character to glyph id, from a format 4, 12 or 13 subtable."""

    def __init__(self, data: bytes, where: str) -> None:
        count = _u16(data, 2)
        subtables: dict[tuple[int, int], int] = {}
        for i in range(count):
            platform, encoding, offset = struct.unpack_from(">HHI", data, 4 + 8 * i)
            subtables[(platform, encoding)] = offset
        # Full Unicode first (3,10 / 0,4 / 0,6 for format 13), then the BMP (3,1 / 0,3).
        for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3)):
            if key in subtables:
                offset = subtables[key]
                break
        else:
            raise FontError(f"{where}: no Unicode cmap subtable")
        self.format = _u16(data, offset)
        self.starts: list[int] = []
        self.ends: list[int] = []
        if self.format in (12, 13):
            groups = _u32(data, offset + 12)
            self.glyphs: list[int] = []
            for i in range(groups):
                start, end, glyph = struct.unpack_from(">III", data, offset + 16 + 12 * i)
                self.starts.append(start)
                self.ends.append(end)
                self.glyphs.append(glyph)
        elif self.format == 4:
            segments = _u16(data, offset + 6) // 2
            ends_at = offset + 14
            starts_at = ends_at + 2 * segments + 2
            self._deltas_at = starts_at + 2 * segments
            self._ranges_at = self._deltas_at + 2 * segments
            self.ends = [_u16(data, ends_at + 2 * i) for i in range(segments)]
            self.starts = [_u16(data, starts_at + 2 * i) for i in range(segments)]
            self._data = data
        else:
            raise FontError(f"{where}: cmap format {self.format} is not read")

    def glyph(self, code: int) -> int:
        i = bisect.bisect_left(self.ends, code)
        if i >= len(self.ends) or code < self.starts[i]:
            return 0
        if self.format == 12:
            return self.glyphs[i] + code - self.starts[i]
        if self.format == 13:
            return self.glyphs[i]
        data = self._data
        delta = _i16(data, self._deltas_at + 2 * i)
        range_offset = _u16(data, self._ranges_at + 2 * i)
        if range_offset == 0:
            return (code + delta) & 0xFFFF
        at = self._ranges_at + 2 * i + range_offset + 2 * (code - self.starts[i])
        glyph = _u16(data, at)
        return (glyph + delta) & 0xFFFF if glyph else 0


@dataclass
class TrueTypeFont:
    """One TrueType font file: its metrics in PDF units (1/1000 em) and its glyphs."""

    name: str
    data: bytes
    tables: dict[str, tuple[int, int]]
    units_per_em: int
    glyph_count: int
    advances: list[int]
    cmap: _Cmap
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int
    italic_angle: float
    fixed_pitch: bool

    @classmethod
    def load(cls, path: Path) -> TrueTypeFont:
        """Read ``path``.

        Raises:
            FontError: when the file is missing or not a TrueType font with glyf outlines.
        """
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise FontError(f"cannot read font: {exc.strerror}", path=str(path)) from exc
        try:
            return cls._parse(path.stem, data)
        except (struct.error, IndexError, KeyError) as exc:
            raise FontError(f"not a readable TrueType font: {exc}", path=str(path)) from exc

    @classmethod
    def _parse(cls, name: str, data: bytes) -> TrueTypeFont:
        if data[:4] not in (b"\x00\x01\x00\x00", b"true"):
            raise FontError("not a TrueType (glyf) font", path=name)
        tables: dict[str, tuple[int, int]] = {}
        for i in range(_u16(data, 4)):
            tag, _checksum, offset, length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
            tables[tag.decode("latin-1")] = (offset, length)
        head = tables["head"][0]
        hhea = tables["hhea"][0]
        units = _u16(data, head + 18)
        scale = 1000 / units
        glyphs = _u16(data, tables["maxp"][0] + 4)
        metrics = _u16(data, hhea + 34)
        hmtx = tables["hmtx"][0]
        advances = [_u16(data, hmtx + 4 * i) for i in range(metrics)]
        advances += [advances[-1]] * (glyphs - metrics)
        cmap_at, cmap_len = tables["cmap"]
        os2 = tables.get("OS/2")
        cap = _i16(data, os2[0] + 88) if os2 and _u16(data, os2[0]) >= 2 else 0
        post = tables["post"][0]
        ascent = _i16(data, hhea + 4)
        return cls(
            name=name,
            data=data,
            tables=tables,
            units_per_em=units,
            glyph_count=glyphs,
            advances=advances,
            cmap=_Cmap(data[cmap_at : cmap_at + cmap_len], name),
            bbox=tuple(round(_i16(data, head + 36 + 2 * i) * scale) for i in range(4)),  # type: ignore[arg-type]
            ascent=round(ascent * scale),
            descent=round(_i16(data, hhea + 6) * scale),
            cap_height=round((cap or ascent) * scale),
            italic_angle=_i16(data, post + 4) + _u16(data, post + 6) / 65536,
            fixed_pitch=_u32(data, post + 12) != 0,
        )

    def glyph(self, char: str) -> int:
        """The glyph id of ``char``, 0 when the font has none."""
        return self.cmap.glyph(ord(char))

    def width(self, gid: int) -> float:
        """The advance width of glyph ``gid`` in 1/1000 em."""
        return self.advances[gid] * 1000 / self.units_per_em

    def subset(self, gids: set[int]) -> bytes:
        """A font program with the glyphs ``gids`` (and their components), ids unchanged.

        Glyphs left out keep their id with an empty outline; the glyph count stops at the
        highest id kept. ``cmap``, ``name`` and the layout tables are left out: a PDF addresses
        glyphs by id (ISO 32000-1 §9.9, the tables a CIDFontType2 program needs).
        """
        data = self.data
        long_loca = _i16(data, self.tables["head"][0] + 50) == 1
        loca_at = self.tables["loca"][0]
        glyf_at = self.tables["glyf"][0]

        def bounds(gid: int) -> tuple[int, int]:
            if long_loca:
                return _u32(data, loca_at + 4 * gid), _u32(data, loca_at + 4 * gid + 4)
            return 2 * _u16(data, loca_at + 2 * gid), 2 * _u16(data, loca_at + 2 * gid + 2)

        keep = {0}
        todo = [g for g in gids if 0 <= g < self.glyph_count]
        while todo:
            gid = todo.pop()
            if gid in keep and gid != 0:
                continue
            keep.add(gid)
            start, end = bounds(gid)
            if end - start >= 10 and _i16(data, glyf_at + start) < 0:
                todo.extend(g for g in _components(data, glyf_at + start + 10) if g not in keep)
        count = max(keep) + 1
        glyf = bytearray()
        loca = bytearray()
        for gid in range(count):
            loca += struct.pack(">I", len(glyf))
            if gid in keep:
                start, end = bounds(gid)
                glyf += data[glyf_at + start : glyf_at + end]
                glyf += b"\x00" * (-len(glyf) % 4)
        loca += struct.pack(">I", len(glyf))
        hmetrics = min(count, _u16(data, self.tables["hhea"][0] + 34))
        hmtx_at = self.tables["hmtx"][0]
        hmtx = bytearray(data[hmtx_at : hmtx_at + 4 * hmetrics])
        for gid in range(hmetrics, count):
            lsb_at = hmtx_at + 4 * _u16(data, self.tables["hhea"][0] + 34) + 2 * (gid - hmetrics)
            hmtx += data[lsb_at : lsb_at + 2]
        head = bytearray(self._table("head"))
        head[8:12] = b"\x00\x00\x00\x00"
        head[50:52] = struct.pack(">h", 1)
        hhea = bytearray(self._table("hhea"))
        hhea[34:36] = struct.pack(">H", hmetrics)
        maxp = bytearray(self._table("maxp"))
        maxp[4:6] = struct.pack(">H", count)
        post = bytearray(self._table("post")[:32])
        post[0:4] = struct.pack(">I", 0x00030000)
        out: dict[str, bytes] = {
            "head": bytes(head),
            "hhea": bytes(hhea),
            "maxp": bytes(maxp),
            "hmtx": bytes(hmtx),
            "loca": bytes(loca),
            "glyf": bytes(glyf),
            "post": bytes(post),
        }
        for tag in ("OS/2", "cvt ", "fpgm", "prep"):
            if tag in self.tables:
                out[tag] = self._table(tag)
        return _sfnt(out)

    def _table(self, tag: str) -> bytes:
        offset, length = self.tables[tag]
        return self.data[offset : offset + length]

    def subset_tag(self, gids: set[int]) -> str:
        """Six capital letters naming the subset (ISO 32000-1 §9.6.4): same glyphs, same tag."""
        digest = hashlib.sha256(self.name.encode() + str(sorted(gids)).encode()).digest()
        return "".join(chr(ord("A") + b % 26) for b in digest[:6])


def _components(data: bytes, at: int) -> list[int]:
    """The glyph ids a composite glyph (TrueType ``glyf``, composite description) refers to."""
    found = []
    while True:
        flags = _u16(data, at)
        found.append(_u16(data, at + 2))
        at += 4 + (4 if flags & 0x0001 else 2)
        if flags & 0x0008:
            at += 2
        elif flags & 0x0040:
            at += 4
        elif flags & 0x0080:
            at += 8
        if not flags & 0x0020:
            return found


def _checksum(table: bytes) -> int:
    padded = table + b"\x00" * (-len(table) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF


def _sfnt(tables: dict[str, bytes]) -> bytes:
    """An sfnt file of ``tables`` with directory, checksums and head.checkSumAdjustment."""
    tags = sorted(tables)
    count = len(tags)
    power = 1
    while power * 2 <= count:
        power *= 2
    search = power * 16
    header = struct.pack(
        ">IHHHH", 0x00010000, count, search, power.bit_length() - 1, count * 16 - search
    )
    offset = 12 + 16 * count
    directory = b""
    body = b""
    for tag in tags:
        table = tables[tag]
        directory += struct.pack(
            ">4sIII", tag.encode("latin-1"), _checksum(table), offset + len(body), len(table)
        )
        body += table + b"\x00" * (-len(table) % 4)
    font = bytearray(header + directory + body)
    head_at = offset + sum(
        len(tables[t]) + (-len(tables[t]) % 4) for t in tags[: tags.index("head")]
    )
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
    return bytes(font)


@dataclass
class FontSet:
    """The report's fonts, loaded once, and the choice of a font for each character."""

    fonts: dict[str, TrueTypeFont]
    _choice: dict[tuple[str, str], tuple[str, int, float]] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | None = None) -> FontSet:
        """The four fonts of :data:`CHAINS` from ``folder`` (matplotlib's by default)."""
        folder = folder or font_dir()
        names = (SANS, SANS_BOLD, MONO, LAST_RESORT)
        return cls({name: TrueTypeFont.load(folder / name) for name in names})

    def choose(self, char: str, role: str) -> tuple[str, int, float]:
        """The font, glyph id and advance (1/1000 em) that draw ``char`` in ``role``.

        A control character or a lone surrogate is drawn as U+FFFD (it still extracts as
        itself, docs/report-signature.md, "Fonts"); a character no font has is drawn with the
        Last Resort font's glyph for its block.
        """
        key = (char, role)
        found = self._choice.get(key)
        if found is not None:
            return found
        code = ord(char)
        shown = char
        if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000:
            shown = REPLACEMENT
        chain = CHAINS[role]
        for name in chain:
            font = self.fonts[name]
            gid = font.glyph(shown)
            if gid:
                break
        else:
            name = chain[-1]
            font = self.fonts[name]
            gid = font.glyph(REPLACEMENT)
        found = (name, gid, font.width(gid))
        self._choice[key] = found
        return found

    def width(self, text: str, role: str, size: float) -> float:
        """The width of ``text`` in points at ``size``."""
        choose = self.choose
        return sum(choose(c, role)[2] for c in text) * size / 1000
