"""The report as one self-contained HTML file (docs/report.md, "Forms").

Invariants:

* **Self-contained.** One file: the style inline, every chart a ``data:`` URI. It opens offline
  in any browser and can be handed on alone; nothing is fetched (the Content-Security-Policy
  forbids any script, font, frame or request, so a reader's browser is safe even from a mistake
  here).
* **Everything from the evidence is text.** Every string of the document (actor ids, notes,
  paths, messages, the case name) is HTML-escaped, quotes included, wherever it goes, element
  or attribute; no field is ever inserted as markup.
* **The same content as the PDF**: one :class:`~auditlens.core.report.document.Document`, read
  block by block. The running header and the footer (the journal head) open and close the page
  once: a browser gives HTML no running header, and the PDF form is the one with a header and
  footer on every page.
"""

from __future__ import annotations

import base64
from html import escape

from auditlens.core.report.document import (
    Block,
    Cell,
    Document,
    Heading,
    Image,
    PageBreak,
    Paragraph,
    Table,
)

# No script, no request: images are data: URIs and the style is inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

STYLE = """
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; color: #212121;
  max-width: 60em; margin: 0 auto; padding: 3.5em 1.5em; line-height: 1.4; }
header.running, footer.running { color: #616161; font-size: 8pt; }
header.running { border-bottom: 1px solid #bdbdbd; padding-bottom: .3em; }
footer.running { border-top: 1px solid #bdbdbd; padding-top: .3em; margin-top: 2em;
  overflow-wrap: anywhere; }
h1 { font-size: 15pt; margin-top: 1.6em; } h2 { font-size: 12pt; margin-top: 1.2em; }
.mono { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 8.5pt;
  overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .6em 0; table-layout: fixed; }
th, td { border: 1px solid #e0e0e0; padding: .25em .4em; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; white-space: pre-wrap; font-size: 8.5pt; }
th { background: #eeeeee; }
caption { caption-side: bottom; text-align: left; color: #616161; font-size: 8pt; }
figure { margin: 1em 0; } figure img { width: 100%; height: auto; }
figcaption { color: #616161; font-size: 8pt; }
.good { color: #1b5e20; } .bad { color: #b71c1c; font-weight: bold; } .warn { color: #8d6e00; }
td.good { background: #e8f5e9; } td.bad { background: #ffebee; } td.warn { background: #fff8e1; }
p.good, p.bad, p.warn { border-left: 4px solid currentColor; padding-left: .6em; }
.break { break-after: page; }
@media print {
  body { padding: 0; max-width: none; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; }
}
"""


def _cls(tone: str, mono: bool) -> str:
    names = [n for n in (tone if tone != "plain" else "", "mono" if mono else "") if n]
    return f' class="{" ".join(names)}"' if names else ""


def _text(text: str) -> str:
    """Escaped text, its line breaks kept as breaks."""
    return escape(text, quote=True).replace("\n", "<br>")


def _cell(cell: Cell, tag: str = "td") -> str:
    return f"<{tag}{_cls(cell.tone, cell.mono)}>{_text(cell.text)}</{tag}>"


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        level = min(max(block.level, 1), 6)
        anchor = f' id="{escape(block.anchor, quote=True)}"' if block.anchor else ""
        return f"<h{level}{anchor}>{_text(block.text)}</h{level}>"
    if isinstance(block, Paragraph):
        return f"<p{_cls(block.tone, block.mono)}>{_text(block.text)}</p>"
    if isinstance(block, Table):
        parts = ["<table>"]
        if block.caption:
            parts.append(f"<caption>{_text(block.caption)}</caption>")
        if block.widths and len(block.widths) == len(block.columns):
            total = sum(block.widths) or 1
            parts.append("<colgroup>")
            parts += [f'<col style="width:{100 * w / total:.1f}%">' for w in block.widths]
            parts.append("</colgroup>")
        if any(block.columns):
            parts.append("<thead><tr>")
            parts += [f"<th>{_text(c)}</th>" for c in block.columns]
            parts.append("</tr></thead>")
        parts.append("<tbody>")
        for row in block.rows:
            parts.append("<tr>" + "".join(_cell(c) for c in row) + "</tr>")
        parts.append("</tbody></table>")
        return "\n".join(parts)
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        # CSS pixels are 1/96 inch: the chart keeps its printed size, at most the text width.
        width = round(block.width_px * 96 / block.dpi)
        alt = escape(block.caption or "chart", quote=True)
        caption = f"<figcaption>{_text(block.caption)}</figcaption>" if block.caption else ""
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{alt}" '
            f'style="max-width:{width}px">{caption}</figure>'
        )
    if isinstance(block, PageBreak):
        return '<div class="break"></div>'
    raise TypeError(f"unknown block {type(block).__name__}")


def render_html(doc: Document) -> bytes:
    """The document as one UTF-8 HTML file (see the module docstring)."""
    body = "\n".join(_block(b) for b in doc.blocks)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="AuditLens">
<title>{_text(doc.title)}</title>
<style>{STYLE}</style>
</head>
<body>
<header class="running">{_text(doc.header)}</header>
<main>
{body}
</main>
<footer class="running mono">{_text(doc.footer)}</footer>
</body>
</html>
"""
    # A name from a hostile archive may hold lone surrogates (os.fsdecode of bytes that are not
    # UTF-8): written as escapes, never a failed report.
    return page.encode("utf-8", "backslashreplace")
