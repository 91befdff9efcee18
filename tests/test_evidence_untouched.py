"""Evidence is only ever read (docs/architecture.md §7: "Evidence is only ever read";
docs/case.md: "Evidence is only ever read").

Each command runs over a copy of the shipped sample (so a failure cannot damage the repository)
plus small generated inputs of the formats the sample lacks, watched two ways (tests/guards.py):

* ``evidence_guard`` snapshots every file's bytes (SHA-256), size, permissions and times (ns) and
  every folder's listing, and fails if anything changed or was added, even briefly;
* ``evidence_opens`` records how every evidence path is opened (mode or ``os.open`` flags), and
  renames, removals and the like; no call may be able to write, and the evidence must have been
  read through the recorded calls at all (or the check would prove nothing).

The multi-process fast paths run in child processes that log their opens themselves (the
``parallel_runs`` fixture). The first tests check the guards: each catches the change it exists
for.
"""

from __future__ import annotations

import builtins
import gzip
import io
import json
import os
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import zstandard

from auditlens.core.resources import sample_case_dir
from guards import EvidenceGuard, OpenRecorder

SAMPLE = sample_case_dir()
OTLP_EXAMPLES = Path(__file__).resolve().parent / "data" / "otlp-examples"

# Raw inputs of every format the readers take, by what they are: a path inside the evidence.
RAW_INPUTS = {
    "otlp-json-lines": "raw/otel-logs/logs-2026-03-02.jsonl",
    "otlp-proto": "raw/otel-traces/traces-2026-03-02.binpb",
    "otlp-proto-zstd": "raw/otel-traces/traces-2026-03-03.binpb.zst",
    "audit-json-lines": "raw/audit/audit-2026-03-02.jsonl",
    "otlp-json-document-logs": "generated/logs.json",
    "otlp-json-document-trace": "generated/trace.json",
    "otlp-json-lines-zstd": "generated/logs.jsonl.zst",
    "audit-json-lines-gzip": "generated/audit.jsonl.gz",
    "opensearch-search-response": "generated/spans-search.json",
    "opensearch-ndjson-hits": "generated/logs-hits.ndjson",
}
# The sample's bundles: three per stream, one stream per container kind.
BUNDLE_STREAMS = {
    "folder": "bundles/cc-prod.audit",
    "zip": "bundles/cc-prod.otel-logs",
    "tar.gz": "bundles/cc-prod.otel-traces",
}
TRACE_ID = "5b8efff798038103d269b633813fc60c"


# --- the evidence --------------------------------------------------------------------------------


def span_hit(n: int) -> dict[str, Any]:
    """A Data Prepper span document as OpenSearch returns it."""
    return {
        "_index": "otel-v1-apm-span-000001",
        "_id": f"span-{n}",
        "_seq_no": n,
        "_source": {
            "traceId": TRACE_ID,
            "spanId": f"{0xEEE19B7EC3C1B170 + n:016x}",
            "parentSpanId": f"{0xEEE19B7EC3C1B170 + n - 1:016x}" if n else "",
            "name": f"step-{n}",
            "kind": "SPAN_KIND_INTERNAL",
            "startTime": f"2026-03-03T01:15:4{n}.000000001Z",
            "endTime": f"2026-03-03T01:15:4{n}.500000000Z",
            "durationInNanos": 499_999_999,
            "serviceName": "crm-service",
            "span.attributes.user@id": "sup-004",
        },
    }


def log_hit(n: int) -> dict[str, Any]:
    """A log document of the ``logs-otel-v1`` index."""
    return {
        "_index": "logs-otel-v1-000001",
        "_id": f"log-{n}",
        "_seq_no": n,
        "_source": {
            "time": f"2026-03-03T01:16:0{n}.000000000Z",
            "severityText": "INFO",
            "body": f"export step {n}",
            "traceId": TRACE_ID,
            "serviceName": "crm-service",
        },
    }


def audit_line(n: int) -> bytes:
    record = {
        "timestamp": f"2026-03-02T09:00:{n:02d}.000Z",
        "user_id": f"agent-{n % 3}",
        "action": "UPDATE",
        "resource": "contact",
        "resource_id": f"c-{n}",
        "source_ip_address": f"10.1.0.{n + 1}",
        "type": "audit_logging",
    }
    return json.dumps(record).encode() + b"\n"


def make_evidence(folder: Path) -> Path:
    """The sample (raw evidence, bundles, trust store) plus generated inputs, in ``folder``."""
    shutil.copytree(SAMPLE, folder)
    generated = folder / "generated"
    generated.mkdir()
    shutil.copyfile(OTLP_EXAMPLES / "logs.json", generated / "logs.json")
    shutil.copyfile(OTLP_EXAMPLES / "trace.json", generated / "trace.json")
    otlp_lines = (folder / RAW_INPUTS["otlp-json-lines"]).read_bytes().splitlines(keepends=True)
    (generated / "logs.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(b"".join(otlp_lines[:3]))
    )
    (generated / "audit.jsonl.gz").write_bytes(
        gzip.compress(b"".join(audit_line(n) for n in range(5)))
    )
    hits = [span_hit(n) for n in range(3)]
    response = {"took": 3, "timed_out": False, "hits": {"total": {"value": 3}, "hits": hits}}
    (generated / "spans-search.json").write_text(json.dumps(response, indent=2))
    (generated / "logs-hits.ndjson").write_text(
        "".join(json.dumps(log_hit(n)) + "\n" for n in range(3))
    )
    return folder


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """A fresh evidence folder (outside it: the case, keys and sealed output)."""
    return make_evidence(tmp_path / "evidence")


def bundles_of(evidence: Path, kind: str) -> list[Path]:
    return sorted((evidence / BUNDLE_STREAMS[kind]).iterdir())


def all_bundles(evidence: Path) -> list[Path]:
    return [b for kind in BUNDLE_STREAMS for b in bundles_of(evidence, kind)]


def test_evidence_holds_every_container_kind_and_raw_format(evidence: Path) -> None:
    # The inputs below are what their names say (so the tests cover what they claim).
    assert [b.is_dir() for b in bundles_of(evidence, "folder")] == [True] * 3
    assert [b.name.endswith(".zip") for b in bundles_of(evidence, "zip")] == [True] * 3
    assert [b.name.endswith(".tar.gz") for b in bundles_of(evidence, "tar.gz")] == [True] * 3
    heads = {name: (evidence / path).read_bytes()[:4] for name, path in RAW_INPUTS.items()}
    assert heads["otlp-proto-zstd"] == heads["otlp-json-lines-zstd"] == b"\x28\xb5\x2f\xfd"
    assert heads["audit-json-lines-gzip"][:2] == b"\x1f\x8b"
    assert heads["otlp-proto"][:1] not in (b"{", b"[")  # a length prefix, not JSON


# --- the guards catch what they exist for (controls) --------------------------------------------


def small_tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.jsonl").write_bytes(b'{"n":1}\n')
    (root / "sub" / "b.bin").write_bytes(bytes(range(16)))
    (root / "link").symlink_to("a.jsonl")
    return root


def rewrite_keeping_size_and_mtime(root: Path) -> None:
    target = root / "a.jsonl"
    before = target.stat()
    target.write_bytes(b'{"n":2}\n')
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))


def temp_file_created_and_removed(root: Path) -> None:
    (root / "sub" / ".tmp").write_bytes(b"x")
    (root / "sub" / ".tmp").unlink()


MUTATIONS: dict[str, tuple[Callable[[Path], Any], str]] = {
    # name: (what is done to the tree, a fragment the guard's report must contain)
    "rewrite-same-size-mtime-restored": (rewrite_keeping_size_and_mtime, "sha256"),
    "append": (lambda r: (r / "a.jsonl").open("ab").write(b"\n"), "size 8 -> 9"),
    "touch": (lambda r: os.utime(r / "sub" / "b.bin", ns=(1, 1)), "mtime_ns"),
    "chmod": (lambda r: (r / "sub" / "b.bin").chmod(0o600), "mode"),
    "add-file-in-subfolder": (lambda r: (r / "sub" / "new").write_bytes(b""), "added file"),
    "add-empty-folder": (lambda r: (r / "sub" / "d").mkdir(), "added dir"),
    "remove-file": (lambda r: (r / "sub" / "b.bin").unlink(), "removed file"),
    "rename": (lambda r: (r / "a.jsonl").rename(r / "c.jsonl"), "listing +['c.jsonl']"),
    "temp-file-created-and-removed": (temp_file_created_and_removed, "mtime_ns"),
    "retarget-symlink": (
        lambda r: ((r / "link").unlink(), (r / "link").symlink_to("sub/b.bin")),
        "target 'a.jsonl' -> 'sub/b.bin'",
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_evidence_guard_reports_each_kind_of_change(tmp_path: Path, mutation: str) -> None:
    root = small_tree(tmp_path / "ev")
    guard = EvidenceGuard()
    guard.watch(root)
    assert guard.changes() == []
    change, fragment = MUTATIONS[mutation]
    change(root)
    report = "\n".join(guard.changes())
    assert fragment in report
    with pytest.raises(AssertionError, match="the evidence changed"):
        guard.assert_untouched()


def test_evidence_guard_ignores_reading_and_watches_single_files(tmp_path: Path) -> None:
    root = small_tree(tmp_path / "ev")
    single = tmp_path / "raw.jsonl"
    single.write_bytes(b"{}\n")
    guard = EvidenceGuard()
    guard.watch(root, single)
    for path in [*root.rglob("*"), single]:
        os.stat(path)
        if path.is_file():
            path.read_bytes()
    assert guard.changes() == []
    single.write_bytes(b"[]\n")
    changes = guard.changes()
    assert len(changes) == 1
    assert changes[0].startswith(f"changed {single}: ")
    assert "sha256" in changes[0]
    with pytest.raises(FileNotFoundError):
        guard.watch(tmp_path / "missing")


def test_open_recorder_records_read_only_opens_through_every_entry_point(
    tmp_path: Path,
) -> None:
    root = small_tree(tmp_path / "ev")
    with tarfile.open(root / "b.tar", "w") as archive:
        archive.add(root / "a.jsonl", "a.jsonl")
    outside = tmp_path / "elsewhere.txt"
    target = root / "a.jsonl"
    originals = (builtins.open, io.open, os.open, Path.open, tarfile.bltn_open)
    with OpenRecorder([root]) as opens:
        open(target, "rb").close()
        io.open(target).close()  # noqa: UP020
        target.read_bytes()  # Path.open -> io.open: recorded once, as Path.open
        os.close(os.open(target, os.O_RDONLY | os.O_NOFOLLOW))
        with tarfile.open(root / "b.tar", "r:") as archive:  # tarfile's own bltn_open
            archive.getnames()
        outside.write_text("not evidence")
        (root / "link").read_bytes()  # via the symlink: still evidence
    assert opens.writes == []
    assert [(c.function, Path(c.path).name, c.how) for c in opens.reads] == [
        ("builtins.open", "a.jsonl", "rb"),
        ("io.open", "a.jsonl", "r"),
        ("pathlib.Path.open", "a.jsonl", "rb"),
        ("os.open", "a.jsonl", "O_RDONLY|O_NOFOLLOW"),
        ("tarfile.bltn_open", "b.tar", "rb"),
        ("pathlib.Path.open", "link", "rb"),
    ]
    # Uninstalled: every patched call is the original again.
    assert (builtins.open, io.open, os.open, Path.open, tarfile.bltn_open) == originals


# name: (a call that can change the evidence, the path it must be recorded for)
WRITES: dict[str, tuple[Callable[[Path], Any], str]] = {
    "append": (lambda r: open(r / "a.jsonl", "ab").close(), "a.jsonl"),
    "update": (lambda r: open(r / "a.jsonl", "r+b").close(), "a.jsonl"),
    "truncate": (lambda r: (r / "a.jsonl").write_bytes(b""), "a.jsonl"),
    "create-exclusive": (lambda r: open(r / "new", "x").close(), "new"),
    "io-open-write": (lambda r: io.open(r / "new", "w").close(), "new"),  # noqa: UP020
    "os-open-wronly": (lambda r: os.close(os.open(r / "a.jsonl", os.O_WRONLY)), "a.jsonl"),
    "os-open-rdwr": (lambda r: os.close(os.open(r / "a.jsonl", os.O_RDWR)), "a.jsonl"),
    "os-open-append": (
        lambda r: os.close(os.open(r / "a.jsonl", os.O_RDONLY | os.O_APPEND)),
        "a.jsonl",
    ),
    "os-open-creat": (lambda r: os.close(os.open(r / "new", os.O_RDONLY | os.O_CREAT)), "new"),
    "touch": (lambda r: (r / "sub" / "b.bin").touch(), "sub/b.bin"),
    "rename-in": (lambda r: os.rename(r.parent / "outside", r / "moved"), "moved"),
    "rename-out": (lambda r: os.replace(r / "a.jsonl", r.parent / "moved"), "a.jsonl"),
    "unlink": (lambda r: (r / "sub" / "b.bin").unlink(), "sub/b.bin"),
    "mkdir": (lambda r: (r / "sub" / "d").mkdir(), "sub/d"),
    "chmod": (lambda r: os.chmod(r / "a.jsonl", 0o600), "a.jsonl"),
    "utime": (lambda r: os.utime(r / "a.jsonl", ns=(1, 1)), "a.jsonl"),
    # shutil.rmtree removes entries by name relative to an open folder (dir_fd).
    "rmtree": (lambda r: shutil.rmtree(r / "sub"), "sub/b.bin"),
}


@pytest.mark.parametrize("write", WRITES)
def test_open_recorder_flags_every_call_that_can_write(tmp_path: Path, write: str) -> None:
    root = small_tree(tmp_path / "ev")
    (tmp_path / "outside").write_bytes(b"")
    call, expected = WRITES[write]
    with OpenRecorder([root]) as opens:
        call(root)
    assert expected in {Path(c.path).relative_to(root).as_posix() for c in opens.writes}


# --- seal ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from auditlens.core.crypto.keys import sample_key

    path = tmp_path_factory.mktemp("key") / "signing-key.pem"
    path.write_bytes(sample_key("test-evidence-untouched").private_pem())
    return path


OUT_KINDS = ["", ".zip", ".tar.gz"]


@pytest.mark.parametrize("raw", RAW_INPUTS)
def test_seal_only_reads_its_input(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    signing_key: Path,
    tmp_path: Path,
    raw: str,
) -> None:
    source = evidence / RAW_INPUTS[raw]
    out = tmp_path / f"sealed{OUT_KINDS[list(RAW_INPUTS).index(raw) % 3]}"
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("seal", source, "--key", signing_key, "--out", out)
    assert result.code == 0, result.err
    assert {Path(c.path) for c in opens.reads} == {source}
    assert opens.writes == []
    assert evidence_guard.changes() == []


def test_seal_continuing_a_bundle_only_reads_it(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    signing_key: Path,
    tmp_path: Path,
) -> None:
    previous = bundles_of(evidence, "zip")[-1]
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli(
            "seal",
            evidence / RAW_INPUTS["otlp-json-lines"],
            "--previous",
            previous,
            "--key",
            signing_key,
            "--out",
            tmp_path / "next.tar.gz",
        )
    assert result.code == 0, result.err
    assert previous in {Path(c.path) for c in opens.reads}
    assert opens.writes == []
    assert evidence_guard.changes() == []


def test_refused_seal_leaves_the_evidence_as_it_was(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    signing_key: Path,
    tmp_path: Path,
) -> None:
    bad = evidence / "generated" / "broken.jsonl"
    bad.write_bytes(audit_line(1) + b'{"timestamp": \n' + audit_line(2))
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("seal", bad, "--key", signing_key, "--out", tmp_path / "never")
    assert result.code == 2
    assert f"{bad}:2: not valid JSON" in result.err  # refused, naming file and line
    assert opens.reads and opens.writes == []
    assert evidence_guard.changes() == []
    assert not (tmp_path / "never").exists()


# --- verify --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", BUNDLE_STREAMS)
def test_verify_only_reads_bundles_of_each_container(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    kind: str,
) -> None:
    bundles = bundles_of(evidence, kind)
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("verify", *bundles, "--trust", evidence / "truststore.json", "--json")
    assert result.code == 0, result.out
    read = {Path(c.path) for c in opens.reads}
    assert evidence / "truststore.json" in read
    for bundle in bundles:  # each bundle (or a file inside it) was read
        assert any(p == bundle or p.is_relative_to(bundle) for p in read), bundle
    assert opens.writes == []
    assert evidence_guard.changes() == []


def test_verify_of_a_tampered_bundle_only_reads_it(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
) -> None:
    bundle = bundles_of(evidence, "folder")[0]
    data = bundle / "data" / "00001.jsonl"
    lines = data.read_bytes().splitlines(keepends=True)
    changed = lines[5].replace(b"a", b"b", 1)
    assert changed != lines[5]  # the record really changed (still JSON: a key or a value)
    lines[5] = changed
    data.write_bytes(b"".join(lines))
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("verify", bundle, "--trust", evidence / "truststore.json")
    assert result.code == 1, result.out
    assert "RECORD_MODIFIED" in result.out
    assert opens.reads and opens.writes == []
    assert evidence_guard.changes() == []


# --- import --------------------------------------------------------------------------------------


def test_import_of_every_bundle_kind_only_reads_them(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    bundles = all_bundles(evidence)
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("import", tmp_path / "case", *bundles, "--trust", evidence / "truststore.json")
        assert result.code == 0, result.out
        replay = cli("import", tmp_path / "case", *bundles, "--trust", evidence / "truststore.json")
        assert replay.code == 0, replay.out
    assert replay.out.count("replay") == len(bundles)
    assert opens.reads and opens.writes == []
    assert evidence_guard.changes() == []


def test_import_of_every_raw_format_only_reads_them(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    raw = [evidence / path for path in RAW_INPUTS.values()]
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("import", tmp_path / "case", *raw)
        folder = cli("import", tmp_path / "case2", evidence / "generated")  # a folder input
    assert result.code == 3, result.out  # raw evidence is unsealed
    assert result.out.count("[unsealed]") == len(raw)
    assert folder.code == 3, folder.out
    assert {Path(c.path) for c in opens.reads} >= set(raw)
    assert opens.writes == []
    assert evidence_guard.changes() == []


def test_refused_import_leaves_the_evidence_as_it_was(
    evidence: Path,
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    tmp_path: Path,
) -> None:
    bad = evidence / "generated" / "broken.jsonl"
    bad.write_bytes(audit_line(1) + b"\xff\xfe not json\n")
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli("import", tmp_path / "case", evidence / RAW_INPUTS["audit-json-lines"], bad)
    assert result.code == 2, result.out
    assert opens.reads and opens.writes == []
    assert evidence_guard.changes() == []


# --- queries -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    """Evidence, the case it was imported into, and an actor id and trace id from that case."""
    from auditlens.cli.main import main
    from auditlens.core.store.case import Case

    root = tmp_path_factory.mktemp("imported")
    evidence = make_evidence(root / "evidence")
    case = root / "case"
    inputs = [*all_bundles(evidence), *(evidence / p for p in RAW_INPUTS.values())]
    trust = evidence / "truststore.json"
    assert main(["import", str(case), *map(str, inputs), "--trust", str(trust)]) == 3  # unsealed
    with Case.open(case, read_only=True) as opened:
        actor, trace = opened.db.execute(
            "SELECT any_value(actor_id) FILTER (WHERE actor_id IS NOT NULL), "
            "any_value(trace_id) FILTER (WHERE kind = 'span') FROM events"
        ).fetchone()
    return evidence, case, {"actor": actor, "trace": trace}


QUERIES: dict[str, Callable[[Path, dict[str, str]], list[Any]]] = {
    "events": lambda case, ids: ["events", case, "--filter", "action:EXPORT", "--format", "jsonl"],
    "actors": lambda case, ids: ["actors", case, "--format", "csv"],
    "actor": lambda case, ids: ["actor", case, ids["actor"]],
    "trace": lambda case, ids: ["trace", case, ids["trace"]],
    "histogram": lambda case, ids: ["histogram", case, "--bucket", "1h", "--tz", "Asia/Tokyo"],
    "stats": lambda case, ids: ["stats", case, "--json"],
    "journal-verify": lambda case, ids: ["journal", "verify", case],
}


@pytest.mark.parametrize("query", QUERIES)
def test_queries_leave_the_evidence_as_it_was(
    imported: tuple[Path, Path, dict[str, str]],
    evidence_guard: EvidenceGuard,
    evidence_opens: Callable[..., OpenRecorder],
    cli: Callable[..., Any],
    query: str,
) -> None:
    evidence, case, ids = imported
    assert all(ids.values()), ids
    evidence_guard.watch(evidence)
    with evidence_opens(evidence) as opens:
        result = cli(*QUERIES[query](case, ids))
    assert result.code == 0, result.err
    assert result.out.strip()
    assert opens.writes == []
    assert evidence_guard.changes() == []


# --- the multi-process fast paths -----------------------------------------------------------------


@pytest.mark.parametrize("command", ["verify", "import"])
def test_parallel_runs_only_read_the_evidence_in_every_process(
    parallel_runs: dict[str, Any], big_bundle: Any, command: str
) -> None:
    parallel = parallel_runs[command]
    run = parallel.run
    assert run.returncode == 0, run.stderr
    workers = {p["pid"] for p in run.log.workers}
    assert workers, run.log.processes  # the fast path ran in spawned workers
    # The workers read the bundle's data themselves, and their opens were recorded.
    assert any(c.pid in workers and not c.writes for c in run.log.opens)
    assert {Path(c.path) for c in run.log.opens} <= {
        big_bundle.trust,
        *(p for p in big_bundle.path.rglob("*")),
        big_bundle.path,
    }
    assert run.log.writes == []
    assert parallel.evidence_changes == []
