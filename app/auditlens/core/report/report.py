"""The examination report (issue 14, points 3 and 5): what the case holds and what it proves.

The report is gathered into a :class:`~auditlens.core.report.document.Document` and written as
PDF or HTML; ``Legal.report`` (session.py) journals it. What each section holds and where each
figure comes from is specified in docs/report.md; the section names here follow it.

Invariants:

* **Nothing guessed.** Every figure comes from the case (its tables, through the store's
  queries, the same the workbench shows) or from a file read now (the inventory's digests at
  report time). What the case does not record is said to be unrecorded, never filled in.
* **The evidence is only read.** An input is hashed again from its recorded path with the
  importer's own digest (:func:`~auditlens.core.store.importer.hash_input`), so a match means
  the bytes are those imported; nothing is written next to it.
* **The report names its own place in the journal.** The head printed in it (and in every
  page's footer) is the head before the report's own entry; that entry (action ``report``: the
  file's path, format, size and SHA-256) is appended after the file is written, because it
  holds the file's digest.
* **Bounded.** A report holds up to :data:`MAX_ROWS` rows per table (bookmarks: all of them,
  up to the 100,000 a bookmark may hold); beyond, the table says how many rows it leaves out and
  which command lists them. Memory holds the rows of the report, never the events of the case.
"""

from __future__ import annotations

import getpass
import json
import os
import platform
import secrets
import shlex
import socket
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from auditlens import __version__
from auditlens.core.analysis.findings import SEVERITIES, Finding, ordered
from auditlens.core.analysis.findings import load as load_detections
from auditlens.core.errors import CancelledError, UsageError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.report.bookmarks import BookmarkedEvent, bookmarked_events
from auditlens.core.report.document import (
    Block,
    Cell,
    Document,
    Heading,
    Image,
    PageBreak,
    Paragraph,
    Table,
    Tone,
)
from auditlens.core.store import queries
from auditlens.core.store.case import Case
from auditlens.core.store.journal import GENESIS_PREV, verify_journal
from auditlens.core.words import counted

if TYPE_CHECKING:
    from auditlens.core.report.pdfsign import ReportSigner

FORMATS = ("pdf", "html")
MAX_ROWS = 2_000  # rows of a findings or journal table; beyond, counted and pointed to
MAX_DETECTIONS = 200  # detections listed with their explanation, worst first
MAX_JOURNAL_QUERIES = 1_000  # query entries listed one by one; beyond, counted per command
BODY_EXCERPT = 160  # characters of an event's body shown beside a bookmarked event

MATCHES = "matches"
DIFFERS = "differs"
UNREACHABLE = "not reachable at report time"

# The libraries whose versions the methods section names (docs/report.md, "Methods").
LIBRARIES = ("duckdb", "pyarrow", "cryptography", "matplotlib")

_TONE_OF_STATE: dict[str, Tone] = {
    "verified": "good",
    "tampered": "bad",
    "invalid": "bad",
    "untrusted": "warn",
    "unsealed": "warn",
}


# -- the evidence inventory -----------------------------------------------------------------


@dataclass(frozen=True)
class InventoryItem:
    """One input: what was hashed at intake and what its recorded path holds now.

    Attributes:
        input_id: its number in the case.
        path: the path recorded at import.
        kind: ``bundle`` or ``raw``.
        size: its size in bytes at intake.
        sha256: its SHA-256 at intake (a folder's: over its files, see importer.hash_input).
        imported_at: when it was imported (RFC 3339 UTC).
        verdict: its own verdict at import.
        state: :data:`MATCHES`, :data:`DIFFERS` or :data:`UNREACHABLE`.
        sha256_now: its SHA-256 now, when it could be read.
        size_now: its size now, when it could be read.
        reason: why it could not be read, for :data:`UNREACHABLE`.
    """

    input_id: int
    path: str
    kind: str
    size: int
    sha256: str
    imported_at: str
    verdict: str
    state: str
    sha256_now: str | None = None
    size_now: int | None = None
    reason: str = ""


def recheck_inputs(
    case: Case, token: CancelToken | None = None
) -> Generator[Progress, None, list[InventoryItem]]:
    """Hash every input of the case again from its recorded path (a job: see progress.py).

    A path that no longer names a file or folder, or one that cannot be read, is
    :data:`UNREACHABLE` with the reason; one whose digest or size is not the intake's
    :data:`DIFFERS`. The digest is the importer's (a folder's over its files' names and
    digests), so a folder with a file added since intake differs too.
    """
    from auditlens.core.store.importer import hash_input

    token = token or CancelToken()
    rows = case.db.execute(
        "SELECT input_id, path, kind, sha256, size, imported_at, verdict FROM inputs "
        "ORDER BY input_id"
    ).fetchall()
    items = []
    for done, (input_id, path, kind, sha256, size, imported_at, verdict) in enumerate(rows):
        yield Progress("hashing", done, len(rows), "inputs", f"hashing {path} again")
        token.check()
        where = Path(str(path))
        now: tuple[str, int] | None = None
        reason = ""
        if not where.is_absolute():
            # A relative path names a file only together with the working folder of the import,
            # which the case does not record (cases imported before paths were made absolute).
            reason = "the case recorded a relative path; the folder it was relative to is unknown"
        elif not (where.is_file() or where.is_dir()):
            reason = "no file or folder at this path"
        else:
            try:
                now = hash_input(where, token)
            except CancelledError:
                raise
            except OSError as exc:
                reason = f"cannot be read: {exc.strerror or exc}"
        if now is None:
            state = UNREACHABLE
        elif now == (sha256, size):
            state = MATCHES
        else:
            state = DIFFERS
        items.append(
            InventoryItem(
                int(input_id),
                str(path),
                str(kind),
                int(size or 0),
                str(sha256),
                str(imported_at),
                str(verdict),
                state,
                now[0] if now else None,
                now[1] if now else None,
                reason,
            )
        )
    yield Progress("hashing", len(rows), len(rows), "inputs", "inputs hashed again")
    return items


# -- the journal, as commands ---------------------------------------------------------------


def _q(value: Any) -> str:
    return shlex.quote(str(value))


def _selection(details: dict[str, Any]) -> str:
    parts = []
    if details.get("filter"):
        parts.append(f"--filter {_q(details['filter'])}")
    for name in ("from", "to"):
        if details.get(name):
            parts.append(f"--{name} {_q(details[name])}")
    zone = details.get("zone") or details.get("tz")
    if zone and zone != "UTC":
        parts.append(f"--tz {_q(zone)}")
    return " ".join(parts)


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


def _bookmark_command(details: dict[str, Any]) -> str:
    selection = str(details.get("selection", ""))
    if selection.startswith("filter: "):
        chosen = f"--filter {_q(selection[len('filter: ') :])}"
    elif "refs" in details:
        chosen = " ".join(f"--event {_q(r)}" for r in details["refs"][:3])
        if len(details["refs"]) > 3:
            chosen += f" ... ({counted(len(details['refs']), 'event')})"
    else:
        chosen = f"--event ... ({details.get('count')} events, sha256 {details.get('refs_sha256')})"
    tags = " ".join(f"--tag {_q(t)}" for t in details.get("tags") or [])
    note = f"--note {_q(details['note'])}" if details.get("note") else ""
    return _join("auditlens bookmark CASE", chosen, tags, note)


_QUERY_COMMANDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "filter": lambda d: (
        _join("auditlens events CASE", _selection(d))
        + f"  # {d.get('matches')} matches, via {d.get('via')}"
    ),
    "count": lambda d: (
        _join("auditlens events CASE", _selection(d)) + f"  # counted: {d.get('matches')}"
    ),
    "events": lambda d: (
        _join("auditlens events CASE", _selection(d), f"--offset {d.get('offset')}")
        + f" --limit {d.get('limit')}  # {d.get('rows')} rows"
    ),
    "histogram": lambda d: (
        _join("auditlens histogram CASE", _selection(d)) + f"  # bucket {d.get('bucket_ns')} ns"
    ),
    "actors": lambda d: f"auditlens actors CASE  # {d.get('rows')} actors",
    "actor": lambda d: f"auditlens actor CASE {_q(d.get('actor'))}",
    "trace": lambda d: f"auditlens trace CASE {_q(d.get('trace_id'))}",
    "stats": lambda d: "auditlens stats CASE",
    "bookmarks": lambda d: f"auditlens bookmarks CASE  # {d.get('rows')} events",
    "findings": lambda d: f"auditlens findings CASE  # {d.get('rows')} findings",
}


def command_of(entry: dict[str, Any]) -> str:
    """A journal entry as the command that does the same (``CASE`` the case folder).

    Actions the CLI has no command for (the workbench's own views) are described in words,
    prefixed ``(workbench)``.
    """
    action = str(entry.get("action"))
    details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
    assert isinstance(details, dict)
    if action == "case_created":
        return f"(case created in {details.get('folder')})"
    if action in ("import", "import_recovered", "import_refused"):
        paths = [i.get("path") for i in details.get("inputs", []) if isinstance(i, dict)]
        if not paths and details.get("path"):
            paths = [details["path"]]
        command = _join("auditlens import CASE", " ".join(_q(p) for p in paths))
        if action == "import_recovered":
            return command + "  # journaled at the next open, after an interruption"
        if action == "import_refused":
            return command + "  # refused"
        return command
    if action == "query":
        name = str(details.get("command"))
        make = _QUERY_COMMANDS.get(name)
        return make(details) if make else f"(workbench) {name}: {_compact(details)}"
    if action == "bookmark":
        return _bookmark_command(details)
    if action == "export":
        return (
            _join(
                "auditlens export CASE",
                _selection(details),
                f"--format {_q(details.get('format'))} --out {_q(details.get('output'))}",
            )
            + f"  # {details.get('rows')} rows, sha256 {details.get('sha256')}"
        )
    if action == "exhibit":
        return f"auditlens exhibit CASE ... --out {_q(details.get('out', '...'))}  # " + (
            f"{details.get('count')} records"
        )
    if action == "detect":
        rules = details.get("rules")
        folders = "" if rules in (None, "shipped") else " ".join(f"--rules {_q(r)}" for r in rules)
        return _join("auditlens detect CASE", folders) + f"  # {details.get('findings')} findings"
    if action == "compliance":
        return "auditlens compliance CASE"
    if action == "report":
        signed = " --sign KEY" if details.get("signed") else ""
        return (
            f"auditlens report CASE --out {_q(details.get('output'))}{signed}  # sha256 "
            f"{details.get('sha256')}"
        )
    if action == "prove":
        ref = f"stream:{details.get('stream_id')}#{details.get('seq')}"
        return (
            f"(workbench) prove {ref}: verified {details.get('verified')}; the CLI's proof is "
            f"auditlens exhibit CASE --event {_q(ref)} --out DIR"
        )
    if action == "trust_store":
        files = ", ".join(str(f.get("path")) for f in details.get("files", []))
        return f"(workbench) File > Trust store: {files}"
    if action == "view_saved":
        return f"(workbench) Views > Save this view {_q(details.get('name'))}: " + _selection(
            details
        )
    return f"({action}) {_compact(details)}"


def _compact(details: dict[str, Any]) -> str:
    shown = {k: v for k, v in details.items() if k != "origin"}
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 300 else text[:299] + "…"


@dataclass
class _JournalRows:
    """The journal's entries as the report lists them, gathered as the verification reads them.

    One pass, bounded: the rows in order (queries included, while there are few enough of them
    to list) and the rows of actions alone, each at most :data:`MAX_ROWS`. A line that is not an
    entry is not listed: the journal's verification, stated beside the table, names it.
    """

    mixed: list[tuple[Cell, ...]] = field(default_factory=list)
    actions: list[tuple[Cell, ...]] = field(default_factory=list)
    per: dict[str, int] = field(default_factory=dict)  # query entries per command
    total: int = 0

    def add(self, entry: dict[str, Any]) -> None:
        """Count ``entry`` and keep its row while there is room."""
        self.total += 1
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        assert isinstance(details, dict)
        is_query = entry.get("action") == "query"
        if is_query:
            name = str(details.get("command"))
            self.per[name] = self.per.get(name, 0) + 1
        few = sum(self.per.values()) <= MAX_JOURNAL_QUERIES
        if (few and len(self.mixed) < MAX_ROWS) or (not is_query and len(self.actions) < MAX_ROWS):
            row = (
                _c(entry.get("index")),
                _c(_spaced(str(entry.get("time"))), mono=True),
                _c(details.get("origin", "")),
                _c(command_of(entry), mono=True),
            )
            if few and len(self.mixed) < MAX_ROWS:
                self.mixed.append(row)
            if not is_query and len(self.actions) < MAX_ROWS:
                self.actions.append(row)


# -- helpers for the document ---------------------------------------------------------------


def _t(ns: int | None, tz: ZoneInfo | None) -> str:
    return queries.format_time(ns, tz) or "(no time)"


def _spaced(time: str) -> str:
    """An RFC 3339 time with a space for the ``T`` (RFC 3339 §5.6 allows it).

    A narrow table column then breaks it between the date and the time of day, not inside the
    digits.
    """
    return time.replace("T", " ", 1) if len(time) > 10 and time[10] == "T" else time


def _c(text: Any, tone: Tone = "plain", *, mono: bool = False) -> Cell:
    return Cell("" if text is None else str(text), tone, mono)


def _state_tone(state: str | None) -> Tone:
    return _TONE_OF_STATE.get(str(state), "plain")


def _count(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _ranges(numbers: Iterable[int]) -> str:
    """``E-1 to E-3, E-7`` from exhibit numbers."""
    numbers_sorted = sorted(set(numbers))
    parts: list[str] = []
    start = prev = None
    for n in [*numbers_sorted, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None and prev is not None:
            parts.append(f"E-{start}" if start == prev else f"E-{start} to E-{prev}")
        start = prev = n
    return ", ".join(parts)


def _excerpt(text: Any) -> str:
    value = "" if text is None else " ".join(str(text).split())
    return value if len(value) <= BODY_EXCERPT else value[: BODY_EXCERPT - 1] + "…"


def _versions() -> list[tuple[str, str]]:
    found = [("auditlens", __version__), ("python", platform.python_version())]
    for name in LIBRARIES:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return found


# -- the report -----------------------------------------------------------------------------


@dataclass
class _Facts:
    """What the sections share: read once, in the order the sections need it."""

    name: str
    folder: Path
    tz: ZoneInfo | None
    stats: dict[str, Any]
    overview: queries.IntegrityOverview
    inventory: list[InventoryItem]
    marked: list[BookmarkedEvent]
    exhibit_of: dict[str, int]
    found: list[Finding]
    head: tuple[int, str]
    journal_status: str
    journal_problems: list[str]
    journal_rows: _JournalRows
    trust: list[dict[str, Any]]
    stream_history: list[dict[str, Any]]
    generated: str
    renderer: str
    signed: bool


def build_report(
    case: Case,
    *,
    tz: ZoneInfo | None = None,
    renderer: str = "",
    signed: bool = False,
    token: CancelToken | None = None,
) -> Generator[Progress, None, Document]:
    """Gather the report of ``case`` into a document (a job: see progress.py).

    Args:
        case: the open case.
        tz: the zone times are shown in (UTC by default).
        renderer: the form and library it will be written with, named in the methods.
        signed: whether the examiner signs it (the text says what a signature adds).
        token: cancels between inputs being hashed again and between sections.

    Returns:
        The document; its ``footer`` carries the journal head it names.
    """
    token = token or CancelToken()
    yield Progress("reading", 0, None, "", "reading the case")
    queries.refresh_order(case)
    stats = queries.stats(case)
    overview = queries.integrity_overview(case)
    inventory = yield from recheck_inputs(case, token)
    token.check()
    marked = bookmarked_events(case)
    exhibit_of = {entry.ref: n for n, entry in enumerate(marked, start=1)}
    head = case.journal_head() or (0, GENESIS_PREV)
    # One read of the journal: the verification hands the report each entry it checks.
    rows = _JournalRows()
    checked = verify_journal(
        case.folder, expected_head=head, announced=case.journal_announced(), entries=rows.add
    )
    facts = _Facts(
        name=case.folder.resolve().name,
        folder=case.folder.resolve(),
        tz=tz,
        stats=stats,
        overview=overview,
        inventory=inventory,
        marked=marked,
        exhibit_of=exhibit_of,
        found=load_detections(case),
        head=head,
        journal_status=checked.status.value,
        journal_problems=[p.describe() for p in checked.problems[:20]]
        + ([checked.interrupted.describe()] if checked.interrupted else []),
        journal_rows=rows,
        trust=queries.trust_used(case),
        stream_history=queries.stream_findings(case, include_closed=True),
        generated=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        renderer=renderer,
        signed=signed,
    )
    doc = Document(
        title=f"Examination report: {facts.name}",
        header=f"Case {facts.name}",
        footer=f"journal head {head[0]}:{head[1]}",
    )
    yield Progress("writing", 0, 9, "sections", "summary")
    sections: list[Callable[[_Facts], list[Block]]] = [
        _title,
        _summary,
        _proves,
        _inventory,
        _verification,
        _trust,
        _bookmarks,
        lambda f: _charts(case, f),
        _detections,
        _methods,
    ]
    for done, section in enumerate(sections):
        token.check()
        doc.add(*section(facts))
        yield Progress("writing", done + 1, len(sections), "sections")
    return doc


def _title(f: _Facts) -> list[Block]:
    verdict = f.overview.case_verdict
    # The document's title is the file's title; on the page its first heading says it.
    return [
        Heading(f"Examination report: {f.name}", 1, "title"),
        Paragraph(f"Case folder: {f.folder}", mono=True),
        Paragraph(
            f"Written {f.generated} by {_user()} with AuditLens {__version__}. Times are "
            f"{_zone(f.tz)} (RFC 3339, nine digits of nanoseconds)."
        ),
        Paragraph(
            "Case verdict: " + (verdict or "no evidence imported") + ". " + _verdict_words(verdict),
            _state_tone(verdict),
        ),
        Paragraph(
            f"The case's journal had {_count(f.head[0], 'entry', 'entries')} when this report "
            f"was written; its head hash is {f.head[1]}. Every page's footer carries this head. "
            "The writing of this report is the next journal entry (action 'report', with this "
            "file's SHA-256 and size), appended after the file was written: the head above is "
            "the head before that entry."
        ),
    ]


def _user() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown user"
    return f"{user} on {socket.gethostname() or 'unknown host'}"


def _zone(tz: ZoneInfo | None) -> str:
    return "in UTC" if tz is None else f"in {getattr(tz, 'key', tz)}, with their UTC offset"


def _verdict_words(verdict: str | None) -> str:
    return {
        "verified": "Every input is a sealed bundle verified under a trusted key, and no stream "
        "has a gap, fork or rollback.",
        "untrusted": "Nothing was found altered, but some evidence is sealed by a key the trust "
        "store does not hold, or is not sealed at all: see sections 2, 4 and 5.",
        "unsealed": "Nothing was found altered, but some evidence is not sealed: its content "
        "is vouched for by no one (sections 2 and 3).",
        "tampered": "Some evidence is not what was sealed, or a stream has a gap, fork or "
        "rollback: see section 4.",
        "invalid": "Some input could not be read as evidence: see section 4.",
    }.get(str(verdict), "")


def _summary(f: _Facts) -> list[Block]:
    s = f.stats
    inputs = f.inventory
    bundles = sum(1 for i in inputs if i.kind == "bundle")
    raw = sum(1 for i in inputs if i.kind == "raw")
    by_verdict = ", ".join(f"{v} {n:,}" for v, n in s["bundles_by_verdict"].items()) or "none"
    by_integrity = ", ".join(f"{v} {n:,}" for v, n in s["events_by_integrity"].items()) or "none"
    differ = sum(1 for i in inputs if i.state == DIFFERS)
    unreachable = sum(1 for i in inputs if i.state == UNREACHABLE)
    rows = [
        ("Events", f"{s['events']:,} ({by_integrity})"),
        ("Time span", f"{_t(s['time_first_ns'], f.tz)} to {_t(s['time_last_ns'], f.tz)}"),
        ("Inputs", f"{len(inputs):,}: {bundles:,} sealed bundle(s), {raw:,} raw file(s)"),
        ("Bundles by verdict", by_verdict),
        (
            "Streams",
            f"{len(s['streams']):,} sealed, {len(s['raw_streams']):,} of raw evidence",
        ),
        ("Case verdict", f.overview.case_verdict or "no evidence"),
        (
            "Inputs at report time",
            f"all {len(inputs):,} match their digest at intake"
            if not differ and not unreachable
            else f"{differ:,} differ from their digest at intake, {unreachable:,} not reachable, "
            f"of {len(inputs):,} (section 3)",
        ),
        (
            "Bookmarked events",
            f"{len(f.marked):,}, exhibits {_ranges(range(1, len(f.marked) + 1))}"
            if f.marked
            else "none",
        ),
        ("Detections stored", f"{len(f.found):,}" if f.found else "none (detect was not run)"),
        ("Journal", f"{_count(f.head[0], 'entry', 'entries')}, {f.journal_status}"),
    ]
    tones: dict[str, Tone] = {
        "Case verdict": _state_tone(f.overview.case_verdict),
        "Inputs at report time": "bad" if differ else ("warn" if unreachable else "good"),
        "Journal": "good" if f.journal_status == "intact" else "bad",
    }
    return [
        Heading("1. Case summary", 1, "summary"),
        Table(
            ("", ""),
            tuple((_c(k), _c(v, tones.get(k, "plain"))) for k, v in rows),
            (1, 3),
        ),
    ]


def _proves(f: _Facts) -> list[Block]:
    o = f.overview
    verified = [b for b in o.bundles if b["verdict"] == "verified"]
    untrusted = [b for b in o.bundles if b["verdict"] == "untrusted"]
    tampered = [b for b in o.bundles if b["verdict"] == "tampered"]
    raw = [i for i in f.inventory if i.kind == "raw"]
    blocks: list[Block] = [
        Heading("2. What this evidence proves and what it does not", 1, "proves"),
        Paragraph(
            "This section says in plain words what the checks in this report establish, and "
            "where they stop. It applies to the evidence as the case holds it today."
        ),
        Heading("What the signatures prove", 2),
        Paragraph(
            f"{_count(len(verified), 'bundle')} verified: each carries a signature, made with a "
            "private key whose public key is in the trust store (section 5), over a manifest "
            "that fixes the digest of every record in it. This proves that whoever held that "
            "private key sealed exactly these records, in this order, and that not one byte of "
            "them changed since. It does not prove who held the key: section 5 says who the "
            "trust store names as its owner and how the key was obtained."
            if verified
            else "No bundle of this case is verified under a trusted key: no signature here "
            "proves who sealed any of its evidence.",
            "plain" if verified else "warn",
        ),
        Heading("What the hash chain proves", 2),
        Paragraph(
            "Within a stream each sealed record is chained to the one before it, and each "
            "bundle to the previous bundle of its stream. Between the first and the last "
            "sequence number the case holds of a stream, a record removed, added, changed or "
            "moved after sealing is therefore detected and named (section 4). This is order and "
            "completeness after sealing, and only within that range."
        ),
        Heading("What it does not prove", 2),
        Paragraph(
            "That the events are true. A record says what the source system logged; a false or "
            "mistaken log line, once sealed, verifies like a true one. Times are the source's "
            "clocks, not checked against any other clock."
        ),
        Paragraph(
            "Anything about what happened before sealing: a record lost or altered between the "
            "event and the seal leaves no trace in the seal."
        ),
        Paragraph(
            "Completeness before the first bundle of a stream or after its last: records "
            "sealed before the first sequence number the case holds, or after the last, are "
            "simply not here, and nothing in the evidence says how many there were."
        ),
    ]
    if raw:
        blocks.append(
            Paragraph(
                f"{_count(len(raw), 'input')} {'was' if len(raw) == 1 else 'were'} imported "
                f"raw, not sealed ({f.stats['events_by_integrity'].get('unsealed', 0):,} "
                "events, integrity 'unsealed'). No signature or chain vouches for their content: "
                "their SHA-256 at intake only shows whether the file changed since it was "
                "imported (section 3), not what it held before.",
                "warn",
            )
        )
    if untrusted:
        blocks.append(
            Paragraph(
                f"{_count(len(untrusted), 'bundle')} {'is' if len(untrusted) == 1 else 'are'} "
                "untrusted: intact since sealing, but signed by a key the trust store does not "
                "hold, so nothing says who sealed them.",
                "warn",
            )
        )
    if tampered:
        blocks.append(
            Paragraph(
                f"{_count(len(tampered), 'bundle')} {'is' if len(tampered) == 1 else 'are'} "
                "tampered: some of their records are not what was sealed (section 4 names each "
                "one); those records prove nothing, the others of the bundle are still proven by "
                "the Merkle tree.",
                "bad",
            )
        )
    if o.gaps:
        for gap in o.gaps:
            blocks.append(
                Paragraph(
                    f"Gap in stream {gap.stream_id}: sequence numbers "
                    f"{gap.last_seq_before + 1} to {gap.first_seq_after - 1} are in no bundle "
                    f"the case holds (between {_t(gap.start_ns, f.tz)} and "
                    f"{_t(gap.end_ns, f.tz)}). Those records are missing from this "
                    "examination; whether they were deleted, never exported or not collected "
                    "cannot be told from the evidence.",
                    "bad",
                )
            )
    elif o.bundles:
        blocks.append(
            Paragraph(
                "No gap: for every stream, each sequence number between the first and the last "
                "the case holds is in a bundle.",
                "good",
            )
        )
    words = {
        "BUNDLE_FORK": "does not continue the chain of the bundle before it, or covers sequence "
        "numbers another bundle covers: two versions of the stream's history exist, and which "
        "one is true cannot be told from the evidence",
        "BUNDLE_ROLLBACK": "names its predecessor but goes back over sequence numbers that "
        "predecessor covers: records were sealed again, and which version is true cannot be "
        "told from the evidence",
    }
    for h in f.stream_history:
        if h["closed_input_id"] is None and h["code"] in words:
            blocks.append(
                Paragraph(
                    f"{h['code']} in stream {h['stream_id']} at sequence number {h['seq']}: "
                    f"bundle {h['bundle_id']} {words[h['code']]} (section 4).",
                    "bad",
                )
            )
    if f.marked:
        blocks.append(_exhibit_standing(f))
    blocks += [
        Heading("The journal and this report", 2),
        Paragraph(
            "Every examiner action on the case is in its journal, each entry hash-chained to "
            "the one before. The chain shows whether entries were altered, removed or added "
            "after being written, but it is not signed: someone able to rewrite both the "
            "journal and the case database could rewrite it from some point on. The head hash "
            "printed in this report is a copy kept outside the case: a journal that no longer "
            f"reaches this head was changed after this report was written. At writing, the "
            f"journal's verification said: {f.journal_status}.",
            "good" if f.journal_status == "intact" else "bad",
        ),
    ]
    if f.signed:
        blocks.append(
            Paragraph(
                "This report is signed by the examiner: a PDF signature validator shows whether "
                "the file changed since it was signed, and whose key signed it."
            )
        )
    return blocks


def _exhibit_standing(f: _Facts) -> Paragraph:
    """Which exhibits rest on a trusted seal and which do not, in one sentence per class."""
    by_state: dict[str, list[int]] = {}
    for n, entry in enumerate(f.marked, start=1):
        state = entry.event.get("integrity") if entry.event else "missing"
        by_state.setdefault(str(state), []).append(n)
    words = {
        "verified": "are sealed under a trusted key and verified",
        "untrusted": "are intact under a seal whose key the trust store does not hold",
        "tampered": "are not what was sealed: they prove nothing",
        "unsealed": "come from raw imports: nothing vouches for their content",
        "missing": "are no longer in the case (the evidence was not imported again)",
    }
    parts = [
        f"{_ranges(numbers)} {words.get(state, 'have integrity ' + state)}"
        for state, numbers in sorted(by_state.items())
    ]
    worst: Tone = (
        "bad"
        if {"tampered", "missing"} & by_state.keys()
        else ("warn" if {"untrusted", "unsealed"} & by_state.keys() else "good")
    )
    return Paragraph("Of the bookmarked events (section 6): " + "; ".join(parts) + ".", worst)


def _inventory(f: _Facts) -> list[Block]:
    rows = []
    for item in f.inventory:
        if item.state == MATCHES:
            now = _c(MATCHES, "good")
        elif item.state == DIFFERS:
            detail = f"{DIFFERS}: now {item.size_now:,} bytes, SHA-256 {item.sha256_now}"
            now = _c(detail, "bad")
        else:
            now = _c(f"{UNREACHABLE} ({item.reason})", "warn")
        rows.append(
            (
                _c(item.input_id),
                _c(item.path, mono=True),
                _c(f"{item.kind}, {item.verdict}", _state_tone(item.verdict)),
                _c(f"{item.size:,}"),
                _c(item.sha256, mono=True),
                now,
            )
        )
    return [
        Heading("3. Evidence inventory", 1, "inventory"),
        Paragraph(
            "Every input imported, with its size and SHA-256 as hashed at intake (before "
            "anything parsed it) and hashed again from the same path when this report was "
            "written. A folder's digest is that of its files' names and digests in name order "
            "(docs/case.md, \"Importing\"). 'matches' means the path holds the very bytes "
            "imported; 'differs' that it holds other bytes now; 'not reachable at report time' "
            "that it could not be read, which says nothing either way."
        ),
        Table(
            (
                "#",
                "Path",
                "Kind, verdict",
                "Bytes at intake",
                "SHA-256 at intake",
                "At report time",
            ),
            tuple(rows),
            (0.4, 3, 1.2, 1.1, 2.6, 1.8),
            caption=f"{_count(len(rows), 'input')}; imported between "
            + (
                f"{min(i.imported_at for i in f.inventory)} and "
                f"{max(i.imported_at for i in f.inventory)}"
                if f.inventory
                else "(none)"
            ),
        ),
    ]


def _verification(f: _Facts) -> list[Block]:
    o = f.overview
    blocks: list[Block] = [
        Heading("4. Verification", 1, "verification"),
        Paragraph(
            f"Case verdict: {o.case_verdict or 'no evidence'}. The case's verdict is the worst "
            "of each input's own verdict and each stream's verdict (docs/verification.md).",
            _state_tone(o.case_verdict),
        ),
        Heading("Bundles", 2),
    ]
    if o.bundles:
        blocks.append(
            Table(
                ("Bundle", "Stream", "Sequence", "Records", "Signer key", "Sealed", "Verdict"),
                tuple(
                    (
                        _c(b["bundle_id"], mono=True),
                        _c(b["stream_id"]),
                        _c(f"{b['first_seq']}–{b['last_seq']}"),
                        _c(f"{b['record_count'] or 0:,}"),
                        _c(_short(b["signer_key_id"]), mono=True),
                        _c(b["sealed_at"]),
                        _c(b["verdict"], _state_tone(b["verdict"])),
                    )
                    for b in o.bundles
                ),
                (2.1, 1.9, 1.1, 0.95, 1.5, 2.2, 1),
                caption="Signer keys are shortened to their first 16 hex digits; section 5 "
                "gives them whole.",
            )
        )
    else:
        blocks.append(Paragraph("The case holds no sealed bundle."))
    blocks.append(Heading("Findings of the bundles and between them", 2))
    if o.findings:
        shown = o.findings[:MAX_ROWS]
        blocks.append(
            Table(
                ("Severity", "Code", "Where", "Message", "Expected / actual"),
                tuple(
                    (
                        _c(x["severity"], _severity_tone(x["severity"])),
                        _c(x["code"], mono=True),
                        _c(_place(x), mono=True),
                        _c(x["message"]),
                        _c(_expected(x), mono=True),
                    )
                    for x in shown
                ),
                (0.9, 1.6, 2, 3, 2),
                caption=_more(
                    len(o.findings), len(shown), "auditlens verify BUNDLE on each bundle"
                ),
            )
        )
    else:
        blocks.append(Paragraph("No finding.", "good"))
    blocks.append(Heading("Streams", 2))
    if o.streams:
        blocks.append(
            Table(
                ("Stream", "Epoch", "Bundles", "Sequence", "Open gaps", "Verdict"),
                tuple(
                    (
                        _c(s["stream_id"]),
                        _c(s["epoch"]),
                        _c(s["bundle_count"]),
                        _c(f"{s['first_seq']}–{s['last_seq']}"),
                        _c(s["open_gaps"], "bad" if s["open_gaps"] else "plain"),
                        _c(s["verdict"], _state_tone(s["verdict"])),
                    )
                    for s in o.streams
                ),
                (3, 0.7, 0.8, 1.4, 0.9, 1),
            )
        )
    if f.stream_history:
        blocks.append(
            Table(
                ("Stream", "Code", "Sequence", "Message", "Opened by input", "Closed by input"),
                tuple(
                    (
                        _c(h["stream_id"]),
                        _c(h["code"], mono=True),
                        _c(h["seq"]),
                        _c(h["message"]),
                        _c(h["opened_input_id"]),
                        _c(
                            "still open" if h["closed_input_id"] is None else h["closed_input_id"],
                            "bad" if h["closed_input_id"] is None else "plain",
                        ),
                    )
                    for h in f.stream_history[:MAX_ROWS]
                ),
                (1.6, 1.5, 1.1, 3, 0.9, 0.9),
                caption="Findings between bundles with their history: a gap filled by a bundle "
                "imported later is closed by that input. "
                + _more(len(f.stream_history), min(len(f.stream_history), MAX_ROWS), ""),
            )
        )
    elif o.streams:
        blocks.append(Paragraph("No finding between bundles, now or before.", "good"))
    if o.raw_streams:
        blocks.append(
            Paragraph(
                "Raw evidence (unsealed, not verified): "
                + "; ".join(
                    f"{stream} ({_t(lo, f.tz)} to {_t(hi, f.tz)})"
                    for stream, lo, hi in o.raw_streams
                )
                + ".",
                "warn",
            )
        )
    return blocks


def _short(key: Any) -> str:
    return "" if not key else (str(key)[:16] + "…" if len(str(key)) > 16 else str(key))


def _severity_tone(severity: Any) -> Tone:
    tones: dict[str, Tone] = {"error": "bad", "warning": "warn"}
    return tones.get(str(severity), "plain")


def _place(finding: dict[str, Any]) -> str:
    parts = []
    if finding.get("path"):
        parts.append(str(finding["path"]) + (f":{finding['line']}" if finding.get("line") else ""))
    if finding.get("stream_id") is not None and finding.get("seq") is not None:
        parts.append(f"{finding['stream_id']}#{finding['seq']}")
    return " ".join(parts)


def _expected(finding: dict[str, Any]) -> str:
    said = [
        f"{name} {finding[name]}"
        for name in ("expected", "actual")
        if finding.get(name) is not None
    ]
    return "; ".join(said)


def _more(total: int, shown: int, how: str) -> str:
    if total <= shown:
        return f"All {total:,} listed."
    return f"The first {shown:,} of {total:,} are listed" + (f"; {how} lists all." if how else ".")


def _trust(f: _Facts) -> list[Block]:
    o = f.overview
    blocks: list[Block] = [Heading("5. Trust store", 1, "trust")]
    signers: dict[str, list[str]] = {}
    for b in o.bundles:
        if b["signer_key_id"]:
            signers.setdefault(str(b["signer_key_id"]), []).append(str(b["verdict"]))
    if f.trust:
        blocks.append(
            Paragraph(
                "The keys the trust store given to the case's imports held, as the case "
                "recorded them at import. 'How obtained' is what the trust store says; "
                "AuditLens does not check it."
            )
        )
        for key in f.trust:
            limits = ", ".join(
                f"{label} {key[name]}"
                for label, name in (
                    ("valid from", "not_before"),
                    ("until", "not_after"),
                    ("revoked", "revoked_at"),
                )
                if key.get(name)
            )
            if key.get("revocation_reason"):
                limits += f" ({key['revocation_reason']})"
            sources = "; ".join(
                f"{s.get('path')} (SHA-256 {s.get('sha256') or 'not read'})"
                for s in key.get("sources", [])
            )
            sample = " This is a SAMPLE key: never for real evidence." if key.get("sample") else ""
            rows = (
                (_c("Key id"), _c(key["key_id"], mono=True)),
                (_c("Algorithm"), _c(key.get("algorithm"))),
                (
                    _c("Owner"),
                    _c(
                        key.get("owner") or "not recorded in the trust store",
                        "plain" if key.get("owner") else "warn",
                    ),
                ),
                (
                    _c("How obtained"),
                    _c(
                        (key.get("obtained") or "not recorded in the trust store") + sample,
                        "warn" if sample or not key.get("obtained") else "plain",
                    ),
                ),
                (_c("Validity"), _c(limits or "no limits recorded")),
                (_c("Trust store file"), _c(sources or "not recorded", mono=True)),
                (
                    _c("Bundles it signed"),
                    _c(f"{len(signers.get(key['key_id'], [])):,} in this case"),
                ),
            )
            blocks.append(Table(("Trusted key", _short(key["key_id"])), rows, (1, 4)))
    else:
        blocks.append(
            Paragraph(
                "The case does not record which trust store its imports were given (an import "
                "made without one, or before AuditLens kept this record). The owners of the "
                "keys and how they were obtained are therefore not stated here. What the case "
                "does record is each bundle's signer and its verdict: 'verified' means the "
                "signer's key was in the trust store given at import, 'untrusted' that it was "
                "not.",
                "warn",
            )
        )
    known = {k["key_id"] for k in f.trust}
    if signers:
        blocks.append(
            Table(
                (
                    "Signer key id (from the bundles)",
                    "Bundles",
                    "Verdicts",
                    "In the recorded trust store",
                ),
                tuple(
                    (
                        _c(key, mono=True),
                        _c(len(verdicts)),
                        _c(", ".join(sorted(set(verdicts)))),
                        _c(
                            "yes" if key in known else ("no" if f.trust else "not recorded"),
                            "good" if key in known else "warn",
                        ),
                    )
                    for key, verdicts in sorted(signers.items())
                ),
                (3.4, 0.8, 1.4, 1.4),
            )
        )
    return blocks


def _bookmarks(f: _Facts) -> list[Block]:
    blocks: list[Block] = [Heading("6. Bookmarked events (exhibits)", 1, "exhibits")]
    if not f.marked:
        return [*blocks, Paragraph("No event is bookmarked in this case.")]
    blocks.append(
        Paragraph(
            f"{_count(len(f.marked), 'bookmarked event')} in time order, each numbered as an "
            f"exhibit ({_ranges(range(1, len(f.marked) + 1))}) that the rest of this report "
            "cites. A reference names the record in any case built from the same evidence "
            "(stream:STREAM#SEQ for a sealed record, raw:SHA256#LINE[.K] for a raw one); "
            "'auditlens exhibit CASE --event REF --out DIR' carries it out with its proof."
        )
    )
    rows = []
    for n, entry in enumerate(f.marked, start=1):
        event = entry.event
        if event is None:
            what = _c("not in the case now", "bad")
            when = _c("")
        else:
            fields = [
                f"{event.get('kind') or 'event'}:",
                f"{event.get('actor_id') or '(no actor)'}",
                str(event.get("action") or event.get("name") or event.get("kind") or ""),
            ]
            if event.get("resource_id"):
                fields.append(f"{event.get('resource_type') or 'resource'} {event['resource_id']}")
            if event.get("outcome"):
                fields.append(f"({event['outcome']})")
            text = " ".join(fields)
            # An audit record's body is the record itself, whose fields are already shown.
            body = "" if event.get("kind") == "audit" else _excerpt(event.get("body"))
            if body:
                text += f"; body: {body}"
            text += f"; integrity {event.get('integrity')}"
            what = _c(text, _state_tone(event.get("integrity")))
            when = _c(_spaced(_t(event.get("time_ns"), f.tz)), mono=True)
        rows.append(
            (
                _c(f"E-{n}"),
                when,
                what,
                _c(entry.ref, mono=True),
                _c(", ".join(entry.tags)),
                _c(" | ".join(entry.notes)),
            )
        )
    blocks.append(
        Table(
            ("Exhibit", "Time", "Event", "Reference", "Tags", "Notes"),
            tuple(rows),
            (0.95, 2.5, 2.8, 2.1, 1.1, 1.5),
        )
    )
    return blocks


def _charts(case: Case, f: _Facts) -> list[Block]:
    # Imported here, not at the top: matplotlib and numpy take about half a second to load, and
    # the workbench and every command reach this module at start (the first window, README,
    # Packaging), while only a report draws.
    from auditlens.core.report import charts

    blocks: list[Block] = [
        PageBreak(),
        Heading("7. Charts", 1, "charts"),
        Paragraph(
            "Drawn from the case with the same queries the workbench's views use (docs/report.md, "
            '"Charts").'
        ),
    ]
    bookmarked_actors = [
        str(e.event["actor_id"]) for e in f.marked if e.event and e.event.get("actor_id")
    ]
    for chart in (
        charts.activity_histogram(case, f.tz),
        charts.actor_swimlanes(case, f.tz, first=bookmarked_actors),
        charts.integrity_map(f.overview, f.tz),
    ):
        blocks.append(Image(chart.png, chart.width_px, chart.height_px, chart.dpi, chart.caption))
    return blocks


def _detections(f: _Facts) -> list[Block]:
    blocks: list[Block] = [Heading("8. Detections", 1, "detections")]
    if not f.found:
        return [
            *blocks,
            Paragraph(
                "No detection findings are stored: 'auditlens detect' was not run on this case, "
                "or found nothing. This is not a statement that nothing suspicious happened."
            ),
        ]
    worst_first = ordered(f.found)
    counts: dict[str, int] = {}
    for finding in worst_first:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    blocks.append(
        Paragraph(
            f"{_count(len(worst_first), 'finding')} of the last detection run ("
            + ", ".join(f"{counts[s]:,} {s}" for s in reversed(SEVERITIES) if s in counts)
            + "), worst first. A detection is a lead for the examiner, not a conclusion: each "
            "says which rule flagged what and why, and the events it rests on."
        )
    )
    exhibit_at = {
        ref[len("stream:") :]: n for ref, n in f.exhibit_of.items() if ref.startswith("stream:")
    }
    rows = []
    for finding in worst_first[:MAX_DETECTIONS]:
        cited = sorted(
            {
                exhibit_at[f"{e.stream_id}#{e.seq}"]
                for e in finding.events
                if f"{e.stream_id}#{e.seq}" in exhibit_at
            }
        )
        events = _count(len(finding.events), "event") + (
            f"; exhibits {_ranges(cited)}" if cited else ""
        )
        rows.append(
            (
                _c(finding.severity, _detection_tone(finding.severity)),
                _c(f"{finding.title} ({finding.rule})"),
                _c(finding.actor_id or ""),
                _c(
                    f"{_spaced(_t(finding.time_first_ns, f.tz))}\n"
                    f"to {_spaced(_t(finding.time_last_ns, f.tz))}",
                    mono=True,
                ),
                _c(finding.explanation),
                _c(events),
            )
        )
    blocks.append(
        Table(
            ("Severity", "Finding (rule)", "Actor", "When", "Why", "Rests on"),
            tuple(rows),
            (1.05, 1.9, 1.1, 2.5, 2.7, 1.2),
            caption=_more(len(worst_first), len(rows), "auditlens findings CASE"),
        )
    )
    return blocks


def _detection_tone(severity: str) -> Tone:
    tones: dict[str, Tone] = {"critical": "bad", "high": "bad", "medium": "warn"}
    return tones.get(severity, "plain")


def _methods(f: _Facts) -> list[Block]:
    versions = _versions()
    if f.renderer:
        versions.append(("written as", f.renderer))
    blocks: list[Block] = [
        Heading("9. Methods", 1, "methods"),
        Paragraph(
            "Verification follows docs/verification.md of AuditLens; the case, its import and "
            "its journal docs/case.md; this report docs/report.md. The versions of the tool "
            "and libraries that wrote this report:"
        ),
        Table(
            ("Software", "Version"),
            tuple((_c(n), _c(v, mono=True)) for n, v in versions),
            (1, 2),
        ),
        Heading("The examiner's actions", 2),
    ]
    rows = f.journal_rows
    per = rows.per
    queries_total = sum(per.values())
    list_queries = queries_total <= MAX_JOURNAL_QUERIES
    shown = rows.mixed if list_queries else rows.actions
    listed_total = rows.total if list_queries else rows.total - queries_total
    note = (
        "The journal's entries, each as the command that does the same ('CASE' is the case "
        f"folder, {f.folder}); the workbench's actions that have no command are described in "
        "words."
    )
    if not list_queries:
        note += (
            f" The {queries_total:,} queries (reads that change nothing) are counted, not "
            "listed: " + ", ".join(f"{name} {n:,}" for name, n in sorted(per.items())) + "."
        )
    if f.journal_problems:
        note += " The journal's verification found: " + "; ".join(f.journal_problems) + "."
    blocks.append(Paragraph(note, "plain" if f.journal_status == "intact" else "bad"))
    blocks.append(
        Table(
            ("#", "Time (UTC)", "From", "Command"),
            tuple(shown),
            (0.45, 2.3, 0.7, 6),
            caption=_more(listed_total, len(shown), "the journal file"),
        )
    )
    blocks += [
        Heading("Journal head", 2, "head"),
        Paragraph(
            f"When this report was written the journal held {_count(f.head[0], 'entry', 'entries')}"
            f" and its verification said {f.journal_status}. Head hash (SHA-256 of the last "
            "entry):"
        ),
        Paragraph(f"{f.head[0]}:{f.head[1]}", mono=True),
        Paragraph(
            f"This report's own creation is entry {f.head[0]}, appended after the file was "
            "written with the file's SHA-256 and size: 'auditlens journal verify CASE' checks "
            "the chain, and that entry's digest can be compared with this file's."
        ),
    ]
    return blocks


# -- writing and journaling -----------------------------------------------------------------


@dataclass(frozen=True)
class ReportResult:
    """What was written: the file, its form, size and SHA-256, and the head it names."""

    path: Path
    format: str
    size: int
    sha256: str
    journal_head: tuple[int, str]
    exhibits: int
    signed: bool = False


def report_format(out: Path) -> str:
    """``pdf`` or ``html`` from the file's suffix.

    Raises:
        UsageError: for any other suffix.
    """
    suffix = out.suffix.lower().lstrip(".")
    if suffix == "htm":
        suffix = "html"
    if suffix not in FORMATS:
        raise UsageError(f"{out.name}: a report is written as FILE.pdf or FILE.html")
    return suffix


def write_report(
    case: Case,
    out: Path,
    *,
    tz: ZoneInfo | None = None,
    signer: ReportSigner | None = None,
    token: CancelToken | None = None,
) -> Generator[Progress, None, ReportResult]:
    """Write the report of ``case`` to the new file ``out`` (a job; ``Legal.report`` journals it).

    The form follows the suffix (``.pdf``, ``.html``). The file is written beside ``out`` and
    linked to its name, which fails if the name exists: nothing is ever overwritten, and an
    interrupted report leaves nothing under the name (as an export, report/export.py). The
    result carries what the journal entry ``report`` holds (:func:`report_details`): output
    path, format, size, SHA-256, the journal head the report names, the number of exhibits.

    Raises:
        UsageError: for an unknown suffix, an existing output or one inside the evidence.
    """
    from auditlens.core.report.export import destination, file_sha256

    fmt = report_format(out)
    out = destination(case, out, what="a report")
    token = token or CancelToken()
    if fmt == "pdf":
        renderer = "PDF (AuditLens's own writer, core/report/pdf.py)"
        signed = signer is not None
    else:
        renderer = "HTML (self-contained)"
        signed = False
        if signer is not None:
            raise UsageError("only a PDF report can be signed")
    doc = yield from build_report(case, tz=tz, renderer=renderer, signed=signed, token=token)
    head = case.journal_head() or (0, GENESIS_PREV)
    yield Progress("writing", 0, None, "", f"writing {out.name}")
    if fmt == "pdf":
        from auditlens.core.report.pdf import render_pdf

        data = render_pdf(doc, signer=signer)
    else:
        from auditlens.core.report.html import render_html

        data = render_html(doc)
    token.check()
    partial = out.with_name(f".{out.name}.{secrets.token_hex(4)}.partial")
    try:
        with partial.open("xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        digest, size = file_sha256(partial)
        try:
            os.link(partial, out)
        except FileExistsError as exc:
            raise UsageError(
                f"{out} appeared while the report was written: not overwritten"
            ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return ReportResult(out, fmt, size, digest, head, _exhibit_count(doc), signed)


def _exhibit_count(doc: Document) -> int:
    for block in doc.blocks:
        if isinstance(block, Table) and block.columns and block.columns[0] == "Exhibit":
            return len(block.rows)
    return 0


def report_details(result: ReportResult) -> dict[str, Any]:
    """The journal entry's details of a report: what was written and which head it names."""
    return {
        "output": str(result.path),
        "format": result.format,
        "size": result.size,
        "sha256": result.sha256,
        "journal_head_in_report": f"{result.journal_head[0]}:{result.journal_head[1]}",
        "exhibits": result.exhibits,
        "signed": result.signed,
    }
