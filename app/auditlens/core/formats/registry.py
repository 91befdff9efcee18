"""The registry of evidence formats: which format reads an input, and its records.

Formats are tried in :data:`FORMATS` order on the input's :class:`~.base.Sample` (after
decompression); the first that recognises the input splits it. Formats reading JSON Lines come
before those reading a whole document, which read the input whole to decide. An input no format
recognises is refused with each format's name and reason (docs/case.md, "Accepted formats").
The sealer (``bundle/seal.py``), the raw importer and the verifier's check of raw input all read
through :func:`read_records`, so all three recognise an input the same way.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path

from auditlens.core.errors import InvalidInputError, UnsupportedFormatError
from auditlens.core.formats.audit_json import AuditJsonLines
from auditlens.core.formats.base import EvidenceFormat, Sample, SourceRecord, take_sample
from auditlens.core.formats.fluentbit import FluentBitFile, FluentBitJson
from auditlens.core.formats.fluentbit_msgpack import FluentBitMsgpack
from auditlens.core.formats.opensearch import OpenSearchNdjson, OpenSearchSearch
from auditlens.core.formats.otlp_json import OtlpJsonDocument, OtlpJsonLines
from auditlens.core.formats.otlp_proto import OtlpProto
from auditlens.core.formats.podlogs import CriLog, DockerJsonLog, KubectlLog
from auditlens.core.formats.streams import open_decompressed

FORMATS: tuple[EvidenceFormat, ...] = (
    OtlpJsonLines(),
    AuditJsonLines(),
    OpenSearchNdjson(),
    OpenSearchSearch(),
    DockerJsonLog(),
    FluentBitJson(),
    OtlpJsonDocument(),
    CriLog(),
    KubectlLog(),
    FluentBitFile(),
    FluentBitMsgpack(),
    OtlpProto(),
)


def find_format(name: str) -> EvidenceFormat:
    """The registered format called ``name``.

    Raises:
        KeyError: no format has that name.
    """
    for candidate in FORMATS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def recognise(sample: Sample) -> EvidenceFormat:
    """The first registered format that reads ``sample``.

    Raises:
        UnsupportedFormatError: none does; the message names each format and why it refused.
    """
    reasons = []
    for candidate in FORMATS:
        reason = candidate.recognise(sample)
        if reason is None:
            return candidate
        reasons.append(f"{candidate.name}: {reason}")
    line_error = sample.line_error()
    if line_error is not None and sample.line.strip() not in (b"{", b"["):
        # A first line that is meant as a record (not the opening of a pretty-printed document)
        # but is no valid JSON: its own error, with its line, says more than the list.
        raise line_error
    raise UnsupportedFormatError(
        f"no format recognises this input (first bytes {sample.head[:16]!r}); tried "
        + "; ".join(reasons),
        path=sample.path,
    )


def read_records(path: Path) -> Iterator[SourceRecord]:
    """Yield the records of one raw evidence file, in input order.

    Raises:
        InvalidInputError: (or a subclass) naming the file and line or offset of the problem.
    """
    import zstandard

    name = str(path)
    last = 0
    try:
        for record in _read_records(path, name):
            last = record.origin
            yield record
    except InvalidInputError:
        raise
    except (OSError, EOFError, zlib.error, zstandard.ZstdError) as exc:
        # Corrupt compressed data (zstd, gzip, deflate) surfaces from the decompressor.
        raise InvalidInputError(
            f"corrupt or truncated data: {exc}", path=name, line=last or None
        ) from exc
    except (TypeError, AttributeError, KeyError, IndexError, ValueError, RecursionError) as exc:
        # A field of the wrong JSON type (a number where a list belongs, ...).
        raise InvalidInputError(
            f"malformed record: {type(exc).__name__}: {exc}", path=name, line=last + 1
        ) from exc


def _read_records(path: Path, name: str) -> Iterator[SourceRecord]:
    try:
        stream = open_decompressed(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot open: {exc.strerror}", path=name) from exc
    with stream:
        sample = take_sample(stream, name)
        yield from recognise(sample).split(sample)
