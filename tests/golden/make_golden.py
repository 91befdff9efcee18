"""Build the golden evidence set: the sample's sealed bundles and a tampered copy per tamper class.

Usage: ``python tests/golden/make_golden.py OUT_DIR`` (writes ``OUT_DIR/golden.json``, the case
index), or ``make_golden(out_dir)`` from a test.

Every tampered bundle is a *copy* of a sealed original (the originals under ``sample/`` are never
modified), changed the way its tamper class (docs/verification.md) says. Each :class:`GoldenCase`
records which paths are verified together, with which trust file(s), the expected verdict and the
expected findings with their place. The places are derived from what the tamper did ("deleted line
17 of a bundle whose first sequence number is f -> seq f + 16, sealed line 17"), never from running
the verifier, so the cases can catch a verifier that reports the wrong place.

Keys: the sample's THROWAWAY key (derivable by anyone, see ``sample_key``) seals everything that is
meant to be genuine, trusted through ``trust/sealer.json`` (a plain trust store for tests, not
marked as a sample). Untrusted, expired, revoked and downgraded signers are fresh keys.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import sys
import tarfile
import warnings
import zipfile
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import rsa

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.bundle.container import open_container
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    ENVELOPE_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
    PAYLOAD_TYPE,
)
from auditlens.core.bundle.seal import seal
from auditlens.core.crypto import keys
from auditlens.core.crypto.dsse import sign_envelope
from auditlens.core.sample.case import SampleCase, build_sample
from auditlens.core.verify.trust import truststore_document

SAMPLE_RECORDS = 1500
SAMPLE_DAYS = 3  # three bundles per stream: enough for gaps (1 and 3) and forks.
SAMPLE_SEED = 11
DATA = "data/00001.jsonl"
# Sealed with small checkpoints and data files so that segments and several files exist.
SEGMENT_INTERVAL = 16
SEGMENT_FILE_RECORDS = 32
HASH = 32
# A time earlier than every sample bundle's sealed_at (2026-03-03 and later).
BEFORE_SEALING = "2026-03-01T00:00:00Z"

T = TypeVar("T")


@dataclass(frozen=True)
class ExpectedFinding:
    """A finding a case must produce, with its place.

    ``member`` is the file inside the bundle the finding names (the finding's path is then
    ``"{bundle}!{member}"``), or ``None`` for the bundle path itself. ``line`` (1-based, in the
    file as it is now) and ``seq`` are asserted when not ``None``.
    """

    code: str
    bundle: Path
    member: str | None = None
    line: int | None = None
    seq: int | None = None

    @property
    def path(self) -> str:
        """The path the finding must name."""
        return str(self.bundle) if self.member is None else f"{self.bundle}!{self.member}"

    def to_json(self, root: Path) -> dict[str, Any]:
        """The index form, with the bundle path relative to ``root``."""
        return {
            "code": self.code,
            "bundle": self.bundle.relative_to(root).as_posix(),
            "member": self.member,
            "line": self.line,
            "seq": self.seq,
        }


@dataclass(frozen=True)
class GoldenCase:
    """One golden verification: what to verify, with what trust, and what must come out.

    Every finding in ``findings`` must be reported; any other reported finding must have a code
    in ``allowed`` (consequences of the same tamper that the case does not pin down).
    """

    name: str
    tamper_class: str
    description: str
    paths: tuple[Path, ...]
    trust: tuple[Path, ...]
    verdict: str
    findings: tuple[ExpectedFinding, ...]
    allowed: frozenset[str] = field(default_factory=frozenset)

    def to_json(self, root: Path) -> dict[str, Any]:
        """The index form, paths relative to ``root``."""
        return {
            "name": self.name,
            "tamper_class": self.tamper_class,
            "description": self.description,
            "paths": [p.relative_to(root).as_posix() for p in self.paths],
            "trust": [p.relative_to(root).as_posix() for p in self.trust],
            "verdict": self.verdict,
            "findings": [f.to_json(root) for f in self.findings],
            "allowed": sorted(self.allowed),
        }


# --- small helpers ----------------------------------------------------------------------------


def run(job: Generator[Any, None, T]) -> T:
    """Drive a core progress generator to completion and return its value."""
    while True:
        try:
            next(job)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


def split_lines(data: bytes) -> list[bytes]:
    """The records of a sealed data file (every line ends with a newline)."""
    assert data.endswith(b"\n"), "a sealed data file ends with a newline"
    return data[:-1].split(b"\n")


def join_lines(lines: list[bytes]) -> bytes:
    """A data file from records."""
    return b"".join(line + b"\n" for line in lines)


_TENANTS = (b'"acme"', b'"globex"', b'"initech"')


def alter(line: bytes) -> bytes:
    """Change one record the way a forger would: the tenant of the event, bytes otherwise kept."""
    for i, tenant in enumerate(_TENANTS):
        if tenant in line:
            return line.replace(tenant, _TENANTS[(i + 1) % len(_TENANTS)], 1)
    raise AssertionError(f"no tenant to change in {line[:80]!r}")


def read_member(bundle: Path, member: str) -> bytes:
    """One file of a bundle in any container."""
    with open_container(bundle) as container:
        return container.read(member, 1 << 30)


def manifest_of(bundle: Path) -> dict[str, Any]:
    """The manifest of a bundle as JSON."""
    document: dict[str, Any] = json.loads(read_member(bundle, MANIFEST_PATH))
    return document


def first_seq(bundle: Path) -> int:
    """The first sequence number of a bundle."""
    return int(manifest_of(bundle)["records"]["first_seq"])


def last_seq(bundle: Path) -> int:
    """The last sequence number of a bundle."""
    return int(manifest_of(bundle)["records"]["last_seq"])


def copy_bundle(src: Path, dst: Path) -> Path:
    """Copy a bundle (folder or archive) to ``dst``; the original is never touched."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dst)
    else:
        shutil.copy2(src, dst)
    return dst


def edit_lines(
    bundle: Path, edit: Callable[[list[bytes]], list[bytes]], member: str = DATA
) -> None:
    """Rewrite the records of a data file of a folder bundle."""
    path = bundle / member
    path.write_bytes(join_lines(edit(split_lines(path.read_bytes()))))


def rewrite_archive(
    src: Path,
    dst: Path,
    edits: dict[str, Callable[[bytes], bytes]],
    *,
    zip_compression: int | None = None,
) -> Path:
    """Copy a .zip or .tar.gz bundle to ``dst`` with some members' bytes changed.

    Member order, names and metadata are kept, and compression unless ``zip_compression`` is
    given, so only the edited bytes differ.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    if src.name.endswith(".zip"):
        with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
            for info in old.infolist():
                data = old.read(info)
                if info.filename in edits:
                    data = edits[info.filename](data)
                if zip_compression is not None:
                    info.compress_type = zip_compression
                new.writestr(info, data, compress_type=info.compress_type)
        return dst
    raw = io.BytesIO()
    with (
        tarfile.open(src, "r:*") as old,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as new,
    ):
        for member in old.getmembers():
            handle = old.extractfile(member)
            data = handle.read() if handle is not None else b""
            if member.name in edits:
                data = edits[member.name](data)
                member.size = len(data)
            new.addfile(member, io.BytesIO(data))
    dst.write_bytes(raw.getvalue())
    return dst


def regular_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry marked as a regular file (mode 0644), as the sealer writes them."""
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_manifest(
    bundle: Path,
    document: dict[str, Any],
    signer: keys.SigningKey | None,
    *,
    canonical: bool = True,
) -> bytes:
    """Write a (tampered) manifest into a folder bundle; re-sign it when ``signer`` is given."""
    data = (
        canonicalize(document)
        if canonical
        else json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    )
    (bundle / MANIFEST_PATH).write_bytes(data)
    if signer is not None:
        (bundle / ENVELOPE_PATH).write_bytes(sign_envelope(PAYLOAD_TYPE, data, signer))
    return data


def set_signer(
    document: dict[str, Any], key: keys.SigningKey, algorithm: str | None = None
) -> None:
    """Name ``key`` as the manifest's signer (optionally declaring another algorithm)."""
    document["signer"] = {
        "key_id": key.key_id,
        "algorithm": algorithm or key.algorithm,
        "public_key": key.public_pem().decode("ascii"),
    }


def relist(document: dict[str, Any], bundle: Path, member: str) -> None:
    """Update a manifest's size and SHA-256 of ``member`` to the file as it is now."""
    data = (bundle / member).read_bytes()
    for entry in document["files"]:
        if entry["path"] == member:
            entry["size"] = str(len(data))
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            return
    raise AssertionError(f"{member} is not listed")


def trust_entry(
    key: keys.SigningKey,
    owner: str,
    *,
    not_before: str | None = None,
    not_after: str | None = None,
    revoked_at: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """A trust store entry (format in ``auditlens.core.verify.trust``)."""
    return {
        "key_id": key.key_id,
        "algorithm": key.algorithm,
        "public_key": key.public_pem().decode("ascii"),
        "owner": owner,
        "not_before": not_before,
        "not_after": not_after,
        "revoked_at": revoked_at,
        "revocation_reason": reason,
        "obtained": "generated by tests/golden/make_golden.py",
    }


def shift_audit_time(line: bytes, delta: timedelta) -> bytes:
    """An audit-logger record with its ``timestamp`` moved by ``delta`` (format kept)."""
    document = json.loads(line)
    moment = datetime.strptime(document["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ") + delta
    document["timestamp"] = moment.strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def audit_time(line: bytes) -> datetime:
    """The ``timestamp`` of an audit-logger record."""
    return datetime.strptime(json.loads(line)["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")


# --- the golden set ---------------------------------------------------------------------------


class _Builder:
    """Holds the sample and the keys while the cases are made."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.case_root = root / "cases"
        self.extra = root / "extra"
        self.cases: dict[str, GoldenCase] = {}
        self.sample: SampleCase = run(
            build_sample(
                root / "sample", records=SAMPLE_RECORDS, days=SAMPLE_DAYS, seed=SAMPLE_SEED
            )
        )
        self.key = self.sample.key
        self.audit = self.sample.bundles["cc-prod.audit"]
        self.logs = self.sample.bundles["cc-prod.otel-logs"]
        self.traces = self.sample.bundles["cc-prod.otel-traces"]
        raw = {s.stream_id: s.files for s in self.sample.raw.streams}
        self.audit_raw = raw["cc-prod.audit"]
        trust = root / "trust"
        trust.mkdir()
        self.sealer_trust = trust / "sealer.json"
        self.sealer_trust.write_bytes(
            truststore_document(
                [trust_entry(self.key, "golden sealer (the sample's THROWAWAY key)")]
            )
        )

    def case_dir(self, name: str) -> Path:
        folder = self.case_root / name
        folder.mkdir(parents=True)
        return folder

    def add(
        self,
        name: str,
        tamper_class: str,
        description: str,
        paths: list[Path],
        verdict: str,
        findings: list[ExpectedFinding],
        *,
        trust: list[Path] | None = None,
        allowed: tuple[str, ...] = (),
    ) -> None:
        assert name not in self.cases
        self.cases[name] = GoldenCase(
            name,
            tamper_class,
            description,
            tuple(paths),
            tuple(trust if trust is not None else [self.sealer_trust]),
            verdict,
            tuple(findings),
            frozenset(allowed),
        )

    def seal_lines(
        self,
        lines: list[bytes],
        out: Path,
        *,
        stream_id: str | None = None,
        previous: Path | None = None,
        sealed_at: str,
        checkpoint_every: int = 4096,
        records_per_file: int = 1 << 20,
    ) -> Path:
        """Seal audit-logger lines (kept as a raw file under ``extra/raw``) with the sealer key."""
        out.parent.mkdir(parents=True, exist_ok=True)
        raw = self.extra / "raw" / f"{out.parent.name}--{out.name}.jsonl"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(join_lines(lines))
        run(
            seal(
                [raw],
                self.key,
                out,
                stream_id=stream_id,
                previous=previous,
                sealed_at=sealed_at,
                checkpoint_every=checkpoint_every,
                records_per_file=records_per_file,
            )
        )
        return out

    def raw_lines(self, day: int) -> list[bytes]:
        """Lines of the sample's raw audit file of day ``day`` (0-based)."""
        return split_lines(self.audit_raw[day].read_bytes())

    # -- the cases ------------------------------------------------------------------------

    def build(self) -> dict[str, GoldenCase]:
        self.intact()
        self.records()
        self.files()
        self.manifest_and_signer()
        self.across_bundles()
        self.hidden_data()
        self.index_and_checkpoints()
        self.time()
        return self.cases

    def intact(self) -> None:
        every = [*self.audit, *self.logs, *self.traces]
        self.add(
            "intact",
            "none",
            "every sample bundle, untouched, trusted through the sealer's trust store",
            every,
            "verified",
            [],
        )
        self.add(
            "intact_sample_trust",
            "none",
            "every sample bundle, trusted through the sample's own trust store (a sample store)",
            every,
            "verified",
            [ExpectedFinding("SAMPLE_TRUST", b, ENVELOPE_PATH) for b in every],
            trust=[self.sample.truststore],
        )
        self.add(
            "intact_no_trust",
            "none",
            "every sample bundle, without any trust store: intact but untrusted",
            every,
            "untrusted",
            [ExpectedFinding("UNTRUSTED_SIGNER", b, ENVELOPE_PATH) for b in every],
            trust=[],
        )

    def records(self) -> None:
        a1 = self.audit[0]
        f1 = first_seq(a1)
        n1 = last_seq(a1) - f1 + 1

        b = copy_bundle(a1, self.case_dir("modify_record") / a1.name)
        edit_lines(b, lambda ls: [*ls[:16], alter(ls[16]), *ls[17:]])
        self.add(
            "modify_record",
            "modify",
            "line 17 of the data file changed (another tenant)",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_MODIFIED", b, DATA, line=17, seq=f1 + 16),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        b = copy_bundle(a1, self.case_dir("delete_record") / a1.name)
        edit_lines(b, lambda ls: [*ls[:16], *ls[17:]])
        self.add(
            "delete_record",
            "delete",
            "line 17 of the data file removed: seq first+16, sealed at line 17",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_DELETED", b, DATA, line=17, seq=f1 + 16),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        b = copy_bundle(a1, self.case_dir("insert_record") / a1.name)
        edit_lines(b, lambda ls: [*ls[:17], alter(ls[16]), *ls[17:]])
        self.add(
            "insert_record",
            "insert",
            "a forged record inserted after line 17 (it is now line 18)",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_INSERTED", b, DATA, line=18),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        def swap(ls: list[bytes]) -> list[bytes]:
            out = list(ls)
            out[16], out[39] = ls[39], ls[16]
            return out

        b = copy_bundle(a1, self.case_dir("reorder_records") / a1.name)
        edit_lines(b, swap)
        self.add(
            "reorder_records",
            "reorder",
            "lines 17 and 40 swapped: seq first+39 now at line 17, seq first+16 at line 40",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORDS_REORDERED", b, DATA, line=17, seq=f1 + 39),
                ExpectedFinding("RECORDS_REORDERED", b, DATA, line=40, seq=f1 + 16),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        def swap_neighbours(ls: list[bytes]) -> list[bytes]:
            out = list(ls)
            out[16], out[17] = ls[17], ls[16]
            return out

        # Two longest runs tie (one without line 17, one without line 18): the rule of
        # docs/verification.md §2.1 keeps the run ending latest in stored order, so the record
        # now first of the two (sealed as first+17) is the one reported moved.
        b = copy_bundle(a1, self.case_dir("reorder_adjacent") / a1.name)
        edit_lines(b, swap_neighbours)
        self.add(
            "reorder_adjacent",
            "reorder",
            "lines 17 and 18 swapped: a tie of longest runs, the first of the two reported",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORDS_REORDERED", b, DATA, line=17, seq=f1 + 17),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        b = copy_bundle(a1, self.case_dir("truncate_head") / a1.name)
        edit_lines(b, lambda ls: ls[5:])
        self.add(
            "truncate_head",
            "truncate head",
            "the first 5 records removed: missing from seq first, sealed line 1",
            [b],
            "tampered",
            [
                ExpectedFinding("TRUNCATED", b, DATA, line=1, seq=f1),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        b = copy_bundle(a1, self.case_dir("truncate_tail") / a1.name)
        edit_lines(b, lambda ls: ls[:-5])
        self.add(
            "truncate_tail",
            "truncate tail",
            f"the last 5 of {n1} records removed: missing from seq first+{n1 - 5}",
            [b],
            "tampered",
            [
                ExpectedFinding("TRUNCATED", b, DATA, line=n1 - 4, seq=f1 + n1 - 5),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        # A record of another stream (otel-logs, same sequence number 17) spliced in.
        foreign = split_lines(read_member(self.logs[0], DATA))[16]
        b = copy_bundle(a1, self.case_dir("splice_record") / a1.name)
        edit_lines(b, lambda ls: [*ls[:16], foreign, *ls[17:]])
        self.add(
            "splice_record",
            "splice from another stream",
            "line 17 replaced by seq 17 of the otel-logs stream's first bundle",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_MODIFIED", b, DATA, line=17, seq=f1 + 16),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

        # The same tampers inside the two archive containers.
        l1 = self.logs[0]
        fl = first_seq(l1)
        b = rewrite_archive(
            l1,
            self.case_dir("modify_record_zip") / l1.name,
            {
                DATA: lambda d: join_lines(
                    [*split_lines(d)[:4], alter(split_lines(d)[4]), *split_lines(d)[5:]]
                )
            },
        )
        self.add(
            "modify_record_zip",
            "modify",
            "line 5 of the data file of a .zip bundle changed",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_MODIFIED", b, DATA, line=5, seq=fl + 4),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )
        b = rewrite_archive(
            l1,
            self.case_dir("modify_record_zip_stored") / l1.name,
            {
                DATA: lambda d: join_lines(
                    [*split_lines(d)[:4], alter(split_lines(d)[4]), *split_lines(d)[5:]]
                )
            },
            zip_compression=zipfile.ZIP_STORED,
        )
        self.add(
            "modify_record_zip_stored",
            "modify",
            "line 5 changed in a .zip bundle whose members are stored (read in place)",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_MODIFIED", b, DATA, line=5, seq=fl + 4),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )
        b = copy_bundle(a1, self.case_dir("duplicate_record") / a1.name)
        edit_lines(b, lambda ls: [*ls[:17], ls[16], *ls[17:]])
        self.add(
            "duplicate_record",
            "insert",
            "line 17 written twice (the copy is line 18)",
            [b],
            "tampered",
            [
                ExpectedFinding("DUPLICATE_RECORD", b, DATA, line=18),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )
        t2 = self.traces[1]
        ft = first_seq(t2)
        b = rewrite_archive(
            t2,
            self.case_dir("delete_record_targz") / t2.name,
            {DATA: lambda d: join_lines([*split_lines(d)[:9], *split_lines(d)[10:]])},
        )
        self.add(
            "delete_record_targz",
            "delete",
            "line 10 of the data file of the second .tar.gz bundle removed",
            [b],
            "tampered",
            [
                ExpectedFinding("RECORD_DELETED", b, DATA, line=10, seq=ft + 9),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
        )

    def files(self) -> None:
        a1, a2 = self.audit[0], self.audit[1]
        f1 = first_seq(a1)

        b = copy_bundle(a1, self.case_dir("swap_data_file") / a1.name)
        shutil.copyfile(a2 / DATA, b / DATA)
        self.add(
            "swap_data_file",
            "file swap",
            "the data file replaced by the data file of the stream's next bundle",
            [b],
            "tampered",
            [
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
                ExpectedFinding("RECORD_MODIFIED", b, DATA, line=1, seq=f1),
            ],
            # Every record differs; how the rest is itemised is not pinned down here.
            allowed=("RECORD_MODIFIED", "RECORD_INSERTED", "RECORD_DELETED", "TRUNCATED"),
        )

        b = copy_bundle(a1, self.case_dir("unlisted_file") / a1.name)
        extra = split_lines((a1 / DATA).read_bytes())[:2]
        (b / "data/00002.jsonl").write_bytes(join_lines([alter(line) for line in extra]))
        self.add(
            "unlisted_file",
            "unlisted file",
            "a second data file the manifest does not list",
            [b],
            "tampered",
            [ExpectedFinding("UNLISTED_FILE", b, "data/00002.jsonl")],
        )

        b = copy_bundle(a1, self.case_dir("missing_index_file") / a1.name)
        (b / LEAVES_PATH).unlink()
        self.add(
            "missing_index_file",
            "missing file",
            "index/leaves.bin removed (records themselves intact)",
            [b],
            "tampered",
            [ExpectedFinding("MISSING_FILE", b, LEAVES_PATH)],
        )

        s = self.segments()
        fs = first_seq(s)
        b = copy_bundle(s, self.case_dir("missing_data_file") / s.name)
        (b / "data/00002.jsonl").unlink()
        self.add(
            "missing_data_file",
            "missing file",
            f"data/00002.jsonl (seq first+{SEGMENT_FILE_RECORDS} on) of a multi-file bundle gone",
            [b],
            "tampered",
            [
                ExpectedFinding("MISSING_FILE", b, "data/00002.jsonl"),
                ExpectedFinding(
                    "RECORD_DELETED", b, "data/00002.jsonl", line=1, seq=fs + SEGMENT_FILE_RECORDS
                ),
            ],
        )

    def segments(self) -> Path:
        """The sample's first audit file sealed in segments of 16 and data files of 32 records."""
        out = self.extra / "segments" / "cc-prod.audit-segments"
        if not out.exists():
            self.seal_lines(
                self.raw_lines(0),
                out,
                stream_id="golden.audit-segments",
                sealed_at="2026-03-03T00:05:00Z",
                checkpoint_every=SEGMENT_INTERVAL,
                records_per_file=SEGMENT_FILE_RECORDS,
            )
        return out

    def manifest_and_signer(self) -> None:
        a1 = self.audit[0]

        b = copy_bundle(a1, self.case_dir("manifest_edit") / a1.name)
        document = manifest_of(b)
        document["source"]["platform"] = "a platform it never came from"
        write_manifest(b, document, None)
        self.add(
            "manifest_edit",
            "manifest edit",
            "manifest.source edited and re-canonicalised, envelope untouched",
            [b],
            "tampered",
            [ExpectedFinding("MANIFEST_MISMATCH", b, ENVELOPE_PATH)],
        )

        b = copy_bundle(a1, self.case_dir("manifest_edit_noncanonical") / a1.name)
        document = manifest_of(b)
        document["source"]["platform"] = "a platform it never came from"
        write_manifest(b, document, None, canonical=False)
        self.add(
            "manifest_edit_noncanonical",
            "manifest edit",
            "manifest.source edited and written indented (not RFC 8785), envelope untouched",
            [b],
            "tampered",
            [
                ExpectedFinding("NONCANONICAL_MANIFEST", b, MANIFEST_PATH),
                ExpectedFinding("MANIFEST_MISMATCH", b, ENVELOPE_PATH),
            ],
        )

        intruder = keys.generate("ed25519")
        b = copy_bundle(a1, self.case_dir("resign_untrusted") / a1.name)
        document = manifest_of(b)
        document["source"]["platform"] = "a platform it never came from"
        set_signer(document, intruder)
        write_manifest(b, document, intruder)
        self.add(
            "resign_untrusted",
            "re-signed with an untrusted key",
            "manifest edited and re-signed, consistently, by a key the trust store does not hold",
            [b],
            "untrusted",
            [ExpectedFinding("UNTRUSTED_SIGNER", b, ENVELOPE_PATH)],
        )

        trust = self.root / "trust"
        expired = keys.generate("ed25519")
        (trust / "expired.json").write_bytes(
            truststore_document(
                [
                    trust_entry(
                        expired,
                        "a retired sealer key",
                        not_before="2025-01-01T00:00:00Z",
                        not_after=BEFORE_SEALING,
                    )
                ]
            )
        )
        b = copy_bundle(a1, self.case_dir("resign_expired") / a1.name)
        document = manifest_of(b)
        set_signer(document, expired)
        write_manifest(b, document, expired)
        self.add(
            "resign_expired",
            "re-signed with an expired key",
            f"re-signed by a trusted key valid only until {BEFORE_SEALING}, before sealed_at",
            [b],
            "untrusted",
            [ExpectedFinding("KEY_EXPIRED", b, ENVELOPE_PATH)],
            trust=[trust / "expired.json"],
        )

        revoked = keys.generate("ed25519")
        (trust / "revoked.json").write_bytes(
            truststore_document(
                [
                    trust_entry(
                        revoked,
                        "a compromised sealer key",
                        revoked_at=BEFORE_SEALING,
                        reason="key compromise",
                    )
                ]
            )
        )
        b = copy_bundle(a1, self.case_dir("resign_revoked") / a1.name)
        document = manifest_of(b)
        set_signer(document, revoked)
        write_manifest(b, document, revoked)
        self.add(
            "resign_revoked",
            "re-signed with a revoked key",
            f"re-signed by a key the trust store lists as revoked at {BEFORE_SEALING}",
            [b],
            "untrusted",
            [ExpectedFinding("KEY_REVOKED", b, ENVELOPE_PATH)],
            trust=[trust / "revoked.json"],
        )

        # The intruder's key, but the trusted key's id: the id must be recomputed, not believed.
        b = copy_bundle(a1, self.case_dir("resign_claiming_trusted_id") / a1.name)
        document = manifest_of(b)
        set_signer(document, intruder)
        document["signer"]["key_id"] = self.key.key_id
        impostor = keys.SigningKey(intruder.private, intruder.algorithm, self.key.key_id)
        write_manifest(b, document, impostor)
        self.add(
            "resign_claiming_trusted_id",
            "re-signed with an untrusted key",
            "re-signed by an untrusted key that names the trusted key's id (manifest and envelope)",
            [b],
            "tampered",
            [ExpectedFinding("KEY_ID_MISMATCH", b, ENVELOPE_PATH)],
        )

        # keys.generate and SigningKey.from_private refuse a 2048-bit RSA key; a forger does not.
        weak_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        weak = keys.SigningKey(
            weak_private, "rsa-pss-sha256", keys.key_id(weak_private.public_key())
        )
        b = copy_bundle(a1, self.case_dir("downgrade_rsa2048") / a1.name)
        document = manifest_of(b)
        set_signer(document, weak)
        write_manifest(b, document, weak)
        self.add(
            "downgrade_rsa2048",
            "algorithm downgrade",
            "re-signed with RSA-PSS by a 2048-bit key (below the 3072-bit minimum)",
            [b],
            "tampered",
            [ExpectedFinding("ALGORITHM_REJECTED", b, ENVELOPE_PATH)],
        )

        b = copy_bundle(a1, self.case_dir("downgrade_declared") / a1.name)
        document = manifest_of(b)
        set_signer(document, self.key, algorithm="rsa-pkcs1v15-sha1")
        write_manifest(b, document, self.key)
        self.add(
            "downgrade_declared",
            "algorithm downgrade",
            "manifest declares rsa-pkcs1v15-sha1 for the (Ed25519) signer key, signed by it",
            [b],
            "tampered",
            [ExpectedFinding("ALGORITHM_REJECTED", b, ENVELOPE_PATH)],
        )

    def across_bundles(self) -> None:
        a1, a2, a3 = self.audit
        l1, l2 = self.logs[0], self.logs[1]

        self.add(
            "gap",
            "gap between bundles",
            "bundles 1 and 3 of the audit stream verified together without bundle 2",
            [a1, a3],
            "tampered",
            [ExpectedFinding("BUNDLE_GAP", a3, seq=last_seq(a1) + 1)],
        )

        replay = copy_bundle(a1, self.case_dir("replay") / a1.name)
        self.add(
            "replay",
            "replay of an older bundle",
            "a byte-identical copy of bundle 1 given again after bundles 1 and 2",
            [a1, a2, replay],
            "verified",
            [ExpectedFinding("BUNDLE_REPLAY", replay, seq=first_seq(a1))],
        )

        # A rolled-back sealer: it links to bundle 2 yet re-uses bundle 2's last 10 sequence
        # numbers for other records. Built by sealing after a copy of bundle 2's manifest that
        # claims 10 fewer records, then pointing the link at the real bundle 2 and re-signing.
        a2_manifest = read_member(a2, MANIFEST_PATH)
        fake_prev = self.extra / "rollback-previous"
        fake_prev.mkdir(parents=True)
        document = json.loads(a2_manifest)
        rolled_back_last = int(document["records"]["last_seq"]) - 10
        document["records"]["last_seq"] = str(rolled_back_last)
        (fake_prev / MANIFEST_PATH).write_bytes(canonicalize(document))
        folder = self.case_dir("rollback")
        lines = [alter(line) for line in self.raw_lines(1)[-10:]]
        rolled = self.seal_lines(
            lines,
            folder / "cc-prod.audit-rollback",
            previous=fake_prev,
            sealed_at="2026-03-04T00:10:00Z",
        )
        document = manifest_of(rolled)
        document["chain"]["previous"]["manifest_sha256"] = hashlib.sha256(a2_manifest).hexdigest()
        write_manifest(rolled, document, self.key)
        self.add(
            "rollback",
            "rollback",
            f"a bundle linked to bundle 2 that starts again at seq {rolled_back_last + 1}",
            [a1, a2, rolled],
            "tampered",
            [ExpectedFinding("BUNDLE_ROLLBACK", rolled, seq=rolled_back_last + 1)],
        )

        # Fork 1: the link points at a different history (bundle 1 with one record changed).
        day1 = self.raw_lines(0)
        other_history = self.seal_lines(
            [*day1[:16], alter(day1[16]), *day1[17:]],
            self.extra / "fork-history" / "cc-prod.audit-0001",
            stream_id="cc-prod.audit",
            sealed_at="2026-03-03T00:05:00Z",
        )
        forked = self.seal_lines(
            self.raw_lines(1),
            self.case_dir("fork_previous_link") / "cc-prod.audit-0002",
            previous=other_history,
            sealed_at="2026-03-04T00:05:00Z",
        )
        self.add(
            "fork_previous_link",
            "fork",
            "bundle 2 re-sealed after another version of bundle 1; verified with the real one",
            [a1, forked],
            "tampered",
            [ExpectedFinding("BUNDLE_FORK", forked, seq=last_seq(a1) + 1)],
        )

        # Fork 2: a second, different successor of bundle 1.
        successor = self.seal_lines(
            self.raw_lines(1)[1:],
            self.case_dir("fork_two_successors") / "cc-prod.audit-0002-other",
            previous=a1,
            sealed_at="2026-03-04T00:05:00Z",
        )
        self.add(
            "fork_two_successors",
            "fork",
            "two different bundles both continuing bundle 1: both halves of the fork are named",
            [a1, a2, successor],
            "tampered",
            [
                ExpectedFinding("BUNDLE_FORK", successor, seq=last_seq(a1) + 1),
                ExpectedFinding("BUNDLE_FORK", a2, seq=last_seq(a1) + 1),
            ],
        )

        self.add(
            "intact_zip_chain",
            "none",
            "two consecutive .zip bundles of the otel-logs stream",
            [l1, l2],
            "verified",
            [],
        )

    def hidden_data(self) -> None:
        a1, l1, t1 = self.audit[0], self.logs[0], self.traces[0]
        n1 = last_seq(a1) - first_seq(a1) + 1

        b = copy_bundle(a1, self.case_dir("appended_bytes") / a1.name)
        with (b / DATA).open("ab") as handle:
            handle.write(b'{"hidden":"after the last line"}')
        self.add(
            "appended_bytes",
            "appended data",
            f"bytes without a newline after the last of {n1} lines (they form line {n1 + 1})",
            [b],
            "tampered",
            [
                ExpectedFinding("TRAILING_DATA", b, DATA, line=n1 + 1),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, DATA),
            ],
            # The unterminated bytes may also be itemised as a record that was never sealed.
            allowed=("RECORD_INSERTED",),
        )

        b = copy_bundle(l1, self.case_dir("zip_comment") / l1.name)
        with zipfile.ZipFile(b, "a") as archive:
            archive.comment = b"hidden data in the archive comment"
        self.add(
            "zip_comment",
            "appended data",
            "an archive comment added to a .zip bundle",
            [b],
            "tampered",
            [ExpectedFinding("TRAILING_DATA", b)],
        )

        b = copy_bundle(l1, self.case_dir("zip_appended") / l1.name)
        with b.open("ab") as handle:
            handle.write(b"hidden data after the end of the zip archive")
        self.add(
            "zip_appended",
            "appended data",
            "bytes appended after the end-of-central-directory record of a .zip bundle",
            [b],
            "tampered",
            [ExpectedFinding("TRAILING_DATA", b)],
        )

        b = copy_bundle(t1, self.case_dir("targz_appended") / t1.name)
        with b.open("ab") as handle:
            handle.write(b"hidden data after the end of the gzip stream")
        self.add(
            "targz_appended",
            "appended data",
            "bytes appended after the end of a .tar.gz bundle",
            [b],
            "tampered",
            [ExpectedFinding("TRAILING_DATA", b)],
        )

        # Not a tamper: the same bundle repacked by another zip writer. Python's
        # ZipFile.writestr(name, ...) stores permission bits without a file type (0o600 << 16), as
        # do other tools; Windows tools store no Unix mode at all. These are regular files.
        b = self.case_dir("intact_zip_repacked") / l1.name
        with zipfile.ZipFile(l1) as old, zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as new:
            for name in old.namelist():
                new.writestr(name, old.read(name))
        self.add(
            "intact_zip_repacked",
            "none",
            "a .zip bundle repacked with ZipFile.writestr (entry modes without a file type)",
            [b],
            "verified",
            [],
        )

        b = copy_bundle(l1, self.case_dir("zip_duplicate_entry") / l1.name)
        forged = join_lines([alter(line) for line in split_lines(read_member(l1, DATA))])
        with warnings.catch_warnings(), zipfile.ZipFile(b, "a") as archive:
            warnings.simplefilter("ignore", UserWarning)  # zipfile warns of the duplicate name
            archive.writestr(regular_entry(DATA), forged)
        self.add(
            "zip_duplicate_entry",
            "hidden data",
            "a second data/00001.jsonl entry, with other records, appended to a .zip bundle",
            [b],
            "tampered",
            [ExpectedFinding("DUPLICATE_ENTRY", b, DATA)],
            # Neither copy is trusted, so the records count as absent.
            allowed=("MISSING_FILE", "TRUNCATED", "RECORD_DELETED"),
        )

        b = copy_bundle(l1, self.case_dir("zip_unsafe_entry") / l1.name)
        with zipfile.ZipFile(b, "a") as archive:
            archive.writestr(regular_entry("../outside.jsonl"), b"{}\n")
        self.add(
            "zip_unsafe_entry",
            "hidden data",
            "an entry named ../outside.jsonl added to a .zip bundle",
            [b],
            "tampered",
            [ExpectedFinding("UNSAFE_PATH", b, "../outside.jsonl")],
        )

    def index_and_checkpoints(self) -> None:
        s = self.segments()
        fs = first_seq(s)
        forged = hashlib.sha256(b"forged chain value").hexdigest()

        def forge_checkpoint(bundle: Path) -> int:
            document = json.loads((bundle / CHECKPOINTS_PATH).read_bytes())
            target = document["checkpoints"][2]
            target["chain_hash"] = forged
            (bundle / CHECKPOINTS_PATH).write_bytes(canonicalize(document))
            return int(target["first_seq"])

        # Without a usable leaf index the damage is bounded by the checkpoints: record 40 lies in
        # segment 3 (seq 33-48), which is line 8 of data/00002.jsonl (files of 32 records).
        b = copy_bundle(s, self.case_dir("modify_record_without_index") / s.name)
        (b / LEAVES_PATH).unlink()
        edit_lines(b, lambda ls: [*ls[:7], alter(ls[7]), *ls[8:]], member="data/00002.jsonl")
        segment = fs + 2 * SEGMENT_INTERVAL
        self.add(
            "modify_record_without_index",
            "modify",
            f"index/leaves.bin removed and record {fs + 39} changed: localized to its segment",
            [b],
            "tampered",
            [
                ExpectedFinding("MISSING_FILE", b, LEAVES_PATH),
                ExpectedFinding("FILE_DIGEST_MISMATCH", b, "data/00002.jsonl"),
                ExpectedFinding("CHECKPOINT_MISMATCH", b, "data/00002.jsonl", seq=segment),
                ExpectedFinding("CHAIN_MISMATCH", b, MANIFEST_PATH),
                ExpectedFinding("MERKLE_MISMATCH", b, MANIFEST_PATH),
            ],
        )

        b = copy_bundle(s, self.case_dir("checkpoint_edit") / s.name)
        forge_checkpoint(b)
        self.add(
            "checkpoint_edit",
            "checkpoint tampering",
            "chain hash of checkpoint 2 changed in index/checkpoints.json",
            [b],
            "tampered",
            [ExpectedFinding("FILE_DIGEST_MISMATCH", b, CHECKPOINTS_PATH)],
            allowed=("CHECKPOINT_MISMATCH",),
        )

        b = copy_bundle(s, self.case_dir("checkpoint_resigned") / s.name)
        seq = forge_checkpoint(b)
        assert seq == fs + 2 * SEGMENT_INTERVAL
        document = manifest_of(b)
        relist(document, b, CHECKPOINTS_PATH)
        write_manifest(b, document, self.key)
        self.add(
            "checkpoint_resigned",
            "checkpoint tampering",
            f"checkpoint 2 (seq {seq}-{seq + SEGMENT_INTERVAL - 1}) given a wrong chain hash, "
            "the manifest updated and re-signed by the trusted key; records intact",
            [b],
            "tampered",
            [ExpectedFinding("CHECKPOINT_MISMATCH", b, CHECKPOINTS_PATH, seq=seq)],
        )

        def forge_leaf(bundle: Path) -> None:
            leaves = bytearray((bundle / LEAVES_PATH).read_bytes())
            leaves[16 * HASH] ^= 0xFF
            (bundle / LEAVES_PATH).write_bytes(bytes(leaves))

        b = copy_bundle(s, self.case_dir("leaf_index_edit") / s.name)
        forge_leaf(b)
        self.add(
            "leaf_index_edit",
            "leaf-index tampering",
            "leaf hash 17 changed in index/leaves.bin; records intact",
            [b],
            "tampered",
            [ExpectedFinding("FILE_DIGEST_MISMATCH", b, LEAVES_PATH)],
        )

        b = copy_bundle(s, self.case_dir("leaf_index_resigned") / s.name)
        forge_leaf(b)
        document = manifest_of(b)
        relist(document, b, LEAVES_PATH)
        write_manifest(b, document, self.key)
        self.add(
            "leaf_index_resigned",
            "leaf-index tampering",
            "leaf hash 17 changed, the manifest updated and re-signed by the trusted key; records "
            "intact, so the index (not record 17) is what is wrong",
            [b],
            "tampered",
            [ExpectedFinding("INDEX_MISMATCH", b, LEAVES_PATH)],
            # The index reproduces neither the signed chain nor the signed root: may say both.
            allowed=("INDEX_MISMATCH",),
        )

    def time(self) -> None:
        day1 = self.raw_lines(0)
        back = timedelta(hours=1)

        # Record 49 opens the 4th segment of 16; its time is an hour before record 48's.
        lines = list(day1)
        lines[48] = shift_audit_time(
            lines[48], audit_time(lines[47]) - audit_time(lines[48]) - back
        )
        b = self.seal_lines(
            lines,
            self.case_dir("clock_regression") / "cc-prod.audit-clock",
            stream_id="golden.audit-clock",
            sealed_at="2026-03-03T00:05:00Z",
            checkpoint_every=SEGMENT_INTERVAL,
        )
        self.add(
            "clock_regression",
            "clock regression",
            "record 49 (first of segment 4) stamped an hour before record 48, then sealed",
            [b],
            "verified",
            [ExpectedFinding("CLOCK_SKEW", b, DATA, seq=first_seq(b) + 48)],
        )

        a1, a2 = self.audit[0], self.audit[1]
        b = self.seal_lines(
            day1[:20],
            self.case_dir("clock_regression_between_bundles") / "cc-prod.audit-0003",
            previous=a2,
            sealed_at="2026-03-05T00:05:00Z",
        )
        self.add(
            "clock_regression_between_bundles",
            "clock regression",
            "a bundle continuing bundle 2 whose records are from the day before",
            [a1, a2, b],
            "verified",
            [ExpectedFinding("CLOCK_SKEW", b, seq=last_seq(a2) + 1)],
        )


def make_golden(out_dir: Path) -> dict[str, GoldenCase]:
    """Build the golden set into ``out_dir`` (which must not exist or be empty)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    cases = _Builder(out_dir).build()
    index = {"cases": [case.to_json(out_dir) for case in cases.values()]}
    (out_dir / "golden.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return cases


def main(argv: list[str]) -> int:
    """``python tests/golden/make_golden.py OUT_DIR``."""
    if len(argv) != 1:
        print("usage: make_golden.py OUT_DIR", file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    cases = make_golden(out_dir)
    for case in cases.values():
        codes = ", ".join(f.code for f in case.findings) or "-"
        print(f"{case.name:34} {case.verdict:10} {codes}")
    print(f"{len(cases)} cases in {out_dir / 'golden.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
