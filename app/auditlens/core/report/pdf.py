"""The PDF form of a report: a small PDF 1.7 writer of our own (docs/report-signature.md).

Invariants the writer keeps, and tests check:

- A4 pages; every page carries the running header (``Document.header``) and a foot with the
  document's footer text and "page N of M".
- Text is drawn with embedded subsets of TrueType fonts as CIDFontType2 / Identity-H, each with a
  ToUnicode CMap, so that every character drawn can be extracted and searched as itself. A
  character none of the fonts has is drawn with the Last Resort glyph of its block (a visible
  box) and still extracts as itself (pdf_font.py).
- Tones are shown in colour; the words that say the same are already in the text
  (core/report/document.py, ``Tone``).
- The same document gives the same bytes: no clock is read, objects are numbered in drawing
  order, and the file identifier (/ID) is a hash of the content. A signed report differs only by
  its signature (pdfsign.py).
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditlens import __version__
from auditlens.core.report.document import Cell, Document, Heading, Image, PageBreak, Paragraph
from auditlens.core.report.document import Table as TableBlock
from auditlens.core.report.pdf_font import FontSet
from auditlens.core.report.pdf_png import decode_png

if TYPE_CHECKING:
    from auditlens.core.report.pdfsign import ReportSigner

# A4 in points (ISO 216: 210 x 297 mm) and the page's frame.
PAGE_W = 595.276
PAGE_H = 841.89
MARGIN_X = 56.7  # 20 mm
BODY_TOP = PAGE_H - 64
BODY_BOTTOM = 64
HEADER_BASELINE = PAGE_H - 38
FOOTER_BASELINE = 34
TEXT_W = PAGE_W - 2 * MARGIN_X

BODY_SIZE = 9.5
MONO_SIZE = 8.5
TABLE_SIZE = 8.0
CELL_PAD = 3.0
# Cell words kept whole when the columns leave room (a verdict, a sequence range, an RFC 3339
# time), else the shorter ones; longer words (digests, paths) are cut to fit. Measured over the
# first WORD_ROWS rows: a table of 100,000 bookmarks is not measured word by word.
WHOLE_WORD = 24
SHORT_WORD = 12
WORD_ROWS = 500
LEADING = 1.32  # line height as a multiple of the font size

Colour = tuple[float, float, float]
BLACK: Colour = (0.0, 0.0, 0.0)
GREY: Colour = (0.38, 0.38, 0.38)
RULE: Colour = (0.62, 0.62, 0.62)
HEADER_FILL: Colour = (0.88, 0.89, 0.91)
# The tone's text colour and its cell or bar fill (document.py, Tone).
TONE_TEXT: dict[str, Colour] = {
    "plain": BLACK,
    "good": (0.0, 0.42, 0.18),
    "bad": (0.74, 0.05, 0.05),
    "warn": (0.60, 0.36, 0.0),
}
TONE_FILL: dict[str, Colour | None] = {
    "plain": None,
    "good": (0.89, 0.96, 0.91),
    "bad": (0.99, 0.89, 0.89),
    "warn": (0.99, 0.95, 0.84),
}
_TOKENS = re.compile(r"\S+|\s+")


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _rgb(colour: Colour, stroke: bool = False) -> str:
    return " ".join(_num(c) for c in colour) + (" RG" if stroke else " rg")


@dataclass
class _FontUse:
    """One font as the document uses it: its resource name and the characters drawn with it.

    Each distinct character gets its own CID, mapped to its glyph by /CIDToGIDMap: the ToUnicode
    CMap can then name every character, even two drawn with one glyph (two ideographs shown as
    the Last Resort box, a control character and U+FFFD).
    """

    resource: str
    cids: dict[str, int] = field(default_factory=dict)
    gids: list[int] = field(default_factory=lambda: [0])
    widths: list[float] = field(default_factory=lambda: [0.0])


class _Canvas:
    """Pages of content-stream operators, and the fonts and images they use."""

    def __init__(self, fonts: FontSet) -> None:
        self.fonts = fonts
        self.used: dict[str, _FontUse] = {}
        self.pages: list[list[str]] = []
        self.current = -1  # the page emit() draws on
        self.images: list[tuple[str, bytes]] = []  # resource name, PNG bytes
        # Headings for the document outline: level, text, page index, top of the heading.
        self.outline: list[tuple[int, str, int, float]] = []

    def new_page(self) -> None:
        self.pages.append([])
        self.current = len(self.pages) - 1

    def emit(self, op: str) -> None:
        self.pages[self.current].append(op)

    def _cid(self, char: str, font: str, gid: int, width: float) -> int:
        use = self.used.get(font)
        if use is None:
            use = self.used[font] = _FontUse(f"F{len(self.used) + 1}")
        cid = use.cids.get(char)
        if cid is None:
            cid = len(use.gids)
            if cid > 0xFFFF:
                raise ValueError(f"more than 65,535 distinct characters in font {font}")
            use.cids[char] = cid
            use.gids.append(gid)
            use.widths.append(width)
        return cid

    def text(self, x: float, y: float, text: str, role: str, size: float, colour: Colour) -> None:
        """Draw ``text`` on one line with its baseline at ``y``."""
        if not text:
            return
        parts = [f"BT {_rgb(colour)} 1 0 0 1 {_num(x)} {_num(y)} Tm"]
        current = ""
        hexes: list[str] = []
        for char in text:
            font, gid, width = self.fonts.choose(char, role)
            cid = self._cid(char, font, gid, width)
            if font != current:
                if hexes:
                    parts.append(f"<{''.join(hexes)}> Tj")
                    hexes = []
                parts.append(f"/{self.used[font].resource} {_num(size)} Tf")
                current = font
            hexes.append(f"{cid:04X}")
        parts.append(f"<{''.join(hexes)}> Tj ET")
        self.emit(" ".join(parts))

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        fill: Colour | None = None,
        stroke: Colour | None = None,
    ) -> None:
        """A rectangle with its lower left corner at (x, y)."""
        box = f"{_num(x)} {_num(y)} {_num(w)} {_num(h)} re"
        if fill and stroke:
            self.emit(f"{_rgb(fill)} {_rgb(stroke, True)} 0.5 w {box} B")
        elif fill:
            self.emit(f"{_rgb(fill)} {box} f")
        elif stroke:
            self.emit(f"{_rgb(stroke, True)} 0.5 w {box} S")

    def line(self, x1: float, y1: float, x2: float, y2: float, colour: Colour) -> None:
        self.emit(f"{_rgb(colour, True)} 0.5 w {_num(x1)} {_num(y1)} m {_num(x2)} {_num(y2)} l S")

    def image(self, png: bytes, x: float, y: float, w: float, h: float) -> None:
        name = f"Im{len(self.images) + 1}"
        self.images.append((name, png))
        self.emit(f"q {_num(w)} 0 0 {_num(h)} {_num(x)} {_num(y)} cm /{name} Do Q")


class _Layout:
    """Flows the blocks of a document down the pages."""

    def __init__(self, canvas: _Canvas) -> None:
        self.canvas = canvas
        self.fonts = canvas.fonts
        self.y = BODY_TOP
        canvas.new_page()

    # -- text measure -------------------------------------------------------------------------

    def wrap(self, text: str, role: str, size: float, width: float) -> list[str]:
        """Lines of ``text`` no wider than ``width``: at spaces, else within a word."""
        lines: list[str] = []
        for paragraph in text.replace("\r\n", "\n").split("\n"):
            lines.extend(self._wrap_one(paragraph.replace("\t", "    "), role, size, width))
        return lines

    def _wrap_one(self, text: str, role: str, size: float, width: float) -> list[str]:
        measure = self.fonts.width
        if measure(text, role, size) <= width:
            return [text]
        lines: list[str] = []
        line = ""
        line_w = 0.0
        for token in _TOKENS.findall(text):
            token_w = measure(token, role, size)
            if line_w + token_w <= width:
                line += token
                line_w += token_w
                continue
            if token.isspace():
                lines.append(line)
                line, line_w = "", 0.0
                continue
            if line.strip():
                lines.append(line.rstrip())
            line, line_w = "", 0.0
            for piece in self._split_word(token, role, size, width):
                if line:
                    lines.append(line)
                line = piece
                line_w = measure(piece, role, size)
        lines.append(line.rstrip() if line.strip() else line)
        return lines

    def _split_word(self, word: str, role: str, size: float, width: float) -> Iterator[str]:
        """A word wider than a line (a digest, a URL) cut into pieces that fit."""
        piece = ""
        piece_w = 0.0
        for char in word:
            char_w = self.fonts.width(char, role, size)
            if piece and piece_w + char_w > width:
                yield piece
                piece, piece_w = "", 0.0
            piece += char
            piece_w += char_w
        if piece:
            yield piece

    # -- page flow ----------------------------------------------------------------------------

    @property
    def at_top(self) -> bool:
        return self.y >= BODY_TOP

    def new_page(self) -> None:
        self.canvas.new_page()
        self.y = BODY_TOP

    def room(self, height: float) -> bool:
        return self.y - height >= BODY_BOTTOM

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` fits below the cursor (or the page is empty)."""
        if not self.room(height) and not self.at_top:
            self.new_page()

    # -- blocks -------------------------------------------------------------------------------

    def heading(self, block: Heading) -> None:
        size = 14.0 if block.level <= 1 else 11.5
        before = 12.0 if block.level <= 1 else 8.0
        lines = self.wrap(block.text, "bold", size, TEXT_W)
        height = len(lines) * size * LEADING
        # Keep a heading with at least three lines of what follows it.
        self.need(before + height + 3 * BODY_SIZE * LEADING)
        if not self.at_top:
            self.y -= before
        self.canvas.outline.append((block.level, block.text, self.canvas.current, self.y))
        for line in lines:
            self.canvas.text(MARGIN_X, self.y - size, line, "bold", size, BLACK)
            self.y -= size * LEADING
        if block.level <= 1:
            self.canvas.line(MARGIN_X, self.y + 2, MARGIN_X + TEXT_W, self.y + 2, RULE)
        self.y -= 4

    def paragraph(self, block: Paragraph) -> None:
        role = "mono" if block.mono else "regular"
        size = MONO_SIZE if block.mono else BODY_SIZE
        leading = size * LEADING
        bar = TONE_TEXT[block.tone] if block.tone != "plain" else None
        indent = 8.0 if bar else 0.0
        for line in self.wrap(block.text, role, size, TEXT_W - indent):
            self.need(leading)
            if bar:
                self.canvas.rect(MARGIN_X, self.y - leading, 3, leading, fill=bar)
            self.canvas.text(
                MARGIN_X + indent, self.y - size, line, role, size, TONE_TEXT[block.tone]
            )
            self.y -= leading
        self.y -= 5

    def image(self, block: Image) -> None:
        scale = 72 / block.dpi if block.dpi > 0 else 0.75
        w = block.width_px * scale
        h = block.height_px * scale
        caption_h = TABLE_SIZE * LEADING + 4 if block.caption else 0.0
        fit = min(1.0, TEXT_W / w, (BODY_TOP - BODY_BOTTOM - caption_h) / h)
        w, h = w * fit, h * fit
        self.need(h + caption_h)
        self.canvas.image(block.png, MARGIN_X + (TEXT_W - w) / 2, self.y - h, w, h)
        self.y -= h + 4
        if block.caption:
            self.caption(block.caption)
        self.y -= 6

    def caption(self, text: str) -> None:
        size = TABLE_SIZE
        for line in self.wrap(text, "regular", size, TEXT_W):
            self.need(size * LEADING)
            self.canvas.text(MARGIN_X, self.y - size, line, "regular", size, GREY)
            self.y -= size * LEADING

    def table(self, block: TableBlock) -> None:
        columns = len(block.columns)
        if columns == 0:
            return
        widths = block.widths if len(block.widths) == columns else (1.0,) * columns
        if any(w <= 0 for w in widths):
            raise ValueError(f"table widths must be positive, found {widths}")
        col_w = self._column_widths(block.columns, widths, block.rows)
        col_x = [MARGIN_X + sum(col_w[:i]) for i in range(columns)]
        header = tuple(Cell(text) for text in block.columns)
        header_lines = self._cell_lines(header, col_w, bold=True)
        leading = TABLE_SIZE * LEADING
        header_h = max(len(lines) for lines in header_lines) * leading + 2 * CELL_PAD
        if not any(block.columns):
            header_h = 0.0  # a table of names and values has no header row to draw
        if header_h > (BODY_TOP - BODY_BOTTOM) / 2:
            # It is repeated on every page: a header this tall would leave no room for rows.
            raise ValueError(f"table header of {header_h:.0f} pt is taller than half a page")
        if block.caption:
            self.need(TABLE_SIZE * LEADING + header_h + 2 * leading)
            self.caption(block.caption)
            self.y -= 2
        self.need(header_h + leading + 2 * CELL_PAD)
        self._header(header, header_lines, col_x, col_w, header_h)
        for number, row in enumerate(block.rows):
            if len(row) != columns:
                raise ValueError(
                    f"table row {number} has {len(row)} cells, the table {columns} columns"
                )
            lines = self._cell_lines(row, col_w, bold=False)
            while True:
                height = max(len(cell) for cell in lines) * leading + 2 * CELL_PAD
                if self.room(height):
                    self._row(row, lines, col_x, col_w, height)
                    break
                fits = int((self.y - BODY_BOTTOM - 2 * CELL_PAD) // leading)
                if fits < 1 or not self._just_headed:
                    self.new_page()
                    self._header(header, header_lines, col_x, col_w, header_h)
                    continue
                # A row taller than a page: as many of its lines as fit, the rest overleaf.
                head = [cell[:fits] for cell in lines]
                self._row(row, head, col_x, col_w, fits * leading + 2 * CELL_PAD)
                lines = [cell[fits:] for cell in lines]
                self.new_page()
                self._header(header, header_lines, col_x, col_w, header_h)
        self.y -= 8

    _just_headed = False

    def _column_widths(
        self,
        columns: tuple[str, ...],
        widths: tuple[float, ...],
        rows: tuple[tuple[Cell, ...], ...] = (),
    ) -> list[float]:
        """Widths in points: relative ``widths``, each wide enough for its longest short word.

        A word cut between letters ("Exhibi t" in a header, "tampere d" or "1269-253 3" in a
        cell) reads badly; the room is taken from the columns that have more than they need, in
        proportion. Words up to WHOLE_WORD characters of the header and the cells are kept
        whole, else (too many columns) up to SHORT_WORD, else the header's; longer ones (digests,
        paths) are cut as they must. When even the header's cannot all fit, the relative widths
        stand.
        """
        total = sum(widths)
        col_w = [TEXT_W * w / total for w in widths]
        need: list[float] = []
        for limit in (WHOLE_WORD, SHORT_WORD, 0):
            need = [self._word_need(i, columns, rows, limit) for i in range(len(columns))]
            if sum(need) <= TEXT_W:
                break
        else:
            return col_w
        for _ in range(len(columns)):
            short = [i for i, w in enumerate(col_w) if w < need[i]]
            if not short:
                break
            missing = sum(need[i] - col_w[i] for i in short)
            spare = [i for i in range(len(col_w)) if i not in short]
            room = sum(col_w[i] - need[i] for i in spare)
            if room <= 0:
                break
            take = min(1.0, missing / room)
            for i in spare:
                col_w[i] -= (col_w[i] - need[i]) * take
            for i in short:
                col_w[i] = need[i]
        return col_w

    def _header(
        self,
        header: tuple[Cell, ...],
        lines: list[list[str]],
        col_x: list[float],
        col_w: list[float],
        height: float,
    ) -> None:
        if height:
            self._row(header, lines, col_x, col_w, height, header=True)
        else:
            self._just_headed = True

    def _word_need(
        self, i: int, columns: tuple[str, ...], rows: tuple[tuple[Cell, ...], ...], limit: int
    ) -> float:
        """Width column ``i`` needs for its header's words and its cells' words of <= limit."""
        widest = max(
            (self.fonts.width(w, "bold", TABLE_SIZE) for w in columns[i].split()), default=0.0
        )
        measured = set()
        for row in rows[:WORD_ROWS]:
            cell = row[i]
            role = "mono" if cell.mono else "regular"
            for word in cell.text.split():
                if len(word) <= limit and (word, role) not in measured:
                    measured.add((word, role))
                    widest = max(widest, self.fonts.width(word, role, TABLE_SIZE))
        return widest + 2 * CELL_PAD + 0.5

    def _cell_lines(
        self, row: tuple[Cell, ...], col_w: list[float], *, bold: bool
    ) -> list[list[str]]:
        out = []
        for cell, width in zip(row, col_w, strict=True):
            role = "bold" if bold else ("mono" if cell.mono else "regular")
            out.append(self.wrap(cell.text, role, TABLE_SIZE, width - 2 * CELL_PAD) or [""])
        return out

    def _row(
        self,
        row: tuple[Cell, ...],
        lines: list[list[str]],
        col_x: list[float],
        col_w: list[float],
        height: float,
        *,
        header: bool = False,
    ) -> None:
        canvas = self.canvas
        leading = TABLE_SIZE * LEADING
        bottom = self.y - height
        for cell, cell_lines, x, w in zip(row, lines, col_x, col_w, strict=True):
            fill = HEADER_FILL if header else TONE_FILL[cell.tone]
            canvas.rect(x, bottom, w, height, fill=fill, stroke=RULE)
            role = "bold" if header else ("mono" if cell.mono else "regular")
            colour = BLACK if header else TONE_TEXT[cell.tone]
            for i, text in enumerate(cell_lines):
                baseline = self.y - CELL_PAD - i * leading - TABLE_SIZE
                canvas.text(x + CELL_PAD, baseline, text, role, TABLE_SIZE, colour)
        self.y = bottom
        self._just_headed = header

    # -- running header and foot --------------------------------------------------------------

    def frame(self, header: str, footer: str) -> None:
        """Draw the running header and the foot on every page, now that the count is known."""
        canvas = self.canvas
        total = len(canvas.pages)
        size = 7.5
        head = self.wrap(header, "regular", size, TEXT_W)
        if len(head) > 2:
            head = [head[0], head[1].rstrip()[:-1] + "\u2026"]
        for number in range(1, total + 1):
            canvas.current = number - 1
            self._frame_page(head, footer, number, total, size)

    def _frame_page(
        self, head: list[str], footer: str, number: int, total: int, size: float
    ) -> None:
        canvas = self.canvas
        y = HEADER_BASELINE
        for line in head:
            canvas.text(MARGIN_X, y, line, "regular", size, GREY)
            y -= size * LEADING
        canvas.line(
            MARGIN_X, y + size * LEADING - 4, MARGIN_X + TEXT_W, y + size * LEADING - 4, RULE
        )
        label = f"page {number} of {total}"
        label_w = self.fonts.width(label, "regular", size)
        canvas.text(MARGIN_X + TEXT_W - label_w, FOOTER_BASELINE, label, "regular", size, GREY)
        canvas.line(MARGIN_X, FOOTER_BASELINE + 12, MARGIN_X + TEXT_W, FOOTER_BASELINE + 12, RULE)
        y = FOOTER_BASELINE
        for line in self.wrap(footer, "regular", size, TEXT_W - label_w - 12)[:2]:
            canvas.text(MARGIN_X, y, line, "regular", size, GREY)
            y -= size * LEADING


# -- the file ---------------------------------------------------------------------------------


@functools.cache
def _font_set() -> FontSet:
    # The fonts are read once per process: each report reuses them (and their glyph choices).
    return FontSet.load()


def render_pdf(doc: Document, *, signer: ReportSigner | None = None) -> bytes:
    """The report ``doc`` as PDF bytes; signed by ``signer`` when given (pdfsign.py).

    Raises:
        FontError: when the fonts cannot be read (pdf_font.py).
        InvalidInputError: when an image is not a PNG the writer reads (pdf_png.py).
        ValueError: when a table's rows do not match its columns.
    """
    canvas = _Canvas(_font_set())
    layout = _Layout(canvas)
    # The title is the file's /Title; on the page the document's own first heading says it, as
    # in the HTML form (html.py), so it is not drawn twice.
    for block in doc.blocks:
        if isinstance(block, Heading):
            layout.heading(block)
        elif isinstance(block, Paragraph):
            layout.paragraph(block)
        elif isinstance(block, TableBlock):
            layout.table(block)
        elif isinstance(block, Image):
            layout.image(block)
        elif isinstance(block, PageBreak) and not layout.at_top:
            layout.new_page()
    layout.frame(doc.header, doc.footer)
    return _write(canvas, doc, signer)


class _Objects:
    """The numbered objects of the file (ISO 32000-1 §7.3.10), written in number order."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = [b""]

    def reserve(self) -> int:
        self.bodies.append(b"")
        return len(self.bodies) - 1

    def put(self, number: int, body: bytes | str) -> int:
        self.bodies[number] = body.encode("ascii") if isinstance(body, str) else body
        return number

    def add(self, body: bytes | str) -> int:
        return self.put(self.reserve(), body)

    def stream(self, entries: str, data: bytes, *, compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data, 6)
            entries += " /Filter /FlateDecode"
        head = f"<< {entries} /Length {len(data)} >>\nstream\n".encode("ascii")
        return self.add(head + data + b"\nendstream")


def _text_string(text: str) -> str:
    """A PDF text string (ISO 32000-1 §7.9.2.2) as UTF-16BE hex with its byte order mark."""
    return "<FEFF" + text.encode("utf-16-be", "replace").hex().upper() + ">"


def _utf16_hex(char: str) -> str:
    try:
        return char.encode("utf-16-be").hex().upper()
    except UnicodeEncodeError:  # a lone surrogate: name it as the replacement character
        return "FFFD"


def _to_unicode(use: _FontUse) -> bytes:
    """The ToUnicode CMap (ISO 32000-1 §9.10.3): each CID to the character it was drawn for."""
    pairs = sorted((cid, _utf16_hex(char)) for char, cid in use.cids.items())
    lines = [
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        "<0000> <FFFF>",
        "endcodespacerange",
    ]
    for start in range(0, len(pairs), 100):  # at most 100 entries per block (§9.10.3)
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines.extend(f"<{cid:04X}> <{code}>" for cid, code in chunk)
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")


def _font_objects(objects: _Objects, name: str, use: _FontUse, fonts: FontSet) -> int:
    """The Type0 font of one embedded subset (ISO 32000-1 §9.7: CIDFontType2, Identity-H)."""
    font = fonts.fonts[name]
    gids = set(use.gids)
    program = font.subset(gids)
    base = f"{font.subset_tag(gids)}+{font.name}"
    file_ref = objects.stream(f"/Length1 {len(program)}", program)
    flags = 4 | (1 if font.fixed_pitch else 0)  # symbolic; fixed pitch (§9.8.2, Table 123)
    descriptor = objects.add(
        f"<< /Type /FontDescriptor /FontName /{base} /Flags {flags} "
        f"/FontBBox [{' '.join(str(v) for v in font.bbox)}] /ItalicAngle {_num(font.italic_angle)} "
        f"/Ascent {font.ascent} /Descent {font.descent} /CapHeight {font.cap_height} "
        f"/StemV 80 /FontFile2 {file_ref} 0 R >>"
    )
    cid_to_gid = b"".join(gid.to_bytes(2, "big") for gid in use.gids)
    map_ref = objects.stream("", cid_to_gid)
    widths = " ".join(_num(w) for w in use.widths[1:])
    cid_font = objects.add(
        f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{base} "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [1 [{widths}]] /CIDToGIDMap {map_ref} 0 R >>"
    )
    to_unicode = objects.stream("", _to_unicode(use))
    return objects.add(
        f"<< /Type /Font /Subtype /Type0 /BaseFont /{base} /Encoding /Identity-H "
        f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {to_unicode} 0 R >>"
    )


def _image_object(objects: _Objects, png: bytes, where: str) -> int:
    """An image XObject (ISO 32000-1 §8.9.5) of a PNG, its alpha as a soft mask (§11.6.5.3)."""
    decoded = decode_png(png, where)
    size = f"/Width {decoded.width} /Height {decoded.height} /BitsPerComponent 8"
    mask = ""
    if decoded.alpha is not None:
        alpha = objects.stream(
            f"/Type /XObject /Subtype /Image {size} /ColorSpace /DeviceGray", decoded.alpha
        )
        mask = f" /SMask {alpha} 0 R"
    space = "/DeviceRGB" if decoded.colours == 3 else "/DeviceGray"
    return objects.stream(
        f"/Type /XObject /Subtype /Image {size} /ColorSpace {space}{mask}", decoded.colour
    )


def _outline(objects: _Objects, canvas: _Canvas, page_refs: list[int]) -> int | None:
    """The document outline (ISO 32000-1 §12.3.3): sections, their subsections beneath.

    A reader of a long report finds a section from the viewer's panel; sections start closed.
    """
    if not canvas.outline:
        return None
    root = objects.reserve()
    # Each entry: object number, its parent's, and the numbers of its children.
    entries: list[tuple[int, int, int, str, float, list[int]]] = []
    top: list[int] = []
    current_section: int | None = None
    for level, text, page, y in canvas.outline:
        number = objects.reserve()
        if level <= 1 or current_section is None:
            parent = root
            top.append(number)
            current_section = len(entries)
        else:
            parent = entries[current_section][0]
            entries[current_section][5].append(number)
        entries.append((number, parent, page, text, y, []))
    siblings: dict[int, list[int]] = {root: top}
    for number, _parent, _page, _text, _y, children in entries:
        siblings[number] = children
    for number, parent, page, text, y, children in entries:
        row = siblings[parent]
        at = row.index(number)
        links = [f"/Parent {parent} 0 R"]
        if at > 0:
            links.append(f"/Prev {row[at - 1]} 0 R")
        if at + 1 < len(row):
            links.append(f"/Next {row[at + 1]} 0 R")
        if children:
            links.append(
                f"/First {children[0]} 0 R /Last {children[-1]} 0 R /Count -{len(children)}"
            )
        objects.put(
            number,
            f"<< /Title {_text_string(text)} {' '.join(links)} "
            f"/Dest [{page_refs[page]} 0 R /XYZ 0 {_num(y + 6)} null] >>",
        )
    objects.put(
        root, f"<< /Type /Outlines /First {top[0]} 0 R /Last {top[-1]} 0 R /Count {len(top)} >>"
    )
    return root


def _write(canvas: _Canvas, doc: Document, signer: ReportSigner | None) -> bytes:
    objects = _Objects()
    catalog = objects.reserve()
    pages = objects.reserve()
    info = objects.add(
        f"<< /Title {_text_string(doc.title)} /Creator {_text_string('AuditLens ' + __version__)} "
        f"/Producer {_text_string('AuditLens PDF writer')} >>"
    )
    font_refs = [
        f"/{use.resource} {_font_objects(objects, name, use, canvas.fonts)} 0 R"
        for name, use in canvas.used.items()
    ]
    image_refs = [
        f"/{name} {_image_object(objects, png, f'image {name[2:]}')} 0 R"
        for name, png in canvas.images
    ]
    resources = objects.add(
        f"<< /Font << {' '.join(font_refs)} >> /XObject << {' '.join(image_refs)} >> >>"
    )
    page_refs = [objects.reserve() for _ in canvas.pages]
    extra: dict[int, str] = {}
    catalog_extra = ""
    signature = None
    if signer is not None:
        from auditlens.core.report.pdfsign import add_signature_objects

        signature = add_signature_objects(objects, signer, page_refs[-1])
        extra[len(page_refs) - 1] = f" /Annots [{signature.field} 0 R]"
        catalog_extra = f" /AcroForm << /Fields [{signature.field} 0 R] /SigFlags 3 >>"
    for i, (ref, ops) in enumerate(zip(page_refs, canvas.pages, strict=True)):
        content = objects.stream("", "\n".join(ops).encode("ascii"))
        objects.put(
            ref,
            f"<< /Type /Page /Parent {pages} 0 R /MediaBox [0 0 {_num(PAGE_W)} {_num(PAGE_H)}] "
            f"/Resources {resources} 0 R /Contents {content} 0 R{extra.get(i, '')} >>",
        )
    objects.put(
        pages,
        f"<< /Type /Pages /Kids [{' '.join(f'{r} 0 R' for r in page_refs)}] "
        f"/Count {len(page_refs)} >>",
    )
    outline = _outline(objects, canvas, page_refs)
    if outline is not None:
        catalog_extra += f" /Outlines {outline} 0 R /PageMode /UseOutlines"
    objects.put(catalog, f"<< /Type /Catalog /Pages {pages} 0 R{catalog_extra} >>")
    body = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, object_body in enumerate(objects.bodies[1:], start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + object_body + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)

    def trailer(file_id: str) -> bytes:
        return (
            f"trailer\n<< /Size {len(offsets) + 1} /Root {catalog} 0 R /Info {info} 0 R "
            f"/ID [<{file_id}> <{file_id}>] >>\nstartxref\n{xref}\n%%EOF\n"
        ).encode("ascii")

    contents = None
    if signature is not None:
        from auditlens.core.report.pdfsign import fill_byte_range

        # The byte range depends on the file's length, which the trailer's fixed-width /ID
        # does not change: fill it first, so that the /ID hashes it too.
        contents = fill_byte_range(body, len(body) + len(trailer("0" * 32)))
    # The identifier is a hash of the content (ISO 32000-1 §14.4): the same report, the same id.
    out = body + trailer(hashlib.sha256(body).hexdigest()[:32].upper())
    if signer is not None and contents is not None:
        from auditlens.core.report.pdfsign import sign_byte_ranges

        sign_byte_ranges(out, signer, *contents)
    return bytes(out)
