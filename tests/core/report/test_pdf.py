"""The PDF writer (core/report/pdf.py): pages, text a reader can extract, tables, images.

The PDF is read back with poppler's tools (pdftotext, pdfinfo, pdffonts, pdfimages), which
`tools/system-deps.sh --test` installs: a reader other than our own is the check that matters.
"""

from __future__ import annotations

import io
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from auditlens.core.errors import InvalidInputError
from auditlens.core.report.document import (
    Cell,
    Document,
    Heading,
    Image,
    PageBreak,
    Paragraph,
    Table,
)
from auditlens.core.report.pdf import render_pdf
from auditlens.core.report.pdf_png import decode_png

JOURNAL_HEAD = "9f2c4e81d7a0b3c5e6f7081928374655a6b7c8d9e0f1a2b3c4d5e6f708192a3b"


def _tool(name: str) -> str:
    path = shutil.which(name)
    # Not a skip: without poppler the PDF would go unread. tools/system-deps.sh --test installs it.
    assert path, f"{name} not found: run tools/system-deps.sh --test (poppler-utils)"
    return path


def _run(tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool(tool), *map(str, args)], capture_output=True, text=True, check=True, timeout=120
    )


def _pages_text(path: Path) -> list[str]:
    text = _run("pdftotext", "-layout", path, "-").stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def _png(width: int, height: int, rows: list[bytes], colour_type: int) -> bytes:
    """A PNG with the given filtered rows (each starting with its filter byte)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _document(rows: int = 40) -> Document:
    doc = Document(
        title="Examination report: case contact-center-2026-11",
        header="AuditLens · case contact-center-2026-11 · examiner Zoë Ørsted",
        footer=f"journal head {JOURNAL_HEAD}",
    )
    doc.add(
        Heading("1. Summary"),
        Paragraph(
            "20,000 audit events sealed between 2026-11-03T08:00:00Z and 2026-11-05T17:59:59Z. "
            "The examiner is Zoë Ørsted; the operator of interest is 李雷 (actor sup-004)."
        ),
        Paragraph("TAMPERED: bundle 3, record 1,204 does not match its leaf.", tone="bad"),
        Paragraph("sha256 " + "3b7e1c0a" * 8, mono=True),
        Table(
            ("Exhibit", "Time (UTC)", "Actor", "Note", "Seal"),
            tuple(
                (
                    Cell(f"E-{i + 1:04d}"),
                    Cell(f"2026-11-03T08:{i % 60:02d}:{i % 59:02d}.{i:09d}Z", mono=True),
                    Cell("李雷" if i % 2 else "Zoë Ørsted"),
                    Cell(f"EXPORT customer-records batch {i}, " + "a note that wraps " * (i % 4)),
                    Cell(("verified", "tampered")[i % 2], tone=("good", "bad")[i % 2]),
                )
                for i in range(rows)
            ),
            widths=(1, 2.4, 1.3, 3.5, 1.2),
            caption="Table 1: bookmarked events",
        ),
    )
    return doc


def test_text_extracts_with_header_and_page_numbers_on_every_page(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(_document(rows=120)))
    pages = _pages_text(path)
    assert len(pages) >= 3
    info = _run("pdfinfo", path)
    assert f"Pages:           {len(pages)}" in info.stdout
    assert "A4" in info.stdout
    assert info.stderr == ""
    for number, page in enumerate(pages, start=1):
        assert "AuditLens · case contact-center-2026-11 · examiner Zoë Ørsted" in page
        assert f"page {number} of {len(pages)}" in page
        assert JOURNAL_HEAD in page
        # The table's header row is repeated on every page it continues on.
        assert "Exhibit" in page and "Time (UTC)" in page
    text = "".join(pages)
    assert "Zoë Ørsted" in text
    assert "李雷" in text  # drawn with the Last Resort glyph, extracted as itself
    assert "TAMPERED: bundle 3, record 1,204" in text
    assert "3b7e1c0a" * 8 in text  # mono digests are not broken when they fit
    for i in (1, 60, 120):
        assert f"E-{i:04d}" in text


def test_fonts_are_embedded_subsets_with_unicode_maps(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(_document()))
    rows = _run("pdffonts", path).stdout.splitlines()[2:]
    fonts = {row.split()[0].split("+")[1]: row.split() for row in rows}
    assert set(fonts) == {
        "DejaVuSans",
        "DejaVuSans-Bold",
        "DejaVuSansMono",
        "LastResortHE-Regular",
    }
    for columns in fonts.values():
        assert columns[1:6] == ["CID", "TrueType", "Identity-H", "yes", "yes"]
        assert columns[6] == "yes"  # ToUnicode
    # Subsets: far smaller than the 750 KB of DejaVu Sans alone.
    assert len(path.read_bytes()) < 200_000


def test_the_same_document_gives_the_same_bytes() -> None:
    first = render_pdf(_document())
    assert render_pdf(_document()) == first
    changed = _document()
    changed.add(Paragraph("one more line"))
    other = render_pdf(changed)
    assert other != first
    # The file identifier is a hash of the content, so it changes with it.
    assert first[first.rindex(b"/ID") :] != other[other.rindex(b"/ID") :]


def test_a_thousand_row_table_repeats_its_header(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(_document(rows=1_500)))
    pages = _pages_text(path)
    table_pages = [p for p in pages if "E-" in p]
    assert len(table_pages) > 20
    assert all("Exhibit" in p and "Seal" in p for p in table_pages)
    text = "".join(pages)
    for i in range(1, 1_501):
        assert f"E-{i:04d}" in text


def test_a_row_taller_than_a_page_continues_overleaf(tmp_path: Path) -> None:
    long_text = " ".join(f"word{i:04d}" for i in range(3_000))
    doc = Document("Tall row", "header", "foot")
    doc.add(Table(("Key", "Value"), ((Cell("k"), Cell(long_text)),)))
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    pages = _pages_text(path)
    assert len(pages) >= 2
    text = " ".join(pages).split()
    found = [w for w in text if w.startswith("word")]
    assert found == [f"word{i:04d}" for i in range(3_000)]  # every word once, in order


def test_a_word_longer_than_a_line_is_cut_not_lost(tmp_path: Path) -> None:
    word = "".join(f"{i:04x}" for i in range(200))  # 800 characters, no space
    doc = Document("Long word", "h", "f", [Paragraph(word, mono=True)])
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    assert "".join("".join(_pages_text(path)).split()).find(word) >= 0


def test_control_characters_are_shown_not_dropped(tmp_path: Path) -> None:
    doc = Document("Controls", "h", "f", [Paragraph("bell\x07end")])
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    assert "bell\x07end" in _run("pdftotext", path, "-").stdout


def test_header_words_are_not_cut_in_narrow_columns(tmp_path: Path) -> None:
    rows = tuple((Cell(f"E-{i}"), Cell("note " * 30)) for i in range(3))
    doc = Document("T", "h", "f", [Table(("Exhibit", "Algorithm of the note"), rows, (0.2, 10))])
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    words = _run("pdftotext", path, "-").stdout.split()
    assert "Exhibit" in words and "Algorithm" in words


def test_short_cell_words_are_not_cut_in_narrow_columns(tmp_path: Path) -> None:
    # The report's bundles table (relative widths 1.1 and 1 for these) printed "1269-253 3" and
    # "tampere d" on two lines each: a lawyer reads the verdict cut in two.
    rows = tuple(
        (
            Cell("4367604d4b6b190ed674220fa92d88e1", mono=True),  # 32 characters: may be cut
            Cell(f"{1269 + i}–{2533 + i}"),
            Cell("2026-03-04T00:05:00Z"),
            Cell(("verified", "tampered")[i % 2], tone=("good", "bad")[i % 2]),
            Cell("a note " * 20),
        )
        for i in range(4)
    )
    table = Table(("Bundle", "Sequence", "Sealed", "Verdict", "Note"), rows, (2, 1.1, 2, 1, 4.6))
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(Document("T", "h", "f", [table])))
    words = _run("pdftotext", path, "-").stdout.split()
    assert words.count("tampered") == 2 and words.count("verified") == 2
    assert "1270–2534" in words and words.count("2026-03-04T00:05:00Z") == 4


def test_a_table_without_column_names_draws_no_header_row(tmp_path: Path) -> None:
    rows = tuple((Cell(f"name {i}"), Cell(f"value {i}")) for i in range(200))
    doc = Document("T", "h", "f", [Table(("", ""), rows)])
    data = render_pdf(doc)
    streams = [
        zlib.decompress(data[m.end() : data.index(b"\nendstream", m.end())])
        for m in re.finditer(rb">>\nstream\n", data)
    ]
    pages = [s for s in streams if b" Tj" in s]
    assert len(pages) >= 2
    assert all(b"0.88 0.89 0.91 rg" not in page for page in pages)  # HEADER_FILL
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    text = "".join(_pages_text(path))
    assert "name 199" in text and "value 0" in text


def test_the_title_is_the_file_title_not_drawn(tmp_path: Path) -> None:
    doc = Document("Examination report: case 2026-11", "h", "f", [Paragraph("body")])
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    assert "Title:           Examination report: case 2026-11" in _run("pdfinfo", path).stdout
    assert "Examination report" not in _run("pdftotext", path, "-").stdout


def test_headings_make_the_outline_with_their_pages(tmp_path: Path) -> None:
    doc = Document("Outline", "h", "f")
    doc.add(
        Heading("1. Summary"),
        Paragraph("text"),
        Heading("1.1 Zoë Ørsted's case", level=2),
        PageBreak(),
        Heading("2. Inventory"),
        Heading("2.1 Files", level=2),
        Heading("2.2 Streams", level=2),
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    xml = _run("pdftohtml", "-xml", "-stdout", "-i", "-q", path).stdout
    outline = xml[xml.index("<outline>") : xml.rindex("</outline>") + len("</outline>")]
    assert re.sub(r"\s+", "", outline) == re.sub(
        r"\s+",
        "",
        """<outline><item page="1">1. Summary</item>
        <outline><item page="1">1.1 Zoë Ørsted's case</item></outline>
        <item page="2">2. Inventory</item>
        <outline><item page="2">2.1 Files</item><item page="2">2.2 Streams</item></outline>
        </outline>""",
    )


def test_page_break_and_heading_start_a_page(tmp_path: Path) -> None:
    doc = Document("Breaks", "h", "f")
    doc.add(Paragraph("first page"), PageBreak(), Heading("Second", level=2))
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    pages = _pages_text(path)
    assert len(pages) == 2
    assert "first page" in pages[0] and "Second" in pages[1]


def test_a_png_chart_is_embedded_with_its_alpha(tmp_path: Path) -> None:
    width, height = 64, 32
    rows = []
    for y in range(height):
        # Filter type 0 (none): pixel x is red x*4, green y*8, blue 128, alpha 255 or 0.
        pixels = b"".join(bytes((x * 4, y * 8, 128, 255 if x < 48 else 0)) for x in range(width))
        rows.append(b"\x00" + pixels)
    png = _png(width, height, rows, colour_type=6)
    doc = Document("Chart", "h", "f", [Image(png, width, height, 72, caption="Figure 1")])
    path = tmp_path / "report.pdf"
    path.write_bytes(render_pdf(doc))
    listing = _run("pdfimages", "-list", path).stdout.splitlines()[2:]
    kinds = [(row.split()[2], row.split()[3], row.split()[4], row.split()[5]) for row in listing]
    assert kinds == [("image", "64", "32", "rgb"), ("smask", "64", "32", "gray")]
    _run("pdfimages", "-png", path, tmp_path / "out")
    assert "Figure 1" in _run("pdftotext", path, "-").stdout


def test_png_filters_are_undone() -> None:
    # One RGB row per filter type (ISO/IEC 15948 §9.2), each encoding the same target pixels.
    width, bpp = 3, 3
    target = [
        bytes(v for x in range(width) for v in (10 * x + y * 40, 200 - 7 * x - y, 3 * y + x))
        for y in range(5)
    ]

    def paeth(a: int, b: int, c: int) -> int:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else (b if pb <= pc else c)

    rows = []
    previous = bytes(len(target[0]))
    for kind, line in enumerate(target):
        encoded = bytearray()
        for i, value in enumerate(line):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            up_left = previous[i - bpp] if i >= bpp else 0
            predictor = (0, left, up, (left + up) // 2, paeth(left, up, up_left))[kind]
            encoded.append((value - predictor) & 0xFF)
        rows.append(bytes((kind,)) + bytes(encoded))
        previous = line
    decoded = decode_png(_png(width, 5, rows, colour_type=2))
    assert decoded.colour == b"".join(target)
    assert decoded.alpha is None and decoded.colours == 3


def test_a_matplotlib_chart_decodes_as_pillow_reads_it() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image as PilImage

    figure, axes = plt.subplots(figsize=(3, 2), dpi=80)
    axes.plot([0, 1, 2, 3], [3, 1, 2, 0])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    png = buffer.getvalue()
    decoded = decode_png(png)
    reference = PilImage.open(io.BytesIO(png)).convert("RGBA").tobytes()
    assert decoded.colour == b"".join(reference[i : i + 3] for i in range(0, len(reference), 4))
    assert decoded.alpha == reference[3::4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a", "not a PNG"),
        (_png(2, 2, [b"\x00" + b"\x00" * 6] * 2, colour_type=3), "colour type 3"),
        (_png(2, 2, [b"\x07" + b"\x00" * 6] * 2, colour_type=2), "unknown filter type 7"),
        (_png(2, 2, [b"\x00" + b"\x00" * 5] * 2, colour_type=2), "expected 14"),
    ],
)
def test_a_png_it_cannot_read_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        decode_png(data)
