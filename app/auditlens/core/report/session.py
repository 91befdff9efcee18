"""The legal actions as the examiner takes them: each call journaled with its origin.

The examination API (core/store/session.py) journals every examiner call on a case; it lives
below the report package (layers in pyproject.toml), so the actions that take evidence out of a
case for others are here, made the same way as the analysis's (core/analysis/session.py):
:class:`Legal` acts from an origin (``cli`` or ``workbench``) and each method journals its
parameters and a count or ``sha256:`` digest of what it produced (docs/case.md, "What is
journaled, and from where"). The modules below it (bookmarks, export, exhibit) store and write
but never journal: this class is the one way an examiner's legal action reaches the journal.

Two ways in:

* :meth:`Legal.open` opens the case folder itself (the CLI) and closes it with :meth:`close`;
* :meth:`Legal.of` acts on an :class:`~auditlens.core.store.session.Examination` already open
  (the workbench, which holds no case handle of its own: an import-linter contract), sharing its
  connection and origin; closing the ``Legal`` leaves the examination open. For a long job on
  the workbench's worker, pass an examination's :meth:`~Examination.reader` (its own cursor).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from auditlens.core.progress import CancelToken, Progress
from auditlens.core.report import bookmarks as marks
from auditlens.core.report.bookmarks import Bookmark, BookmarkedEvent
from auditlens.core.report.exhibit import ExhibitResult, make_exhibit
from auditlens.core.report.export import ExportResult, export_details, export_events
from auditlens.core.report.report import ReportResult, report_details, write_report
from auditlens.core.store import queries
from auditlens.core.store.session import OnCase, digest

if TYPE_CHECKING:
    from auditlens.core.report.pdfsign import ReportSigner


class Legal(OnCase):
    """Bookmarks, exports and exhibits of one open case, each journaled with its origin."""

    # -- bookmarks (docs/case.md, "Bookmarks and exports") --------------------------------------

    def refs_at(self, positions: list[int]) -> list[str]:
        """The stable references of the events a view shows at ``positions`` (``ord``).

        Not journaled: it only names what :meth:`bookmark` or :meth:`exhibit` then journals.
        """
        return marks.refs_at(self.case, positions)

    def bookmark(
        self,
        *,
        query: queries.EventQuery | None = None,
        refs: list[str] | None = None,
        tags: list[str] | None = None,
        note: str = "",
    ) -> Bookmark:
        """Bookmark a filter's events or events by reference (exactly one), journaled.

        The entry (``bookmark``) names the selection, tags, note, count and the references (past
        1,000, the SHA-256 of their sorted list). A bookmark whose entry cannot be written is
        removed again: no bookmark exists that the journal does not name.

        Raises:
            UsageError: see :func:`~auditlens.core.report.bookmarks.add_bookmark`.
        """
        mark = marks.add_bookmark(self.case, query=query, refs=refs, tags=tags, note=note)
        try:
            self.case.journal("bookmark", marks.journal_details(mark))
        except BaseException:
            marks.remove_bookmark(self.case, mark.bookmark_id)
            raise
        return mark

    def marks_at(self, positions: list[int]) -> dict[int, BookmarkedEvent]:
        """The bookmarks naming the events a view shows at ``positions`` (``ord``), by position.

        Not journaled: a derived read that only marks rows already shown, as the table's pages
        are not (docs/case.md, "What is journaled, and from where").
        """
        return marks.marks_at(self.case, positions)

    def bookmarks(self) -> list[BookmarkedEvent]:
        """Every bookmarked event once, in time order, with tags and notes (journaled).

        The entry (``query``, ``bookmarks``) holds the rows and the digest of their references
        in the order listed.
        """
        found = marks.bookmarked_events(self.case)
        self.case.journal(
            "query",
            {"command": "bookmarks", "rows": len(found), "digest": digest([e.ref for e in found])},
        )
        return found

    # -- export ------------------------------------------------------------------------------

    def export(
        self,
        query: queries.EventQuery,
        *,
        fmt: str,
        out: Path,
        token: CancelToken | None = None,
    ) -> Generator[Progress, None, ExportResult]:
        """Write the events of ``query`` to the new file ``out`` in ``fmt``; a job, journaled.

        The entry (``export``) names the filter, from, to, zone, format, output path, rows, size
        and the file's SHA-256. A refused or cancelled export writes nothing and no entry.
        """
        result = yield from export_events(self.case, query, out, fmt, token)
        self.case.journal("export", export_details(query, result))
        return result

    # -- exhibit (docs/exhibit-format.md) ----------------------------------------------------

    def exhibit(
        self,
        out: Path,
        *,
        query: queries.EventQuery | None = None,
        refs: list[str] | None = None,
        created_at: str | None = None,
        token: CancelToken | None = None,
    ) -> Generator[Progress, None, ExhibitResult]:
        """Write an exhibit of a filter's events or of ``refs`` into the new folder ``out``.

        A job, journaled once written: the entry (``exhibit``) names the selection, count,
        references (past 1,000 their digest), the folder, sealed and unsealed counts, the
        bundles and the index's SHA-256.
        """
        result = yield from make_exhibit(
            self.case, out, query=query, refs=refs, created_at=created_at, token=token
        )
        details: dict[str, Any] = {
            "selection": result.selection,
            "count": len(result.refs),
            **marks.refs_detail(list(result.refs)),
            "out": str(out),
            "sealed": result.sealed,
            "unsealed": result.unsealed,
            "bundles": list(result.bundle_ids),
            "index_sha256": result.index_sha256,
        }
        self.case.journal("exhibit", details)
        return result

    # -- the examination report (docs/report.md) -----------------------------------------------

    def report(
        self,
        out: Path,
        *,
        tz: ZoneInfo | None = None,
        signer: ReportSigner | None = None,
        token: CancelToken | None = None,
    ) -> Generator[Progress, None, ReportResult]:
        """Write the examination report to the new file ``out`` (``.pdf`` or ``.html``); a job.

        Journaled once the file is written, since the entry holds its digest (docs/report.md,
        "The report in the journal"): the entry (``report``) names the output path, format,
        size, SHA-256, the journal head printed in the report (the head before this entry),
        the number of exhibits and whether it is signed. A refused or cancelled report writes
        nothing and no entry.
        """
        result = yield from write_report(self.case, out, tz=tz, signer=signer, token=token)
        details = report_details(result)
        head = self.case.journal_head()
        if head is not None and head != result.journal_head:
            # Another action was journaled while the report was written (the workbench's
            # reader, another process): this entry is not the one the report announces as next.
            details["entries_after_report_head"] = head[0] - result.journal_head[0]
        self.case.journal("report", details)
        return result
