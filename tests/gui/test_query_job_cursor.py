"""A background reader's cursor reads the case, not the in-memory database it starts in."""

from __future__ import annotations

from pathlib import Path

from auditlens.core.progress import CancelToken
from auditlens.core.store.session import Examination
from auditlens.gui.worker import query_job


def test_a_query_job_reader_reads_the_case_tables(tmp_path: Path) -> None:
    with Examination.open(tmp_path / "case", origin="workbench", create=True) as session:
        # A cursor left in DuckDB's in-memory database finds no table "events" there.
        job = query_job(session, lambda reader: reader.counts())
        run = job(CancelToken())
        try:
            next(run)
        except StopIteration as stop:
            assert (stop.value.events, stop.value.inputs, stop.value.findings) == (0, 0, 0)
        else:
            raise AssertionError("the query job yielded instead of returning its answer")
