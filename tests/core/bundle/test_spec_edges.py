"""The spec's edges, each decided in docs/bundle-format.md (issue 11, point 5).

Each test builds a genuine bundle with the reference sealer, changes exactly the one thing the
rule is about and, where the manifest changes, signs it again with the same key, so that the
finding asserted is the rule's and nothing else's.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.bundle import seal as seal_module
from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.bundle.manifest import (
    ENVELOPE_PATH,
    MANIFEST_PATH,
    PAYLOAD_TYPE,
    parse_manifest,
)
from auditlens.core.bundle.seal import PreviousBundle, seal
from auditlens.core.crypto.dsse import sign_envelope
from auditlens.core.crypto.keys import sample_key
from auditlens.core.errors import InvalidInputError
from auditlens.core.verify.trust import TrustStore, load_trust
from auditlens.core.verify.verifier import verify_paths

KEY = sample_key("spec-edges-test")
OTHER = sample_key("spec-edges-other")


def drive(job: Any) -> Any:
    try:
        while True:
            next(job)
    except StopIteration as stop:
        return stop.value


def audit_lines(first: int, count: int) -> bytes:
    return b"".join(
        b'{"timestamp":"2026-03-02T08:%02d:00.000Z","user_id":"agent-042","action":"LOGIN"}\n'
        % (first + i)
        for i in range(count)
    )


@pytest.fixture
def trust(tmp_path: Path) -> TrustStore:
    pem = tmp_path / "key.pub.pem"
    pem.write_bytes(KEY.public_pem())
    return load_trust(pem)


def sealed(tmp_path: Path, name: str = "bundle", *, first: int = 0, count: int = 6) -> Path:
    raw = tmp_path / f"{name}.jsonl"
    raw.write_bytes(audit_lines(first, count))
    out = tmp_path / name
    drive(seal([raw], KEY, out, checkpoint_every=2, sealed_at="2026-03-02T09:00:00Z"))
    return out


def resign(bundle: Path, edit: Callable[[dict[str, Any]], None], key: Any = KEY) -> None:
    """Edit the manifest, store it canonical and sign it again."""
    document = json.loads((bundle / MANIFEST_PATH).read_bytes())
    edit(document)
    data = canonicalize(document)
    (bundle / MANIFEST_PATH).write_bytes(data)
    (bundle / ENVELOPE_PATH).write_bytes(sign_envelope(PAYLOAD_TYPE, data, key))


def verify(paths: list[Path], trust: TrustStore) -> Any:
    return drive(verify_paths(paths, trust, workers=1))


def codes(report: Any) -> list[str]:
    return sorted(f.code for f in report.findings)


# --- sealed_at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-02-30T09:00:00Z",  # no such day
        "2026-03-02T24:00:00Z",
        "2026-03-02T09:00:60Z",  # a leap second names no instant a verifier can compare
        "2026-03-02T09:00:00+01:00",  # not UTC: §7.1 writes UTC with Z
        "2026-03-02t09:00:00z",
        "2026-03-02 09:00:00Z",
        "2026-03-02T09:00:00.1234567891Z",  # more than nanoseconds
        "2026-03-02T09:00Z",
    ],
)
def test_sealed_at_that_is_not_rfc3339_utc_is_manifest_invalid(tmp_path, trust, value):
    bundle = sealed(tmp_path)
    resign(bundle, lambda d: d.update(sealed_at=value))
    report = verify([bundle], trust)
    assert report.verdict.value == "invalid"
    [finding] = report.findings
    assert finding.code == "MANIFEST_INVALID"
    assert finding.path == f"{bundle}!{MANIFEST_PATH}"
    assert "manifest.sealed_at" in finding.message and "RFC 3339" in finding.message


@pytest.mark.parametrize("value", ["2026-03-02T09:00:00Z", "2026-03-02T09:00:00.123456789Z"])
def test_sealed_at_in_utc_with_up_to_nine_fraction_digits_verifies(tmp_path, trust, value):
    bundle = sealed(tmp_path)
    resign(bundle, lambda d: d.update(sealed_at=value))
    report = verify([bundle], trust)
    assert (report.verdict.value, codes(report)) == ("verified", [])


# --- required members ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("source"), "manifest.source: missing"),
        (lambda d: d.pop("producer"), "manifest.producer: missing"),
        (lambda d: d.update(source=["audit.jsonl"]), "manifest.source: expected an object"),
        (lambda d: d["producer"].pop("version"), "manifest.producer.version: missing"),
        (lambda d: d["checkpoints"].update(path="index/cp.json"), "manifest.checkpoints.path"),
    ],
    ids=["no-source", "no-producer", "source-list", "producer-no-version", "checkpoints-path"],
)
def test_required_members_as_the_doc_says(tmp_path, trust, edit, message):
    bundle = sealed(tmp_path)
    resign(bundle, edit)
    report = verify([bundle], trust)
    assert report.verdict.value == "invalid"
    assert [f.code for f in report.findings] == ["MANIFEST_INVALID"]
    assert message in report.findings[0].message


# --- the files list --------------------------------------------------------------------------


def _files(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[dict[str, Any]], None]:
    return lambda d: edit(d["files"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_files(lambda f: f.append(dict(f[0]))), "is listed twice (also files[0])"),
        (_files(lambda f: f[0].update(compression="zstd")), "unknown member 'compression'"),
        (_files(lambda f: f[-2].update(count="6")), "unknown member 'count'"),
        (
            _files(lambda f: next(e for e in f if e["role"] == "leaves").update(path="leaves.bin")),
            "the leaves file is 'index/leaves.bin'",
        ),
        (
            _files(lambda f: f.remove(next(e for e in f if e["role"] == "leaves"))),
            "does not list index/leaves.bin",
        ),
        (
            _files(lambda f: f.append({**f[-1], "path": MANIFEST_PATH, "role": "checkpoints"})),
            "'manifest.json' is the manifest",
        ),
    ],
    ids=["duplicate", "unknown", "data-member-on-index", "leaves-path", "no-leaves", "manifest"],
)
def test_files_list_rules(tmp_path, trust, edit, message):
    bundle = sealed(tmp_path)
    resign(bundle, edit)
    report = verify([bundle], trust)
    assert report.verdict.value == "invalid"
    assert [f.code for f in report.findings] == ["MANIFEST_INVALID"]
    assert message in report.findings[0].message


def test_unknown_top_level_members_are_ignored_but_signed(tmp_path, trust):
    bundle = sealed(tmp_path)
    resign(bundle, lambda d: d.update(comment="added by a later sealer"))
    report = verify([bundle], trust)
    assert (report.verdict.value, codes(report)) == ("verified", [])


# --- a first bundle that does not start at seq 1 ----------------------------------------------


def test_a_first_bundle_that_does_not_start_at_seq_1_is_a_sequence_gap(
    tmp_path, trust, monkeypatch
):
    first = sealed(tmp_path, "first", count=4)
    manifest = parse_manifest((first / MANIFEST_PATH).read_bytes())
    # A predecessor whose final chain value is 32 zero bytes: the chain of the bundle sealed
    # after it starts exactly as a stream's first bundle does (§5), at seq 5.
    fake = PreviousBundle(dataclasses.replace(manifest, chain_final="0" * 64), "0" * 64)
    monkeypatch.setattr(seal_module, "read_previous", lambda path: fake)
    raw = tmp_path / "later.jsonl"
    raw.write_bytes(audit_lines(4, 4))
    later = tmp_path / "later"
    drive(
        seal(
            [raw], KEY, later, previous=first, checkpoint_every=2, sealed_at="2026-03-02T10:00:00Z"
        )
    )
    resign(later, lambda d: d["chain"].update(previous=None))
    report = verify([later], trust)
    assert report.verdict.value == "tampered"
    [finding] = report.findings
    assert (finding.code, finding.seq, finding.expected, finding.actual) == (
        "SEQUENCE_GAP",
        5,
        "1",
        "5",
    )
    assert "a stream's first bundle" in finding.message


# --- manifest.json and the signed payload differ -------------------------------------------------


def test_a_manifest_edited_after_signing_is_checked_against_the_signed_payload(tmp_path, trust):
    bundle = sealed(tmp_path)
    # manifest.json now names another signer; the envelope still holds the original payload,
    # signed by KEY. The signature is checked over the payload with the payload's signer, and
    # the trust step runs on that signer: the report says a trusted key signed the original.
    document = json.loads((bundle / MANIFEST_PATH).read_bytes())
    document["signer"] = {
        "algorithm": OTHER.algorithm,
        "key_id": OTHER.key_id,
        "public_key": OTHER.public_pem().decode(),
    }
    document["producer"]["version"] = "9.9.9"
    (bundle / MANIFEST_PATH).write_bytes(canonicalize(document))
    report = verify([bundle], trust)
    assert report.verdict.value == "tampered"
    assert codes(report) == ["MANIFEST_MISMATCH"]
    untrusted = verify([bundle], TrustStore())
    assert codes(untrusted) == ["MANIFEST_MISMATCH", "UNTRUSTED_SIGNER"]
    [signer] = [f for f in untrusted.findings if f.code == "UNTRUSTED_SIGNER"]
    assert signer.actual == KEY.key_id


def test_an_envelope_re_encoded_around_an_intact_payload_says_so(tmp_path, trust):
    bundle = sealed(tmp_path)
    envelope = json.loads((bundle / ENVELOPE_PATH).read_bytes())
    payload = base64.b64decode(envelope["payload"])
    envelope["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    for signature in envelope["signatures"]:
        signature["sig"] = base64.urlsafe_b64encode(base64.b64decode(signature["sig"])).decode()
    (bundle / ENVELOPE_PATH).write_text(json.dumps(envelope))
    report = verify([bundle], trust)
    assert report.verdict.value == "tampered"
    [finding] = [f for f in report.findings if f.code == "ENVELOPE_INVALID"]
    assert "the signed payload is intact, only the envelope was re-encoded" in finding.message


def test_an_envelope_re_encoded_around_another_payload_does_not_say_intact(tmp_path, trust):
    bundle = sealed(tmp_path)
    envelope = json.loads((bundle / ENVELOPE_PATH).read_bytes())
    payload = base64.b64decode(envelope["payload"]).replace(b'"LOGIN"', b'"LOGIN"')
    payload = payload.replace(b'"version":"', b'"version":"x')
    envelope["payload"] = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    (bundle / ENVELOPE_PATH).write_text(json.dumps(envelope))
    report = verify([bundle], trust)
    [finding] = [f for f in report.findings if f.code == "ENVELOPE_INVALID"]
    assert "intact" not in finding.message


# --- raw input with a byte order mark ------------------------------------------------------------


def test_raw_input_starting_with_a_bom_is_refused_clearly(tmp_path):
    raw = tmp_path / "audit.jsonl"
    raw.write_bytes(b"\xef\xbb\xbf" + audit_lines(0, 3))
    with pytest.raises(InvalidInputError, match="UTF-8 byte order mark") as caught:
        drive(seal([raw], KEY, tmp_path / "b"))
    assert "length prefix" not in caught.value.message
    assert caught.value.path == str(raw)
    assert not (tmp_path / "b").exists()


# --- how doubleValues are written when sealing ---------------------------------------------------

DOUBLES = [
    (b"1.50", b"1.5"),
    (b"2E5", b"200000.0"),
    (b"1e-7", b"1e-07"),
    (b"0.0001", b"0.0001"),
    (b"1e16", b"1e+16"),
    (b"123456789012345.25", b"123456789012345.25"),
    (b"0.1", b"0.1"),
    (b"-0.0", b"-0.0"),
]


def test_double_values_are_written_in_their_shortest_round_trip_form(tmp_path):
    attributes = b",".join(
        b'{"key":"v%d","value":{"doubleValue":%s}}' % (i, raw) for i, (raw, _) in enumerate(DOUBLES)
    )
    line = (
        b'{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{'
        b'"timeUnixNano":"1772438400000000000","attributes":[' + attributes + b"]}]}]}]}\n"
    )
    raw = tmp_path / "otel-logs.jsonl"
    raw.write_bytes(line)
    drive(seal([raw], KEY, tmp_path / "b"))
    stored = (tmp_path / "b" / "data" / "00001.jsonl").read_bytes()
    written = [part.split(b"}", 1)[0] for part in stored.split(b'"doubleValue":')[1:]]
    assert written == [text for _, text in DOUBLES]


# --- the published edge vectors (docs/vectors/edges, tools/make_vectors.py) ---------------------

EDGES = Path(__file__).resolve().parents[3] / "docs" / "vectors" / "edges"
VECTOR_BUNDLE = EDGES.parent / "tiny-bundle"


@pytest.fixture
def vector_trust(tmp_path: Path) -> TrustStore:
    pem = tmp_path / "vector.pub.pem"
    pem.write_bytes(sample_key("auditlens-test-vector-v1").public_pem())
    return load_trust(pem)


def test_the_published_double_values_are_what_the_sealer_writes(tmp_path):
    published = json.loads((EDGES / "edges.json").read_text())["double_values"]
    assert [pair[0].encode() for pair in published] == [raw for raw, _ in DOUBLES]
    assert [pair[1].encode() for pair in published] == [text for _, text in DOUBLES]


def test_the_published_sealed_at_values_are_judged_as_listed():
    listed = json.loads((EDGES / "edges.json").read_text())["sealed_at"]
    manifest = json.loads((VECTOR_BUNDLE / MANIFEST_PATH).read_bytes())
    for value in listed["valid"]:
        parse_manifest(canonicalize({**manifest, "sealed_at": value}))
    for value in listed["invalid"]:
        with pytest.raises(InvalidInputError, match=r"manifest\.sealed_at"):
            parse_manifest(canonicalize({**manifest, "sealed_at": value}))


def test_the_dot_slash_tar_vector_verifies_as_the_folder(vector_trust):
    folder = verify([VECTOR_BUNDLE], vector_trust)
    packed = verify([EDGES / "tiny-bundle-dot-slash.tar"], vector_trust)
    assert (folder.verdict.value, packed.verdict.value) == ("verified", "verified")
    assert codes(packed) == []
    assert packed.bundles[0].manifest_sha256 == folder.bundles[0].manifest_sha256


def test_the_sealed_at_yesterday_vector_is_manifest_invalid(vector_trust):
    report = verify([EDGES / "sealed-at-yesterday"], vector_trust)
    assert report.verdict.value == "invalid"
    assert codes(report) == ["MANIFEST_INVALID"]
