"""Crash safety of ``auditlens import`` (docs/case.md "One transaction per input").

An import may die anywhere: killed with SIGKILL (with its decoding workers; or only they die, or
only it does), or starved of disk (RLIMIT_FSIZE, and a tmpfs too small for the case). Afterwards
the case must open, hold exactly the inputs committed before (each with every one of its events,
never part of one), name each of them in its journal, verify its journal, and importing the inputs
it lacks must complete it to exactly what one uninterrupted import makes.

Where to kill. The CLI draws no progress off a terminal and the application has no crash hook, so
the test brings its own: the CLI runs under a small launcher (:data:`LAUNCHER`) that counts the
case's database calls and journal appends (*points*), logs each one to a trace, and at the point
numbered ``AUDITLENS_TEST_KILL_AT`` kills before making the call. A kill point is a named place in
the import (a commit, the gap between a commit and its journal entry, workers decoding, ...) looked
up in the trace of one uninterrupted reference run, and hit exactly rather than after a delay. Each
killed run's own trace must agree with the reference up to its kill, so a point is what it says.

The inputs: three raw files and three sealed bundles, one of them large enough (records and bytes)
that the importer decodes it in worker processes in several tasks, so kills land while workers are
busy. The launcher pretends two cores (as tests/conftest.py does) so that path runs on any machine.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import sample_key
from auditlens.core.formats.base import SourceRecord
from auditlens.core.schema import FIELD_NAMES
from auditlens.core.store import importer
from auditlens.core.store.case import DB_NAME
from auditlens.core.store.journal import JOURNAL_NAME
from auditlens.core.verify.findings import EXIT_CODES, Verdict, worst

HANG_GUARD_SECONDS = 300  # backstop for a child blocked forever (never asserted)
WORKER_EXIT_GUARD_SECONDS = 5.0  # how long orphaned workers get to notice their parent died
DAY_NS = 1_772_409_600 * 1_000_000_000  # 2026-03-02T00:00:00Z

LAUNCHER = '''\
"""auditlens with crash points, for tests/test_crash_safety.py (see its docstring)."""
import json
import os
import signal
import sys


def install(kill_at, mode, trace, case_dir):
    from auditlens.core.store import case as case_module
    from auditlens.core.store import journal as journal_module

    count = 0
    log = open(trace, "a", buffering=1) if trace else None

    def sizes():
        found = []
        for folder in (case_dir, os.path.join(case_dir, ".duckdb-tmp")):
            try:
                found += [e.stat().st_size for e in os.scandir(folder) if e.is_file()]
            except OSError:
                pass
        return max(found, default=0), sum(found)

    def helpers():
        """The worker processes and resource tracker alive now, as (pid, start time)."""
        import multiprocessing
        from multiprocessing import resource_tracker

        pids = [child.pid for child in multiprocessing.active_children()]
        tracker = getattr(resource_tracker._resource_tracker, "_pid", None)
        found = []
        for pid in pids + ([tracker] if tracker else []):
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    found.append([pid, int(stat.read().rsplit(")", 1)[1].split()[19])])
            except FileNotFoundError:  # ended between the listing and the read: not alive now
                pass
        return found

    def point(call, detail):
        nonlocal count
        count += 1
        if log is not None:
            largest, total = sizes()
            log.write(json.dumps([count, call, detail[:80], largest, total]) + "\\n")
        if log is not None and (count == kill_at or call == "rollback"):
            # Listed before the file is opened: a failure while listing must not leave it empty.
            listed = json.dumps(helpers())
            with open(trace + ".helpers", "w") as out:
                out.write(listed)
        if count != kill_at:
            return
        if mode == "group":  # the import and its worker processes, as a power cut or OOM
            os.killpg(os.getpgid(0), signal.SIGKILL)
        elif mode == "main":  # only the importing process (kill -9 PID)
            os.kill(os.getpid(), signal.SIGKILL)

    class Connection:
        """The case's DuckDB connection, with a point before every call."""

        def __init__(self, real):
            self._real = real

        def __getattr__(self, name):
            attribute = getattr(self._real, name)
            if not callable(attribute):
                return attribute

            def call(*args, **kwargs):
                point(name, args[0] if args and isinstance(args[0], str) else "")
                return attribute(*args, **kwargs)

            return call

    original_init = case_module.Case.__init__

    def init(self, folder, connection):
        original_init(self, folder, Connection(connection))

    case_module.Case.__init__ = init
    original_append = journal_module.Journal.append

    def append(self, action, details, **options):
        point("journal", action)
        return original_append(self, action, details, **options)

    journal_module.Journal.append = append
    original_write_line = journal_module._write_line

    def write_line(fd, line, size, path):  # the entry is announced, its line not yet written
        point("write", "")
        return original_write_line(fd, line, size, path)

    journal_module._write_line = write_line


if __name__ == "__mp_main__" and os.environ.get("AUDITLENS_TEST_KILL_MODE") == "workers":
    # A spawned decoding worker (it imports this file as __mp_main__): it dies on its first
    # task, as if the OOM killer had picked it.
    from auditlens.core.store import decode

    def die(task):
        os.kill(os.getpid(), signal.SIGKILL)

    decode.decode_task = die

if __name__ == "__main__":  # spawned workers import this file too: they must not run it
    os.cpu_count = lambda: 2  # the importer's worker pool on any machine
    install(
        int(os.environ.get("AUDITLENS_TEST_KILL_AT", "0")),
        os.environ.get("AUDITLENS_TEST_KILL_MODE", "group"),
        os.environ.get("AUDITLENS_TEST_TRACE"),
        sys.argv[2],
    )
    from auditlens.cli.main import main

    sys.exit(main(sys.argv[1:]))
'''


# --- the evidence ------------------------------------------------------------------------------


def audit_records(stream: str, count: int, pad: int = 0) -> Iterator[SourceRecord]:
    """Audit-logger records of one stream, one millisecond apart."""
    for i in range(count):
        seconds, millis = divmod(i, 1000)
        stamp = f"2026-03-02T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        line = (
            f'{{"timestamp":"{stamp}.{millis:03d}Z","user_id":"{stream}-u{i % 7}",'
            f'"action":"{("READ", "UPDATE", "EXPORT")[i % 3]}","resource_id":"r-{i}",'
            f'"note":"{"x" * pad}"}}'
        )
        yield SourceRecord(line.encode(), DAY_NS + i * 1_000_000, "audit", stream, i + 1)


def _drive(job: Any) -> Any:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


@dataclass(frozen=True)
class Evidence:
    """The inputs, in import order, and the key that makes the bundles verify."""

    inputs: list[Path]
    verdicts: list[Verdict]
    trust: Path


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    root = tmp_path_factory.mktemp("crash-evidence")
    key = sample_key("crash-safety")
    trust = root / "signer.pub.pem"
    trust.write_bytes(key.public_pem())

    def raw(name: str, count: int) -> Path:
        path = root / name
        data = b"".join(r.line + b"\n" for r in audit_records(name.split(".")[0], count))
        path.write_bytes(gzip.compress(data, mtime=0) if name.endswith(".gz") else data)
        return path

    def bundle(name: str, count: int, pad: int = 0) -> Path:
        stream = name.split(".")[0]
        records = audit_records(stream, count, pad)
        return _drive(seal([], key, root / name, stream_id=stream, records=records)).path

    big_records = importer.PARALLEL_MIN_RECORDS
    inputs = [
        raw("raw-a.jsonl", 400),
        bundle("bundle-a.tar.gz", 300),
        raw("raw-b.jsonl.gz", 600),
        bundle("big.audit", big_records, pad=100),
        raw("raw-c.jsonl", 3_000),
        bundle("bundle-c.zip", 500),
    ]
    # The big bundle goes to the worker pool, in two tasks or more.
    big_data = sum(f.stat().st_size for f in (inputs[3] / "data").iterdir())
    assert big_data > importer.DECODE_TASK_BYTES
    verdicts = [Verdict.UNSEALED, Verdict.VERIFIED] * 3
    return Evidence(inputs, verdicts, trust)


# --- running the launcher ----------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One database call or journal append of an import, as the launcher traced it."""

    n: int  # 1-based position: AUDITLENS_TEST_KILL_AT=n kills just before it
    call: str  # the connection method (execute, begin, commit, ...), "journal" (an append
    # begins) or "write" (its line is about to be written)
    detail: str  # the start of the SQL, or the journal action
    largest: int  # bytes of the largest file in the case folder just before it
    total: int  # bytes of all files in the case folder just before it


@dataclass(frozen=True)
class Run:
    """One launcher run."""

    code: int
    out: str
    err: str
    trace: list[Point]
    helpers: list[tuple[int, int]]  # workers and resource tracker at the kill: (pid, start time)


def launch(
    launcher: Path,
    args: list[str | Path],
    trace: Path | None = None,
    *,
    kill_at: int = 0,
    mode: str = "group",
    limits: Callable[[], None] | None = None,
) -> Run:
    """Run ``auditlens ARGS`` under the launcher, in its own session (process group)."""
    env = {**os.environ, "AUDITLENS_TEST_KILL_AT": str(kill_at), "AUDITLENS_TEST_KILL_MODE": mode}
    if trace is not None:
        trace.unlink(missing_ok=True)
        env["AUDITLENS_TEST_TRACE"] = str(trace)
    process = subprocess.Popen(
        [sys.executable, str(launcher), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        preexec_fn=limits,
    )
    out, err = process.communicate(timeout=HANG_GUARD_SECONDS)
    points, helpers = read_trace(trace)
    return Run(process.returncode, out.decode(), err.decode(), points, helpers)


def read_trace(trace: Path | None) -> tuple[list[Point], list[tuple[int, int]]]:
    """The points a launcher run traced, and the helper processes it saw at its kill."""
    points = []
    helpers: list[tuple[int, int]] = []
    if trace is not None and trace.exists():
        for line in trace.read_text().splitlines():
            n, call, detail, largest, total = json.loads(line)
            points.append(Point(n, call, detail, largest, total))
        listed = trace.with_name(trace.name + ".helpers")
        if listed.exists():
            helpers = [(pid, start) for pid, start in json.loads(listed.read_text())]
    return points, helpers


def running(helpers: list[tuple[int, int]]) -> list[int]:
    """Which of these processes still run (pids are reused: the start time must match too)."""
    alive = []
    for pid, start in helpers:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone
        if fields[0] != "Z" and int(fields[19]) == start:
            alive.append(pid)
    return alive


def wait_for_exit(helpers: list[tuple[int, int]], guard: float) -> list[int]:
    """Wait (on pidfds, no polling) until each process exits or ``guard`` seconds pass.

    Returns the processes still running then.
    """
    handles = {}
    for pid in running(helpers):
        try:
            handles[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            continue  # gone meanwhile
    try:
        still = dict(helpers)
        waiting = {h for h, pid in handles.items() if running([(pid, still[pid])])}
        deadline = time.monotonic() + guard
        while waiting and (left := deadline - time.monotonic()) > 0:
            waiting -= set(select.select(list(waiting), [], [], left)[0])
        return sorted(handles[h] for h in waiting)
    finally:
        for handle in handles:
            os.close(handle)


@pytest.fixture(scope="module", autouse=True)
def own_tmpdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The launched imports' TMPDIR: killed imports leave their decode spools here, not in the
    system's temporary folder."""
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path_factory.mktemp("crash-tmpdir"))
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved


@pytest.fixture(scope="module")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("crash-launcher") / "crash_launcher.py"
    path.write_text(LAUNCHER)
    return path


# --- what a case holds -------------------------------------------------------------------------

_EVENT_DIGEST = f"sum(hash({', '.join(FIELD_NAMES)})::HUGEINT)"  # every column but ord


@dataclass(frozen=True)
class CaseState:
    """Everything a case holds per input, without times of import and the timeline's order."""

    inputs: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]  # (input_id, count, digest of every column of every event)
    bundles: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]

    def prefix(self, count: int) -> CaseState:
        """What the case holds after its first ``count`` inputs."""
        return CaseState(
            self.inputs[:count],
            [row for row in self.events if row[0] <= count],
            [row for row in self.bundles if row[1] <= count],
            [row for row in self.findings if row[0] <= count],
        )


def case_state(folder: Path) -> CaseState:
    connection = duckdb.connect(
        str(folder / DB_NAME),
        read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    try:
        return CaseState(
            connection.execute(
                "SELECT input_id, path, kind, sha256, size, verdict, bundle_id, record_count "
                "FROM inputs ORDER BY input_id"
            ).fetchall(),
            connection.execute(
                f"SELECT input_id, count(*), {_EVENT_DIGEST} FROM events "
                "GROUP BY input_id ORDER BY input_id"
            ).fetchall(),
            connection.execute("SELECT * FROM bundles ORDER BY input_id").fetchall(),
            connection.execute("SELECT * FROM findings ORDER BY ALL").fetchall(),
        )
    finally:
        connection.close()


def journaled_inputs(folder: Path) -> list[str]:
    """SHA-256 of every input the journal says was imported (import or import_recovered)."""
    named = []
    for line in (folder / JOURNAL_NAME).read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["action"] in ("import", "import_recovered"):
            named += [item["sha256"] for item in entry["details"]["inputs"]]
    return named


@dataclass(frozen=True)
class Reference:
    """One uninterrupted import of every input: its trace and the case it made."""

    trace: list[Point]
    state: CaseState
    code: int


@pytest.fixture(scope="module")
def reference(
    launcher: Path, evidence: Evidence, tmp_path_factory: pytest.TempPathFactory
) -> Reference:
    root = tmp_path_factory.mktemp("crash-reference")
    case = root / "case"
    run = launch(
        launcher, ["import", case, *evidence.inputs, "--trust", evidence.trust], root / "trace"
    )
    assert "Traceback" not in run.err, run.err
    assert run.code == EXIT_CODES[worst(evidence.verdicts)], run.err
    state = case_state(case)
    assert [row[0] for row in state.inputs] == [1, 2, 3, 4, 5, 6]
    assert [row[5] for row in state.inputs] == [v.value for v in evidence.verdicts]
    assert len(state.events) == 6  # every input has events
    return Reference(run.trace, state, run.code)


# --- kill points -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transaction:
    """One transaction of the import, by the positions of its points."""

    points: list[Point]  # begin .. commit
    after: list[Point]  # from the commit to the next transaction

    @property
    def commit(self) -> int:
        return self.points[-1].n

    def first(self, call: str, text: str = "", nth: int = 1) -> int:
        found = [p.n for p in self.points if p.call == call and text in p.detail]
        return found[nth - 1]

    def journal(self) -> int:
        """The journal append of this input: it is committed, not yet journaled."""
        return next(p.n for p in self.after if p.call == "journal")

    def write(self) -> int:
        """Writing that entry's line: the case announced it, the journal does not hold it."""
        return next(p.n for p in self.after if p.call == "write")

    def head(self) -> int:
        """The head update after that append: journaled, but the case does not know yet."""
        return next(p.n for p in self.after if _HEAD in p.detail)


_ANNOUNCE = "INTO meta VALUES ('journal_announced'"  # the case announces an entry's head
_HEAD = "INTO meta VALUES ('journal_head'"  # the case records the head (and journaled input)


def transactions(trace: list[Point]) -> list[Transaction]:
    """Every begin..commit of the trace, with what follows each."""
    found: list[Transaction] = []
    begins = [i for i, p in enumerate(trace) if p.call == "begin"]
    for number, start in enumerate(begins):
        end = next(i for i in range(start, len(trace)) if trace[i].call == "commit")
        stop = begins[number + 1] if number + 1 < len(begins) else len(trace)
        found.append(Transaction(trace[start : end + 1], trace[end:stop]))
    return found


def committed_before(trace: list[Point], n: int) -> int:
    """How many inputs were committed when the import died just before point ``n``."""
    return sum(
        1
        for t in transactions(trace)
        if t.commit < n and any("INSERT INTO inputs" in p.detail for p in t.points)
    )


def _inputs_tx(trace: list[Point]) -> list[Transaction]:
    found = [
        t for t in transactions(trace) if any("INSERT INTO inputs" in p.detail for p in t.points)
    ]
    assert len(found) == 6
    return found


def _first_head(trace: list[Point]) -> int:
    """Recording the head after the first entry (case_created): written, not yet recorded."""
    return next(p.n for p in trace if _HEAD in p.detail)


def _timeline_tx(trace: list[Point]) -> Transaction:
    return next(t for t in transactions(trace) if any("SET ord" in p.detail for p in t.points))


KILL_POINTS: dict[str, Callable[[list[Point]], int]] = {
    "creating the schema": lambda t: 1,
    "journaling case_created": lambda t: next(
        p.n for p in t if p.call == "journal" and p.detail == "case_created"
    ),
    "case_created: written, head not recorded": _first_head,
    "raw-a: committing": lambda t: _inputs_tx(t)[0].commit,
    "raw-a: committed, not journaled": lambda t: _inputs_tx(t)[0].journal(),
    "raw-a: journaled, head not recorded": lambda t: _inputs_tx(t)[0].head(),
    "bundle-a: entry announced, not written": lambda t: _inputs_tx(t)[1].write(),
    "big: workers decoding": lambda t: _inputs_tx(t)[3].first("register"),
    "big: committing": lambda t: _inputs_tx(t)[3].commit,
    "big: committed, not journaled": lambda t: _inputs_tx(t)[3].journal(),
    "bundle-c: committing": lambda t: _inputs_tx(t)[5].commit,
    "bundle-c: journaled, head not recorded": lambda t: _inputs_tx(t)[5].head(),
    "ordering the timeline": lambda t: _timeline_tx(t).first("execute", "SET ord"),
}

# Points where `journal verify`, run first after the kill, does not pass (each reproduced in the
# final report). They are strict: a fix makes them pass and the entry must then go.
JOURNAL_AFTER_KILL_BUGS: dict[str, str] = {}


def _param(label: str, bugs: dict[str, str]) -> Any:
    if label in bugs:
        return pytest.param(label, marks=pytest.mark.xfail(strict=True, reason=bugs[label]))
    return label


@dataclass(frozen=True)
class Interrupted:
    """What the journal and the case hold when an import is killed just before point ``n``."""

    entry: int  # the entry whose append was interrupted
    written: bool  # whether its line reached the journal


def interrupted_at(trace: list[Point], n: int) -> Interrupted | None:
    """The append a kill before point ``n`` interrupts, from the reference trace; else None.

    An append announces the head its entry makes, writes the line, then records the head
    (docs/case.md, "The journal"). Killed between the announcement and the recorded head, or
    before the first line of a new case was written, the action is interrupted.
    """
    before = trace[: n - 1]
    announced = sum(1 for p in before if _ANNOUNCE in p.detail)
    written = sum(1 for p in before if p.call == "write")
    recorded = sum(1 for p in before if _HEAD in p.detail)
    if written == 0:
        return Interrupted(0, False)  # the case's creation: no entry was ever written
    if announced == recorded:
        return None
    assert announced == recorded + 1, (announced, recorded)  # one append at a time
    return Interrupted(recorded, written == announced)


@dataclass(frozen=True)
class Killed:
    """A case whose import was killed at a point, and an untouched copy of it."""

    case: Path
    pristine: Path  # copied right after the kill, before anything opened the case again
    committed: int  # inputs committed before the kill


@pytest.fixture(scope="module")
def kills(
    launcher: Path,
    evidence: Evidence,
    reference: Reference,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Killed]:
    """Kill the import at a named point (once per point; both tests of a point share it)."""
    done: dict[str, Killed] = {}

    def kill(label: str) -> Killed:
        if label in done:
            return done[label]
        n = KILL_POINTS[label](reference.trace)
        root = tmp_path_factory.mktemp("crash-kill")
        case = root / "case"
        run = launch(
            launcher,
            ["import", case, *evidence.inputs, "--trust", evidence.trust],
            root / "trace",
            kill_at=n,
        )
        assert run.code == -signal.SIGKILL, (run.code, run.err[-2000:])
        # The run went exactly the reference's way up to its kill: the point is what it says.
        assert [(p.call, p.detail) for p in run.trace] == [
            (p.call, p.detail) for p in reference.trace[:n]
        ]
        assert wait_for_exit(run.helpers, HANG_GUARD_SECONDS) == []  # the workers died with it
        pristine = root / "pristine"
        shutil.copytree(case, pristine)
        done[label] = Killed(case, pristine, committed_before(reference.trace, n))
        return done[label]

    return kill


# --- killed with SIGKILL -----------------------------------------------------------------------


def check_consistent(
    case: Path,
    committed: int,
    reference: Reference,
    evidence: Evidence,
    cli: Callable[..., Any],
    launcher: Path,
) -> None:
    """The case opens, holds exactly ``committed`` whole inputs, and completes to the reference."""
    opened = cli("stats", case)
    assert opened.code == 0, opened.err
    state = case_state(case)
    assert state == reference.state.prefix(committed)
    # Each input exactly once (a list, not a set): never journaled twice by the recovery.
    assert sorted(journaled_inputs(case)) == sorted(row[3] for row in state.inputs)
    verified = cli("journal", "verify", case)
    assert verified.code == 0, verified.out
    rest = evidence.inputs[committed:]
    if rest:
        run = launch(launcher, ["import", case, *rest, "--trust", evidence.trust])
        assert "Traceback" not in run.err, run.err
        assert run.code == EXIT_CODES[worst(evidence.verdicts[committed:])], run.err
    assert case_state(case) == reference.state
    assert sorted(journaled_inputs(case)) == sorted(row[3] for row in reference.state.inputs)
    verified = cli("journal", "verify", case)
    assert verified.code == 0, verified.out


@pytest.mark.parametrize("label", list(KILL_POINTS))
def test_a_killed_import_leaves_a_consistent_case(
    label: str,
    kills: Callable[[str], Killed],
    reference: Reference,
    evidence: Evidence,
    launcher: Path,
    cli: Callable[..., Any],
) -> None:
    killed = kills(label)
    check_consistent(killed.case, killed.committed, reference, evidence, cli, launcher)
    # The first open for writing recorded the interruption in the journal, and only it.
    entries = [json.loads(line) for line in (killed.case / JOURNAL_NAME).read_text().splitlines()]
    recovered = [e["details"] for e in entries if e["action"] == "journal_recovered"]
    created = [e["details"] for e in entries if e["action"] == "case_created"]
    assert len(created) == 1
    interrupted = interrupted_at(reference.trace, KILL_POINTS[label](reference.trace))
    if interrupted is None:
        assert recovered == [] and "note" not in created[0]
    elif interrupted.entry == 0 and not interrupted.written:
        assert recovered == [] and "creation" in created[0]["note"]
        assert entries[0]["action"] == "case_created"
    else:
        assert [(r["entry"], r["written"]) for r in recovered] == [
            (interrupted.entry, interrupted.written)
        ]
        if interrupted.written:
            assert recovered[0]["hash"] == entries[interrupted.entry]["hash"]


@pytest.mark.parametrize("label", [_param(label, JOURNAL_AFTER_KILL_BUGS) for label in KILL_POINTS])
def test_the_journal_verifies_straight_after_a_kill(
    label: str, kills: Callable[[str], Killed], reference: Reference, cli: Callable[..., Any]
) -> None:
    # Before anything opens the case again: the first thing an examiner may do after a crash.
    killed = kills(label)
    verified = cli("journal", "verify", killed.pristine)
    interrupted = interrupted_at(reference.trace, KILL_POINTS[label](reference.trace))
    if interrupted is None:
        assert verified.code == 0, verified.out
        assert verified.out.startswith("journal intact"), verified.out
        return
    # Not tampering: a warning with its own exit status, naming the interrupted entry.
    assert verified.code == 3, verified.out
    assert verified.out.startswith("journal INTERRUPTED"), verified.out
    assert "TAMPERED" not in verified.out
    assert f"entry {interrupted.entry}: interrupted: " in verified.out
    if interrupted.written:
        assert "was written but the case did not record it" in verified.out
    elif interrupted.entry == 0:
        assert "creating the case was interrupted" in verified.out
    else:
        assert "never written" in verified.out


def test_kill_points_cover_the_import(reference: Reference) -> None:
    # The points are distinct, in order, and each kills with a different number of inputs kept.
    numbers = [KILL_POINTS[label](reference.trace) for label in KILL_POINTS]
    assert numbers == sorted(set(numbers))
    kept = [committed_before(reference.trace, n) for n in numbers]
    assert kept == sorted(kept)
    assert set(kept) == {0, 1, 2, 3, 4, 5, 6}


# --- the workers alone, or the importer alone ---------------------------------------------------


@pytest.fixture(scope="module")
def workers_killed(
    launcher: Path,
    evidence: Evidence,
    reference: Reference,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Run, Path, int]:
    root = tmp_path_factory.mktemp("crash-workers")
    case = root / "case"
    run = launch(
        launcher,
        ["import", case, *evidence.inputs, "--trust", evidence.trust],
        root / "trace",
        mode="workers",
    )
    # It failed decoding the big bundle: the three inputs before it are all the case may hold.
    n = _inputs_tx(reference.trace)[3].first("register")
    assert [(p.call, p.detail) for p in run.trace[: n - 1]] == [
        (p.call, p.detail) for p in reference.trace[: n - 1]
    ]
    assert "rollback" in [p.call for p in run.trace[n - 1 :]], run.trace[n - 1 :]
    return run, case, committed_before(reference.trace, n)


def test_a_dead_worker_leaves_a_consistent_case(
    workers_killed: tuple[Run, Path, int],
    reference: Reference,
    evidence: Evidence,
    launcher: Path,
    cli: Callable[..., Any],
) -> None:
    run, case, committed = workers_killed
    assert run.code != 0
    assert wait_for_exit(run.helpers, HANG_GUARD_SECONDS) == []  # nothing left running
    check_consistent(case, committed, reference, evidence, cli, launcher)


def test_a_dead_worker_is_a_clear_error(
    workers_killed: tuple[Run, Path, int], evidence: Evidence
) -> None:
    run, _, _ = workers_killed
    assert "Traceback" not in run.err, run.err[-3000:]
    assert run.code == EXIT_CODES[Verdict.INVALID]
    assert run.err.startswith(f"auditlens: error: {evidence.inputs[3]}"), run.err[-2000:]


def test_workers_do_not_outlive_a_killed_import(
    launcher: Path,
    evidence: Evidence,
    reference: Reference,
    tmp_path: Path,
) -> None:
    n = KILL_POINTS["big: workers decoding"](reference.trace)
    args: list[str | Path] = ["import", tmp_path / "case", *evidence.inputs]
    env = {
        **os.environ,
        "AUDITLENS_TEST_KILL_AT": str(n),
        "AUDITLENS_TEST_KILL_MODE": "main",
        "AUDITLENS_TEST_TRACE": str(tmp_path / "trace"),
    }
    # Orphaned workers would keep pipes open (communicate() would wait for them): use a file.
    with (tmp_path / "out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(launcher), *map(str, [*args, "--trust", evidence.trust])],
            stdout=out,
            stderr=out,
            env=env,
            start_new_session=True,
        )
        assert process.wait(timeout=HANG_GUARD_SECONDS) == -signal.SIGKILL
    _, helpers = read_trace(tmp_path / "trace")
    assert len(helpers) >= 2  # the decoding workers were running when their parent died
    try:
        assert wait_for_exit(helpers, WORKER_EXIT_GUARD_SECONDS) == []
    finally:
        for pid in running(helpers):  # end what this test started, by pid, whatever the outcome
            os.kill(pid, signal.SIGKILL)


def test_the_next_import_removes_the_spool_of_a_killed_one(
    launcher: Path, evidence: Evidence, reference: Reference, tmp_path: Path
) -> None:
    """Rows decoded by the workers wait in a spool folder in TMPDIR; an import killed with its
    workers leaves it behind, and the next import decoding in workers (any case) removes it."""
    spools = tmp_path / "tmp"
    spools.mkdir()
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(spools)
    try:
        big = evidence.inputs[3]
        n = KILL_POINTS["big: workers decoding"](reference.trace)
        killed = launch(
            launcher,
            ["import", tmp_path / "killed", *evidence.inputs, "--trust", evidence.trust],
            kill_at=n,
        )
        assert killed.code == -signal.SIGKILL
        left = list(spools.glob(f"{importer.SPOOL_PREFIX}*"))
        assert len(left) == 1 and any(left[0].iterdir())
        run = launch(launcher, ["import", tmp_path / "other", big, "--trust", evidence.trust])
        assert run.code == 0, run.err
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
    assert list(spools.iterdir()) == []


# --- a full disk -------------------------------------------------------------------------------


def _between(reference: Reference, size: Callable[[Point], int]) -> int:
    """A size the case reaches only after raw-a and bundle-a were imported and journaled."""
    second = _inputs_tx(reference.trace)[1]
    low = max(size(p) for p in reference.trace if p.n <= second.head())
    high = max(size(p) for p in reference.trace)
    assert high > 2 * low, (low, high)
    return (low + high) // 2


@dataclass(frozen=True)
class Starved:
    """An import that ran out of disk, and its case."""

    run: Run
    case: Path
    committed: int  # inputs the case holds afterwards


def _committed(case: Path) -> int:
    connection = duckdb.connect(str(case / DB_NAME), read_only=True)
    try:
        row = connection.execute("SELECT count(*) FROM inputs").fetchone()
    finally:
        connection.close()
    assert row is not None
    return int(row[0])


def check_starved_case(
    starved: Starved,
    reference: Reference,
    evidence: Evidence,
    cli: Callable[..., Any],
    launcher: Path,
) -> None:
    # Some inputs went in before the disk filled, and not all of them.
    assert 2 <= starved.committed < len(evidence.inputs), starved.run.err[-2000:]
    check_consistent(starved.case, starved.committed, reference, evidence, cli, launcher)


def check_clear_disk_error(starved: Starved) -> None:
    assert "Traceback" not in starved.run.err, starved.run.err[-3000:]
    assert starved.run.code == EXIT_CODES[Verdict.INVALID]
    assert starved.run.err.startswith("auditlens: error: "), starved.run.err[-2000:]
    assert str(starved.case) in starved.run.err


@pytest.fixture(scope="module")
def file_size_limited(
    launcher: Path,
    evidence: Evidence,
    reference: Reference,
    tmp_path_factory: pytest.TempPathFactory,
) -> Starved:
    """The import with RLIMIT_FSIZE below the size the case needs: writes fail with EFBIG."""
    limit = _between(reference, lambda p: p.largest)

    def limits() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    case = tmp_path_factory.mktemp("crash-fsize") / "case"
    run = launch(
        launcher,
        ["import", case, *evidence.inputs, "--trust", evidence.trust],
        limits=limits,
    )
    # Counted read-only and without the limit: the examiner has made room.
    return Starved(run, case, _committed(case))


def test_a_full_disk_leaves_a_consistent_case(
    file_size_limited: Starved,
    reference: Reference,
    evidence: Evidence,
    launcher: Path,
    cli: Callable[..., Any],
) -> None:
    assert file_size_limited.run.code != 0
    check_starved_case(file_size_limited, reference, evidence, cli, launcher)


def test_a_full_disk_is_a_clear_error(file_size_limited: Starved) -> None:
    check_clear_disk_error(file_size_limited)


@pytest.fixture(scope="module")
def small_tmpfs(
    launcher: Path,
    evidence: Evidence,
    reference: Reference,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Starved]:
    """The import into a case on a tmpfs too small for it: writes fail with ENOSPC."""
    size = _between(reference, lambda p: p.total)
    mount = tmp_path_factory.mktemp("crash-tmpfs")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        case = mount / "case"
        run = launch(launcher, ["import", case, *evidence.inputs, "--trust", evidence.trust])
        # The examiner makes room before looking at the case again.
        subprocess.run(["mount", "-o", "remount,size=512m", str(mount)], check=True)
        yield Starved(run, case, _committed(case))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_a_full_tmpfs_leaves_a_consistent_case(
    small_tmpfs: Starved,
    reference: Reference,
    evidence: Evidence,
    launcher: Path,
    cli: Callable[..., Any],
) -> None:
    assert small_tmpfs.run.code != 0
    check_starved_case(small_tmpfs, reference, evidence, cli, launcher)


def test_a_full_tmpfs_is_a_clear_error(small_tmpfs: Starved) -> None:
    check_clear_disk_error(small_tmpfs)
