"""The reference sealer: raw evidence in, a signed v1 bundle out (docs/bundle-format.md).

The sealer reads inputs in the order given and never reorders records. It numbers them from the
previous bundle's last sequence number plus one, chains them, cuts checkpoints every ``interval``
records, writes the data files, ``index/leaves.bin`` and ``index/checkpoints.json``, then the
canonical manifest and its DSSE envelope. Output is staged next to the target and renamed into
place only when complete, so a failed seal leaves nothing that looks like a bundle.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from auditlens import __version__
from auditlens.core.bundle.container import check_input_kind, open_container
from auditlens.core.bundle.manifest import (
    CHECKPOINTS_PATH,
    ENVELOPE_PATH,
    LEAVES_PATH,
    MANIFEST_PATH,
    MAX_MANIFEST_BYTES,
    PAYLOAD_TYPE,
    STREAM_ID_PATTERN,
    Checkpoint,
    FileEntry,
    Manifest,
    PreviousLink,
    checkpoints_bytes,
    derive_bundle_id,
    parse_manifest,
)
from auditlens.core.crypto import hashing
from auditlens.core.crypto.dsse import sign_envelope
from auditlens.core.crypto.keys import SigningKey
from auditlens.core.errors import InvalidInputError, UsageError
from auditlens.core.formats.base import SourceRecord
from auditlens.core.formats.registry import read_records
from auditlens.core.progress import CancelToken, Progress

# The manifest's producer name: the importer knows by it (and a trusted signature) that every
# line was read by formats/jsontext.py's strict rules (docs/case.md, "Accepted formats").
SEALER_NAME = "auditlens-seal"
DEFAULT_CHECKPOINT_EVERY = 4096
MAX_CHECKPOINT_EVERY = 1 << 24
DEFAULT_RECORDS_PER_FILE = 1 << 20
PROGRESS_EVERY = 50_000


@dataclass(frozen=True)
class SealResult:
    """What was sealed."""

    path: Path
    manifest: Manifest
    manifest_sha256: str


def format_time_ns(ns: int) -> str:
    """RFC 3339 UTC with nanoseconds, e.g. ``2026-03-02T08:00:00.123456789Z``."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


@dataclass(frozen=True)
class PreviousBundle:
    """What a new bundle needs to know of the bundle it continues."""

    manifest: Manifest
    manifest_sha256: str


def read_previous(path: Path) -> PreviousBundle:
    """Read the manifest of the bundle to continue from."""
    with open_container(path) as container:
        if MANIFEST_PATH not in container.files():
            raise InvalidInputError("previous bundle has no manifest.json", path=str(path))
        data = container.read(MANIFEST_PATH, MAX_MANIFEST_BYTES)
    manifest = parse_manifest(data, source=f"{path}!{MANIFEST_PATH}")
    return PreviousBundle(manifest, hashlib.sha256(data).hexdigest())


class _DataWriter:
    """Writes data files, leaves and checkpoints as records arrive."""

    def __init__(
        self,
        staging: Path,
        stream_id: str,
        epoch: int,
        first_seq: int,
        start_chain: bytes,
        interval: int,
        records_per_file: int,
    ) -> None:
        self.staging = staging
        self.stream_id = stream_id
        self.interval = interval
        self.records_per_file = records_per_file
        self.seq = first_seq
        self.first_seq = first_seq
        self.chain = start_chain
        self.files: list[FileEntry] = []
        self.checkpoints: list[Checkpoint] = []
        self.segment_roots: list[bytes] = []
        self.time_first = 0
        self.time_last = 0
        (staging / "data").mkdir(parents=True)
        (staging / "index").mkdir()
        self.leaves_out: BinaryIO = (staging / LEAVES_PATH).open("wb")
        self._file: BinaryIO | None = None
        self._segment: list[bytes] = []
        self._seg_offset = 0
        self._seg_times: list[int] = []

    def _open_file(self) -> None:
        self._name = f"data/{len(self.files) + 1:05d}.jsonl"
        self._file = (self.staging / self._name).open("wb")
        self._digest = hashlib.sha256()
        self._size = 0
        self._file_first = self.seq
        self._file_count = 0
        self._seg_offset = 0

    def add(self, record: SourceRecord) -> None:
        if b"\n" in record.line:
            raise InvalidInputError(
                "record contains a newline", path=record.path, line=record.origin
            )
        if self._file is None:
            self._open_file()
        assert self._file is not None
        data = record.line + b"\n"
        self._file.write(data)
        self._digest.update(data)
        leaf = hashing.leaf_hash(record.line)
        self.leaves_out.write(leaf)
        self.chain = hashing.chain_step(self.chain, self.seq, leaf)
        self._segment.append(leaf)
        # Times outside 1970..2262 cannot be a manifest's u64 bounds; the record is sealed all
        # the same, only its time does not widen the bundle's time range.
        if 0 < record.time_ns < 2**63:
            self._seg_times.append(record.time_ns)
            self.time_first = (
                record.time_ns if not self.time_first else min(self.time_first, record.time_ns)
            )
            self.time_last = max(self.time_last, record.time_ns)
        self._size += len(data)
        self._file_count += 1
        self.seq += 1
        if len(self._segment) == self.interval:
            self._close_segment()
            if self._file_count >= self.records_per_file:
                self._close_file()

    def _close_segment(self) -> None:
        count = len(self._segment)
        root = hashing.merkle_root(self._segment)
        times = self._seg_times or [0]
        self.checkpoints.append(
            Checkpoint(
                index=len(self.checkpoints),
                file=self._name,
                offset=self._seg_offset,
                length=self._size - self._seg_offset,
                first_seq=self.seq - count,
                last_seq=self.seq - 1,
                count=count,
                chain_hash=self.chain.hex(),
                segment_root=root.hex(),
                time_min_ns=min(times),
                time_max_ns=max(times),
            )
        )
        self.segment_roots.append(root)
        self._segment = []
        self._seg_times = []
        self._seg_offset = self._size

    def _close_file(self) -> None:
        assert self._file is not None
        self._file.close()
        self.files.append(
            FileEntry(
                self._name,
                "data",
                self._size,
                self._digest.hexdigest(),
                self._file_first,
                self.seq - 1,
                self._file_count,
            )
        )
        self._file = None

    def finish(self) -> None:
        if self._segment:
            self._close_segment()
        if self._file is not None:
            self._close_file()
        self.leaves_out.close()


def seal(
    inputs: Sequence[Path],
    key: SigningKey,
    out: Path,
    *,
    stream_id: str | None = None,
    previous: Path | None = None,
    checkpoint_every: int = DEFAULT_CHECKPOINT_EVERY,
    records_per_file: int = DEFAULT_RECORDS_PER_FILE,
    epoch: int = 1,
    sealed_at: str | None = None,
    source: dict[str, Any] | None = None,
    records: Iterable[SourceRecord] | None = None,
    token: CancelToken | None = None,
) -> Generator[Progress, None, SealResult]:
    """Seal raw evidence into a bundle at ``out`` (folder, ``.zip`` or ``.tar.gz`` by its name).

    Yields progress; returns the :class:`SealResult`. ``records`` replaces reading ``inputs`` (the
    inputs are then only named in the manifest's source).

    Raises:
        UsageError: for bad options or an existing output.
        InvalidInputError: for unreadable input, naming file and line.
    """
    token = token or CancelToken()
    if (
        checkpoint_every <= 0
        or checkpoint_every & (checkpoint_every - 1)
        or checkpoint_every > MAX_CHECKPOINT_EVERY
    ):
        raise UsageError(
            f"--checkpoint-every must be a power of two between 1 and {MAX_CHECKPOINT_EVERY}"
        )
    if records_per_file % checkpoint_every:
        raise UsageError("records per data file must be a multiple of the checkpoint interval")
    if out.exists() or out.is_symlink():
        raise UsageError(f"refusing to overwrite {out}")
    if records is None:
        for path in inputs:
            check_input_kind(path)  # a FIFO would block the reading below forever
    prev = read_previous(previous) if previous else None
    if prev is not None:
        if stream_id is not None and stream_id != prev.manifest.stream_id:
            raise UsageError(
                f"--stream-id {stream_id!r} differs from the previous bundle's stream "
                f"{prev.manifest.stream_id!r}"
            )
        stream_id = prev.manifest.stream_id
        epoch = prev.manifest.epoch
    stream_id = stream_id or "default"
    if not STREAM_ID_PATTERN.fullmatch(stream_id):
        raise UsageError("stream id must be 1-128 characters of A-Z a-z 0-9 . _ : -")
    first_seq = prev.manifest.last_seq + 1 if prev else 1
    prev_final = bytes.fromhex(prev.manifest.chain_final) if prev else None
    initial = hashing.genesis_hash(stream_id, epoch, prev_final)

    staging = out.parent / f".{out.name}.partial-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    try:
        writer = _DataWriter(
            staging / "bundle",
            stream_id,
            epoch,
            first_seq,
            initial,
            checkpoint_every,
            records_per_file,
        )
        stream = records if records is not None else (r for p in inputs for r in read_records(p))
        for record in stream:
            writer.add(record)
            if (writer.seq - first_seq) % PROGRESS_EVERY == 0:
                token.check()
                yield Progress("sealing", writer.seq - first_seq, None, "records")
        writer.finish()
        count = writer.seq - first_seq
        if count == 0:
            raise InvalidInputError("no records to seal in the inputs")
        result = _write_manifest(
            staging / "bundle",
            writer,
            key,
            stream_id,
            epoch,
            first_seq,
            count,
            initial,
            prev,
            sealed_at,
            source,
            inputs,
        )
        yield Progress("packing", count, count, "records")
        _pack(staging / "bundle", out)
        return SealResult(out, result[0], result[1])
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_manifest(
    root: Path,
    writer: _DataWriter,
    key: SigningKey,
    stream_id: str,
    epoch: int,
    first_seq: int,
    count: int,
    initial: bytes,
    prev: PreviousBundle | None,
    sealed_at: str | None,
    source: dict[str, Any] | None,
    inputs: Sequence[Path],
) -> tuple[Manifest, str]:
    checkpoints_data = checkpoints_bytes(writer.interval, writer.checkpoints)
    (root / CHECKPOINTS_PATH).write_bytes(checkpoints_data)
    leaves_path = root / LEAVES_PATH
    leaves_digest = hashlib.sha256(leaves_path.read_bytes()).hexdigest()
    files = [
        *writer.files,
        FileEntry(LEAVES_PATH, "leaves", leaves_path.stat().st_size, leaves_digest),
        FileEntry(
            CHECKPOINTS_PATH,
            "checkpoints",
            len(checkpoints_data),
            hashlib.sha256(checkpoints_data).hexdigest(),
        ),
    ]
    final = writer.chain
    previous = None
    if prev is not None:
        previous = PreviousLink(
            prev.manifest.bundle_id,
            prev.manifest.chain_final,
            prev.manifest_sha256,
            prev.manifest.last_seq,
        )
    source_info = dict(source or {})
    source_info.setdefault("inputs", [p.name for p in inputs])
    manifest = Manifest(
        bundle_id=derive_bundle_id(stream_id, epoch, first_seq, initial, final),
        sealed_at=sealed_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        producer={"name": SEALER_NAME, "version": __version__},
        source=source_info,
        stream_id=stream_id,
        epoch=epoch,
        first_seq=first_seq,
        last_seq=first_seq + count - 1,
        count=count,
        time_first_ns=writer.time_first,
        time_last_ns=writer.time_last,
        chain_initial=initial.hex(),
        chain_final=final.hex(),
        previous=previous,
        merkle_size=count,
        merkle_root=hashing.merkle_root_of_segments(
            writer.segment_roots, writer.interval, count
        ).hex(),
        checkpoint_interval=writer.interval,
        files=tuple(files),
        signer_key_id=key.key_id,
        signer_algorithm=key.algorithm,
        signer_public_key=key.public_pem().decode("ascii"),
        redactions=(),
    )
    manifest_bytes = manifest.canonical_bytes()
    (root / MANIFEST_PATH).write_bytes(manifest_bytes)
    (root / ENVELOPE_PATH).write_bytes(sign_envelope(PAYLOAD_TYPE, manifest_bytes, key))
    return manifest, hashlib.sha256(manifest_bytes).hexdigest()


def _members(root: Path) -> list[str]:
    """Bundle members in the canonical order: manifest, envelope, index, data."""
    names = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    order = {MANIFEST_PATH: 0, ENVELOPE_PATH: 1}
    return sorted(names, key=lambda n: (order.get(n, 2 if n.startswith("index/") else 3), n))


def _pack(root: Path, out: Path) -> None:
    name = out.name.lower()
    staging_out = root.parent / ("packed-" + out.name)
    if name.endswith(".zip"):
        with zipfile.ZipFile(
            staging_out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True
        ) as archive:
            for member in _members(root):
                info = zipfile.ZipInfo(member, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                with (
                    (root / member).open("rb") as src,
                    archive.open(info, "w", force_zip64=True) as dst,
                ):
                    shutil.copyfileobj(src, dst, 8 << 20)
    elif name.endswith((".tar.gz", ".tgz", ".tar")):
        import gzip

        raw = staging_out.open("wb")
        fileobj: Any = (
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if not name.endswith(".tar") else raw
        )
        with tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for member in _members(root):
                tinfo = archive.gettarinfo(str(root / member), arcname=member)
                tinfo.uid = tinfo.gid = 0
                tinfo.uname = tinfo.gname = ""
                tinfo.mtime = 0
                tinfo.mode = 0o644
                with (root / member).open("rb") as src:
                    archive.addfile(tinfo, src)
        if fileobj is not raw:
            fileobj.close()
        raw.close()
    else:
        os.replace(root, out)
        return
    os.replace(staging_out, out)
