"""Coverage-guided fuzzing (atheris / libFuzzer) of the bundle verifier and the importers.

docs/robustness.md: every input is hostile until verified and gets a clear error or finding,
never a crash and never a partial case. The two targets check exactly that on inputs libFuzzer
derives from small valid seeds:

``verify``
    The first byte picks what the rest of the input becomes: a bundle ``.zip``, ``.tar.gz`` or
    ``.tar`` archive, one member (manifest, envelope, checkpoints, leaf index, a data file) of a
    valid sealed bundle folder, or a raw evidence file. ``verify_paths`` must return a report
    whose findings are printable UTF-8 text; a bundle whose manifest, index or data bytes differ
    from what was sealed must never be ``verified`` (while the untouched bundle always is), and
    raw input is only ever ``unsealed`` or ``invalid``.

``import``
    The first byte picks the form: a raw evidence file as is, zstd- or gzip-compressed, a bundle
    ``.zip``, or a data file of a valid sealed bundle folder. ``import_inputs`` into a fresh case
    must return a report or raise a project :class:`~auditlens.core.errors.Error`; afterwards the
    case must open again with an intact journal and hold either all of the input's events (one
    transaction per input) or, when it was refused, nothing of it.

Any other exception is a crash: libFuzzer prints it and saves the input as ``crash-*``. From the
repository root::

    .venv/bin/python -m tests.fuzz.harness verify|import [CORPUS_DIR... | INPUT_FILE...]
        [--forms=FORM,...] [--keep-going=DIR] [--seeds-only]
        [-atheris_runs=N] [-max_total_time=SECONDS] [other libFuzzer flags]

Seeds are generated on every start, from small valid inputs, into a temporary folder passed to
libFuzzer after the corpus folders given (new inputs go to the first folder given).
``--forms=`` limits a target to some of its forms (the first byte then picks among those:
inputs saved under other selections mean other forms). ``--seeds-only`` runs each seed once and
stops. Input files given instead of folders are run once
each, as libFuzzer does, to replay a crash. With ``--keep-going=DIR`` each distinct crash (by
exception type and innermost AuditLens frame) is written to DIR with its traceback and fuzzing
carries on: libFuzzer's own fork mode does not work under atheris. Without atheris (its wheels
are for x86_64 only) the same targets run on a simple seeded mutator, so the harness works
everywhere.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import gzip
import hashlib
import importlib
import json
import pkgutil
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

try:
    import atheris
except ImportError:  # no wheel for this platform: fall back to the built-in mutator
    atheris = None

import zstandard

# Instrument the modules the targets reach (the verifier and the importer import some of them
# lazily, after setup) for coverage feedback before anything else imports them.
INSTRUMENTED = ("auditlens.core.bundle", "auditlens.core.verify", "auditlens.core.store")
_instrumented = (
    atheris.instrument_imports(include=["auditlens"]) if atheris else contextlib.nullcontext()
)
with _instrumented:
    for _package in INSTRUMENTED:
        _path = importlib.import_module(_package).__path__
        for _module in pkgutil.walk_packages(_path, f"{_package}."):
            importlib.import_module(_module.name)
    from auditlens.core.bundle.manifest import (
        CHECKPOINTS_PATH,
        ENVELOPE_PATH,
        LEAVES_PATH,
        MANIFEST_PATH,
    )
    from auditlens.core.bundle.seal import seal
    from auditlens.core.crypto.keys import sample_key
    from auditlens.core.errors import Error
    from auditlens.core.store.case import Case
    from auditlens.core.store.importer import import_inputs
    from auditlens.core.store.journal import verify_journal
    from auditlens.core.verify.findings import Verdict
    from auditlens.core.verify.report import VerifyReport
    from auditlens.core.verify.trust import TrustStore, load_trust
    from auditlens.core.verify.verifier import verify_paths

REPO = Path(__file__).resolve().parents[2]
COMPAT = REPO / "tests" / "data" / "otlp-examples"
KEY_LABEL = "fuzz-harness"
DATA_FILE = "data/00001.jsonl"
ARCHIVES = ("bundle.zip", "bundle.tar.gz", "bundle.tar")
DEFAULT_MAX_LEN = 64 * 1024  # the seeds are a few KiB; room to grow, small enough to stay fast


class InvariantError(AssertionError):
    """A target returned, but with an outcome that breaks one of its invariants."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvariantError(message)


def drive(job: Any) -> Any:
    """Run a core progress generator to completion and return its value."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


# --- small valid inputs ------------------------------------------------------------------------


def _audit(i: int) -> dict[str, Any]:
    return {
        "timestamp": f"2026-03-02T08:00:{i:02d}.000Z",
        "user_id": f"u-{i % 3}",
        "user_name": ["alice", "bob", "carol"][i % 3],
        "action": ["LOGIN_SUCCESS", "UPDATE", "EXPORT"][i % 3],
        "resource": "contact",
        "resource_id": f"c-{i}",
        "source_ip_address": f"10.0.0.{i + 1}",
        "attributes": {"service": "crm", "tenantId": "acme", "updated_data": {"n": i}},
        "type": "audit_logging",
        "level": "INFO",
    }


def _kv(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _collector_logs_line() -> dict[str, Any]:
    records = [
        {
            "timeUnixNano": f"177243840{i}000000000",
            "severityNumber": 9,
            "severityText": "INFO",
            "traceId": "5B8EFFF798038103D269B633813FC60C",
            "spanId": "EEE19B7EC3C1B174",
            "body": {"stringValue": json.dumps(_audit(i))},
            "attributes": [
                _kv("user.id", {"stringValue": f"u-{i}"}),
                _kv("user.roles", {"arrayValue": {"values": [{"stringValue": "agent"}]}}),
                _kv("session.id", {"stringValue": "s-1"}),
                _kv("attempt", {"intValue": "2"}),
            ],
        }
        for i in range(2)
    ]
    return {
        "resourceLogs": [
            {
                "resource": {"attributes": [_kv("service.name", {"stringValue": "desktop"})]},
                "scopeLogs": [{"scope": {"name": "audit"}, "logRecords": records}],
            }
        ]
    }


def _hits() -> list[dict[str, Any]]:
    return [
        {
            "_index": "otel-v1-apm-span-000001",
            "_id": "eee19b7ec3c1b174",
            "_source": {
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
                "name": "route-call",
                "startTime": "2026-03-02T08:00:00.000000001Z",
                "durationInNanos": 500000000,
                "serviceName": "routing",
                "span.attributes.user@id": "u-3",
            },
        },
        {
            "_index": "logs-otel-v1-000001",
            "_id": "l-1",
            "_source": {
                "time": "2026-03-02T08:00:01Z",
                "body": "agent logged in",
                "attributes": {"user@id": "u-1"},
            },
        },
    ]


def _ids_to_base64(node: Any) -> Any:
    """OTLP/JSON ids are hex; protobuf's JSON mapping reads bytes fields as base64."""
    if isinstance(node, dict):
        return {
            key: base64.b64encode(bytes.fromhex(value)).decode()
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(value, str)
            else _ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ids_to_base64(item) for item in node]
    return node


def _proto_export() -> bytes:
    """The OTLP example documents as a Collector ``format: proto`` file (length-framed)."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

    logs = _ids_to_base64(json.loads((COMPAT / "logs.json").read_text()))
    traces = _ids_to_base64(json.loads((COMPAT / "trace.json").read_text()))
    messages = [
        json_format.ParseDict(logs, logs_service_pb2.ExportLogsServiceRequest()),
        json_format.ParseDict(traces, trace_service_pb2.ExportTraceServiceRequest()),
    ]
    return b"".join(
        len(body).to_bytes(4, "big") + body for body in (m.SerializeToString() for m in messages)
    )


def _jsonl(documents: list[Any]) -> bytes:
    return b"".join(json.dumps(doc, separators=(",", ":")).encode() + b"\n" for doc in documents)


def raw_samples() -> dict[str, bytes]:
    """One small valid input of every raw form the readers know."""
    return {
        "audit.jsonl": _jsonl([_audit(i) for i in range(6)]),
        "otel-logs.jsonl": _jsonl([_collector_logs_line()]),
        "hits.ndjson": _jsonl(_hits()),
        "search.json": json.dumps(
            {"took": 1, "hits": {"total": {"value": 2}, "hits": _hits()}}, indent=2
        ).encode(),
        "logs.json": (COMPAT / "logs.json").read_bytes(),
        "trace.json": (COMPAT / "trace.json").read_bytes(),
        "export.pb": _proto_export(),
    }


@dataclass(frozen=True)
class Base:
    """A valid sealed bundle (folder, zip and tar.gz) and a trust store that trusts its signer."""

    folder: Path
    archives: dict[str, bytes]  # bundle.zip, bundle.tar.gz, bundle.tar
    trust: TrustStore
    raw: dict[str, bytes]


def build_base(work: Path) -> Base:
    """Seal ten records of three kinds: checkpoints every four, eight records per data file."""
    raw = raw_samples()
    inputs = work / "raw"
    inputs.mkdir()
    for name, data in raw.items():
        (inputs / name).write_bytes(data)
    sources = [inputs / "audit.jsonl", inputs / "otel-logs.jsonl", inputs / "hits.ndjson"]
    key = sample_key(KEY_LABEL)
    for name in ("bundle", *ARCHIVES):
        drive(
            seal(
                sources,
                key,
                work / name,
                stream_id="fuzz",
                checkpoint_every=4,
                records_per_file=8,
                sealed_at="2026-03-02T09:00:00Z",
            )
        )
    (work / "signer.pub.pem").write_bytes(key.public_pem())
    return Base(
        work / "bundle",
        {name: (work / name).read_bytes() for name in ARCHIVES},
        load_trust(work / "signer.pub.pem"),
        raw,
    )


# --- the targets -------------------------------------------------------------------------------


def _verify(path: Path, trust: TrustStore) -> VerifyReport:
    report: VerifyReport = drive(verify_paths([path], trust, workers=1))
    _check(report.verdict in set(Verdict), f"not a verdict: {report.verdict!r}")
    for finding in report.findings:
        # Findings are printed to a terminal and stored in the case: they must be UTF-8 text.
        for text in (finding.message, finding.path, finding.expected, finding.actual):
            if text is not None:
                text.encode("utf-8")
    return report


def _archive_magic(data: bytes) -> bool:
    """Whether ``data`` starts like a zip, gzip or tar file: containers are known by content,
    not by name (docs/bundle-format.md §2), so such a "raw" file may well be a bundle."""
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b")) or data[257:262] == b"ustar"


class Target:
    """A fuzz target: the input's first byte picks one of ``forms``, the rest is the payload."""

    all_forms: tuple[str, ...] = ()

    def __init__(self, base: Base, work: Path, forms: tuple[str, ...] | None = None) -> None:
        unknown = set(forms or ()) - set(self.all_forms)
        if unknown:
            raise SystemExit(f"unknown forms {sorted(unknown)}; known: {', '.join(self.all_forms)}")
        self.base = base
        self.work = work
        self.forms = forms or self.all_forms

    def seed_payloads(self) -> list[tuple[str, bytes]]:
        """``(form, payload)`` of every seed."""
        raise NotImplementedError

    def seeds(self) -> list[bytes]:
        """The seeds of the selected forms, encoded as inputs."""
        return [
            bytes([self.forms.index(form)]) + payload
            for form, payload in self.seed_payloads()
            if form in self.forms
        ]

    def __call__(self, data: bytes) -> str:
        if not data:
            return "empty"
        return self.run(self.forms[data[0] % len(self.forms)], data[1:])

    def run(self, form: str, payload: bytes) -> str:
        """Feed ``payload`` to the code under test as ``form``; return a label of the outcome."""
        raise NotImplementedError


class VerifyTarget(Target):
    """Bytes as a bundle archive, one member of a valid bundle folder, or raw evidence; verify."""

    members = (MANIFEST_PATH, ENVELOPE_PATH, CHECKPOINTS_PATH, LEAVES_PATH, DATA_FILE)
    all_forms = (*ARCHIVES, *members, "raw")

    def __init__(self, base: Base, work: Path, forms: tuple[str, ...] | None = None) -> None:
        super().__init__(base, work, forms)
        self.originals = {m: (base.folder / m).read_bytes() for m in self.members}

    def seed_payloads(self) -> list[tuple[str, bytes]]:
        """The valid bundle in every form; every raw sample, plain and zstd-compressed."""
        raw = self.base.raw
        return [
            *self.base.archives.items(),
            *self.originals.items(),
            *(("raw", data) for data in raw.values()),
            ("raw", zstandard.ZstdCompressor().compress(raw["audit.jsonl"])),
            ("raw", gzip.compress(raw["otel-logs.jsonl"], mtime=0)),
        ]

    def run(self, form: str, payload: bytes) -> str:
        """Verify; an untouched bundle is verified, a changed one never, raw input never sealed."""
        try:
            if form in self.members:
                return self._member(form, payload)
            path = self.work / ("evidence.jsonl" if form == "raw" else form)
            path.write_bytes(payload)
            verdict = _verify(path, self.base.trust).verdict
        except Error as exc:
            return f"{form}:error:{type(exc).__name__}"
        if form == "raw" and not _archive_magic(payload):
            # A file that is not a bundle proves nothing: unsealed evidence, or not evidence.
            _check(verdict in (Verdict.UNSEALED, Verdict.INVALID), f"raw input is {verdict.value}")
        return f"{form}:{verdict.value}"

    def _member(self, member: str, payload: bytes) -> str:
        target = self.base.folder / member
        original = self.originals[member]
        target.write_bytes(payload)
        try:
            verdict = _verify(self.base.folder, self.base.trust).verdict
        finally:
            target.write_bytes(original)
        if payload == original:
            _check(verdict is Verdict.VERIFIED, f"the intact bundle is {verdict.value}")
        elif member != ENVELOPE_PATH:
            # The envelope's own formatting is not signed (DSSE signs the PAE); everything else
            # is: any other change must be caught.
            _check(verdict is not Verdict.VERIFIED, f"{member} changed, yet verified")
        return f"{member}:{verdict.value}"


class ImportTarget(Target):
    """Bytes as raw evidence, a bundle zip or a bundle's data file, imported into a fresh case."""

    all_forms = ("raw", "raw-zstd", "raw-gzip", "bundle.zip", "data-file")
    # Names mean nothing to the readers (they sniff content); they only make crashes readable.
    file_names: ClassVar[dict[str, str]] = {
        "raw": "input.jsonl",
        "raw-zstd": "input.jsonl.zst",
        "raw-gzip": "input.jsonl.gz",
        "bundle.zip": "bundle.zip",
    }

    def __init__(self, base: Base, work: Path, forms: tuple[str, ...] | None = None) -> None:
        super().__init__(base, work, forms)
        self.template = work / "template-case"
        Case.open(self.template, create=True).close()
        self.data_file = (base.folder / DATA_FILE).read_bytes()
        self.inputs = work / "inputs"
        self.inputs.mkdir()

    def seed_payloads(self) -> list[tuple[str, bytes]]:
        """Every raw sample as is, some compressed, the bundle zip and its first data file."""
        raw = self.base.raw
        return [
            *(("raw", data) for data in raw.values()),
            ("raw-zstd", raw["audit.jsonl"]),
            ("raw-zstd", raw["export.pb"]),
            ("raw-gzip", raw["otel-logs.jsonl"]),
            ("bundle.zip", self.base.archives["bundle.zip"]),
            ("data-file", self.data_file),
        ]

    def run(self, form: str, payload: bytes) -> str:
        """Import into a fresh case; check the case afterwards."""
        case_dir = self.work / "case"
        shutil.copytree(self.template, case_dir)
        try:
            if form == "data-file":
                (self.base.folder / DATA_FILE).write_bytes(payload)
                path = self.base.folder
            else:
                path = self.inputs / self.file_names[form]
                if form == "raw-zstd":
                    payload = zstandard.ZstdCompressor().compress(payload)
                elif form == "raw-gzip":
                    payload = gzip.compress(payload, mtime=0)
                path.write_bytes(payload)
            return f"{form}:{self._import(case_dir, path)}"
        finally:
            (self.base.folder / DATA_FILE).write_bytes(self.data_file)
            shutil.rmtree(case_dir)
            for leftover in self.inputs.iterdir():
                leftover.unlink()

    def _import(self, case_dir: Path, path: Path) -> str:
        records: int | None = None
        with Case.open(case_dir) as case:
            try:
                report = drive(import_inputs(case, [path], self.base.trust))
            except Error as exc:
                outcome = f"refused:{type(exc).__name__}"
            else:
                records = report.records
                outcome = "+".join(f"{r.kind}:{r.verdict.value}" for r in report.inputs)
        # The case opens again (read-write: recovery runs) and is consistent.
        with Case.open(case_dir) as case:
            inputs = case.scalar("SELECT count(*) FROM inputs")
            events = case.scalar("SELECT count(*) FROM events")
            head = case.journal_head()
        if records is None:
            _check(
                (inputs, events) == (0, 0), f"refused input left {inputs} inputs, {events} events"
            )
        else:
            _check(inputs == 1, f"imported input recorded {inputs} times")
            _check(events == records, f"report says {records} events, the case holds {events}")
        journal = verify_journal(case_dir, expected_head=head)
        _check(journal.ok, f"journal damaged: {[p.describe() for p in journal.problems]}")
        return outcome


TARGETS: dict[str, type[Target]] = {
    "verify": VerifyTarget,
    "import": ImportTarget,
}


# --- running -----------------------------------------------------------------------------------


@dataclass
class Stats:
    """What a run saw: printed every minute and when the process exits (libFuzzer ends a
    ``-max_total_time`` run without running exit handlers, so the last minute may be missing)."""

    target: str
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    crashes: dict[str, Path] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    reported: float = field(default_factory=time.monotonic)

    def tick(self) -> None:
        """Print the summary when a minute has passed since the last one."""
        if time.monotonic() - self.reported >= 60:
            self.reported = time.monotonic()
            print(self.summary(), file=sys.stderr, flush=True)

    def summary(self) -> str:
        seconds = time.monotonic() - self.started
        outcomes = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return (
            f"fuzz {self.target}: {self.inputs} inputs in {seconds:.0f} s, "
            f"{len(self.crashes)} distinct crashes; outcomes: {outcomes}"
        )


def _signature(exc: BaseException) -> str:
    """Exception type and the innermost AuditLens (else innermost) frame: one per distinct bug."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/auditlens/" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__}@{where}"


def _keep(stats: Stats, crash_dir: Path, data: bytes, exc: Exception) -> None:
    signature = _signature(exc)
    if signature in stats.crashes:
        return
    crash_dir.mkdir(parents=True, exist_ok=True)
    name = f"crash-{stats.target}-{hashlib.sha1(data).hexdigest()[:16]}"
    (crash_dir / name).write_bytes(data)
    report = "".join(traceback.format_exception(exc))
    (crash_dir / f"{name}.txt").write_text(f"{signature}\n\n{report}", encoding="utf-8")
    stats.crashes[signature] = crash_dir / name
    print(f"fuzz {stats.target}: new crash {signature} -> {crash_dir / name}", file=sys.stderr)


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    """A libFuzzer-like edit for the fallback mutator: flip, set, insert, erase, splice."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        edit = rng.randrange(5)
        at = rng.randrange(len(buf) + 1)
        if edit == 0 and buf:
            buf[min(at, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif edit == 1 and buf:
            buf[min(at, len(buf) - 1)] = rng.choice((0, 0x0A, 0x22, 0x7B, 0xFF, rng.randrange(256)))
        elif edit == 2:
            buf[at:at] = rng.randbytes(rng.randint(1, 8))
        elif edit == 3:
            del buf[at : at + rng.randint(1, 64)]
        else:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            buf[at:at] = other[start : start + rng.randint(1, 64)]
    return bytes(buf)


def _fallback(one_input: Callable[[bytes], None], seeds: list[bytes], runs: int) -> None:
    rng = random.Random(0)
    pool = list(seeds)
    for index in range(runs):
        data = pool[index] if index < len(seeds) else _mutate(rng, rng.choice(pool), pool)
        one_input(data)
        if index >= len(seeds) and len(pool) < 1000 and rng.random() < 0.05:
            pool.append(data)


def _artifact_dir(flags: list[str]) -> Path:
    """Where libFuzzer's ``-artifact_prefix=`` would put crash files (the current folder)."""
    prefix = next((f.split("=", 1)[1] for f in flags if f.startswith("-artifact_prefix=")), "")
    return Path(prefix) if prefix.endswith("/") else Path(prefix or "./").parent


def main(argv: list[str]) -> int:
    """Run one target: ``verify`` or ``import``, then libFuzzer flags and corpus folders."""
    if not argv or argv[0] not in TARGETS:
        print(__doc__, file=sys.stderr)
        return 2
    name, rest = argv[0], argv[1:]
    keep_going = next((a.split("=", 1)[1] for a in rest if a.startswith("--keep-going=")), None)
    seeds_only = "--seeds-only" in rest
    forms = next((a.split("=", 1)[1] for a in rest if a.startswith("--forms=")), "")
    flags = [a for a in rest if a.startswith("-") and not a.startswith("--")]
    # Like libFuzzer: folders are corpora (the first receives new inputs); files are inputs to
    # run once each (a crash reproduction), and then no seeds are added.
    files = [a for a in rest if not a.startswith("-") and Path(a).is_file()]
    corpora = [a for a in rest if not a.startswith("-") and a not in files]
    work = Path(tempfile.mkdtemp(prefix=f"auditlens-fuzz-{name}-"))
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    target = TARGETS[name](build_base(work), work, tuple(forms.split(",")) if forms else None)
    seeds = target.seeds()
    seed_dir = work / "seeds"
    seed_dir.mkdir()
    for seed in seeds:
        (seed_dir / f"seed-{hashlib.sha256(seed).hexdigest()[:16]}").write_bytes(seed)
    for corpus in corpora:
        Path(corpus).mkdir(parents=True, exist_ok=True)

    stats = Stats(name)
    atexit.register(lambda: print(stats.summary(), file=sys.stderr))
    crash_dir = Path(keep_going) if keep_going else None

    def one_input(data: bytes) -> None:
        stats.inputs += 1
        stats.tick()
        try:
            stats.outcomes[target(data)] += 1
        except Exception as exc:
            if crash_dir is not None:
                _keep(stats, crash_dir, data, exc)
            elif atheris is None or seeds_only or files:
                _keep(stats, _artifact_dir(flags), data, exc)  # libFuzzer saves its own
                raise
            else:
                raise

    if seeds_only or files:
        # Replays run here, not under libFuzzer, which skips exit handlers (no summary) then.
        for data in [Path(f).read_bytes() for f in files] or seeds:
            one_input(data)
        return 0
    if atheris is None:
        runs = next((int(f.split("=", 1)[1]) for f in flags if f.startswith("-atheris_runs=")), 0)
        _fallback(one_input, seeds, runs or 10_000)
        return 0
    if not any(f.startswith("-max_len=") for f in flags):
        flags.append(f"-max_len={DEFAULT_MAX_LEN}")
    inputs = files or [*corpora, str(seed_dir)]
    atheris.Setup([sys.argv[0], *flags, *inputs], one_input)
    atheris.Fuzz()
    return 0  # not reached: libFuzzer exits the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
