"""The ``auditlens`` commands, run in-process through ``auditlens.cli.main.main``.

keygen (three algorithms), seal (three containers, ``--previous``, OTLP inputs in every form the
Collector writes), verify (``--json`` shape, exit codes, usage errors, raw input) and one run of
the installed console script.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zstandard
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from auditlens.core.bundle.container import open_container
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    ENVELOPE_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
)
from auditlens.core.bundle.seal import seal
from auditlens.core.crypto import keys
from auditlens.core.verify.findings import CODES

COMPAT = Path(__file__).resolve().parents[1] / "data" / "otlp-examples"
DATA = "data/00001.jsonl"
BUNDLE_KEYS = {
    "path",
    "bundle_id",
    "stream_id",
    "first_seq",
    "last_seq",
    "record_count",
    "signer_key_id",
    "verdict",
}
FINDING_KEYS = {
    "code",
    "severity",
    "path",
    "line",
    "seq",
    "stream_id",
    "message",
    "expected",
    "actual",
}


def drive(job: Any) -> Any:
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value


def member(bundle: Path, name: str) -> bytes:
    with open_container(bundle) as container:
        return container.read(name, 1 << 30)


def manifest_of(bundle: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(member(bundle, MANIFEST_PATH))
    return document


def stored_records(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in member(bundle, DATA).splitlines()]


def verify_json(cli: Any, *paths: Path, trust: Path | None = None) -> tuple[int, dict[str, Any]]:
    args: list[str | Path] = ["verify", *paths, "--json", "--workers", "1"]
    if trust is not None:
        args += ["--trust", trust]
    result = cli(*args)
    return result.code, json.loads(result.out)


def only_record(document: dict[str, Any], outer: str, inner: str, items: str) -> dict[str, Any]:
    """The one record of a stored OTLP line, checking it holds one resource, scope and record."""
    assert len(document[outer]) == 1
    assert len(document[outer][0][inner]) == 1
    assert len(document[outer][0][inner][0][items]) == 1
    record: dict[str, Any] = document[outer][0][inner][0][items][0]
    return record


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, keys.SigningKey]:
    """An Ed25519 key pair on disk: (private PEM, public PEM, key)."""
    key = keys.generate("ed25519")
    private, public = keys.write_keypair(key, tmp_path_factory.mktemp("signer"))
    return private, public, key


@pytest.fixture(scope="module")
def audit_raw(small_sample: Any) -> tuple[Path, ...]:
    """The small sample's raw audit-logger files (one per day)."""
    stream = next(s for s in small_sample.raw.streams if s.stream_id.endswith("audit"))
    files: tuple[Path, ...] = stream.files
    return files


@pytest.fixture(scope="module")
def sealed(
    tmp_path_factory: pytest.TempPathFactory,
    signer: tuple[Path, Path, keys.SigningKey],
    audit_raw: tuple[Path, ...],
) -> Path:
    """A folder bundle of the first raw audit file, sealed with ``signer``. Read-only."""
    out = tmp_path_factory.mktemp("sealed") / "bundle"
    drive(seal([audit_raw[0]], signer[2], out, stream_id="cli.audit"))
    return out


# --- keygen -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "key_type"),
    [
        ("ed25519", ed25519.Ed25519PublicKey),
        ("ecdsa-p256", ec.EllipticCurvePublicKey),
        ("rsa-pss-3072", rsa.RSAPublicKey),
    ],
)
def test_keygen_writes_a_private_key_only_its_owner_reads_and_prints_the_key_id(
    cli: Any, tmp_path: Path, alg: str, key_type: type
) -> None:
    result = cli("keygen", "--out", tmp_path / "keys", "--alg", alg)
    assert result.code == 0
    private_path = tmp_path / "keys" / "signing-key.pem"
    public_path = tmp_path / "keys" / "signing-key.pub.pem"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    public = serialization.load_pem_public_key(public_path.read_bytes())
    assert isinstance(public, key_type)
    if isinstance(public, ec.EllipticCurvePublicKey):
        assert isinstance(public.curve, ec.SECP256R1)
    if isinstance(public, rsa.RSAPublicKey):
        assert public.key_size == 3072
    spki = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert result.out.strip() == hashlib.sha256(spki).hexdigest()
    # The private key is the public key's other half.
    private = keys.load_private(private_path)
    assert private.key_id == result.out.strip()


def test_keygen_refuses_to_overwrite_a_key(cli: Any, tmp_path: Path) -> None:
    assert cli("keygen", "--out", tmp_path).code == 0
    before = (
        (tmp_path / "signing-key.pem").read_bytes(),
        (tmp_path / "signing-key.pub.pem").read_bytes(),
    )
    result = cli("keygen", "--out", tmp_path)
    assert result.code == 2
    assert "refusing to overwrite" in result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    after = (
        (tmp_path / "signing-key.pem").read_bytes(),
        (tmp_path / "signing-key.pub.pem").read_bytes(),
    )
    assert after == before


# --- seal: containers and --previous ----------------------------------------------------------


def test_seal_into_folder_zip_and_targz_gives_the_same_bundle(
    cli: Any,
    tmp_path: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    audit_raw: tuple[Path, ...],
) -> None:
    private, public, key = signer
    outs = [tmp_path / "b", tmp_path / "b.zip", tmp_path / "b.tar.gz"]
    for out in outs:
        result = cli("seal", audit_raw[0], "--key", private, "--out", out, "--stream-id", "s1")
        assert result.code == 0, result.err
    assert outs[0].is_dir()
    assert zipfile.is_zipfile(outs[1])
    assert tarfile.is_tarfile(outs[2])
    manifests = [manifest_of(out) for out in outs]
    for document in manifests:
        document.pop("sealed_at")  # the wall-clock time of sealing; nothing else may differ
    assert manifests[1] == manifests[0]
    assert manifests[2] == manifests[0]
    for name in (DATA, LEAVES_PATH, CHECKPOINTS_PATH):
        assert member(outs[1], name) == member(outs[0], name)
        assert member(outs[2], name) == member(outs[0], name)
    reports = []
    for out in outs:
        code, report = verify_json(cli, out, trust=public)
        assert code == 0
        assert report["verdict"] == "verified"
        assert report["findings"] == []
        reports.append({k: v for k, v in report["bundles"][0].items() if k != "path"})
    assert reports[1] == reports[0]
    assert reports[2] == reports[0]
    assert reports[0]["signer_key_id"] == key.key_id
    assert reports[0]["bundle_id"] == manifests[0]["bundle_id"]


def _repack(bundle: Path, out: Path) -> Path:
    """Carry a folder bundle's files in another container, with metadata of our choosing."""
    names = sorted(p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file())
    if out.name.endswith(".zip"):
        method = zipfile.ZIP_STORED if "stored" in out.name else zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(out, "w", method) as archive:
            for name in reversed(names):  # a verifier must not depend on member order
                archive.write(bundle / name, name)
    else:
        with tarfile.open(out, "w:gz" if out.name.endswith(".gz") else "w") as archive:
            for name in names:
                archive.add(bundle / name, name)
    return out


@pytest.mark.parametrize("container", ["stored.zip", "deflated.zip", "plain.tar", "packed.tar.gz"])
def test_the_same_bundle_in_another_container_verifies_the_same(
    cli: Any,
    tmp_path: Path,
    sealed: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    container: str,
) -> None:
    moved = _repack(sealed, tmp_path / container)
    assert member(moved, MANIFEST_PATH) == (sealed / MANIFEST_PATH).read_bytes()
    assert member(moved, ENVELOPE_PATH) == (sealed / ENVELOPE_PATH).read_bytes()
    code_folder, folder = verify_json(cli, sealed, trust=signer[1])
    code_moved, moved_report = verify_json(cli, moved, trust=signer[1])
    assert (
        (code_moved, moved_report["verdict"]) == (code_folder, folder["verdict"]) == (0, "verified")
    )
    assert moved_report["findings"] == folder["findings"] == []
    del moved_report["bundles"][0]["path"], folder["bundles"][0]["path"]
    assert moved_report["bundles"] == folder["bundles"]


def test_seal_previous_continues_the_sequence_and_the_chain(
    cli: Any,
    tmp_path: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    audit_raw: tuple[Path, ...],
) -> None:
    private, public, _ = signer
    first, second = tmp_path / "one", tmp_path / "two.zip"
    assert (
        cli("seal", audit_raw[0], "--key", private, "--out", first, "--stream-id", "s2").code == 0
    )
    result = cli("seal", audit_raw[1], "--key", private, "--out", second, "--previous", first)
    assert result.code == 0, result.err
    one, two = manifest_of(first), manifest_of(second)
    assert two["stream"] == one["stream"]  # the stream id is taken from the previous bundle
    assert int(two["records"]["first_seq"]) == int(one["records"]["last_seq"]) + 1
    assert two["chain"]["previous"] == {
        "bundle_id": one["bundle_id"],
        "final_hash": one["chain"]["final"],
        "manifest_sha256": hashlib.sha256((first / MANIFEST_PATH).read_bytes()).hexdigest(),
        "last_seq": one["records"]["last_seq"],
    }
    for order in ((first, second), (second, first)):
        code, report = verify_json(cli, *order, trust=public)
        assert code == 0
        assert report["verdict"] == "verified"
        assert report["findings"] == []
        assert [b["verdict"] for b in report["bundles"]] == ["verified", "verified"]


def test_seal_previous_of_another_stream_is_a_usage_error(
    cli: Any,
    tmp_path: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    sealed: Path,
    audit_raw: tuple[Path, ...],
) -> None:
    out = tmp_path / "other"
    result = cli(
        "seal",
        audit_raw[1],
        "--key",
        signer[0],
        "--out",
        out,
        "--previous",
        sealed,
        "--stream-id",
        "not-the-same",
    )
    assert result.code == 2
    assert "differs from the previous bundle's stream" in result.err
    assert not out.exists()


# --- seal: OTLP inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("example", "outer", "inner", "items", "time_key"),
    [
        ("logs.json", "resourceLogs", "scopeLogs", "logRecords", "timeUnixNano"),
        ("trace.json", "resourceSpans", "scopeSpans", "spans", "startTimeUnixNano"),
    ],
)
def test_seal_the_official_otlp_examples(
    cli: Any,
    tmp_path: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    example: str,
    outer: str,
    inner: str,
    items: str,
    time_key: str,
) -> None:
    source = json.loads((COMPAT / example).read_bytes())
    originals = [
        (resource, scope, record)
        for resource in source[outer]
        for scope in resource[inner]
        for record in scope[items]
    ]
    out = tmp_path / "bundle"
    assert cli("seal", COMPAT / example, "--key", signer[0], "--out", out).code == 0
    stored = stored_records(out)
    assert len(stored) == len(originals) == int(manifest_of(out)["records"]["count"])
    for line, (resource, scope, record) in zip(stored, originals, strict=True):
        # Bare-number times and upper-case hex ids are kept as the exporter wrote them.
        assert only_record(line, outer, inner, items) == record
        assert line[outer][0]["resource"] == resource["resource"]
        assert line[outer][0][inner][0]["scope"] == scope["scope"]
    times = [r[time_key] for _, _, r in originals]
    assert isinstance(times[0], int)  # the example uses bare numbers
    assert manifest_of(out)["time"]["first_ns"] == str(min(times))
    code, report = verify_json(cli, out, trust=signer[1])
    assert (code, report["verdict"]) == (0, "verified")


T0 = 1_772_438_400_000_000_000  # 2026-03-02T08:00:00Z


def _collector_logs_line(batch: int) -> dict[str, Any]:
    """One ExportLogsServiceRequest: 2 resources x 2 scopes x 3 records, numbered in order."""
    resources = []
    for r in range(2):
        scopes = []
        for s in range(2):
            records = []
            for i in range(3):
                n = ((batch * 2 + r) * 2 + s) * 3 + i
                time_ns = T0 + n * 1_000_000
                records.append(
                    {
                        # int64 as a decimal string or as a bare number: both legal OTLP/JSON.
                        "timeUnixNano": str(time_ns) if n % 2 else time_ns,
                        "severityNumber": 9,
                        "severityText": "INFO",
                        "traceId": f"{n:032X}" if n % 3 else f"{n:032x}",
                        "spanId": f"{n + 1:016x}",
                        "body": {"stringValue": f"record {n}"},
                    }
                )
            scopes.append({"scope": {"name": f"scope-{s}"}, "logRecords": records})
        resources.append(
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": f"svc-{r}"}}]
                },
                "scopeLogs": scopes,
            }
        )
    return {"resourceLogs": resources}


def test_seal_collector_json_lines_with_many_records_per_line(
    cli: Any, tmp_path: Path, signer: tuple[Path, Path, keys.SigningKey]
) -> None:
    batches = [_collector_logs_line(b) for b in range(3)]
    raw = tmp_path / "logs.jsonl"
    raw.write_text("".join(json.dumps(b, separators=(",", ":")) + "\n" for b in batches))
    out = tmp_path / "bundle.zip"
    assert cli("seal", raw, "--key", signer[0], "--out", out).code == 0
    stored = stored_records(out)
    assert len(stored) == 3 * 2 * 2 * 3
    for n, line in enumerate(stored):  # one record per line, in input order
        record = only_record(line, "resourceLogs", "scopeLogs", "logRecords")
        assert record["body"]["stringValue"] == f"record {n}"
        service = line["resourceLogs"][0]["resource"]["attributes"][0]["value"]["stringValue"]
        assert service == f"svc-{(n // 6) % 2}"
        assert line["resourceLogs"][0]["scopeLogs"][0]["scope"]["name"] == f"scope-{(n // 3) % 2}"
    assert manifest_of(out)["time"] == {
        "first_ns": str(T0),
        "last_ns": str(T0 + (len(stored) - 1) * 1_000_000),
    }
    code, report = verify_json(cli, out, trust=signer[1])
    assert (code, report["verdict"]) == (0, "verified")


def _length_prefixed(messages: list[bytes]) -> bytes:
    return b"".join(len(m).to_bytes(4, "big") + m for m in messages)


def _proto_logs() -> tuple[bytes, list[tuple[bytes, bytes, int, str]]]:
    """Two ExportLogsServiceRequest messages: file bytes, (trace, span, time, body) per record."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    expected = []
    messages = []
    for m in range(2):
        request = ExportLogsServiceRequest()
        resource_logs = request.resource_logs.add()
        attribute = resource_logs.resource.attributes.add()
        attribute.key = "service.name"
        attribute.value.string_value = f"svc-{m}"
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = "proto-scope"
        for i in range(4):
            n = m * 4 + i
            record = scope_logs.log_records.add()
            record.time_unix_nano = T0 + n
            record.severity_number = 9
            record.body.string_value = f"proto record {n}"
            record.trace_id = bytes([0xA0 + n]) * 16
            record.span_id = bytes([0xB0 + n]) * 8
            expected.append((record.trace_id, record.span_id, T0 + n, f"proto record {n}"))
        messages.append(request.SerializeToString())
    return _length_prefixed(messages), expected


def _proto_traces() -> tuple[bytes, list[tuple[bytes, bytes, int, str]]]:
    """One ExportTraceServiceRequest of 3 spans: file bytes, (trace, span, time, name) per span."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    scope_spans = request.resource_spans.add().scope_spans.add()
    expected = []
    for n in range(3):
        span = scope_spans.spans.add()
        span.trace_id = bytes([0xC0]) * 16
        span.span_id = bytes([0xD0 + n]) * 8
        span.name = f"span {n}"
        span.kind = 2
        span.start_time_unix_nano = T0 + n * 10
        span.end_time_unix_nano = T0 + n * 10 + 5
        expected.append((span.trace_id, span.span_id, T0 + n * 10, f"span {n}"))
    return _length_prefixed([request.SerializeToString()]), expected


@pytest.mark.parametrize("signal", ["logs", "traces"])
def test_seal_collector_proto_files(
    cli: Any, tmp_path: Path, signer: tuple[Path, Path, keys.SigningKey], signal: str
) -> None:
    data, expected = _proto_logs() if signal == "logs" else _proto_traces()
    raw = tmp_path / f"{signal}.binpb"
    raw.write_bytes(data)
    out = tmp_path / "bundle.tar.gz"
    assert cli("seal", raw, "--key", signer[0], "--out", out).code == 0
    stored = stored_records(out)
    assert len(stored) == len(expected)
    for line, (trace_id, span_id, time_ns, text) in zip(stored, expected, strict=True):
        if signal == "logs":
            record = only_record(line, "resourceLogs", "scopeLogs", "logRecords")
            assert record["timeUnixNano"] == str(time_ns)
            assert record["body"] == {"stringValue": text}
        else:
            record = only_record(line, "resourceSpans", "scopeSpans", "spans")
            assert record["startTimeUnixNano"] == str(time_ns)
            assert record["name"] == text
            assert record["kind"] == 2  # enums as integers
        # OTLP/JSON carries ids as hex, not protobuf JSON's base64.
        assert record["traceId"] == trace_id.hex()
        assert record["spanId"] == span_id.hex()
    code, report = verify_json(cli, out, trust=signer[1])
    assert (code, report["verdict"]) == (0, "verified")


@pytest.mark.parametrize("form", ["json-lines", "proto"])
def test_seal_zstd_compressed_input_stores_the_same_records(
    cli: Any, tmp_path: Path, signer: tuple[Path, Path, keys.SigningKey], form: str
) -> None:
    if form == "proto":
        data = _proto_traces()[0]  # (proto logs: see test_seal_collector_proto_files[logs])
    else:
        data = "".join(json.dumps(_collector_logs_line(b)) + "\n" for b in range(2)).encode()
    plain, packed = tmp_path / "input", tmp_path / "input.zst"
    plain.write_bytes(data)
    packed.write_bytes(zstandard.ZstdCompressor(level=3).compress(data))
    assert packed.read_bytes()[:4] == b"\x28\xb5\x2f\xfd"
    assert cli("seal", plain, "--key", signer[0], "--out", tmp_path / "from-plain").code == 0
    assert cli("seal", packed, "--key", signer[0], "--out", tmp_path / "from-zstd").code == 0
    for name in (DATA, LEAVES_PATH):
        assert member(tmp_path / "from-zstd", name) == member(tmp_path / "from-plain", name)
    code, report = verify_json(cli, tmp_path / "from-zstd", trust=signer[1])
    assert (code, report["verdict"]) == (0, "verified")


# --- verify: JSON, exit codes, usage errors ---------------------------------------------------


def test_verify_json_has_the_documented_shape(
    cli: Any, tmp_path: Path, sealed: Path, signer: tuple[Path, Path, keys.SigningKey]
) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(sealed, tampered)
    lines = (tampered / DATA).read_bytes().splitlines(keepends=True)
    (tampered / DATA).write_bytes(b"".join(lines[:2] + lines[3:]))  # delete line 3
    code, report = verify_json(cli, sealed, tampered, trust=signer[1])
    assert code == 1
    assert set(report) == {"verdict", "bundles", "streams", "findings"}
    assert report["verdict"] == "tampered"
    manifest = manifest_of(sealed)
    # Both copies carry one manifest: the intact one is the stream's, the other a replay.
    assert report["streams"] == [
        {
            "stream_id": "cli.audit",
            "epoch": int(manifest["stream"]["epoch"]),
            "first_seq": int(manifest["records"]["first_seq"]),
            "last_seq": int(manifest["records"]["last_seq"]),
            "bundles": [str(sealed)],
            "verdict": "verified",
        }
    ]
    assert [set(b) for b in report["bundles"]] == [BUNDLE_KEYS, BUNDLE_KEYS]
    assert report["bundles"][0] == {
        "path": str(sealed),
        "bundle_id": manifest["bundle_id"],
        "stream_id": "cli.audit",
        "first_seq": int(manifest["records"]["first_seq"]),
        "last_seq": int(manifest["records"]["last_seq"]),
        "record_count": int(manifest["records"]["count"]),
        "signer_key_id": signer[2].key_id,
        "verdict": "verified",
    }
    assert report["bundles"][1]["verdict"] == "tampered"
    assert report["findings"]
    for finding in report["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["code"] in CODES
        assert finding["severity"] == CODES[finding["code"]].severity
        assert isinstance(finding["message"], str) and finding["message"]
        for key in ("line", "seq"):
            assert finding[key] is None or isinstance(finding[key], int)
        for key in ("path", "stream_id", "expected", "actual"):
            assert finding[key] is None or isinstance(finding[key], str)
    deleted = [f for f in report["findings"] if f["code"] == "RECORD_DELETED"]
    assert [(f["path"], f["line"], f["seq"], f["stream_id"]) for f in deleted] == [
        (f"{tampered}!{DATA}", 3, int(manifest["records"]["first_seq"]) + 2, "cli.audit")
    ]


def test_verify_human_output_names_verdict_and_findings(cli: Any, sealed: Path) -> None:
    result = cli("verify", sealed, "--workers", "1")
    assert result.code == 3
    assert result.out.splitlines()[0] == "verdict: UNTRUSTED"
    assert "UNTRUSTED_SIGNER" in result.out


def _exit_code_input(kind: str, tmp_path: Path, sealed: Path, audit_raw: tuple[Path, ...]) -> Path:
    if kind == "tampered":
        path = tmp_path / "tampered"
        shutil.copytree(sealed, path)
        (path / "index" / "extra.bin").write_bytes(b"x")
        return path
    if kind == "invalid":
        path = tmp_path / "not-a-bundle"
        path.mkdir()
        (path / "notes.txt").write_text("no manifest here\n")
        return path
    if kind == "unsealed":
        return audit_raw[0]
    return sealed


@pytest.mark.parametrize(
    ("kind", "trusted", "verdict", "code"),
    [
        ("intact", True, "verified", 0),
        ("tampered", True, "tampered", 1),
        ("invalid", True, "invalid", 2),
        ("intact", False, "untrusted", 3),
        ("unsealed", True, "unsealed", 3),
    ],
)
def test_verify_exit_codes(
    cli: Any,
    tmp_path: Path,
    sealed: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    audit_raw: tuple[Path, ...],
    kind: str,
    trusted: bool,
    verdict: str,
    code: int,
) -> None:
    path = _exit_code_input(kind, tmp_path, sealed, audit_raw)
    got, report = verify_json(cli, path, trust=signer[1] if trusted else None)
    assert (got, report["verdict"]) == (code, verdict)
    # The same code without --json.
    args: list[str | Path] = ["verify", path, "--workers", "1"]
    if trusted:
        args += ["--trust", signer[1]]
    assert cli(*args).code == code


def test_verify_raw_json_lines_is_unsealed_input(
    cli: Any, sealed: Path, signer: tuple[Path, Path, keys.SigningKey], audit_raw: tuple[Path, ...]
) -> None:
    code, report = verify_json(cli, audit_raw[0], trust=signer[1])
    assert code == 3
    assert report["verdict"] == "unsealed"
    assert report["bundles"] == [
        {
            "path": str(audit_raw[0]),
            "bundle_id": None,
            "stream_id": None,
            "first_seq": None,
            "last_seq": None,
            "record_count": None,
            "signer_key_id": None,
            "verdict": "unsealed",
        }
    ]
    assert [(f["code"], f["severity"], f["path"]) for f in report["findings"]] == [
        ("UNSEALED_INPUT", "info", str(audit_raw[0]))
    ]
    # The summary counts a raw file as an input, not as a bundle (it said "1 bundle(s)").
    text = cli("verify", audit_raw[0], sealed, "--trust", signer[1]).out.splitlines()
    assert text[1].startswith("2 input(s): 1 bundle(s), 1 stream(s), ")
    assert " sealed records, " in text[1]


def _usage_cases(tmp_path: Path, sealed: Path, private: Path, raw: Path) -> dict[str, list[Any]]:
    return {
        "no command": [],
        "unknown command": ["frobnicate"],
        "verify without a path": ["verify"],
        "unknown option": ["verify", sealed, "--no-such-option"],
        "workers below one": ["verify", sealed, "--workers", "0"],
        "workers not a number": ["verify", sealed, "--workers", "many"],
        "keygen unknown algorithm": ["keygen", "--out", tmp_path / "k", "--alg", "dsa"],
        "seal without a key": ["seal", raw, "--out", tmp_path / "x"],
        "seal over an existing bundle": ["seal", raw, "--key", private, "--out", sealed],
        "checkpoint interval not a power of two": [
            "seal",
            raw,
            "--key",
            private,
            "--out",
            tmp_path / "y",
            "--checkpoint-every",
            "3",
        ],
        "bad stream id": [
            "seal",
            raw,
            "--key",
            private,
            "--out",
            tmp_path / "z",
            "--stream-id",
            "a b",
        ],
        "missing trust store": ["verify", sealed, "--trust", tmp_path / "absent.json"],
        "trust store not one": ["verify", sealed, "--trust", raw],
        "missing input": [
            "seal",
            tmp_path / "absent.jsonl",
            "--key",
            private,
            "--out",
            tmp_path / "w",
        ],
    }


USAGE_CASES = list(_usage_cases(Path(), Path(), Path(), Path()))


@pytest.mark.parametrize("case", USAGE_CASES)
def test_usage_and_input_errors_exit_2_with_a_message_and_no_traceback(
    cli: Any,
    tmp_path: Path,
    sealed: Path,
    signer: tuple[Path, Path, keys.SigningKey],
    audit_raw: tuple[Path, ...],
    case: str,
) -> None:
    argv = _usage_cases(tmp_path, sealed, signer[0], audit_raw[0])[case]
    before = sorted(
        (p.relative_to(sealed), p.read_bytes()) for p in sealed.rglob("*") if p.is_file()
    )
    result = cli(*argv)
    assert result.code == 2
    assert result.err.startswith("auditlens: ")
    assert len(result.err.strip().splitlines()) == 1  # one line of diagnostics
    assert "Traceback" not in result.err
    assert result.out == ""
    after = sorted(
        (p.relative_to(sealed), p.read_bytes()) for p in sealed.rglob("*") if p.is_file()
    )
    assert after == before
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left behind


# --- the installed console script -------------------------------------------------------------


def test_installed_console_script_verifies_a_bundle(
    sealed: Path, signer: tuple[Path, Path, keys.SigningKey]
) -> None:
    script = Path(sys.executable).with_name("auditlens")
    assert script.is_file() and os.access(script, os.X_OK)
    completed = subprocess.run(
        [str(script), "verify", str(sealed), "--trust", str(signer[1]), "--json", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["verdict"] == "verified"
    assert report["bundles"][0]["signer_key_id"] == signer[2].key_id
