"""Bad input reaching ``auditlens import`` (docs/robustness.md, docs/case.md "Importing").

Every hostile case of ``tests/hostile/make_hostile.py`` goes through the real command line into a
case that already holds evidence: the container and bundle attacks of the verify corpus
(``BUILDERS``) and the raw-evidence attacks (``RAW_BUILDERS``). Each import runs in a process of
its own with its address space and CPU time capped (as tests/cli/test_bad_input.py does for
verify), with ``HOME``, ``TMPDIR`` and the working directory inside the case's own sandbox, and
the whole sandbox is snapshotted around it: only the case folder may change.

What the importer must do with a bundle it found (a manifest in a readable container) is what
verify says of it, with the finding at its place: a *tampered* bundle is imported, each event with
its own integrity status (never ``verified`` unless it is the sealed record at its place), exit 1;
an *invalid* one is recorded with its findings and no events, exit 2; and an input that cannot be
read at all is refused with an error naming the place, exit 2, leaving the case as it was (its
journal gains the ``import_refused`` entry). Raw evidence that does not parse is always refused.
Afterwards the case still works: ``auditlens stats`` exits 0 and a good bundle imports.

The commands run once per session, a few at a time, each in a fresh process forked from a Python
that has already imported AuditLens (:data:`SERVER`; starting the interpreter and importing DuckDB
and pyarrow is most of a small import's time); the tests then check what each one did.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import queue
import re
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import zstandard

from auditlens.cli.main import main
from auditlens.core.bundle.manifest import LEAVES_PATH
from auditlens.core.bundle.seal import seal
from auditlens.core.crypto import hashing
from auditlens.core.crypto.keys import sample_key
from auditlens.core.errors import InvalidInputError as _InvalidInputError
from auditlens.core.errors import LimitExceededError as _LimitExceededError
from auditlens.core.formats import jsontext, registry, streams
from auditlens.core.schema import FIELD_NAMES
from auditlens.core.store import decode, importer, queries
from auditlens.core.store.case import DB_NAME
from auditlens.core.store.case import Case as StoreCase
from auditlens.core.store.journal import JOURNAL_NAME
from auditlens.core.verify.findings import EXIT_CODES, Verdict
from hostile.make_hostile import (
    BUILDERS,
    DATA1,
    GOOD_LINE,
    KEY_LABEL,
    RAW_BUILDERS,
    Base,
    Case,
    RawCase,
    audit_lines,
    build,
    build_raw,
    gzip_repeated,
    make_base,
    textured,
    write_zip,
)

# docs/architecture.md §8: peak memory under 1.5 GB whatever the input.
MEMORY_CAP = 1536 * 1024 * 1024
CPU_SECONDS = 60  # a hang or a quadratic blow-up dies here instead of stalling the suite
HANG_GUARD_SECONDS = 600  # backstop for a process blocked without using CPU (never asserted)
PARALLEL_RUNS = 3
GOOD_RECORDS = 25  # records of the bundle imported after each hostile input

# Cases the importer does not handle yet, each reproduced in the final report. Strict: a fix makes
# the test pass, and the entry must then go.
IMPORT_BUGS: dict[str, str] = {}


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


# --- running the command line ------------------------------------------------------------------

# Most of a small import's time is starting Python and importing DuckDB and pyarrow. A server
# does that once and forks a fresh child per command: the child applies the caps, takes its
# environment, working directory and output files, and runs the CLI's main() as the console
# script would (an uncaught exception prints its traceback and exits 1). No DuckDB connection or
# thread exists in the server when it forks.
SERVER = """\
import json
import os
import resource
import sys
import traceback


def child(request):
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, name in ((1, "out"), (2, "err")):
        handle = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", errors="strict", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="strict", closefd=False)
    for name, value in request["limits"]:
        resource.setrlimit(getattr(resource, name), (value, value))
    try:
        code = main(request["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # spawned workers import this file: they must not serve
    from auditlens.cli import case_commands, commands  # noqa: F401 - imported before forking
    from auditlens.cli.main import main
    from auditlens.core.store import importer, journal, queries  # noqa: F401

    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            child(json.loads(line))
        print(json.dumps({"pid": pid}), flush=True)
        print(json.dumps({"code": os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])}), flush=True)
"""
LIMITS = [("RLIMIT_AS", MEMORY_CAP), ("RLIMIT_CPU", CPU_SECONDS), ("RLIMIT_CORE", 0)]


@dataclass(frozen=True)
class Run:
    """What one command did."""

    code: int
    out: str
    err: str


class Server:
    """A warm Python that runs ``auditlens`` commands, one forked child each."""

    def __init__(self, script: Path) -> None:
        # Unbuffered: ``select`` below watches the pipe itself, so no line may wait in a buffer
        # of ours (a child ending at once put both lines in it, and the guard then waited its
        # whole time for a line already read).
        self.process = subprocess.Popen(
            [sys.executable, str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # no idle threads to fork past
        )

    def run(
        self,
        args: list[str | Path],
        *,
        outputs: Path,
        cwd: Path,
        env: dict[str, str],
        limits: bool,
    ) -> Run:
        """Run ``auditlens ARGS`` (stdout and stderr to files in ``outputs``); never raises."""
        assert self.process.stdin is not None and self.process.stdout is not None
        outputs.mkdir(parents=True, exist_ok=True)
        out, err = outputs / "stdout", outputs / "stderr"
        request = {
            "argv": [str(a) for a in args],
            "cwd": str(cwd),
            "env": env,
            "out": str(out),
            "err": str(err),
            "limits": LIMITS if limits else [],
        }
        self.process.stdin.write((json.dumps(request) + "\n").encode())
        pid = json.loads(self.process.stdout.readline())["pid"]
        if not select.select([self.process.stdout], [], [], HANG_GUARD_SECONDS)[0]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)  # blocked without using CPU: end the child we started
        code = json.loads(self.process.stdout.readline())["code"]
        # Strict UTF-8, as a desktop locale gives it: undecodable output fails the test.
        return Run(code, out.read_text("utf-8"), err.read_text("utf-8"))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=HANG_GUARD_SECONDS)


# --- the sandbox -------------------------------------------------------------------------------

Entry = tuple[str, int, int, int, int, int]  # type, size, mode, mtime_ns, ctime_ns, inode


def snapshot(root: Path, skip: Path) -> dict[str, Entry]:
    """Every file, folder and link under ``root`` except ``skip``, by its metadata (lstat).

    Metadata is enough: a write moves the file's mtime and ctime, and a file created, renamed or
    removed (even a temporary one) moves its folder's. Nothing is opened (there are FIFOs).
    """
    found: dict[str, Entry] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d != skip]
        for name in [".", *dirs, *files]:
            info = (here / name).lstat()
            kind = "d" if stat.S_ISDIR(info.st_mode) else "l" if stat.S_ISLNK(info.st_mode) else "f"
            found[str(here / name)] = (
                kind,
                info.st_size if kind != "d" else 0,
                info.st_mode,
                info.st_mtime_ns,
                info.st_ctime_ns,
                info.st_ino,
            )
    return found


def changes(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """What differs between two snapshots, one line per path."""
    lines = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            lines.append(f"removed {path}")
        elif path not in before:
            lines.append(f"created {path}")
        elif before[path] != after[path]:
            lines.append(f"changed {path}: {before[path]} -> {after[path]}")
    return lines


@dataclass(frozen=True)
class CaseState:
    """What a case holds, except import times and the timeline order (which a refusal leaves)."""

    inputs: list[tuple[Any, ...]]
    events: list[tuple[Any, ...]]  # every column but ord, then input_id
    bundles: list[tuple[Any, ...]]
    findings: list[tuple[Any, ...]]

    def integrity(self, input_id: int) -> list[str]:
        """The integrity status of each event of an input."""
        column = FIELD_NAMES.index("integrity")
        return [e[column] for e in self.events if e[-1] == input_id]


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
                # The event's fields and its input, last (not the columns the order adds).
                f"SELECT {', '.join(FIELD_NAMES)}, input_id FROM events "
                "ORDER BY input_id, stream_id, seq, line"
            ).fetchall(),
            connection.execute("SELECT * FROM bundles ORDER BY input_id").fetchall(),
            connection.execute("SELECT * FROM findings ORDER BY ALL").fetchall(),
        )
    finally:
        connection.close()


def journal(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / JOURNAL_NAME).read_text().splitlines()]


# --- the evidence and the case it goes into ----------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What every hostile import shares."""

    base: Base  # the bundle the verify corpus damages, and its signer's key
    before: Path  # raw evidence already in the case
    good: Path  # a sealed bundle (another stream, same signer) imported after the hostile input
    template: Path  # a case holding ``before``
    template_state: CaseState
    template_journal: list[dict[str, Any]]


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory) -> Setting:
    root = tmp_path_factory.mktemp("import-hostile-setting")
    base = make_base(root / "base")
    before = root / "before.jsonl"
    before.write_bytes(b"".join(line + b"\n" for line in audit_lines(12)[2:]))
    source = root / "good.jsonl"
    source.write_bytes(b"".join(line + b"\n" for line in audit_lines(GOOD_RECORDS)))
    sealed = seal([source], sample_key(KEY_LABEL), root / "good.zip", stream_id="good-after")
    while True:
        try:
            next(sealed)
        except StopIteration:
            break
    template = root / "template"
    assert main(["import", str(template), str(before)]) == EXIT_CODES[Verdict.UNSEALED]
    return Setting(
        base, before, root / "good.zip", template, case_state(template), journal(template)
    )


@dataclass(frozen=True)
class Outcome:
    """One hostile import, what it did, and what the case allowed afterwards."""

    target: Case | RawCase
    case: Path  # the case folder it went into (a copy of the template)
    run: Run
    outside: list[str]  # changes in the sandbox outside the case folder
    state: CaseState  # the case right after the hostile import
    journal: list[dict[str, Any]]
    stats: Run  # `auditlens stats CASE` afterwards
    good: Run  # importing a good bundle afterwards
    final: CaseState  # the case after that


def import_hostile(
    target: Case | RawCase, sandbox: Path, outputs: Path, setting: Setting, server: Server
) -> Outcome:
    """Import ``target`` into a copy of the template case: capped, in a sandbox; then use it."""
    case = sandbox / "case"
    shutil.copytree(setting.template, case)
    for folder in ("home", "tmp"):
        (sandbox / folder).mkdir()
    env = {**os.environ, "HOME": str(sandbox / "home"), "TMPDIR": str(sandbox / "tmp")}
    before = snapshot(sandbox, case)
    args: list[str | Path] = ["import", case, target.path, "--trust", setting.base.trust]
    run = server.run(args, outputs=outputs / "import", cwd=sandbox / "home", env=env, limits=True)
    outside = changes(before, snapshot(sandbox, case))
    state, entries = case_state(case), journal(case)
    stats = server.run(
        ["stats", case], outputs=outputs / "stats", cwd=outputs, env=dict(os.environ), limits=False
    )
    good = server.run(
        ["import", case, setting.good, "--trust", setting.base.trust],
        outputs=outputs / "good",
        cwd=outputs,
        env=dict(os.environ),
        limits=False,
    )
    return Outcome(target, case, run, outside, state, entries, stats, good, case_state(case))


@pytest.fixture(scope="module")
def outcomes(setting: Setting, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Build every case and import it, a few at a time, each in its own sandbox."""
    root = tmp_path_factory.mktemp("import-hostile")
    outputs = tmp_path_factory.mktemp("import-hostile-outputs")  # the test's, not the sandbox's
    script = outputs / "server.py"
    script.write_text(SERVER)
    servers: queue.Queue[Server] = queue.Queue()
    for _ in range(PARALLEL_RUNS):
        servers.put(Server(script))

    def one(name: str) -> Outcome:
        if name in BUILDERS:
            target: Case | RawCase = build(name, setting.base, root)
        else:
            target = build_raw(name, root)
        server = servers.get()
        try:
            return import_hostile(target, root / name, outputs / name, setting, server)
        finally:
            servers.put(server)

    names = [*BUILDERS, *RAW_BUILDERS]
    assert not set(BUILDERS) & set(RAW_BUILDERS)
    try:
        with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
            return dict(zip(names, pool.map(one, names), strict=True))
    finally:
        while not servers.empty():
            servers.get().close()


def _param(name: str) -> Any:
    if name in IMPORT_BUGS:
        return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=IMPORT_BUGS[name]))
    return name


# --- the checks --------------------------------------------------------------------------------


def check_clean_run(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.run.err, outcome.run.err[-3000:]
    assert outcome.outside == [], "written outside the case folder:\n" + "\n".join(outcome.outside)


def check_refused(outcome: Outcome, where: str, mentions: str | None, setting: Setting) -> None:
    """Refused with an error naming ``where``: the case holds what it held, the journal says so."""
    run = outcome.run
    assert run.code == EXIT_CODES[Verdict.INVALID], (run.code, run.out, run.err[-2000:])
    first = run.err.splitlines()[0] if run.err else ""
    # The place exactly, or more precisely (a line or byte offset after a file), then the reason.
    named = re.match(rf"auditlens: error: {re.escape(where)}([:@][^ ]*)? (.*)$", first)
    assert named, run.err[-2000:]
    if mentions is not None:
        assert mentions in named.group(2), first
    assert outcome.state == setting.template_state
    known = len(setting.template_journal)
    assert outcome.journal[:known] == setting.template_journal
    added = outcome.journal[known:]
    assert [(e["action"], e["details"]["path"]) for e in added] == [
        ("import_refused", str(outcome.target.path))
    ]


def finding_line(case: Case) -> re.Pattern[str]:
    """The printed finding of ``case``, at its place (with the line when the case has one)."""
    place = re.escape(case.where) + (f":{case.line}" if case.line is not None else "")
    message = f".*{re.escape(case.mentions)}.*" if case.mentions else ".*"
    return re.compile(rf"^ +(ERROR|WARNING) {case.code}: {message} at {place}(, |$)", re.M)


def check_recorded(outcome: Outcome, case: Case, setting: Setting) -> None:
    """A bundle taken in with its verdict: the finding shown and stored, its events honest."""
    verdict = {1: Verdict.TAMPERED, 2: Verdict.INVALID}[outcome.run.code]
    shown = re.search(
        rf"^\[{verdict.value}\] {re.escape(str(case.path))}: ([\d,]+) events$",
        outcome.run.out,
        re.M,
    )
    assert shown, outcome.run.out
    assert finding_line(case).search(outcome.run.out), (
        f"{case.code} at {case.where}:\n{outcome.run.out}"
    )
    state, template = outcome.state, setting.template_state
    assert state.inputs[: len(template.inputs)] == template.inputs
    (added,) = state.inputs[len(template.inputs) :]
    input_id, path, kind, _, _, stored_verdict, _, count = added
    assert (path, kind, stored_verdict, count) == (
        str(case.path),
        "bundle",
        verdict.value,
        int(shown.group(1).replace(",", "")),
    )
    assert [e for e in state.events if e[-1] != input_id] == template.events
    assert state.findings[: len(template.findings)] == template.findings
    stored = [f for f in state.findings if (f[0], f[2], f[4]) == (input_id, case.code, case.where)]
    assert stored and (case.line is None or any(f[5] == case.line for f in stored))
    new = [dict(zip([*FIELD_NAMES, "input_id"], e, strict=True)) for e in state.events]
    new = [e for e in new if e["input_id"] == input_id]
    assert len(new) == count
    if verdict is Verdict.INVALID:
        assert count == 0
    check_honest_integrity(new, setting.base)


def check_honest_integrity(events: list[dict[str, Any]], base: Base) -> None:
    """Per-record integrity: ``verified`` only for the sealed record at its sequence number."""
    leaves = base.read(LEAVES_PATH)
    size = hashing.HASH_SIZE
    for event in events:
        assert event["integrity"] in ("verified", "tampered", "untrusted"), event
        if event["integrity"] == "verified":
            seq = event["seq"]
            assert seq is not None and 1 <= seq <= len(leaves) // size, event
            assert bytes(event["leaf_hash"]) == leaves[(seq - 1) * size : seq * size], event


def check_still_usable(outcome: Outcome, setting: Setting) -> None:
    """The case opens, and a good bundle imports into it."""
    assert outcome.stats.code == 0, outcome.stats.err
    good = outcome.good
    assert good.code == EXIT_CODES[Verdict.VERIFIED], good.out + good.err
    last = outcome.final.inputs[-1]
    assert last[1:3] == (str(setting.good), "bundle")
    assert outcome.final.integrity(last[0]) == ["verified"] * GOOD_RECORDS
    assert outcome.final.inputs[:-1] == outcome.state.inputs


@pytest.mark.parametrize("name", [_param(name) for name in BUILDERS])
def test_hostile_bundle_through_import(
    name: str, outcomes: dict[str, Outcome], setting: Setting
) -> None:
    outcome = outcomes[name]
    case = outcome.target
    assert isinstance(case, Case)
    check_clean_run(outcome)
    assert outcome.run.code in (1, 2), (outcome.run.code, outcome.run.out, outcome.run.err[-2000:])
    if outcome.run.err:  # refused outright: nothing of it kept
        check_refused(outcome, case.where, case.mentions, setting)
    else:  # taken in with its verdict and findings
        check_recorded(outcome, case, setting)
    check_still_usable(outcome, setting)


@pytest.mark.parametrize("name", [_param(name) for name in RAW_BUILDERS])
def test_hostile_raw_evidence_is_refused(
    name: str, outcomes: dict[str, Outcome], setting: Setting
) -> None:
    outcome = outcomes[name]
    case = outcome.target
    assert isinstance(case, RawCase)
    check_clean_run(outcome)
    check_refused(outcome, case.where, case.mentions, setting)
    check_still_usable(outcome, setting)


@pytest.mark.parametrize("forged", ["first copy", "second copy"])
def test_a_duplicated_entry_never_passes_a_forged_record_as_verified(
    forged: str, setting: Setting, tmp_path: Path, cli: Any
) -> None:
    # The corpus's zip_duplicate_entry repeats data/00001.jsonl unchanged; here one copy has a
    # forged record (line 2, bob -> eve). Whichever copy the importer reads, that record must not
    # be "verified".
    lines = setting.base.lines(DATA1)
    assert b"bob" in lines[1]
    altered = b"".join(line + b"\n" for line in [lines[0], lines[1].replace(b"bob", b"eve")])
    altered += b"".join(line + b"\n" for line in lines[2:])
    copies = [altered, setting.base.read(DATA1)]
    if forged == "second copy":
        copies.reverse()
    members = [(n, copies[0] if n == DATA1 else d) for n, d in setting.base.members()]
    path = write_zip(tmp_path / "b.zip", [*members, (DATA1, copies[1])])
    case = tmp_path / "case"
    imported = cli("import", case, path, "--trust", setting.base.trust)
    assert imported.code == EXIT_CODES[Verdict.TAMPERED], imported.out + imported.err
    assert "DUPLICATE_ENTRY: " in imported.out and f"at {path}!{DATA1}" in imported.out
    state = case_state(case)
    events = [dict(zip([*FIELD_NAMES, "input_id"], e, strict=True)) for e in state.events]
    assert events and all(e["input_id"] == 1 for e in events)
    check_honest_integrity(events, setting.base)
    assert all(e["integrity"] != "verified" for e in events if e["actor_name"] == "eve")


# --- compression bombs as raw evidence ----------------------------------------------------------

BOMB_LINE = b" " * (1024 * 1024 - 1) + b"\n"  # a blank line of 1 MiB: skipped, cheap to parse
LOWERED_DECOMPRESSED = 32 * 1024 * 1024


def bomb(folder: Path, kind: str, lines: int) -> Path:
    """A compressed raw file: one good record, then ``lines`` blank lines of 1 MiB."""
    if kind == "gzip":
        path = folder / "bomb.jsonl.gz"
        gzip_repeated(path, GOOD_LINE + b"\n", BOMB_LINE, lines)
        return path
    path = folder / "bomb.jsonl.zst"
    with path.open("wb") as out, zstandard.ZstdCompressor(level=1).stream_writer(out) as writer:
        writer.write(GOOD_LINE + b"\n")
        for _ in range(lines):
            writer.write(BOMB_LINE)
    return path


def import_lowered(case: Path, path: Path, limit: int) -> subprocess.CompletedProcess[str]:
    """``auditlens import`` with MAX_DECOMPRESSED lowered to ``limit`` (capped, as above)."""
    code = (
        "import sys\n"
        "from auditlens.core.formats import streams\n"
        f"streams.MAX_DECOMPRESSED = {limit}\n"
        "from auditlens.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, "import", str(case), str(path)],
        capture_output=True,
        text=True,
        preexec_fn=_limits,
        timeout=HANG_GUARD_SECONDS,
        check=False,
    )


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_the_decompression_limit_stops_a_raw_bomb(kind: str, tmp_path: Path) -> None:
    # MAX_DECOMPRESSED is 64 GiB: inflating that much takes minutes. The mechanism is the same at
    # any value, so the child lowers it and the bomb exceeds the lowered value.
    path = bomb(tmp_path, kind, 2 * LOWERED_DECOMPRESSED // len(BOMB_LINE))
    done = import_lowered(tmp_path / "case", path, LOWERED_DECOMPRESSED)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == EXIT_CODES[Verdict.INVALID], done.stdout + done.stderr
    assert done.stderr.startswith(
        f"auditlens: error: {path}: decompresses to more than {LOWERED_DECOMPRESSED} bytes"
    ), done.stderr
    assert case_state(tmp_path / "case").inputs == []


def test_a_raw_compression_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    from auditlens.core.bundle.container import MAX_COMPRESSION_RATIO

    path = bomb(tmp_path, "gzip", 256)  # 256 MiB from about 256 KB
    assert path.stat().st_size * MAX_COMPRESSION_RATIO < 256 * len(BOMB_LINE)
    done = import_lowered(tmp_path / "case", path, streams.MAX_DECOMPRESSED)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == EXIT_CODES[Verdict.INVALID], done.stdout + done.stderr
    assert done.stderr.startswith(f"auditlens: error: {path}"), done.stderr
    assert "limit" in done.stderr


# --- limits checked in-process, at their edges ---------------------------------------------------


def write_jsonl(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


@pytest.mark.parametrize("sign", ["", "-"])
def test_an_integer_at_the_digit_limit_is_read_and_one_past_it_is_refused(
    sign: str, tmp_path: Path
) -> None:
    def record(digits: int) -> bytes:
        number = (sign + "9" * digits).encode()
        return b'{"timestamp":"2026-03-02T08:00:01.000Z","action":"READ","n":' + number + b"}"

    at_limit = write_jsonl(tmp_path / "at.jsonl", [GOOD_LINE, record(jsontext.MAX_INT_DIGITS)])
    records = list(registry.read_records(at_limit))
    assert [r.origin for r in records] == [1, 2]
    assert json.loads(records[1].line)["n"] == int(sign + "9" * jsontext.MAX_INT_DIGITS)
    past = write_jsonl(tmp_path / "past.jsonl", [GOOD_LINE, record(jsontext.MAX_INT_DIGITS + 1)])
    with pytest.raises(_LimitExceededError) as refused:
        list(registry.read_records(past))
    assert (refused.value.path, refused.value.line) == (str(past), 2)
    assert f"limit of {jsontext.MAX_INT_DIGITS} digits" in refused.value.message


def test_documents_with_their_own_range_checks_take_long_integers_to_them() -> None:
    # A manifest's version or sequence number is checked by its parser, which names the field.
    digits = "9" * (jsontext.MAX_INT_DIGITS + 1)
    assert jsontext.strict_json_loads(f'{{"v":{digits}}}'.encode(), path="m") == {"v": int(digits)}


def test_a_zstd_stream_is_accepted_exactly_when_it_ends_at_a_frame_boundary(
    tmp_path: Path,
) -> None:
    # Frames as tools write them: one with its content size and a checksum, a skippable frame
    # (RFC 8878 §3.1.2), one streamed without a content size. Every cut of the file either ends
    # at a frame boundary (then it is read, whole frames only) or is refused.
    first_lines, second_lines = audit_lines(30)[:15], audit_lines(30)[15:]
    first = zstandard.ZstdCompressor(write_checksum=True).compress(
        b"".join(line + b"\n" for line in first_lines)
    )
    skippable = b"\x5a\x2a\x4d\x18" + (6).to_bytes(4, "little") + b"notes!"
    writer = zstandard.ZstdCompressor(write_content_size=False).compressobj()
    second = writer.compress(b"".join(line + b"\n" for line in second_lines)) + writer.flush()
    data = first + skippable + second
    ends = {len(first): 15, len(first) + len(skippable): 15, len(data): 30}
    path = tmp_path / "logs.jsonl.zst"
    accepted = {}
    for cut in range(len(streams._ZSTD_MAGIC), len(data) + 1):
        path.write_bytes(data[:cut])
        try:
            accepted[cut] = len(list(registry.read_records(path)))
        except _InvalidInputError as exc:
            assert exc.path == str(path)
    assert accepted == ends


@pytest.mark.parametrize("kind", ["gzip", "zstd"])
def test_the_raw_ratio_limit_takes_a_compressible_file_and_stops_a_bomb(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ratio counts past MIN_RATIO_CHECK_BYTES (64 MiB); lowered here so small files show it.
    monkeypatch.setattr(streams, "MIN_RATIO_CHECK_BYTES", 64 * 1024)
    whitespace = textured(b" ", b"\t\r", size=64 * 1024 - 1, every=16) + b"\n"  # compresses ~15x
    blank = b" " * (64 * 1024 - 1) + b"\n"  # compresses ~1000x
    for name, filler, refused in (("textured", whitespace, False), ("blank", blank, True)):
        content = GOOD_LINE + b"\n" + filler * 16
        path = tmp_path / f"{name}.jsonl.{'gz' if kind == 'gzip' else 'zst'}"
        if kind == "gzip":
            path.write_bytes(gzip.compress(content, mtime=0))
        else:
            path.write_bytes(zstandard.ZstdCompressor().compress(content))
        ratio = len(content) / path.stat().st_size
        assert (ratio > streams.MAX_COMPRESSION_RATIO) is refused, ratio
        if not refused:
            assert [r.origin for r in registry.read_records(path)] == [1]
            continue
        with pytest.raises(_LimitExceededError) as stopped:
            list(registry.read_records(path))
        assert stopped.value.path == str(path)
        assert (
            f"exceeds the ratio limit of {streams.MAX_COMPRESSION_RATIO}" in stopped.value.message
        )


class FakeContainer:
    """Just enough of a container for ``importer._line_chunks``: one file, from memory."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def open(self, name: str) -> io.BytesIO:
        return io.BytesIO(self.data)


@pytest.mark.parametrize("final_newline", [True, False])
def test_line_chunks_pass_long_lines_as_streamed_digests(
    final_newline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of 7 bytes, lines over 20 bytes are long, 5-byte previews: every line length around
    # the limit, at every alignment to the chunks.
    monkeypatch.setattr(importer, "HASH_CHUNK", 7)
    monkeypatch.setattr(importer, "MAX_RECORD_LINE", 20)
    monkeypatch.setattr(importer, "RECORD_PREVIEW_BYTES", 5)
    lengths = [0, 1, 6, 7, 8, 19, 20, 21, 22, 48, 3, 100, 20, 21]
    lines = [bytes([65 + i % 26]) * n + b"%d" % i for i, n in enumerate(lengths)]
    data = b"\n".join(lines) + (b"\n" if final_newline else b"")
    found: list[Any] = []
    runs = list(importer._line_chunks(FakeContainer(data), "data/00001.jsonl"))
    for index, run in enumerate(runs):
        if isinstance(run, importer._LongLine):
            found.append((run.size, run.leaf, run.head))
        else:
            assert run.endswith(b"\n") or index == len(runs) - 1  # whole lines, but the last
            pieces = run.split(b"\n")
            if run.endswith(b"\n"):
                pieces.pop()
            assert all(len(piece) <= 20 for piece in pieces)
            found.extend(pieces)
    expected = [
        line if len(line) <= 20 else (len(line), hashing.leaf_hash(line), line[:5])
        for line in lines
    ]
    assert found == expected


@dataclass(frozen=True)
class LongRecordBundle:
    path: Path
    trust: Path
    long_line: bytes  # the sealed record of seq LONG_SEQ, over the lowered limit


LOWERED_RECORD_LINE = 100_000
LONG_SEQ = 5


@pytest.fixture
def long_record_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LongRecordBundle:
    """A sealed bundle whose record 5 is longer than MAX_RECORD_LINE, lowered to 100 kB."""
    lines = audit_lines(10)
    record = json.loads(lines[LONG_SEQ - 1])
    record["attributes"]["updated_data"] = {"text": "Z" * (2 * LOWERED_RECORD_LINE)}
    lines[LONG_SEQ - 1] = json.dumps(record, separators=(",", ":")).encode()
    source = write_jsonl(tmp_path / "long.jsonl", lines)
    key = sample_key(KEY_LABEL)
    for _ in seal([source], key, tmp_path / "bundle", stream_id="long", checkpoint_every=4):
        pass
    trust = tmp_path / "signer.pem"
    trust.write_bytes(key.public_pem())
    for module in (importer, decode):
        monkeypatch.setattr(module, "MAX_RECORD_LINE", LOWERED_RECORD_LINE)
    monkeypatch.setattr(importer, "HASH_CHUNK", 16 * 1024)  # the long record spans chunks
    return LongRecordBundle(tmp_path / "bundle", trust, lines[LONG_SEQ - 1])


def imported_events(case: Path) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    state = case_state(case)
    events = [dict(zip([*FIELD_NAMES, "input_id"], e, strict=True)) for e in state.events]
    return events, state.findings


@pytest.mark.parametrize("damaged", [False, True])
def test_a_record_over_the_line_limit_is_one_event_not_decoded(
    damaged: bool, long_record_bundle: LongRecordBundle, tmp_path: Path, cli: Any
) -> None:
    bundle, long_line = long_record_bundle.path, long_record_bundle.long_line
    data = bundle / "data" / "00001.jsonl"
    stored = long_line
    if damaged:  # the long record altered: read line by line, it must be named tampered
        stored = long_line.replace(b"ZZZZ", b"ZZYZ", 1)
        data.write_bytes(data.read_bytes().replace(long_line, stored))
    case = tmp_path / "case"
    done = cli("import", case, bundle, "--trust", long_record_bundle.trust)
    verdict = Verdict.TAMPERED if damaged else Verdict.VERIFIED
    assert done.code == EXIT_CODES[verdict], done.out + done.err
    assert "Traceback" not in done.err
    events, findings = imported_events(case)
    assert [e["seq"] for e in events] == list(range(1, 11))
    assert [e["line"] for e in events] == list(range(1, 11))
    long = events[LONG_SEQ - 1]
    assert long["integrity"] == ("tampered" if damaged else "verified")
    assert bytes(long["leaf_hash"]) == hashing.leaf_hash(stored)
    assert long["name"] == "unreadable record"
    assert long["body"] == stored[: decode.RECORD_PREVIEW_BYTES].decode()
    others = [e for e in events if e["seq"] != LONG_SEQ]
    assert all(e["integrity"] == "verified" and e["action"] for e in others)
    where = f"{bundle}!data/00001.jsonl"
    unreadable = [f for f in findings if f[2] == "RECORD_UNREADABLE"]
    assert [(f[4], f[5], f[6]) for f in unreadable] == [(where, LONG_SEQ, LONG_SEQ)]
    assert f"record line of {len(stored)} bytes" in unreadable[0][8]
    assert f"limit of {LOWERED_RECORD_LINE} bytes" in unreadable[0][8]
    if damaged:
        assert any(f[2] == "RECORD_MODIFIED" and f[5] == LONG_SEQ for f in findings)


def event_indexes(case: StoreCase) -> list[str]:
    rows = case.db.execute("SELECT index_name FROM duckdb_indexes() ORDER BY 1").fetchall()
    return [name for (name,) in rows]


def ordered_rows(case: StoreCase) -> Any:
    return case.scalar("SELECT value FROM meta WHERE key = 'ordered_rows'")


def test_each_input_orders_the_timeline_again_and_builds_no_index(tmp_path: Path, cli: Any) -> None:
    # Inserts feeding DuckDB's in-memory ART indexes ran a 10^6-event import into a 10^7-event
    # case out of memory, so events carry no index (the lookup tables serve their queries). The
    # order is forgotten in the transaction of each input: a rolled-back input keeps it, a
    # committed one is ordered again.
    first = write_jsonl(tmp_path / "a.jsonl", audit_lines(6))
    case_folder = tmp_path / "case"
    assert cli("import", case_folder, first).code == EXIT_CODES[Verdict.UNSEALED]
    with StoreCase.open(case_folder) as case:
        assert (event_indexes(case), ordered_rows(case)) == ([], "6")
        case.db.begin()
        queries.before_adding_events(case)
        assert ordered_rows(case) is None
        case.db.rollback()
        assert ordered_rows(case) == "6"
    second = write_jsonl(tmp_path / "b.jsonl", audit_lines(9)[6:])
    assert cli("import", case_folder, second).code == EXIT_CODES[Verdict.UNSEALED]
    with StoreCase.open(case_folder) as case:
        assert (event_indexes(case), ordered_rows(case)) == ([], "9")
        assert not queries.needs_refresh(case)
    # An input that adds no event (a search response without hits) is ordered again as well.
    empty = write_jsonl(tmp_path / "hits.json", [b'{"hits":{"total":0,"hits":[]}}'])
    done = cli("import", case_folder, empty)
    assert done.code == EXIT_CODES[Verdict.UNSEALED] and ": 0 events" in done.out, done.out
    with StoreCase.open(case_folder) as case:
        assert (event_indexes(case), ordered_rows(case)) == ([], "9")
