"""A report as a flow of blocks, independent of the form it is written in.

The report's content (what the evidence holds and proves) is gathered once into a
:class:`Document`; each form (PDF, HTML) is one renderer of it. Keeping the two apart lets a test
read the content without parsing a PDF, and lets the PDF and the HTML say the same thing.

Text is Unicode throughout: names, addresses and attribute values come from the evidence and are
shown as recorded, never transliterated (a renderer that cannot draw a character must embed a font
that can, not drop it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Tone = Literal["plain", "good", "bad", "warn"]
"""How a paragraph or a cell reads: ``good`` (verified), ``bad`` (tampered), ``warn`` (unverified
or a gap) are shown in colour by renderers that can, and always also say so in words."""


@dataclass(frozen=True)
class Heading:
    """A section title: ``level`` 1 a section, 2 a subsection; ``anchor`` names it for links."""

    text: str
    level: int = 1
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph:
    """Running text, wrapped by the renderer. ``mono`` for hashes, commands and record text."""

    text: str
    tone: Tone = "plain"
    mono: bool = False


@dataclass(frozen=True)
class Cell:
    """One table cell: its text, how it reads, and whether it is fixed-width (digests, refs)."""

    text: str
    tone: Tone = "plain"
    mono: bool = False


@dataclass(frozen=True)
class Table:
    """Rows under a header row. ``widths`` are relative column widths (any positive numbers).

    Renderers wrap long cell text within its column and repeat the header row on each page a table
    continues on; a table of 1,000 rows is ordinary (the bookmarks of a large examination).
    """

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A chart as PNG bytes, its size in pixels at ``dpi``; renderers fit it to the text width."""

    png: bytes
    width_px: int
    height_px: int
    dpi: int
    caption: str = ""


@dataclass(frozen=True)
class PageBreak:
    """Start the next block on a new page (paged forms only)."""


Block = Heading | Paragraph | Table | Image | PageBreak


@dataclass
class Document:
    """A report: its title, the running header every page carries, and its blocks in order.

    ``footer`` is the text of each page's foot beside its page number ("page N of M"), for
    example the journal's head hash, so a page on its own still says which report it belongs to.
    """

    title: str
    header: str
    footer: str = ""
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        """Append ``blocks`` in order."""
        self.blocks.extend(blocks)
