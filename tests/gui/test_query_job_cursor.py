"""A background reader's cursor reads the case, not the in-memory database it starts in."""

from __future__ import annotations

from pathlib import Path

from auditlens.core.progress import CancelToken
from auditlens.core.store.case import Case
from auditlens.gui.worker import query_job


def test_a_query_job_cursor_reads_the_case_tables(tmp_path: Path) -> None:
    with Case.open(tmp_path / "case", create=True) as case:
        case.db.execute("INSERT INTO meta VALUES ('probe', 'from the case')")
        job = query_job(
            case.db,
            lambda cursor: cursor.execute("SELECT value FROM meta WHERE key = 'probe'").fetchall(),
        )
        run = job(CancelToken())
        try:
            next(run)
        except StopIteration as stop:
            assert stop.value == [("from the case",)]
        else:
            raise AssertionError("the query job yielded instead of returning its answer")
