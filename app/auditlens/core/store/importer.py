"""Importing evidence into a case: hash, verify, decode, normalize, index (docs/architecture.md §3).

One input, one transaction. A sealed bundle is verified first and its verdict, findings and
registry entry are stored with it; every event carries its own integrity status. Raw evidence is
hashed before it is parsed and imported as *unsealed*. A raw record that does not parse rejects
the whole input, naming file and line; nothing of it is kept. Importing a bundle already in the
case (same manifest digest) or a raw file already imported (same SHA-256) adds nothing and is
reported as a replay.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from auditlens.core.bundle.container import Container, check_input_kind, open_container
from auditlens.core.bundle.manifest import LEAVES_PATH, MANIFEST_PATH, Manifest
from auditlens.core.bundle.seal import SEALER_NAME
from auditlens.core.crypto import hashing
from auditlens.core.errors import Error, InvalidInputError, StorageError
from auditlens.core.formats.registry import read_records
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.resources import profiles_dir
from auditlens.core.schema import EVENT_SCHEMA, FIELD_NAMES
from auditlens.core.store.case import Case
from auditlens.core.store.decode import (
    MAX_RECORD_LINE,
    RECORD_PREVIEW_BYTES,
    DecodeResult,
    DecodeTask,
    decode_task,
    read_table,
    warm_up,
)
from auditlens.core.store.normalize import Normalizer, load_profiles
from auditlens.core.store.queries import before_adding_events
from auditlens.core.store.streams import store_case_verdict, update_stream
from auditlens.core.verify.findings import MAX_FINDINGS_PER_CODE, Finding, Verdict
from auditlens.core.verify.report import BundleReport, RecordMatches, StreamReport
from auditlens.core.verify.trust import TrustStore
from auditlens.core.verify.verifier import BundleVerifier
from auditlens.core.workers import BrokenProcessPool, WorkerDiedError, worker_pool

BATCH_ROWS = 20_000
DECODE_TASK_BYTES = 8 * 1024 * 1024  # per worker task: big enough to amortize, small in memory
# Inputs hashed and verified ahead of the one being stored. With one, the next input was often
# not verified yet when this one's decoding ended (0.5 s of idle workers per 10^6 records).
READ_AHEAD = 2
INSERT_ROWS = 32_768  # rows stored by one INSERT when decoded tasks are smaller (a row group)
PARALLEL_MIN_RECORDS = 50_000  # below this, starting worker processes costs more than it saves
# A sealed bundle this large (about PARALLEL_MIN_RECORDS records of 1 KB) starts the workers with
# the import (decode.warm_up): at 10^6 records they were otherwise idle for the first 0.8 s,
# while the import's own thread started. A replay or a refused bundle has started them for
# nothing: each worker's start and imports, about 0.2 s of CPU (measured 0.13 s for the imports).
WARM_UP_BYTES = 48 * 1024 * 1024
HASH_CHUNK = 8 * 1024 * 1024  # below MAX_RECORD_LINE: a line whole within one chunk is decoded


@dataclass
class InputResult:
    """What happened to one input."""

    path: str
    kind: str  # bundle or raw
    sha256: str
    verdict: Verdict
    records: int = 0
    replay: bool = False
    rejected: str | None = None
    bundle_id: str | None = None
    findings: list[Finding] = field(default_factory=list)
    input_id: int | None = None  # set when committed (a replay adds nothing and has none)
    # The bundle's stream as the case holds it after this input (docs/verification.md §3.1).
    stream: StreamReport | None = None


@dataclass
class ImportReport:
    """What an import run did."""

    inputs: list[InputResult] = field(default_factory=list)

    @property
    def records(self) -> int:
        """Events added."""
        return sum(r.records for r in self.inputs)

    @property
    def streams(self) -> list[StreamReport]:
        """Each stream an input touched, as the case holds it after the whole run."""
        latest: dict[tuple[str, int], StreamReport] = {}
        for result in self.inputs:
            if result.stream is not None:
                latest[(result.stream.stream_id, result.stream.epoch)] = result.stream
        return list(latest.values())


def _sha256_file(path: Path, token: CancelToken) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    # Read into one buffer, not a new bytes object per chunk: fresh megabytes are fresh pages the
    # kernel faults in and zeroes (verify/segments.py, _buffer: 34,560 page faults per pass over
    # the 847 MB of 10^6 records against 2,016). Sized to the file when it is smaller.
    with path.open("rb", buffering=0) as handle:
        buffer = bytearray(max(1, min(HASH_CHUNK, os.fstat(handle.fileno()).st_size)))
        with memoryview(buffer) as view:
            while count := handle.readinto(buffer):
                digest.update(view[:count])
                size += count
                token.check()
    return digest.hexdigest(), size


def hash_input(path: Path, token: CancelToken) -> tuple[str, int]:
    """SHA-256 of a file; for a folder, SHA-256 over its sorted ``name NUL sha256 LF`` lines."""
    if path.is_file():
        return _sha256_file(path, token)
    files = _folder_files(path)
    return _listing(path, {item: _sha256_file(item, token) for item in files})


def _folder_files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _large_bundle(path: Path) -> bool:
    """Whether ``path`` looks like a sealed bundle of WARM_UP_BYTES or more (unreadable: no)."""
    try:
        if path.is_dir():
            if not (path / MANIFEST_PATH).is_file():
                return False  # raw evidence is decoded in this process
            return sum(item.stat().st_size for item in _folder_files(path)) >= WARM_UP_BYTES
        if not path.is_file():
            return False  # a FIFO or device is never opened (refused in its own turn)
        return _looks_like_archive(path) and path.stat().st_size >= WARM_UP_BYTES
    except OSError:
        return False


def _listing(path: Path, digests: dict[Path, tuple[str, int]]) -> tuple[str, int]:
    """A folder's digest from its files' digests (``hash_input``), in name order."""
    listing = hashlib.sha256()
    total = 0
    for item in sorted(digests):
        digest, size = digests[item]
        total += size
        # os.fsencode: a hostile file name need not be UTF-8.
        name = os.fsencode(item.relative_to(path).as_posix())
        listing.update(name + b"\0" + digest.encode() + b"\n")
    return listing.hexdigest(), total


def _is_bundle_data(folder: Path, item: Path) -> bool:
    """A file of a bundle folder that holds records (``data/...``), judged by its place only."""
    return item.relative_to(folder).parts[0] == "data"


SPOOL_PREFIX = "auditlens-decode-"
SPOOL_UNLOCKED_GRACE = 600.0  # seconds after which a spool folder without its lock is abandoned


class Spool:
    """A folder in the temporary folder (``TMPDIR``) where decoding workers leave their rows.

    Its owner holds an exclusive lock on ``.lock`` inside it for as long as it lives; the lock
    goes with the process, however it ends. A new spool first removes the folders whose lock it
    can take (their owner died before ``Importer.close``), whatever process ids mean in the
    processes sharing the temporary folder.
    """

    LOCK = ".lock"

    def __init__(self) -> None:
        parent = Path(tempfile.gettempdir())
        for folder in parent.glob(f"{SPOOL_PREFIX}*"):
            _remove_if_abandoned(folder)
        self.path = tempfile.mkdtemp(prefix=SPOOL_PREFIX, dir=parent)
        self._lock = os.open(os.path.join(self.path, self.LOCK), os.O_CREAT | os.O_WRONLY, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)

    def remove(self) -> None:
        """Remove the folder and what is left in it, then let go of the lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock)


def _remove_if_abandoned(folder: Path) -> None:
    try:
        lock = os.open(folder / Spool.LOCK, os.O_RDONLY)
    except FileNotFoundError:
        # Made but not locked yet (a moment), or by a process killed in that moment.
        try:
            old = time.time() - folder.stat().st_mtime > SPOOL_UNLOCKED_GRACE
        except OSError:
            return
        if old:
            shutil.rmtree(folder, ignore_errors=True)
        return
    except OSError:
        return  # another user's, or not ours to judge
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # its owner is alive
    else:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(lock)


@dataclass(frozen=True)
class _Digest:
    """An input's fingerprint (taken first), digest and verification report, read ahead."""

    fingerprint: list[tuple[str, int, int]]
    sha256: str
    size: int
    report: BundleReport | None = None


def _discard(futures: Iterable[Future[DecodeResult]]) -> None:
    """Cancel decoding whose rows will not be read; remove the spool file of any that ran."""
    for future in futures:
        if not future.cancel():
            future.add_done_callback(_unlink_result)


def _unlink_result(future: Future[DecodeResult]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    path = future.result().path
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


# A bundle's base integrity, sealed leaves and segment tasks (``Importer._plan``).
_Plan = tuple[str, bytes, list[DecodeTask] | None]


@dataclass
class _Speculation:
    """The first decode tasks of the next input, submitted before its turn."""

    path: Path
    report: BundleReport  # the read-ahead's report the plan was made from
    plan: _Plan  # Importer._plan of that input, used again at its turn
    tasks: list[DecodeTask]
    futures: deque[Future[DecodeResult]]


class _LinkedToken(CancelToken):
    """Cancelled by its own ``cancel()`` or by the job's token."""

    def __init__(self, outer: CancelToken) -> None:
        super().__init__()
        self._outer = outer

    def check(self) -> None:
        """Raise ``CancelledError`` if either token was cancelled."""
        self._outer.check()
        super().check()


def _digest_ahead(path: Path, token: CancelToken, trust: TrustStore) -> _Digest | None:
    """Fingerprint, hash, then (a bundle) verify an input, in the importer's read-ahead thread.

    The same steps in the same order as the input's own turn (hash before parse). Verification
    runs inline here (``workers=1``): a worker pool belongs to the thread that made it
    (core/workers.py), and this thread's job is to fill the cores the decoding leaves idle.
    """
    if not path.exists():
        return None  # the input's own turn says what is wrong
    try:
        check_input_kind(path)
    except InvalidInputError:
        return None  # a FIFO or device: never opened; the input's own turn refuses it
    found = fingerprint(path)
    sha256, size = hash_input(path, token)
    try:
        container = open_container(path)
    except InvalidInputError:
        return _Digest(found, sha256, size)
    with container:
        sealed = MANIFEST_PATH in container.files()
    if not sealed:
        return _Digest(found, sha256, size)
    job = BundleVerifier(path, trust, token=token, workers=1).run(None)
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return _Digest(found, sha256, size, stop.value)


def _insert(case: Case, table: pa.Table, input_id: int) -> None:
    """Append one Arrow table of events (``ord`` is assigned later by ``refresh_order``)."""
    case.db.register("_batch", table)
    try:
        case.db.execute("INSERT INTO events SELECT NULL, *, ? FROM _batch", [input_id])
    finally:
        case.db.unregister("_batch")


def _unreadable(exc: OSError, given: Path) -> InvalidInputError | None:
    """The refusal of an input the system will not let be read, or None when not the input.

    The file named must be the input or inside it: an error of a scratch file or of the case's
    own folder is no fault of the evidence.
    """
    if exc.filename is None:
        return None
    place = Path(os.fsdecode(exc.filename))
    if place != given and given not in place.parents:
        return None
    return InvalidInputError(f"cannot read it: {exc.strerror or exc}", path=str(place))


def _rollback(db: duckdb.DuckDBPyConnection) -> None:
    """Undo an input's transaction, which an interruption may have found already committed.

    Ctrl+C (or a Cancel) landing after ``commit`` returned, before the block was left, finds no
    transaction to undo: the input is then in the case and is journaled as ``import_recovered``
    when the case is next opened (docs/case.md). The interruption, not DuckDB's complaint about
    the missing transaction, is what the caller must see.
    """
    with contextlib.suppress(duckdb.TransactionException):
        db.rollback()


def _looks_like_archive(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(262)
    return (
        head.startswith(b"PK")
        or head[257:262] == b"ustar"
        or path.name.lower().endswith((".zip", ".tar", ".tgz", ".tar.gz"))
    )


def _journal_details(result: InputResult) -> dict[str, Any]:
    return {
        "path": str(result.path),
        "sha256": result.sha256,
        "kind": result.kind,
        "verdict": result.verdict.value,
        "events": result.records,
        "replay": result.replay,
        "bundle_id": result.bundle_id,
        "findings": sorted({f.code for f in result.findings}),
        # The bundle's stream after this input (docs/verification.md §3.1): its verdict and the
        # findings between its bundles that still stand.
        "stream": None
        if result.stream is None
        else {
            "stream_id": result.stream.stream_id,
            "epoch": result.stream.epoch,
            "verdict": result.stream.verdict.value,
            "open_findings": sorted(
                {f"{s.finding.code}@{s.finding.seq}" for s in result.stream.findings}
            ),
        },
    }


def fingerprint(path: Path) -> list[tuple[str, int, int]]:
    """Size and modification time of every file of an input (a file or a folder)."""
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
    )
    result = []
    for item in files:
        info = item.stat()
        result.append((str(item), info.st_size, info.st_mtime_ns))
    return result


class _Batcher:
    """Collects rows and inserts them as Arrow batches into ``events``.

    The columns every row of a raw file shares (its stream, file, no bundle, ``unsealed``) are
    given once per file (:meth:`start_file`) and repeated by Arrow, not appended and converted
    per row: up to 1.75 us per row for a long path (the raw input's path is stored in two
    columns), 0.3 us for the audit lines' (bench/README.md, "bench_formats.py").
    """

    def __init__(self, case: Case, input_id: int) -> None:
        self.case = case
        self.input_id = input_id
        self.shared: dict[str, Any] = {}
        self.own: tuple[str, ...] = FIELD_NAMES
        self.columns: dict[str, list[Any]] = {name: [] for name in self.own}
        self.count = 0

    def start_file(self, shared: dict[str, Any]) -> None:
        """The values every row of the next file has in the columns ``shared`` names."""
        self.flush()
        self.shared = shared
        self.own = tuple(name for name in FIELD_NAMES if name not in shared)
        self.columns = {name: [] for name in self.own}

    def add(self, row: dict[str, Any]) -> None:
        columns = self.columns
        for name in self.own:
            columns[name].append(row[name])
        self.count += 1
        if len(columns["kind"]) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        rows = len(self.columns["kind"])
        if not rows:
            return
        arrays = [
            pa.repeat(pa.scalar(self.shared[f.name], f.type), rows)
            if f.name in self.shared
            else pa.array(self.columns[f.name], f.type)
            for f in EVENT_SCHEMA
        ]
        _insert(self.case, pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA), self.input_id)
        self.columns = {name: [] for name in self.own}


class Importer:
    """Imports inputs into an open case."""

    def __init__(
        self,
        case: Case,
        trust: TrustStore,
        *,
        token: CancelToken | None = None,
        workers: int | None = None,
    ) -> None:
        self.case = case
        self.trust = trust
        self.token = token or CancelToken()
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        folders = [profiles_dir(), case.folder / "profiles"]
        self.profile_dirs = tuple(str(p) for p in folders)
        self.normalizer = Normalizer(load_profiles(folders))
        self.executor: Executor | None = None
        self._fingerprint: list[tuple[str, int, int]] = []
        # The next inputs are hashed and verified in a thread while this one is decoded and
        # stored (_digest_ahead): reading the evidence is I/O-bound once it exceeds the page
        # cache (10^7 records: 82 s of the import), and the next input's decoding can start
        # only once it is verified (_speculate). READ_AHEAD inputs ahead at most, one at a time.
        self._ahead: dict[Path, Future[_Digest | None]] = {}
        self._verified: BundleReport | None = None
        self._ahead_token = _LinkedToken(self.token)
        self._hasher: ThreadPoolExecutor | None = None
        # Hashes the record files of the input being imported (``_hash_bundle_folder``).
        self._digester: ThreadPoolExecutor | None = None
        self._digest_token = _LinkedToken(self.token)
        # The input after the current one, and decoding started for it (``_speculate``).
        self._next_input: Path | None = None
        self._speculation: _Speculation | None = None
        # Where the workers leave decoded rows (``_submit``), removed by ``close``.
        self._spool: Spool | None = None
        self._no_spool = False

    def run(self, inputs: Sequence[Path]) -> Generator[Progress, None, ImportReport]:
        """Import each input in its own transaction."""
        report = ImportReport()
        try:
            if self.workers > 1 and any(_large_bundle(path) for path in inputs):
                pool = self._pool()  # made in this thread, which outlives it (core/workers.py)
                for _ in range(self.workers):
                    pool.submit(warm_up, self.profile_dirs)
            for index, path in enumerate(inputs):
                self.token.check()
                self._next_input = inputs[index + 1] if index + 1 < len(inputs) else None
                for ahead in inputs[index + 1 : index + 1 + READ_AHEAD]:
                    self._hash_ahead(ahead)
                yield Progress("importing", index, len(inputs), "inputs", f"importing {path}")
                try:
                    result = yield from self._one(path)
                except BrokenProcessPool as exc:
                    started = self._speculation
                    also = (
                        f" (the first records of the next input, {started.path}, were being "
                        "decoded too: either may have caused it)"
                        if started is not None and started.path != path
                        else ""
                    )
                    raise WorkerDiedError(
                        "a decoding worker process died (killed or out of memory); nothing of "
                        f"this input was kept{also}",
                        path=str(path),
                    ) from exc
                except duckdb.Error as exc:
                    # A failed write (disk full, file too large) or a broken database: the
                    # input's transaction is lost; earlier inputs stay committed.
                    raise StorageError(
                        f"the case database failed: {exc}", path=str(self.case.folder)
                    ) from exc
                except Error as exc:
                    # A refused input is an examiner action too; the case keeps what came before.
                    self.case.journal(
                        "import_refused", {"path": str(path), "error": exc.diagnostics()}
                    )
                    raise
                except OSError as exc:
                    refused = _unreadable(exc, path)
                    if refused is None:
                        raise  # not the evidence (a scratch file, the case): not a refusal
                    self.case.journal(
                        "import_refused", {"path": str(path), "error": refused.diagnostics()}
                    )
                    raise refused from exc
                if result.input_id is None:
                    self.case.journal("import", {"inputs": [_journal_details(result)]})
                else:
                    self.case.journal_input(
                        "import", result.input_id, {"inputs": [_journal_details(result)]}
                    )
                report.inputs.append(result)
        finally:
            self.close()
        return report

    def _one(self, path: Path) -> Generator[Progress, None, InputResult]:
        try:
            return (yield from self._one_input(path))
        finally:
            self._drop_speculation()

    def _one_input(self, path: Path) -> Generator[Progress, None, InputResult]:
        if not path.exists():
            raise InvalidInputError("no such file or folder", path=str(path))
        check_input_kind(path)  # a FIFO would block the hashing below forever
        ahead = self._digest_of(path)
        self._verified = ahead.report if ahead is not None else None
        digest: Callable[[], tuple[str, int]] | None = None
        if ahead is not None:
            self._fingerprint, sha256, size = ahead.fingerprint, ahead.sha256, ahead.size
        else:
            self._fingerprint = fingerprint(path)
            yield Progress("hashing", 0, None, "bytes", f"hashing {path}")
            if path.is_dir() and (path / MANIFEST_PATH).is_file():
                digest = self._hash_bundle_folder(path)
                sha256, size = "", 0  # known once ``digest`` returns (``_bundle``)
            else:
                sha256, size = hash_input(path, self.token)
        container = None
        try:
            container = open_container(path)
        except InvalidInputError:
            if path.is_file() and _looks_like_archive(path):
                raise  # a damaged archive is not raw evidence: say what is wrong with it
            container = None
        if container is not None and MANIFEST_PATH in container.files():
            with container:
                return (
                    yield from self._bundle(path, container, digest or (lambda: (sha256, size)))
                )
        if container is not None:
            container.close()
        if digest is not None:
            sha256, size = digest()
        return (yield from self._raw(path, sha256, size))

    def _hash_bundle_folder(self, path: Path) -> Callable[[], tuple[str, int]]:
        """Hash a bundle folder: its metadata files now, its record files while it is verified.

        Every file is still hashed before it is parsed: verification parses only files at fixed
        places outside ``data/`` (``manifest.json``, ``manifest.dsse.json``,
        ``index/checkpoints.json``, whatever the manifest says) and reads the files under
        ``data/`` as bytes to hash their lines, and no record is decoded before the returned
        function has given the folder's digest.
        The hashing thread and the verifying workers then share the cores instead of taking
        turns (measured at 10^6 records: the hash alone kept one core busy for 1.1 s).
        """
        files = _folder_files(path)
        digests = {
            item: _sha256_file(item, self.token)
            for item in files
            if not _is_bundle_data(path, item)
        }
        token = self._digest_token

        def rest() -> tuple[str, int]:
            for item in files:
                if item not in digests:
                    digests[item] = _sha256_file(item, token)
            return _listing(path, digests)

        if self._digester is None:
            self._digester = ThreadPoolExecutor(1, thread_name_prefix="auditlens-digest")
        return self._digester.submit(rest).result

    def _hash_ahead(self, path: Path) -> None:
        if path in self._ahead:
            return
        if self._hasher is None:
            self._hasher = ThreadPoolExecutor(1, thread_name_prefix="auditlens-hash")
        self._ahead[path] = self._hasher.submit(_digest_ahead, path, self._ahead_token, self.trust)

    def _digest_of(self, path: Path) -> _Digest | None:
        """The digest hashed ahead for ``path``; ``None``: hash it now (an error is raised then)."""
        future = self._ahead.pop(path, None)
        if future is None:
            return None
        try:
            return future.result()
        except Exception:
            return None  # hashing it again in this thread raises the error where it belongs

    def _check_unchanged(self, path: Path) -> None:
        """Refuse to commit what was read if the evidence changed while it was being read.

        Hashing, verification and decoding each read the input; a file rewritten in between
        would make the stored events disagree with the recorded digest and verdict.
        """
        if fingerprint(path) != self._fingerprint:
            raise InvalidInputError(
                "the evidence changed while it was being imported (size or modification time); "
                "nothing of it was kept",
                path=str(path),
            )

    def _next_input_id(self) -> int:
        return int(self.case.scalar("SELECT coalesce(max(input_id), 0) + 1 FROM inputs"))

    def _record_input(self, input_id: int, result: InputResult, size: int) -> None:
        result.input_id = input_id
        self.case.db.execute(
            "INSERT INTO inputs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                input_id,
                result.path,
                result.kind,
                result.sha256,
                size,
                datetime.now(UTC).isoformat(timespec="microseconds"),
                result.verdict.value,
                result.bundle_id,
                result.records,
            ],
        )

    # -- raw evidence ------------------------------------------------------------------------

    def _raw(self, path: Path, sha256: str, size: int) -> Generator[Progress, None, InputResult]:
        result = InputResult(str(path), "raw", sha256, Verdict.UNSEALED)
        if self.case.scalar(
            "SELECT count(*) FROM inputs WHERE sha256 = ? AND kind = 'raw'", [sha256]
        ):
            result.replay = True
            return result
        files = (
            [path]
            if path.is_file()
            else sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink())
        )
        if not files:
            raise InvalidInputError(
                "the folder is empty (no regular files in it): nothing to import", path=str(path)
            )
        input_id = self._next_input_id()
        db = self.case.db
        db.begin()
        try:
            before_adding_events(self.case)
            batcher = _Batcher(self.case, input_id)
            for file in files:
                batcher.start_file(
                    {
                        "stream_id": self._raw_stream_id(path, file),
                        "bundle_id": None,
                        "file": str(file),
                        "integrity": "unsealed",
                    }
                )
                for seq, record in enumerate(read_records(file), start=1):
                    try:
                        # read_records read the line by the strict rules already
                        row = self.normalizer.row(record.line, False, record.value)
                    except InvalidInputError as exc:
                        raise InvalidInputError(
                            exc.message, path=str(file), line=record.origin
                        ) from exc
                    row.update(
                        seq=seq, line=record.origin, leaf_hash=hashing.leaf_hash(record.line)
                    )
                    batcher.add(row)
                    if batcher.count % BATCH_ROWS == 0:
                        self.token.check()
                        yield Progress("indexing", batcher.count, None, "records")
            batcher.flush()
            result.records = batcher.count
            self._record_input(input_id, result, size)
            store_case_verdict(self.case)
            self._check_unchanged(path)
            db.commit()
        except BaseException:
            _rollback(db)
            raise
        return result

    # -- sealed bundles ----------------------------------------------------------------------

    def _bundle(
        self, path: Path, container: Container, digest: Callable[[], tuple[str, int]]
    ) -> Generator[Progress, None, InputResult]:
        yield Progress("verifying", 0, None, "records", f"verifying {path}")
        bundle, self._verified = self._verified, None
        if bundle is None:
            verifier = BundleVerifier(path, self.trust, token=self.token, workers=self.workers)
            bundle = yield from verifier.run(self.executor)
            self.executor = verifier.executor
        sha256, size = digest()
        manifest = bundle.manifest
        result = InputResult(
            str(path),
            "bundle",
            sha256,
            bundle.verdict,
            bundle_id=manifest.bundle_id if manifest else None,
            findings=list(bundle.findings),
        )
        if manifest is not None and self._is_replay(bundle, sha256):
            result.replay = True
            return result
        input_id = self._next_input_id()
        db = self.case.db
        db.begin()
        try:
            if manifest is not None and bundle.verdict is not Verdict.INVALID:
                before_adding_events(self.case)
                result.records = yield from self._bundle_events(
                    container, bundle, manifest, input_id, result
                )
            self._record_input(input_id, result, size)
            if manifest is not None:
                db.execute(
                    f"INSERT INTO bundles VALUES ({', '.join('?' * 19)})",  # noqa: S608 - placeholders
                    [
                        manifest.bundle_id,
                        input_id,
                        str(path),
                        manifest.stream_id,
                        manifest.epoch,
                        manifest.first_seq,
                        manifest.last_seq,
                        manifest.count,
                        manifest.chain_initial,
                        manifest.chain_final,
                        manifest.merkle_root,
                        bundle.manifest_sha256,
                        manifest.previous.bundle_id if manifest.previous else None,
                        manifest.signer_key_id,
                        manifest.sealed_at,
                        manifest.time_first_ns,
                        manifest.time_last_ns,
                        result.verdict.value,
                        manifest.canonical_bytes(),
                    ],
                )
            if manifest is not None and bundle.verdict is not Verdict.INVALID:
                result.stream = update_stream(
                    self.case, manifest.stream_id, manifest.epoch, input_id
                )
            store_case_verdict(self.case)
            for f in result.findings:
                db.execute(
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        input_id,
                        result.bundle_id,
                        f.code,
                        f.severity,
                        f.path,
                        f.line,
                        f.seq,
                        f.stream_id,
                        f.message,
                        f.expected,
                        f.actual,
                    ],
                )
            self._check_unchanged(path)
            db.commit()
        except BaseException:
            _rollback(db)
            raise
        return result

    def _raw_stream_id(self, given: Path, file: Path) -> str:
        """``raw:NAME`` for a file given, ``raw:FOLDER/RELATIVE`` for a file of a folder given.

        Raw files have no stream of their own; the name keeps them apart in the case. When the
        case already holds a stream of that name (another file of the same name), the file's
        own digest is appended so two files never share sequence numbers.
        """
        name = (
            file.name if given.is_file() else f"{given.name}/{file.relative_to(given).as_posix()}"
        )
        stream = f"raw:{name}"
        if self.case.scalar("SELECT count(*) FROM events WHERE stream_id = ?", [stream]):
            stream = f"{stream}@{_sha256_file(file, self.token)[0][:12]}"
        return stream

    def _is_replay(self, bundle: BundleReport, sha256: str) -> bool:
        """Whether the case already holds this very bundle, so importing it adds nothing.

        The same bytes are always a replay. The same manifest is a replay only when both the copy
        in the case and this one are intact: a tampered copy must neither hide the genuine
        bundle imported after it, nor be dropped (with its findings) when it comes second.
        """
        if self.case.scalar(
            "SELECT count(*) FROM inputs WHERE sha256 = ? AND kind = 'bundle'", [sha256]
        ):
            return True
        intact = ("verified", "untrusted")
        if bundle.verdict.value not in intact:
            return False
        return bool(
            self.case.scalar(
                "SELECT count(*) FROM bundles WHERE manifest_sha256 = ? AND verdict IN (?, ?)",
                [bundle.manifest_sha256, *intact],
            )
        )

    def _bundle_events(
        self,
        container: Container,
        bundle: BundleReport,
        manifest: Manifest,
        input_id: int,
        result: InputResult,
    ) -> Generator[Progress, None, int]:
        ahead = self._speculation
        if ahead is not None and ahead.report is bundle:
            base, expected, segments = ahead.plan  # made when its decoding started
        else:
            base, expected, segments = self._plan(container, bundle, manifest)
        tasks: Iterable[DecodeTask]
        if segments is not None:
            tasks = segments
        else:
            tasks = self._sequential_tasks(container, bundle, manifest, base, expected)
        count = 0
        parallel = self._parallel(manifest)
        if parallel:
            # The decoding workers need the cores; DuckDB's own threads would only contend.
            # Only meanwhile: the case's DuckDB is shared with the workbench's queries.
            self.case.db.execute("SET threads = 1")
        try:
            count = yield from self._insert_decoded(
                tasks, parallel, bundle, manifest, input_id, result
            )
        finally:
            if parallel:
                self.case.db.execute("RESET threads")
        return count

    def _parallel(self, manifest: Manifest) -> bool:
        return manifest.count >= PARALLEL_MIN_RECORDS and self.workers > 1

    def _plan(self, container: Container, bundle: BundleReport, manifest: Manifest) -> _Plan:
        """The base integrity of a bundle's records, their sealed leaves, and its segment tasks.

        Records that step 7 proved segment by segment, in a bundle whose seal holds, are cut at
        the signed checkpoints into tasks decoded in parallel; otherwise (``None``) lines are
        read in order and each is marked from the verifier's record matches. Depends only on the
        container and the verification report.
        """
        base = "verified" if bundle.signer_trusted else "untrusted"
        if not (bundle.segments_proven and bundle.seal_holds):
            return base, b"", None
        # Step 7's fast path proved every segment against the sealed leaves: their leaves are
        # the events' leaves as they are.
        with container.open(LEAVES_PATH) as handle:
            expected = handle.read()
        return base, expected, self._segment_tasks(container, bundle, manifest, expected, base)

    def _insert_decoded(
        self,
        tasks: Iterable[DecodeTask],
        parallel: bool,
        bundle: BundleReport,
        manifest: Manifest,
        input_id: int,
        result: InputResult,
    ) -> Generator[Progress, None, int]:
        count = 0
        # Tables of a few tasks stored by one INSERT: DuckDB appends batches of 32,768 rows or
        # more for about 15 % less than batches of 8,000 (a task of OTLP records), measured.
        waiting: list[pa.Table] = []
        rows = 0
        unreadable = 0
        for decoded in self._run_tasks(tasks, parallel=parallel):
            try:
                table = read_table(decoded)
            except OSError as exc:
                raise StorageError(
                    f"decoded records could not be read back from the temporary folder: {exc}",
                    path=decoded.path,
                ) from exc
            waiting.append(table)
            rows += table.num_rows
            if rows >= INSERT_ROWS:
                _insert(self.case, pa.concat_tables(waiting), input_id)
                waiting.clear()
                rows = 0
            count += decoded.count
            for bad in decoded.unreadable:
                unreadable += 1
                if unreadable > MAX_FINDINGS_PER_CODE:
                    continue  # counted below: one finding per line would be unbounded
                result.findings.append(
                    Finding(
                        "RECORD_UNREADABLE",
                        f"record does not decode: {bad.message}",
                        path=bad.file,
                        line=bad.line,
                        seq=bad.seq,
                        stream_id=manifest.stream_id,
                    )
                )
            self.token.check()
            yield Progress("indexing", count, manifest.count, "records")
        if waiting:
            _insert(self.case, pa.concat_tables(waiting), input_id)
        if unreadable > MAX_FINDINGS_PER_CODE:
            result.findings.append(
                Finding(
                    "RECORD_UNREADABLE",
                    f"... and {unreadable - MAX_FINDINGS_PER_CODE:,} more records that do not "
                    f"decode (the first {MAX_FINDINGS_PER_CODE} are listed)",
                    path=bundle.path,
                    stream_id=manifest.stream_id,
                )
            )
        return count

    def _task(
        self, manifest: Manifest, bundle: BundleReport, member: str, **fields: Any
    ) -> DecodeTask:
        return DecodeTask(
            stream_id=manifest.stream_id,
            bundle_id=manifest.bundle_id,
            file_label=f"{bundle.path}!{member}",
            profile_dirs=self.profile_dirs,
            # docs/case.md: only lines a trusted key says AuditLens's sealer
            # wrote are known free of duplicated JSON keys (its reader refuses them).
            check_keys=not (
                bundle.verdict is Verdict.VERIFIED and manifest.producer.get("name") == SEALER_NAME
            ),
            **fields,
        )

    def _segment_tasks(
        self,
        container: Container,
        bundle: BundleReport,
        manifest: Manifest,
        expected: bytes,
        base: str,
    ) -> list[DecodeTask] | None:
        files = {f.path: f for f in manifest.data_files()}
        regions = {name: container.region(name) for name in files}
        if any(r is None for r in regions.values()) or not bundle.checkpoints:
            return None
        if any(cp.length > MAX_RECORD_LINE for cp in bundle.checkpoints):
            # A task reads its region whole: past this size (a giant record, sealed by a key the
            # signer chose) the lines are read as a stream instead, in bounded memory.
            return None
        tasks: list[DecodeTask] = []
        group: list[Any] = []

        def flush() -> None:
            if not group:
                return
            first, last = group[0], group[-1]
            region = regions[first.file]
            assert region is not None
            entry = files[first.file]
            lo = (first.first_seq - manifest.first_seq) * 32
            hi = (last.last_seq - manifest.first_seq + 1) * 32
            tasks.append(
                self._task(
                    manifest,
                    bundle,
                    first.file,
                    first_line=first.first_seq - (entry.first_seq or 0) + 1,
                    first_seq=first.first_seq,
                    base_integrity=base,
                    expected=expected[lo:hi],
                    proven=True,
                    path=region[0],
                    offset=region[1] + first.offset,
                    length=last.offset + last.length - first.offset,
                )
            )
            group.clear()

        for cp in bundle.checkpoints:
            if group and (
                group[0].file != cp.file
                or cp.offset + cp.length - group[0].offset > DECODE_TASK_BYTES
            ):
                flush()
            group.append(cp)
        flush()
        return tasks

    def _sequential_tasks(
        self,
        container: Container,
        bundle: BundleReport,
        manifest: Manifest,
        base: str,
        expected: bytes,
    ) -> Iterator[DecodeTask]:
        """Tasks for a damaged bundle, read line by line in stored order.

        What each stored record is comes from the verifier (``bundle.records``, step 7 and
        docs/verification.md §2.1): the sealed record it is, or the one it replaced, and whether
        it is intact. Only the data files the verifier read are read: a file that was absent,
        unsafe or duplicated gives no event (docs/verification.md §2, step 1).
        """
        matches = bundle.records or RecordMatches(manifest.first_seq)
        firsts = {f.path: f.first_seq or 0 for f in manifest.data_files()}
        pos = 0
        for path, lines in matches.files:
            line = 1
            for chunk in _line_chunks(container, path):
                if line > lines:
                    # The verifier compared this many lines, its bound past appended ones
                    # (steps/records.localize_bound): the rest is one finding, not events.
                    break
                long = chunk if isinstance(chunk, _LongLine) else None
                if isinstance(chunk, _LongLine):
                    count = 1
                else:
                    count = chunk.count(b"\n") + (not chunk.endswith(b"\n"))
                    if line + count - 1 > lines:
                        keep = lines - line + 1
                        end = -1
                        for _ in range(keep):
                            end = chunk.index(b"\n", end + 1)
                        chunk, count = chunk[: end + 1], keep
                seqs = tuple(matches.seq(pos + k) for k in range(count))
                flags = bytes(matches.is_intact(pos + k) for k in range(count))
                yield self._task(
                    manifest,
                    bundle,
                    path,
                    first_line=line,
                    first_seq=firsts.get(path, manifest.first_seq) + line - 1,
                    base_integrity=base,
                    data=long.head if long else chunk,
                    seqs=seqs,
                    intact=flags,
                    oversize=long.size if long else 0,
                    leaves=long.leaf if long else b"",
                )
                line += count
                pos += count
            if line - 1 != lines:
                # The file changed since it was verified (_check_unchanged refuses the input).
                raise InvalidInputError(
                    f"{line - 1} lines read, {lines} when verified", path=f"{bundle.path}!{path}"
                )

    def _run_tasks(self, tasks: Iterable[DecodeTask], *, parallel: bool) -> Iterator[DecodeResult]:
        """Decode tasks in order, in worker processes when worth it, with few in flight.

        The first tasks may already be decoding: submitted while the input before this one was
        finishing (``_speculate``). Once every task of this input is submitted, the next input's
        first tasks are, so the workers do not wait while this input is committed.
        """
        if not parallel or self.workers < 2:
            for task in tasks:
                yield decode_task(task)
            return
        executor = self._pool()
        window: deque[Future[DecodeResult]] = deque()
        pending = iter(tasks)
        ahead, self._speculation = self._speculation, None
        if ahead is not None:
            if isinstance(tasks, list) and tasks[: len(ahead.tasks)] == ahead.tasks:
                window, pending = ahead.futures, iter(tasks[len(ahead.tasks) :])
            else:
                _discard(ahead.futures)
        try:
            for task in pending:
                window.append(self._submit(executor, task))
                if len(window) >= 3 * self.workers:
                    yield window.popleft().result()
            self._speculate()
            while window:
                yield window.popleft().result()
        finally:
            _discard(window)

    def _speculate(self) -> None:
        """Start decoding the next input's first tasks, when it is known to be decoded in tasks.

        Only once the read-ahead has hashed and verified it (hash before parse), and only for
        records exactly as sealed, whose tasks depend on nothing but the container and the
        report. Decoding writes nothing: if that input's turn plans other tasks (or it is a
        replay, or the import stops), these are cancelled or their results dropped.
        """
        path = self._next_input
        future = self._ahead.get(path) if path is not None else None
        if path is None or future is None or not future.done() or future.exception() is not None:
            return
        digest = future.result()
        report = digest.report if digest is not None else None
        if report is None or report.manifest is None or not self._parallel(report.manifest):
            return
        assert digest is not None
        if self._is_replay(report, digest.sha256):
            return  # as the case stands (this input is not committed yet); its turn decides
        try:
            with open_container(path) as container:
                plan = self._plan(container, report, report.manifest)
        except (Error, OSError):
            return  # the input's own turn says what is wrong
        segments = plan[2]
        if not segments:
            return
        first = segments[: 3 * self.workers]
        executor = self._pool()
        futures = deque(self._submit(executor, task) for task in first)
        self._speculation = _Speculation(path, report, plan, first, futures)

    def _drop_speculation(self) -> None:
        """Cancel decoding started for an input other than the next one (or left unused)."""
        ahead = self._speculation
        if ahead is not None and ahead.path != self._next_input:
            self._speculation = None
            _discard(ahead.futures)

    def _pool(self) -> Executor:
        if self.executor is None:
            self.executor = worker_pool(self.workers)
        return self.executor

    def _submit(self, executor: Executor, task: DecodeTask) -> Future[DecodeResult]:
        """Decode a task in a worker, its rows coming back as a file in the spool folder.

        Measured for the 640 MB of rows of 10^6 records: through the pool's pipe they cost 1.6 s
        of CPU (pickled, piped, copied, unpickled), as files mapped into memory 0.4 s. Without
        a usable temporary folder the rows come through the pipe.
        """
        if self._spool is None and not self._no_spool:
            try:
                self._spool = Spool()
            except OSError:
                self._no_spool = True
        spool = self._spool.path if self._spool is not None else None
        return executor.submit(decode_task, replace(task, spool=spool))

    def close(self) -> None:
        """Stop the worker processes and the hashing threads."""
        if self._digester is not None:
            self._digest_token.cancel()
            self._digester.shutdown(wait=True, cancel_futures=True)
            self._digester = None
            self._digest_token = _LinkedToken(self.token)
        if self._hasher is not None:
            self._ahead_token.cancel()
            self._hasher.shutdown(wait=True, cancel_futures=True)
            self._hasher = None
            self._ahead.clear()
            self._ahead_token = _LinkedToken(self.token)
        if self.executor is not None:
            self.executor.shutdown(cancel_futures=True)
            self.executor = None
        if self._spool is not None:
            # Results decoded but never read (an input stopped, decoding dropped).
            self._spool.remove()
            self._spool = None


@dataclass(frozen=True)
class _LongLine:
    """A stored line longer than MAX_RECORD_LINE, read as a stream: its size, leaf, first bytes."""

    size: int
    leaf: bytes
    head: bytes


class _LineReader:
    """Splits a data file into runs of whole lines in bounded memory.

    Lines up to MAX_RECORD_LINE come in chunks of about HASH_CHUNK bytes (the last line may lack
    its newline); a longer line is hashed as its bytes arrive and comes as a :class:`_LongLine`,
    so a hostile 100 MB (or endless) line costs time, not memory, as in the verifier's slow path.
    """

    def __init__(self) -> None:
        self.parts: list[bytes] = []  # the unfinished line, when it is short so far
        self.size = 0
        self.digest: Any = None  # SHA-256 state of the unfinished line once it is long
        self.head = b""

    def add(self, data: bytes) -> None:
        """Append bytes of the unfinished line (no newline in them)."""
        self.size += len(data)
        if self.digest is not None:
            self.digest.update(data)
            return
        self.parts.append(data)
        if self.size > MAX_RECORD_LINE:
            self.digest = hashlib.sha256(b"\x00")  # the leaf prefix (hashing.leaf_hash)
            head = bytearray()
            for part in self.parts:
                self.digest.update(part)
                if len(head) < RECORD_PREVIEW_BYTES:
                    head += part[: RECORD_PREVIEW_BYTES - len(head)]
            self.head = bytes(head)
            self.parts = []

    def end(self, newline: bool) -> bytes | _LongLine | None:
        """The unfinished line, now finished (with its newline when it had one)."""
        if self.digest is not None:
            done: bytes | _LongLine | None = _LongLine(self.size, self.digest.digest(), self.head)
        elif self.parts or newline:
            done = b"".join(self.parts) + (b"\n" if newline else b"")
        else:
            done = None
        self.parts, self.size, self.digest, self.head = [], 0, None, b""
        return done


def _line_chunks(container: Container, name: str) -> Iterator[bytes | _LongLine]:
    """Runs of whole lines of a data file, in order, in bounded memory (:class:`_LineReader`)."""
    pending = _LineReader()
    with container.open(name) as handle:
        while chunk := handle.read(HASH_CHUNK):
            start = 0
            if pending.size:
                newline = chunk.find(b"\n")
                if newline < 0:
                    pending.add(chunk)
                    continue
                pending.add(chunk[:newline])
                done = pending.end(newline=True)
                assert done is not None
                yield done
                start = newline + 1
            cut = chunk.rfind(b"\n", start) + 1
            if cut:
                yield chunk[start:cut]
            else:
                cut = start
            if cut < len(chunk):
                pending.add(chunk[cut:])
    last = pending.end(newline=False)
    if last is not None:
        yield last


def import_inputs(
    case: Case, inputs: Sequence[Path], trust: TrustStore, *, token: CancelToken | None = None
) -> Generator[Progress, None, ImportReport]:
    """Import ``inputs`` into ``case`` (see :class:`Importer`)."""
    return Importer(case, trust, token=token).run(inputs)
